"""`veriloop evolve NAME` runs a built-in problem by its bare name; an unknown name is one sentence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "veriloop", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def test_bare_problem_name_runs_the_builtin(tmp_path: Path) -> None:
    r = _cli("evolve", "gpu_model_placement", "--iterations", "2", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["problem"] == "gpu_model_placement" and summary["status"] == "done"
    assert summary["best_score"] is not None and summary["best_score"] > 0


def test_unknown_name_lists_the_builtins(tmp_path: Path) -> None:
    r = _cli("evolve", "no_such_problem", cwd=tmp_path)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "no_such_problem" in r.stderr and "moe_eplb" in r.stderr
