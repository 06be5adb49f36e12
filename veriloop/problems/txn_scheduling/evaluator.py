"""Evaluator for txn_scheduling: recomputes the makespan of the returned order under the lock model.

Model: transactions run in the given order on W workers; one starts when a worker is free and
every earlier conflicting transaction (shared key, at least one writer) has finished.
Score: mean over instances of lower_bound / makespan (1.0 would be optimal-at-the-bound).
"""

import heapq

import numpy as np

import os as _os
import sys as _sys

_sys.path.insert(0, _os.path.dirname(_os.path.abspath(__file__)))  # problemkit.py beside this file

from problemkit import CandidateError, CandidateProcess
from problemkit import hidden_seed, reject, reject_candidate, result

SEED = 5150
# (transactions, keys, workers, zipf skew)
INSTANCES = [(150, 300, 8, 1.1), (120, 80, 6, 0.9), (200, 500, 12, 1.3)]


def make_instance(rng, n, keys, skew):
    weights = 1.0 / np.arange(1, keys + 1) ** skew
    weights /= weights.sum()
    perm = rng.permutation(keys)
    txns = []
    for _ in range(n):
        nops = int(rng.integers(2, 7))
        ks = perm[rng.choice(keys, size=nops, replace=False, p=weights)]
        writes = rng.random(nops) < 0.35
        txns.append({"reads": [f"k{int(k)}" for k, w in zip(ks, writes, strict=True) if not w],
                     "writes": [f"k{int(k)}" for k, w in zip(ks, writes, strict=True) if w],
                     "duration": int(rng.integers(1, 11))})
    return txns


def makespan(txns, order, workers):
    write_fin, read_fin = {}, {}
    free = [0] * workers
    end = 0
    for i in order:
        t = txns[i]
        dep = 0
        for k in t["writes"]:
            dep = max(dep, write_fin.get(k, 0), read_fin.get(k, 0))
        for k in t["reads"]:
            dep = max(dep, write_fin.get(k, 0))
        finish = max(heapq.heappop(free), dep) + t["duration"]
        heapq.heappush(free, finish)
        for k in t["writes"]:
            write_fin[k] = max(write_fin.get(k, 0), finish)
        for k in t["reads"]:
            read_fin[k] = max(read_fin.get(k, 0), finish)
        end = max(end, finish)
    return end


def lower_bound(txns, workers):
    total = sum(t["duration"] for t in txns)
    per_key = {}
    for t in txns:
        for k in t["writes"]:
            per_key[k] = per_key.get(k, 0) + t["duration"]
    return max(total / workers, max(per_key.values(), default=0), max(t["duration"] for t in txns))


def check_order(order, n):
    if not isinstance(order, list):
        return f"the schedule must be a list of transaction indices, got {type(order).__name__}"
    if len(order) != n:
        return f"the schedule has {len(order)} entries, expected {n} (every transaction exactly once)"
    if any(isinstance(x, bool) or not isinstance(x, int) for x in order):
        return "the schedule must hold integer transaction indices"
    if sorted(order) != list(range(n)):
        missing = sorted(set(range(n)) - set(order))[:5]
        return f"the schedule is not a permutation of 0..{n - 1} (missing e.g. {missing})"
    return None


def _run(program_path, cases, budget_s):
    ratios, spans = [], []
    with CandidateProcess(program_path, budget_s=budget_s) as cand:
        for txns, workers in cases:
            order, _ = cand.call("schedule", txns, workers)
            why = check_order(order, len(txns))
            if why:
                raise ValueError(why)
            span = makespan(txns, order, workers)
            spans.append(span)
            ratios.append(lower_bound(txns, workers) / span)
    return ratios, spans


def evaluate_stage1(program_path):
    rng = np.random.default_rng(SEED + 1)
    try:
        ratios, _ = _run(program_path, [(make_instance(rng, 12, 10, 1.0), 3)], 10.0)
    except CandidateError as err:
        return reject_candidate(err)
    except ValueError as exc:
        return reject(f"invalid schedule on the tiny case: {exc}")
    return result({"combined_score": ratios[0], "valid": 1.0}, {"stage1": f"tiny case ok: {ratios[0]:.3f}"})


def evaluate_stage2(program_path):
    rng = np.random.default_rng(SEED)
    cases = [(make_instance(rng, n, k, s), w) for n, k, w, s in INSTANCES]
    hrng = np.random.default_rng(hidden_seed())
    cases.append((make_instance(hrng, int(hrng.integers(60, 160)), int(hrng.integers(60, 400)), 1.0),
                  int(hrng.integers(3, 12))))
    try:
        ratios, spans = _run(program_path, cases, 20.0)
    except CandidateError as err:
        return reject_candidate(err)
    except ValueError as exc:
        return reject(f"invalid schedule: {exc}")
    score = float(np.mean(ratios[:-1]))
    return result(
        {"combined_score": score, "total_makespan": float(sum(spans[:-1])), "hidden_ratio": ratios[-1],
         "valid": 1.0},
        {"feedback": "makespans " + ", ".join(f"{s} (bound ratio {r:.3f})"
                                              for s, r in zip(spans[:-1], ratios[:-1], strict=True))},
    )


def evaluate(program_path):
    return evaluate_stage2(program_path)
