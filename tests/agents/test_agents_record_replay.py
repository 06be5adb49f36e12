"""A design run recorded with --record replays from its cassette with the server stopped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from veriloop.testing.fake_openai import write_config


def _design(cwd: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, VERILOOP_DATA_DIR=str(data))
    return subprocess.run([sys.executable, "-m", "veriloop", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_recorded_design_run_replays_without_the_server(tmp_path: Path, fake_openai: Any, kit: Any) -> None:
    fake_openai.responder = kit.Team(rtl=[kit.BUGGY, kit.GOOD])
    write_config(tmp_path, fake_openai)
    cassette = tmp_path / "run.jsonl"
    first = _design(tmp_path, tmp_path / "data1", "--record", str(cassette), "--json", "design", kit.SPEC,
                    "--backend", "fake", "--out", "out1", "--max-iters", "3")
    assert first.returncode == 0, first.stderr
    recorded = first.stdout
    calls = fake_openai.request_count
    assert calls >= 5
    assert len(cassette.read_text().splitlines()) == calls  # every exchange is on the cassette
    fake_openai.stop()

    # A fresh data dir, so the lessons the first run stored do not change the prompts.
    second = _design(tmp_path, tmp_path / "data2", "--json", "design", kit.SPEC,
                     "--backend", f"replay:{cassette}", "--out", "out2", "--max-iters", "3")
    assert second.returncode == 0, second.stderr
    one, two = json.loads(recorded), json.loads(second.stdout)
    assert one["verified"] and two["verified"]
    r1 = json.loads((tmp_path / "out1" / "report.json").read_text())
    r2 = json.loads((tmp_path / "out2" / "report.json").read_text())
    assert [(v["passed"], v["category"], v["mismatches"]) for v in r1["verdicts"]] == [
        (v["passed"], v["category"], v["mismatches"]) for v in r2["verdicts"]
    ]
    assert (tmp_path / "out1" / "counter.sv").read_text() == (tmp_path / "out2" / "counter.sv").read_text()
    assert r2["prompt_tokens"] == r1["prompt_tokens"]  # the replayed completions carry the recorded usage


def test_replay_of_a_missing_exchange_fails_clearly(tmp_path: Path, kit: Any) -> None:
    cassette = tmp_path / "empty.jsonl"
    cassette.write_text("")
    r = _design(tmp_path, tmp_path / "data", "design", kit.SPEC, "--backend", f"replay:{cassette}",
                "--out", "out")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "cassette" in r.stderr.lower()
