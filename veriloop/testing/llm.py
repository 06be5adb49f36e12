"""Test conveniences for the LLM layer: a fast-retrying backend on the fake server, a request builder."""

from __future__ import annotations

from typing import Any

from veriloop.config import BackendConfig
from veriloop.llm.contract import CompletionRequest, Message
from veriloop.llm.ledger import UsageLedger
from veriloop.llm.openai_backend import OpenAIBackend
from veriloop.testing.fake_openai import FakeOpenAIServer, backend_fields


def fake_backend(
    server: FakeOpenAIServer, name: str = "fake", ledger: UsageLedger | None = None, **fields: Any
) -> OpenAIBackend:
    """An OpenAIBackend against `server` with millisecond backoff (retry tests stay quick).

    Fields override the [backends] defaults of `backend_fields` (api_key_env FAKE_KEY, timeout 10 s,
    retries 2, model fake-model); the key variable must be set (the `fake_openai` fixture does).
    """
    cfg = BackendConfig(**backend_fields(server, **fields))
    return OpenAIBackend(name, cfg, ledger, backoff_base_s=0.01, backoff_max_s=0.05)


def user_request(text: str, task: str = "chat", system: str | None = None, **kw: Any) -> CompletionRequest:
    """A CompletionRequest with one user message (and an optional system message)."""
    msgs = [Message(role="system", content=system)] if system else []
    msgs.append(Message(role="user", content=text))
    return CompletionRequest(messages=msgs, task=task, **kw)
