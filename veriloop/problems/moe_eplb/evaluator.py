"""Evaluator for moe_eplb: balance (mean/max GPU load) of the returned expert placement, and its runtime.

The candidate runs in a child process of its own (veriloop.problems._candidate); this process
generates the loads, recomputes every GPU's load from the returned placement and scores it.
"""

import numpy as np

import os as _os
import sys as _sys

_sys.path.insert(0, _os.path.dirname(_os.path.abspath(__file__)))  # problemkit.py beside this file

from problemkit import CandidateError, CandidateProcess, nd
from problemkit import hidden_seed, reject, reject_candidate, result

SEED = 20240611
# (layers, experts, gpus, physical slots)
SCENARIOS = [(16, 64, 8, 96), (12, 128, 16, 160), (24, 32, 4, 48)]
TINY = (2, 8, 2, 10)
RUNTIME_SCALE_S = 2.0  # speed factor = 1 / (1 + runtime / RUNTIME_SCALE_S)


def make_loads(rng, layers, experts):
    """Skewed per-layer expert loads (tokens): log-normal popularity, a few hot experts per layer."""
    base = rng.lognormal(mean=0.0, sigma=1.1, size=(layers, experts))
    hot = rng.random((layers, experts)) < 0.06
    base = base * np.where(hot, rng.uniform(3.0, 8.0, size=(layers, experts)), 1.0)
    return np.round(base / base.sum(axis=1, keepdims=True) * experts * 1000.0) + 1.0


def check_and_balance(weight, num_replicas, num_gpus, placement):
    """(per-layer balance array, None) or (None, reason)."""
    layers, experts = weight.shape
    try:
        arr = np.asarray(placement)
    except Exception as exc:  # noqa: BLE001
        return None, f"the placement is not an array ({exc})"
    if arr.shape != (layers, num_replicas):
        return None, f"the placement has shape {arr.shape}, expected ({layers}, {num_replicas})"
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind != "f" or not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            return None, "the placement must hold integer expert ids"
        arr = arr.astype(np.int64)
    if arr.min() < 0 or arr.max() >= experts:
        return None, f"an expert id is outside [0, {experts})"
    slots = num_replicas // num_gpus
    balances = np.empty(layers)
    for layer in range(layers):
        counts = np.bincount(arr[layer], minlength=experts)
        if counts.min() < 1:
            missing = int(np.argmin(counts))
            return None, f"layer {layer}: expert {missing} has no replica"
        share = weight[layer] / counts
        gpu = share[arr[layer]].reshape(num_gpus, slots).sum(axis=1)
        balances[layer] = gpu.mean() / gpu.max()
    return balances, None


def _run(program_path, cases, budget_s):
    """Call the candidate on each case; returns (balances per case, total call time) or a rejection."""
    out, total = [], 0.0
    with CandidateProcess(program_path, budget_s=budget_s) as cand:
        for weight, replicas, gpus in cases:
            value, t = cand.call("rebalance_experts", nd(weight), replicas, gpus)
            total += t
            bal, why = check_and_balance(weight, replicas, gpus, value)
            if why:
                return None, total, why
            out.append(bal)
    return out, total, None


def evaluate_stage1(program_path):
    layers, experts, gpus, replicas = TINY
    weight = make_loads(np.random.default_rng(SEED + 1), layers, experts)
    try:
        bals, t, why = _run(program_path, [(weight, replicas, gpus)], budget_s=10.0)
    except CandidateError as err:
        return reject_candidate(err)
    if why:
        return reject(f"invalid placement on the tiny case: {why}")
    score = float(bals[0].mean())
    return result({"combined_score": score, "balance": score, "valid": 1.0},
                  {"stage1": f"tiny case ok: balance {score:.4f}"})


def evaluate_stage2(program_path):
    rng = np.random.default_rng(SEED)
    cases = [(make_loads(rng, L, E), R, G) for (L, E, G, R) in SCENARIOS]
    hrng = np.random.default_rng(hidden_seed())
    g = int(hrng.choice([4, 8]))
    per = int(hrng.integers(3, 7))
    e = int(hrng.integers(g * per // 2 + 1, g * per))
    hidden = (make_loads(hrng, int(hrng.integers(3, 8)), e), g * per, g)
    try:
        bals, runtime, why = _run(program_path, cases + [hidden], budget_s=20.0)
    except CandidateError as err:
        return reject_candidate(err)
    if why:
        return reject(f"invalid placement: {why}")
    visible = bals[: len(cases)]
    balance = float(np.mean(np.concatenate(visible)))
    worst = float(min(b.min() for b in visible))
    speed = 1.0 / (1.0 + runtime / RUNTIME_SCALE_S)
    score = balance * speed
    per_case = ", ".join(f"{L}x{E} on {G} GPUs/{R} slots: {float(b.mean()):.4f}"
                         for (L, E, G, R), b in zip(SCENARIOS, visible, strict=True))
    return result(
        {"combined_score": score, "balance": balance, "worst_layer_balance": worst,
         "runtime_s": runtime, "speed_factor": speed, "hidden_balance": float(bals[-1].mean()), "valid": 1.0},
        {"feedback": f"mean balance {balance:.4f} (1.0 = perfect), worst layer {worst:.4f}, "
                     f"algorithm time {runtime * 1000:.1f} ms; per scenario: {per_case}"},
    )


def evaluate(program_path):
    return evaluate_stage2(program_path)
