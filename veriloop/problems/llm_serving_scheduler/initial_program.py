"""LLM serving scheduler: choose each iteration's batch of prefill chunks and decodes (Sarathi-Serve style).

schedule(state) is called before every model iteration and returns
    {"prefill": [[request_id, n_tokens], ...], "decode": [request_id, ...], "preempt": [request_id, ...]}
state = {"now": seconds, "kv_capacity": tokens, "kv_used": tokens,
         "waiting": [{"id", "arrival", "prompt_len", "prefilled"}],   # prompt not fully processed yet
         "running": [{"id", "arrival", "context", "generated", "first_token_time"}]}  # decoding
A prefill chunk processes n_tokens more of a waiting request's prompt (its KV grows by n_tokens);
when the whole prompt is processed the request emits its first token and starts decoding. A decode
emits one token (KV grows by 1). Output lengths are unknown. Preempting frees a request's KV; it
waits again and must re-process prompt + generated tokens. After preemption, KV used + prefill
tokens + decodes must fit in kv_capacity. Iteration time grows with prefill tokens, decodes and
context. Goal: the most requests meeting both SLOs: time to first token <= 2 s and every gap
between two tokens of a request <= 0.2 s.
"""

# EVOLVE-BLOCK-START
TOKEN_BUDGET = 2048.0  # max prefill tokens per iteration
CHUNK_SIZE = 2048.0  # max prefill tokens of one request per iteration
MIX_DECODES = 0  # 1: decodes run in the same iteration as prefills; 0: prefill iterations pause decodes
KV_RESERVE = 0.02  # fraction of KV capacity kept free when admitting a new prompt


def schedule(state):
    cap, used = state["kv_capacity"], state["kv_used"]
    running = sorted(state["running"], key=lambda r: r["arrival"])
    waiting = sorted(state["waiting"], key=lambda r: r["arrival"])
    preempt = []
    while running and used + len(running) > cap:
        victim = running.pop()
        preempt.append(victim["id"])
        used -= victim["context"]
    prefill = []
    budget = max(1, int(TOKEN_BUDGET))
    for w in waiting:
        left = w["prompt_len"] - w["prefilled"]
        take = min(left, max(1, int(CHUNK_SIZE)), budget)
        if take <= 0:
            break
        if w["prefilled"] == 0 and used + left + len(running) > cap * (1 - KV_RESERVE):
            break
        if used + take + len(running) > cap:
            break
        prefill.append([w["id"], take])
        used += take
        budget -= take
    decode = [r["id"] for r in running] if (MIX_DECODES or not prefill) else []
    return {"prefill": prefill, "decode": decode, "preempt": preempt}
# EVOLVE-BLOCK-END
