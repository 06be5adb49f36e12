"""Bad input to `veriloop design`: one clear sentence, non-zero exit, no traceback, nothing started."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _design(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "veriloop", "design", *args],
        cwd=tmp_path,
        env=env or os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_sentence_error(done: subprocess.CompletedProcess[str], needle: str) -> None:
    assert done.returncode not in (0, 1), (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    first = errors[0]
    assert needle in first, first


def _no_runs(tmp_path: Path) -> None:
    runs = tmp_path / "data" / "runs"
    assert not runs.exists() or not any(runs.iterdir())


@pytest.mark.parametrize("spec", ["", "   \n  "])
def test_empty_spec(tmp_path: Path, spec: str) -> None:
    _one_sentence_error(_design(tmp_path, spec), "spec is empty")
    _no_runs(tmp_path)


def test_unreadable_spec_file(tmp_path: Path) -> None:
    _one_sentence_error(_design(tmp_path, "specs/missing.txt"), "does not exist")
    (tmp_path / "adir.txt").mkdir()
    _one_sentence_error(_design(tmp_path, "adir.txt"), "is a directory")
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00\x81 not text")
    _one_sentence_error(_design(tmp_path, "binary.txt"), "not UTF-8")
    (tmp_path / "empty.txt").write_text("  \n")
    _one_sentence_error(_design(tmp_path, "empty.txt"), "is empty")
    _no_runs(tmp_path)


def test_unreadable_testbench_file(tmp_path: Path) -> None:
    _one_sentence_error(_design(tmp_path, "8-bit counter", "--tb", "nope/tb.sv"), "testbench file")
    _no_runs(tmp_path)


def test_unknown_backend(tmp_path: Path) -> None:
    _one_sentence_error(
        _design(tmp_path, "8-bit counter", "--backend", "gpt-nonexistent"),
        "Unknown backend 'gpt-nonexistent'",
    )
    _no_runs(tmp_path)


def test_backend_without_key(tmp_path: Path) -> None:
    (tmp_path / "veriloop.toml").write_text(
        '[backends.remote]\nkind = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n'
        'api_key_env = "VERILOOP_TEST_UNSET_KEY"\n'
    )
    env = {k: v for k, v in os.environ.items() if k != "VERILOOP_TEST_UNSET_KEY"}
    _one_sentence_error(
        _design(tmp_path, "8-bit counter", "--backend", "remote", env=env), "VERILOOP_TEST_UNSET_KEY"
    )
    _no_runs(tmp_path)


def test_missing_tools(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    # A PATH with the venv's python but without iverilog.
    env = os.environ.copy()
    env["PATH"] = f"{bindir}:{Path(sys.executable).parent}"
    done = _design(tmp_path, "8-bit up counter with enable", env=env)
    _one_sentence_error(done, "iverilog is not installed")
    _no_runs(tmp_path)


def test_oracle_mode_needs_testbench(tmp_path: Path) -> None:
    _one_sentence_error(_design(tmp_path, "8-bit counter", "--mode", "oracle-tb"), "needs a testbench")
    _one_sentence_error(_design(tmp_path, "8-bit counter", "--mode", "formal"), "Unknown mode")


def test_unreachable_backend_fails_with_one_sentence_and_keeps_the_run(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "veriloop.toml").write_text(
        f'[backends.down]\nkind = "openai"\nbase_url = "http://127.0.0.1:{port}/v1"\nmodel = "m"\n'
        "retries = 0\ntimeout_s = 2.0\n"
    )
    done = _design(tmp_path, "8-bit counter", "--backend", "down")
    _one_sentence_error(done, "down")  # the backend is named in the sentence
    assert "[0] planner: planning" in done.stderr  # plain progress lines when stderr is not a terminal
    runs = list((tmp_path / "data" / "runs").iterdir())
    assert len(runs) == 1 and '"status": "failed"' in (runs[0] / "run.json").read_text()
    assert (runs[0] / "checkpoints.sqlite").is_file()
