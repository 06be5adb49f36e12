"""Staged-job server, run INSIDE one long-lived sandbox: each request is a few commands in a fresh job dir.

Usage (stdlib only; shipped read-only next to `_veriloop_inside.py`, never imported by veriloop):
    python -I -S _veriloop_step_server.py JOB_DIR
Protocol on the original stdin/stdout: `inside.send`/`inside.recv` framing, one request, one reply.

Start-up: non-dumpable (a child without capabilities cannot ptrace the server or open its /proc
files), subreaper of everything it starts; then it records the sandbox's writable layout and says
it is ready.

Limits: the sandbox runs under one profile of hard rlimits (DATA for memory, FSIZE, NOFILE, NPROC
and the pids cgroup, set by the host when it starts the sandbox), which every step inherits and
cannot raise; each step's wall clock is enforced here (the whole process group is killed).

Per request {files, bfiles, steps, limits (the output cap), collect, env}: write the files into the
(empty) job dir, then run the steps in order, each posix_spawn'ed in a new session with stdout and
stderr on two capped pipes and no other descriptor (forking this Python process instead would cost
milliseconds per step). Before a step, whatever the previous one left running is killed; a step
with `keep` first gets a job dir holding only those entries and an empty /tmp and /dev/shm;
`stdin_file` is opened and unlinked first, then streamed by the server into the child's stdin pipe,
so once the child has read it no copy is left anywhere it can reach. A step that fails (non-zero,
killed) ends the request. After the last step: `collect` files are read back, every other process is
killed, every writable place wiped, and the reply says what happened, plus `dirty` when something
was left behind (the host then recycles this sandbox).
"""

from __future__ import annotations

import base64
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from veriloop.sandbox import inside
else:  # run as a script with -I, which leaves the script's own directory off sys.path
    sys.path.append(os.path.dirname(os.path.abspath(__file__)))
    import _veriloop_inside as inside


def _safe_name(job_dir: str, name: str) -> str | None:
    full = os.path.normpath(os.path.join(job_dir, name))
    return full if full.startswith(job_dir + os.sep) else None


def _write_files(job_dir: str, req: dict) -> None:
    items = [(n, t.encode("utf-8")) for n, t in (req.get("files") or {}).items()]
    items += [(n, base64.b64decode(b)) for n, b in (req.get("bfiles") or {}).items()]
    for name, data in items:
        full = _safe_name(job_dir, name)
        if full is None:
            continue
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as fh:
            fh.write(data)


def _keep_only(job_dir: str, keep: list[str]) -> None:
    wanted = {os.path.normpath(k).split(os.sep)[0] for k in keep}
    for name in os.listdir(job_dir):
        if name not in wanted:
            inside.remove(os.path.join(job_dir, name))


def _feed(src: int, dst: int) -> None:
    """Stream `src` (an unlinked file) into the child's stdin pipe, then close both."""
    try:
        offset = 0
        while True:
            try:
                sent = os.sendfile(dst, src, offset, 1 << 20)
            except OSError:
                break
            if sent == 0:
                break
            offset += sent
    finally:
        os.close(dst)
        os.close(src)


_DEFAULT_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD)


