"""An output the design never drives fails the agents' lint (Verilator only warns): in the issue 14
measurement the 1.5B model's "fix" dropped both outputs of a gate-level design, lint said clean, and
the simulation then showed every sample as z."""

from __future__ import annotations

from veriloop.agents import eda

DROPPED = """module TopModule (input a, input b, output y, output [3:0] z);
    wire t, unused;
    assign t = a & b;
    assign z[1:0] = {t, t};
endmodule
"""


def test_undriven_outputs_are_errors_and_other_warnings_stay_warnings() -> None:
    rep = eda.lint({"TopModule": DROPPED}, "TopModule")
    assert not rep.ok
    assert any("output 'y' is never driven" in e for e in rep.errors)
    assert any("output 'z'[3:2] is never driven" in e for e in rep.errors)
    assert not any("unused" in e for e in rep.errors)  # an internal wire nobody reads: still a warning
    fixed = DROPPED.replace("assign z[1:0] = {t, t};", "assign z = {4{t}};\n    assign y = t;")
    assert eda.lint({"TopModule": fixed}, "TopModule").ok


def test_a_submodules_undriven_output_is_named_in_its_own_file() -> None:
    sub = "module half (input a, output s, output c);\n    assign s = a;\nendmodule\n"
    top = "module TopModule (input a, output s, output c);\n    half h (.a(a), .s(s), .c(c));\nendmodule\n"
    rep = eda.lint({"half": sub, "TopModule": top}, "TopModule")
    assert not rep.ok and any(e.startswith("half.sv:") and "output 'c'" in e for e in rep.errors)
