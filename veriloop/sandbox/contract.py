"""The Sandbox contract: a Job (argv, files, limits) goes in, a JobResult comes out."""

from __future__ import annotations

import os
import sys
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

KillReason = Literal["timeout", "memory", "output", "signal"]

VISIBLE_ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/alternatives",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/localtime",
)
"""The only /etc files a contained job sees (read-only), whichever backend contains it."""
SYSTEM_TOP_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
"""Top-level system dirs (or merged-/usr links) a contained job sees besides /usr."""

JOB_DIR = "/job"
"""Where a contained job's directory appears (also its cwd); backends without namespaces use a temp dir."""


def base_env(extra: dict[str, str]) -> dict[str, str]:
    """The whole environment of a job: a PATH that finds the venv and system tools, and job.env."""
    venv_bin = str(Path(sys.prefix) / "bin")
    env = {
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(extra)
    return env


class Limits(BaseModel):
    """Resource limits of one job. cpu_s defaults to wall_s."""

    wall_s: float = Field(default=60.0, gt=0)
    cpu_s: float | None = None
    memory_mb: int = Field(default=2048, ge=16)
    output_bytes: int = Field(default=1 << 20, ge=1024)
    """Cap on each of stdout and stderr; the rest is dropped and a marker added."""
    file_size_mb: int = Field(default=256, ge=1)
    nproc: int = Field(default=256, ge=1)
    nofile: int = Field(default=512, ge=16)
    disk_mb: int = Field(default=512, ge=1)
    """Size of each place a contained job can write (the job dir, /tmp; /dev/shm gets a quarter):
    size-capped tmpfs mounts, so a full disk is the job's own ENOSPC, never the host's."""


class Job(BaseModel):
    """One command to run contained. Paths in `files` are relative to the job directory."""

    argv: list[str]
    files: dict[str, str | bytes] = Field(default_factory=dict)
    """Files written into the (fresh) job directory before the run."""
    ro_paths: list[str] = Field(default_factory=list)
    """Extra host paths made visible read-only at the same path (e.g. a problem directory)."""
    env: dict[str, str] = Field(default_factory=dict)
    """The job's whole environment besides PATH/LANG/HOME defaults: nothing is inherited."""
    stdin: bytes | None = None
    limits: Limits = Field(default_factory=Limits)
    network: bool = False
    collect: list[str] = Field(default_factory=list)
    """Relative paths (files) read back from the job directory after the run."""
    label: str = ""


class Step(BaseModel):
    """One command of a StagedJob; the steps share one job directory and run in order."""

    argv: list[str]
    wall_s: float = Field(default=60.0, gt=0)
    stdin_file: str | None = None
    """A file of the job dir streamed into the command's stdin through a pipe. It is gone from the
    dir before the command starts, so the command cannot read it a second time (nor can anything
    it leaves running): a compiled testbench can be run without the design under test seeing it."""
    keep: list[str] | None = None
    """Before this step, delete every entry of the job dir except these (None: keep everything)."""
    label: str = ""


class StagedJob(BaseModel):
    """Commands run one after another in one job directory; it stops after the first that fails."""

    steps: list[Step] = Field(min_length=1)
    files: dict[str, str | bytes] = Field(default_factory=dict)
    env: dict[str, str] = Field(default_factory=dict)
    limits: Limits = Field(default_factory=Limits)
    """Per-step limits; each step's wall clock (and CPU allowance) is its own `wall_s`."""
    collect: list[str] = Field(default_factory=list)
    """Files read back after the last step that ran (in that step's JobResult.files)."""
    ro_paths: list[str] = Field(default_factory=list)
    network: bool = False
    label: str = ""

    def step_limits(self, step: Step) -> Limits:
        return self.limits.model_copy(update={"wall_s": step.wall_s, "cpu_s": None})


class JobResult(BaseModel):
    """What happened. `killed` says why the sandbox stopped the job, if it did."""

    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    wall_s: float = 0.0
    cpu_s: float = 0.0
    killed: KillReason | None = None
    signal: int | None = None
    backend: str = ""
    """local (bubblewrap + rlimits), rlimits (no namespace isolation) or docker."""
    contained: bool = True
    """False when the backend could not isolate filesystem/network (rlimits-only)."""
    files: dict[str, bytes] = Field(default_factory=dict)
    """Collected output files that existed after the run."""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.killed is None


class Sandbox(ABC):
    """A place to run untrusted jobs. Implementations must be safe to call from many threads."""

    name: str = "abstract"
    contained: bool = True

    def __init__(self, max_parallel: int = 0) -> None:
        self.slots = max_parallel or os.cpu_count() or 2
        """How many jobs run at once (0 = one per CPU core); `_gate` holds the rest back."""
        self._gate = threading.BoundedSemaphore(self.slots)

    @abstractmethod
    def run(self, job: Job) -> JobResult:
        """Run the job to completion (or until a limit kills it)."""

    def run_staged(self, job: StagedJob) -> list[JobResult]:
        """Run the steps (one JobResult each, up to the first that failed). Default: one job per step,
        files carried from one to the next; backends with warm sandboxes run them all in one."""
        return run_as_jobs(self, job)

    async def arun(self, job: Job) -> JobResult:
        """Run without blocking the event loop."""
        import asyncio

        return await asyncio.to_thread(self.run, job)


def _top(name: str) -> str:
    return name.replace("\\", "/").lstrip("/").split("/")[0]


def run_as_jobs(box: Sandbox, job: StagedJob) -> list[JobResult]:
    """One sandbox job per step: the files each step leaves (that a later step names) go to the next."""
    files: dict[str, str | bytes] = dict(job.files)
    results: list[JobResult] = []
    for i, step in enumerate(job.steps):
        stdin: bytes | None = None
        if step.stdin_file:
            data = files.pop(step.stdin_file, None)
            if data is None:
                msg = f"veriloop sandbox: stdin file {step.stdin_file} is missing\n"
                missing = JobResult(exit_code=127, stderr=msg, backend=box.name, contained=box.contained)
                results.append(missing)
                break
            stdin = data.encode() if isinstance(data, str) else data
        if step.keep is not None:
            kept = {_top(k) for k in step.keep}
            files = {n: d for n, d in files.items() if _top(n) in kept}
        nxt = job.steps[i + 1] if i + 1 < len(job.steps) else None
        if nxt is None:
            wanted = set(job.collect)
        else:
            wanted = {*files, *(nxt.keep or []), *([nxt.stdin_file] if nxt.stdin_file else [])}
        res = box.run(
            Job(
                argv=step.argv,
                files=files,
                stdin=stdin,
                env=job.env,
                limits=job.step_limits(step),
                collect=sorted(w for w in wanted if w),
                ro_paths=job.ro_paths,
                network=job.network,
                label=step.label or job.label,
            )
        )
        results.append(res)
        files.update(res.files)
        if not res.ok:
            break
    return results
