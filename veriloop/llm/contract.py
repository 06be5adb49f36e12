"""The LLM contract: complete(request) -> Completion, with tokens, dollars and latency."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from typing import Any, Literal

from pydantic import BaseModel, Field


class ToolCall(BaseModel):
    """A function call requested by the model."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    raw_arguments: str = ""


class Message(BaseModel):
    """One chat message in OpenAI's shape."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None


class ToolSpec(BaseModel):
    """A function the model may call (JSON-schema parameters)."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class Droppable(BaseModel):
    """A part of the prompt that may be left out when the prompt does not fit the context window.

    `text` is an exact piece of one message's content (retrieved examples, library entries,
    lessons, documentation); a backend that must shorten the prompt replaces its first occurrence
    with `replacement`, in the order the request lists them, before it drops older tool-loop
    exchanges and long before it refuses the request.
    """

    text: str
    kind: Literal["retrieved", "lesson", "doc", "example", "other"] = "retrieved"
    replacement: str = "(left out: the prompt did not fit the model's context window)"


class CompletionRequest(BaseModel):
    """What an agent asks for.

    `task` names the kind of request (e.g. "design.rtl", "evolve.edit") and `context` carries the
    same information as structured data. Network backends send only `messages` (and tools); the
    offline backend answers from `task` + `context`. `context` never leaves the process.
    `droppable` marks the parts of `messages` a backend may leave out, first to last, when the
    prompt would not fit the model's context window (not part of the fingerprint: it does not
    change what is sent while the prompt fits).
    """

    messages: list[Message]
    tools: list[ToolSpec] = Field(default_factory=list)
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    stop: list[str] | None = None
    task: str = "chat"
    context: dict[str, Any] = Field(default_factory=dict)
    droppable: list[Droppable] = Field(default_factory=list)

    def fingerprint(self, model: str) -> str:
        """A stable hash of everything that decides the reply (for cassettes and caches)."""
        payload = {
            "model": model,
            "messages": [m.model_dump(mode="json", exclude_none=True) for m in self.messages],
            "tools": [t.model_dump(mode="json") for t in self.tools],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "stop": self.stop,
        }
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


class Completion(BaseModel):
    """The model's answer and what it cost."""

    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    backend: str = ""
    model: str = ""
    finish_reason: str | None = None
    retries: int = 0
    cut_reason: str | None = None
    """Why the reply is incomplete, in words, when finish_reason is "length": the server's cap
    ("cut off at max_tokens 2048") or the client's runaway stop ("stopped: the reply repeated the
    same 2 lines 12 times")."""
    trimmed: str | None = None
    """What was left out of the prompt to fit the context window, when anything was."""


class LLMBackend(ABC):
    """Anything that can complete a request. Implementations are safe for concurrent awaits."""

    name: str
    model: str

    @abstractmethod
    async def complete(self, request: CompletionRequest) -> Completion:
        """Answer one request, or raise a BackendError subclass with one clear sentence."""

    def describe(self) -> str:
        """One line saying plainly what this backend is (for doctor, logs and reports)."""
        return f"{getattr(self, 'name', type(self).__name__)} (model {getattr(self, 'model', '?')})"

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
