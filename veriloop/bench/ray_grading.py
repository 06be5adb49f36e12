"""Bench grading on a Ray cluster: each sample's trusted-testbench grading runs as a Ray task on a node.

A `BenchProblem` carries its testbench, reference and data files as text, so nothing on a node
depends on the driver's paths; each node grades in its own sandbox with its own EDA tools (the
same Icarus/Yosys versions as the driver's, or the verdicts may differ: every grade records them).
"""

from __future__ import annotations

from typing import Any

from veriloop.bench.grade import Grade
from veriloop.bench.problem import BenchProblem


def _remote_grade(problem_json: str, code: str, timeout_s: float) -> str:
    """Runs on a Ray node: grade in this node's sandbox."""
    from veriloop.bench.grade import grade_design
    from veriloop.bench.problem import BenchProblem as _BenchProblem

    return grade_design(_BenchProblem.model_validate_json(problem_json), code, timeout_s).model_dump_json()


class RayGrader:
    """Grades as Ray tasks (1 CPU each) on the cluster at `address`; re-run when a node is lost."""

    def __init__(self, address: str | None, workers: int) -> None:
        from veriloop.evolve.executors.ray_executor import TASK_RETRIES, connect

        self._ray, self._started = connect(address, workers)
        self._fn = self._ray.remote(num_cpus=1, max_retries=TASK_RETRIES, retry_exceptions=False)(
            _remote_grade
        )
        self._refs: dict[str, Any] = {}

    async def grade(self, problem: BenchProblem, code: str, timeout_s: float) -> Grade:
        ref = self._refs.get(problem.id)
        if ref is None:  # one copy of the problem (testbench, data files) in the object store
            ref = self._refs[problem.id] = self._ray.put(problem.model_dump_json())
        try:
            text = await self._fn.remote(ref, code, timeout_s)
        except Exception as exc:  # noqa: BLE001 - a lost node is this sample's tool error, not a crash
            return Grade(
                passed=False,
                category="tool_error",
                detail=f"Ray task lost: {type(exc).__name__}: {exc}"[:500],
            )
        return Grade.model_validate_json(text)

    def close(self) -> None:
        self._refs.clear()
        if self._started:
            self._ray.shutdown()
