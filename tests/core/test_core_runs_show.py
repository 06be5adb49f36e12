"""`runs show` of a design run reads as a summary; --json keeps the full data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from veriloop import runstore

CLI = [sys.executable, "-m", "veriloop"]


def test_design_run_show_is_a_summary(tmp_path: Path) -> None:
    data = tmp_path / "data"
    rec = runstore.create_run(data, "design", title="8-bit counter")
    out = rec.dir / "out"
    out.mkdir()
    (out / "report.json").write_text(json.dumps({
        "status": "not verified", "verified": False, "reason": "simulation mismatch after 4 iterations",
        "evidence": "Mismatches: 3 in 20 samples\nfirst mismatch at 45 ns", "iterations": 4, "calls": 9,
        "prompt_tokens": 1000, "completion_tokens": 500, "usd": 0.0123}))
    runstore.update_run(rec, status="failed", meta={"out_dir": str(out), "verified": False})
    r = subprocess.run([*CLI, "runs", "show", rec.id], capture_output=True, text=True, cwd=tmp_path,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"run {rec.id}") and "not verified" in lines[0]
    assert "verdict: NOT VERIFIED: simulation mismatch after 4 iterations" in r.stdout
    assert "Mismatches: 3 in 20 samples" in r.stdout and "$0.0123" in r.stdout
    assert f"outputs: {out}" in r.stdout and "{'" not in r.stdout
    js = subprocess.run([*CLI, "--json", "runs", "show", rec.id], capture_output=True, text=True,
                        cwd=tmp_path, timeout=120)
    data_out = json.loads(js.stdout)
    assert data_out["report"]["iterations"] == 4 and data_out["state"] == "not verified"


def test_evolve_run_show_and_resume_print_the_evolve_summary(tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=tmp_path, timeout=300)

    first = cli("evolve", "moe_eplb", "--iterations", "1")
    assert first.returncode == 0, first.stderr
    (rec,) = runstore.list_runs(tmp_path / "data", "evolve")
    shown = cli("runs", "show", rec.id)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0].startswith(f"run {rec.id}  ·  evolve  ·  done")
    assert "best: " in shown.stdout and "{'" not in shown.stdout
    resumed = cli("runs", "resume", rec.id)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.startswith(f"run {rec.id}  problem moe_eplb") and "{'" not in resumed.stdout
    assert "evolve moe_eplb" in resumed.stderr  # the progress bar
