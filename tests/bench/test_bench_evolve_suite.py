"""The evolve suite: problem × budget campaigns record the score reached and the spend."""

from __future__ import annotations

from pathlib import Path

import pytest

from veriloop.bench.suites import load_suite
from veriloop.errors import InputError

from .conftest import run_json


def test_evolve_suite_records_score_reached_against_the_baseline() -> None:
    report = run_json("bench", "run", "--suite", "evolve", "--problems", "moe_eplb", "--backend", "reference",
                      "--backend", "offline", "--evolve-budget", "2")
    assert report["groups"] == []  # no pass/fail for campaigns: scores instead
    rows = {(e["backend"], e["config"]): e for e in report["evolve"]}
    assert set(rows) == {("reference", "reference"), ("offline", "evolve")}
    base, evolved = rows[("reference", "reference")]["score"], rows[("offline", "evolve")]["score"]
    assert base is not None and evolved is not None
    assert evolved >= base  # the database keeps the initial program, so the best never drops below it
    assert "evolve run e-" in rows[("offline", "evolve")]["detail"]


def test_evolve_suite_path_validation(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="holds no evolution problem"):
        load_suite("evolve", tmp_path)
    names = {p.id for p in load_suite("evolve", None).problems}
    assert "moe_eplb" in names
