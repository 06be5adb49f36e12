"""Warm sandboxed evaluation workers: warm sandboxes (`sandbox.warm`) whose zygote forks one child per stage.

Each worker is one `WarmSandbox` running `zygote.py`, which forks a fresh child per stage (own
session, rlimits, wall clock, private result pipe) and wipes every writable place after it. A worker
is recycled after `max_uses` evaluations and after any stage that was killed, crashed, exited
non-zero or left processes, files or IPC objects behind; a worker that dies is replaced on next use,
and the candidate it was running gets a fault.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from veriloop.evolve.evaluate import (
    _SITE_DIRS,
    JOB_ENV,
    CascadeState,
    EvalOutcome,
    _timeouts,
    import_mode,
    parse_stage,
    stage_argv,
    stage_limits,
)
from veriloop.evolve.problem import Problem
from veriloop.sandbox import local, warm
from veriloop.sandbox.contract import Job, JobResult, Limits
from veriloop.sandbox.warm import PoolStats, WarmSandbox, WarmSlots, lost_result, to_job_result

HARNESS_FILE = "_veriloop_harness.py"
ZYGOTE_FILE = "_veriloop_zygote.py"
PROXY_FILE = "_veriloop_proxy.py"
_HERE = Path(__file__).resolve().parent
DEFAULT_MAX_USES = 256

__all__ = ["DEFAULT_MAX_USES", "PoolStats", "WarmPool", "to_job_result"]


def _start_worker(problem: Problem, shared: Path) -> WarmSandbox:
    limits = Limits(wall_s=86400.0, memory_mb=problem.evaluator.memory_mb, nproc=256, nofile=512)
    job = Job(
        argv=[
            sys.executable,
            "-I",
            "-S",
            str(shared / ZYGOTE_FILE),
            _SITE_DIRS,
            str(problem.path),
            problem.program_file,
            local.JOB_DIR,
        ],
        ro_paths=[str(shared), str(problem.path)],
        env=dict(JOB_ENV),
        limits=limits,
    )
    return WarmSandbox(
        job,
        what="warm evaluation worker",
        hint="Try --isolation per-candidate, or check `veriloop sandbox` diagnostics.",
    )


class WarmPool:
    """`size` warm workers for one problem; `evaluate()` is thread-safe and blocks for a free worker."""

    def __init__(self, problem: Problem, size: int, max_uses: int = DEFAULT_MAX_USES) -> None:
        self.problem = problem
        self._shared = warm.shared_dir(
            "veriloop-zygote",
            {
                HARNESS_FILE: _HERE / "harness.py",
                PROXY_FILE: _HERE / "proxy.py",
                ZYGOTE_FILE: _HERE / "zygote.py",
            },
        )
        self._slots = WarmSlots(lambda: _start_worker(problem, self._shared), size, max_uses)
        self.size = self._slots.size
        self.max_uses = self._slots.max_uses

    @property
    def stats(self) -> PoolStats:
        return self._slots.stats

    def prestart(self) -> None:
        """Start every worker in the background (overlaps the caller's own start-up work)."""
        self._slots.prestart()

    def run_stage(
        self, code: str, stage_index: int, nonce: str, timeout_s: float, mode: str | None = None
    ) -> JobResult:
        """One stage of one candidate in a fresh child of a warm worker (`mode`: the import mode)."""
        limits = stage_limits(self.problem, timeout_s)
        request = {
            "stage": self.problem.stages[stage_index],
            "problem_dir": str(self.problem.path),
            "program_file": self.problem.program_file,
            "argv": stage_argv(self.problem, stage_index)[3:],
            "code": code,
            "nonce": nonce,
            "import_mode": mode or import_mode(self.problem),
            "timeout": timeout_s,
            "memory_mb": limits.memory_mb,
            "file_size_mb": limits.file_size_mb,
            "output_bytes": limits.output_bytes,
            "nofile": limits.nofile,
            "nproc": limits.nproc,
        }
        judged: dict[str, JobResult] = {}

        def judge(reply: dict[str, Any]) -> str | None:
            result = judged["r"] = to_job_result(reply, limits)
            if reply.get("dirty"):
                return str(reply.get("why") or "dirty")
            if result.killed is not None or result.signal is not None:
                return f"killed:{result.killed or result.signal}"
            if result.exit_code != 0:
                return "nonzero_exit"
            return None

        reply, wall, hung = self._slots.call(request, timeout_s, judge)
        if reply is None:
            # Died, hung past the grace period or garbled the protocol: this candidate's fault.
            return lost_result(wall, hung, "evaluation worker")
        return judged["r"]

    def evaluate(
        self, code: str, stage_timeouts: list[float] | None = None, problem: Problem | None = None
    ) -> EvalOutcome:
        """The problem's cascade on `code`, every stage in a fresh child of a warm worker.

        `problem`: the same problem with a decided `candidate_import` (the workers do not depend on it).
        """
        import secrets

        problem = problem or self.problem
        state = CascadeState(problem)
        for i, timeout in enumerate(_timeouts(self.problem, stage_timeouts)):
            nonce = secrets.token_hex(16)
            result = self.run_stage(code, i, nonce, timeout, import_mode(problem))
            if not state.add(i, parse_stage(result, nonce), result.wall_s):
                break
        return state.outcome

    def close(self) -> None:
        self._slots.close()
        shutil.rmtree(self._shared, ignore_errors=True)
