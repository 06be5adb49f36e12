"""Reply caps and reply hygiene: max_tokens per task, cut-off replies, retries that change something.

Three small ideas every caller of `complete` shares::

    max_tokens = reply_cap(request.task, configured)   # never send a request without a cap
    if is_cut_off(completion): ...                      # finish_reason == "length": do not parse as whole
    cut_off_reason(completion, cap)                     # "cut off at max_tokens 2048" / "stopped: ..."
    temperature, seed = retry_sampling(0.2, seed, n)    # the n-th retry is not the same request again

A cap is looked up by task name ("design.testbench") or by the short name of the agent that sends
it ("testbench"); configured values (veriloop.toml `[max_tokens]` or a backend's own
`max_tokens` table) win over the defaults below. The defaults are sized from what a 1.5B coder
model wrote for veriloop's prompts (issue 14 cassettes: complete replies at most 339 tokens for
the planner, 171 architect, 367 generator, 436 fix, 626 evolve; all 15 testbench replies ran into
the server's 2,048 cap): ample headroom over a good reply, and a runaway one stops at about 100 s
on a 20 tokens/s CPU model instead of 600 s.
"""

from __future__ import annotations

from collections.abc import Mapping

from veriloop.llm.contract import Completion

DEFAULT_MAX_TOKENS: dict[str, int] = {
    "planner": 1024,
    "architect": 1024,
    "generator": 2048,
    "fix": 2048,
    "testbench": 2048,
    "evolve": 2048,
    "single_shot": 2048,
    "referee": 512,
    "chat": 1024,
}
"""Default reply caps, by agent/task short name."""

TASK_KEYS: dict[str, str] = {
    "design.plan": "planner",
    "design.architect": "architect",
    "design.rtl": "generator",
    "design.fix": "fix",
    "design.testbench": "testbench",
    "design.reference_model": "generator",
    "design.review": "architect",
    "design.referee": "referee",
    "evolve.edit": "evolve",
    "evolve.rewrite": "evolve",
    "bench.single_shot": "single_shot",
}
"""Task name -> the short key its cap is configured under."""


def cap_key(task: str) -> str:
    """The short name a task's cap is configured under ("design.testbench" -> "testbench")."""
    if task in TASK_KEYS:
        return TASK_KEYS[task]
    return task.rsplit(".", 1)[-1] if task.startswith(("design.", "evolve.", "bench.")) else task


def reply_cap(task: str, configured: Mapping[str, int] | None = None) -> int:
    """max_tokens for one request of `task`: configured by task name, then by short key, then default."""
    conf = configured or {}
    key = cap_key(task)
    for name in (task, key):
        if name in conf:
            return int(conf[name])
    return DEFAULT_MAX_TOKENS.get(key, DEFAULT_MAX_TOKENS["chat"])


def is_cut_off(completion: Completion) -> bool:
    """Did the reply stop because it hit max_tokens (the text is a prefix, not a whole answer)?"""
    return (completion.finish_reason or "") == "length"


def cut_off_reason(completion: Completion, cap: int | None = None) -> str:
    """Why a cut-off reply is incomplete, in words: the backend's own reason ("cut off at max_tokens
    2048", "stopped: the reply repeated the same 2 lines 12 times"), else the cap it was sent with."""
    if completion.cut_reason:
        return completion.cut_reason
    return f"cut off at max_tokens {cap}" if cap else "cut off at max_tokens (finish_reason=length)"


def retry_sampling(base_temperature: float, seed: int | None, retry: int) -> tuple[float, int | None]:
    """Temperature and seed for the `retry`-th retry of a request (0 = first try, unchanged).

    At temperature 0 a model repeats its reply exactly; each retry warms up by 0.3 (at most 1.0)
    and moves the seed, so a retry is never the same request again.
    """
    if retry <= 0:
        return base_temperature, seed
    temperature = min(1.0, round(base_temperature + 0.3 * retry, 2))
    return temperature, (seed if seed is not None else 0) + 7919 * retry


def cut_off_note(tokens: int, what: str) -> str:
    """The user message sent after a cut-off reply (the cut reply itself is not sent back)."""
    return (
        f"Your previous answer was cut off after {tokens} tokens, before it was complete, and was "
        f"discarded. Answer again with {what}, shorter: no explanation, no comments, no repeated "
        "statements; use loops (for/repeat) instead of writing out many similar lines. "
        "Close the ```verilog block."
    )
