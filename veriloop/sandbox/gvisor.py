"""The `gvisor` backend: every job in its own gVisor sandbox (`runsc run` on a hand-written OCI bundle).

The strongest isolation veriloop offers, for untrusted problem dirs: the job's system calls are
served by gVisor's user-space kernel (the Sentry), not by the host kernel. Debian's `runsc` runs as
root with the ptrace platform (KVM hangs in nested VMs), `--ignore-cgroups` (the cgroups are our
own, below), `--overlay2=none`, `--oci-seccomp` and a private `--root` state dir per job, so
concurrent jobs never share container state. It is started under `setpriv --pdeathsig KILL` and
starts its sandbox `--attached`: a killed veriloop leaves no job running (`sweep_stale` removes the
rest). Measured here: about 0.2 s per job (`bench/perf/sandbox_gvisor_start.py`).

What a job sees (`runsc do` would overlay the whole host root, so it is not used):

- a read-only root made of empty mount points and the `/bin`, `/lib*`, `/sbin` links; `/usr`,
  a few `/etc` files and the Python running veriloop (`sys.prefix`, `sys.base_prefix`) bound
  read-only; `job.ro_paths` read-only at the same path (a readable copy when the sandbox user
  cannot read the original, as for the local backend);
- `/job` (the cwd): a host tmpfs of `Limits.disk_mb` in a private 0700 bundle dir (a plain dir where
  tmpfs cannot be mounted), read-write; `/tmp` and `/dev/shm`: tmpfs mounts in the Sentry's memory
  of `disk_mb` and a quarter of it; gVisor's own `/proc`, `/sys` and `/dev`;
- the job runs as uid/gid 65534 with no capabilities (all five sets empty) and `noNewPrivileges`,
  under the local backend's syscall filter (`seccomp_profile`); the environment is exactly
  `base_env(job.env)`; network: only loopback (`--network=none`), the host's when `job.network`.

Limits: the wall clock kills the whole sandbox (runsc's process group, then every process of the
job's cgroups, then `runsc delete --force`). Memory: a per-job memory cgroup around runsc, its
Gofer and the Sentry (the job's memory plus `SENTRY_OVERHEAD_MB`; the tmpfs job dir counts too); an
OOM kill there gives killed="memory". Where no memory cgroup can be made, RLIMIT_AS inside the
sandbox instead (measured: this runsc ignores RLIMIT_DATA). RLIMIT_FSIZE, RLIMIT_NOFILE and
RLIMIT_NPROC are set in the OCI spec and enforced by the Sentry (the job is not root, so NPROC binds
a fork bomb); a host pids cgroup is a second cap and meters CPU time. CPU seconds: RLIMIT_CPU on
the host processes (a ptrace stub runs the job's code, the Sentry serves its system calls: that
counts too; measured: this runsc ignores RLIMIT_CPU set in the spec).

Known gaps of Debian's runsc 0.0~20221219: `statx` with AT_NO_AUTOMOUNT fails with EINVAL, so
coreutils 9 `ls` and `stat` fail inside (Python, Icarus, Verilator and Yosys use `fstatat` and
work); /proc/self/status has no NoNewPrivs line (prctl(PR_GET_NO_NEW_PRIVS) says 1).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from veriloop.errors import SandboxError
from veriloop.sandbox import bwrap, cgroup, jobdir
from veriloop.sandbox.collect import safe_name
from veriloop.sandbox.contract import (
    JOB_DIR,
    SYSTEM_TOP_DIRS,
    VISIBLE_ETC_FILES,
    Job,
    JobResult,
    Limits,
    Sandbox,
    base_env,
)
from veriloop.sandbox.process import RawRun, run_process

SANDBOX_UID = 65534
"""The uid and gid a job runs as inside gVisor (nobody); also the owner of its host job dir."""

SENTRY_OVERHEAD_MB = 96
"""Added to the job's memory limit for runsc, the Gofer and the Sentry themselves (measured peak of the
whole group: 18 MB for /bin/true, 24 MB for `python -c pass`, 37 MB for `import numpy`)."""

HOST_TASKS_PER_PROCESS = 4
HOST_TASKS_BASE = 256
"""The host pids cap of a job: its Sentry, Gofer and runsc threads and a ptrace stub per job thread
(the job's own process count is RLIMIT_NPROC inside gVisor); a second wall behind that one."""
MS_NOSUID, MS_NODEV, MNT_DETACH = 2, 4, 2

RUNSC_FLAGS = ("--platform=ptrace", "--ignore-cgroups", "--overlay2=none", "--oci-seccomp")
PROCESS_NOTE = "RLIMIT_NPROC inside gVisor (the job's uid is not root), and a host pids cgroup where allowed"

_ids = itertools.count()
BUNDLE_PREFIX = "veriloop-gvisor-"
"""Bundle dirs are `<tmp>/veriloop-gvisor-<pid>-<random>`: the pid says whose they are (`sweep_stale`)."""
_STD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def runsc_path() -> str | None:
    return shutil.which("runsc", path=_STD_PATH)


@functools.lru_cache(maxsize=1)
def _launcher() -> tuple[str, ...]:
    """`setpriv --pdeathsig KILL --` where it works: runsc then dies with the veriloop thread that
    started it, and its sandbox (started `--attached`) dies with runsc, so a killed veriloop leaves
    no job running. Empty where setpriv lacks the option."""
    exe = shutil.which("setpriv", path=_STD_PATH)
    if exe is None:
        return ()
    argv = (exe, "--pdeathsig", "KILL", "--")
    try:
        done = subprocess.run([*argv, "/bin/true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return argv if done.returncode == 0 else ()


def _pid_alive(pid: int) -> bool:
    return pid == os.getpid() or Path(f"/proc/{pid}").exists()


def sweep_stale() -> None:
    """Remove what gvisor jobs of veriloop processes that no longer exist left behind (they were
    killed): bundle dirs (their sandboxes died with them, see `_launcher`) and memory groups."""
    for bundle in Path(tempfile.gettempdir()).glob(f"{BUNDLE_PREFIX}*-*"):
        try:
            pid = int(bundle.name[len(BUNDLE_PREFIX) :].split("-")[0])
        except ValueError:
            continue
        if not _pid_alive(pid):
            listed = _runsc(bundle / "state", "list", "-quiet") if (bundle / "state").is_dir() else None
            for cid in listed.stdout.decode(errors="replace").split() if listed is not None else ():
                _runsc(bundle / "state", "delete", "--force", cid)
            remove_bundle(bundle)
    parent = _memory_parent()
    if parent is None:
        return
    for group in parent.glob("job-*-*"):
        try:
            pid = int(group.name.split("-")[1])
        except ValueError:
            continue
        if not _pid_alive(pid):
            MemoryGroup(group).close()


@functools.lru_cache(maxsize=1)
def _python_dirs() -> tuple[str, ...]:
    """The Python install the job may use, outside /usr (venv, base prefix, the interpreter's real file)."""
    seen: list[str] = []
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        for path in (prefix, os.path.realpath(prefix)):
            if path not in seen and path != "/usr" and not path.startswith("/usr/"):
                seen.append(path)
    real_exe = os.path.realpath(sys.executable)
    if not real_exe.startswith("/usr/") and not any(real_exe.startswith(p.rstrip("/") + "/") for p in seen):
        seen.append(real_exe)
    return tuple(seen)


def _bind(source: str, dest: str, writable: bool = False) -> dict[str, Any]:
    return {
        "destination": dest,
        "type": "bind",
        "source": source,
        "options": ["rbind", "rw" if writable else "ro", "nosuid", "nodev"],
    }


def _mount_point(rootfs: Path, dest: str, is_dir: bool) -> None:
    """An empty directory or file at `dest` in the bundle's root (parents made as needed)."""
    target = rootfs / dest.lstrip("/")
    if target.exists() or target.is_symlink():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if is_dir:
        target.mkdir()
    else:
        target.touch()


def _under_tmp(path: str) -> bool:
    return path == "/tmp" or path.startswith("/tmp/")


def _rlimits(limits: Limits, memory_by_rlimit: bool) -> list[dict[str, Any]]:
    cpu = max(1, int(limits.cpu_s if limits.cpu_s is not None else limits.wall_s + 0.999))
    fsize = limits.file_size_mb << 20
    out = [
        {"type": "RLIMIT_CPU", "soft": cpu, "hard": cpu + 1},
        {"type": "RLIMIT_FSIZE", "soft": fsize, "hard": fsize},
        {"type": "RLIMIT_NOFILE", "soft": limits.nofile, "hard": limits.nofile},
        {"type": "RLIMIT_NPROC", "soft": limits.nproc, "hard": limits.nproc},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
    ]
    if memory_by_rlimit:
        mem = limits.memory_mb << 20
        out.append({"type": "RLIMIT_AS", "soft": mem, "hard": mem})
    return out


@functools.lru_cache(maxsize=1)
def seccomp_profile() -> dict[str, Any]:
    """The local backend's syscall filter (`syscall_filter.py`) as an OCI seccomp profile, which the
    Sentry applies to the job (`--oci-seccomp`): the same calls fail with EPERM. (`clone3` needs no
    rule: this gVisor does not implement it, so the C library falls back to `clone`.)"""
    from veriloop.sandbox.syscall_filter import CLONE_NEW_FLAGS, DENIED, TIOCLINUX, TIOCSTI

    eperm = {"action": "SCMP_ACT_ERRNO", "errnoRet": 1}
    rules: list[dict[str, Any]] = [{"names": list(DENIED), **eperm}]
    for flag in CLONE_NEW_FLAGS:
        arg = {"index": 0, "value": flag, "valueTwo": flag, "op": "SCMP_CMP_MASKED_EQ"}
        rules.append({"names": ["clone"], **eperm, "args": [arg]})
    for request in (TIOCSTI, TIOCLINUX):
        rules.append(
            {"names": ["ioctl"], **eperm, "args": [{"index": 1, "value": request, "op": "SCMP_CMP_EQ"}]}
        )
    return {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules}


def _make_rootfs(rootfs: Path, points: tuple[tuple[str, bool], ...]) -> Path:
    """A root directory of nothing but the `/bin`-style links and empty mount points (dir or file)."""
    rootfs.mkdir()
    for top in SYSTEM_TOP_DIRS:
        if os.path.islink(top):
            os.symlink(os.readlink(top), rootfs / top.lstrip("/"))
    for dest, is_dir in points:
        _mount_point(rootfs, dest, is_dir)
    return rootfs


_roots_lock = threading.Lock()
_roots: dict[tuple[tuple[str, bool], ...], Path] = {}
MAX_SHARED_ROOTS = 32
"""Root directories kept per process, one per set of mount points; more distinct `ro_paths` sets
than this get a root directory in their own bundle."""


def _shared_rootfs(points: tuple[tuple[str, bool], ...]) -> Path | None:
    """The process's read-only root directory for these mount points (made once: saves ~20 ms a job)."""
    with _roots_lock:
        found = _roots.get(points)
        if found is not None and found.is_dir():
            return found
        if len(_roots) >= MAX_SHARED_ROOTS:
            return None
        if not _roots:
            atexit.register(_drop_roots)
        base = Path(tempfile.mkdtemp(prefix=f"{BUNDLE_PREFIX}{os.getpid()}-root-"))
        os.chmod(base, 0o755)
        _roots[points] = _make_rootfs(base / "rootfs", points)
        return _roots[points]


def _drop_roots() -> None:
    with _roots_lock:
        for root in _roots.values():
            shutil.rmtree(root.parent, ignore_errors=True)
        _roots.clear()


def write_bundle(job: Job, bundle: Path, host_job_dir: Path, memory_by_rlimit: bool) -> None:
    """config.json of the OCI bundle for `job` (see the module docstring) and its root directory."""
    mounts: list[dict[str, Any]] = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
        {
            "destination": "/tmp",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "nodev", "mode=1777", f"size={job.limits.disk_mb}m"],
        },
        {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "nodev", "mode=1777", f"size={max(1, job.limits.disk_mb // 4)}m"],
        },
        _bind("/usr", "/usr"),
    ]
    for top in SYSTEM_TOP_DIRS:
        if not os.path.islink(top) and os.path.isdir(top):
            mounts.append(_bind(top, top))
    for etc in VISIBLE_ETC_FILES:
        if os.path.exists(etc):
            mounts.append(_bind(os.path.realpath(etc), etc))
    for path in _python_dirs():
        mounts.append(_bind(path, path))
    for ro in job.ro_paths:
        real = os.path.realpath(ro)
        if not os.path.exists(real):
            raise SandboxError(f"Read-only path {ro} given to the sandbox does not exist.")
        mounts.append(_bind(bwrap.readable_path(real), ro if os.path.isabs(ro) else real))
    mounts.append(_bind(str(host_job_dir), JOB_DIR, writable=True))
    # Under /tmp, gVisor makes the mount point in its own tmpfs.
    points = tuple(
        (m["destination"], m["type"] != "bind" or os.path.isdir(m["source"]))
        for m in mounts
        if not _under_tmp(m["destination"])
    )
    rootfs = _shared_rootfs(points) or _make_rootfs(bundle / "rootfs", points)
    namespaces = ["pid", "ipc", "uts", "mount"] + ([] if job.network else ["network"])
    spec = {
        "ociVersion": "1.0.0",
        "process": {
            "terminal": False,
            "user": {"uid": SANDBOX_UID, "gid": SANDBOX_UID, "additionalGids": []},
            "args": list(job.argv),
            "env": [f"{k}={v}" for k, v in base_env(job.env).items()],
            "cwd": JOB_DIR,
            "capabilities": {k: [] for k in ("bounding", "effective", "inheritable", "permitted", "ambient")},
            "noNewPrivileges": True,
            "rlimits": _rlimits(job.limits, memory_by_rlimit),
        },
        "root": {"path": str(rootfs), "readonly": True},
        "hostname": "veriloop",
        "mounts": mounts,
        "linux": {"namespaces": [{"type": t} for t in namespaces], "seccomp": seccomp_profile()},
    }
    (bundle / "config.json").write_text(json.dumps(spec))


