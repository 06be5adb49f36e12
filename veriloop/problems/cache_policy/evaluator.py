"""Evaluator for cache_policy: trace-driven simulation of a GPU expert cache (MoE offloading).

The cache simulator runs here; before each token (once the cache is full) it asks the candidate
(in its own process) for an eviction ranking of the resident experts, passing only the accesses
seen so far: it cannot look ahead. A miss evicts the first ranked expert the token has not used. Reports the
hit rate, the bytes moved, and LRU and Belady (offline optimum) on the same trace for reference.
"""

import numpy as np

import os as _os
import sys as _sys

_sys.path.insert(0, _os.path.dirname(_os.path.abspath(__file__)))  # problemkit.py beside this file

from problemkit import CandidateError, CandidateProcess
from problemkit import hidden_seed, reject, reject_candidate, result

SEED = 9090
LAYERS, EXPERTS, TOP_K = 8, 32, 2
CAPACITY = 80
TOKENS = 600
EXPERT_MB = 176.0  # one expert's weights (Mixtral-8x7B-like, fp16)


def make_trace(rng, tokens, layers=LAYERS, experts=EXPERTS, top_k=TOP_K):
    """[(token, layer, expert)]: Zipf popularity per layer, re-weighted per 64-token request segment."""
    pop = 1.0 / np.arange(1, experts + 1) ** 0.9
    base = np.array([pop[rng.permutation(experts)] for _ in range(layers)])
    out = []
    for seg in range(0, tokens, 64):
        probs = base * rng.lognormal(0.0, 1.2, size=base.shape)
        probs /= probs.sum(axis=1, keepdims=True)
        n = min(64, tokens - seg)
        # top_k distinct experts per (token, layer) with probability ~ probs (Gumbel top-k)
        keys = np.log(probs)[None, :, :] + rng.gumbel(size=(n, layers, experts))
        picks = np.argsort(-keys, axis=2)[:, :, :top_k]
        for t in range(n):
            for layer in range(layers):
                for e in picks[t, layer]:
                    out.append((seg + t, layer, int(e)))
    return out


class Invalid(Exception):
    pass


def simulate(cand, trace, capacity, handle):
    info = {"layers": LAYERS, "experts": EXPERTS, "capacity": capacity, "top_k": TOP_K}
    cand.call("make_policy", info, store=handle)
    cache, hits, pending = set(), 0, []
    ranking, used, token = [], set(), None
    for t, layer, e in trace:
        if t != token:
            token, used = t, set()
            if len(cache) >= capacity:
                resident = sorted(cache)
                raw, _ = cand.method(handle, "rank", pending, [list(k) for k in resident])
                pending = []
                ranking = _check_ranking(raw, cache, t)
        key = (layer, e)
        hit = key in cache
        pending.append([t, layer, e, hit])
        used.add(key)
        if hit:
            hits += 1
            continue
        if len(cache) >= capacity:
            victim = next((k for k in ranking if k in cache and k not in used), None)
            if victim is None:  # the cache filled up during this token: rank now
                raw, _ = cand.method(handle, "rank", pending, [list(k) for k in sorted(cache)])
                pending = []
                ranking = _check_ranking(raw, cache, t)
                victim = next((k for k in ranking if k not in used), None)
            if victim is None:
                raise Invalid(f"token {t}: no resident expert can be evicted")
            cache.discard(victim)
        cache.add(key)
    return hits


def _check_ranking(raw, cache, token):
    if not isinstance(raw, list):
        raise Invalid(f"token {token}: rank() must return a list of [layer, expert], got {type(raw).__name__}")
    out = []
    for item in raw:
        if (not isinstance(item, list | tuple) or len(item) != 2
                or any(isinstance(v, bool) or not isinstance(v, int) for v in item)):
            raise Invalid(f"token {token}: rank() entries must be [layer, expert], got {item!r}")
        out.append((item[0], item[1]))
    if len(out) != len(cache) or set(out) != cache:
        extra = sorted(set(out) - cache)[:3]
        raise Invalid(f"token {token}: rank() must list every resident expert exactly once "
                      f"(got {len(out)} entries for {len(cache)} residents"
                      + (f", non-resident {[list(k) for k in extra]}" if extra else "") + ")")
    return out


def lru_hits(trace, capacity):
    from collections import OrderedDict

    cache, hits = OrderedDict(), 0
    for _, layer, e in trace:
        k = (layer, e)
        if k in cache:
            hits += 1
            cache.move_to_end(k)
        else:
            if len(cache) >= capacity:
                cache.popitem(last=False)
            cache[k] = True
    return hits


def belady_hits(trace, capacity):
    keys = [(layer, e) for _, layer, e in trace]
    n = len(keys)
    nxt = [n] * n
    last = {}
    for i in range(n - 1, -1, -1):
        nxt[i] = last.get(keys[i], n + 1)
        last[keys[i]] = i
    cache, hits = {}, 0  # key -> next use
    for i, k in enumerate(keys):
        if k in cache:
            hits += 1
        elif len(cache) >= capacity:
            victim = max(cache, key=cache.__getitem__)
            del cache[victim]
        cache[k] = nxt[i]
    return hits


def _run(program_path, traces, budget_s):
    with CandidateProcess(program_path, budget_s=budget_s) as cand:
        return [simulate(cand, tr, cap, f"p{i}") for i, (tr, cap) in enumerate(traces)]


def evaluate_stage1(program_path):
    trace = make_trace(np.random.default_rng(SEED + 1), 40)
    try:
        (hits,) = _run(program_path, [(trace, 24)], 10.0)
    except CandidateError as err:
        return reject_candidate(err)
    except Invalid as exc:
        return reject(f"invalid eviction on the tiny trace: {exc}")
    rate = hits / len(trace)
    return result({"combined_score": rate, "valid": 1.0}, {"stage1": f"tiny trace ok: hit rate {rate:.3f}"})


def evaluate_stage2(program_path):
    trace = make_trace(np.random.default_rng(SEED), TOKENS)
    hrng = np.random.default_rng(hidden_seed())
    hidden = make_trace(hrng, 200)
    hcap = int(hrng.integers(40, 120))
    try:
        hits, hhits = _run(program_path, [(trace, CAPACITY), (hidden, hcap)], 30.0)
    except CandidateError as err:
        return reject_candidate(err)
    except Invalid as exc:
        return reject(f"invalid eviction: {exc}")
    n = len(trace)
    rate = hits / n
    lru = lru_hits(trace, CAPACITY) / n
    opt = belady_hits(trace, CAPACITY) / n
    moved_gb = (n - hits) * EXPERT_MB / 1024
    return result(
        {"combined_score": rate, "hit_rate": rate, "gb_moved": moved_gb, "lru_hit_rate": lru,
         "belady_hit_rate": opt, "vs_belady": rate / opt, "hidden_hit_rate": hhits / len(hidden), "valid": 1.0},
        {"feedback": f"hit rate {rate:.4f} (LRU {lru:.4f}, Belady optimum {opt:.4f}); {n - hits} misses moved "
                     f"{moved_gb:.1f} GB over {n} accesses with room for {CAPACITY} of {LAYERS * EXPERTS} experts"},
    )


def evaluate(program_path):
    return evaluate_stage2(program_path)
