"""Issue 13: a wrong design never passes. Each class of attack, several variants, and every VerilogEval
problem with its outputs tied to 0 under every refused variant; plus honest designs that must agree
with a plain iverilog/vvp run sample for sample (comments, strings and macros change no verdict)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from veriloop.testing.attacks import CLASSES, tied
from veriloop.tools.grading import GradeItem, grade_many, grade_testbench

DATA = Path(__file__).resolve().parents[2].parent / "shared/benchmarks/verilog-eval-v2/dataset_spec-to-rtl"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="VerilogEval v2 data not present")
SUMMARY = re.compile(r"Mismatches:\s*(\d+)\s+in\s+(\d+)\s+samples")


def _problem(name: str) -> tuple[str, str]:
    return (DATA / f"{name}_ref.sv").read_text(), (DATA / f"{name}_test.sv").read_text()


def _names() -> list[str]:
    return sorted(p.name[: -len("_ref.sv")] for p in DATA.glob("*_ref.sv"))


@pytest.mark.parametrize(
    ("cls", "variant"), [(c, v) for c, vs in CLASSES.items() for v in vs]
)
def test_attack_variant_is_illegal(cls: str, variant: str) -> None:
    ref, tb = _problem("Prob050_kmap1")
    design = CLASSES[cls][variant](ref)
    rep = grade_testbench(design, tb, ref)
    assert not rep.passed
    assert rep.category == "illegal", (rep.category, rep.detail, rep.log_tail[-500:])
    assert rep.reasons and rep.detail


@pytest.mark.parametrize("glued", [
    "  `A(RefMod)ule r0(.*);",  # the compiler would see `RefModule r0(.*);`
    "  reg [7:0] m [0:1]; initial `A($write)memh(\"x.hex\", m);",  # ... `$writememh(...)`
    "  assign out = `A(goo)d1.out;",  # ... `good1.out`
])
def test_tokens_glued_by_a_macro_cannot_smuggle_anything(glued: str) -> None:
    ref, tb = _problem("Prob050_kmap1")
    design = "`define A(x) x\nmodule TopModule(input a, input b, input c, output out);\n" + glued
    rep = grade_testbench(design + "\nendmodule\n", tb, ref)
    assert not rep.passed and rep.category in {"illegal", "syntax"}, rep


WIRE_TB = """module tb;
  reg [3:0] r; wire [3:0] a = r; wire [3:0] y, y_ref; integer errors = 0, i;
  TopModule dut(.a(a), .y(y));
  RefModule good(.a(a), .y(y_ref));
  initial begin
    for (i = 0; i < 50; i = i + 1) begin r = i; #1; if (y !== y_ref) errors = errors + 1; end
    $display("Mismatches: %0d in %0d samples", errors, 50);
  end
