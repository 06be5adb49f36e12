"""Evaluation executors: where candidate evaluations run (local sandbox pool or a Ray cluster)."""

from __future__ import annotations

from typing import Protocol

from veriloop.evolve.evaluate import EvalOutcome
from veriloop.evolve.problem import Problem


class Executor(Protocol):
    """Runs sandboxed cascade evaluations, at most `workers` at a time."""

    name: str
    workers: int

    async def evaluate(self, problem: Problem, code: str) -> EvalOutcome: ...

    def close(self) -> None: ...
