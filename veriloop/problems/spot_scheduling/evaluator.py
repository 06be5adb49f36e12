"""Evaluator for spot_scheduling: replays availability traces step by step against the candidate's strategy.

The simulator lives here; the candidate (in its own process) only sees the present step's
observation, so it cannot look ahead in a trace. Cost and progress are computed here.
"""

import numpy as np

import os as _os
import sys as _sys

_sys.path.insert(0, _os.path.dirname(_os.path.abspath(__file__)))  # problemkit.py beside this file

from problemkit import CandidateError, CandidateProcess
from problemkit import hidden_seed, reject, reject_candidate, result

SEED = 7301
WORK, DEADLINE, OVERHEAD = 200, 300, 4
OD_PRICE = 1.0
SINGLE_PRICE = [0.30]
MULTI_PRICE = [0.27, 0.31, 0.36]
N_SINGLE, N_MULTI = 16, 10


def make_trace(rng, regions, length):
    """Availability [regions, length] from a two-state Markov chain per region (bursty outages)."""
    out = np.zeros((regions, length), dtype=bool)
    for r in range(regions):
        p_fail = rng.uniform(0.02, 0.12)
        p_back = rng.uniform(0.04, 0.25)
        up = rng.random() < 0.7
        for t in range(length):
            out[r, t] = up
            up = (rng.random() >= p_fail) if up else (rng.random() < p_back)
    return out


def make_cases(rng, n_single, n_multi):
    cases = [(make_trace(rng, 1, DEADLINE), SINGLE_PRICE) for _ in range(n_single)]
    cases += [(make_trace(rng, 3, DEADLINE), MULTI_PRICE) for _ in range(n_multi)]
    return cases


def _parse_action(action, regions):
    if isinstance(action, str):
        action = (action, 0)
    if not isinstance(action, list | tuple) or len(action) != 2:
        return None
    kind, region = action
    if kind not in ("spot", "od", "wait") or isinstance(region, bool) or not isinstance(region, int):
        return None
    if kind != "wait" and not 0 <= region < regions:
        return None
    return kind, region


def simulate(cand, cases, label):
    """Run every trace in lock step; returns (list of (cost, finish_step)), or raises ValueError."""
    states = []
    for i, (trace, prices) in enumerate(cases):
        info = {"regions": trace.shape[0], "work": WORK, "deadline": DEADLINE, "overhead": OVERHEAD,
                "spot_price": list(prices), "od_price": OD_PRICE}
        cand.call("make_strategy", info, store=f"{label}{i}")
        states.append({"progress": 0, "running": None, "region": 0, "overhead_left": 0, "cost": 0.0,
                       "done_at": None})
    for t in range(DEADLINE):
        active = [i for i, s in enumerate(states) if s["done_at"] is None]
        if not active:
            break
        calls = []
        for i in active:
            s, trace = states[i], cases[i][0]
            obs = {"t": t, "progress": s["progress"], "spot_available": [bool(x) for x in trace[:, t]],
                   "running": s["running"], "region": s["region"], "overhead_left": s["overhead_left"]}
            calls.append((f"{label}{i}", "step", [obs]))
        actions, _ = cand.batch(calls)
        for i, raw in zip(active, actions, strict=True):
            s, (trace, prices) = states[i], cases[i]
            act = _parse_action(raw, trace.shape[0])
            if act is None:
                raise ValueError(f"trace {label}{i}, step {t}: invalid action {raw!r}; expected "
                                 "('spot', region), ('od', region) or ('wait', 0)")
            kind, region = act
            if kind == "wait" or (kind == "spot" and not trace[region, t]):
                s["running"] = None
                continue
            if s["running"] != kind or s["region"] != region:
                s["running"], s["region"], s["overhead_left"] = kind, region, OVERHEAD
            s["cost"] += prices[region] if kind == "spot" else OD_PRICE
            if s["overhead_left"] > 0:
                s["overhead_left"] -= 1
            else:
                s["progress"] += 1
                if s["progress"] >= WORK:
                    s["done_at"] = t + 1
    for i, s in enumerate(states):
        if s["done_at"] is None:
            raise ValueError(f"trace {label}{i} missed the deadline: {s['progress']}/{WORK} work steps done "
                             f"after {DEADLINE} steps")
    return [(s["cost"], s["done_at"]) for s in states]


def _score(outcomes):
    od_only = (WORK + OVERHEAD) * OD_PRICE
    return float(np.mean([od_only / cost for cost, _ in outcomes]))


def evaluate_stage1(program_path):
    cases = make_cases(np.random.default_rng(SEED + 1), 1, 1)
    try:
        with CandidateProcess(program_path, budget_s=10.0) as cand:
            outcomes = simulate(cand, cases, "tiny")
    except CandidateError as err:
        return reject_candidate(err)
    except ValueError as exc:
        return reject(str(exc))
    score = _score(outcomes)
    return result({"combined_score": score, "valid": 1.0}, {"stage1": f"2 small traces ok, savings {score:.3f}x"})


def evaluate_stage2(program_path):
    cases = make_cases(np.random.default_rng(SEED), N_SINGLE, N_MULTI)
    hidden = make_cases(np.random.default_rng(hidden_seed()), 3, 3)
    try:
        with CandidateProcess(program_path, budget_s=20.0) as cand:
            outcomes = simulate(cand, cases, "t")
            hidden_out = simulate(cand, hidden, "h")
    except CandidateError as err:
        return reject_candidate(err)
    except ValueError as exc:
        return reject(str(exc))
    single, multi = outcomes[:N_SINGLE], outcomes[N_SINGLE:]
    s_single, s_multi = _score(single), _score(multi)
    score = 0.5 * (s_single + s_multi)
    mean_cost = float(np.mean([c for c, _ in outcomes]))
    return result(
        {"combined_score": score, "single_region_savings": s_single, "multi_region_savings": s_multi,
         "mean_cost": mean_cost, "mean_finish_step": float(np.mean([f for _, f in outcomes])),
         "hidden_savings": _score(hidden_out), "valid": 1.0},
        {"feedback": f"cost savings vs on-demand only: single-region {s_single:.3f}x, multi-region "
                     f"{s_multi:.3f}x (mean cost {mean_cost:.1f}; on-demand only costs "
                     f"{(WORK + OVERHEAD) * OD_PRICE:.0f}); every deadline met"},
    )


def evaluate(program_path):
    return evaluate_stage2(program_path)
