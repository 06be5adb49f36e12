"""The printed verdict shows the error first, at the line of the user's own module file (issue 14)."""

from __future__ import annotations

from veriloop.agents import eda
from veriloop.agents.rtl_generator import design_source
from veriloop.agents.verifier import _verdict_from_grade, user_log

RTL = {
    "sub": "module sub(input a, output y);\n assign y = a;\nendmodule\n",
    "mux": "module mux(input [7:0] a, input [7:0] b, input sel, output [7:0] y);\n"
    "  wire unused;\n  assign y = en ? b : a;\nendmodule\n",
}
TB = (
    "module tb; reg [7:0] a, b; reg sel; wire [7:0] y; mux u(.a(a), .b(b), .sel(sel), .y(y));\n"
    'initial begin $display("Mismatches: 0 in 1 samples"); $finish; end endmodule\n'
)


def test_log_lines_map_to_the_users_files_errors_first() -> None:
    log = "design.sv:2: warning: something minor\ndesign.sv:7: error: Unable to bind `en'\n" * 2
    out = user_log(log, RTL).splitlines()
    assert out == ["mux.sv:3: error: Unable to bind `en'", "sub.sv:2: warning: something minor"]


def test_syntax_verdict_excerpt_starts_with_the_error_in_the_module_file() -> None:
    grade = eda.grade(design_source(RTL), TB, None)
    assert grade.category == "syntax"
    verdict = _verdict_from_grade(0, "oracle-tb", grade, RTL)
    first = verdict.log_excerpt.splitlines()[0]
    assert first.startswith("mux.sv:3:") and "error" in first and "`en'" in first
    assert "design.sv" not in verdict.log_excerpt
    # what `veriloop design` prints: the first four lines of the evidence reach the error
    assert "mux.sv:3" in "\n".join(verdict.evidence().splitlines()[:4])
