"""The trivial problem and the fake-LLM responder shared by the evolve perf script (both frameworks)."""

from __future__ import annotations

import itertools
import re
import threading
from pathlib import Path
from typing import Any

PROGRAM = '''"""Perf fixture: the evaluator reads VALUE; every LLM reply sets a new one."""

# EVOLVE-BLOCK-START
def value():
    a = 1.0
    return a
# EVOLVE-BLOCK-END
'''

EVALUATOR = '''"""Trivial evaluator: parse the constant, no import of the candidate."""

import re


def evaluate(program_path):
    with open(program_path) as fh:
        text = fh.read()
    m = re.search(r"a = ([-0-9.e]+)", text)
    v = float(m.group(1)) if m else 0.0
    return {"combined_score": -abs(v - 1000.0), "value": v}
'''

_LINE = re.compile(r"^    a = (\S+)$", re.M)
_CURRENT = re.compile(r"current program[^\n]*\n```", re.I)


def write_problem(root: Path) -> Path:
    d = root / "perf_problem"
    d.mkdir(parents=True, exist_ok=True)
    (d / "initial_program.py").write_text(PROGRAM, encoding="utf-8")
    (d / "evaluator.py").write_text(EVALUATOR, encoding="utf-8")
    (d / "problem.toml").write_text(
        'name = "perf"\n[evaluator]\ntimeout_s = 60\n[evolution]\nnum_islands = 2\n', encoding="utf-8"
    )
    return d


def responder() -> Any:
    """A reply that rewrites the current program's constant to a fresh value (never a duplicate)."""
    counter = itertools.count(1)
    lock = threading.Lock()

    def respond(body: dict[str, Any]) -> str:
        text = "\n".join(str(m.get("content") or "") for m in body.get("messages", []))
        start = _CURRENT.search(text)
        m = _LINE.search(text, start.end() if start else 0) or _LINE.search(text)
        if m is None:
            return "No change."
        with lock:
            n = next(counter)
        return (
            f"Trying a new constant.\n<<<<<<< SEARCH\n    a = {m.group(1)}\n=======\n"
            f"    a = {1.0 + n * 0.37:.4f}\n>>>>>>> REPLACE\n"
        )

    return respond