class MemoryGroup:
    """A per-job cgroup v1 memory group (under our own) holding runsc and everything it starts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.procs_file = str(path / "cgroup.procs")

    @classmethod
    def open(cls, limit_bytes: int) -> MemoryGroup | None:
        """A new group capped at `limit_bytes` (memory and, where accounted, memory+swap); None if we
        cannot make one here."""
        parent = _memory_parent()
        if parent is None:
            return None
        group = cls(parent / f"job-{os.getpid()}-{next(_ids)}")
        try:
            group.path.mkdir()
            (group.path / "memory.limit_in_bytes").write_text(str(limit_bytes))
        except OSError:
            group.close()
            return None
        with contextlib.suppress(OSError):  # no swap accounting on this host: nothing more to cap
            (group.path / "memory.memsw.limit_in_bytes").write_text(str(limit_bytes))
        return group

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in Path(self.procs_file).read_text().split()]
        except OSError:
            return []

    def kill_all(self) -> None:
        """SIGKILL every process in the group until it is empty (at most ~3 s)."""
        until = time.monotonic() + 3.0
        while time.monotonic() < until:
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def oom_killed(self) -> bool:
        """Did the kernel's OOM killer kill a process of this group? (Where the kernel does not count
        OOM kills: did usage reach the limit at all.)"""
        try:
            for line in (self.path / "memory.oom_control").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value) > 0
            return int((self.path / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError):
            return False

    def close(self) -> None:
        self.kill_all()
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.02)


@functools.lru_cache(maxsize=1)
def _memory_parent() -> Path | None:
    """Our cgroup v1 memory group's `veriloop-gvisor` child (made once), or None (no v1 memory)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            mount = Path("/sys/fs/cgroup/memory")
            parent = mount / path.lstrip("/") / "veriloop-gvisor"
            try:
                parent.mkdir(exist_ok=True)
                probe = parent / f"probe-{os.getpid()}"
                probe.mkdir(exist_ok=True)
                (probe / "memory.limit_in_bytes").write_text(str(64 << 20))
                probe.rmdir()
            except OSError:
                return None
            return parent
    return None


