"""Self-verified testbenches scaffolded by veriloop around a reference model the verifier agent writes.

The agent writes only `<top>_expected` from the spec; veriloop builds the harness from the design's
elaborated ports. These tests try to break that promise too: a model that reaches into the
testbench, a model that ends the simulation itself, a model that never compiles.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from veriloop.agents import eda, run_design, tb_scaffold
from veriloop.config import load_settings
from veriloop.testing.fake_openai import write_config


@pytest.fixture(autouse=True)
def _scaffold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERILOOP_AGENTS__TESTBENCH", "auto")


def _reference_requests(server, kit) -> list[dict]:
    return [b for b in server.requests if kit.asks_for_reference_model(b)]


def _design(tmp_path: Path, server, kit, rtl: list[str], references: list[str], max_iters: int = 1):
    """One design run of the counter spec against a scripted team; the result and the team."""
    team = kit.Team(rtl=rtl, references=references)
    server.responder = team
    write_config(tmp_path, server)
    return run_design(kit.SPEC, load_settings(), out_dir=tmp_path / "out", max_iters=max_iters), team


def test_the_scaffold_finds_the_bug_and_the_fixed_design_passes(tmp_path: Path, fake_openai, kit) -> None:
    result, team = _design(tmp_path, fake_openai, kit, [kit.BUGGY, kit.GOOD], [kit.as_reference(kit.GOOD)], 3)

    assert result.verified, result.reason
    assert team.calls.get("verifier", 0) == 0, "no whole testbench was asked for"
    assert team.calls["reference"] == 1 and team.calls["generator"] == 2
    (ask,) = _reference_requests(fake_openai, kit)
    prompt = kit.last_user(ask)
    # Written from the spec and the interface only: the design's body never reaches the model's prompt.
    assert kit.SPEC in prompt and "module counter_expected" in prompt and "output [3:0] q" in prompt
    assert "q + 4'd" not in prompt and "q <=" not in prompt

    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["testbench_source"] == "agents' reference model"
    assert "reference model" in report["reason"]
    first, last = report["verdicts"]
    assert first["category"] == "mismatch" and first["mismatches"] > 0
    assert "MISMATCH time=" in first["first_mismatch"]
    assert last["passed"] and last["mismatches"] == 0 and last["samples"] == 2 * tb_scaffold.CLOCKED_CYCLES
    tb = (tmp_path / "out" / "tb.sv").read_text()
    assert "module tb;" in tb and "module counter_expected" in tb and "counter vl_dut" in tb
    # The fix prompt carried the scaffold's evidence to the generator.
    fix = kit.last_user(kit.requests_of(fake_openai, "generator")[1])
    assert "MISMATCH time=" in fix and "q got=" in fix
    # Without the referee the evidence is as measured with the real model: no signal table.
    assert not first["trace"] and "$dumpvars" not in tb


FORGING_MODELS = [
    # reaches into the harness to zero its error count
    """module counter_expected (input clk, input rst, input en, output reg [3:0] q);
    always @(posedge clk) begin tb.vl_errors = 0; q <= 0; end
endmodule
""",
    # prints its own summary and ends the simulation before the harness can
    """module counter_expected (input clk, input rst, input en, output reg [3:0] q);
    initial begin $display("Mismatches: 0 in 600 samples"); $finish; end
