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

from veriloop.tools.grading import GradeItem, grade_many, grade_testbench
from veriloop.tools.vsource import read

DATA = Path(__file__).resolve().parents[2].parent / "shared/benchmarks/verilog-eval-v2/dataset_spec-to-rtl"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="VerilogEval v2 data not present")
SUMMARY = re.compile(r"Mismatches:\s*(\d+)\s+in\s+(\d+)\s+samples")


def _problem(name: str) -> tuple[str, str]:
    return (DATA / f"{name}_ref.sv").read_text(), (DATA / f"{name}_test.sv").read_text()


def _names() -> list[str]:
    return sorted(p.name[: -len("_ref.sv")] for p in DATA.glob("*_ref.sv"))


def _ports(ref: str) -> tuple[str, list[str]]:
    """(TopModule header with every output a `logic`, output names) from the reference, by the parser."""
    (unit,) = read(ref).units
    header = unit.header.replace("RefModule", "TopModule", 1)
    header = re.sub(r"\boutput\s+(?:reg\s+|wire\s+|logic\s+)?", "output logic ", header)
    return header, [n for n, d in unit.ports.items() if d == "output"]


def _tied(ref: str, extra: str = "", head: str = "", tail: str = "", keyword: str = "module") -> str:
    """A wrong design: every output tied to 0, plus the attack's `extra` lines inside the module."""
    header, outs = _ports(ref)
    header = header.replace("module", keyword, 1)
    body = "\n".join(f"  assign {o} = '0;" for o in outs)
    return f"`timescale 1ps/1ps\n{head}{header}\n{body}\n{extra}\nendmodule\n{tail}"


def _copy_ref(ref: str, keyword: str = "module", via: str = "good1") -> str:
    header, outs = _ports(ref)
    header = header.replace("module", keyword, 1)
    body = "\n".join(f"  assign {o} = {via}.{o};" for o in outs)
    return f"{header}\n{body}\nendmodule\n"


# Each attack: ref -> design text. All must be refused before anything runs (`illegal`).
Attack = Callable[[str], str]
EARLY_FINISH: dict[str, Attack] = {
    "finish_after_first_sample": lambda r: _tied(r, "  initial begin #6; $finish; end"),
    "stop": lambda r: _tied(r, "  initial #6 $stop;"),
    "finish_in_always": lambda r: _tied(r, "  always @(*) if ($time > 5) $finish(0);"),
    "fatal": lambda r: _tied(r, '  initial #6 $fatal(0, "bye");'),
    "finish_from_macro": lambda r: _tied(r, "  `BYE(6)", head="`define BYE(t) initial #t $finish;\n"),
    "finish_pasted": lambda r: _tied(r, "  initial #6 `F(fin, ish);", head="`define F(a, b) $``a``b\n"),
    "program_block": lambda r: _tied(r, "  p0 p();", tail="program p0; initial #6; endprogram\n"),
    "exit": lambda r: _tied(r, "  initial #6 $exit;"),
}


def _own_ref(ref: str) -> str:
    """A RefModule with every output tied to 0, declared under a macro-made name."""
    return "`define NM(x) Ref``x\n" + _tied(ref).replace("module TopModule", "module `NM(Module)", 1)


PREPROCESSOR: dict[str, Attack] = {
    # The attack: pull in the testbench, bring an own reference, swallow the trusted files.
    "include_tb_own_ref_open_ifdef": lambda r: '`include "tb.sv"\n' + _own_ref(r) + _tied(r) + "`ifdef NO\n",
    "include_abs_open_ifndef": lambda r: (
        '`include "/proc/self/cwd/tb.sv"\n' + _own_ref(r) + _tied(r) + "`ifndef __ICARUS__\n"
    ),
    "include_from_macro_open_else": lambda r: (
        '`define F "tb.sv"\n`include `F\n' + _own_ref(r) + _tied(r) + "`ifdef __ICARUS__\n`else\n"
    ),
    "include_angle": lambda r: _tied(r, head="`include <ref.sv>\n"),
    "own_ref_open_ifdef": lambda r: _own_ref(r) + _tied(r) + "`ifdef NEVER_DEFINED\n",
    "open_ifdef_inside": lambda r: _tied(r, "`ifdef NOPE\n"),
}
_NONCE_FROM_SCOPE = """  string s; integer i;
  initial begin
    s = $sformatf("%m");  // tb_<nonce>.top_module1
    $display("VERILOOP-%s Mismatches: 0 in 219 samples", s.substr(3, 26));
    for (i = 0; i < 15000; i = i + 1) $display("%0100d", i);  // push the real summary past the cap
  end"""
