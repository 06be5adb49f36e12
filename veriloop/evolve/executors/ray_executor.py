"""Ray executor: the same sandboxed cascade evaluation, run as Ray tasks on a cluster (or locally)."""

from __future__ import annotations

import asyncio
from typing import Any

from veriloop.errors import ConfigError, ToolMissingError
from veriloop.evolve.evaluate import EvalOutcome
from veriloop.evolve.problem import Problem


def _remote_evaluate(problem_json: str, code: str) -> str:
    """Runs on a Ray worker: load the problem model and evaluate in that node's sandbox."""
    from veriloop.evolve.evaluate import evaluate_code
    from veriloop.evolve.problem import Problem as _Problem

    problem = _Problem.model_validate_json(problem_json)
    return evaluate_code(problem, code).model_dump_json()


class RayExecutor:
    """Evaluations as Ray tasks (1 CPU each); `address=None` starts or joins a local Ray."""

    name = "ray"

    def __init__(self, workers: int, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise ToolMissingError(
                "--executor ray needs the 'ray' package, which is not installed.",
                hint="pip install 'veriloop[ray]'",
            ) from None
        self._ray = ray
        self.workers = max(1, workers)
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {
                "ignore_reinit_error": True,
                "include_dashboard": False,
                "log_to_driver": False,
            }
            if address:
                kwargs["address"] = address
            else:
                kwargs["num_cpus"] = self.workers
            try:
                ray.init(**kwargs)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ConfigError(
                    f"Cannot connect to the Ray cluster at {address or 'local'}: {exc}.",
                    hint="Check --address (e.g. ray://host:10001 or auto).",
                ) from None
        self._fn = ray.remote(num_cpus=1, max_retries=0)(_remote_evaluate)
        self._sem = asyncio.Semaphore(self.workers)

    async def evaluate(self, problem: Problem, code: str) -> EvalOutcome:
        async with self._sem:
            ref = self._fn.remote(problem.model_dump_json(), code)
            try:
                text = await ref
            except Exception as exc:  # noqa: BLE001 - a lost worker is a fault of this candidate only
                return EvalOutcome(
                    error=f"Ray task failed: {type(exc).__name__}: {str(exc)[:300]}", fault="crash"
                )
            return EvalOutcome.model_validate_json(text)

    def close(self) -> None:
        pass
