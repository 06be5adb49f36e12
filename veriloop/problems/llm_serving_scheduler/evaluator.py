"""Evaluator for llm_serving_scheduler: a discrete-event simulator of iteration-level batching.

The simulator (arrivals, KV memory, iteration latency, token times) runs here; the candidate's
schedule(state) runs in its own process and only sees the present state (no future arrivals, no
output lengths). Every batch is validated; an invalid batch or a stalled scheduler rejects it.

Iteration latency (seconds) = 0.008 + 9e-5 * prefill_tokens + 2e-4 * decodes
                              + 4e-7 * context tokens of the sequences in the batch.
"""

import numpy as np

import os as _os
import sys as _sys

_sys.path.insert(0, _os.path.dirname(_os.path.abspath(__file__)))  # problemkit.py beside this file

from problemkit import CandidateError, CandidateProcess
from problemkit import hidden_seed, reject, reject_candidate, result

SEED = 4242
KV_CAPACITY = 30000
TTFT_SLO, TBT_SLO = 1.5, 0.12
N_REQUESTS = 160
HORIZON_AFTER_LAST_S = 120.0
MAX_IDLE_ITERS = 200


class Invalid(Exception):
    pass


def make_trace(rng, n):
    """Bursty arrivals: alternating busy (6-10 req/s) and quiet (0.5-1.5 req/s) periods."""
    times, t, busy = [], 0.0, True
    while len(times) < n:
        period = rng.uniform(4, 8) if busy else rng.uniform(6, 12)
        rate = rng.uniform(7, 11) if busy else rng.uniform(0.5, 1.5)
        end = t + period
        while len(times) < n:
            t += rng.exponential(1.0 / rate)
            if t > end:
                t = end
                break
            times.append(t)
        busy = not busy
    prompt = np.clip(rng.lognormal(np.log(600), 0.8, n), 32, 4000).astype(int)
    output = np.clip(rng.lognormal(np.log(90), 0.8, n), 4, 600).astype(int)
    return [(float(times[i]), int(prompt[i]), int(output[i])) for i in range(n)]


def iteration_time(prefill_tokens, decodes, context_tokens):
    return 0.008 + 9e-5 * prefill_tokens + 2e-4 * decodes + 4e-7 * context_tokens


def _ids(value, what):
    if not isinstance(value, list):
        raise Invalid(f"'{what}' must be a list")
    for x in value:
        if isinstance(x, bool) or not isinstance(x, int):
            raise Invalid(f"'{what}' must hold integer request ids, got {x!r}")
    if len(set(value)) != len(value):
        raise Invalid(f"'{what}' names a request twice")
    return value


def simulate(cand, trace):
    """Returns per-request (ttft, max_gap, finished) lists; raises Invalid on a bad batch."""
    n = len(trace)
    reqs = [{"arrival": a, "prompt": p, "out": o, "need": p, "prefilled": 0, "generated": 0,
             "first": None, "last": None, "max_gap": 0.0, "done": False, "state": "future"}
            for a, p, o in trace]
    now, nxt, idle, iters = 0.0, 0, 0, 0
    active = []  # arrived and not done
    horizon = trace[-1][0] + HORIZON_AFTER_LAST_S
    while now < horizon:
        while nxt < n and reqs[nxt]["arrival"] <= now:
            reqs[nxt]["state"] = "waiting"
            active.append(nxt)
            nxt += 1
        active = [i for i in active if reqs[i]["state"] != "done"]
        waiting = [i for i in active if reqs[i]["state"] == "waiting"]
        running = [i for i in active if reqs[i]["state"] == "running"]
        if not waiting and not running:
            if nxt >= n:
                break
            now = reqs[nxt]["arrival"]
            continue
        used = sum(reqs[i]["prefilled"] for i in waiting) + sum(reqs[i]["prefilled"] + reqs[i]["generated"]
                                                                 for i in running)
        state = {"now": now, "kv_capacity": KV_CAPACITY, "kv_used": used,
                 "waiting": [{"id": i, "arrival": reqs[i]["arrival"], "prompt_len": reqs[i]["need"],
                              "prefilled": reqs[i]["prefilled"]} for i in waiting],
                 "running": [{"id": i, "arrival": reqs[i]["arrival"],
                              "context": reqs[i]["prefilled"] + reqs[i]["generated"],
                              "generated": reqs[i]["generated"], "first_token_time": reqs[i]["first"]}
                             for i in running]}
        batch, _ = cand.call("schedule", state)
        iters += 1
        if not isinstance(batch, dict):
            raise Invalid(f"iteration {iters}: schedule() returned {type(batch).__name__}, expected a dict")
        unknown = set(batch) - {"prefill", "decode", "preempt"}
        if unknown:
            raise Invalid(f"iteration {iters}: unknown batch keys {sorted(unknown)}")
        preempt = _ids(batch.get("preempt", []), "preempt")
        decode = _ids(batch.get("decode", []), "decode")
        prefill = batch.get("prefill", [])
        if not isinstance(prefill, list) or any(not isinstance(p, list | tuple) or len(p) != 2 for p in prefill):
            raise Invalid(f"iteration {iters}: 'prefill' must be a list of [request_id, n_tokens]")
        wset, rset = set(waiting), set(running)
        for i in preempt:
            if i not in wset and i not in rset:
                raise Invalid(f"iteration {iters}: preempted request {i} is neither waiting nor running")
        for i in preempt:
            r = reqs[i]
            r["need"] = r["prompt"] + r["generated"]
            r["prefilled"] = 0
            r["state"] = "waiting"
        used = sum(reqs[i]["prefilled"] for i in active if reqs[i]["state"] == "waiting") + sum(
            reqs[i]["prefilled"] + reqs[i]["generated"] for i in active if reqs[i]["state"] == "running")
        pset = set(preempt)
        for i in decode:
            if i not in rset or i in pset:
                raise Invalid(f"iteration {iters}: decode of request {i}, which is not running")
        seen, ptokens = set(), 0
        for i, k in prefill:
            if isinstance(i, bool) or not isinstance(i, int) or isinstance(k, bool) or not isinstance(k, int):
                raise Invalid(f"iteration {iters}: prefill entries must be [int id, int tokens]")
            if i not in wset or i in seen:
                raise Invalid(f"iteration {iters}: prefill of request {i}, which is not waiting (or twice)")
            left = reqs[i]["need"] - reqs[i]["prefilled"]
            if not 1 <= k <= left:
                raise Invalid(f"iteration {iters}: prefill of {k} tokens for request {i}, which has {left} left")
            seen.add(i)
            ptokens += k
        if used + ptokens + len(decode) > KV_CAPACITY:
            raise Invalid(f"iteration {iters}: KV overflow ({used} used + {ptokens} prefill + {len(decode)} "
                          f"decodes > capacity {KV_CAPACITY}); preempt requests to make room")
        if not prefill and not decode:
            idle += 1
            if idle > MAX_IDLE_ITERS:
                raise Invalid(f"the scheduler stalled: {MAX_IDLE_ITERS} empty batches in a row with requests pending")
            now += 0.001
            continue
        idle = 0
        ctx = sum(reqs[i]["prefilled"] + reqs[i]["generated"] for i in decode)
        ctx += sum(reqs[i]["prefilled"] + k for i, k in prefill)
        now += iteration_time(ptokens, len(decode), ctx)
        for i, k in prefill:
            r = reqs[i]
            r["prefilled"] += k
            if r["prefilled"] == r["need"]:
                r["state"] = "running"
                if r["first"] is None:
                    r["first"] = now
                    r["generated"] = 1
                else:  # resumed after preemption: the recompute emits no new token
                    r["max_gap"] = max(r["max_gap"], now - r["last"])
                    r["prefilled"] = r["prompt"]
                r["last"] = now
                if r["generated"] >= r["out"]:
                    r["done"], r["state"] = True, "done"
        for i in decode:
            r = reqs[i]
            r["generated"] += 1
            r["max_gap"] = max(r["max_gap"], now - r["last"])
            r["last"] = now
            if r["generated"] >= r["out"]:
                r["done"], r["state"] = True, "done"
    return reqs, iters, now