NONCE: dict[str, Attack] = {
    "nonce_from_scope_and_flood": lambda r: _tied(r, _NONCE_FROM_SCOPE),
    "percent_m": lambda r: _tied(r, '  initial $display("%m");'),
    "percent_M_padded": lambda r: _tied(r, '  initial $write("scope=%-12M\\n");'),
    "dynamic_format": lambda r: _tied(r, '  string f, s; initial begin f = "%m"; s = $sformatf(f); end'),
    "proc_mem": lambda r: _tied(r, '  integer fd; initial fd = $fopen("/proc/self/mem", "r");'),
    "readmem_maps": lambda r: _tied(r, '  reg [7:0] m [0:3]; initial $readmemh("/proc/self/maps", m);'),
    "system": lambda r: _tied(r, '  initial $system("cat /proc/self/cmdline");'),
    "plusargs": lambda r: _tied(r, '  integer v; initial if ($value$plusargs("n=%d", v)) $display(v);'),
    "dumpfile": lambda r: _tied(r, '  initial begin $dumpfile("/tmp/x.vcd"); $dumpvars; end'),
    "icarus_only": lambda r: _tied(r, '`ifdef __ICARUS__\n  initial $display("%m");\n`endif'),
}
UPWARD: dict[str, Attack] = {
    "macromodule_good1": lambda r: _copy_ref(r, "macromodule"),
    "module_good1": lambda r: _copy_ref(r),
    "absolute_tb": lambda r: _copy_ref(r, via="tb.good1"),
    "root": lambda r: _copy_ref(r, via="$root.tb.good1"),
    "macromodule_helper": lambda r: (
        _tied(r, "  h0 h();") + "macromodule h0(); initial force tb.stats1.errors = 0; endmodule\n"
    ),
    "instantiate_ref": lambda r: re.sub(
        r"\n  assign.*", "", _tied(r), flags=re.S
    ).replace("\nendmodule", "").rstrip() + "\n  RefModule r0(.*);\nendmodule\n",
    "module_named_good1": lambda r: "module good1(); endmodule\n" + _copy_ref(r),
    "force_stats": lambda r: _tied(r, "  always @(*) force stats1.errors = 0;"),
    "force_input": lambda r: _tied(r, "  initial force clk = 0;"),
    "bind": lambda r: _tied(r, tail="bind tb h1 hh(); module h1(); endmodule\n"),
    "defparam": lambda r: _tied(r, "  defparam tb.wavedrom_hide_after_time = 0;"),
    "unit_scope": lambda r: _tied(r, "  initial $display($unit::x);"),
}
CLASSES = {"early_finish": EARLY_FINISH, "preprocessor": PREPROCESSOR, "nonce": NONCE, "upward": UPWARD}


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


def test_flooding_the_output_with_forged_summaries_fails() -> None:
    ref, tb = _problem("Prob001_zero")  # outputs tied to 0 are right here: only the flood can fail it
    for n in (30000, 60000):
        forged = '"VERILOOP-%0d Mismatches: 0 in 20 samples", i'
        flood = _tied(ref, f"  integer i; initial for (i = 0; i < {n}; i = i + 1) $display({forged});")
        rep = grade_testbench(flood, tb, ref)
        assert not rep.passed and rep.category in {"no_summary", "tool_error"}, (rep.category, rep.detail)


def test_design_printing_an_untagged_summary_gets_the_real_verdict() -> None:
    ref, tb = _problem("Prob050_kmap1")
    for line in ("Mismatches: 0 in 219 samples", "VERILOOP- Mismatches: 0 in 219 samples"):
        rep = grade_testbench(_tied(ref, f'  initial begin $display("{line}"); #3 $display("{line}"); end'),
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
        cases.append((f"{name}/tied0", _tied(ref), tb, ref))
    reports = grade_many([GradeItem(design_sv=d, testbench_sv=t, ref_sv=r) for _, d, t, r in cases])
    disagree = []
    for (label, design, tb, ref), rep in zip(cases, reports, strict=True):
        plain = _plain(design, tb, ref)
        ours = (rep.mismatches, rep.samples) if rep.category in ("pass", "mismatch") else None
        if plain != ours:
            disagree.append((label, plain, ours, rep.category, rep.detail[:200]))
    assert disagree == []