endmodule
""",
]


def test_a_reference_model_cannot_reach_into_the_testbench(tmp_path: Path, fake_openai, kit) -> None:
    good_model = kit.as_reference(kit.GOOD)
    result, _ = _design(tmp_path, fake_openai, kit, [kit.BUGGY], [*FORGING_MODELS, good_model])

    assert not result.verified
    asks = _reference_requests(fake_openai, kit)
    assert len(asks) == 3
    assert "refused" in kit.last_user(asks[1]) and "refused" in kit.last_user(asks[2])
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["verdicts"][-1]["category"] == "mismatch"
    tb = (tmp_path / "out" / "tb.sv").read_text()
    assert "tb.vl_errors = 0" not in tb and "$finish; end" not in tb.split("module counter_expected")[1]


@pytest.mark.parametrize("model", FORGING_MODELS)
def test_forging_models_are_refused_even_when_the_agent_insists(
    tmp_path: Path, fake_openai, kit, model: str
) -> None:
    result, _ = _design(tmp_path, fake_openai, kit, [kit.BUGGY], [model])

    assert not result.verified
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    verdict = report["verdicts"][-1]
    assert verdict["category"] == "tb_error"
    assert "refused" in verdict["summary"] and "not evidence of a bug in the design" in verdict["summary"]


def test_a_model_with_outputs_assigned_as_wires_is_repaired_in_place(
    tmp_path: Path, fake_openai, kit
) -> None:
    """The 1.5B model's most common reference-model error (issue 14): `output [3:0] q` assigned in an
    always block. The compile error names the harness's instance of the model; autofix must find it."""
    wire_model = kit.as_reference(kit.GOOD).replace("output reg  [3:0] q", "output [3:0] q")
    assert "output [3:0] q" in wire_model
    result, team = _design(tmp_path, fake_openai, kit, [kit.GOOD], [wire_model])

    assert result.verified, result.reason
    assert team.calls["reference"] == 1, "repaired without asking the model again"
    log = (tmp_path / "out" / "transcript.jsonl").read_text()
    assert "auto-fix: declared output reg" in log


def test_a_model_that_never_compiles_ends_as_the_verifiers_failure(tmp_path: Path, fake_openai, kit) -> None:
    broken = "module counter_expected (input clk, input rst, input en, output reg [3:0] q);\n" \
             "    always @(posedge clk) q <= undeclared_signal + 1;\nendmodule\n"
    result, _ = _design(tmp_path, fake_openai, kit, [kit.GOOD], [broken])

    assert not result.verified
    asks = _reference_requests(fake_openai, kit)
    assert len(asks) == 3
    assert "does not compile" in kit.last_user(asks[1]) and "undeclared_signal" in kit.last_user(asks[1])
    # The second reply was the same module again: the third ask does not repeat reply and error but
    # asks for a different version, and the prompt does not grow by the repeated reply.
    assert "DIFFERENT" in kit.last_user(asks[2]) and "undeclared_signal" in kit.last_user(asks[2])
    assert len(asks[2]["messages"]) < len(asks[1]["messages"])
    verdict = json.loads((tmp_path / "out" / "report.json").read_text())["verdicts"][-1]
    assert verdict["category"] == "tb_error" and "did not compile" in verdict["summary"]


def test_auto_keeps_the_design_librarys_testbenches_offline(tmp_path: Path) -> None:
    result = run_design("8-bit up counter with synchronous active-high reset and enable", load_settings(),
                        out_dir=tmp_path / "out", max_iters=1)
    assert result.verified, result.reason
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["testbench_source"] == "design library"


# --- the scaffold itself, against real Icarus through the honest grader ---

AND2 = "module and2 (input a, input b, output y);\n    assign y = a & b;\nendmodule\n"
OR2 = AND2.replace("a & b", "a | b")


def _grade_against(design: str, model_design: str, top: str, dump: bool = False) -> eda.Grade:
    ports = tb_scaffold.elaborated_ports(design, top)
    assert ports is not None
    harness = tb_scaffold.scaffold(top, ports, dump=dump)
    assert harness is not None
    model = model_design.replace(f"module {top} ", f"module {tb_scaffold.expected_name(top)} ", 1)
    return eda.grade(design, harness + "\n" + model)


def test_combinational_inputs_are_exhaustive() -> None:
    ok = _grade_against(AND2, AND2, "and2")
    assert ok.passed and ok.samples == 4 and ok.mismatches == 0
    bad = _grade_against(OR2, AND2, "and2")  # differs on 01 and 10
    assert not bad.passed and bad.category == "mismatch" and bad.mismatches == 2 and bad.samples == 4