def _runsc(state: Path, *args: str, timeout: float = 15.0) -> subprocess.CompletedProcess[bytes] | None:
    exe = runsc_path()
    if exe is None:
        return None
    try:
        return subprocess.run(
            [exe, "--root", str(state), *args],
            capture_output=True,
            timeout=timeout,
            env={"PATH": "/usr/bin:/bin"},
            cwd="/",
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def _cleanup(state: Path, cid: str) -> None:
    """Remove the container if runsc left it (killed run): kills its sandbox and drops the state."""
    with contextlib.suppress(OSError):
        if state.is_dir() and any(state.iterdir()):
            _runsc(state, "delete", "--force", cid)


def _host_limits(limits: Limits) -> Limits:
    """Limits for runsc on the host: the job's wall clock, output caps and CPU seconds (RLIMIT_CPU of
    each host process: a ptrace stub runs the job's code, the Sentry its system calls); the other
    rlimits are set inside the sandbox instead (the Sentry's memory file must not hit them)."""
    return limits.model_copy(
        update={
            "memory_mb": 1 << 22,
            "file_size_mb": 1 << 22,
            "nofile": 1 << 16,
            "nproc": 1 << 16,
        }
    )


def check() -> tuple[bool, str]:
    """Can runsc start a sandbox here? (ok, reason); runs one tiny job (about 0.3 s)."""
    exe = runsc_path()
    if exe is None:
        return False, "runsc (gVisor) is not installed"
    if os.geteuid() != 0:
        return False, f"runsc needs root here and veriloop runs as uid {os.geteuid()}"
    version = ""
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10).stdout
        version = out.splitlines()[0].replace("runsc version ", "") if out else ""
    try:
        res = GVisorSandbox(1, checked=True).run(Job(argv=["/bin/true"], label="gvisor-probe"))
    except SandboxError as err:
        return False, f"runsc cannot start a sandbox here: {err.message}"
    except Exception as exc:  # noqa: BLE001 - a probe answers with a reason, never a traceback
        return False, f"runsc cannot start a sandbox here: {type(exc).__name__}: {exc}"
    if not res.ok:
        last = (res.stderr.strip().splitlines() or [f"exit {res.exit_code}"])[-1]
        return False, f"runsc cannot start a sandbox here: {last[:160]}"
    memory = "memory cgroup" if _memory_parent() is not None else "RLIMIT_AS (no memory cgroup)"
    return True, f"gVisor runsc {version or '?'} starts sandboxes (ptrace platform, memory cap: {memory})"


