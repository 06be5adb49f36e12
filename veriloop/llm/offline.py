"""The offline backend: the no-LLM baseline that answers from request.task + context, never the network."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

from veriloop.errors import BackendError
from veriloop.llm.contract import Completion, CompletionRequest, LLMBackend
from veriloop.llm.ledger import UsageLedger

OfflineHandler = Callable[[CompletionRequest], "str | Awaitable[str]"]

BUILTIN_HANDLERS: dict[str, str] = {
    "design.": "veriloop.agents.offline_designer:answer",
    "evolve.": "veriloop.evolve.offline_operator:answer",
}
"""Task prefix -> "module:function" imported on first use."""

_registered: dict[str, OfflineHandler] = {}

DESCRIPTION = (
    "offline baseline (no LLM): design tasks are answered by retrieving and parameterising a matching "
    "design from the built-in library, evolve tasks by seeded program mutations; no network, 0 tokens, $0"
)


def register_offline_handler(prefix: str, func: OfflineHandler) -> None:
    """Answer tasks starting with `prefix` with `func(request) -> str` (overrides a built-in prefix)."""
    _registered[prefix] = func


def unregister_offline_handler(prefix: str) -> None:
    _registered.pop(prefix, None)


def _resolve(task: str) -> OfflineHandler:
    table: dict[str, OfflineHandler | str] = {**BUILTIN_HANDLERS, **_registered}
    matches = [p for p in table if task.startswith(p)]
    if not matches:
        raise BackendError(
            f"The offline backend cannot answer task '{task}': it only knows "
            f"{', '.join(sorted(table))} tasks.",
            hint="Use an LLM backend (--backend NAME with [backends.NAME] in veriloop.toml) for this task.",
        )
    target = table[max(matches, key=len)]
    if not isinstance(target, str):
        return target
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise BackendError(
            f"The offline backend cannot answer task '{task}': {module_name} is not available ({exc.name}).",
            hint="Use an LLM backend for this task.",
        ) from None
    func: Any = getattr(module, func_name, None)
    if not callable(func):
        raise BackendError(f"The offline backend cannot answer task '{task}': {target} is missing.")
    return func  # type: ignore[no-any-return]


class OfflineBackend(LLMBackend):
    """No model at all: deterministic answers from the task's structured context."""

    def __init__(self, name: str = "offline", ledger: UsageLedger | None = None) -> None:
        self.name = name
        self.model = "offline"
        self.ledger = ledger if ledger is not None else UsageLedger()

    def describe(self) -> str:
        return DESCRIPTION

    async def complete(self, request: CompletionRequest) -> Completion:
        start = time.monotonic()
        handler = _resolve(request.task)
        if inspect.iscoroutinefunction(handler):
            out: Any = await handler(request)
        else:
            out = await asyncio.to_thread(handler, request)
            if inspect.isawaitable(out):
                out = await out
        if not isinstance(out, str):
            raise BackendError(
                f"The offline handler for task '{request.task}' returned {type(out).__name__}, not text."
            )
        completion = Completion(
            text=out,
            backend=self.name,
            model=self.model,
            finish_reason="stop",
            latency_s=time.monotonic() - start,
        )
        self.ledger.add(completion)
        return completion
