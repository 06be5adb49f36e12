"""`veriloop design --tb` (no --ref): wrong RTL that forges the testbench's verdict is not VERIFIED."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from veriloop.testing.fake_openai import write_config

_TAIL = "endmodule\n"
CHEATS = {
    # Print a clean summary and stop the simulation before the testbench prints its own ($stop: the
    # generator already drops modules that call $finish, as testbench-like).
    "forged_summary_and_stop": (
        '`ifdef __ICARUS__\n    initial begin $display("Mismatches: 0 in 60 samples"); $stop; end\n'
        "`endif\n"
    ),
    # Read the scope name (the old grader put its nonce there) and print a tagged summary with it.
    "nonce_from_scope": (
        '`ifdef __ICARUS__\n    string s;\n    initial begin s = $sformatf("%m");\n'
        '      $display("VERILOOP-%s Mismatches: 0 in 60 samples", s.substr(3, 26)); end\n`endif\n'
    ),
    # Read the simulator's own memory, where the compiled program (and its nonce) lives.
    "process_memory": (
        '`ifdef __ICARUS__\n    integer fd;\n    initial fd = $fopen("/proc/self/mem", "r");\n`endif\n'
    ),
}


def _design(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, VERILOOP_DATA_DIR=str(cwd / "data"))
    argv = [sys.executable, "-m", "veriloop", "--json", "design", *args]
    argv += ["--tb", "tb.sv", "--backend", "fake", "--max-iters", "1", "--out", "out"]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_design_tb_never_verifies_a_forgery(tmp_path: Path, fake_openai: Any, kit: Any, cheat: str) -> None:
    wrong = kit.BUGGY.replace(_TAIL, CHEATS[cheat] + _TAIL)
    (tmp_path / "tb.sv").write_text(kit.tb(cycles=60))
    fake_openai.responder = kit.Team(rtl=[wrong])
    write_config(tmp_path, fake_openai)
    done = _design(tmp_path, kit.SPEC)
    assert done.returncode == 1, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert not result["verified"] and result["status"] == "not verified"
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    (verdict,) = report["verdicts"]
    assert verdict["category"] == "illegal" and not verdict["passed"], verdict
    assert "NOT VERIFIED" in (tmp_path / "out" / "report.md").read_text()


def test_design_tb_verifies_a_right_design_with_comments(tmp_path: Path, fake_openai: Any, kit: Any) -> None:
    right = "// counter module using a 4-bit register; module module\n" + kit.GOOD.replace(
        _TAIL, '    initial $display("module x; debug line");\n' + _TAIL
    )
    (tmp_path / "tb.sv").write_text(kit.tb(cycles=60))
    fake_openai.responder = kit.Team(rtl=[right])
    write_config(tmp_path, fake_openai)
    done = _design(tmp_path, kit.SPEC)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["verified"]
