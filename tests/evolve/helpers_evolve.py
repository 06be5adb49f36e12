"""Shared helpers of the evolve tests: copy the tiny fixture problem, read a run's database."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

from veriloop.evolve.controller import BackendChoice, EvolveOptions

FIXTURE = Path(__file__).with_name("fixtures") / "maxfn"

# The fixture problem with one island and a short, small evaluator: the fault, cut-off and steering
# tests run a few iterations of it against a scripted server.
ONE_ISLAND_TOML = """
name = "maxfn"
description = "Return x so that -(x - 3.7)**2 is large."
[evaluator]
timeout_s = 5
memory_mb = 512
[evolution]
num_islands = 1
"""


def one_at_a_time(iterations: int = 3) -> EvolveOptions:
    """Options for a short run against the fake backend: one LLM call and one evaluation at a time,
    seed 1, a window of 1 (the order of prompts and replies is the script's)."""
    return EvolveOptions(
        backends=[BackendChoice(name="fake")],
        iterations=iterations,
        seed=1,
        llm_concurrency=1,
        eval_workers=1,
        window=1,
    )


def copy_problem(dest: Path, toml_extra: str | None = None) -> Path:
    target = dest / "maxfn"
    shutil.copytree(FIXTURE, target)
    if toml_extra is not None:
        (target / "problem.toml").write_text(toml_extra, encoding="utf-8")
    return target


def set_import_mode(problem_dir: Path, mode: str) -> None:
    """Set `[evaluator] candidate_import` in the problem's problem.toml."""
    toml = problem_dir / "problem.toml"
    text = toml.read_text(encoding="utf-8") if toml.exists() else ""
    if "[evaluator]" in text:
        text = text.replace("[evaluator]\n", f'[evaluator]\ncandidate_import = "{mode}"\n', 1)
    else:
        text += f'\n[evaluator]\ncandidate_import = "{mode}"\n'
    toml.write_text(text, encoding="utf-8")


def db_rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Table contents without wall-clock columns (created, timings), ordered by iteration."""
    conn = sqlite3.connect(db)
    try:
        progs = conn.execute(
            "SELECT id, iteration, parent_id, island, generation, code, code_hash, status, metrics, "
            "artifacts, "
            "combined_score, features, stage_reached, error, fault, backend, model, cost, diff, edit "
            "FROM programs ORDER BY iteration"
        ).fetchall()
        its = conn.execute(
            "SELECT iteration, status, fault, program_id, parent_id, island, backend, model, cost, "
            "prompt_tokens, completion_tokens, retries, applied, failed, detail FROM iterations "
            "ORDER BY iteration"
        ).fetchall()
        members = conn.execute(
            "SELECT program_id, island, since_iteration FROM members "
            "ORDER BY since_iteration, program_id, island"
        ).fetchall()
    finally:
        conn.close()
    return {"programs": progs, "iterations": its, "members": members}
