"""What a small model gets back from the tools: the spec's own interface as the plan, a per-cycle
signal window around the first mismatch, and a fix that made things worse undone (issue 14)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from veriloop.agents import eda, run_design
from veriloop.agents.spec_interface import plan_from_spec, spec_ports, spec_top
from veriloop.agents.verifier import reference_as
from veriloop.config import load_settings
from veriloop.testing.fake_openai import write_config
from veriloop.tools.vcd_window import mismatch_window, parse_vcd

VE = Path(
    os.environ.get("VERILOG_EVAL_PATH")
    or Path(__file__).resolve().parents[2].parent / "shared/benchmarks/verilog-eval-v2"
) / "dataset_spec-to-rtl"

LISTED = """I would like you to implement a module named counter with the following
interface. All input and output ports are one bit unless otherwise specified.

 - input  clk
 - input  rst
 - input  en
 - output q   ( 4 bits)

A 4-bit up counter with synchronous active-high reset and enable.
"""


def test_ports_are_read_from_a_port_list_and_from_a_header() -> None:
    assert spec_top(LISTED) == "counter"
    assert spec_ports(LISTED, "counter") == ["input clk", "input rst", "input en", "output [3:0] q"]
    header = "Build it as module mux(input [7:0] a, b, input sel, output reg [7:0] y); purely combinational."
    assert spec_ports(header, "mux") == ["input [7:0] a", "input [7:0] b", "input sel", "output reg [7:0] y"]
    # The header of another module is not this one's; a non-ANSI header is left to the planner.
    assert spec_ports(header, "other") == []
    assert spec_ports("module m(a, b, y); input a, b; output y;", "m") == []
    # Two modules named, or a port named twice: ambiguous, so the planner decides.
    assert plan_from_spec(LISTED + "\nAlso a module named helper.\n", "counter") is None
    assert spec_ports(LISTED + " - input clk\n", "counter") == []
    # No output, no plan; and a long spec goes to the planner even with a port list.
    assert plan_from_spec(" - input a\n - input b\n", "m") is None
    assert plan_from_spec(LISTED + "x" * 7000, "counter") is None


PROSE = (
    "An 8-bit up counter module named counter8 with inputs clk, rst and en and an 8-bit output count. "
    "On every rising edge of clk: if rst is 1 count becomes 0; otherwise, if en is 1, count increments."
)


def test_a_short_spec_naming_its_one_module_is_planned_as_that_module() -> None:
    plan = plan_from_spec(PROSE, spec_top(PROSE))
    assert plan is not None and plan.top == "counter8" and [m.name for m in plan.modules] == ["counter8"]
    assert plan.modules[0].ports == [] and "names and widths the specification gives" in plan.summary
    # Not for another name, not when two modules are named, not for a long text, not for an unread header.
    assert plan_from_spec(PROSE, "other") is None
    assert plan_from_spec(PROSE + " It uses a module named adder8.", "counter8") is None
    assert plan_from_spec(PROSE + " More." * 300, "counter8") is None
    assert plan_from_spec(PROSE + " module counter8(clk, rst, en, count);", "counter8") is None


@pytest.mark.skipif(not VE.is_dir(), reason="VerilogEval v2 data not on this machine")
def test_most_verilog_eval_specs_give_their_interface() -> None:
    specs = [p.read_text() for p in sorted(VE.glob("*_prompt.txt"))]
    plans = [plan_from_spec(s, spec_top(s)) for s in specs]
    assert sum(p is not None for p in plans) >= 150
    assert all(p.top == "TopModule" for p in plans if p is not None)


def test_a_spec_with_its_ports_needs_no_planner_or_architect_call(tmp_path: Path, fake_openai, kit) -> None:
    good = kit.GOOD.replace("module counter (", "module counter (").replace("wire       ", "")
    team = kit.Team(rtl=[good])
    fake_openai.responder = team
    write_config(tmp_path, fake_openai)
    result = run_design(LISTED, load_settings(), out_dir=tmp_path / "out", max_iters=2)
    assert result.verified, result.reason
    assert "planner" not in team.calls and "architect" not in team.calls
    prompt = kit.last_user(kit.requests_of(fake_openai, "generator")[0])
    assert "Ports: input clk, input rst, input en, output [3:0] q" in prompt
    assert "Reference [" not in prompt  # no retrieved design beside the spec's own names
    lines = (tmp_path / "out" / "transcript.jsonl").read_text().splitlines()
    notes = [json.loads(x)["text"] for x in lines]
    assert any("plan read from the spec's own interface" in t for t in notes)


def test_the_planner_still_plans_a_spec_without_a_port_list(tmp_path: Path, fake_openai, kit) -> None:
    team = kit.Team(rtl=[kit.GOOD])
    fake_openai.responder = team
    write_config(tmp_path, fake_openai)
    assert run_design(kit.SPEC, load_settings(), out_dir=tmp_path / "out", max_iters=2).verified
    assert team.calls["planner"] == 1 and team.calls["architect"] == 1


SHIFT_BAD = """module TopModule(input clk, input load, input [1:0] ena, input [99:0] data,
                 output reg [99:0] q);
  always @(posedge clk)
    if (load) q <= data;
    else if (ena == 2'b01) q <= {q[98:0], q[99]};
    else if (ena == 2'b10) q <= {q[0], q[99:1]};
endmodule
"""


@pytest.mark.skipif(not VE.is_dir(), reason="VerilogEval v2 data not on this machine")
def test_the_real_grader_returns_a_signal_window_at_the_first_mismatch() -> None:
    tb = (VE / "Prob105_rotate100_test.sv").read_text()
    ref = (VE / "Prob105_rotate100_ref.sv").read_text()
    g = eda.grade(SHIFT_BAD, tb, ref, golden=reference_as(ref, "TopModule"))
    assert g.category == "mismatch"
    rows = g.trace.splitlines()
    assert rows[0].split()[:5] == ["time", "clk", "load", "ena", "data"]
    assert "q (yours)" in rows[0] and "q (expected)" in rows[0]
    differs = [r for r in rows if r.endswith("<- differs")]
    assert differs and not rows[1].endswith("<- differs")  # rows before the first difference come first
    first = differs[0].split()
    got, want = first[first.index("|") + 1], first[first.index("|") + 2]
    assert got != want and len(got) == 25  # 100 bits in hex
    # The good design gives no window: nothing differs.
    good = eda.grade(reference_as(ref, "TopModule"), tb, ref, golden=reference_as(ref, "TopModule"))
    assert good.passed and good.trace == ""


HOSTILE = [
    "",
    "$enddefinitions $end",
    "$scope module tb $end $var wire 1 ! q_ref $end $var wire 1 \" q_dut $end $upscope $end",
    "$scope module tb $end $var wire 1 ! q_ref $end $var wire 1 \" q_dut $end $upscope $end "
    "$enddefinitions $end #0 0! 1\" #notanumber 1!",
    "$scope module tb $end $var wire 99999999999999999999 ! q_ref $end $upscope $end $enddefinitions $end",
    "$scope module tb $end " + "$var wire 1 ! x_ref $end " * 10000 + "$enddefinitions $end #0 b1 ! b",
    "\x00\xff" * 1000,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_broken_or_hostile_dump_gives_no_window_and_no_error(text: str) -> None:
    out = mismatch_window(text, 10)
    assert isinstance(out, str) and len(out) < 20000


def test_values_are_shown_in_hex_with_x_kept() -> None:
    vcd = (
        "$scope module tb $end $var reg 1 ! clk $end $var wire 8 # a $end "
        "$var wire 8 $ y_ref $end $var wire 8 % y_dut $end $upscope $end $enddefinitions $end\n"
        "#0 0! b00000001 # b00000010 $ b00000010 %\n#5 1! b00001111 # b11111111 $ b1x1x0000 %\n"
    )
    assert parse_vcd(vcd).order == ["clk", "a", "y_ref", "y_dut"]
    rows = mismatch_window(vcd, None).splitlines()
    assert rows[1].split() == ["0", "0", "01", "|", "02", "02"]
    assert rows[2].split() == ["5", "1", "0f", "|", "x0", "ff", "<-", "differs"]


def test_a_fix_that_makes_the_design_worse_is_undone(tmp_path: Path, fake_openai, kit) -> None:
    # Iteration 0: wraps wrongly at 12 (some mismatches); 1: counts by two (more); 2: correct.
    team = kit.Team(rtl=[kit.SUBTLE, kit.BUGGY, kit.GOOD])
    fake_openai.responder = team
    write_config(tmp_path, fake_openai)
    tb_file = tmp_path / "tb.sv"
    tb_file.write_text(kit.tb(60))
    result = run_design(
        kit.SPEC, load_settings(), out_dir=tmp_path / "out", max_iters=3, tb=tb_file.read_text()
    )
    assert result.verified, result.reason
    gen = kit.requests_of(fake_openai, "generator")
    assert len(gen) == 3
    third = kit.last_user(gen[2])
    assert "4'd12" in third and "q + 4'd2" not in third  # the fix starts again from the better design
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    second = report["verdicts"][1]
    assert "was undone" in second["summary"]
    assert second["mismatches"] == report["verdicts"][0]["mismatches"]


def test_the_planners_own_top_is_renamed_to_the_named_one_not_kept_beside_it() -> None:
    from veriloop.agents.planner import _normalise
    from veriloop.agents.state import ModulePlan, Plan

    top = ModulePlan(name="top", purpose="t", ports=["output q"], depends_on=["adder"])
    plan = Plan(top="top", modules=[ModulePlan(name="adder", purpose="a"), top])
    fixed = _normalise(plan, "counter8")
    assert fixed.top == "counter8" and [m.name for m in fixed.modules] == ["adder", "counter8"]
    assert fixed.modules[1].ports == ["output q"] and fixed.modules[1].depends_on == ["adder"]


def test_a_plan_with_ports_as_objects_is_read_not_lost() -> None:
    """The real 1.5B model's planner reply (issue 14) gave its ports as objects."""
    from veriloop.agents.state import Plan

    plan = Plan.model_validate({
        "top": "mux",
        "modules": [{"name": "mux", "ports": [
            {"direction": "input", "width": 8, "name": "a"},
            {"direction": "input", "width": 1, "name": "sel"},
            {"direction": "output", "width": "[7:0]", "name": "y"}, "output z"]}],
        "interfaces": [{"direction": "output", "width": 8, "name": "y"}],
        "verification_plan": [{"step": "exhaustive"}, "random"],
    })
    assert plan.modules[0].ports == ["input [7:0] a", "input sel", "output [7:0] y", "output z"]
    assert plan.interfaces == ["output [7:0] y"]
    assert plan.verification_plan == ["exhaustive", "random"]
