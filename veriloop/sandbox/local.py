"""The `local` backend: bubblewrap namespaces + rlimits + a pids cgroup, one fresh job dir per run.

Layout the job sees (everything else of the host is absent):

- `/usr` and the `/bin`, `/lib*`, `/sbin` links, read-only; a few files of `/etc` (loader cache,
  alternatives, passwd/group, localtime, hosts) read-only;
- the Python running veriloop (`sys.prefix` and `sys.base_prefix`, read-only), so that
  `sys.executable` with numpy works inside: the evolve evaluators rely on it;
- `job.ro_paths` read-only at the same path;
- `/job`: the job's own directory (fresh host temp dir with `job.files`), read-write, the cwd, bound
  on bwrap's fresh tmpfs root, which is then remounted read-only; `/tmp`: a private size-capped tmpfs;
- a fresh `/proc` and a minimal `/dev`.

Namespaces: `--unshare-all` (user, pid, net, ipc, uts, cgroup), `--share-net` only when
`job.network`; `--die-with-parent` and `--new-session`; `--cap-drop ALL` and `--disable-userns`
(where bwrap has them), so a job started by root cannot remount its read-only binds writable.
The environment is cleared: PATH, LANG, HOME=/tmp, TMPDIR plus exactly `job.env`.
When the job's first process exits, bwrap's init exits and
the kernel kills whatever is left in the pid namespace: nothing outlives a job, zombies are reaped.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
from pathlib import Path

from veriloop.sandbox import cgroup, jobdir
from veriloop.sandbox.contract import Job, JobResult, Sandbox, StagedJob
from veriloop.sandbox.process import RawRun, run_process

JOB_DIR = "/job"
"""Where the job's directory appears inside the sandbox (also its cwd)."""

_ETC_FILES = [
    "/etc/ld.so.cache",
    "/etc/alternatives",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/localtime",
]
_TOP_DIRS = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]


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


@functools.lru_cache(maxsize=1)
def _system_binds() -> tuple[str, ...]:
    args: list[str] = ["--ro-bind", "/usr", "/usr"]
    for top in _TOP_DIRS:
        p = Path(top)
        if p.is_symlink():
            args += ["--symlink", os.readlink(top), top]
        elif p.is_dir():
            args += ["--ro-bind", top, top]
    for etc in _ETC_FILES:
        args += ["--ro-bind-try", etc, etc]
    seen: set[str] = set()
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        for path in (prefix, os.path.realpath(prefix)):
            if path in seen or path.startswith("/usr/") or path == "/usr":
                continue
            seen.add(path)
            args += ["--ro-bind", path, path]
    # The interpreter may be a symlink chain out of the venv (pyenv, uv): bind its real file too.
    real_exe = os.path.realpath(sys.executable)
    if not any(real_exe.startswith(p.rstrip("/") + "/") for p in seen) and not real_exe.startswith("/usr/"):
        args += ["--ro-bind", real_exe, real_exe]
    return tuple(args)


