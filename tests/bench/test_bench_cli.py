"""CLI behaviour: bad input is one sentence before any run exists; report/compare/runs integration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from veriloop import runstore
from veriloop.bench import runs as bench_runs
from veriloop.config import load_settings
from veriloop.errors import BackendAuthError, BackendUnreachable, ConfigError, InputError, ModelNotFound
from veriloop.testing.fake_openai import FakeOpenAIServer

from .conftest import RTLLM_FIXTURE, VEV2_FIXTURE, run_cli, run_json


def test_bad_input_fails_before_a_run_is_created(tmp_path: Path) -> None:
    res = run_cli("bench", "run", "--suite", "verilog-eval", "--path", str(tmp_path / "missing"),
                  "--backend", "reference")
    assert isinstance(res.exception, InputError) and "does not exist" in str(res.exception)
    res = run_cli("bench", "run", "--suite", "rtllm", "--path", str(RTLLM_FIXTURE), "--backend", "nope")
    assert isinstance(res.exception, ConfigError) and "Unknown backend 'nope'" in str(res.exception)
    res = run_cli("bench", "run", "--suite", "rtllm", "--path", str(RTLLM_FIXTURE), "--backend", "reference",
                  "--problems", "zzz*")
    assert isinstance(res.exception, InputError) and "matches" in str(res.exception)
    res = run_cli("bench", "run", "--suite", "rtllm", "--path", str(RTLLM_FIXTURE), "--backend", "offline",
                  "--config", "chain-of-thought")
    assert isinstance(res.exception, InputError) and "chain-of-thought" in str(res.exception)
    assert runstore.list_runs(load_settings().data_path) == []


def test_unusable_backends_are_refused_before_a_run_is_created(bench_toml: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_KEY", "k")
    with FakeOpenAIServer() as live:
        dead = FakeOpenAIServer().start()
        dead.stop()  # its port is now closed
        bench_toml(dead=dead, wrong=(live, "no-such-model"), ok=live)
        base = ("bench", "run", "--suite", "rtllm", "--path", str(RTLLM_FIXTURE))
        res = run_cli(*base, "--backend", "dead")
        assert isinstance(res.exception, BackendUnreachable) and "unreachable" in str(res.exception)
        res = run_cli(*base, "--backend", "ok", "--backend", "wrong")
        assert isinstance(res.exception, ModelNotFound) and "no-such-model" in str(res.exception)
        monkeypatch.delenv("FAKE_KEY")
        res = run_cli(*base, "--backend", "ok")
        assert isinstance(res.exception, BackendAuthError) and "FAKE_KEY" in str(res.exception)
        assert live.request_count == 0
    assert runstore.list_runs(load_settings().data_path) == []


def test_report_formats_compare_and_runs_protocol(tmp_path: Path) -> None:
    a = run_json("bench", "run", "--suite", "rtllm", "--path", str(RTLLM_FIXTURE), "--backend", "reference")
    b = run_json("bench", "run", "--suite", "verilog-eval", "--path", str(VEV2_FIXTURE), "--backend",
                 "reference", "--problems", "Prob00[1-4]_*")
    js = run_cli("bench", "report", a["run_id"], "--format", "json")
    assert js.exit_code == 0 and json.loads(js.stdout)["groups"][0]["solved"] == 2
    bad = run_cli("bench", "report", a["run_id"], "--format", "pdf")
    assert isinstance(bad.exception, InputError)
    cmp_ = run_cli("bench", "compare", a["run_id"], b["run_id"], "--json")
    data: dict[str, Any] = json.loads(cmp_.stdout)
    (row,) = data["groups"]
    assert row["a"]["problems"] == 2 and row["b"]["problems"] == 4
    table = run_cli("bench", "compare", a["run_id"], b["run_id"])
    assert table.exit_code == 0 and "pass@1" in table.stdout

    rec = runstore.load_run(load_settings().data_path, a["run_id"])
    shown = bench_runs.show(rec)
    assert shown["samples"] == 2 and shown["groups"][0]["pass_at"]["1"] == 1.0
    paths = bench_runs.export(rec, tmp_path / "export")
    names = {p.name for p in paths}
    assert {"results.sqlite", "samples.jsonl", "report.html", "report.md", "report.json"} <= names
    lines = (tmp_path / "export" / "samples.jsonl").read_text().splitlines()
    assert len(lines) == 2 and "module" in json.loads(lines[0])["code"]
    resumed = bench_runs.resume(rec, load_settings())
    assert resumed.status == "done"

    listing = run_cli("runs", "show", a["run_id"], "--json")
    assert listing.exit_code == 0, listing.output