def test_sequential_designs_get_clock_reset_and_random_cycles(kit) -> None:
    ok = _grade_against(kit.GOOD, kit.GOOD, "counter")
    assert ok.passed and ok.samples == 2 * tb_scaffold.CLOCKED_CYCLES
    bad = _grade_against(kit.SUBTLE, kit.GOOD, "counter")  # only wrong at count 12: needs many cycles
    assert not bad.passed and bad.category == "mismatch" and bad.mismatches


def test_ports_are_elaborated_with_parameters_and_active_low_resets_are_held_low() -> None:
    src = """module cnt #(parameter W = 12) (input clk, input rst_n, input [W-1:0] d, output reg [W-1:0] q);
    always @(posedge clk or negedge rst_n) if (!rst_n) q <= 0; else q <= d;
endmodule
"""
    ports = tb_scaffold.elaborated_ports(src, "cnt")
    assert ports is not None
    assert [(p.name, p.direction, p.width) for p in ports] == [
        ("clk", "in", 1), ("rst_n", "in", 1), ("d", "in", 12), ("q", "out", 12)
    ]
    harness = tb_scaffold.scaffold("cnt", ports)
    assert harness is not None and "rst_n = 1'b0;" in harness and "always #5 clk = ~clk;" in harness
    assert "module cnt_expected (\n    input clk,\n    input rst_n,\n    input [11:0] d," in (
        tb_scaffold.model_header("cnt", ports)
    )
    assert _grade_against(src, src, "cnt").passed


def test_designs_the_scaffold_cannot_drive_fall_back() -> None:
    assert tb_scaffold.elaborated_ports("module broken (input a", "broken") is None
    assert tb_scaffold.elaborated_ports(AND2, "not_here") is None
    inout = tb_scaffold.elaborated_ports("module io (inout [3:0] bus, input oe);\nendmodule\n", "io")
    assert inout is not None and tb_scaffold.scaffold("io", inout) is None
    no_out = tb_scaffold.elaborated_ports("module sink (input a);\nendmodule\n", "sink")
    assert no_out is not None and tb_scaffold.scaffold("sink", no_out) is None


@pytest.mark.parametrize("ports", [
    "input a, output y, input y_ref",  # the harness's wire for the model's y
    "input y_dut, output y",  # ... and for the design's y
    "input vl_errors, output y",  # the harness's own counter
])
def test_ports_named_like_the_harness_signals_fall_back(ports: str) -> None:
    ports_of = tb_scaffold.elaborated_ports(f"module clash ({ports});\nendmodule\n", "clash")
    assert ports_of is not None and tb_scaffold.scaffold("clash", ports_of) is None


def test_the_verdict_carries_the_signals_around_the_first_mismatch() -> None:
    bad = _grade_against(OR2, AND2, "and2", dump=True)  # first differs at a=0, b=1
    header, *rows = bad.trace.splitlines()
    assert header.split() == ["time", "a", "b", "|", "y", "(yours)", "y", "(expected)"]
    assert "vl_" not in bad.trace  # the harness's counters are not dumped
    differs = [r.split() for r in rows if r.endswith("<- differs")]
    assert differs[0][1:6] == ["0", "1", "|", "1", "0"]  # a=0 b=1: the design says 1, the model 0


COUNTER8 = """module counter8 (input clk, input rst, input en, output reg [7:0] count);
    always @(posedge clk) if (rst) count <= 8'd0; else if (en) count <= count + 8'd1;
endmodule
"""
# What the real 1.5B model wrote as a reference for this spec (issue 14): it wraps at 128, not 256.
WRAPS_AT_128 = COUNTER8.replace("count <= count + 8'd1", "count <= (count == 8'd127) ? 8'd0 : count + 8'd1")


def test_resets_stop_early_so_deep_state_is_reached() -> None:
    """Frequent random resets would keep a counter below 128: the wrong wrap would never be seen."""
    assert _grade_against(COUNTER8, COUNTER8, "counter8").passed
    wrong = _grade_against(COUNTER8, WRAPS_AT_128, "counter8")
    assert not wrong.passed and wrong.category == "mismatch" and wrong.mismatches
