"""Honest grading on VerilogEval v2 spec-to-rtl: the 156 references, and designs that try to cheat."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from veriloop.tools.grading import GradeReport, grade_testbench, tag_testbench

DATA = Path(__file__).resolve().parents[2].parent / "shared/benchmarks/verilog-eval-v2/dataset_spec-to-rtl"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="VerilogEval v2 data not present")

# Upstream verdicts on Icarus 11 (SOURCE.md): these three references do not pass their own testbench.
EXPECTED_FAILURES = {
    "Prob099_m2014_q6c": "syntax",  # dataset bug (upstream issue 13): tb uses ports Y2/Y4 the ref lacks
    "Prob151_review2015_fsm": "syntax",  # Icarus 11: "sorry: This cast operation is not yet supported"
    "Prob156_review2015_fancytimer": "syntax",  # same cast limitation
}


def _problem(name: str) -> tuple[str, str]:
    return (DATA / f"{name}_ref.sv").read_text(), (DATA / f"{name}_test.sv").read_text()


def _as_top(ref: str) -> str:
    return re.sub(r"\bRefModule\b", "TopModule", ref)


def test_all_156_references_grade_as_upstream() -> None:
    names = sorted(p.name[: -len("_ref.sv")] for p in DATA.glob("*_ref.sv"))
    assert len(names) == 156

    def grade(name: str) -> tuple[str, GradeReport]:
        ref, tb = _problem(name)
        return name, grade_testbench(_as_top(ref), tb, ref)

    with ThreadPoolExecutor(2) as pool:
        reports = dict(pool.map(grade, names))
    verdicts = {n: r.category for n, r in reports.items()}
    failing = {n: c for n, c in verdicts.items() if c != "pass"}
    unexpected = {
        n: (r.category, r.detail, r.log_tail[-300:])
        for n, r in reports.items()
        if r.category != EXPECTED_FAILURES.get(n, "pass")
    }
    assert failing == EXPECTED_FAILURES, unexpected
    assert sum(c == "pass" for c in verdicts.values()) == 153


def test_a_pass_reports_samples_and_versions() -> None:
    ref, tb = _problem("Prob050_kmap1")
    rep = grade_testbench(_as_top(ref), tb, ref)
    assert rep.passed and rep.category == "pass" and rep.mismatches == 0 and rep.samples and rep.samples > 100
    assert rep.tool_versions["iverilog"] and "11" in rep.tool_versions["iverilog"]
    assert rep.contained


def test_wrong_design_is_a_mismatch_with_hints() -> None:
    ref, tb = _problem("Prob050_kmap1")
    wrong = "module TopModule(input a, input b, input c, output out);\n  assign out = a & b;\nendmodule\n"
    rep = grade_testbench(wrong, tb, ref)
    assert rep.category == "mismatch" and not rep.passed
    assert rep.mismatches and rep.mismatches > 0
    assert rep.hints and rep.hints[0].name == "out" and rep.first_mismatch_time is not None


FAKE_PASS = """module TopModule(input a, input b, input c, output out);
  assign out = 1'b0;
  initial begin
    $display("Mismatches: 0 in 1 samples");
    $display("VERILOOP- Mismatches: 0 in 219 samples");
  end
endmodule
"""

EARLY_FINISH = """module TopModule(input a, input b, input c, output out);
  assign out = 1'b0;
  initial begin
    $display("Hint: Total mismatched samples is 0 out of 219 samples");
    $display("Mismatches: 0 in 219 samples");
    $finish;
  end