@functools.lru_cache(maxsize=1)
def hardening_flags() -> tuple[str, ...] | None:
    """bwrap flags that leave a job no capabilities and no new user namespaces (probed once).

    Started by root, bwrap keeps the job's full capability set inside its user namespace, which is
    enough to remount the read-only binds writable; `--cap-drop ALL` takes that away. None when this
    bwrap cannot drop capabilities (then the jobs of a non-root user hold none anyway).
    """
    for flags in (("--cap-drop", "ALL", "--unshare-user", "--disable-userns"), ("--cap-drop", "ALL")):
        try:
            done = subprocess.run(
                ["bwrap", *flags, "--unshare-all", "--ro-bind", "/", "/", "--", "/bin/true"],
                capture_output=True,
                timeout=10,
                env={"PATH": "/usr/bin:/bin"},
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return flags
    return None


def bwrap_argv(job: Job, host_dir: Path) -> list[str]:
    """The full bwrap command line for one job."""
    tmp_size = job.limits.file_size_mb * 1024 * 1024
    argv = ["bwrap", *(hardening_flags() or ()), "--unshare-all"]
    if job.network:
        argv.append("--share-net")
    # The private /tmp comes first so that binds below it (a venv or ro_paths under /tmp) stay visible.
    argv += ["--die-with-parent", "--new-session", "--size", str(tmp_size), "--tmpfs", "/tmp"]
    argv += [*_system_binds(), "--proc", "/proc", "--dev", "/dev", "--bind", str(host_dir), JOB_DIR]
    for ro in job.ro_paths:
        real = os.path.realpath(ro)
        if not os.path.exists(real):
            from veriloop.errors import SandboxError

            raise SandboxError(f"Read-only path {ro} given to the sandbox does not exist.")
        argv += ["--ro-bind", real, ro if os.path.isabs(ro) else real]
    argv += [
        "--remount-ro",
        "/",
        "--chdir",
        JOB_DIR,
        "--clearenv",
    ]
    for key, value in base_env(job.env).items():
        argv += ["--setenv", key, value]
    argv += ["--", *job.argv]
    return argv


@functools.lru_cache(maxsize=1)
def probe() -> tuple[bool, str]:
    """Can bubblewrap create its namespaces here? (ok, reason) -- probed once per process."""
    try:
        done = subprocess.run(
            [
                "bwrap",
                "--unshare-all",
                "--die-with-parent",
                "--ro-bind",
                "/usr",
                "/usr",
                *_system_binds()[3:],
                "--proc",
                "/proc",
                "--dev",
                "/dev",
                "--",
                "/bin/true",
            ],
            capture_output=True,
            timeout=10,
            env={"PATH": "/usr/bin:/bin"},
        )
    except FileNotFoundError:
        return False, "bubblewrap (bwrap) is not installed"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bubblewrap does not start: {exc}"
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        return False, "bubblewrap cannot create namespaces here: " + (
            why[-1] if why else f"exit {done.returncode}"
        )
    return True, "bubblewrap namespaces (user, pid, net, ipc, uts) work"


class LocalSandbox(Sandbox):
    """bubblewrap + rlimits (+ a pids cgroup when the host allows): contained, no network by default."""

    name = "local"
    contained = True

    def run(self, job: Job) -> JobResult:
        host_dir = jobdir.create(job.files)
        try:
            os.chmod(host_dir, 0o755)
            argv = bwrap_argv(job, host_dir)
            for attempt in range(3):
                raw = self._attempt(job, argv, host_dir)
                if not _setup_failed(raw):
                    break
                time.sleep(0.05 * (attempt + 1))  # transient (e.g. namespace limits under load): retry
            files = jobdir.collect(host_dir, job.collect, job.limits.file_size_mb * 1024 * 1024)
        finally:
            jobdir.remove(host_dir)
        if _setup_failed(raw):
            from veriloop.errors import SandboxError

            raise SandboxError(f"bubblewrap could not start the job: {raw.stderr.strip()}")
        return raw.to_result(self.name, contained=True, files=files)

    def run_staged(self, job: StagedJob) -> list[JobResult]:
        """In a warm sandbox of the process-wide pool (one per slot) when possible, else job by job."""
        from veriloop.sandbox import staged

        got = staged.run_warm(self.slots, job)
        return got if got is not None else super().run_staged(job)

    def _attempt(self, job: Job, argv: list[str], host_dir: Path) -> RawRun:
        with self._gate:
            group = cgroup.open_job_cgroup(job.limits.nproc + 8)
            try:
                return run_process(
                    argv,
                    env={"PATH": "/usr/bin:/bin"},
                    cwd=str(host_dir),
                    stdin=job.stdin,
                    limits=job.limits,
                    cgroup_procs=group.procs_files if group else (),
                    cpu_meter=group.cpu_s if group else None,
                    on_kill=group.kill_all if group else None,
                    bwrap_sync=True,
                    signal_from_exit_code=True,
                )
            finally:
                if group is not None:
                    group.close()


def _setup_failed(raw: RawRun) -> bool:
    """bwrap itself failed before running the command (its own message, nothing on stdout)."""
    return raw.exit_code == 1 and raw.stderr.startswith("bwrap:") and not raw.stdout and raw.killed is None
