"""A design run SIGKILLed mid-way resumes from its SQLite checkpoint without redoing finished steps."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from veriloop.agents import runs
from veriloop.config import load_settings
from veriloop.runstore import list_runs
from veriloop.testing.fake_openai import Reply, write_config


def test_sigkill_then_resume_does_not_redo_finished_steps(tmp_path: Path, fake_openai, kit) -> None:
    team = kit.Team(rtl=[kit.BUGGY, kit.GOOD])
    phase = {"slow_verifier": True}

    def responder(body: dict[str, Any]) -> Reply:
        text = team(body)
        slow = phase["slow_verifier"] and kit.role(body) == "verifier"
        return Reply(content=text, delay_s=30.0 if slow else 0.0)

    fake_openai.responder = responder
    write_config(tmp_path, fake_openai)
    proc = subprocess.Popen(
        [sys.executable, "-m", "veriloop", "design", kit.SPEC, "--max-iters", "3", "--json"],
        cwd=tmp_path,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        # planner, architect, generator answered; the verifier's testbench request is in flight.
        while fake_openai.request_count < 4 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert fake_openai.request_count == 4, proc.communicate(timeout=5)
        assert kit.role(fake_openai.requests[-1]) == "verifier"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    settings = load_settings()
    (record,) = list_runs(settings.data_path, "design")
    assert record.status == "running"
    shown = runs.show(record)
    assert shown["thread"]["modules"] == ["counter"]  # the generator's step was checkpointed
    assert shown["thread"]["next"] == ["verifier"]

    phase["slow_verifier"] = False
    done = subprocess.run(
        [sys.executable, "-m", "veriloop", "runs", "resume", record.id, "--json"],
        cwd=tmp_path,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = runs.DesignResult.model_validate(json.loads(done.stdout))
    assert result.verified, result.reason
    by_role = [kit.role(b) for b in fake_openai.requests]
    # Finished steps were not redone: one planner, one architect, one first-pass generator call.
    assert by_role.count("planner") == 1 and by_role.count("architect") == 1
    assert by_role.count("generator") == 2  # first pass + the fix after the verdict
    assert by_role.count("verifier") == 2  # the killed request, asked again
    assert fake_openai.request_count == 6
    report = json.loads((Path(result.out_dir) / "report.json").read_text())
    assert report["run_id"] == record.id and report["status"] == "verified"
    exported = runs.export(list_runs(settings.data_path, "design")[0], tmp_path / "exported")
    assert {p.name for p in exported} >= {"counter.sv", "tb.sv", "report.json", "report.md", "run.json"}
    assert list_runs(settings.data_path, "design")[0].status == "done"