@functools.lru_cache(maxsize=1)
def probe() -> tuple[bool, str]:
    """`check()`, once per process."""
    return check()


class GVisorSandbox(Sandbox):
    """One gVisor sandbox per job: contained, no network by default, runs as an unprivileged uid."""

    name = "gvisor"
    contained = True

    def __init__(self, max_parallel: int = 0, checked: bool = False) -> None:
        if not checked:
            ok, why = probe()
            if not ok:
                raise SandboxError(
                    f"The gvisor sandbox was requested but {why}.",
                    hint="Run veriloop as root with runsc installed (apt-get install runsc), "
                    'or set [sandbox] backend = "local".',
                )
        super().__init__(max_parallel)
        sweep_stale()

    def run(self, job: Job) -> JobResult:
        exe = runsc_path()
        if exe is None:
            raise SandboxError("runsc (gVisor) is not installed.", hint="apt-get install runsc")
        bundle = Path(tempfile.mkdtemp(prefix=f"{BUNDLE_PREFIX}{os.getpid()}-"))
        try:
            host_dir = bundle / "job"
            make_job_dir(host_dir, job.files, job.limits.disk_mb)
            with self._gate:
                raw = self._run_bundle(exe, job, bundle, host_dir)
            error = runsc_error(bundle / "runsc.log") if raw.exit_code != 0 and raw.killed is None else None
            if error is not None and error.startswith(("running container", "creating container")):
                raise SandboxError(f"runsc could not start the job: {error}")
            files = jobdir.collect(host_dir, job.collect, job.limits.file_size_mb << 20)
        finally:
            remove_bundle(bundle)
        return raw.to_result(self.name, contained=True, files=files)

    def _run_bundle(self, exe: str, job: Job, bundle: Path, host_dir: Path) -> RawRun:
        """`runsc run` on the job's bundle inside the job's cgroups; nothing of it is left on return."""
        cid = f"veriloop-{os.getpid()}-{next(_ids)}"
        state = bundle / "state"
        group = MemoryGroup.open((job.limits.memory_mb + SENTRY_OVERHEAD_MB) << 20)
        # pids (a second cap: the Sentry's threads and ptrace stubs are host tasks) and cpuacct
        tasks = cgroup.open_job_cgroup(HOST_TASKS_PER_PROCESS * job.limits.nproc + HOST_TASKS_BASE)
        groups: list[MemoryGroup | cgroup.JobCgroup] = [g for g in (group, tasks) if g is not None]

        def kill_all() -> None:
            # Every process of the job is in our cgroups: killing them is enough, the state dir goes
            # with the bundle. Without cgroups `runsc delete --force` finds the sandbox (measured:
            # 1.5 s, as it waits for the sandbox it signals).
            for g in groups:
                g.kill_all()
            if not groups:
                _cleanup(state, cid)

        try:
            write_bundle(job, bundle, host_dir, memory_by_rlimit=group is None)
            state.mkdir(mode=0o700)
            log = ["--log", str(bundle / "runsc.log"), "--log-format=json"]
            argv = [exe, "--root", str(state), *log, *RUNSC_FLAGS, _network_flag(job)]
            raw = run_process(
                [*_launcher(), *argv, "run", "--bundle", str(bundle), cid],
                env={"PATH": "/usr/bin:/bin"},
                cwd=str(bundle),
                stdin=job.stdin,
                limits=_host_limits(job.limits),
                cgroup_procs=[p for g in groups for p in _procs_files(g)],
                cpu_meter=tasks.cpu_s if tasks is not None else None,
                on_kill=kill_all,
                signal_from_exit_code=True,
            )
            kill_all()
            failed = raw.exit_code != 0 and raw.killed in (None, "signal")
            if failed and group is not None and group.oom_killed():
                raw.killed = "memory"
            return raw
        finally:
            if not groups:
                _cleanup(state, cid)
            for g in groups:
                g.close()


