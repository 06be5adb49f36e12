"""Run-scoped dependencies handed to every agent node: settings, LLM backends, progress, budget."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from veriloop.agents.state import DesignState, EntryKind, Spend, TranscriptEntry
from veriloop.config import Settings, load_settings
from veriloop.errors import BudgetExhausted
from veriloop.llm.caps import cut_off_reason, is_cut_off, reply_cap, retry_sampling
from veriloop.llm.contract import Completion, CompletionRequest, LLMBackend, Message, ToolSpec
from veriloop.llm.progress import watch_call

ProgressFn = Callable[[str, int, str], None]
"""progress(agent, iteration, message)"""

_CLIP = 6000
HEARTBEAT_S = 30.0
"""How often a running LLM call is reported as still running (the progress line)."""
CUT_OFF_NOTE = "reply cut off:"
"""The transcript note of a reply cut at max_tokens or stopped as a runaway, then its reason."""


def clip(text: str | None, limit: int = _CLIP) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit // 2] + "\n...[clipped]...\n" + text[-limit // 2 :]


@dataclass
class Deps:
    """Objects that cannot live in the checkpointed state (connections, callbacks)."""

    settings: Settings
    progress: ProgressFn | None = None
    _backends: dict[str, LLMBackend] = field(default_factory=dict)
    _store: Any = None
    _store_tried: bool = False
    knowledge_note: str | None = None
    """Why the flow runs without retrieval (one line), when it does."""

    def backend(self, name: str) -> LLMBackend:
        if name not in self._backends:
            from veriloop.llm import get_backend

            self._backends[name] = get_backend(self.settings, name)
        return self._backends[name]

    def knowledge(self, create: bool = True) -> Any:
        """The knowledge store with the built-in corpus, or None when disabled or unusable.

        Opened (created if needed) once per run; the corpus is ingested on first use, from the
        installation's corpus cache when possible. Any failure leaves the flow without retrieval
        and `knowledge_note` says why; it never fails the run. `create` is kept for callers.
        """
        if self._store is None and not self._store_tried:
            self._store_tried = True
            self._store = self._open_knowledge()
        return self._store

    def _open_knowledge(self) -> Any:
        if not self.settings.knowledge.enabled:
            self.knowledge_note = "knowledge base disabled (knowledge.enabled = false)"
            return None
        try:
            from veriloop.knowledge import open_store

            store = open_store(self.settings, create=True)
            fresh = store.meta.get("corpus_fingerprint") is None
            if fresh:
                self.say("architect", 0, "preparing the knowledge base (first use)")
            store.ensure_corpus(progress=False)
            return store
        except Exception as exc:  # noqa: BLE001 - optional component; the flow works without it
            self.knowledge_note = "knowledge base unavailable: " + _one_line(exc)
            return None

    def say(self, agent: str, iteration: int, message: str) -> None:
        if self.progress is not None:
            self.progress(agent, iteration, message)

    async def aclose(self) -> None:
        for b in self._backends.values():
            with contextlib.suppress(Exception):  # closing is best effort
                await b.aclose()


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc or type(exc).__name__)
    return (text.strip().splitlines() or [type(exc).__name__])[0][:200]


def deps_from(runtime: Any) -> Deps:
    """The Deps of this run (LangGraph Studio runs without one: build from the local config)."""
    ctx = getattr(runtime, "context", None)
    if isinstance(ctx, Deps):
        return ctx
    return Deps(settings=load_settings())


class Turn:
    """One agent's work within a node: LLM calls with budget checks, spend and transcript entries."""

    def __init__(self, deps: Deps, state: DesignState, agent: str) -> None:
        self.deps = deps
        self.agent = agent
        self.iteration = int(state.get("iteration", 0))
        self.spend = Spend.model_validate(state.get("spend") or {})
        self.budget = state.get("budget_usd")
        self.seed = state.get("seed")
        self.backend_name = (state.get("backends") or {}).get(agent) or deps.settings.default_backend
        self.entries: list[dict[str, Any]] = []
        self._last_reply: dict[str, str] = {}
        self.same_in_a_row: dict[str, int] = {}
        """Per request thread (task/module): how many consecutive replies equalled the one before."""
        self.repeats = 0
        """Replies this turn that were identical to the previous reply of the same thread."""
        self.cut_offs = 0
        """Replies this turn that stopped at max_tokens (finish_reason=length)."""

    def note(self, kind: EntryKind, text: str, **extra: Any) -> None:
        entry = TranscriptEntry(
            agent=self.agent,
            kind=kind,
            iteration=self.iteration,
            text=clip(text),
            ts=time.time(),
            **extra,
        )
        self.entries.append(entry.model_dump(mode="json"))

    def over_budget(self) -> bool:
        return self.budget is not None and self.spend.usd >= float(self.budget)

    async def complete(
        self,
        messages: list[Message],
        *,
        task: str,
        context: dict[str, Any],
        tools: list[ToolSpec] | None = None,
        max_tokens: int | None = None,
        record_prompt: bool = True,
        retry: int = 0,
    ) -> Completion:
        """One call. `retry` > 0 marks a retry after a failed reply: it runs warmer with another seed
        (see veriloop.llm.caps.retry_sampling), so it is never the identical request again."""
        if self.over_budget():
            raise BudgetExhausted(f"The dollar budget (${float(self.budget or 0):.4f}) is spent.")
        backend = self.deps.backend(self.backend_name)
        sample = int(context.get("sample", 0) or 0)
        # Candidate samples differ by seed and run warmer than the first one; retries step further.
        temperature, seed = retry_sampling(
            0.2 if sample == 0 else 0.8, None if self.seed is None else self.seed + sample, retry
        )
        if max_tokens is None:
            max_tokens = reply_cap(task, self.deps.settings.max_tokens)
        req = CompletionRequest(
            messages=messages,
            tools=tools or [],
            task=task,
            context=context,
            seed=seed,
            max_tokens=max_tokens,
            temperature=temperature,
        )
        if record_prompt and messages:
            self.note("prompt", messages[-1].content or "", backend=self.backend_name)
        comp = await self._with_heartbeat(backend.complete(req), task)
        self.spend = self.spend.add(
            self.backend_name,
            comp.model or backend.model,
            comp.prompt_tokens,
            comp.completion_tokens,
            comp.cost_usd,
        )
        calls = ", ".join(f"{c.name}()" for c in comp.tool_calls)
        self.note(
            "reply",
            comp.text + (f"\n[tool calls: {calls}]" if calls else ""),
            backend=self.backend_name,
            model=comp.model or backend.model,
            tokens=comp.prompt_tokens + comp.completion_tokens,
            usd=comp.cost_usd,
        )
        thread = f"{task}/{context.get('module', '')}/{sample}"
        if comp.text and not comp.tool_calls and self._last_reply.get(thread) == comp.text:
            self.repeats += 1
            row = self.same_in_a_row[thread] = self.same_in_a_row.get(thread, 0) + 1
            self.note("failure", f"identical to the previous reply ({row + 1} in a row)")
        else:
            self.same_in_a_row[thread] = 0
        if comp.text and not comp.tool_calls:
            self._last_reply[thread] = comp.text
        if is_cut_off(comp):
            self.cut_offs += 1
            self.note("failure", f"{CUT_OFF_NOTE} {cut_off_reason(comp, max_tokens)} (finish_reason=length)")
        return comp

    async def _with_heartbeat(self, call: Any, task: str) -> Completion:
        """Await the call; while it runs, say every HEARTBEAT_S seconds that it is still running."""
        progress = watch_call()  # a streaming backend counts the reply's tokens into it (the task copies it)
        job = asyncio.ensure_future(call)
        try:
            while True:
                done, _ = await asyncio.wait({job}, timeout=HEARTBEAT_S)
                if done:
                    return job.result()  # type: ignore[no-any-return]
                self.deps.say(
                    self.agent,
                    self.iteration,
                    f"waiting for {self.backend_name} ({task}, {progress.describe()})",
                )
        finally:
            if not job.done():
                job.cancel()

    def repeated(self, task: str, context: dict[str, Any]) -> int:
        """How many consecutive replies of this thread equalled the one before (0: the last one was new)."""
        sample = int(context.get("sample", 0) or 0)
        return self.same_in_a_row.get(f"{task}/{context.get('module', '')}/{sample}", 0)

    def updates(self) -> dict[str, Any]:
        return {"spend": self.spend.model_dump(mode="json"), "transcript": self.entries}
