"""Suite loaders: VerilogEval v2 from a path, the RTLLM-format fixture, and path validation."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from veriloop.bench.suites import load_suite
from veriloop.bench.suites.rtllm import dut_name
from veriloop.errors import InputError

# a verilog-eval checkout (its two dataset folders); override with VERILOG_EVAL_PATH
# ../shared beside the repository (as CI lays it out); VERILOG_EVAL_PATH overrides.
VE = Path(os.environ.get("VERILOG_EVAL_PATH")
          or Path(__file__).resolve().parents[2].parent / "shared/benchmarks/verilog-eval-v2")
FIXTURE = Path(__file__).parent / "fixtures" / "rtllm"
needs_ve = pytest.mark.skipif(not VE.is_dir(), reason="VerilogEval v2 data not on this machine")


@needs_ve
def test_verilog_eval_both_variants_load_156_problems() -> None:
    s2r = load_suite("verilog-eval", VE)
    cc = load_suite("verilog-eval-cc", VE / "dataset_code-complete-iccad2023")
    assert len(s2r.problems) == 156 and len(cc.problems) == 156
    p = s2r.problems[0]
    assert p.id == "Prob001_zero" and p.top == "TopModule" and "RefModule" in (p.ref or "")
    assert "module TopModule" in p.golden and "RefModule" not in p.golden
    assert set(p.reserved_modules) >= {"tb", "RefModule", "stimulus_gen"}
    assert cc.problems[0].interface.startswith("module TopModule")
    assert s2r.problems[0].interface == ""


@needs_ve
def test_verilog_eval_loader_names_first_unreadable_problem(tmp_path: Path) -> None:
    d = tmp_path / "dataset_spec-to-rtl"
    shutil.copytree(VE / "dataset_spec-to-rtl", d)
    (d / "Prob003_step_one_ref.sv").unlink()
    (d / "Prob007_wire_test.sv").unlink()
    with pytest.raises(InputError, match=r"Prob003_step_one: Prob003_step_one_ref.sv is missing"):
        load_suite("verilog-eval", tmp_path)


def test_bad_paths_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_suite("verilog-eval", tmp_path / "nope")
    with pytest.raises(InputError, match="needs --path"):
        load_suite("rtllm", None)
    with pytest.raises(InputError, match="no VerilogEval"):
        load_suite("verilog-eval", tmp_path)
    with pytest.raises(InputError, match="no RTLLM design folders"):
        load_suite("rtllm", tmp_path)
    with pytest.raises(InputError, match="Unknown suite"):
        load_suite("humaneval", tmp_path)


def test_rtllm_fixture_loads_with_spaces_and_data_files() -> None:
    suite = load_suite("rtllm", FIXTURE)
    by = {p.id: p for p in suite.problems}
    assert set(by) == {"adder_8bit", "lut_check"}
    lut = by["lut_check"]
    assert lut.top == "lut_square" and lut.tb_top == "tb" and "Lookup table" in lut.source
    assert lut.data_files["expected.hex"].split() == [b"0", b"1", b"4", b"9"]
    assert "Mismatches: %0d in 1 samples" in lut.testbench and "module lut_square" in lut.golden
    assert by["adder_8bit"].top == "adder_8bit"


def test_rtllm_module_name_line_forms() -> None:
    assert dut_name("Module name:\n    adder_32bit   \nInput ports:") == "adder_32bit"
    assert dut_name("Module name: fsm_ctrl\n") == "fsm_ctrl"
    assert dut_name("No name here") is None


def test_rtllm_loader_names_first_bad_design(tmp_path: Path) -> None:
    root = tmp_path / "rtllm"
    shutil.copytree(FIXTURE, root)
    (root / "Memory" / "Lookup table" / "lut_check" / "testbench.v").unlink()
    with pytest.raises(InputError, match=r"RTLLM design 'lut_check'.*testbench.v is missing"):
        load_suite("rtllm", root)
    shutil.copytree(FIXTURE, tmp_path / "r2")
    desc = tmp_path / "r2" / "Arithmetic" / "Adder" / "adder_8bit" / "design_description.txt"
    desc.write_text("Implement an adder.\n")
    with pytest.raises(InputError, match="adder_8bit.*'Module name:'"):
        load_suite("rtllm", tmp_path / "r2")
