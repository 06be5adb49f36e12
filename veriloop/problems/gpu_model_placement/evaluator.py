"""Evaluator for gpu_model_placement: recomputes memory fit and KV pressure of the returned placement.

Score per instance: lower_bound / max_pressure, where lower_bound = total KV demand / total
memory left after all weights (what a perfectly divisible placement would reach); averaged.
"""

import numpy as np

import os as _os
import sys as _sys

_sys.path.insert(0, _os.path.dirname(_os.path.abspath(__file__)))  # problemkit.py beside this file

from problemkit import CandidateError, CandidateProcess
from problemkit import hidden_seed, reject, reject_candidate, result

SEED = 3131
# (models, gpus, gpu memory GB)
INSTANCES = [(24, 8, 80.0), (40, 12, 80.0), (16, 6, 48.0)]


def make_models(rng, n, gpus, memory):
    """Model sizes (7B..70B-ish slices) and KV demand from Zipf-distributed popularity."""
    weights = rng.choice([4.0, 8.0, 14.0, 16.0, 26.0, 34.0], size=n, p=[0.2, 0.2, 0.25, 0.15, 0.12, 0.08])
    weights = np.minimum(weights, memory * 0.45)
    scale = 0.55 * gpus * memory / weights.sum()
    weights = np.round(weights * min(1.0, scale), 2)
    pop = 1.0 / np.arange(1, n + 1) ** 0.8
    pop = pop[rng.permutation(n)]
    kv = pop / pop.sum() * (gpus * memory - weights.sum()) * rng.uniform(0.4, 0.9)
    kv = np.round(kv * rng.lognormal(0, 0.3, n), 3)
    return [{"weights_gb": float(w), "kv_gb": float(k)} for w, k in zip(weights, kv, strict=True)]


def check(models, gpus, memory, placement):
    """(max pressure, per-GPU pressures) or raises ValueError."""
    n = len(models)
    if not isinstance(placement, list) or len(placement) != n:
        raise ValueError(f"the placement must be a list of {n} GPU indices")
    if any(isinstance(g, bool) or not isinstance(g, int) or not 0 <= g < gpus for g in placement):
        raise ValueError(f"every entry must be a GPU index in [0, {gpus})")
    used = np.zeros(gpus)
    kv = np.zeros(gpus)
    for m, g in zip(models, placement, strict=True):
        used[g] += m["weights_gb"]
        kv[g] += m["kv_gb"]
    over = np.nonzero(used >= memory)[0]
    if len(over):
        g = int(over[0])
        raise ValueError(f"GPU {g} holds {used[g]:.2f} GB of weights, not below its {memory:g} GB")
    pressure = kv / (memory - used)
    return float(pressure.max()), pressure


def lower_bound(models, gpus, memory):
    return sum(m["kv_gb"] for m in models) / (gpus * memory - sum(m["weights_gb"] for m in models))


def _run(program_path, cases, budget_s):
    out = []
    with CandidateProcess(program_path, budget_s=budget_s) as cand:
        for models, gpus, memory in cases:
            placement, _ = cand.call("place_models", models, gpus, memory)
            worst, _p = check(models, gpus, memory, placement)
            out.append((worst, lower_bound(models, gpus, memory) / worst))
    return out


def evaluate_stage1(program_path):
    case = (make_models(np.random.default_rng(SEED + 1), 6, 3, 40.0), 3, 40.0)
    try:
        ((_, ratio),) = _run(program_path, [case], 10.0)
    except CandidateError as err:
        return reject_candidate(err)
    except ValueError as exc:
        return reject(f"invalid placement on the tiny case: {exc}")
    return result({"combined_score": ratio, "valid": 1.0}, {"stage1": f"tiny case ok: {ratio:.3f}"})


def evaluate_stage2(program_path):
    rng = np.random.default_rng(SEED)
    cases = [(make_models(rng, n, g, m), g, m) for n, g, m in INSTANCES]
    hrng = np.random.default_rng(hidden_seed())
    hg = int(hrng.integers(3, 10))
    cases.append((make_models(hrng, int(hrng.integers(hg * 2, hg * 4)), hg, 64.0), hg, 64.0))
    try:
        out = _run(program_path, cases, 20.0)
    except CandidateError as err:
        return reject_candidate(err)
    except ValueError as exc:
        return reject(f"invalid placement: {exc}")
    ratios = [r for _, r in out[:-1]]
    score = float(np.mean(ratios))
    return result(
        {"combined_score": score, "mean_max_pressure": float(np.mean([w for w, _ in out[:-1]])),
         "hidden_ratio": out[-1][1], "valid": 1.0},
        {"feedback": "max KV pressure per instance: " + ", ".join(
            f"{w:.3f} (bound ratio {r:.3f})" for w, r in out[:-1])},
    )


def evaluate(program_path):
    return evaluate_stage2(program_path)
