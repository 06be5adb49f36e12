"""The offline backend's dispatch, escalation routing, the ledger, and backend probes."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pytest

from veriloop.config import AgentsConfig, BackendConfig, Settings, load_settings
from veriloop.errors import BackendError, ConfigError
from veriloop.llm import get_backend, probe_backend
from veriloop.llm.contract import Completion, CompletionRequest
from veriloop.llm.ledger import UsageLedger, cost_of
from veriloop.llm.offline import OfflineBackend, register_offline_handler, unregister_offline_handler
from veriloop.llm.routing import Escalator, pick_backend
from veriloop.testing.fake_openai import FakeOpenAIServer, backend_fields
from veriloop.testing.llm import user_request


async def test_offline_dispatches_by_task_prefix() -> None:
    def answer(req: CompletionRequest) -> str:
        return f"width={req.context['width']}"

    async def answer_async(req: CompletionRequest) -> str:
        return "async " + req.task

    register_offline_handler("unittest.", answer)
    register_offline_handler("unittest.async.", answer_async)
    try:
        backend = get_backend(Settings(), "offline")
        assert isinstance(backend, OfflineBackend)
        out = await backend.complete(user_request("ignored", task="unittest.rtl", context={"width": 8}))
        assert (out.text, out.model, out.prompt_tokens, out.cost_usd) == ("width=8", "offline", 0, 0.0)
        assert (
            await backend.complete(user_request("", task="unittest.async.x"))
        ).text == "async unittest.async.x"
        assert "no LLM" in backend.describe()
        with pytest.raises(BackendError) as err:
            await backend.complete(user_request("hi", task="chat"))
        assert "'chat'" in str(err.value) and err.value.hint and "LLM backend" in err.value.hint
    finally:
        unregister_offline_handler("unittest.")
        unregister_offline_handler("unittest.async.")


def test_pick_backend_and_escalator() -> None:
    assert pick_backend("small", "big", 1, 2) == "small"
    assert pick_backend("small", "big", 2, 2) == "big"
    assert pick_backend("small", None, 9, 2) == "small"
    settings = Settings(agents=AgentsConfig(generator="small", escalate_to="big", escalate_after=2))
    esc = Escalator.for_agent(settings, "generator")
    assert esc.choose("alu") == "small"
    esc.record_failure("alu")
    assert esc.choose("alu") == "small"
    esc.record_failure("alu")
    assert esc.choose("alu") == "big" and esc.escalated("alu")
    assert esc.choose("fifo") == "small"  # counted per key
    esc.record_success("alu")
    assert esc.choose("alu") == "small"
    assert Escalator.for_agent(settings, "planner").primary == "offline"  # falls back to default_backend


def test_ledger_sums_exactly_under_threads() -> None:
    ledger = UsageLedger()
    cost = cost_of(1000, 500, 0.15, 0.6)
    assert cost == Decimal("0.00045")

    def work() -> None:
        for _ in range(1000):
            ledger.add(Completion(backend="b", model="m", prompt_tokens=1000, completion_tokens=500), cost)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ledger.add_failure("b", "m2", retries=3)
    snap = ledger.snapshot()
    assert snap.calls == 4000 and Decimal(snap.cost_usd_exact) == Decimal("1.80000")
    assert snap.total_tokens == 6_000_000 and (snap.failures, snap.retries) == (1, 3)
    assert [(x.model, x.calls) for x in snap.by_backend] == [("m", 4000), ("m2", 0)]


def test_probe_backends(fake_openai: FakeOpenAIServer, tmp_path: Path) -> None:
    ok, why = probe_backend(BackendConfig(**backend_fields(fake_openai)))
    assert ok and "fake-model listed" in why
    ok, why = probe_backend(BackendConfig(**backend_fields(fake_openai, model="gpt-9")))
    assert not ok and "does not list model gpt-9" in why
    ok, why = probe_backend(BackendConfig(**backend_fields(fake_openai, api_key_env="UNSET_KEY_VAR")))
    assert not ok and "UNSET_KEY_VAR" in why
    ok, why = probe_backend(BackendConfig(kind="offline"))
    assert ok and "no LLM" in why
    ok, why = probe_backend(BackendConfig(kind="replay", cassette=str(tmp_path / "x.jsonl")))
    assert not ok and "does not exist" in why
    cfg = BackendConfig(**backend_fields(fake_openai))
    fake_openai.stop()
    ok, why = probe_backend(cfg, timeout_s=1.0)
    assert not ok and "unreachable" in why


def test_get_backend_errors(tmp_path: Path) -> None:
    (tmp_path / "veriloop.toml").write_text('[backends.rp]\nkind = "replay"\n')
    settings = load_settings()
    with pytest.raises(ConfigError) as err:
        get_backend(settings, "rp")
    assert "cassette" in str(err.value)
    with pytest.raises(ConfigError):
        get_backend(settings, "nope")
    assert get_backend(settings).name == "offline"  # the default backend
