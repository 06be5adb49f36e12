"""Warm evaluation worker, run INSIDE one long-lived sandbox: fork a fresh child per evaluator stage.

Usage (stdlib only; shipped read-only next to the harness, never imported by veriloop itself):
    python -I -S _veriloop_zygote.py SITE_DIRS PROBLEM_DIR PROGRAM_FILE JOB_DIR
Protocol on the original stdin/stdout: 4-byte big-endian length + JSON, one request, one reply.

Start-up: the zygote makes itself non-dumpable (a child without capabilities cannot ptrace it or
open its /proc files), becomes the subreaper of everything it starts, imports the harness and the
evaluator's dependencies (then forgets the problem's own modules, so each child executes
evaluator.py afresh, exactly like the per-candidate path), and says it is ready.

Per request: write the candidate into the (emptied) job dir, fork. The child: own session and
process group, the stage's rlimits, fds 0/1/2 = /dev/null + one output pipe, a private result pipe,
every other fd closed; it runs the harness stage and writes the nonce-framed result. The zygote:
drains both pipes under caps, kills the child's group at the wall deadline or on runaway output,
reaps it, kills every other process left in the sandbox, wipes the job dir, /tmp and /dev/shm,
and replies with what happened plus `dirty` when the child left processes or files it could not
remove (the host then recycles this worker).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import math
import os
import resource
import select
import shutil
import signal
import struct
import sys
import time

OUTPUT_KILL_FACTOR = 8
_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_PDEATHSIG = 1


def _prctl(option: int, value: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, value, 0, 0, 0)) == 0
    except OSError:
        return False


def _read_exact(fd: int, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def _send(fd: int, obj: dict) -> None:
    data = json.dumps(obj).encode()
    view = memoryview(struct.pack(">I", len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _recv(fd: int) -> dict | None:
    head = _read_exact(fd, 4)
    if head is None:
        return None
    body = _read_exact(fd, struct.unpack(">I", head)[0])
    return None if body is None else json.loads(body)


def _warm(problem_dir: str, harness: object) -> str:
    """Import the evaluator once so its dependencies stay loaded, then forget the problem's modules."""
    before = set(sys.modules)
    note = ""

    def too_slow(_sig: int, _frame: object) -> None:
        raise TimeoutError("evaluator import took longer than 30 s")

    signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(30)  # a slow import is the child's business (under its own timeout), not start-up's
    try:
        import importlib.util

        harness._shim_openevolve()  # type: ignore[attr-defined]
        spec = importlib.util.spec_from_file_location("evaluator", os.path.join(problem_dir, "evaluator.py"))
        if spec is not None and spec.loader is not None:
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
    except BaseException as exc:  # noqa: BLE001 - the child will report it properly
        note = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
    prefix = os.path.realpath(problem_dir) + os.sep
    for name in set(sys.modules) - before:
        mod = sys.modules.get(name)
        path = getattr(mod, "__file__", None) or ""
        if name == "evaluator" or (path and os.path.realpath(path).startswith(prefix)):
            sys.modules.pop(name, None)
    return note


def _child(req: dict, out_w: int, res_w: int, harness: object) -> None:
    """In the forked child: isolate, limit, run the stage, report. Never returns."""
    try:
        os.setsid()
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        keep = os.dup(res_w)  # above 2, then close every other descriptor
        os.closerange(3, keep)
        os.closerange(keep + 1, 65536)
        timeout = float(req["timeout"])
        cpu = max(1, math.ceil(timeout))
        mem = int(req["memory_mb"]) << 20
        fsize = int(req["file_size_mb"]) << 20
        for res, soft, hard in (
            (resource.RLIMIT_CPU, cpu, cpu + 1),
            (resource.RLIMIT_DATA, mem, mem),
            (resource.RLIMIT_FSIZE, fsize, fsize),
            (resource.RLIMIT_NOFILE, int(req["nofile"]), int(req["nofile"])),
            (resource.RLIMIT_NPROC, int(req["nproc"]), int(req["nproc"])),
            (resource.RLIMIT_CORE, 0, 0),
        ):
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(res, (soft, hard))
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        sys.argv = list(req["argv"])
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        payload = harness.run_stage(req["stage"], req["problem_dir"], req["program_path"])  # type: ignore[attr-defined]
        harness.emit(keep, req["nonce"], payload)  # type: ignore[attr-defined]
        os._exit(0)
    except BaseException:  # noqa: BLE001
        os._exit(70)


