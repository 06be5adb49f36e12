"""LLM concurrency and evaluation workers are separate limits; weighted ensembles use every backend."""

from __future__ import annotations

import itertools
import re
import sqlite3
from pathlib import Path
from typing import Any

from veriloop.config import load_settings
from veriloop.evolve.controller import BackendChoice, EvolveOptions, run_evolution
from veriloop.testing.fake_openai import FakeOpenAIServer, write_config

from .helpers_evolve import copy_problem


def _responder() -> Any:
    counter = itertools.count(1)

    def respond(body: dict[str, Any]) -> str:
        text = body["messages"][-1]["content"]
        m = re.search(r"^    a = (\S+)$", text, re.M)
        if m is None:
            return "no idea"
        return (
            f"<<<<<<< SEARCH\n    a = {m.group(1)}\n=======\n    a = {1.0 + next(counter) / 100:.2f}\n"
            ">>>>>>> REPLACE\n"
        )

    return respond


def test_llm_and_eval_limits_are_independent(tmp_path: Path, fake_openai: FakeOpenAIServer) -> None:
    problem = copy_problem(tmp_path)
    fake_openai.responder = _responder()
    fake_openai.latency_s = 0.4
    write_config(tmp_path, fake_openai)
    opts = EvolveOptions(
        backends=[BackendChoice(name="fake")], iterations=24, seed=0, llm_concurrency=8, eval_workers=1
    )
    s = run_evolution(problem, load_settings(), opts)
    assert s.status == "done" and s.iterations_done == 25
    assert fake_openai.max_in_flight >= 4  # many LLM calls waited on the network at once...
    assert 4 <= fake_openai.max_in_flight <= 8  # ...never more than --llm-concurrency
    assert s.stats["by_status"].get("evaluated", 0) >= 20


def test_weighted_ensemble_and_bandit(tmp_path: Path, fake_openai: FakeOpenAIServer) -> None:
    problem = copy_problem(tmp_path)
    fake_openai.responder = _responder()
    write_config(tmp_path, fake_openai, price_in_per_mtok=1.0, price_out_per_mtok=2.0)
    for bandit in (False, True):
        opts = EvolveOptions(
            backends=[BackendChoice.parse("fake:0.5"), BackendChoice.parse("offline:0.5")],
            bandit=bandit,
            iterations=16,
            seed=3,
        )
        s = run_evolution(problem, load_settings(), opts)
        conn = sqlite3.connect(Path(s.run_dir) / "programs.sqlite")
        used = dict(
            conn.execute(
                "SELECT backend, COUNT(*) FROM iterations WHERE iteration > 0 GROUP BY backend"
            ).fetchall()
        )
        conn.close()
        assert set(used) == {"fake", "offline"}, used
        assert s.stats["cost_usd"] > 0
