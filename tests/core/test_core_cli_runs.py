"""The CLI's error path and the run registry, through the real console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from veriloop import runstore

CLI = [sys.executable, "-m", "veriloop"]


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_version() -> None:
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("veriloop ")


def test_bad_config_is_one_sentence_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "veriloop.toml").write_text("[backends\n")
    r = run_cli("runs", "list", cwd=tmp_path)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert "veriloop.toml" in r.stderr and "line 1" in r.stderr


def test_unknown_run_is_clear(tmp_path: Path) -> None:
    r = run_cli("runs", "show", "nope", cwd=tmp_path)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "No run with id 'nope'" in r.stderr


def test_runstore_roundtrip_and_list_json(tmp_path: Path) -> None:
    data = tmp_path / "data"
    rec = runstore.create_run(data, "design", title="counter", meta={"seed": 1})
    rec = runstore.update_run(rec, status="done")
    again = runstore.load_run(data, rec.id)
    assert again.status == "done" and again.meta == {"seed": 1} and again.dir == rec.dir
    r = run_cli("--json", "runs", "list", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [row["id"] for row in rows] == [rec.id]


def test_corrupt_run_record_is_a_store_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    rec = runstore.create_run(data, "evolve")
    (rec.dir / "run.json").write_text("{not json")
    r = run_cli("runs", "show", rec.id, cwd=tmp_path)
    assert r.returncode != 0 and "Traceback" not in r.stderr and "corrupt" in r.stderr


def test_error_text_with_brackets_survives(tmp_path: Path) -> None:
    r = run_cli("runs", "list", "--kind", "[backends.x]", cwd=tmp_path)
    assert r.returncode != 0 and "[backends.x]" in r.stderr
