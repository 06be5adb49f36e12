"""`veriloop config show|path` through the real CLI entry point (subprocess, real exit codes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from veriloop.testing.fake_openai import FakeOpenAIServer, write_config


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "veriloop", *args], capture_output=True, text=True, env=full_env, timeout=60
    )


def test_show_masks_the_key_and_names_the_file(tmp_path: Path) -> None:
    srv = FakeOpenAIServer()  # not started: only its URL shape is needed for the file
    path = write_config(tmp_path, srv, price_in_per_mtok=2.5, base_url="http://user:pw@127.0.0.1:1/v1")
    secret = "sk-very-secret-value-123"
    res = run_cli("config", "show", env={"FAKE_KEY": secret})
    assert res.returncode == 0, res.stderr
    assert secret not in res.stdout and "pw@" not in res.stdout
    assert str(path) in res.stdout
    assert "[backends.fake]" in res.stdout and "price_in_per_mtok = 2.5" in res.stdout
    assert 'api_key = "set (masked)"' in res.stdout

    res = run_cli("config", "show", "--json", env={"FAKE_KEY": secret, "VERILOOP_SANDBOX__WALL_S": "7"})
    data = json.loads(res.stdout)
    assert data["files"] == [str(path)] and "VERILOOP_SANDBOX__WALL_S" in data["env"]
    assert data["config"]["sandbox"]["wall_s"] == 7.0
    assert data["config"]["backends"]["fake"]["api_key"] == "set (masked)"
    assert secret not in res.stdout
    res = run_cli("--json", "config", "show", env={"FAKE_KEY": ""})
    assert json.loads(res.stdout)["config"]["backends"]["fake"]["api_key"] == "not set"


def test_show_without_any_file_uses_defaults() -> None:
    res = run_cli("config", "show")
    assert res.returncode == 0, res.stderr
    assert "built-in defaults" in res.stdout and "[backends.offline]" in res.stdout


def test_malformed_toml_gives_file_line_and_problem(tmp_path: Path) -> None:
    cfg = tmp_path / "veriloop.toml"
    cfg.write_text('default_backend = "fake"\n[backends.fake]\nkind = "openai"\nmodel = "m\n')
    res = run_cli("config", "show")
    assert res.returncode != 0
    assert str(cfg) in res.stderr and "line 4" in res.stderr and "malformed TOML" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout

    cfg.write_text('[backends.fake]\nkind = "openai"\nmax_concurrency = 0\n')
    res = run_cli("config", "show")
    assert res.returncode != 0
    assert "line 3" in res.stderr and "max_concurrency" in res.stderr and "Traceback" not in res.stderr

    cfg.write_text('[backends.fake]\nkind = "openai"\nmodle = "typo"\n')
    res = run_cli("config", "show")
    assert res.returncode != 0 and "modle" in res.stderr and "line 3" in res.stderr


def test_path_lists_the_search_order(tmp_path: Path) -> None:
    res = run_cli("config", "path", "--json")
    rows = json.loads(res.stdout)
    assert [r["origin"] for r in rows] == ["project", "user"] and not any(r["used"] for r in rows)
    (tmp_path / "veriloop.toml").write_text('default_backend = "offline"\n')
    rows = json.loads(run_cli("config", "path", "--json").stdout)
    assert rows[0] == {
        "origin": "project",
        "path": str(tmp_path / "veriloop.toml"),
        "exists": True,
        "used": True,
    }
    other = tmp_path / "other.toml"
    other.write_text("")
    rows = json.loads(run_cli("--config", str(other), "config", "path", "--json").stdout)
    assert rows == [{"origin": "--config", "path": str(other), "exists": True, "used": True}]
    res = run_cli("--config", str(other), "config", "show")
    assert str(other) in res.stdout