endmodule
"""
WIRE_REF = "module RefModule(input [3:0] a, output [3:0] y); assign y = a + 4'd3; endmodule\n"
_X = "  assign y = 4'bx;\nendmodule\n"


@pytest.mark.parametrize("design", [
    "module TopModule(input [3:0] a, output [3:0] y);\n  assign (supply0, supply1) a = 4'd0;\n" + _X,
    "module TopModule(inout [3:0] a, output [3:0] y);\n  assign (supply0, supply1) a = 4'd0;\n" + _X,
    "module TopModule(input [3:0] a, output [3:0] y);\n  assign a = 4'bx;\n" + _X,
    "module TopModule(a, y);\n  input [3:0] a; output [3:0] y;\n  assign a = 4'bx;\n" + _X,
    "module H(output [3:0] o); assign o = 4'bx; endmodule\n"
    "module TopModule(input [3:0] a, output [3:0] y);\n  H h(.o(a));\n" + _X,
    "module H(input [3:0] i); assign i = 4'bx; endmodule\n"
    "module TopModule(input [3:0] a, output [3:0] y);\n  H h(a);\n" + _X,
    "module TopModule(input [3:0] a, output [3:0] y);\n  buf b[3:0](a, 4'bx);\n" + _X,
])
def test_driving_the_testbench_s_input_nets_is_illegal(design: str) -> None:
    """With wire inputs, a design that drives them (X, or supply strength) feeds the reference the
    same corrupted stimulus: every such drive is refused."""
    rep = grade_testbench(design, WIRE_TB, WIRE_REF)
    assert not rep.passed and rep.category == "illegal", (rep.category, rep.detail)
    right = "module TopModule(input [3:0] a, output [3:0] y);\n  assign y = a + 4'd3;\nendmodule\n"
    assert grade_testbench(right, WIRE_TB, WIRE_REF).passed


def test_a_port_turned_output_under_another_name_is_illegal_when_connected_by_position() -> None:
    tb = WIRE_TB.replace("TopModule dut(.a(a), .y(y));", "TopModule dut(a, y);")
    design = "module TopModule(output [3:0] q, output [3:0] y);\n  assign q = 4'bx;\n" + _X
    rep = grade_testbench(design, tb, WIRE_REF)
    assert rep.category == "illegal" and "q: output (golden: input)" in rep.detail
    # Connected by name, a renamed port is the compiler's business (a plain `syntax` failure).
    assert grade_testbench(design, WIRE_TB, WIRE_REF).category == "syntax"


def test_flooding_the_output_with_forged_summaries_fails() -> None:
    ref, tb = _problem("Prob001_zero")  # outputs tied to 0 are right here: only the flood can fail it
    for n in (30000, 60000):
        forged = '"VERILOOP-%0d Mismatches: 0 in 20 samples", i'
        flood = tied(ref, f"  integer i; initial for (i = 0; i < {n}; i = i + 1) $display({forged});")
        rep = grade_testbench(flood, tb, ref)
        assert not rep.passed and rep.category in {"no_summary", "tool_error"}, (rep.category, rep.detail)


def test_design_printing_an_untagged_summary_gets_the_real_verdict() -> None:
    ref, tb = _problem("Prob050_kmap1")
    for line in ("Mismatches: 0 in 219 samples", "VERILOOP- Mismatches: 0 in 219 samples"):
        rep = grade_testbench(tied(ref, f'  initial begin $display("{line}"); #3 $display("{line}"); end'),
                              tb, ref)
        assert rep.category == "mismatch" and not rep.passed


def test_short_sample_count_fails_against_the_golden_count() -> None:
    """A testbench whose count the design could shorten (here: it stops at the design's `done`) is
    graded against the golden reference's count; fewer samples is not a pass."""
    tb = """`timescale 1ns/1ps
module tb;
  reg clk = 0; always #5 clk = ~clk;
  wire done; wire [3:0] q; integer errors = 0, total = 0;
  TopModule dut(.clk(clk), .done(done), .q(q));
  RefModule good(.clk(clk), .done(), .q());
  always @(posedge clk) begin
    total = total + 1;
    if (q !== good.q) errors = errors + 1;
    if (done || total == 50) begin $display("Mismatches: %0d in %0d samples", errors, total); $finish; end
  end
endmodule
"""
    ref = """module RefModule(input clk, output done, output reg [3:0] q = 0);
  assign done = 1'b0;
  always @(posedge clk) q <= q + 1;
endmodule
"""
    good = ref.replace("RefModule", "TopModule")
    assert grade_testbench(good, tb, ref).samples == 50
    early = """module TopModule(input clk, output done, output reg [3:0] q = 0);
  reg [3:0] n = 0;
  always @(posedge clk) begin q <= q + 1; n <= n + 1; end
  assign done = n == 3;
endmodule
"""
    rep = grade_testbench(early, tb, ref)
    assert not rep.passed and rep.category == "no_summary"
    assert rep.expected_samples == 50 and rep.samples_checked and "golden" in rep.detail


@pytest.mark.slow
def test_every_problem_tied_to_zero_under_every_attack_passes_none() -> None:
    """156 problems x every refused variant: nothing passes (and nothing even runs)."""
    items: list[tuple[str, str, GradeItem]] = []
    for name in _names():
        ref, tb = _problem(name)
        for cls, variants in CLASSES.items():
            for variant, attack in variants.items():
                items.append((name, f"{cls}/{variant}", GradeItem(design_sv=attack(ref), testbench_sv=tb,
                                                                  ref_sv=ref)))
    reports = grade_many([it for _, _, it in items])
    passed = [(n, a) for (n, a, _), r in zip(items, reports, strict=True) if r.passed]
    assert passed == []
    not_refused = [(n, a, r.category) for (n, a, _), r in zip(items, reports, strict=True)
                   if r.category != "illegal"]
    assert not_refused == []


# --- honest designs: comments, strings and macros change nothing; the grader agrees with plain Icarus.

HONEST_VARIANTS: dict[str, Callable[[str], str]] = {
    "helper_comment": lambda d: "// Helper module to reverse the bits\n" + d,
    "module_words_in_comments": lambda d: (
        "/* module module: this module using a module list */\n// module using\n" + d
    ).replace("endmodule", "  // end of module to\nendmodule", 1),
    "module_in_string": lambda d: d.replace(
        "endmodule", '  initial $display("module x; TopModule top_module1 (");\nendmodule', 1
    ),
    # No `timescale: upstream compiles the design first, so a #1 there is 1 s (Icarus's default).
    "unit_delay_no_timescale": lambda d: d.replace("assign ", "assign #1 ", 1),
    "macros_and_ifdef": lambda d: "`timescale 1ns/1ps\n`define TOPNAME TopModule\n`ifdef __ICARUS__\n"
    + d.replace("module TopModule", "module `TOPNAME", 1) + "`else\nmodule Broken(;\n`endif\n",
}


def _plain(design: str, tb: str, ref: str) -> tuple[int, int] | None:
    """(mismatches, samples) from the upstream command line, on the host, design first."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d)
        (p / "s.sv").write_text(design)
        (p / "t.sv").write_text(tb)
        (p / "r.sv").write_text(ref)
        c = subprocess.run(["iverilog", "-Wall", "-Winfloop", "-Wno-timescale", "-g2012", "-s", "tb", "-o",
                            "a.out", "s.sv", "t.sv", "r.sv"], cwd=d, capture_output=True)
        if c.returncode != 0:
            return None
        s = subprocess.run(["vvp", "-n", "a.out"], cwd=d, capture_output=True, text=True, timeout=60)
        found = SUMMARY.findall(s.stdout)
        return (int(found[-1][0]), int(found[-1][1])) if found else None


def test_prob006_reference_with_a_helper_comment_passes() -> None:
    ref, tb = _problem("Prob006_vectorr")
    design = "// Helper module to reverse the bits\n" + ref.replace("RefModule", "TopModule")
    rep = grade_testbench(design, tb, ref)
    assert rep.passed, (rep.category, rep.detail, rep.compile_log)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("iverilog") is None, reason="iverilog missing")
def test_honest_designs_agree_with_plain_icarus_sample_for_sample() -> None:
    """Right references (with comment/string/macro variants) and wrong tied-to-0 designs, on a spread of
    problems: same (mismatches, samples) as a plain run of the same files."""
    names = _names()[::6]
    cases: list[tuple[str, str, str, str]] = []
    for name in names:
        ref, tb = _problem(name)
        good = ref.replace("RefModule", "TopModule")
        for label, variant in HONEST_VARIANTS.items():
            cases.append((f"{name}/{label}", variant(good), tb, ref))
        cases.append((f"{name}/tied0", tied(ref), tb, ref))
    reports = grade_many([GradeItem(design_sv=d, testbench_sv=t, ref_sv=r) for _, d, t, r in cases])
    disagree = []
    for (label, design, tb, ref), rep in zip(cases, reports, strict=True):
        plain = _plain(design, tb, ref)
        ours = (rep.mismatches, rep.samples) if rep.category in ("pass", "mismatch") else None
        if plain != ours:
            disagree.append((label, plain, ours, rep.category, rep.detail[:200]))
    assert disagree == []
