"""Cassettes: record through the fake server, replay with the server stopped."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from veriloop.config import load_settings
from veriloop.errors import CassetteMiss, ContextTooLong, InputError
from veriloop.llm import get_backend
from veriloop.llm.replay import RecordingBackend, ReplayBackend
from veriloop.testing.fake_openai import FakeOpenAIServer, Reply, write_config
from veriloop.testing.llm import user_request


def _counter_responder() -> object:
    n = {"i": 0}

    def responder(body: dict) -> Reply:
        n["i"] += 1
        return Reply(
            content=f"answer {n['i']} to {body['messages'][-1]['content']}", prompt_tokens=10 * n["i"]
        )

    return responder


async def test_record_then_replay_with_server_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_KEY", "k")
    cassette = tmp_path / "run.jsonl"
    prompts = ["make an adder", "make a fifo", "make an adder", "make an adder"]  # duplicates: samples
    with FakeOpenAIServer(responder=_counter_responder()) as srv:  # type: ignore[arg-type]
        write_config(tmp_path, srv, price_in_per_mtok=1.0, price_out_per_mtok=2.0)
        settings = load_settings()
        recorder = get_backend(settings, "fake", record=cassette)
        assert isinstance(recorder, RecordingBackend)
        recorded = [await recorder.complete(user_request(p, task="design.rtl", seed=1)) for p in prompts]
        await recorder.aclose()
    assert not srv.running
    assert len(cassette.read_text().splitlines()) == 4
    assert len({c.text for c in recorded}) == 4  # every sample answered differently

    replay = get_backend(settings, f"replay:{cassette}")
    assert isinstance(replay, ReplayBackend) and replay.model == "fake-model"
    replayed = [await replay.complete(user_request(p, task="design.rtl", seed=1)) for p in prompts]
    assert [c.model_dump() for c in replayed] == [c.model_dump() for c in recorded]
    assert replay.ledger.snapshot().cost_usd == pytest.approx(sum(c.cost_usd for c in recorded))

    # A fourth sample of the adder prompt was never recorded: it fails clearly, naming the request.
    with pytest.raises(CassetteMiss) as miss:
        await replay.complete(user_request("make an adder", task="design.rtl", seed=1))
    msg = str(miss.value)
    assert (
        "design.rtl" in msg
        and '"make an adder"' in msg
        and "occurrence #4" in msg
        and "only 3 recorded" in msg
    )
    # A different prompt was never recorded at all.
    other = user_request("make a multiplier please", task="design.plan", seed=1)
    with pytest.raises(CassetteMiss) as miss2:
        await ReplayBackend(cassette).complete(other)
    assert "design.plan" in str(miss2.value) and "never recorded" in str(miss2.value)
    assert other.fingerprint("fake-model")[:12] in str(miss2.value)


async def test_concurrent_duplicates_replay_in_request_order(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.responder = _counter_responder()  # type: ignore[assignment]
    cassette = tmp_path / "c.jsonl"
    write_config(tmp_path, fake_openai)
    recorder = get_backend(load_settings(), "fake", record=cassette)
    req = user_request("same prompt", temperature=0.8)
    recorded = await asyncio.gather(*(recorder.complete(req) for _ in range(5)))
    replay = ReplayBackend(cassette)
    replayed = await asyncio.gather(*(replay.complete(req) for _ in range(5)))
    assert [c.text for c in replayed] == [c.text for c in recorded]


async def test_recorded_errors_replay_as_the_same_error(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    cassette = tmp_path / "e.jsonl"
    write_config(tmp_path, fake_openai)
    recorder = get_backend(load_settings(), "fake", record=cassette)
    fake_openai.enqueue(Reply(status=400))
    with pytest.raises(ContextTooLong):
        await recorder.complete(user_request("huge"))
    with pytest.raises(ContextTooLong):
        await ReplayBackend(cassette).complete(user_request("huge"))


def test_missing_or_corrupt_cassette_is_reported(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        get_backend(load_settings(), f"replay:{tmp_path / 'nope.jsonl'}")
    assert "does not exist" in str(err.value)
    bad = tmp_path / "bad.jsonl"
    good_line = json.dumps({"fingerprint": "ab", "occurrence": 0, "completion": {"text": "t"}})
    bad.write_text("{broken\n" + good_line + "\n")
    with pytest.raises(InputError) as err2:
        ReplayBackend(bad)
    assert "line 1" in str(err2.value)
    # A last line cut short by a killed recording is tolerated.
    cut = tmp_path / "cut.jsonl"
    cut.write_text(good_line + "\n" + good_line[:10])
    assert len(ReplayBackend(cut)) == 1
