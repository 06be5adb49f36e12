"""Staged jobs: a few commands in one job directory, run in a warm sandbox or as one job per step.

`StepPool` keeps one warm sandbox per slot (`warm.WarmSlots`) running `step_server.py`; a staged job
then costs no sandbox start-up at all, which is what makes sandboxed grading as fast as running the
tools bare. Every request still gets a fresh, empty job dir, the sandbox's hard rlimits (one pool
per limits profile) and its own wall clocks, and after it no process, file or IPC object of it is
left (the sandbox is recycled otherwise; see `step_server.py`). Where a job cannot run warm
(extra binds or network), the backend's own `run_staged` runs one ordinary job per step
(`contract.run_as_jobs`).
"""

from __future__ import annotations

import atexit
import base64
import shutil
import sys
import threading
from pathlib import Path
from typing import Any

from veriloop.errors import SandboxError
from veriloop.sandbox import warm
from veriloop.sandbox.contract import JOB_DIR, Job, JobResult, Limits, StagedJob
from veriloop.sandbox.warm import WarmSandbox, WarmSlots, lost_result, to_job_result

SERVER_FILE = "_veriloop_step_server.py"
MAX_USES = 2000
SERVER_WALL_S = 86400.0


def profile(limits: Limits) -> tuple[int, int, int, int, int]:
    """The limits a warm sandbox is started with (rlimits every step inherits, unable to raise, and
    the size of its writable mounts)."""
    return (limits.memory_mb, limits.file_size_mb, limits.nofile, limits.nproc, limits.disk_mb)


class StepPool:
    """`size` warm sandboxes serving staged jobs; `run()` is thread-safe and blocks for a free one.

    The sandboxes run under the memory, file size, open files and process limits of `limits` (hard
    rlimits set at start-up): jobs with other limits need a pool of their own (`pool()` keeps one
    per limits profile); each step's wall clock is its own."""

    def __init__(self, size: int, limits: Limits | None = None, max_uses: int = MAX_USES) -> None:
        self.limits = limits or Limits()
        here = Path(__file__).resolve().parent
        self._shared = warm.shared_dir("veriloop-steps", {SERVER_FILE: here / "step_server.py"})
        self._slots = WarmSlots(self._start, size, max_uses)
        self.size = self._slots.size

    @property
    def stats(self) -> warm.PoolStats:
        return self._slots.stats

    def _start(self) -> WarmSandbox:
        job = Job(
            argv=[sys.executable, "-I", "-S", str(self._shared / SERVER_FILE), JOB_DIR],
            ro_paths=[str(self._shared)],
            limits=self.limits.model_copy(update={"wall_s": SERVER_WALL_S, "cpu_s": None}),
        )
        return WarmSandbox(job, what="warm sandbox", hint="Check `veriloop sandbox` diagnostics.")

    def run(self, job: StagedJob) -> list[JobResult]:
        if profile(job.limits) != profile(self.limits):
            raise ValueError("this warm pool runs jobs with other limits; use staged.pool(size, limits)")
        text = {n: d for n, d in job.files.items() if isinstance(d, str)}
        binary = {
            n: base64.b64encode(d).decode("ascii") for n, d in job.files.items() if isinstance(d, bytes)
        }
        lim = job.limits
        request: dict[str, Any] = {
            "files": text,
            "bfiles": binary,
            "env": job.env,
            "collect": job.collect,
            "limits": {"output_bytes": lim.output_bytes, "file_size_mb": lim.file_size_mb},
            "steps": [
                {"argv": s.argv, "timeout": s.wall_s, "stdin_file": s.stdin_file, "keep": s.keep}
                for s in job.steps
            ],
        }
        per_step: list[JobResult] = []

        def judge(reply: dict[str, Any]) -> str | None:
            for step, raw in zip(job.steps, reply.get("steps") or [], strict=False):
                per_step.append(to_job_result(raw, job.step_limits(step)))
            if reply.get("dirty"):
                return str(reply.get("why") or "dirty")
            if any(r.killed is not None or r.signal is not None for r in per_step):
                return "killed"
            return None

        budget = sum(s.wall_s for s in job.steps) + 10.0
        reply, wall, hung = self._slots.call(request, budget, judge)
        if reply is None:
            return [lost_result(wall, hung, "sandbox")]
        if per_step:
            files = {n: base64.b64decode(b) for n, b in (reply.get("files") or {}).items()}
            per_step[-1] = per_step[-1].model_copy(update={"files": files})
        return per_step

    def close(self) -> None:
        self._slots.close()
        shutil.rmtree(self._shared, ignore_errors=True)


_lock = threading.Lock()
_pools: dict[tuple[int, ...], StepPool] = {}
_broken: list[str] = []


def _close_all() -> None:
    for pool in list(_pools.values()):
        pool.close()
    _pools.clear()


def pool(size: int, limits: Limits) -> StepPool | None:
    """The process-wide pool of `size` warm sandboxes for these limits, or None when warm sandboxes
    cannot run here. A pool's sandboxes start lazily, on first use."""
    key = (size, *profile(limits))
    with _lock:
        if _broken or not warm.available():
            return None
        found = _pools.get(key)
        if found is None:
            if not _pools:
                atexit.register(_close_all)
            found = _pools[key] = StepPool(size, limits)
        return found


def run_warm(size: int, job: StagedJob) -> list[JobResult] | None:
    """The staged job in a warm sandbox; None when it cannot run there (the caller falls back)."""
    if job.ro_paths or job.network:
        return None
    found = pool(size, job.limits)
    if found is None:
        return None
    try:
        return found.run(job)
    except SandboxError as exc:
        with _lock:
            _broken.append(str(exc))  # do not retry a start-up that failed: fall back for good
        return None
