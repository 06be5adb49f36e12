"""The context window read from the server, and prompts trimmed by priority to fit it (issue 14)."""

from __future__ import annotations

import pytest

from veriloop.errors import ContextTooLong
from veriloop.llm.caps import DEFAULT_MAX_TOKENS
from veriloop.llm.contract import CompletionRequest, Droppable, Message, ToolCall
from veriloop.llm.fit import estimate_tokens, tool_exchanges, trim_to_fit
from veriloop.testing.fake_openai import FakeOpenAIServer
from veriloop.testing.llm import fake_backend

WORDS = "assign y = sel ? b : a; "  # 24 characters: 8 estimated tokens


def _req(content: str, task: str = "design.testbench", **kw: object) -> CompletionRequest:
    return CompletionRequest(messages=[Message(role="user", content=content)], task=task, **kw)  # type: ignore[arg-type]


def _gets(srv: FakeOpenAIServer, path: str) -> int:
    return sum(1 for method, p in srv.log if method == "GET" and p.startswith(path))


@pytest.mark.parametrize(
    "props",
    [{"default_generation_settings": {"n_ctx": 1024}, "total_slots": 1}, {"n_ctx": 1024}],
)
async def test_llama_cpp_props_window_lowers_the_cap_once_read(
    fake_openai: FakeOpenAIServer, props: dict
) -> None:
    fake_openai.props = props
    backend = fake_backend(fake_openai, retries=0)  # no context_tokens configured
    await backend.complete(_req(WORDS * 60))  # about 480 estimated prompt tokens
    sent = fake_openai.requests[-1]["max_tokens"]
    assert 64 <= sent <= 1024 - 480 and sent < DEFAULT_MAX_TOKENS["testbench"]
    await backend.complete(_req("short"))
    assert fake_openai.requests[-1]["max_tokens"] == 1024 - estimate_tokens(_req("short"))
    assert _gets(fake_openai, "/props") == 1  # read once per backend, then cached
    before = fake_openai.request_count
    with pytest.raises(ContextTooLong) as err:
        await backend.complete(_req(WORDS * 300))
    assert "the context holds 1024, as the server reports it" in err.value.message
    assert fake_openai.request_count == before  # refused before the call


async def test_vllm_max_model_len_is_the_window(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.max_model_len = 2048
    backend = fake_backend(fake_openai, retries=0)
    await backend.complete(_req(WORDS * 150))  # about 1,200 estimated tokens
    assert fake_openai.requests[-1]["max_tokens"] <= 2048 - 1200
    assert _gets(fake_openai, "/props") == 1 and _gets(fake_openai, "/v1/models") == 1


async def test_no_window_anywhere_leaves_the_cap_alone(fake_openai: FakeOpenAIServer) -> None:
    backend = fake_backend(fake_openai, retries=0)
    await backend.complete(_req(WORDS * 60))
    await backend.complete(_req(WORDS * 60))
    assert fake_openai.requests[-1]["max_tokens"] == DEFAULT_MAX_TOKENS["testbench"]
    assert _gets(fake_openai, "/props") == 1  # "unknown" is cached too


async def test_configured_window_wins_and_asks_nothing(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.props = {"n_ctx": 100000}
    await fake_backend(fake_openai, retries=0, context_tokens=1024).complete(_req(WORDS * 60))
    assert fake_openai.requests[-1]["max_tokens"] <= 1024 - 480 and _gets(fake_openai, "/props") == 0


async def test_retrieved_material_goes_first_and_the_call_succeeds(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.props = {"default_generation_settings": {"n_ctx": 1024}}
    library = "[1] (design, designlib/alu)\nmodule alu(input [7:0] a, b, output [7:0] y); " + WORDS * 90
    lesson = "- a lesson from an earlier run: " + WORDS * 10
    prompt = f"Spec: a 2-to-1 mux.\n\nExamples:\n{library}\n\nLessons:\n{lesson}\n\nWrite module mux."
    req = _req(prompt, droppable=[Droppable(text=library), Droppable(text=lesson, kind="lesson")])
    out = await fake_backend(fake_openai, retries=0).complete(req)
    sent = fake_openai.requests[-1]["messages"][0]["content"]
    assert "designlib/alu" not in sent and "Spec: a 2-to-1 mux." in sent and "Write module mux." in sent
    assert "(left out: the prompt did not fit the model's context window)" in sent
    assert lesson in sent  # the first part was enough: the lesson stays
    assert out.trimmed == f"left out 1 retrieved part ({len(library):,} characters)"
    assert fake_openai.requests[-1]["max_tokens"] >= 1024 // 2  # the reply keeps at least half the window
    # The same prompt with nothing marked droppable is refused before the call.
    before = fake_openai.request_count
    with pytest.raises(ContextTooLong):
        await fake_backend(fake_openai, retries=0).complete(_req(prompt + WORDS * 60))
    assert fake_openai.request_count == before


def _tool_loop(n: int, size: int) -> list[Message]:
    msgs = [Message(role="system", content="You are the generator."),
            Message(role="user", content="Write mux.")]
    for i in range(n):
        args = f'{{"code": "v{i}"}}'
        call = ToolCall(id=f"c{i}", name="lint", arguments={"code": f"v{i}"}, raw_arguments=args)
        msgs.append(Message(role="assistant", content=None, tool_calls=[call]))
        result = f"result {i}: " + WORDS * size
        msgs.append(Message(role="tool", tool_call_id=f"c{i}", name="lint", content=result))
    return msgs


async def test_older_tool_exchanges_go_after_retrieved_material(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.props = {"n_ctx": 1024}
    msgs = _tool_loop(4, 40)  # four exchanges of about 330 tokens each
    retrieved = "Library entry: " + WORDS * 20
    msgs[1] = Message(role="user", content=f"Write mux.\n{retrieved}")
    req = CompletionRequest(messages=msgs, task="design.rtl", droppable=[Droppable(text=retrieved)])
    out = await fake_backend(fake_openai, retries=0).complete(req)
    sent = fake_openai.requests[-1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool"]
    assert sent[-1]["content"].startswith("result 3:") and sent[2]["tool_calls"][0]["id"] == "c3"
    assert "Library entry" not in sent[1]["content"]
    said = f"left out 1 retrieved part ({len(retrieved):,} characters) and 3 older tool exchanges"
    assert out.trimmed == said


def test_trim_is_a_no_op_when_the_prompt_fits_and_keeps_the_last_exchange() -> None:
    req = CompletionRequest(messages=_tool_loop(3, 40), droppable=[Droppable(text="not in any message")])
    assert trim_to_fit(req, 10**6) == (req, None)
    trimmed, note = trim_to_fit(req, 10)  # cannot fit: everything droppable goes, the last exchange stays
    assert tool_exchanges(trimmed.messages) == [(2, 4)] and note == "left out 2 older tool exchanges"
    assert req.messages != trimmed.messages and len(req.messages) == 8  # the caller's request is unchanged
    assert req.fingerprint("m") == CompletionRequest(messages=req.messages).fingerprint("m")
