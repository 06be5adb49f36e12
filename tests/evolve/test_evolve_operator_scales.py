"""The offline operator searches across scales and never proposes a program the run already has."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from veriloop.config import load_settings
from veriloop.evolve.controller import EvolveOptions, run_evolution
from veriloop.evolve.edits import apply_reply, normalised_hash
from veriloop.evolve.offline_operator import propose

WEIGHTS = """# EVOLVE-BLOCK-START
W_SIZE = 1.0
W_AGE = 0.0
ROUNDS = 8


def priority(size, age):
    return W_SIZE * size + W_AGE * age
# EVOLVE-BLOCK-END
"""


def _notes(reply: str) -> str:
    return reply.split("\n", 1)[0]


def test_constants_move_across_scales() -> None:
    replies = [propose(WEIGHTS, seed=s, max_edits=1) for s in range(300)]
    assert replies == [propose(WEIGHTS, seed=s, max_edits=1) for s in range(300)]  # seeded
    notes = "\n".join(_notes(r) for r in replies)
    assert all(r.startswith("Offline operator (seeded mutation, no LLM)") for r in replies)
    for move in ("log-uniform jump", "(set)", "sign of", "swapped constants", "(small step)"):
        assert move in notes, move
    values = set()
    for r in replies:
        code = apply_reply(WEIGHTS, r).code
        assert code is not None and compile(code, "candidate", "exec")
        m = re.search(r"^W_AGE = \(?(-?[\d.e+-]+)\)?$", code, re.M)
        if m:
            values.add(float(m.group(1)))
    # the weight that starts at 0.0 leaves zero, at several scales, and with both signs
    nonzero = {abs(v) for v in values if v != 0.0}
    assert nonzero and min(nonzero) < 0.05 and max(nonzero) >= 0.5
    assert any(v < 0 for v in values) or "sign of" in notes


def test_no_proposal_repeats_an_evaluated_program() -> None:
    evaluated = {normalised_hash(WEIGHTS)}
    order = []
    for s in range(80):
        reply = propose(WEIGHTS, seed=s, evaluated=frozenset(evaluated))
        code = apply_reply(WEIGHTS, reply).code
        if code is None:
            assert "no new program" in reply
            continue
        h = normalised_hash(code)
        assert h not in evaluated
        evaluated.add(h)
        order.append(h)
    assert len(order) >= 60
    # the same seeds and the same evaluated set give the same proposals
    again = {normalised_hash(WEIGHTS)}
    replayed = []
    for s in range(80):
        code = apply_reply(WEIGHTS, propose(WEIGHTS, seed=s, evaluated=frozenset(again))).code
        if code is not None:
            again.add(normalised_hash(code))
            replayed.append(normalised_hash(code))
    assert replayed == order


EVALUATOR = '''"""Held-out problem: order jobs like the hidden rule age - 0.1 * size (pairs ranked right)."""

import importlib.util
import random


def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("candidate", program_path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rng = random.Random(7)
    jobs = [(rng.uniform(1, 100), rng.uniform(0, 20)) for _ in range(24)]
    keys = [float(mod.priority(size, age)) for size, age in jobs]
    truth = [age - 0.1 * size for size, age in jobs]
    good = total = 0
    for i in range(len(jobs)):
        for j in range(i + 1, len(jobs)):
            total += 1
            good += (keys[i] - keys[j]) * (truth[i] - truth[j]) > 0
    return {"combined_score": good / total}
'''


def test_held_out_two_weight_problem_improves(tmp_path: Path) -> None:
    """The issue's case: two weights, one at 0.0; a change of scale or sign is what helps."""
    problem = tmp_path / "weights"
    problem.mkdir()
    (problem / "initial_program.py").write_text(WEIGHTS, encoding="utf-8")
    (problem / "evaluator.py").write_text(EVALUATOR, encoding="utf-8")
    (problem / "problem.toml").write_text(
        'name = "weights"\n[evaluator]\ntimeout_s = 30\n[evolution]\nnum_islands = 2\n', encoding="utf-8"
    )
    summary = run_evolution(problem, load_settings(), EvolveOptions(iterations=40, seed=0, eval_workers=2))
    conn = sqlite3.connect(Path(summary.run_dir) / "programs.sqlite")
    try:
        initial = conn.execute("SELECT combined_score FROM programs WHERE iteration = 0").fetchone()[0]
        statuses = [r[0] for r in conn.execute("SELECT status FROM iterations WHERE iteration > 0")]
    finally:
        conn.close()
    assert summary.best_score is not None and summary.best_score > initial + 0.1
    assert statuses.count("duplicate") == 0  # the operator skipped what the run already had