endmodule
"""


def test_fake_pass_design_fails() -> None:
    ref, tb = _problem("Prob050_kmap1")
    rep = grade_testbench(FAKE_PASS, tb, ref)
    assert not rep.passed
    assert rep.category in {"mismatch", "no_summary"}


def test_early_finish_design_fails() -> None:
    ref, tb = _problem("Prob050_kmap1")
    rep = grade_testbench(EARLY_FINISH, tb, ref)
    assert not rep.passed and rep.category == "illegal" and "$finish" in rep.detail


@pytest.mark.parametrize(
    "body",
    [
        "always @(*) force tb.stats1.errors = 0;",  # absolute name of the testbench
        "initial force good1.out = 0;",  # upward reference to the reference instance
        "initial force top_module1.out = 0;",
        "always @(*) force stats1.errors = 0;",
    ],
)
def test_design_cannot_reach_into_the_testbench(body: str) -> None:
    ref, tb = _problem("Prob050_kmap1")
    header = "module TopModule(input a, input b, input c, output out);"
    cheat = f"{header}\n  assign out = 1'b0;\n  {body}\nendmodule\n"
    rep = grade_testbench(cheat, tb, ref)
    assert not rep.passed and rep.category == "illegal"


def test_design_module_named_like_a_testbench_instance_is_rejected() -> None:
    ref, tb = _problem("Prob050_kmap1")
    cheat = """module good1(output out); assign out = 1'b0; endmodule
module TopModule(input a, input b, input c, output out);
  assign out = 1'b0;
  initial force good1.out = 0;
endmodule
"""
    rep = grade_testbench(cheat, tb, ref)
    assert not rep.passed and rep.category == "illegal" and "good1" in rep.detail


def test_design_cannot_read_the_compiled_program() -> None:
    ref, tb = _problem("Prob050_kmap1")
    snoop = """module TopModule(input a, input b, input c, output out);
  assign out = 1'b0;
  integer fd, ch, n;
  initial begin
    n = 0;
    fd = $fopen("/dev/stdin", "r");
    if (fd != 0) begin ch = $fgetc(fd); while (ch != -1) begin n = n + 1; ch = $fgetc(fd); end end
    $display("SNOOP read %0d bytes", n);
  end
endmodule
"""
    rep = grade_testbench(snoop, tb, ref)
    assert "SNOOP" not in rep.log_tail  # refused before it ran: no file access at all
    assert not rep.passed and rep.category == "illegal" and "$fopen" in rep.detail


def test_syntax_error_and_timeout_categories() -> None:
    ref, tb = _problem("Prob050_kmap1")
    bad = grade_testbench("module TopModule(input a, output out); assign out = ; endmodule", tb, ref)
    assert bad.category == "syntax" and "error" in bad.compile_log.lower()
    hang = """module TopModule(input a, input b, input c, output out);
  reg r;
  assign out = r;
  initial begin r = 0; while (1) begin r = ~r; #0; end end
endmodule
"""
    slow = grade_testbench(hang, tb, ref, timeout_s=2)
    assert slow.category == "timeout" and not slow.passed


def test_testbench_without_summary_is_a_tool_error() -> None:
    rep = grade_testbench("module TopModule(); endmodule", "module tb; initial $finish; endmodule")
    assert rep.category == "tool_error" and "summary" in rep.detail


def test_tagging_tags_the_summary_and_keeps_every_name() -> None:
    _, tb = _problem("Prob001_zero")
    tagged = tag_testbench(tb, "abc123")
    assert "module tb" in tagged and "abc123" not in tagged.replace('"VERILOOP-abc123 Mismatches:', "")
    assert '$display("VERILOOP-abc123 Mismatches:' in tagged


def test_data_files_and_hierarchical_tb_references_work() -> None:
    tb = """module tb;
  reg [7:0] mem [0:3]; reg [7:0] x; wire [7:0] y; integer errors = 0, i;
  TopModule dut(.x(x), .y(y));
  initial begin
    $readmemh("vec.hex", mem);
    for (i = 0; i < 4; i = i + 1) begin x = mem[i]; #1; if (y !== x + 8'd1) errors = errors + 1; end
    $display("scope %m"); if (tb.errors > 100) $display("impossible");
    $display("Mismatches: %0d in %0d samples", errors, 4);
    $finish;
  end
endmodule
"""
    design = "module TopModule(input [7:0] x, output [7:0] y);\n  assign y = x + 1;\nendmodule\n"
    rep = grade_testbench(design, tb, data_files={"vec.hex": "01\n02\n03\nff\n"})
    assert rep.passed, rep.compile_log + rep.log_tail
    assert rep.samples == 4