def _others(me: int) -> list[int]:
    return [int(d) for d in os.listdir("/proc") if d.isdigit() and int(d) not in (1, me)]


def _kill_others(me: int) -> tuple[bool, bool]:
    """SIGKILL every process of this sandbox but its init and us: (there were some, all are gone)."""
    found = bool(_others(me))
    until = time.monotonic() + 5.0
    while time.monotonic() < until:
        if _others(me):
            with contextlib.suppress(OSError):
                os.kill(-1, signal.SIGKILL)  # again each round: a fork bomb may have spawned more
        while True:  # reap everything reparented to us (we are the subreaper)
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        if not _others(me):
            return found, True
        time.sleep(0.005)
    return found, False


def _snapshot(root: str) -> dict[str, tuple[int, int, str]]:
    """What the sandbox set up under `root` (mount points and their parents, device nodes, links)."""
    out: dict[str, tuple[int, int, str]] = {}
    todo = [root]
    while todo:
        path = todo.pop()
        try:
            st = os.lstat(path)
        except OSError:
            continue
        link = os.readlink(path) if os.path.islink(path) else ""
        out[path] = (st.st_mode, st.st_rdev, link)
        if path != root and os.path.ismount(path):
            continue
        if os.path.isdir(path) and not link:
            with contextlib.suppress(OSError):
                todo.extend(os.path.join(path, n) for n in os.listdir(path))
    return out


def _remove(full: str) -> None:
    if os.path.isdir(full) and not os.path.islink(full):

        def fix(func: object, p: str, _exc: object) -> None:
            with contextlib.suppress(OSError):
                os.chmod(os.path.dirname(p), 0o700)
            with contextlib.suppress(OSError):
                if os.path.isdir(p) and not os.path.islink(p):
                    os.chmod(p, 0o700)
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    os.unlink(p)

        with contextlib.suppress(OSError):
            os.chmod(full, 0o700)
        shutil.rmtree(full, onerror=fix)
    else:
        with contextlib.suppress(OSError):
            os.unlink(full)


def _wipe(root: str, keep: dict[str, tuple[int, int, str]]) -> bool:
    """Delete what is not part of the sandbox's own layout under `root`; True if all is as at start."""
    todo = [root]
    while todo:
        path = todo.pop()
        with contextlib.suppress(OSError):
            if path in keep and os.lstat(path).st_mode != keep[path][0] and not os.path.islink(path):
                os.chmod(path, keep[path][0] & 0o7777)
        if path != root and os.path.ismount(path):
            continue
        try:
            names = os.listdir(path)
        except OSError:
            continue
        for name in names:
            full = os.path.join(path, name)
            if full in keep:
                if os.path.isdir(full) and not os.path.islink(full):
                    todo.append(full)
            else:
                _remove(full)
    return _snapshot(root) == keep


def _ipc_clean() -> bool:
    """No SysV shared memory, semaphore or message queue left in this sandbox's IPC namespace."""
    for kind in ("shm", "sem", "msg"):
        try:
            with open(f"/proc/sysvipc/{kind}") as fh:
                if len(fh.read().splitlines()) > 1:
                    return False
        except OSError:
            continue
    return True


def _drain(pid: int, out_r: int, res_r: int, deadline: float, out_cap: int) -> dict:
    """Read the child's output and result pipes until both close, the deadline, or runaway output."""
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
                if killed is None and out_total > OUTPUT_KILL_FACTOR * out_cap:
                    killed = "output"
                    with contextlib.suppress(OSError):
                        os.killpg(pid, signal.SIGKILL)
                    drain_until = time.monotonic() + 1.0
            else:
                res_total += len(chunk)
                if len(res) < out_cap:
                    res += chunk[: out_cap - len(res)]
    return {
        "output": bytes(out),
        "output_total": out_total,
        "result": bytes(res),
        "result_total": res_total,
        "killed": killed,
    }


