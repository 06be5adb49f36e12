"""What people and scripts copy from piped output stays whole: errors, paths, run ids; run states."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from veriloop import runstore

CLI = [sys.executable, "-m", "veriloop"]


def _cli(*args: str, cwd: Path, columns: int = 80) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["COLUMNS"] = str(columns)
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=120, env=env)


def _deep(tmp_path: Path, length: int = 200) -> Path:
    d = tmp_path
    i = 0
    while len(str(d)) < length:
        d = d / f"deep-directory-name-{i:02d}"
        i += 1
    d.mkdir(parents=True)
    return d


def test_error_with_a_long_path_is_one_unbroken_line(tmp_path: Path) -> None:
    deep = _deep(tmp_path)
    missing = deep / "zzz.sv"
    r = _cli("bench", "run", "--suite", "rtllm", "--path", str(missing), "--backend", "reference", cwd=deep)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    assert lines[0] == f"error: Suite path {missing} does not exist.", r.stderr
    r = _cli("tools", "lint", str(missing), cwd=deep)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert str(missing) in r.stderr.splitlines()[0] and "does not exist" in r.stderr.splitlines()[0]


def test_runs_list_in_an_80_column_pipe_shows_whole_ids_and_real_states(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = runstore.update_run(runstore.create_run(data, "bench", title="x" * 150), status="done")
    unverified = runstore.update_run(runstore.create_run(data, "design", title="counter"), status="failed",
                                     meta={"verified": False, "reason": "simulation mismatch"})
    aborted = runstore.update_run(runstore.create_run(data, "design", title="counter"), status="failed",
                                  meta={"error": "Backend 'gpt' cannot be used: connection refused."})
    # a run whose process died without a word (SIGKILL, power cut): its record still says running
    code = ("import sys; from pathlib import Path; from veriloop import runstore; "
            "print(runstore.create_run(Path(sys.argv[1]), 'evolve', title='killed').id)")
    killed_id = subprocess.run([sys.executable, "-c", code, str(data)], capture_output=True, text=True,
                               check=True).stdout.strip()
    live = runstore.create_run(data, "bench", title="this process")  # its owner (this test) is alive
    r = _cli("runs", "list", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line for line in r.stdout.splitlines() if line[:2] in ("b-", "d-", "e-")}
    assert set(rows) == {done.id, unverified.id, aborted.id, killed_id, live.id}  # whole ids
    assert all(len(line) <= 80 for line in r.stdout.splitlines())
    assert rows[done.id].split()[2] == "done"
    assert " not verified " in rows[unverified.id]
    assert rows[aborted.id].split()[2] == "error"
    assert rows[killed_id].split()[2] == "killed"
    assert rows[live.id].split()[2] == "running"
    js = json.loads(_cli("--json", "runs", "list", cwd=tmp_path).stdout)
    assert {row["id"]: row["state"] for row in js}[killed_id] == "killed"


def test_usage_errors_are_a_message_not_a_traceback(tmp_path: Path) -> None:
    for args, says in ((["bench", "report"], "Missing argument"), (["nosuchcmd"], "No such command"),
                       (["bench", "run", "--nope"], "No such option: --nope")):
        r = _cli(*args, cwd=tmp_path)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert says in r.stderr
