"""The Sandbox contract: a Job (argv, files, limits) goes in, a JobResult comes out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal

from pydantic import BaseModel, Field

KillReason = Literal["timeout", "memory", "output", "signal"]


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

    @abstractmethod
    def run(self, job: Job) -> JobResult:
        """Run the job to completion (or until a limit kills it)."""

    async def arun(self, job: Job) -> JobResult:
        """Run without blocking the event loop."""
        import asyncio

        return await asyncio.to_thread(self.run, job)
