"""How far a running call has got: tokens received so far, for a "waiting for ..." heartbeat.

The caller opens a watch before it starts the call's task; a streaming backend counts into it::

    progress = watch_call()                       # in the task that will print the heartbeat
    job = asyncio.ensure_future(backend.complete(request))   # the new task sees the same object
    ... f"waiting for {name} ({progress.describe()})" ...

It travels in a context variable (copied into tasks created after `watch_call`), so no backend
signature changes and concurrent calls in other tasks never share a counter.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class CallProgress:
    """One call's progress: reply pieces (about one token each) received so far."""

    tokens: int = 0
    started: float = field(default_factory=time.monotonic)

    def describe(self) -> str:
        """"12 s" before the first token, "12 s, 240 tokens so far" after it."""
        took = f"{time.monotonic() - self.started:.0f} s"
        return took + (f", {self.tokens} tokens so far" if self.tokens else "")


_CURRENT: ContextVar[CallProgress | None] = ContextVar("veriloop_llm_call_progress", default=None)


def watch_call() -> CallProgress:
    """A fresh progress record for the next call started from this context (tasks copy it)."""
    progress = CallProgress()
    _CURRENT.set(progress)
    return progress


def current_call() -> CallProgress | None:
    """The progress record a backend should count into, if the caller opened one."""
    return _CURRENT.get()
