"""bubblewrap command lines: what a contained job sees, the host identity it runs as, and its syscalls.

Everything the `local` backend and the warm sandboxes start goes through `Spawn`:

- **Identity.** Started by root, bubblewrap would map the job to host uid 0 whatever `--uid` says,
  and host root can, for example, point `kernel.core_pattern` at a script of its own. So when
  veriloop runs as root, bubblewrap itself is started as an unprivileged host user (`SANDBOX_UID`,
  `nobody`, with no supplementary groups): the job's files,
  signals and /proc writes are checked as that user. A non-root user's jobs run as that user.
  Every job also has no capabilities (`--cap-drop ALL`), no new privileges, and may not create
  user namespaces (`--disable-userns`, plus the seccomp filter in `syscall_filter.py`).
- **View.** `/usr` and the `/bin`, `/lib*`, `/sbin` links, a few `/etc` files and the Python
  running veriloop, all read-only; `job.ro_paths` read-only at the same path (a copy when the
  sandbox user cannot read the original: see `readable_path`); `/proc` mounted fresh and then
  read-only (kernel tunables cannot be written); a minimal read-only `/dev`; `/job` (the cwd),
  `/tmp` and `/dev/shm` as size-capped tmpfs mounts (`Limits.disk_mb`). Nothing the job writes
  lands on the host's disk.
- **Namespaces.** user, pid, net (unless `job.network`), ipc, uts, cgroup; `--die-with-parent`,
  `--new-session`; the environment is cleared to `base_env(job.env)`.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from veriloop.sandbox import identity, jobdir, syscall_filter
from veriloop.sandbox.contract import JOB_DIR, SYSTEM_TOP_DIRS, VISIBLE_ETC_FILES, Limits
from veriloop.sandbox.identity import sandbox_user
from veriloop.sandbox.process import rlimit_values


def launcher(limits: Limits, with_cgroup: bool) -> list[str]:
    """The commands that start bubblewrap: `prlimit` lowers the job's rlimits (inherited by bwrap and
    everything in the sandbox, which cannot raise them again), then, when we are root, `setpriv`
    drops to the sandbox user. (The kernel refuses to set the limits of a process that already
    lives in the sandbox's user namespace from outside, and a Python pre-exec hook would cost a
    full fork of veriloop per job.)"""
    names = {
        resource.RLIMIT_CPU: "cpu",
        resource.RLIMIT_DATA: "data",
        resource.RLIMIT_FSIZE: "fsize",
        resource.RLIMIT_NOFILE: "nofile",
        resource.RLIMIT_NPROC: "nproc",
        resource.RLIMIT_CORE: "core",
    }
    out = ["prlimit"]
    for res, soft, hard in rlimit_values(limits, with_cgroup=with_cgroup):
        out.append(f"--{names[res]}={soft}:{hard}")
    out.append("--")
    return out + identity.drop_argv()


def _readable_by(path: str, uid: int, gid: int) -> bool:
    """Could `uid` reach and read `path` (every parent searchable, the target readable)?"""

    def allowed(st: os.stat_result, bits: int) -> bool:
        if st.st_uid == uid:
            return st.st_mode & (bits << 6) == bits << 6
        if st.st_gid == gid:
            return st.st_mode & (bits << 3) == bits << 3
        return st.st_mode & bits == bits

    current = "/"
    try:
        for part in Path(path).parts[1:]:
            if not allowed(os.stat(current), 1):
                return False
            current = os.path.join(current, part)
        st = os.stat(current)
    except OSError:
        return False
    return allowed(st, 5 if stat.S_ISDIR(st.st_mode) else 4)


_staged_lock = threading.Lock()
_staged: dict[tuple[str, int], str] = {}


def readable_path(path: str) -> str:
    """`path`, or a read-only copy of it the sandbox user can read (made once per process and mtime).

    A problem directory under a private parent (a 0700 home or pytest's temp root) cannot be bound
    by an unprivileged bubblewrap; the copy holds its regular files and directories only (links and
    special files are left out), under a temp dir that only the sandbox user (and root) may enter,
    removed when this process exits (or by the next veriloop process, if this one was killed)."""
    user = sandbox_user()
    if user is None or _readable_by(path, *user):
        return path
    key = (path, os.stat(path).st_mtime_ns)
    with _staged_lock:
        found = _staged.get(key)
        if found is not None and os.path.exists(found):
            return found
        if not _staged:
            jobdir.remove_stale("veriloop-view")
            atexit.register(_drop_views)
        root = tempfile.mkdtemp(prefix=f"veriloop-view-{os.getpid()}-")
        target = os.path.join(root, "view")
        _copy_plain(path, target)
        os.chown(root, user[0], user[1])
        os.chmod(root, 0o500)
        _staged[key] = target
        return target


def _drop_views() -> None:
    from veriloop.sandbox.inside import remove

    for target in _staged.values():
        remove(os.path.dirname(target))
    _staged.clear()


def _copy_plain(src: str, dst: str) -> None:
    """Copy regular files and directories (iteratively, never following links), world-readable."""
    if not os.path.isdir(src):
        shutil.copyfile(src, dst, follow_symlinks=False)
        os.chmod(dst, 0o644)
        return
    todo = [(src, dst)]
    while todo:
        s, d = todo.pop()
        os.mkdir(d, 0o755)
        with os.scandir(s) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    todo.append((entry.path, os.path.join(d, entry.name)))
                elif entry.is_file(follow_symlinks=False):
                    shutil.copyfile(entry.path, os.path.join(d, entry.name), follow_symlinks=False)
                    os.chmod(os.path.join(d, entry.name), 0o644)


ALIAS_FILE = ".veriloop-alias"
"""A file in a venv listing other paths it is reached by (setup.sh writes it when .venv is a link)."""


def _aliases(prefix: str) -> list[str]:
    try:
        text = (Path(os.path.realpath(prefix)) / ALIAS_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    return [line for line in text.splitlines() if line.startswith("/") and "\0" not in line]


@functools.lru_cache(maxsize=1)
def system_binds() -> tuple[str, ...]:
    """The read-only system dirs, /etc files and Python install every job sees."""
    args: list[str] = ["--ro-bind", "/usr", "/usr"]
    for top in SYSTEM_TOP_DIRS:
        p = Path(top)
        if p.is_symlink():
            args += ["--symlink", os.readlink(top), top]
        elif p.is_dir():
            args += ["--ro-bind", top, top]
    for etc in VISIBLE_ETC_FILES:
        args += ["--ro-bind-try", etc, etc]
    seen: set[str] = set()
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        for path in (prefix, os.path.realpath(prefix), *_aliases(prefix)):
            if path in seen or path.startswith("/usr/") or path == "/usr":
                continue
            seen.add(path)
            # Bound from its real path: a venv reached through a link (setup.sh links .venv to a
            # readable place when the checkout is private) is then found at the path Python uses.
            args += ["--ro-bind", os.path.realpath(path), path]
    # The interpreter may be a symlink chain out of the venv (pyenv, uv): bind its real file too.
    real_exe = os.path.realpath(sys.executable)
    if not any(real_exe.startswith(p.rstrip("/") + "/") for p in seen) and not real_exe.startswith("/usr/"):
        args += ["--ro-bind", real_exe, real_exe]
    return tuple(args)


@functools.lru_cache(maxsize=1)
def hardening_flags() -> tuple[str, ...] | None:
    """bwrap flags that leave a job no capabilities and no new user namespaces (probed once).

    None when this bwrap cannot drop capabilities."""
    for flags in (("--cap-drop", "ALL", "--unshare-user", "--disable-userns"), ("--cap-drop", "ALL")):
        try:
            done = subprocess.run(
                [*identity.drop_argv(), "bwrap", *flags, "--unshare-all"]
                + ["--ro-bind", "/", "/", "--", "/bin/true"],
                capture_output=True,
                timeout=10,
                env={"PATH": "/usr/bin:/bin"},
                cwd="/",
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return flags
    return None


@dataclass
class Spawn:
    """One bwrap command line plus the descriptors it reads (files, seccomp filter); `close()` after start."""

    argv: list[str]
    fds: list[int] = field(default_factory=list)

    def close(self) -> None:
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds = []


def _data_fd(data: bytes) -> int:
    fd = os.memfd_create("veriloop-job-file", os.MFD_CLOEXEC)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def command(
    argv: list[str],
    *,
    limits: Limits,
    env: dict[str, str],
    files: dict[str, bytes] | None = None,
    ro_paths: list[str] | None = None,
    network: bool = False,
    as_pid_1: bool = False,
    read_only: dict[str, bytes] | None = None,
) -> Spawn:
    """The bwrap command line for `argv`; `files` are created in the (tmpfs) job dir, `read_only`
    files at absolute paths outside it. Raises SandboxError for an ro_path that does not exist."""
    disk = limits.disk_mb * 1024 * 1024
    spawn = Spawn(argv=[])
    out = ["bwrap", *(hardening_flags() or ()), "--unshare-all"]
    if network:
        out.append("--share-net")
    if as_pid_1:
        out.append("--as-pid-1")
    # The private /tmp comes first so that binds below it (a venv or ro_paths under /tmp) stay visible.
    out += ["--die-with-parent", "--new-session", "--size", str(disk), "--tmpfs", "/tmp"]
    out += [*system_binds(), "--proc", "/proc", "--remount-ro", "/proc", "--dev", "/dev"]
    out += ["--size", str(max(1 << 20, disk // 4)), "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]
    out += ["--size", str(disk), "--tmpfs", JOB_DIR]
    try:
        made: set[str] = set()
        for name, data in sorted((files or {}).items()):
            parts = name.split("/")
            for i in range(1, len(parts)):
                sub = "/".join(parts[:i])
                if sub not in made:
                    made.add(sub)
                    out += ["--dir", f"{JOB_DIR}/{sub}"]
            fd = _data_fd(data)
            spawn.fds.append(fd)
            out += ["--file", str(fd), f"{JOB_DIR}/{name}"]
        for dest, data in sorted((read_only or {}).items()):
            fd = _data_fd(data)
            spawn.fds.append(fd)
            out += ["--ro-bind-data", str(fd), dest]
        for ro in ro_paths or []:
            real = os.path.realpath(ro)
            if not os.path.exists(real):
                from veriloop.errors import SandboxError

                raise SandboxError(f"Read-only path {ro} given to the sandbox does not exist.")
            out += ["--ro-bind", readable_path(real), ro if os.path.isabs(ro) else real]
        out += ["--remount-ro", "/", "--chdir", JOB_DIR, "--clearenv"]
        for key, value in env.items():
            out += ["--setenv", key, value]
        filt = syscall_filter.program_fd()
        if filt is not None:
            spawn.fds.append(filt)
            out += ["--seccomp", str(filt)]
    except BaseException:
        spawn.close()
        raise
    spawn.argv = [*out, "--", *argv]
    return spawn


@functools.lru_cache(maxsize=1)
def probe() -> tuple[bool, str]:
    """Can bubblewrap create its namespaces here, as the sandbox user? (ok, reason) -- probed once."""
    spawn: Spawn | None = None
    try:
        spawn = command(["/bin/true"], limits=Limits(), env={"PATH": "/usr/bin:/bin"})
        done = subprocess.run(
            [*identity.drop_argv(), *spawn.argv],
            capture_output=True,
            timeout=10,
            env={"PATH": "/usr/bin:/bin"},
            cwd="/",
            pass_fds=spawn.fds,
        )
    except FileNotFoundError:
        return False, "bubblewrap (bwrap) is not installed"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bubblewrap does not start: {exc}"
    finally:
        if spawn is not None:
            spawn.close()
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        return False, "bubblewrap cannot create namespaces here: " + (
            why[-1] if why else f"exit {done.returncode}"
        )
    who = sandbox_user()
    as_whom = f" as host uid {who[0]}" if who else ""
    filt = "seccomp filter"
    if syscall_filter.bpf_program() is None:
        filt = "NO seccomp filter (libseccomp missing)"
    return True, f"bubblewrap namespaces (user, pid, net, ipc, uts){as_whom}, {filt}"