def metrics_of(reqs, end_time):
    ok, soft = 0, 0.0
    ttfts, gaps = [], []
    for r in reqs:
        if r["first"] is None:
            continue
        ttft = r["first"] - r["arrival"]
        ttfts.append(ttft)
        gaps.append(r["max_gap"])
        if r["done"] and ttft <= TTFT_SLO and r["max_gap"] <= TBT_SLO:
            ok += 1
        if r["done"]:
            soft += min(1.0, TTFT_SLO / max(ttft, 1e-9)) * min(1.0, TBT_SLO / max(r["max_gap"], 1e-9))
    done = sum(r["done"] for r in reqs)
    return {"goodput": ok / len(reqs), "slo_closeness": soft / len(reqs), "completed": done / len(reqs),
            "p99_ttft_s": float(np.percentile(ttfts, 99)) if ttfts else 1e9,
            "p99_max_tbt_s": float(np.percentile(gaps, 99)) if gaps else 1e9,
            "throughput_tok_s": sum(r["generated"] for r in reqs) / max(end_time, 1e-9)}


def score_of(m):
    """0.8 * goodput + 0.2 * mean SLO closeness (partial credit: min(1, SLO/observed) per SLO)."""
    return 0.8 * m["goodput"] + 0.2 * m["slo_closeness"]


def _evaluate(program_path, traces, budget_s):
    with CandidateProcess(program_path, budget_s=budget_s) as cand:
        return [simulate(cand, tr) for tr in traces]


def evaluate_stage1(program_path):
    trace = make_trace(np.random.default_rng(SEED + 1), 8)
    try:
        (reqs, _, end), = _evaluate(program_path, [trace], 10.0)
    except CandidateError as err:
        return reject_candidate(err)
    except Invalid as exc:
        return reject(f"invalid batch on the tiny trace: {exc}")
    m = metrics_of(reqs, end)
    return result({"combined_score": score_of(m), "valid": 1.0}, {"stage1": f"tiny trace ok: goodput {m['goodput']:.3f}"})


def evaluate_stage2(program_path):
    trace = make_trace(np.random.default_rng(SEED), N_REQUESTS)
    hidden = make_trace(np.random.default_rng(hidden_seed()), 40)
    try:
        (reqs, iters, end), (hreqs, _, hend) = _evaluate(program_path, [trace, hidden], 40.0)
    except CandidateError as err:
        return reject_candidate(err)
    except Invalid as exc:
        return reject(f"invalid batch: {exc}")
    m = metrics_of(reqs, end)
    h = metrics_of(hreqs, hend)
    return result(
        {"combined_score": score_of(m), **m, "iterations": float(iters), "hidden_goodput": h["goodput"],
         "valid": 1.0},
        {"feedback": f"{m['goodput'] * 100:.1f}% of {N_REQUESTS} requests met TTFT<={TTFT_SLO}s and "
                     f"TBT<={TBT_SLO}s; completed {m['completed'] * 100:.1f}%; p99 TTFT {m['p99_ttft_s']:.2f}s, "
                     f"p99 max TBT {m['p99_max_tbt_s']:.3f}s, {iters} iterations"},
    )


def evaluate(program_path):
    return evaluate_stage2(program_path)
