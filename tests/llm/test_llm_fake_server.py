"""The fake OpenAI server itself, driven through the real openai SDK."""

from __future__ import annotations

import tomllib
from pathlib import Path

import openai
import pytest

from veriloop.config import load_settings
from veriloop.testing.fake_openai import FakeOpenAIServer, Reply, hashed_embedding, write_config


def _client(srv: FakeOpenAIServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=srv.base_url, api_key="k", max_retries=0, timeout=5)


def test_script_then_responder_and_counters() -> None:
    seen: list[str] = []

    def responder(body: dict) -> Reply | str:
        seen.append(body["messages"][-1]["content"])
        return Reply(content="from responder", prompt_tokens=11, completion_tokens=7)

    with FakeOpenAIServer(responder=responder) as srv:
        srv.enqueue("scripted one", Reply(content="scripted two"))
        client = _client(srv)
        texts = []
        for i in range(3):
            r = client.chat.completions.create(
                model="fake-model", messages=[{"role": "user", "content": f"q{i}"}]
            )
            texts.append(r.choices[0].message.content)
        assert texts == ["scripted one", "scripted two", "from responder"]
        assert seen == ["q2"]
        assert srv.request_count == 3
        assert [b["messages"][0]["content"] for b in srv.requests] == ["q0", "q1", "q2"]
        assert r.usage is not None and (r.usage.prompt_tokens, r.usage.completion_tokens) == (11, 7)
        assert srv.max_in_flight == 1 and srv.in_flight == 0
        assert srv.pending == 0


def test_default_token_counts_are_deterministic() -> None:
    with FakeOpenAIServer() as srv:
        client = _client(srv)
        r = client.chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": "one two three"}]
        )
        assert r.choices[0].message.content == "fake reply to: one two three"
        assert r.usage is not None
        assert r.usage.prompt_tokens == 3 + 3  # 3 per message + 3 words
        assert r.usage.completion_tokens == 6  # "fake reply to: one two three"


def test_tool_calls_and_errors_are_openai_shaped() -> None:
    with FakeOpenAIServer() as srv:
        srv.enqueue(
            Reply(tool_calls=[{"name": "lint", "arguments": {"file": "a.v"}}]),
            Reply(status=429, retry_after=3),
            Reply(status=400),
        )
        client = _client(srv)
        msgs = [{"role": "user", "content": "x"}]
        r = client.chat.completions.create(model="fake-model", messages=msgs)  # type: ignore[arg-type]
        call = r.choices[0].message.tool_calls[0]  # type: ignore[index]
        assert call.function.name == "lint" and call.function.arguments == '{"file": "a.v"}'  # type: ignore[union-attr]
        assert r.choices[0].finish_reason == "tool_calls"
        with pytest.raises(openai.RateLimitError) as rl:
            client.chat.completions.create(model="fake-model", messages=msgs)  # type: ignore[arg-type]
        assert rl.value.response.headers["retry-after"] == "3"
        with pytest.raises(openai.BadRequestError) as br:
            client.chat.completions.create(model="fake-model", messages=msgs)  # type: ignore[arg-type]
        assert br.value.code == "context_length_exceeded"


def test_models_embeddings_and_auth() -> None:
    with FakeOpenAIServer(models=["m1", "m2"], api_key="right", embedding_dim=32) as srv:
        good = openai.OpenAI(base_url=srv.base_url, api_key="right", max_retries=0, timeout=5)
        assert [m.id for m in good.models.list().data] == ["m1", "m2"]
        emb = good.embeddings.create(model="e", input=["adder carry chain", "adder carry chain", "fifo"])
        v0, v1, v2 = (d.embedding for d in emb.data)
        assert len(v0) == 32 and v0 == pytest.approx(v1)
        assert v0 == pytest.approx(hashed_embedding("adder carry chain", 32), abs=1e-6)
        assert v0 != pytest.approx(v2)
        assert srv.embedding_requests[0]["input"][2] == "fifo"
        plain = good.embeddings.create(model="e", input="fifo", encoding_format="float")
        assert plain.data[0].embedding == pytest.approx(v2, abs=1e-6)
        bad = openai.OpenAI(base_url=srv.base_url, api_key="wrong", max_retries=0, timeout=5)
        with pytest.raises(openai.AuthenticationError):
            bad.models.list()


def test_stop_closes_keepalive_connections() -> None:
    srv = FakeOpenAIServer().start()
    client = _client(srv)
    client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "a"}])
    srv.stop()
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "b"}])
    assert srv.request_count == 1


def test_write_config_points_a_backend_at_the_server(tmp_path: Path, fake_openai: FakeOpenAIServer) -> None:
    path = write_config(tmp_path, fake_openai, price_in_per_mtok=1.5, extra="[sandbox]\nwall_s = 5.0")
    data = tomllib.loads(path.read_text())
    assert data["backends"]["fake"]["base_url"] == fake_openai.base_url
    settings = load_settings()
    assert settings.default_backend == "fake"
    cfg = settings.backend("fake")
    assert cfg.kind == "openai" and cfg.price_in_per_mtok == 1.5 and cfg.api_key() == "sk-fake-test-key"
    assert settings.sandbox.wall_s == 5.0


def test_stream_requests_get_one_chunk_per_word_and_usage_on_request() -> None:
    with FakeOpenAIServer() as srv:
        srv.enqueue("streamed  text\nhere\n", Reply(tool_calls=[{"name": "f", "arguments": {"a": 1}}]))
        stream = _client(srv).chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": "s"}], stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
        parts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
        assert parts == ["streamed", "  text", "\nhere", "\n"] and srv.streamed == [4]
        assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
        assert chunks[-1].choices == [] and chunks[-1].usage is not None
        assert chunks[-1].usage.completion_tokens == 3  # words, as without streaming
        # Tool calls arrive in pieces (name first, arguments in two parts), as real servers send them.
        calls = [tc for c in _client(srv).chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": "s"}], stream=True
        ) if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
        assert calls[0].function.name == "f"
        assert "".join(tc.function.arguments or "" for tc in calls) == '{"a": 1}'


def test_stream_switches_props_and_max_model_len() -> None:
    props = {"default_generation_settings": {"n_ctx": 4096}}
    with FakeOpenAIServer(props=props, max_model_len=8192, stream_usage=False) as srv:
        srv.enqueue("no usage")
        chunks = list(_client(srv).chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": "s"}], stream=True,
            stream_options={"include_usage": True},
        ))
        assert all(c.usage is None for c in chunks)
        assert _client(srv).get("/models", cast_to=object)["data"][0]["max_model_len"] == 8192
        assert _client(srv).get(f"{srv.url}/props", cast_to=object) == props
        srv.streaming = False  # a server that ignores stream=True answers with plain JSON
        srv.enqueue("plain")
        raw = _client(srv).chat.completions.with_raw_response.create(
            model="fake-model", messages=[{"role": "user", "content": "s"}], stream=True
        )
        assert raw.headers["content-type"] == "application/json"
    with FakeOpenAIServer() as srv, pytest.raises(openai.NotFoundError):
        _client(srv).get(f"{srv.url}/props", cast_to=object)


def test_a_raising_responder_answers_500_and_keeps_the_message() -> None:
    def broken(body: dict) -> str:
        raise KeyError("missing")

    with FakeOpenAIServer(responder=broken) as srv:
        with pytest.raises(openai.InternalServerError):
            _client(srv).chat.completions.create(
                model="fake-model", messages=[{"role": "user", "content": "s"}]
            )
        assert srv.errors == ["KeyError: 'missing'"]
