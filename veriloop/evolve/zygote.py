"""Warm evaluation worker, run INSIDE one long-lived sandbox: fork a fresh child per evaluator stage.

Usage (stdlib only; shipped read-only next to the harness and `sandbox/inside.py`, never imported by
veriloop itself):
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

import os
import signal
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from veriloop.sandbox import inside
else:  # run as a script with -I, which leaves the script's own directory off sys.path
    sys.path.append(os.path.dirname(os.path.abspath(__file__)))
    import _veriloop_inside as inside


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
        inside.prctl(inside.PR_SET_PDEATHSIG, signal.SIGKILL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        keep = os.dup(res_w)  # above 2, then close every other descriptor
        os.closerange(3, keep)
        os.closerange(keep + 1, 65536)
        inside.limit_child(
            float(req["timeout"]), req["memory_mb"], req["file_size_mb"], req["nofile"], req["nproc"]
        )
        sys.argv = list(req["argv"])
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        nonce = req.pop("nonce")  # the child is non-dumpable (inherited from the zygote)
        payload = harness.run_stage(  # type: ignore[attr-defined]
            req["stage"], req["problem_dir"], req["program_path"], req.get("import_mode", "proxy")
        )
        harness.emit(keep, nonce, payload)  # type: ignore[attr-defined]
        os._exit(0)
    except BaseException:  # noqa: BLE001
        os._exit(70)


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
        req = inside.recv(proto_in)
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
        got = inside.drain(pid, out_r, res_r, started + float(req["timeout"]), cap)
        os.close(out_r)
        os.close(res_r)
        grace = 5.0 if got["killed"] else max(0.0, started + float(req["timeout"]) - time.monotonic())
        status, cpu_s, reaped_by_kill = inside.reap(pid, time.monotonic() + grace)
        if reaped_by_kill and got["killed"] is None:
            got["killed"] = "timeout"
        wall_s = time.monotonic() - started
        leftovers, all_gone = inside.kill_others(me)
        files_ok = all([inside.wipe(root, layout[root]) for root in roots])
        ipc_ok = inside.ipc_clean()
        clean = all_gone and files_ok and ipc_ok
        os.chdir(job_dir)
        reply = {
            "status": status,
            "cpu_s": cpu_s,
            "wall_s": wall_s,
            "killed": got["killed"],
            "stdout": inside.text(got["result"], got["result_total"], cap, False),
            "stdout_truncated": got["result_total"] > cap,
            "stderr": inside.text(got["output"], got["output_total"], cap, got["killed"] == "output"),
            "stderr_truncated": got["output_total"] > cap,
            "dirty": leftovers or not clean,
            "why": "processes left behind"
            if leftovers
            else ("files left behind" if not files_ok else ("IPC objects left behind" if not ipc_ok else "")),
        }
        inside.send(proto_out, reply)


def main() -> None:
    site_dirs, problem_dir, program_file, job_dir = sys.argv[1:5]
    here = os.path.dirname(os.path.abspath(__file__))
    for path in [here, *site_dirs.split(os.pathsep)]:
        if path and path not in sys.path and os.path.isdir(path):
            sys.path.append(path)
    proto_in, proto_out = inside.become_server()
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    import _veriloop_harness as harness  # type: ignore[import-not-found]

    problem_dir = os.path.abspath(problem_dir)
    sys.path.insert(0, problem_dir)
    os.chdir(job_dir)
    layout = inside.layout_of(job_dir)
    note = _warm(problem_dir, harness)
    clean = all([inside.wipe(root, layout[root]) for root in layout])
    inside.send(proto_out, {"ready": True, "pid": os.getpid(), "note": note, "clean": clean})
    serve(job_dir, harness, proto_in, proto_out, layout)


if __name__ == "__main__":
    main()
