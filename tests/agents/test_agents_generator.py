"""The generator's inner tool loop, code parsing, escalation, fan-out and human interrupts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from veriloop.agents import run_design, runs
from veriloop.agents.codeparse import extract_json, extract_modules, instantiated_modules
from veriloop.agents.rtl_generator import design_modules
from veriloop.agents.verifier import reference_as
from veriloop.config import load_settings
from veriloop.runstore import load_run
from veriloop.testing.fake_openai import Reply, write_config


def test_extract_modules_from_messy_replies() -> None:
    two = (
        "Sure!\n```systemverilog\nmodule a(input x, output y); assign y = x; endmodule\n\n"
        "module b(); endmodule\n```"
    )
    assert list(extract_modules(two)) == ["a", "b"]
    with_tb = two.replace("module b(); endmodule", "module tb; initial $finish; endmodule")
    assert list(design_modules(extract_modules(with_tb))) == ["a"]
    split = "```verilog\nmodule a(); endmodule\n```\ntext\n```\nmodule c(); endmodule\n```"
    assert list(extract_modules(split)) == ["a", "c"]
    bare = "// my design\nmodule top(input clk);\n  // module fake(); in a comment\nendmodule\n"
    mods = extract_modules(bare)
    assert list(mods) == ["top"] and mods["top"].startswith("// my design")
    unterminated = "```verilog\nmodule t(); endmodule\n"  # the closing fence was cut off
    assert list(extract_modules(unterminated)) == ["t"]
    assert extract_modules("I cannot help with that.") == {}
    assert extract_modules('```json\n{"module x": 1}\n```') == {}
    assert extract_json('Plan:\n```json\n{"top": "t"}\n```') == {"top": "t"}
    assert extract_json("no json here") is None
    tb = "module tb; reg clk; counter #(.W(4)) dut (.clk(clk)); initial begin end endmodule"
    assert instantiated_modules(tb) == ["counter"]
    ref = "module RefModule(input a, output b);\n  assign b = a;\nendmodule\n"
    assert list(extract_modules(reference_as(ref, "TopModule"))) == ["TopModule"]
    assert reference_as(ref + "module other(); endmodule\n", "TopModule").count("RefModule") == 1


def test_lint_tool_calls_feed_back_and_a_reply_without_code_is_a_failure(
    tmp_path: Path, fake_openai, kit
) -> None:
    team = kit.Team(rtl=[kit.GOOD])
    broken = kit.GOOD.replace("q <= 4'd0;", "q <= 4'd0")  # missing semicolon
    script = iter(
        [
            Reply(content=None, tool_calls=[{"id": "call_1", "name": "lint", "arguments": {"code": broken}}]),
            Reply(content="I think the design is fine, no code needed."),
            Reply(content=kit.fenced(kit.GOOD)),
        ]
    )

    def responder(body: dict[str, Any]) -> Reply | str:
        if kit.role(body) == "generator":
            return next(script)
        return team(body)

    fake_openai.responder = responder
    write_config(tmp_path, fake_openai)
    result = run_design(kit.SPEC, load_settings(), out_dir=tmp_path / "out", max_iters=1)
    assert result.verified, result.reason
    gen = kit.requests_of(fake_openai, "generator")
    assert len(gen) == 3
    assert [t["function"]["name"] for t in gen[0]["tools"]] == ["lint", "compile"]
    tool_msgs = [m for m in gen[1]["messages"] if m["role"] == "tool"]
    assert tool_msgs and tool_msgs[0]["tool_call_id"] == "call_1"
    assert "error" in tool_msgs[0]["content"].lower()  # Verilator's complaint went back to the model
    assert "no Verilog module" in gen[2]["messages"][-1]["content"]
    failures = [json.loads(x) for x in (tmp_path / "out" / "transcript.jsonl").read_text().splitlines()]
    assert any(e["kind"] == "failure" and "no Verilog module" in e["text"] for e in failures)


def test_lint_errors_are_fixed_within_the_step_budget(tmp_path: Path, fake_openai, kit) -> None:
    broken = kit.GOOD.replace("q <= 4'd0;", "q <= 4'd0")
    fake_openai.responder = kit.Team(rtl=[broken, kit.GOOD])
    write_config(tmp_path, fake_openai)
    result = run_design(kit.SPEC, load_settings(), out_dir=tmp_path / "out", max_iters=1)
    assert result.verified
    second = kit.requests_of(fake_openai, "generator")[1]
    assert "Verilator lint reports errors" in second["messages"][-1]["content"]


def test_escalation_to_the_stronger_backend(tmp_path: Path, fake_openai, kit) -> None:
    weak, strong = kit.Team(rtl=[kit.BUGGY]), kit.Team(rtl=[kit.GOOD])
    fake_openai.responder = lambda body: (strong if body["model"] == "strong-model" else weak)(body)
    extra = (
        f'[backends.strong]\nkind = "openai"\nbase_url = "{fake_openai.base_url}"\nmodel = "strong-model"\n'
        'api_key_env = "FAKE_KEY"\n\n[agents]\nplanner = "strong"\n'
        'escalate_to = "strong"\nescalate_after = 1\n'
    )
    write_config(tmp_path, fake_openai, extra=extra)
    result = run_design(kit.SPEC, load_settings(), out_dir=tmp_path / "out", max_iters=3)
    assert result.verified
    assert result.report["escalated"] and result.report["backends"]["generator"] == "strong"
    assert {"fake", "strong"} <= set(result.report["models"])
    assert strong.calls.get("generator") == 1
    # Per-agent backends: the planner was configured to use the strong model from the start.
    assert strong.calls.get("planner") == 1 and "planner" not in weak.calls
    assert (
        result.report["backends"]["planner"] == "strong" and result.report["backends"]["architect"] == "fake"
    )


def test_independent_modules_are_written_in_parallel(tmp_path: Path, fake_openai, kit) -> None:
    plan = {
        "top": "pair",
        "summary": "two counters side by side",
        "modules": [
            {"name": "ca", "ports": ["input clk"]},
            {"name": "cb", "ports": ["input clk"]},
            {"name": "pair", "depends_on": ["ca", "cb"]},
        ],
    }
    leaf = (
        "module {n}(input clk, input rst, input en, output reg [3:0] q);\n  always @(posedge clk)\n"
        "    if (rst) q <= 0; else if (en) q <= q + 1;\nendmodule\n"
    )
    top = (
        "module pair(input clk, input rst, input en, output [3:0] q);\n  wire [3:0] a, b;\n"
        "  ca ua(.clk(clk), .rst(rst), .en(en), .q(a));\n  cb ub(.clk(clk), .rst(rst), .en(en), .q(b));\n"
        "  assign q = a & b;\nendmodule\n"
    )

    def responder(body: dict[str, Any]) -> Reply | str:
        r = kit.role(body)
        if r == "planner":
            return "```json\n" + json.dumps(plan) + "\n```"
        if r == "architect":
            return '```json\n{"order": ["ca", "cb", "pair"], "choices": []}\n```'
        if r == "verifier":
            return kit.fenced(kit.tb().replace("counter dut", "pair dut"))
        prompt = kit.last_user(body)
        name = (
            "pair" if "Write module `pair`" in prompt else ("ca" if "Write module `ca`" in prompt else "cb")
        )
        return Reply(content=kit.fenced(top if name == "pair" else leaf.format(n=name)), delay_s=0.5)

    fake_openai.responder = responder
    write_config(tmp_path, fake_openai)
    result = run_design("two counters", load_settings(), out_dir=tmp_path / "out", max_iters=1)
    assert result.verified, result.reason
    assert fake_openai.max_in_flight >= 2  # ca and cb were asked for at the same time
    pair_prompt = next(
        kit.last_user(b)
        for b in kit.requests_of(fake_openai, "generator")
        if "Write module `pair`" in kit.last_user(b)
    )
    assert "module ca" in pair_prompt and "module cb" in pair_prompt  # dependencies come first
    assert {"ca.sv", "cb.sv", "pair.sv"} <= {p.name for p in (tmp_path / "out").iterdir()}


def test_interactive_approvals_and_resume_of_an_interrupted_run(tmp_path: Path, fake_openai, kit) -> None:
    fake_openai.responder = kit.Team(rtl=[kit.GOOD])
    write_config(tmp_path, fake_openai)
    settings = load_settings()
    asked: list[str] = []

    def ask(payload: dict[str, Any]) -> str:
        asked.append(payload["kind"])
        return "yes"

    result = run_design(kit.SPEC, settings, out_dir=tmp_path / "a", interactive=True, ask=ask)
    assert result.verified and asked == ["approve_plan", "approve_final"]

    # Without a human at hand the run stops at the first question and can be resumed with an answer.
    paused = run_design(kit.SPEC, settings, out_dir=tmp_path / "b", interactive=True)
    assert paused.status == "interrupted" and paused.pending and paused.pending["kind"] == "approve_plan"
    record = load_run(settings.data_path, paused.run_id)
    assert record.status == "interrupted"
    assert runs.show(record)["thread"]["waiting_for_human"]
    again = runs.resume(record, settings, answer="yes")
    assert again.status == "interrupted" and again.pending and again.pending["kind"] == "approve_final"
    done = runs.resume(load_run(settings.data_path, paused.run_id), settings, answer="yes")
    assert done.verified
    rejected = run_design(kit.SPEC, settings, out_dir=tmp_path / "c", interactive=True, ask=lambda p: "no")
    assert not rejected.verified and "rejected" in rejected.reason


def test_cli_interactive_reads_the_answers_from_the_terminal(tmp_path: Path, fake_openai, kit) -> None:
    import os
    import subprocess
    import sys

    fake_openai.responder = kit.Team(rtl=[kit.GOOD])
    write_config(tmp_path, fake_openai)
    done = subprocess.run(
        [sys.executable, "-m", "veriloop", "design", kit.SPEC, "--interactive", "--out", "o"],
        cwd=tmp_path,
        env=os.environ.copy(),
        input="yes\nyes\n",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Approve this plan?" in done.stderr and "Accept this design?" in done.stderr
    assert "VERIFIED" in done.stdout
    human = [
        line for line in (tmp_path / "o" / "transcript.jsonl").read_text().splitlines() if '"human"' in line
    ]
    assert len(human) == 2


def test_malformed_replies_are_recorded_failures_not_crashes(tmp_path: Path, fake_openai, kit) -> None:
    team = kit.Team(rtl=[kit.GOOD])
    broken = {"left": 3}

    def responder(body: dict[str, Any]) -> Reply | str:
        if kit.role(body) == "generator" and broken["left"] > 0:
            broken["left"] -= 1
            return Reply(malformed=True)
        return team(body)

    fake_openai.responder = responder
    write_config(tmp_path, fake_openai, retries=0)
    result = run_design(kit.SPEC, load_settings(), out_dir=tmp_path / "out", max_iters=1, max_steps=4)
    assert result.verified, result.reason
    transcript = (tmp_path / "out" / "transcript.jsonl").read_text()
    assert transcript.count("backend reply unusable") == 3


def test_candidate_samples_are_written_in_parallel_and_the_best_is_kept(
    tmp_path: Path, fake_openai, kit
) -> None:
    team = kit.Team(rtl=[kit.GOOD])
    by_seed = {0: kit.BUGGY, 1: kit.GOOD, 2: kit.BUGGY.replace("4'd2", "4'd3")}

    def responder(body: dict[str, Any]) -> Reply | str:
        if kit.role(body) == "generator":
            return Reply(content=kit.fenced(by_seed[body["seed"]]), delay_s=0.5)
        return team(body)

    fake_openai.responder = responder
    write_config(tmp_path, fake_openai)
    result = run_design(kit.SPEC, load_settings(), out_dir=tmp_path / "out", max_iters=1, samples=3)
    assert result.verified, result.reason  # one iteration was enough: candidate #1 passes
    gen = kit.requests_of(fake_openai, "generator")
    assert sorted(b["seed"] for b in gen) == [0, 1, 2]
    assert fake_openai.max_in_flight >= 2
    assert "q + 4'd1" in (tmp_path / "out" / "counter.sv").read_text()
    transcript = (tmp_path / "out" / "transcript.md").read_text()
    assert "3 distinct candidates" in transcript and "candidate #1 kept" in transcript
    assert len(kit.requests_of(fake_openai, "verifier")) == 1  # one testbench grades all candidates
