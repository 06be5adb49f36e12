"""Helpers for the problem-library tests: evaluate code in the real sandbox, make program variants."""

from __future__ import annotations

import re
from typing import Any

import pytest

from veriloop.evolve.evaluate import EvalOutcome, evaluate_code
from veriloop.evolve.problem import Problem, load_problem
from veriloop.problems import problem_path

_CACHE: dict[str, Problem] = {}


def problem(name: str) -> Problem:
    if name not in _CACHE:
        _CACHE[name] = load_problem(problem_path(name))
    return _CACHE[name]


def run(name: str, code: str) -> EvalOutcome:
    """The full cascade of `name`'s evaluator on `code`, in the configured (real) sandbox."""
    return evaluate_code(problem(name), code)


def variant(name: str, **consts: Any) -> str:
    """The initial program with module-level constants `NAME = value` replaced."""
    code = problem(name).initial_code
    for key, val in consts.items():
        code, n = re.subn(
            rf"^{key} = [^#\n]*?(\s*#|$)",
            lambda m, v=val, k=key: f"{k} = {v!r}{m.group(1)}",
            code,
            count=1,
            flags=re.M,
        )
        assert n == 1, f"{key} not found in {name}'s initial program"
    return code


def rejected(out: EvalOutcome) -> str:
    """The rejection sentence (asserting the candidate was rejected with score 0)."""
    assert out.error is None, out.error
    assert out.combined_score == 0.0, out.metrics
    assert out.metrics.get("valid") == 0.0
    reason = out.artifacts.get("rejected", "")
    assert reason, out.artifacts
    return reason


class Lib:
    """What tests use: `lib.run(name, code)`, `lib.variant(name, CONST=value)`, `lib.rejected(out)`..."""

    problem = staticmethod(problem)
    run = staticmethod(run)
    variant = staticmethod(variant)
    rejected = staticmethod(rejected)


@pytest.fixture
def lib() -> Lib:
    return Lib()
