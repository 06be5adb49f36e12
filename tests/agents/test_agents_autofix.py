"""veriloop repairs an output assigned in an always block but declared as a wire, read from the real
tools' own messages, before it asks the model again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from veriloop.agents import autofix, eda, run_design
from veriloop.config import load_settings
from veriloop.testing.fake_openai import write_config

# The real 1.5B model's full adder (issue 14 measurement, Prob027_fadd), repeated three times unchanged.
FADD = """module TopModule (
    input a,
    input b,
    input cin,
    output cout,
    output sum
);
    always @(*) begin
        sum = a ^ b ^ cin;
        cout = (a & b) | (a & cin) | (b & cin);
    end
endmodule
"""


def test_the_real_lint_message_is_read_and_the_repair_lints_clean() -> None:
    report = eda.lint({"TopModule": FADD}, "TopModule")
    assert not report.ok
    assert autofix.wires_assigned_procedurally(report.text()) == {"TopModule": {"sum", "cout"}}
    fixed, what = autofix.repair({"TopModule": FADD}, report.text())
    assert "output reg cout" in fixed["TopModule"] and "output reg sum" in fixed["TopModule"]
    assert "`cout`, `sum`" in what
    assert eda.lint(fixed, "TopModule").ok


def test_the_real_icarus_message_names_the_instance() -> None:
    model = FADD.replace("module TopModule", "module TopModule_expected")
    tb = "module tb; reg a, b, cin; wire s, c;\n" \
         "TopModule_expected model (.a(a), .b(b), .cin(cin), .cout(c), .sum(s));\nendmodule\n" + model
    check = eda.compile_check({"tb": tb}, "tb")
    assert not check.ok
    fixed, what = autofix.repair({"TopModule_expected": model}, check.text(), {"model": "TopModule_expected"})
    assert what and "output reg sum" in fixed["TopModule_expected"]


@pytest.mark.parametrize(
    ("source", "names", "expected", "changed"),
    [
        ("module m(input a, output [3:0] y);", ["y"], "module m(input a, output reg [3:0] y);", ["y"]),
        ("module m(input a, output wire signed [3:0] y);", ["y"],
         "module m(input a, output reg signed [3:0] y);", ["y"]),
        ("module m(a, y); input a; output [1:0] y;", ["y"],
         "module m(a, y); input a; output reg [1:0] y;", ["y"]),
        # already a reg, a name inside a list, a longer name that starts the same: left alone
        ("module m(output reg y);", ["y"], "module m(output reg y);", []),
        ("module m(output [3:0] a, y);", ["y"], "module m(output [3:0] a, y);", []),
        ("module m(output yy);", ["y"], "module m(output yy);", []),
    ],
)
def test_declare_reg_changes_only_direct_declarations(
    source: str, names: list[str], expected: str, changed: list[str]
) -> None:
    assert autofix.declare_reg(source, names) == (expected, changed)


def test_a_module_the_log_does_not_name_is_not_touched() -> None:
    mods = {"a": "module a(output y); always @(*) y = 1; endmodule",
            "b": "module b(output y); assign y = 0; endmodule"}
    log = "a.sv:1: error [PROCASSWIRE]: Procedural assignment to wire, perhaps intended var: 'y'"
    fixed, _ = autofix.repair(mods, log)
    assert "output reg y" in fixed["a"] and fixed["b"] == mods["b"]
    assert autofix.repair(mods, "no such errors") == (mods, "")


def test_the_generator_repairs_before_asking_again(tmp_path: Path, fake_openai, kit, monkeypatch) -> None:
    wire_q = kit.GOOD.replace("output reg  [3:0] q", "output wire [3:0] q")
    assert wire_q != kit.GOOD
    monkeypatch.setenv("VERILOOP_AGENTS__TESTBENCH", "auto")
    wire_model = kit.as_reference(wire_q)
    team = kit.Team(rtl=[wire_q], references=[wire_model])
    fake_openai.responder = team
    write_config(tmp_path, fake_openai)
    result = run_design(kit.SPEC, load_settings(), out_dir=tmp_path / "out", max_iters=1)

    assert result.verified, result.reason
    assert team.calls["generator"] == 1 and team.calls["reference"] == 1  # no second ask for either
    out = tmp_path / "out"
    assert "output reg [3:0] q" in (out / "counter.sv").read_text()
    notes = [json.loads(line) for line in (out / "transcript.jsonl").read_text().splitlines()]
    fixes = [n for n in notes if n["kind"] == "tool" and str(n["text"]).startswith("auto-fix:")]
    assert {n["agent"] for n in fixes} == {"generator", "verifier"}


def test_check_with_repair_checks_again_only_after_a_repair() -> None:
    calls: list[dict[str, str]] = []

    def lint(mods: dict[str, str]) -> eda.Check:
        calls.append(mods)
        return eda.lint(mods, "mux")

    wire_out = "module mux (input a, input b, input sel, output y);\n" \
               "  always @(*) y = sel ? b : a;\nendmodule\n"
    mods, report, what = autofix.check_with_repair({"mux": wire_out}, lint)
    assert report.ok and "output reg y" in mods["mux"] and "`y`" in what and len(calls) == 2

    calls.clear()
    unknown = "module mux (input a, output y);\n  assign y = missing_net;\nendmodule\n"
    mods, report, what = autofix.check_with_repair({"mux": unknown}, lint)
    assert not report.ok and mods == {"mux": unknown} and what == "" and len(calls) == 1

    calls.clear()
    mods, report, what = autofix.check_with_repair({"mux": "module mux (input a, output y);\n"
                                                    "  assign y = a;\nendmodule\n"}, lint)
    assert report.ok and what == "" and len(calls) == 1
