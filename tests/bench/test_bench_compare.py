"""Two backends × two agent configurations in one run: one report with all four side by side."""

from __future__ import annotations

import json
from typing import Any

import pytest

from veriloop.bench.suites import load_suite
from veriloop.testing.fake_openai import FakeOpenAIServer, Reply

from .conftest import VEV2_FIXTURE, run_cli, run_json, wrong_design

PROBLEMS = ("Prob001_and2", "Prob002_inv")


def _text(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content") or "") for m in body.get("messages", []))


def test_two_backends_two_configs_one_report(fake_openai: FakeOpenAIServer, bench_toml: Any) -> None:
    problems = [p for p in load_suite("verilog-eval", VEV2_FIXTURE).problems if p.id in PROBLEMS]

    def responder(body: dict[str, Any]) -> Reply | str:
        system = str(body["messages"][0].get("content") or "").lower()
        p = next(p for p in problems if p.spec in _text(body))
        if "planner agent" in system:
            plan = {"feasible": True, "top": "TopModule", "summary": p.spec[:80],
                    "modules": [{"name": "TopModule", "purpose": "the whole design", "ports": [],
                                 "depends_on": []}],
                    "interfaces": [], "verification_plan": ["the given testbench"], "acceptance": ["passes"]}
            return "```json\n" + json.dumps(plan) + "\n```"
        if "architect agent" in system:
            return '```json\n{"order": ["TopModule"], "choices": []}\n```'
        good = body["model"] == "model-a"  # backend a answers right, backend b compiles but is wrong
        return "```verilog\n" + (p.golden if good else wrong_design(p.golden)) + "\n```"

    fake_openai.responder = responder
    fake_openai.models = ["model-a", "model-b"]
    bench_toml(a=(fake_openai, "model-a"), b=(fake_openai, "model-b"))
    report = run_json("bench", "run", "--suite", "verilog-eval", "--path", str(VEV2_FIXTURE),
                      "--problems", "Prob00[12]_*", "--backend", "a", "--backend", "b",
                      "--config", "single-shot", "--config", "oracle-tb", "--max-iters", "2")
    groups = {(g["backend"], g["config"]): g for g in report["groups"]}
    assert set(groups) == {("a", "single-shot"), ("a", "oracle-tb"), ("b", "single-shot"), ("b", "oracle-tb")}
    for (backend, config), g in groups.items():
        assert g["samples"] == 2 and g["mode"] == config
        assert g["model"] == f"model-{backend}"
        assert g["prompt_tokens"] > 0 and g["cost_usd"] > 0
        assert "harness_error" not in g["categories"] and "backend_error" not in g["categories"]
    assert groups[("a", "single-shot")]["pass_at"]["1"] == pytest.approx(1.0)
    assert groups[("b", "single-shot")]["pass_at"]["1"] == pytest.approx(0.0)
    assert groups[("b", "single-shot")]["categories"] == {"mismatch": 2}
    assert groups[("a", "oracle-tb")]["pass_at"]["1"] == pytest.approx(1.0)
    assert groups[("b", "oracle-tb")]["pass_at"]["1"] == pytest.approx(0.0)
    # the design graph ran its agents on the fake server: VerilogEval specs list the top's ports, so the
    # plan comes from the spec (no planner call) and the RTL generator agent writes the design
    systems = {str(b["messages"][0].get("content"))[:40] for b in fake_openai.requests}
    assert any("RTL generator agent" in s for s in systems)
    assert not any("planner agent" in s for s in systems)

    # the same run renders side by side in every format
    run_id = report["run_id"]
    md = run_cli("bench", "report", run_id, "--format", "md")
    assert md.exit_code == 0
    rows = [ln for ln in md.stdout.splitlines() if ln.startswith("| a |") or ln.startswith("| b |")]
    assert len(rows) == 4
    table = run_cli("bench", "report", run_id)
    assert table.exit_code == 0 and "oracle-tb" in table.stdout and "single-shot" in table.stdout
    html = run_cli("bench", "report", run_id, "--format", "html", "--out", "r.html")
    assert html.exit_code == 0
    from pathlib import Path

    page = Path("r.html").read_text()
    assert page.count("data:image/png;base64,") == 3 and "http://" not in page and "https://" not in page
    for label in ("a / single-shot", "a / oracle-tb", "b / single-shot", "b / oracle-tb"):
        assert label in page or label.replace(" / ", "</td><td>") in page
