"""`bench compare` of two runs made with different backends: real differences, whole run ids."""

from __future__ import annotations

from typing import Any

import pytest

from veriloop.bench.suites import load_suite
from veriloop.testing.fake_openai import FakeOpenAIServer

from .conftest import VEV2_FIXTURE, run_cli, run_json, wrong_design


def test_compare_runs_of_different_backends(fake_openai: FakeOpenAIServer, bench_toml: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    problems = [p for p in load_suite("verilog-eval", VEV2_FIXTURE).problems if p.id < "Prob004"]

    def responder(body: dict[str, Any]) -> str:
        p = next(p for p in problems if p.spec in str(body["messages"][-1]["content"]))
        good = body["model"] == "model-a" or p.id == "Prob001_and2"  # b gets only the first right
        return "```verilog\n" + (p.golden if good else wrong_design(p.golden)) + "\n```"

    fake_openai.responder = responder
    fake_openai.models = ["model-a", "model-b"]
    bench_toml(a=(fake_openai, "model-a"), b=(fake_openai, "model-b"))
    common = ("bench", "run", "--suite", "verilog-eval", "--path", str(VEV2_FIXTURE),
              "--problems", "Prob00[1-3]_*")
    ra = run_json(*common, "--backend", "a")["run_id"]
    rb = run_json(*common, "--backend", "b")["run_id"]

    monkeypatch.setenv("COLUMNS", "80")
    res = run_cli("bench", "compare", ra, rb)
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert f"A = {ra}" in out and f"B = {rb}" in out  # whole ids, on lines of their own
    assert "a/single-shot" in out and "b/single-shot" in out
    assert "-66.7 pt" in out and "3/1" in out
    assert "solved only by A: Prob002_inv, Prob003_xor2" in out
    data = run_json("bench", "compare", ra, rb)
    (pair,) = data["groups"]
    assert pair["pass1_delta"] == pytest.approx(-2 / 3)
    assert pair["only_a_solved"] == ["Prob002_inv", "Prob003_xor2"] and pair["only_b_solved"] == []
