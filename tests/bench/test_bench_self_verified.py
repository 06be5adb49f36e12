"""self-verified: the agents never see the bench's testbench or reference; it grades once at the end."""

from __future__ import annotations

import json
from typing import Any

import pytest

from veriloop.bench.suites import load_suite
from veriloop.testing.fake_openai import FakeOpenAIServer, Reply

from .conftest import VEV2_FIXTURE, run_json

OWN_TB = """```verilog
module tb;
  reg a;
  wire y;
  integer errors = 0, total = 0, i;
  TopModule dut (.a(a), .y(y));
  initial begin
    for (i = 0; i < 8; i = i + 1) begin
      a = i[0]; #1; total = total + 1;
      if (y !== ~a) errors = errors + 1;
    end
    $display("Mismatches: %0d in %0d samples", errors, total);
    $finish;
  end
endmodule
```"""


@pytest.mark.parametrize("style", ["auto", "llm"])
def test_self_verified_agents_build_their_own_checks(
    fake_openai: FakeOpenAIServer, bench_toml: Any, style: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """auto: veriloop's scaffold around the agent's reference model; llm: the agent's whole testbench."""
    monkeypatch.setenv("VERILOOP_AGENTS__TESTBENCH", style)
    (prob,) = [p for p in load_suite("verilog-eval", VEV2_FIXTURE).problems if p.id == "Prob002_inv"]

    def responder(body: dict[str, Any]) -> Reply | str:
        system = str(body["messages"][0].get("content") or "").lower()
        if "planner agent" in system:
            return "```json\n" + json.dumps({
                "feasible": True, "top": "TopModule", "summary": "inverter",
                "modules": [{"name": "TopModule", "purpose": "y = ~a", "ports": ["input a", "output y"]}],
                "verification_plan": ["exhaustive"], "acceptance": ["passes"]}) + "\n```"
        if "architect agent" in system:
            return '```json\n{"order": ["TopModule"], "choices": []}\n```'
        if "verifier agent" in system and "reference model" in system:
            model = prob.golden.replace("module TopModule", "module TopModule_expected")
            return "```verilog\n" + model + "\n```"
        if "verifier agent" in system:
            return OWN_TB
        return "```verilog\n" + prob.golden + "\n```"

    fake_openai.responder = responder
    fake_openai.models = ["model-a"]
    bench_toml(a=(fake_openai, "model-a"))
    report = run_json("bench", "run", "--suite", "verilog-eval", "--path", str(VEV2_FIXTURE),
                      "--problems", "Prob002_inv", "--backend", "a", "--config", "self-verified",
                      "--max-iters", "1")
    (g,) = report["groups"]
    assert g["config"] == "self-verified" and g["mode"] == "self-verified"
    assert g["pass_at"]["1"] == 1.0  # graded by the bench's own testbench at the end
    systems = [str(b["messages"][0].get("content") or "").lower() for b in fake_openai.requests]
    assert any("verifier agent" in s for s in systems)  # the agents wrote their own testbench
    asked_model = any("reference model" in s for s in systems if "verifier agent" in s)
    assert asked_model == (style == "auto")
    everything = "\n".join(str(m.get("content") or "") for b in fake_openai.requests for m in b["messages"])
    # Nothing of the bench's own testbench or reference reached any prompt. (The word `RefModule`
    # itself may: the knowledge corpus explains VerilogEval's conventions in general terms.)
    bench_lines = [ln.strip() for ln in prob.testbench.splitlines()
                   if any(w in ln for w in ("good1", "top_module1", "y_ref", "y_dut"))]
    assert len(bench_lines) >= 3
    assert not [ln for ln in bench_lines if ln in everything]
    assert "top_module1" not in everything and "good1" not in everything
    assert "module RefModule" not in everything
