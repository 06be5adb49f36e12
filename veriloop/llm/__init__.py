"""LLM backends: get_backend() by name (openai / offline / replay, optional recording) and probes."""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path

from veriloop.config import BackendConfig, Settings
from veriloop.errors import ConfigError
from veriloop.llm.contract import (
    Completion,
    CompletionRequest,
    LLMBackend,
    Message,
    ToolCall,
    ToolSpec,
)
from veriloop.llm.ledger import UsageLedger, UsageSnapshot

__all__ = [
    "Completion",
    "CompletionRequest",
    "LLMBackend",
    "Message",
    "ToolCall",
    "ToolSpec",
    "UsageLedger",
    "UsageSnapshot",
    "complete_sync",
    "get_backend",
    "probe_backend",
]


def get_backend(
    settings: Settings,
    name: str | None = None,
    record: Path | str | None = None,
    *,
    ledger: UsageLedger | None = None,
) -> LLMBackend:
    """The backend called `name` (default: settings.default_backend; `replay:PATH` works too).

    With `record`, every exchange is also appended to that JSONL cassette. Pass one `ledger` to
    several backends to sum a whole run; otherwise each backend has its own (`backend.ledger`).
    A missing API key variable fails here, before any call.
    """
    name = name or settings.default_backend
    cfg = settings.backend(name)
    if settings.max_tokens:
        cfg = cfg.model_copy(update={"max_tokens": {**settings.max_tokens, **cfg.max_tokens}})
    backend = backend_from_config(name, cfg, ledger=ledger)
    record = record if record is not None else settings.record
    if record is not None and cfg.kind != "replay":
        from veriloop.llm.replay import RecordingBackend

        backend = RecordingBackend(backend, record)
    return backend


def backend_from_config(name: str, cfg: BackendConfig, *, ledger: UsageLedger | None = None) -> LLMBackend:
    if cfg.kind == "openai":
        from veriloop.llm.openai_backend import OpenAIBackend

        return OpenAIBackend(name, cfg, ledger)
    if cfg.kind == "offline":
        from veriloop.llm.offline import OfflineBackend

        return OfflineBackend(name, ledger)
    from veriloop.llm.replay import ReplayBackend

    if not cfg.cassette:
        raise ConfigError(
            f"Backend '{name}' is kind \"replay\" but names no cassette.",
            hint=f'Add cassette = "PATH" to [backends.{name}], or use --backend replay:PATH.',
        )
    return ReplayBackend(cfg.cassette, name=name, ledger=ledger)


def probe_backend(cfg: BackendConfig, timeout_s: float = 2.0) -> tuple[bool, str]:
    """Is this backend usable? One short GET /models for openai; offline/replay answer locally."""
    if cfg.kind == "offline":
        from veriloop.llm.offline import DESCRIPTION

        return True, DESCRIPTION
    if cfg.kind == "replay":
        from veriloop.errors import VeriloopError
        from veriloop.llm.replay import ReplayBackend

        if not cfg.cassette:
            return False, "replay backend without a cassette"
        try:
            return True, ReplayBackend(cfg.cassette).describe()
        except VeriloopError as err:
            return False, err.message
    from veriloop.llm.probe import probe_openai

    return probe_openai(cfg, timeout_s)


def complete_sync(backend: LLMBackend, request: CompletionRequest) -> Completion:
    """Call `backend.complete` from synchronous code (in a worker thread if a loop is running here)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_complete_and_close(backend, request))
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _complete_and_close(backend, request)).result()


async def _complete_and_close(backend: LLMBackend, request: CompletionRequest) -> Completion:
    try:
        return await backend.complete(request)
    finally:
        await backend.aclose()  # this loop ends here: drop its connections
