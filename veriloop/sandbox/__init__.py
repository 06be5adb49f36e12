"""The sandbox: every untrusted command (candidate program, evaluator, testbench, EDA tool) runs here.

Use it like this::

    from veriloop.sandbox import Job, Limits, run_job
    res = run_job(Job(argv=["iverilog", "-o", "a.out", "d.sv"], files={"d.sv": text},
                      limits=Limits(wall_s=30), collect=["a.out"]))
    res.ok, res.exit_code, res.stdout, res.killed, res.files["a.out"]

Staged jobs (`StagedJob`: a few commands in one job dir, e.g. compile then simulate) go through
`run_staged(job)`. The local backend runs them in warm sandboxes (`staged.py`, `warm.py`): long-lived
bubblewrap sandboxes, one per slot, whose server gives every job a fresh job dir and wipes all it
left, so a job costs no sandbox start-up; other backends run one ordinary job per step.

Layers, bottom up (each imports only those below it): `contract.py` (Job, Limits, JobResult, the
Sandbox base class and its one-job-per-step fallback for staged jobs); `process.py` (spawn with
rlimits, capped output, wall clock), `syscall_filter.py` (seccomp), `cgroup.py`, `collect.py`,
`jobdir.py`; `bwrap.py` (the command line: view, identity, filter); the backends `local.py`,
`rlimits.py`, `docker_backend.py` (and `gvisor.py` where present); `warm.py` (long-lived bwrap
sandboxes and their pool) and `staged.py` (staged jobs on warm sandboxes) on top.

Backends (`[sandbox] backend` in veriloop.toml, default "auto"):

- `local` (preferred): bubblewrap started as an unprivileged host user when veriloop is root, no
  capabilities, a seccomp filter, read-only `/proc`, size-capped tmpfs job dir, `/tmp` and
  `/dev/shm`, rlimits and a per-job pids cgroup; see `bwrap.py` for exactly what a job sees.
  Contained: no network, no host files besides the system dirs and the Python install, no
  inherited environment (no API keys, no HOME).
- `docker`: the docker SDK (`docker_backend.py`); used when configured, and by "auto" when
  bubblewrap cannot run but a Docker engine answers. Jobs then run in `docker_image`.
- `rlimits`: resource limits and process-group kill only, `contained=False` in every result and in
  `describe()`; "auto" falls back to it when neither of the above works.

Limits (`contract.Limits`): wall seconds (the whole process group / pid namespace is SIGKILLed),
CPU seconds (RLIMIT_CPU), memory (RLIMIT_DATA, not RLIMIT_AS: wasm tools reserve huge address
space; a job that runs out says so on stderr and gets killed="memory"), output bytes per stream
(kept head + marker; beyond 8x the cap the job is killed with killed="output"), file size
(RLIMIT_FSIZE), the size of each writable mount (`disk_mb`), open files, processes (pids cgroup,
else RLIMIT_NPROC). Every backend is safe to call from many threads; each bounds
its concurrent jobs to `max_parallel` (0 = one per CPU core).
"""

from __future__ import annotations

import threading

from pydantic import BaseModel

from veriloop.config import SandboxConfig
from veriloop.errors import SandboxError
from veriloop.sandbox.contract import Job, JobResult, KillReason, Limits, Sandbox, StagedJob, Step

__all__ = [
    "Job",
    "JobResult",
    "KillReason",
    "Limits",
    "Sandbox",
    "SandboxInfo",
    "StagedJob",
    "Step",
    "describe",
    "get_sandbox",
    "run_job",
    "run_staged",
]


class SandboxInfo(BaseModel):
    """Which backend runs jobs, whether it isolates them, and why it was chosen."""

    mode: str
    contained: bool
    reason: str
    process_limit: str = ""
    """How the process count is capped (pids cgroup / RLIMIT_NPROC / docker pids limit)."""


_lock = threading.Lock()
_cache: dict[str, tuple[Sandbox, SandboxInfo]] = {}


_defaults: dict[tuple[object, ...], SandboxConfig] = {}


def _default_key() -> tuple[object, ...]:
    """What the effective config depends on: the config files (path, mtime) and VERILOOP_* variables."""
    import os
    from pathlib import Path

    from veriloop.config import CONFIG_NAME, user_config_path

    stamps: list[tuple[str, int | None]] = []
    for path in (Path.cwd() / CONFIG_NAME, user_config_path()):
        try:
            stamps.append((str(path), path.stat().st_mtime_ns))
        except OSError:
            stamps.append((str(path), None))
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("VERILOOP_")))
    return (*stamps, env)


