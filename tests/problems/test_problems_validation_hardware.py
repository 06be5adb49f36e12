"""abc_recipe and rtl_ppa refuse unsafe or non-equivalent candidates with a clear artifact."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from veriloop.problems import problem_path

pytestmark = pytest.mark.skipif(
    shutil.which("yosys") is None or shutil.which("yosys-abc") is None,
    reason="yosys / yosys-abc not installed",
)


def _evaluator(name: str) -> Any:
    import sys

    d = problem_path(name)
    sys.path.insert(0, str(d))
    try:
        spec = importlib.util.spec_from_file_location(f"{name}_evaluator_for_tests", d / "evaluator.py")
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path.pop(0)
    return mod


@pytest.mark.parametrize(
    ("recipe", "needle"),
    [
        ("read_aiger /etc/passwd\n", "not allowed"),
        ("balance; write_aiger /tmp/x.aig\n", "not allowed"),
        ("source evil.abc\n", "not allowed"),
        ("map -a\n", "not allowed"),
        ("cec\n", "not allowed"),
        ("rewrite -v\n", "option '-v'"),
        ("refactor -N 99\n", "[2, 12]"),
        ('balance "x"\n', "not an allowed token"),
        ("balance\n" * 41, "at most 40"),
    ],
)
def test_abc_recipes_outside_the_whitelist_are_rejected(lib: Any, recipe: str, needle: str) -> None:
    reason = lib.rejected(lib.run("abc_recipe", recipe))
    assert reason.startswith("invalid recipe") and needle in reason, reason


def test_abc_empty_recipe_is_legal_but_scores_its_own_quality(lib: Any) -> None:
    out = lib.run("abc_recipe", "# nothing\n")
    assert out.error is None and out.metrics["valid"] == 1.0
    assert 0.0 < out.combined_score < 1.2


def test_abc_non_equivalent_networks_are_detected(tmp_path: Path) -> None:
    ev = _evaluator("abc_recipe")
    aig_a = ev.build_aig(str(tmp_path), "max4")
    # A different function with the same interface: max4 with its select logic inverted.
    src = (problem_path("abc_recipe") / "designs" / "max4.v").read_text().replace("a >= b", "a < b")
    (tmp_path / "designs").mkdir()
    (tmp_path / "designs" / "max4.v").write_text(src)
    out_b = tmp_path / "wrong.aig"
    subprocess.run(
        [
            "yosys",
            "-q",
            "-p",
            f"read_verilog {tmp_path / 'designs' / 'max4.v'}; synth -flatten -top max4 "
            f"-run begin:fine; techmap; opt -fast; aigmap; opt_clean; write_aiger -zinit {out_b}",
        ],
        check=True,
        capture_output=True,
    )
    same, _ = ev.check_equivalent(aig_a, aig_a, str(tmp_path))
    assert same
    equal, report = ev.check_equivalent(aig_a, str(out_b), str(tmp_path))
    assert not equal
    assert "NOT EQUIVALENT" in report, report


NOT_EQUIV = """module popcount16(input [15:0] in, output [4:0] count);
  assign count = in[0] + in[1] + in[2] + in[3] + in[4] + in[5] + in[6] + in[7]
               + in[8] + in[9] + in[10] + in[11] + in[12] + in[13] + in[14];
endmodule
"""
HARD_CODED = """module popcount16(input [15:0] in, output [4:0] count);
  assign count = 5'd8;
endmodule
"""


def test_rtl_non_equivalent_designs_are_rejected_with_a_counterexample(lib: Any) -> None:
    for src in (NOT_EQUIV, HARD_CODED):
        out = lib.run("rtl_ppa", src)
        reason = lib.rejected(out)
        assert "not equivalent" in reason
        assert "counterexample: in = 16'h" in out.artifacts["detail"]


@pytest.mark.parametrize(
    ("src", "needle"),
    [
        ('`include "/work/main/veriloop/problems/rtl_ppa/reference.v"\n', "`include"),
        (
            "module popcount16(input [15:0] in, output reg [4:0] count);\n"
            '  initial $readmemh("x.hex", count);\nendmodule\n',
            "system tasks",
        ),
        ("(* blackbox *) module popcount16(input [15:0] in, output [4:0] count); endmodule\n", "blackbox"),
        (
            "module popcount16(input [15:0] in, output reg [4:0] count);\n"
            "  always @(posedge in[0]) count <= in[4:0];\nendmodule\n",
            "combinational",
        ),
    ],
)
def test_rtl_unsafe_constructs_are_refused_before_synthesis(lib: Any, src: str, needle: str) -> None:
    reason = lib.rejected(lib.run("rtl_ppa", src))
    assert reason.startswith("refused before synthesis") and needle in reason, reason


def test_rtl_wrong_interface_and_missing_submodules_are_rejected(lib: Any) -> None:
    reason = lib.rejected(
        lib.run(
            "rtl_ppa",
            "module popcount16(input [15:0] x, output [4:0] count);\n  assign count = x[0];\nendmodule\n",
        )
    )
    assert "required interface" in reason
    out = lib.run(
        "rtl_ppa",
        "module popcount16(input [15:0] in, output [4:0] count);\n"
        "  magic_counter u(.in(in), .count(count));\nendmodule\n",
    )
    assert "required interface" in lib.rejected(out)
    assert "magic_counter" in out.artifacts.get("detail", "")


def test_rtl_multiple_drivers_found_by_evolution_are_rejected(lib: Any) -> None:
    # An offline-evolution mutation (carry[j - 1]) once scored 896x: the out-of-range, doubly driven
    # carry chain made Yosys see undriven wires, synthesis dropped all logic and the RTL-level proof
    # passed. Now `check -assert` refuses it and the proof runs on the synthesised netlist.
    hack = lib.problem("rtl_ppa").initial_code.replace("carry[j + 1] = prev[j]", "carry[j - 1] = prev[j]")
    assert hack != lib.problem("rtl_ppa").initial_code
    out = lib.run("rtl_ppa", hack)
    reason = lib.rejected(out)
    assert "multiple drivers" in reason or "elaborate cleanly" in reason
    assert "no driver" in out.artifacts.get("detail", "")