def _reap(pid: int, until: float) -> tuple[int, float, bool]:
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


def _text(data: bytes, total: int, cap: int, killed_for_output: bool) -> str:
    out = data.decode("utf-8", errors="replace")
    if total > cap:
        more = "at least " if killed_for_output else ""
        dropped = total - len(data)
        out += f"\n[veriloop sandbox: output truncated at {cap} bytes; {more}{dropped} more bytes dropped]\n"
    return out


def layout_of(job_dir: str) -> dict[str, dict[str, tuple[int, int, str]]]:
    """Writable places and what must stay there: nothing in the job dir, the sandbox's layout elsewhere."""
    out = {job_dir: {job_dir: _snapshot(job_dir)[job_dir]}}
    for root in ("/tmp", "/dev"):
        if os.path.isdir(root):
            out[root] = _snapshot(root)
    return out


def serve(
    job_dir: str,
    harness: object,
    proto_in: int,
    proto_out: int,
    layout: dict[str, dict[str, tuple[int, int, str]]],
) -> None:
    me = os.getpid()
    roots = list(layout)
    while True:
        req = _recv(proto_in)
        if req is None:
            return
        started = time.monotonic()
        program_path = os.path.join(job_dir, req["program_file"])
        os.makedirs(os.path.dirname(program_path), exist_ok=True)
        with open(program_path, "w", encoding="utf-8") as fh:
            fh.write(req["code"])
        out_r, out_w = os.pipe()
        res_r, res_w = os.pipe()
        cap = int(req["output_bytes"])
        req["program_path"] = program_path
        pid = os.fork()
        if pid == 0:
            os.close(out_r)
            os.close(res_r)
            os.close(proto_in)
            os.close(proto_out)
            _child(req, out_w, res_w, harness)
        os.close(out_w)
        os.close(res_w)
        got = _drain(pid, out_r, res_r, started + float(req["timeout"]), cap)
        os.close(out_r)
        os.close(res_r)
        grace = 5.0 if got["killed"] else max(0.0, started + float(req["timeout"]) - time.monotonic())
        status, cpu_s, reaped_by_kill = _reap(pid, time.monotonic() + grace)
        if reaped_by_kill and got["killed"] is None:
            got["killed"] = "timeout"
        wall_s = time.monotonic() - started
        leftovers, all_gone = _kill_others(me)
        files_ok = all([_wipe(root, layout[root]) for root in roots])
        ipc_ok = _ipc_clean()
        clean = all_gone and files_ok and ipc_ok
        os.chdir(job_dir)
        reply = {
            "status": status,
            "cpu_s": cpu_s,
            "wall_s": wall_s,
            "killed": got["killed"],
            "stdout": _text(got["result"], got["result_total"], cap, False),
            "stdout_truncated": got["result_total"] > cap,
            "stderr": _text(got["output"], got["output_total"], cap, got["killed"] == "output"),
            "stderr_truncated": got["output_total"] > cap,
            "dirty": leftovers or not clean,
            "why": "processes left behind"
            if leftovers
            else ("files left behind" if not files_ok else ("IPC objects left behind" if not ipc_ok else "")),
        }
        _send(proto_out, reply)


def main() -> None:
    site_dirs, problem_dir, program_file, job_dir = sys.argv[1:5]
    here = os.path.dirname(os.path.abspath(__file__))
    for path in [here, *site_dirs.split(os.pathsep)]:
        if path and path not in sys.path and os.path.isdir(path):
            sys.path.append(path)
    _prctl(_PR_SET_DUMPABLE, 0)
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    proto_in = os.dup(0)
    proto_out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    import _veriloop_harness as harness  # type: ignore[import-not-found]

    problem_dir = os.path.abspath(problem_dir)
    sys.path.insert(0, problem_dir)
    os.chdir(job_dir)
    layout = layout_of(job_dir)
    note = _warm(problem_dir, harness)
    clean = all([_wipe(root, layout[root]) for root in layout])
    _send(proto_out, {"ready": True, "pid": os.getpid(), "note": note, "clean": clean})
    serve(job_dir, harness, proto_in, proto_out, layout)


if __name__ == "__main__":
    main()
