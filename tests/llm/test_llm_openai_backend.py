"""The openai backend end to end: real openai SDK -> fake HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

import pytest

from veriloop.config import load_settings
from veriloop.errors import (
    BackendAuthError,
    BackendError,
    BackendUnreachable,
    ContextTooLong,
    MalformedReply,
    ModelNotFound,
)
from veriloop.llm import complete_sync, get_backend
from veriloop.llm.contract import CompletionRequest, Message, ToolCall, ToolSpec
from veriloop.testing.fake_openai import FakeOpenAIServer, Reply, write_config
from veriloop.testing.llm import fake_backend, user_request


def one_sentence(err: Exception) -> None:
    msg = str(err)
    assert msg.endswith(".") and "\n" not in msg and "Traceback" not in msg
    assert msg.count(". ") == 0, msg


async def test_concurrency_is_bounded_and_waves_take_about_seven_latencies(
    fake_openai: FakeOpenAIServer,
) -> None:
    latency = 0.3
    fake_openai.latency_s = latency
    backend = fake_backend(fake_openai, max_concurrency=8)
    # Baseline in the same run: one full wave of 8 jobs, timed after a first wave has opened the
    # connections (the machine's load then inflates the baseline and the 50 jobs alike).
    for _ in range(2):
        start = time.monotonic()
        await asyncio.gather(*(backend.complete(user_request(f"warm {i}")) for i in range(8)))
        one_wave = time.monotonic() - start
    fake_openai.reset()
    start = time.monotonic()
    results = await asyncio.gather(*(backend.complete(user_request(f"job {i}")) for i in range(50)))
    elapsed = time.monotonic() - start
    assert [r.text for r in results] == [f"fake reply to: job {i}" for i in range(50)]
    assert fake_openai.request_count == 50
    assert fake_openai.max_in_flight == 8  # reached, never exceeded
    # ceil(50 / 8) = 7 waves: never faster than 7 latencies allow, and about 7 baseline waves
    # (unbounded would be about 1 wave, one at a time 50): a behavioural ratio, not a perf target.
    assert elapsed >= 6 * latency, elapsed
    assert 5.0 <= elapsed / one_wave < 10.0, (elapsed, one_wave)
    snap = backend.ledger.snapshot()
    assert snap.calls == 66 and snap.retries == 0
    await backend.aclose()


async def test_two_backend_objects_for_one_config_share_the_bound(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.latency_s = 0.25  # long enough that a loaded machine still fills all 3 slots
    a = fake_backend(fake_openai, max_concurrency=3)
    b = fake_backend(fake_openai, max_concurrency=3)
    await asyncio.gather(*(x.complete(user_request(f"q{i}")) for i in range(12) for x in (a, b)))
    assert fake_openai.request_count == 24 and fake_openai.max_in_flight == 3


async def test_429_with_retry_after_is_retried_after_the_wait(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Reply(status=429, retry_after=1), "ok now")
    backend = fake_backend(fake_openai)
    start = time.monotonic()
    out = await backend.complete(user_request("hello"))
    elapsed = time.monotonic() - start
    assert out.text == "ok now"
    assert out.retries == 1
    assert elapsed >= 1.0
    assert fake_openai.request_count == 2
    snap = backend.ledger.snapshot()
    assert (snap.calls, snap.retries, snap.failures) == (1, 1, 0)


async def test_retry_after_ms_is_honoured(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Reply(status=429, retry_after_ms=400), "ok")
    backend = fake_backend(fake_openai)
    start = time.monotonic()
    assert (await backend.complete(user_request("x"))).text == "ok"
    assert time.monotonic() - start >= 0.4


async def test_500_then_success(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Reply(status=500), Reply(status=503), "recovered")
    out = await fake_backend(fake_openai, retries=3).complete(user_request("x"))
    assert (out.text, out.retries) == ("recovered", 2)


async def test_timeout_then_success(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Reply(hang=True), "after the hang")
    backend = fake_backend(fake_openai, timeout_s=0.5)
    start = time.monotonic()
    out = await backend.complete(user_request("x"))
    assert out.text == "after the hang" and out.retries == 1
    assert time.monotonic() - start >= 0.5


async def test_exhausted_retries_give_one_sentence(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(*[Reply(status=500)] * 3)
    backend = fake_backend(fake_openai, retries=2)
    with pytest.raises(BackendError) as err:
        await backend.complete(user_request("x"))
    assert "3 attempts" in str(err.value) and "'fake'" in str(err.value)
    one_sentence(err.value)
    assert fake_openai.request_count == 3
    snap = backend.ledger.snapshot()
    assert (snap.calls, snap.failures, snap.retries) == (0, 1, 2)

    fake_openai.enqueue(*[Reply(hang=True)] * 2)
    with pytest.raises(BackendUnreachable) as unreachable:
        await fake_backend(fake_openai, retries=1, timeout_s=0.3).complete(user_request("x"))
    one_sentence(unreachable.value)
    assert "did not answer" in str(unreachable.value)


async def test_unreachable_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_KEY", "k")
    srv = FakeOpenAIServer().start()
    url = srv.base_url
    srv.stop()  # nothing listens on that port any more
    backend = fake_backend(srv, retries=1)
    with pytest.raises(BackendUnreachable) as err:
        await backend.complete(user_request("x"))
    assert url in str(err.value) and "connection refused" in str(err.value)
    assert err.value.hint and "veriloop doctor" in err.value.hint
    one_sentence(err.value)


async def test_costs_are_exact_to_the_cent(fake_openai: FakeOpenAIServer) -> None:
    # 40 calls of 123457 prompt + 98765 completion tokens at $3 / $15 per million tokens.
    fake_openai.enqueue(*[Reply(content="x", prompt_tokens=123457, completion_tokens=98765)] * 40)
    backend = fake_backend(fake_openai, price_in_per_mtok=3.0, price_out_per_mtok=15.0, max_concurrency=4)
    outs = await asyncio.gather(*(backend.complete(user_request(f"q{i}")) for i in range(40)))
    per_call = Decimal("0.370371") + Decimal("1.481475")
    assert all(o.cost_usd == float(per_call) for o in outs)
    snap = backend.ledger.snapshot()
    assert Decimal(snap.cost_usd_exact) == per_call * 40 == Decimal("74.07384")
    assert backend.ledger.cost == Decimal("74.07384")
    assert round(snap.cost_usd, 2) == 74.07
    assert (snap.prompt_tokens, snap.completion_tokens) == (123457 * 40, 98765 * 40)
    [line] = snap.by_backend
    assert (line.backend, line.model, line.calls) == ("fake", "fake-model", 40)


async def test_malformed_truncated_and_empty_replies(fake_openai: FakeOpenAIServer) -> None:
    backend = fake_backend(fake_openai, retries=0)
    for bad, words in [
        (Reply(malformed=True), "not valid JSON"),
        (Reply(truncated=True), "closed in the middle"),
        (Reply(empty=True), "no choices"),
        (Reply(content=""), "empty"),
    ]:
        fake_openai.enqueue(bad)
        with pytest.raises(MalformedReply) as err:
            await backend.complete(user_request("x"))
        assert words in str(err.value)
        one_sentence(err.value)
    # Out of tokens: retrying the same request cannot help, so it fails at once.
    fake_openai.enqueue(Reply(content="", finish_reason="length"), "never reached")
    before = fake_openai.request_count
    with pytest.raises(MalformedReply) as length:
        await fake_backend(fake_openai, retries=2).complete(user_request("x"))
    assert "finish_reason=length" in str(length.value) and fake_openai.request_count == before + 1
    fake_openai.reset()
    # Transient: a malformed reply followed by a good one succeeds with one retry.
    fake_openai.enqueue(Reply(malformed=True), "fine")
    out = await fake_backend(fake_openai, retries=1).complete(user_request("x"))
    assert (out.text, out.retries) == ("fine", 1)


async def test_bad_key_names_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_LLM_KEY", "wrong")
    with FakeOpenAIServer(api_key="right") as srv:
        with pytest.raises(BackendAuthError) as err:
            await fake_backend(srv, api_key_env="MY_LLM_KEY").complete(user_request("x"))
        assert "MY_LLM_KEY" in str(err.value) and "401" in str(err.value)
        one_sentence(err.value)
        assert srv.request_count == 1  # not retried
        monkeypatch.setenv("MY_LLM_KEY", "right")
        out = await fake_backend(srv, api_key_env="MY_LLM_KEY").complete(user_request("x"))
        assert out.text.startswith("fake reply")
        assert srv.headers[-1]["authorization"] == "Bearer right"


def test_missing_key_variable_fails_before_any_call(tmp_path: Path, fake_openai: FakeOpenAIServer) -> None:
    write_config(tmp_path, fake_openai, api_key_env="NOT_SET_ANYWHERE_KEY")
    with pytest.raises(BackendAuthError) as err:
        get_backend(load_settings(), "fake")
    assert "NOT_SET_ANYWHERE_KEY" in str(err.value) and "not set" in str(err.value)
    assert fake_openai.request_count == 0


async def test_model_not_found_and_context_too_long(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_KEY", "k")
    with FakeOpenAIServer(serve_models=["other-model"]) as srv:
        with pytest.raises(ModelNotFound) as nf:
            await fake_backend(srv).complete(user_request("x"))
        assert "fake-model" in str(nf.value)
        one_sentence(nf.value)
        backend = fake_backend(srv, model="other-model")
        srv.enqueue(Reply(status=400))
        with pytest.raises(ContextTooLong) as ctx:
            await backend.complete(user_request("x"))
        one_sentence(ctx.value)
        assert ctx.value.hint and "maximum context length" in ctx.value.hint
        assert srv.request_count == 2


async def test_tool_calling_roundtrip(fake_openai: FakeOpenAIServer) -> None:
    lint = ToolSpec(
        name="lint",
        description="Lint a file",
        parameters={"type": "object", "properties": {"file": {"type": "string"}}, "required": ["file"]},
    )
    fake_openai.enqueue(Reply(content=None, tool_calls=[{"name": "lint", "arguments": {"file": "top.v"}}]))
    backend = fake_backend(fake_openai)
    out = await backend.complete(
        CompletionRequest(messages=[Message(role="user", content="lint it")], tools=[lint])
    )
    assert out.text == "" and out.finish_reason == "tool_calls"
    [call] = out.tool_calls
    assert (call.name, call.arguments) == ("lint", {"file": "top.v"})
    sent = fake_openai.requests[-1]
    assert sent["tools"] == [{"type": "function", "function": lint.model_dump()}]

    # The conversation goes back with the assistant's call and the tool's answer.
    follow = CompletionRequest(
        messages=[
            Message(role="user", content="lint it"),
            Message(role="assistant", tool_calls=[call]),
            Message(role="tool", tool_call_id=call.id, content="0 warnings"),
        ],
        tools=[lint],
    )
    await backend.complete(follow)
    msgs = fake_openai.requests[-1]["messages"]
    assert msgs[1]["tool_calls"][0]["function"] == {"name": "lint", "arguments": call.raw_arguments}
    assert msgs[2] == {"role": "tool", "content": "0 warnings", "tool_call_id": call.id}

    fake_openai.enqueue(Reply(tool_calls=[{"name": "lint", "arguments": '{"file": "top.v"'}]))
    with pytest.raises(MalformedReply) as err:
        await backend.complete(follow)
    assert "lint" in str(err.value)


async def test_sampling_parameters_seed_and_reasoning(fake_openai: FakeOpenAIServer) -> None:
    req = user_request(
        "x",
        temperature=0.2,
        max_tokens=50,
        seed=7,
        stop=["END"],
        task="design.rtl",
        context={"secret_plan": 1},
    )
    await fake_backend(fake_openai).complete(req)
    body = fake_openai.requests[-1]
    assert (body["temperature"], body["max_tokens"], body["seed"], body["stop"]) == (0.2, 50, 7, ["END"])
    assert "context" not in body and "task" not in body and "secret_plan" not in str(body)

    await fake_backend(fake_openai, reasoning=True, extra_body={"reasoning_effort": "low"}).complete(req)
    body = fake_openai.requests[-1]
    assert body["max_completion_tokens"] == 50 and body["reasoning_effort"] == "low"
    assert "max_tokens" not in body and "temperature" not in body and body["seed"] == 7


def test_one_backend_serves_several_event_loops(fake_openai: FakeOpenAIServer) -> None:
    backend = fake_backend(fake_openai)
    first = complete_sync(backend, user_request("one"))
    second = asyncio.run(backend.complete(user_request("two")))
    assert (first.text, second.text) == ("fake reply to: one", "fake reply to: two")
    assert backend.ledger.snapshot().calls == 2


async def test_cancelled_calls_free_their_slots(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.latency_s = 0.3
    backend = fake_backend(fake_openai, max_concurrency=2)
    tasks = [asyncio.create_task(backend.complete(user_request(f"c{i}"))) for i in range(6)]
    await asyncio.sleep(0.1)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert backend.limiter.in_use == 0
    fake_openai.latency_s = 0.0
    out = await asyncio.wait_for(backend.complete(user_request("after")), timeout=5)
    assert out.text == "fake reply to: after"


def test_tool_call_model_roundtrips_raw_arguments() -> None:
    call = ToolCall(id="c1", name="f", arguments={"a": 1}, raw_arguments='{"a": 1}')
    assert Message(role="assistant", tool_calls=[call]).tool_calls[0].raw_arguments == '{"a": 1}'
