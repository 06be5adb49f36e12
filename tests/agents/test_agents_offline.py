"""`veriloop design` with no API key: the offline backend answers from the built-in design library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from veriloop.tools import verilator, yosys

SPEC = "8-bit up counter with synchronous active-high reset and enable"


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and k != "FAKE_KEY"}


def test_offline_counter_is_verified_lint_clean_and_synthesizes(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "veriloop", "design", SPEC, "--out", "out"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERIFIED" in done.stdout
    out = tmp_path / "out"
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "verified" and report["verified"]
    assert report["backends"]["generator"] == "offline" and report["usd"] == 0.0
    verdict = report["verdict"]
    assert verdict["passed"] and verdict["mismatches"] == 0 and verdict["samples"] > 0
    assert report["ppa"]["synthesized"] and report["ppa"]["cells"] > 0
    assert report["tool_versions"]["iverilog"] and report["tool_versions"]["yosys"]

    top = report["top"]
    rtl = {p.name: p.read_text() for p in out.glob("*.sv") if p.name != "tb.sv"}
    assert f"{top}.sv" in rtl
    lint = verilator.lint(rtl, top=top)
    assert lint.ok and lint.errors == 0, lint.diagnostics
    synth = yosys.synthesize(rtl, top=top)
    assert synth.synthesizes and synth.flip_flops >= 8  # an 8-bit register really is there
    md = (out / "report.md").read_text()
    assert "(testbench: design library)" in md  # offline: the library's testbench, not one the agents wrote
    assert "**Status: VERIFIED**" in md and "Mismatches: 0 in" in md and "Cells:" in md
    assert "Offline backend (no LLM)" in (out / "transcript.md").read_text()


def test_offline_says_plainly_when_the_spec_is_beyond_it(tmp_path: Path) -> None:
    spec = "a superscalar out-of-order RISC-V core with a branch predictor and an L2 cache"
    done = subprocess.run(
        [sys.executable, "-m", "veriloop", "design", spec, "--json"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "not verified" and not result["verified"]
    assert "offline backend has no matching design" in result["reason"]
    assert "configure an LLM backend" in result["reason"]
    md = Path(result["out_dir"], "report.md").read_text()
    assert "NOT VERIFIED" in md and "offline backend has no matching design" in md


def test_offline_designer_answers_each_design_task_from_the_library() -> None:
    from veriloop.agents.codeparse import extract_json, extract_modules
    from veriloop.agents.offline_designer import answer
    from veriloop.llm.contract import CompletionRequest, Message

    def ask(task: str, spec: str, top: str | None = None) -> str:
        req = CompletionRequest(
            messages=[Message(role="user", content=spec)], task=task, context={"spec": spec, "top": top}
        )
        return answer(req)

    plan = extract_json(ask("design.plan", SPEC))
    assert plan and plan["feasible"] and plan["top"] == "up_counter"
    rtl = extract_modules(ask("design.rtl", SPEC, top="my_counter"))
    assert list(rtl) == ["my_counter"] and "parameter WIDTH = 8" in rtl["my_counter"]
    tb = extract_modules(ask("design.testbench", SPEC, top="my_counter"))
    assert "tb" in tb and "my_counter" in tb["tb"] and "Mismatches: %0d in %0d samples" in tb["tb"]
    arch = extract_json(ask("design.architect", SPEC))
    assert arch and "WIDTH=8" in arch["choices"][0]["decision"]
    beyond = extract_json(ask("design.plan", "an out-of-order RISC-V core with an L2 cache"))
    assert beyond and beyond["feasible"] is False and "configure an LLM backend" in beyond["reason"]
    assert extract_modules(ask("design.rtl", "an out-of-order RISC-V core with an L2 cache")) == {}
    assert "does not handle" in ask("design.poem", SPEC)
