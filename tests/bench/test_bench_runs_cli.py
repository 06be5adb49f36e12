"""A bench run through `runs resume`, `runs show` and `bench report --format html`, as a user sees them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from veriloop import runstore
from veriloop.config import load_settings

from .conftest import RTLLM_FIXTURE, run_cli, run_json


def _run() -> str:
    rep = run_json("bench", "run", "--suite", "rtllm", "--path", str(RTLLM_FIXTURE), "--backend", "reference")
    return str(rep["run_id"])


def test_html_report_goes_to_stdout_or_to_out_file(tmp_path: Path) -> None:
    rid = _run()
    piped = run_cli("bench", "report", rid, "--format", "html")
    assert piped.exit_code == 0 and piped.stdout.lstrip().lower().startswith("<!doctype html")
    assert piped.stdout.rstrip().endswith("</html>")
    target = tmp_path / "pages" / "report.html"
    written = run_cli("bench", "report", rid, "--format", "html", "--out", str(target))
    assert written.exit_code == 0 and target.read_text(encoding="utf-8") == piped.stdout
    assert "<html" not in written.stdout


def test_runs_resume_prints_the_bench_summary_not_a_dict() -> None:
    rid = _run()
    rec = runstore.load_run(load_settings().data_path, rid)
    con = sqlite3.connect(rec.dir / "results.sqlite")
    with con:
        con.execute("DELETE FROM samples WHERE problem = 'lut_check'")
    con.close()
    res = run_cli("runs", "resume", rid)
    assert res.exit_code == 0, res.output
    assert "{'run_id'" not in res.stdout and "'report'" not in res.stdout
    assert "solved" in res.stdout and "2/2" in res.stdout
    assert f"run id: {rid}" in res.stdout
    assert "1/2" in res.stderr or "2/2" in res.stderr  # the progress bar, on stderr


def test_runs_show_is_readable_and_json_on_request() -> None:
    rid = _run()
    res = run_cli("runs", "show", rid)
    assert res.exit_code == 0, res.output
    first = res.stdout.splitlines()[0]
    assert first.startswith(f"run {rid}") and "bench" in first and "done" in first
    assert "2/2" in res.stdout and "{'run'" not in res.stdout and '"run"' not in res.stdout
    data = run_json("runs", "show", rid)
    assert data["run"]["id"] == rid and data["state"] == "done" and data["groups"][0]["solved"] == 2
