"""RTLLM v2 as published (../shared/benchmarks/rtllm-v2): all 50 designs load, the references are
renamed with a parser, data files reach the grader, and the reference self-test gives 46/50."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from veriloop.bench.suites import load_suite
from veriloop.bench.suites.rtllm import reference_design
from veriloop.tools.vsource import read

from .conftest import run_json

# ../shared beside the repository (as CI lays it out); RTLLM_PATH overrides.
RTLLM = Path(os.environ.get("RTLLM_PATH")
             or Path(__file__).resolve().parents[2].parent / "shared/benchmarks/rtllm-v2")
needs_rtllm = pytest.mark.skipif(not RTLLM.is_dir(), reason="RTLLM v2 data not on this machine")

# SOURCE.md beside the data: the four references that fail their own testbench on Icarus 11, and why.
FAILING = {
    "radix2_div": ("mismatch", "Failed 3"),
    "clkgenerator": ("mismatch", "20 failures"),
    "ring_counter": ("syntax", "Cannot assign to array data"),
    "asyn_fifo": ("syntax", "break statements not supported"),
}


def _modules(text: str) -> list[str]:
    return [u.name for u in read(text, defines=()).units if u.kind == "module"]


@needs_rtllm
def test_all_fifty_designs_load_with_the_reference_renamed() -> None:
    suite = load_suite("rtllm", RTLLM)
    by = {p.id: p for p in suite.problems}
    assert len(by) == 50
    for p in suite.problems:
        assert p.top in _modules(p.golden), p.id  # the testbench's DUT is what the reference defines
        assert p.top not in p.reserved_modules
    # the two references named neither <name> nor verified_<name>
    assert by["adder_pipe_64bit"].top == "adder_pipe_64bit"
    assert "verified_adder_64bit" not in _modules(by["adder_pipe_64bit"].golden)
    assert _modules(by["multi_pipe_4bit"].golden) == ["multi_pipe_4bit"]
    # helper modules keep their names; only the top's header changed
    assert _modules(by["adder_16bit"].golden) == ["adder_16bit", "add8", "add4", "add2", "add1"]
    # the DUT name comes from the testbench, not the (misspelt) description
    assert by["freq_divbyeven"].top == "freq_divbyeven" and "freq_diveven" in by["freq_divbyeven"].spec
    # folder names with spaces; data files read with $readmemh and $fopen travel with the problem
    assert "Finite State Machine" in by["fsm"].source
    assert set(by["asyn_fifo"].data_files) == {"wfull.txt", "rempty.txt", "tdata.txt"}
    assert set(by["multi_booth_8bit"].data_files) == {"test_data.dat"}
    assert set(by["alu"].data_files) == {"reference.dat"}
    assert "makefile" not in by["alu"].data_files


def test_rename_is_by_parser_not_by_text() -> None:
    """Comments, strings and other identifiers containing the old name are left as written."""
    src = ("// verified_acc is the reference\n"
           "module verified_acc(input a, output y); wire verified_acc_w = a;\n"
           "  assign y = verified_acc_w; initial if (0) $display(\"verified_acc\");\nendmodule\n")
    text, published = reference_design([("verified_acc.v", src)], "acc")  # type: ignore[misc]
    assert published == "verified_acc" and _modules(text) == ["acc"]
    assert "// verified_acc is the reference" in text and "verified_acc_w" in text
    assert '"verified_acc"' in text
    # a reference with several roots and no recognisable name cannot be guessed
    two = "module p(); endmodule\nmodule q(); endmodule\n"
    assert reference_design([("verified_x.v", two)], "acc") is None


@needs_rtllm
def test_reference_self_test_gives_46_of_50_with_the_four_named_reasons(tmp_path: Path) -> None:
    report = run_json("bench", "run", "--suite", "rtllm", "--path", str(RTLLM), "--backend", "reference")
    (g,) = report["groups"]
    assert (g["solved"], g["problems"]) == (46, 50)
    assert g["failures"] == {p: cat for p, (cat, _) in FAILING.items()}
    for p, (_, why) in FAILING.items():
        assert why in g["reasons"][p], (p, g["reasons"][p])


@needs_rtllm
def test_data_files_are_needed_and_given(tmp_path: Path) -> None:
    """The testbenches' data files reach the grader: alu's $readmemh table is needed to pass, and
    multi_booth_8bit's $fopen vectors make a wrong multiplier fail (without its file that testbench
    runs no vector and passes anything: upstream's weakness, which is why the file must be there)."""
    root = tmp_path / "rtllm"
    booth = root / "Multiplier" / "multi_booth_8bit"
    shutil.copytree(RTLLM / "Arithmetic" / "Multiplier" / "multi_booth_8bit", booth)
    shutil.copytree(RTLLM / "Miscellaneous" / "RISC-V" / "alu", root / "RISC V" / "alu")
    ok = run_json("bench", "run", "--suite", "rtllm", "--path", str(root), "--backend", "reference")
    assert ok["groups"][0]["per_problem"] == {"alu": [1, 1], "multi_booth_8bit": [1, 1]}
    ref = booth / "verified_booth4_mul.v"
    ref.write_text(ref.read_text().replace("p <= p + multiplicand;", "p <= p - multiplicand;"))
    (root / "RISC V" / "alu" / "reference.dat").unlink()
    bad = run_json("bench", "run", "--suite", "rtllm", "--path", str(root), "--backend", "reference")
    assert bad["groups"][0]["per_problem"] == {"alu": [1, 0], "multi_booth_8bit": [1, 0]}


@needs_rtllm
def test_grade_of_rtllm_trial_folders_agrees_with_the_reference_run(tmp_path: Path) -> None:
    """RTLLM's own layout (t1/<design>.v): the renamed references graded by `bench grade` get the
    self-test's verdicts, problem by problem."""
    suite = load_suite("rtllm", RTLLM)
    t1 = tmp_path / "trials" / "t1"
    t1.mkdir(parents=True)
    for p in suite.problems:
        (t1 / f"{p.top}.v").write_text(p.golden, encoding="utf-8")
    graded = run_json("bench", "grade", str(t1.parent), "--suite", "rtllm", "--path", str(RTLLM))
    (g,) = graded["groups"]
    assert (g["solved"], g["problems"]) == (46, 50)
    assert g["failures"] == {p: cat for p, (cat, _) in FAILING.items()}