def _spawn(argv: list[str], env: dict, fds: tuple[int, int, int]) -> int:
    """Start one step: posix_spawn in a new session, default signal dispositions, only fds 0-2 (every
    other descriptor of the server is O_CLOEXEC). Its rlimits are the sandbox's own hard limits, which
    nothing inside can raise; its wall clock is the server's. (Forking this Python process instead
    would cost milliseconds per step in copy-on-write faults.)"""
    actions = [(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(fds)]
    return os.posix_spawnp(argv[0], argv, env, file_actions=actions, setsid=True, setsigdef=_DEFAULT_SIGNALS)


def _run_step(job_dir: str, step: dict, limits: dict, env: dict) -> dict:
    started = time.monotonic()
    timeout = float(step["timeout"])
    cap = int(limits["output_bytes"])
    src = None
    if step.get("stdin_file"):
        full = _safe_name(job_dir, step["stdin_file"])
        try:
            src = os.open(full or "/nonexistent", os.O_RDONLY)
            os.unlink(full or "")
        except OSError as exc:
            msg = f"veriloop sandbox: stdin file {step['stdin_file']} is missing ({exc.strerror})\n"
            return {
                "status": 127 << 8,
                "cpu_s": 0.0,
                "wall_s": 0.0,
                "killed": None,
                "stdout": "",
                "stderr": msg,
            }
    if step.get("keep") is not None:
        _keep_only(job_dir, list(step["keep"]))
    in_r, in_w = os.pipe() if src is not None else (os.open(os.devnull, os.O_RDONLY), -1)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        pid = _spawn(list(step["argv"]), env, (in_r, out_w, err_w))
    except OSError as exc:
        for fd in (in_r, in_w, out_r, out_w, err_r, err_w, src):
            if fd is not None and fd >= 0:
                os.close(fd)
        msg = f"veriloop sandbox: cannot start {step['argv'][0]}: {exc.strerror}\n"
        return {"status": 127 << 8, "cpu_s": 0.0, "wall_s": 0.0, "killed": None, "stdout": "", "stderr": msg}
    for fd in (in_r, out_w, err_w):
        os.close(fd)
    feeder = None
    if src is not None:
        feeder = threading.Thread(target=_feed, args=(src, in_w), daemon=True)
        feeder.start()
    got = inside.drain(pid, err_r, out_r, started + timeout, cap)
    os.close(out_r)
    os.close(err_r)
    grace = 5.0 if got["killed"] else max(0.0, started + timeout - time.monotonic())
    status, cpu_s, reaped_by_kill = inside.reap(pid, time.monotonic() + grace)
    if reaped_by_kill and got["killed"] is None:
        got["killed"] = "timeout"
    if feeder is not None:
        feeder.join(5.0)
    return {
        "status": status,
        "cpu_s": cpu_s,
        "wall_s": time.monotonic() - started,
        "killed": got["killed"],
        "stdout": inside.text(got["result"], got["result_total"], cap, got["killed"] == "output"),
        "stdout_truncated": got["result_total"] > cap,
        "stderr": inside.text(got["output"], got["output_total"], cap, got["killed"] == "output"),
        "stderr_truncated": got["output_total"] > cap,
    }


def _collect(job_dir: str, names: list[str], max_bytes: int) -> dict[str, str]:
    """Regular files at exactly these paths (no link followed anywhere), each whole if <= max_bytes."""
    out = {}
    for name in names:
        data = inside.read_file(job_dir, name, max_bytes + 1)
        if data is not None and len(data) <= max_bytes:
            out[name] = base64.b64encode(data).decode("ascii")
    return out


def serve(job_dir: str, proto_in: int, proto_out: int, layout: dict) -> None:
    me = os.getpid()
    base_env = dict(os.environ)
    scratch = {root: keep for root, keep in layout.items() if root != job_dir}
    while True:
        req = inside.recv(proto_in)
        if req is None:
            return
        os.chdir(job_dir)
        limits = req["limits"]
        env = {**base_env, **(req.get("env") or {})}
        _write_files(job_dir, req)
        results = []
        leftovers = False
        for i, step in enumerate(req["steps"]):
            if i:
                found, _ = inside.kill_others(me)
                leftovers = leftovers or found
            if step.get("keep") is not None:
                for root, keep in scratch.items():
                    inside.wipe(root, keep)
            res = _run_step(job_dir, step, limits, env)
            results.append(res)
            if res["killed"] or res["status"] != 0:
                break
        files = _collect(job_dir, list(req.get("collect") or []), int(limits["file_size_mb"]) << 20)
        found, all_gone = inside.kill_others(me)
        leftovers = leftovers or found
        files_ok = all([inside.wipe(root, layout[root]) for root in layout])
        ipc_ok = inside.ipc_clean()
        os.chdir(job_dir)
        why = ""
        if leftovers or not all_gone:
            why = "processes left behind"
        elif not files_ok:
            why = "files left behind"
        elif not ipc_ok:
            why = "IPC objects left behind"
        inside.send(proto_out, {"steps": results, "files": files, "dirty": bool(why), "why": why})


def main() -> None:
    job_dir = os.path.abspath(sys.argv[1])
    proto_in, proto_out = inside.become_server()
    os.chdir(job_dir)
    layout = inside.layout_of(job_dir)
    clean = all([inside.wipe(root, layout[root]) for root in layout])
    inside.send(proto_out, {"ready": True, "pid": os.getpid(), "clean": clean})
    serve(job_dir, proto_in, proto_out, layout)


if __name__ == "__main__":
    main()
