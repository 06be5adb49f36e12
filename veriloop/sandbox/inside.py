"""Process supervision INSIDE a long-lived sandbox (stdlib only): framing, child limits, kill, wipe.

Shipped read-only into warm sandboxes next to the server that imports it (`_veriloop_inside.py`);
veriloop's own process never calls it. Used by the evolve zygote and by the step server of staged
jobs:

- `send`/`recv`: the host protocol, a 4-byte big-endian length + JSON, one request, one reply;
- `become_server`: a server's start-up (non-dumpable, subreaper, protocol off fds 0 and 1);
- `limit_child`: in a forked zygote child, the job's rlimits (CPU, DATA, FSIZE, NOFILE, NPROC,
  no core);
- `drain`: read a child's two pipes under a cap until they close, the deadline or runaway output;
- `reap`: wait4 the child (status, CPU seconds), SIGKILL its group past a grace period;
- `kill_others`/`wipe`/`ipc_clean`: after each request nothing the child started, wrote or created
  (processes, files in the job dir, /tmp, /dev/shm, SysV IPC objects) is left for the next one.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import json
import math
import os
import resource
import select
import signal
import stat
import struct
import time

OUTPUT_KILL_FACTOR = 8
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1


def prctl(option: int, value: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, value, 0, 0, 0)) == 0
    except OSError:
        return False


def become_server() -> tuple[int, int]:
    """Start-up of a server inside a sandbox: non-dumpable (a child without capabilities cannot
    ptrace it or open its /proc files), subreaper of all it starts, killed with its parent. The
    protocol moves off fds 0 and 1 to the returned (in, out) descriptors; 0 becomes /dev/null and
    1 a copy of stderr, so stray prints cannot garble the protocol."""
    prctl(PR_SET_DUMPABLE, 0)
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    proto_in = os.dup(0)
    proto_out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    return proto_in, proto_out


def read_exact(fd: int, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def send(fd: int, obj: dict) -> None:
    data = json.dumps(obj).encode()
    view = memoryview(struct.pack(">I", len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def recv(fd: int) -> dict | None:
    head = read_exact(fd, 4)
    if head is None:
        return None
    body = read_exact(fd, struct.unpack(">I", head)[0])
    return None if body is None else json.loads(body)


def others(me: int) -> list[int]:
    return [int(d) for d in os.listdir("/proc") if d.isdigit() and int(d) not in (1, me)]


def kill_others(me: int) -> tuple[bool, bool]:
    """SIGKILL every process of this sandbox but its init and us: (there were some, all are gone)."""
    found = bool(others(me))
    until = time.monotonic() + 5.0
    while time.monotonic() < until:
        if others(me):
            with contextlib.suppress(OSError):
                os.kill(-1, signal.SIGKILL)  # again each round: a fork bomb may have spawned more
        while True:  # reap everything reparented to us (we are the subreaper)
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        if not others(me):
            return found, True
        time.sleep(0.005)
    return found, False


def snapshot(root: str) -> dict[str, tuple[int, int, str]]:
    """What the sandbox set up under `root` (mount points and their parents, device nodes, links).

    One lstat per entry; a directory on another device than its parent (a mount) is not walked."""
    out: dict[str, tuple[int, int, str]] = {}
    todo: list[tuple[str, int | None]] = [(root, None)]
    while todo:
        path, parent_dev = todo.pop()
        try:
            st = os.lstat(path)
        except OSError:
            continue
        link = os.readlink(path) if stat.S_ISLNK(st.st_mode) else ""
        out[path] = (st.st_mode, st.st_rdev, link)
        if stat.S_ISDIR(st.st_mode) and (parent_dev is None or st.st_dev == parent_dev):
            with contextlib.suppress(OSError):
                todo.extend((os.path.join(path, n), st.st_dev) for n in os.listdir(path))
    return out


_RENAMES = itertools.count()
"""Names for directories moved up while removing: unique per process, whichever thread removes."""


def remove(full: str, budget: int = 1_000_000) -> bool:
    """Delete `full` and everything under it, never following links; True when it is gone.

    No recursion and no deep paths: each subdirectory met is first renamed up into `full`'s parent
    and deleted from there, so a 5000-deep tree costs two open descriptors and no long path.
    Permissions are repaired on the way; it never raises and gives up after `budget` entries."""
    parent, name = os.path.split(full.rstrip("/"))
    try:
        top = os.open(parent or "/", os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return not os.path.lexists(full)
    try:
        return _remove_in(top, name, budget)
    finally:
        os.close(top)


def _remove_in(top: int, name: str, budget: int) -> bool:
    """Remove entry `name` of the directory open as `top`, flattening subdirectories into `top`."""
    try:
        os.unlink(name, dir_fd=top)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        pass  # a directory, or one we may not write yet
    ok = True
    todo = [name]
    while todo:
        dname = todo.pop()
        with contextlib.suppress(OSError):
            os.chmod(dname, 0o700, dir_fd=top, follow_symlinks=False)
        try:
            fd = os.open(dname, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=top)
        except OSError:
            ok = False
            continue
        try:
            with os.scandir(fd) as entries:
                found = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
        except OSError:
            found = []
            ok = False
        for child, is_dir in found:
            budget -= 1
            if budget < 0:
                os.close(fd)
                return False
            try:
                if is_dir:
                    flat = f".veriloop-rm-{os.getpid()}-{next(_RENAMES)}"
                    os.rename(child, flat, src_dir_fd=fd, dst_dir_fd=top)
                    todo.append(flat)
                else:
                    os.unlink(child, dir_fd=fd)
            except FileNotFoundError:
                pass
            except OSError:
                ok = False
        os.close(fd)
        try:
            os.rmdir(dname, dir_fd=top)
        except FileNotFoundError:
            pass
        except OSError:
            ok = False
    return ok


def read_file(root: str, rel: str, max_bytes: int) -> bytes | None:
    """The first `max_bytes` of regular file `rel` under `root`, opened without following a link at
    any component (O_NOFOLLOW, one directory at a time); None for anything else or any error."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(root, flags | os.O_DIRECTORY)
    except OSError:
        return None
    leaf = -1
    try:
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        if not parts or ".." in parts:
            return None
        for part in parts[:-1]:
            nxt = os.open(part, flags | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nxt
        leaf = os.open(parts[-1], flags | os.O_NONBLOCK, dir_fd=fd)
        if not stat.S_ISREG(os.fstat(leaf).st_mode):
            return None
        chunks = []
        left = max_bytes
        while left > 0:
            chunk = os.read(leaf, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)
        if leaf >= 0:
            os.close(leaf)


def wipe(root: str, keep: dict[str, tuple[int, int, str]]) -> bool:
    """Delete what is not part of the sandbox's own layout under `root`; True if all is as at start."""
    todo: list[tuple[str, int | None]] = [(root, None)]
    while todo:
        path, parent_dev = todo.pop()
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
            continue
        if path in keep and st.st_mode != keep[path][0]:
            with contextlib.suppress(OSError):
                os.chmod(path, keep[path][0] & 0o7777)
        if parent_dev is not None and st.st_dev != parent_dev:
            continue  # a mount point of the layout: not ours to clean
        try:
            names = os.listdir(path)
        except OSError:
            continue
        for name in names:
            full = os.path.join(path, name)
            if full in keep:
                todo.append((full, st.st_dev))
            else:
                remove(full)
    return snapshot(root) == keep


_NODENAME = os.uname().nodename


def ipc_clean() -> bool:
    """No SysV shared memory, semaphore or message queue left in this sandbox's IPC namespace, and
    the host name as it was at start-up (the seccomp filter denies the calls that change the rest of
    the shared kernel state: POSIX message queues, keyrings, sethostname)."""
    if os.uname().nodename != _NODENAME:
        return False
    for kind in ("shm", "sem", "msg"):
        try:
            with open(f"/proc/sysvipc/{kind}") as fh:
                if len(fh.read().splitlines()) > 1:
                    return False
        except OSError:
            continue
    return True


def drain(pid: int, out_r: int, res_r: int, deadline: float, out_cap: int) -> dict:
    """Read the child's two pipes until both close, the deadline, or runaway output on either."""
    out = bytearray()
    res = bytearray()
    out_total = res_total = 0
    killed = None
    open_fds = {out_r, res_r}
    drain_until = None
    while open_fds:
        now = time.monotonic()
        if drain_until is None and now >= deadline:
            killed = "timeout"
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            drain_until = now + 1.0
        if drain_until is not None and now >= drain_until:
            break
        if drain_until is None and os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
            # The child is gone; whatever still holds its pipes (a leftover process) gets 0.2 s.
            drain_until = now + 0.2
        limit = drain_until if drain_until is not None else deadline
        ready, _, _ = select.select(list(open_fds), [], [], max(0.0, min(limit - now, 0.05)))
        for fd in ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                open_fds.discard(fd)
                continue
            if fd == out_r:
                out_total += len(chunk)
                if len(out) < out_cap:
                    out += chunk[: out_cap - len(out)]
            else:
                res_total += len(chunk)
                if len(res) < out_cap:
                    res += chunk[: out_cap - len(res)]
            if killed is None and max(out_total, res_total) > OUTPUT_KILL_FACTOR * out_cap:
                killed = "output"
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
                drain_until = time.monotonic() + 1.0
    return {
        "output": bytes(out),
        "output_total": out_total,
        "result": bytes(res),
        "result_total": res_total,
        "killed": killed,
    }


def reap(pid: int, until: float) -> tuple[int, float, bool]:
    """wait4 the child until `until`, then SIGKILL its group: (status, cpu seconds, killed by us)."""
    delay = 0.0005
    killed = False
    while True:
        got, status, ru = os.wait4(pid, os.WNOHANG)
        if got == pid:
            return status, ru.ru_utime + ru.ru_stime, killed
        if time.monotonic() >= until and not killed:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            killed = True
        time.sleep(delay)
        delay = min(delay * 2, 0.02)


def text(data: bytes, total: int, cap: int, killed_for_output: bool) -> str:
    out = data.decode("utf-8", errors="replace")
    if total > cap:
        more = "at least " if killed_for_output else ""
        dropped = total - len(data)
        out += f"\n[veriloop sandbox: output truncated at {cap} bytes; {more}{dropped} more bytes dropped]\n"
    return out


def layout_of(job_dir: str) -> dict[str, dict[str, tuple[int, int, str]]]:
    """Writable places and what must stay there: nothing in the job dir, the sandbox's layout elsewhere."""
    out = {job_dir: {job_dir: snapshot(job_dir)[job_dir]}}
    for root in ("/tmp", "/dev", "/dev/shm"):
        if os.path.isdir(root):
            out[root] = snapshot(root)
    return out


def limit_child(timeout: float, memory_mb: int, file_size_mb: int, nofile: int, nproc: int) -> None:
    """In a forked child: lower the rlimits to the job's (never raises)."""
    cpu = max(1, math.ceil(timeout))
    mem = int(memory_mb) << 20
    fsize = int(file_size_mb) << 20
    for res, soft, hard in (
        (resource.RLIMIT_CPU, cpu, cpu + 1),
        (resource.RLIMIT_DATA, mem, mem),
        (resource.RLIMIT_FSIZE, fsize, fsize),
        (resource.RLIMIT_NOFILE, int(nofile), int(nofile)),
        (resource.RLIMIT_NPROC, int(nproc), int(nproc)),
        (resource.RLIMIT_CORE, 0, 0),
    ):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(res, (soft, hard))
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
