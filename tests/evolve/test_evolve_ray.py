"""--executor ray (a local Ray started by the test) gives the same database as the local executor."""

from __future__ import annotations

from pathlib import Path

import pytest

from veriloop.config import load_settings
from veriloop.evolve.controller import EvolveOptions, run_evolution

from .helpers_evolve import copy_problem, db_rows

ray = pytest.importorskip("ray")


def test_ray_matches_local(tmp_path: Path) -> None:
    problem = copy_problem(tmp_path)
    settings = load_settings()
    local = run_evolution(problem, settings, EvolveOptions(iterations=10, seed=11, eval_workers=2))
    try:
        remote = run_evolution(
            problem, settings, EvolveOptions(iterations=10, seed=11, eval_workers=2, executor="ray")
        )
    finally:
        ray.shutdown()
    assert remote.status == "done" and remote.iterations_done == 11
    a = db_rows(Path(local.run_dir) / "programs.sqlite")
    b = db_rows(Path(remote.run_dir) / "programs.sqlite")
    assert a == b
    assert remote.best_score == local.best_score
