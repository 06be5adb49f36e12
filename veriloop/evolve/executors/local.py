"""Local executor: warm sandboxed workers (default) or one fresh sandbox job per stage, on a thread pool."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from veriloop.config import SandboxConfig
from veriloop.evolve.evaluate import EvalOutcome, evaluate_code
from veriloop.evolve.problem import Problem
from veriloop.sandbox.contract import Sandbox

Isolation = Literal["warm", "per-candidate"]


class LocalExecutor:
    """`workers` evaluations at once; a candidate that crashes only ends its own sandboxed process.

    isolation="warm": `workers` long-lived bubblewrap sandboxes, each forking a fresh child per stage
    (see `veriloop.evolve.workers`); used only with the `local` (bubblewrap) sandbox backend and a
    bwrap that can drop capabilities, else "per-candidate": a fresh sandbox job per stage.
    """

    name = "local"

    def __init__(
        self,
        workers: int,
        sandbox_config: SandboxConfig | None = None,
        sandbox: Sandbox | None = None,
        isolation: Isolation = "warm",
        max_uses: int | None = None,
    ) -> None:
        from veriloop.sandbox import describe, get_sandbox

        self.workers = max(1, workers)
        cfg = (sandbox_config or SandboxConfig()).model_copy(update={"max_parallel": self.workers})
        self.sandbox = sandbox or get_sandbox(cfg)
        self.isolation: Isolation = isolation
        if isolation == "warm":
            from veriloop.sandbox import warm

            if sandbox is not None or describe(cfg).mode != "local" or not warm.available():
                self.isolation = "per-candidate"
        self.max_uses = max_uses
        self._pools: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="veriloop-eval")
        self._sem = asyncio.Semaphore(self.workers)

    def prestart(self, problem: Problem) -> None:
        """Start the warm workers for `problem` now, in the background."""
        if self.isolation == "warm":
            self._warm_pool(problem).prestart()

    def _warm_pool(self, problem: Problem) -> Any:
        from veriloop.evolve.workers import DEFAULT_MAX_USES, WarmPool

        key = problem.model_dump_json(exclude={"evaluator": {"candidate_import"}})
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = WarmPool(problem, self.workers, self.max_uses or DEFAULT_MAX_USES)
                self._pools[key] = pool
            return pool

    def _evaluate(self, problem: Problem, code: str) -> EvalOutcome:
        if self.isolation == "warm":
            return self._warm_pool(problem).evaluate(code, problem=problem)  # type: ignore[no-any-return]
        return evaluate_code(problem, code, sandbox=self.sandbox)

    async def evaluate(self, problem: Problem, code: str) -> EvalOutcome:
        async with self._sem:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, self._evaluate, problem, code)

    def stats(self) -> dict[str, Any]:
        """Isolation mode and, for warm workers, how many were started, recycled and lost."""
        out: dict[str, Any] = {"isolation": self.isolation, "workers": self.workers}
        for pool in self._pools.values():
            for key, val in pool.stats.model_dump().items():
                if isinstance(val, dict):
                    merged = out.setdefault(key, {})
                    for k, v in val.items():
                        merged[k] = merged.get(k, 0) + v
                else:
                    out[key] = out.get(key, 0) + val
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            pools = list(self._pools.values())
        for pool in pools:
            pool.close()  # the pools stay listed: stats() still reports them
