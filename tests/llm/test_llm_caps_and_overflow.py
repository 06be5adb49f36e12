"""Reply caps on every request and context overflows that keep the server's numbers (issue 14)."""

from __future__ import annotations

import pytest

from veriloop.config import BackendConfig
from veriloop.errors import ContextTooLong
from veriloop.llm.caps import DEFAULT_MAX_TOKENS, cap_key, reply_cap, retry_sampling
from veriloop.llm.contract import CompletionRequest, Message
from veriloop.llm.openai_backend import OpenAIBackend, context_overflow_numbers
from veriloop.testing.fake_openai import FakeOpenAIServer, Reply, backend_fields

# Recorded from llama.cpp (xllamacpp) started with a 1,024-token context (ctx1k-design cassette).
LLAMA_CPP = "request (1047 tokens) exceeds the available context size (1024 tokens), try increasing it"


def _backend(server: FakeOpenAIServer, **fields: object) -> OpenAIBackend:
    cfg = BackendConfig(**{**backend_fields(server), "retries": 0, **fields})  # type: ignore[arg-type]
    return OpenAIBackend("fake", cfg)


def _req(task: str, **kw: object) -> CompletionRequest:
    return CompletionRequest(messages=[Message(role="user", content="hi")], task=task, **kw)  # type: ignore[arg-type]


def test_cap_lookup() -> None:
    assert cap_key("design.testbench") == "testbench" and cap_key("evolve.rewrite") == "evolve"
    assert reply_cap("design.plan") == DEFAULT_MAX_TOKENS["planner"]
    assert reply_cap("design.fix", {"fix": 900}) == 900
    assert reply_cap("design.fix", {"design.fix": 800, "fix": 900}) == 800
    assert reply_cap("something.else") == DEFAULT_MAX_TOKENS["chat"]
    assert retry_sampling(0.2, 5, 0) == (0.2, 5)
    t1, s1 = retry_sampling(0.2, 5, 1)
    t2, s2 = retry_sampling(0.2, 5, 2)
    assert 0.2 < t1 < t2 <= 1.0 and len({5, s1, s2}) == 3


@pytest.mark.parametrize(
    ("task", "key"),
    [("design.plan", "planner"), ("design.architect", "architect"), ("design.rtl", "generator"),
     ("design.testbench", "testbench"), ("design.fix", "fix"), ("evolve.edit", "evolve")],
)
async def test_every_task_sends_its_cap(fake_openai: FakeOpenAIServer, task: str, key: str) -> None:
    await _backend(fake_openai).complete(_req(task))
    assert fake_openai.requests[-1]["max_tokens"] == DEFAULT_MAX_TOKENS[key]
    await _backend(fake_openai, max_tokens={key: 321}).complete(_req(task))
    assert fake_openai.requests[-1]["max_tokens"] == 321
    await _backend(fake_openai, reasoning=True).complete(_req(task))
    body = fake_openai.requests[-1]
    assert body["max_completion_tokens"] == DEFAULT_MAX_TOKENS[key] and "max_tokens" not in body


async def test_cut_off_reply_keeps_finish_reason(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Reply(content="```verilog\nmodule tb;\n  reg clk;\n", finish_reason="length"))
    out = await _backend(fake_openai).complete(_req("design.testbench"))
    assert out.finish_reason == "length" and out.text.startswith("```verilog")


def test_overflow_numbers_in_three_wordings() -> None:
    assert context_overflow_numbers(LLAMA_CPP) == (1047, 1024)
    vllm = ("This model's maximum context length is 4096 tokens. However, you requested 5000 tokens "
            "(4000 in the messages, 1000 in the completion).")
    assert context_overflow_numbers(vllm) == (5000, 4096)
    openai_msg = ("This model's maximum context length is 8192 tokens. However, your messages resulted in "
                  "9000 tokens.")
    assert context_overflow_numbers(openai_msg) == (9000, 8192)
    assert context_overflow_numbers("something else") is None


async def test_llama_cpp_overflow_is_a_context_error_with_numbers(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Reply(status=400, error_code="exceed_context_size_error", error_message=LLAMA_CPP))
    with pytest.raises(ContextTooLong) as err:
        await _backend(fake_openai).complete(_req("design.architect"))
    assert "1047 prompt tokens; the context holds 1024" in err.value.message
    assert LLAMA_CPP in (err.value.hint or "")


async def test_context_window_lowers_the_cap_or_refuses_early(fake_openai: FakeOpenAIServer) -> None:
    backend = _backend(fake_openai, context_tokens=1024)
    words = "assign y = sel ? b : a; " * 60  # ~1,440 characters: about 480 estimated tokens
    await backend.complete(
        CompletionRequest(messages=[Message(role="user", content=words)], task="design.testbench")
    )
    sent = fake_openai.requests[-1]["max_tokens"]
    assert 64 <= sent < DEFAULT_MAX_TOKENS["testbench"] and sent <= 1024 - 480
    before = fake_openai.request_count
    huge = CompletionRequest(messages=[Message(role="user", content=words * 5)], task="design.rtl")
    with pytest.raises(ContextTooLong) as err:
        await backend.complete(huge)
    assert "the context holds 1024" in err.value.message and fake_openai.request_count == before