def _default_cfg() -> SandboxConfig:
    """The [sandbox] table of the effective veriloop.toml (re-read only when its inputs change)."""
    key = _default_key()
    found = _defaults.get(key)
    if found is not None:
        return found
    try:
        from veriloop.config import load_settings

        found = load_settings().sandbox
    except Exception:  # noqa: BLE001 - a broken config file must not stop the sandbox defaults
        found = SandboxConfig()
    _defaults[key] = found
    return found


def _process_limit() -> str:
    from veriloop.sandbox import cgroup

    if cgroup.base_dir() is not None:
        return "per-job pids cgroup"
    import os

    if os.geteuid() == 0:
        return "RLIMIT_NPROC (ignored for root: a fork bomb is bounded only by the wall clock)"
    return "RLIMIT_NPROC"


def _build(cfg: SandboxConfig) -> tuple[Sandbox, SandboxInfo]:
    from veriloop.sandbox import bwrap, docker_backend, local, rlimits

    if cfg.backend == "docker":
        box: Sandbox = docker_backend.DockerSandbox(cfg.docker_image, cfg.max_parallel)
        return box, SandboxInfo(
            mode="docker",
            contained=True,
            reason="configured: [sandbox] backend = docker",
            process_limit="docker pids limit",
        )
    if cfg.backend == "gvisor":
        from veriloop.sandbox import gvisor

        gbox = gvisor.GVisorSandbox(cfg.max_parallel)  # SandboxError with a hint when runsc cannot run
        why = f"configured: [sandbox] backend = gvisor; {gvisor.probe()[1]}"
        return gbox, SandboxInfo(mode="gvisor", contained=True, reason=why, process_limit=gvisor.PROCESS_NOTE)
    if cfg.backend == "rlimits":
        return rlimits.RlimitsSandbox(cfg.max_parallel), SandboxInfo(
            mode="rlimits",
            contained=False,
            reason="configured: [sandbox] backend = rlimits (no isolation)",
            process_limit=_process_limit(),
        )
    ok, why = bwrap.probe()
    if ok:
        reason = why if cfg.backend == "local" else f"auto: {why}"
        return local.LocalSandbox(cfg.max_parallel), SandboxInfo(
            mode="local", contained=True, reason=reason, process_limit=_process_limit()
        )
    if cfg.backend == "local":
        raise SandboxError(
            f"The local sandbox was requested but {why}.",
            hint="Install bubblewrap (apt-get install bubblewrap) or allow user namespaces.",
        )
    dok, dwhy = docker_backend.engine_available()
    if dok:
        return docker_backend.DockerSandbox(cfg.docker_image, cfg.max_parallel), SandboxInfo(
            mode="docker", contained=True, reason=f"auto: {why}; {dwhy}", process_limit="docker pids limit"
        )
    return rlimits.RlimitsSandbox(cfg.max_parallel), SandboxInfo(
        mode="rlimits",
        contained=False,
        reason=f"auto: {why}; {dwhy}; falling back to rlimits only (jobs are NOT isolated)",
        process_limit=_process_limit(),
    )


def _entry(cfg: SandboxConfig | None) -> tuple[Sandbox, SandboxInfo]:
    cfg = cfg or _default_cfg()
    key = cfg.model_dump_json()
    with _lock:
        found = _cache.get(key)
        if found is None:
            found = _build(cfg)
            _cache[key] = found
        return found


def get_sandbox(cfg: SandboxConfig | None = None) -> Sandbox:
    """The sandbox chosen by `cfg` (default: the effective veriloop.toml); one instance per config."""
    return _entry(cfg)[0]


def describe(cfg: SandboxConfig | None = None) -> SandboxInfo:
    """Mode, containment and the reason for the choice (what `veriloop doctor` shows)."""
    return _entry(cfg)[1]


def run_job(job: Job, cfg: SandboxConfig | None = None) -> JobResult:
    """Run one job in the configured sandbox."""
    return get_sandbox(cfg).run(job)


def run_staged(job: StagedJob, cfg: SandboxConfig | None = None) -> list[JobResult]:
    """Run a staged job (commands in one job dir) in the configured sandbox."""
    return get_sandbox(cfg).run_staged(job)
