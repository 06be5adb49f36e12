"""Budgets stop a run cleanly: target score, stagnation, wall time and dollars (fake priced backend)."""

from __future__ import annotations

from pathlib import Path

from veriloop.config import load_settings
from veriloop.evolve.controller import BackendChoice, EvolveOptions, run_evolution
from veriloop.runstore import load_run
from veriloop.testing.fake_openai import FakeOpenAIServer, write_config

from .helpers_evolve import copy_problem


def test_target_score_and_stagnation(tmp_path: Path) -> None:
    problem = copy_problem(tmp_path)
    settings = load_settings()
    s = run_evolution(problem, settings, EvolveOptions(iterations=200, seed=5, target_score=-1.0, window=2))
    assert s.stop_reason == "target_score" and s.best_score is not None and s.best_score >= -1.0
    assert s.iterations_done < 201
    s2 = run_evolution(problem, settings, EvolveOptions(iterations=200, seed=5, stagnation=3, window=1))
    assert s2.stop_reason == "stagnation" and s2.iterations_done < 201
    rec = load_run(settings.data_path, s2.run_id)
    assert rec.status == "done" and rec.meta["stop_reason"] == "stagnation"


def test_wall_time_budget(tmp_path: Path) -> None:
    problem = copy_problem(tmp_path)
    s = run_evolution(problem, load_settings(), EvolveOptions(iterations=100000, seed=1, max_wall_s=3.0))
    assert s.stop_reason == "wall_time" and 1 < s.iterations_done < 100000


def test_dollar_budget(tmp_path: Path, fake_openai: FakeOpenAIServer) -> None:
    problem = copy_problem(tmp_path)
    fake_openai.responder = lambda body: "no edit today"
    # ~600 prompt tokens per call at $100/Mtok: about 6 cents a call.
    write_config(tmp_path, fake_openai, price_in_per_mtok=100.0, price_out_per_mtok=100.0)
    opts = EvolveOptions(
        backends=[BackendChoice(name="fake")],
        iterations=500,
        seed=0,
        budget_usd=0.3,
        llm_concurrency=2,
        window=2,
    )
    s = run_evolution(problem, load_settings(), opts)
    assert s.stop_reason == "budget_usd"
    assert 0.3 <= s.stats["cost_usd"] < 0.3 + 3 * 0.2
    assert s.iterations_done < 100
