"""Local executor: a bounded thread pool driving sandbox jobs (the sandbox isolates each process)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from veriloop.config import SandboxConfig
from veriloop.evolve.evaluate import EvalOutcome, evaluate_code
from veriloop.evolve.problem import Problem
from veriloop.sandbox.contract import Sandbox


class LocalExecutor:
    """`workers` evaluations at once; a candidate that crashes only ends its own sandboxed process."""

    name = "local"

    def __init__(
        self, workers: int, sandbox_config: SandboxConfig | None = None, sandbox: Sandbox | None = None
    ) -> None:
        from veriloop.sandbox import get_sandbox

        self.workers = max(1, workers)
        cfg = (sandbox_config or SandboxConfig()).model_copy(update={"max_parallel": self.workers})
        self.sandbox = sandbox or get_sandbox(cfg)
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="veriloop-eval")
        self._sem = asyncio.Semaphore(self.workers)

    async def evaluate(self, problem: Problem, code: str) -> EvalOutcome:
        async with self._sem:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._pool, lambda: evaluate_code(problem, code, sandbox=self.sandbox)
            )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