def _procs_files(group: MemoryGroup | cgroup.JobCgroup) -> list[str]:
    return [group.procs_file] if isinstance(group, MemoryGroup) else group.procs_files


def _network_flag(job: Job) -> str:
    return "--network=host" if job.network else "--network=none"


def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _mount_tmpfs(path: Path, size_mb: int) -> bool:
    """A size-capped tmpfs owned by the sandbox user at `path` (root only); False where not allowed."""
    opts = f"size={size_mb}m,mode=0700,uid={SANDBOX_UID},gid={SANDBOX_UID}".encode()
    return int(_libc().mount(b"tmpfs", str(path).encode(), b"tmpfs", MS_NOSUID | MS_NODEV, opts)) == 0


def _unmount(path: Path) -> None:
    if os.path.ismount(path):
        _libc().umount2(str(path).encode(), MNT_DETACH)


def make_job_dir(path: Path, files: dict[str, str | bytes], disk_mb: int) -> None:
    """The host side of /job: a tmpfs of `disk_mb` (so a full job dir is the job's ENOSPC, never the
    host disk's; a plain directory where tmpfs cannot be mounted) holding `files`, all owned by the
    sandbox user, whose writes the Sentry checks."""
    path.mkdir(mode=0o700)
    _mount_tmpfs(path, disk_mb)
    for name, content in files.items():
        target = path.joinpath(*Path(safe_name(name)).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in (dirpath, *(os.path.join(dirpath, n) for n in (*dirnames, *filenames))):
            os.lchown(name, SANDBOX_UID, SANDBOX_UID)


def remove_bundle(bundle: Path) -> None:
    """Unmount the job dir's tmpfs (or remove the plain job dir's tree, flattened into our private
    bundle dir: no other job's removal can meet it there), then the rest, which is ours."""
    job = bundle / "job"
    _unmount(job)
    jobdir.remove(job)
    shutil.rmtree(bundle, ignore_errors=True)


def runsc_error(log: Path) -> str | None:
    """The first error runsc itself logged (`--log`, one JSON object a line; the job cannot write
    there), e.g. "running container: ... error finding executable"; None when it logged none."""
    try:
        with log.open("rb") as fh:
            text = fh.read(1 << 16).decode(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("level") in ("error", "fatal") and entry.get("msg"):
            return str(entry["msg"])[:300]
    return None
