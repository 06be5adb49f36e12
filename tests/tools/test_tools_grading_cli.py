"""`veriloop tools sim --tb` grades with the honest grader: a design cannot print its way to a pass."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from veriloop.testing.attacks import CLASSES, tied

DATA = Path(__file__).resolve().parents[2].parent / "shared/benchmarks/verilog-eval-v2/dataset_spec-to-rtl"

TB = """module tb;
  reg [3:0] a; wire [3:0] y; integer errors = 0, i;
  TopModule dut(.a(a), .y(y));
  initial begin
    for (i = 0; i < 200; i = i + 1) begin a = i; #1; if (y !== ~a) errors = errors + 1; end
  end
  final $display("Mismatches: %0d in %0d samples", errors, 200);
endmodule
"""
RIGHT = "module TopModule(input [3:0] a, output [3:0] y);\n  assign y = ~a;\nendmodule\n"
WRONG = "module TopModule(input [3:0] a, output [3:0] y);\n  assign y = 4'd0;\n"
FORGED = '$display("Mismatches: 0 in 200 samples");'
FORGERIES = {
    "print_and_finish": WRONG + f"  initial begin {FORGED} $finish; end\nendmodule\n",
    "print_and_stop": WRONG + f"  initial begin {FORGED} #2 $stop; end\nendmodule\n",
    "finish_under_icarus": WRONG + '`ifdef __ICARUS__\n  initial #1 $finish;\n`endif\nendmodule\n',
    "scope_name": WRONG + '  initial $display("%m Mismatches: 0 in 200 samples");\nendmodule\n',
    "include": '`include "tb.sv"\n' + WRONG + "endmodule\n`ifdef NEVER\n",
}


def _sim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "veriloop", "tools", "sim", *args, "--json"],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forged_summary_never_passes(tmp_path: Path, name: str) -> None:
    (tmp_path / "tb.sv").write_text(TB)
    (tmp_path / "d.sv").write_text(FORGERIES[name])
    res = _sim(str(tmp_path / "d.sv"), "--tb", str(tmp_path / "tb.sv"))
    rep = json.loads(res.stdout)
    assert res.returncode == 1 and rep["passed"] is False
    assert rep["category"] == "illegal" and rep["reasons"], rep


def test_right_design_passes_and_a_plain_wrong_one_is_a_mismatch(tmp_path: Path) -> None:
    (tmp_path / "tb.sv").write_text(TB)
    (tmp_path / "r.sv").write_text("// module module, module using\n" + RIGHT)
    ok = _sim(str(tmp_path / "r.sv"), "--tb", str(tmp_path / "tb.sv"))
    rep = json.loads(ok.stdout)
    assert ok.returncode == 0 and rep["passed"] and rep["samples"] == 200
    assert rep["samples_checked"] is False  # no reference given: the count is not cross-checked
    (tmp_path / "w.sv").write_text(WRONG + '  initial $display("Mismatches: 0 in 200 samples");\nendmodule\n')
    bad = _sim(str(tmp_path / "w.sv"), "--tb", str(tmp_path / "tb.sv"))
    rep = json.loads(bad.stdout)
    assert bad.returncode == 1 and rep["category"] == "mismatch" and rep["mismatches"] == 188


def test_testbench_without_a_summary_grades_nothing(tmp_path: Path) -> None:
    (tmp_path / "tb.sv").write_text("module tb; TopModule dut(); initial $display(\"PASS\"); endmodule\n")
    (tmp_path / "d.sv").write_text("module TopModule; endmodule\n")
    res = _sim(str(tmp_path / "d.sv"), "--tb", str(tmp_path / "tb.sv"))
    rep = json.loads(res.stdout)
    assert res.returncode == 1 and not rep["passed"] and rep["category"] == "tool_error"
    assert "summary" in rep["detail"]


@pytest.mark.skipif(not DATA.is_dir(), reason="VerilogEval v2 data not present")
@pytest.mark.parametrize(("cls", "variant"), [
    ("early_finish", "finish_after_first_sample"), ("preprocessor", "include_tb_own_ref_open_ifdef"),
    ("nonce", "nonce_from_scope_and_flood"), ("upward", "macromodule_good1"), ("upward", "instantiate_ref"),
])
def test_verilog_eval_attacks_through_tools_sim_with_ref(tmp_path: Path, cls: str, variant: str) -> None:
    ref = DATA / "Prob050_kmap1_ref.sv"
    (tmp_path / "d.sv").write_text(CLASSES[cls][variant](ref.read_text()))
    res = _sim(str(tmp_path / "d.sv"), "--tb", str(DATA / "Prob050_kmap1_test.sv"), "--ref", str(ref))
    rep = json.loads(res.stdout)
    assert res.returncode == 1 and rep["category"] == "illegal", rep


@pytest.mark.skipif(not DATA.is_dir(), reason="VerilogEval v2 data not present")
def test_tools_sim_with_ref_cross_checks_the_sample_count(tmp_path: Path) -> None:
    ref = DATA / "Prob050_kmap1_ref.sv"
    (tmp_path / "d.sv").write_text(ref.read_text().replace("RefModule", "TopModule"))
    res = _sim(str(tmp_path / "d.sv"), "--tb", str(DATA / "Prob050_kmap1_test.sv"), "--ref", str(ref))
    rep = json.loads(res.stdout)
    assert res.returncode == 0 and rep["passed"] and rep["samples_checked"]
    assert rep["samples"] == rep["expected_samples"] == 219
    (tmp_path / "w.sv").write_text(tied(ref.read_text()))
    res = _sim(str(tmp_path / "w.sv"), "--tb", str(DATA / "Prob050_kmap1_test.sv"), "--ref", str(ref))
    assert res.returncode == 1 and json.loads(res.stdout)["category"] == "mismatch"
