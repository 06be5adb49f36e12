"""A bench run SIGKILLed mid-way resumes and runs only the samples it had not finished."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from veriloop import runstore
from veriloop.bench.suites import load_suite
from veriloop.config import load_settings
from veriloop.testing.fake_openai import FakeOpenAIServer

from .conftest import VEV2_FIXTURE, PerProblemScript, run_json

CORRECT = {"Prob001_and2": 5, "Prob002_inv": 2, "Prob003_xor2": 0, "Prob004_mux2": 4}


def _rows(db: Path) -> int:
    if not db.is_file():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(con.execute("SELECT COUNT(*) FROM samples").fetchone()[0])
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def test_killed_run_resumes_only_missing_samples(tmp_path: Path, fake_openai: FakeOpenAIServer,
                                                 bench_toml: Any) -> None:
    problems = [p for p in load_suite("verilog-eval", VEV2_FIXTURE).problems if p.id in CORRECT]
    fake_openai.responder = PerProblemScript(problems, CORRECT)
    fake_openai.latency_s = 0.3
    bench_toml(fake=(fake_openai, "fake-model", {"max_concurrency": 2}))
    argv = [sys.executable, "-m", "veriloop", "bench", "run", "--suite", "verilog-eval",
            "--path", str(VEV2_FIXTURE), "--problems", "Prob00[1-4]_*", "--backend", "fake", "-n", "5"]
    proc = subprocess.Popen(argv, cwd=tmp_path, env=dict(os.environ), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    data = load_settings().data_path
    deadline = time.monotonic() + 120
    db: Path | None = None
    try:
        while time.monotonic() < deadline:
            runs = runstore.list_runs(data, "bench")
            if runs:
                db = runs[0].dir / "results.sqlite"
                if _rows(db) >= 6:
                    break
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert db is not None
    done_at_kill = _rows(db)
    assert 6 <= done_at_kill < 20, done_at_kill
    (rec,) = runstore.list_runs(data, "bench")
    assert rec.status == "running"  # killed: nobody got to mark it

    assert fake_openai.max_in_flight <= 2  # the backend's concurrency bound held before the kill
    # The server still finishes the dead process's requests; let them drain, then watch the resume alone.
    drain = time.monotonic() + 30
    while fake_openai.in_flight and time.monotonic() < drain:
        time.sleep(0.05)
    assert fake_openai.in_flight == 0
    fake_openai.max_in_flight = 0
    before = fake_openai.request_count
    report = run_json("bench", "run", "--resume", rec.id)
    resumed_requests = fake_openai.request_count - before
    assert resumed_requests == 20 - done_at_kill
    (g,) = report["groups"]
    assert g["samples"] == 20 and _rows(db) == 20
    assert runstore.load_run(data, rec.id).status == "done"
    assert 1 <= fake_openai.max_in_flight <= 2  # and held again in the resumed process
    # nothing is asked twice for a finished sample: a second resume makes no request at all
    again = fake_openai.request_count
    run_json("bench", "run", "--resume", rec.id)
    assert fake_openai.request_count == again
