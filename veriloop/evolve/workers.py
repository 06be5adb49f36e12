"""Warm sandboxed evaluation workers: long-lived bubblewrap sandboxes whose zygote forks one child per stage.

Each worker is ONE sandbox built by the sandbox layer's own pieces (`local.bwrap_argv` for the
namespaces, binds and clean environment, `process.make_preexec` for the rlimits and the pids
cgroup, `cgroup.open_job_cgroup`, `jobdir`), plus `--cap-drop ALL` (and `--disable-userns` where
bwrap supports it): nothing in the worker holds a capability, so a candidate cannot remount the
read-only binds or ptrace the zygote (which also makes itself non-dumpable). Inside, `zygote.py`
forks a fresh child per stage (own session, rlimits, wall clock, private result pipe) and wipes
every writable place after it. A worker is recycled after `max_uses` evaluations and after any
stage that was killed, crashed, exited non-zero or left processes, files or IPC objects behind;
a worker that dies is replaced on next use, and the candidate it was running gets a fault.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import BaseModel

from veriloop.errors import SandboxError
from veriloop.evolve.evaluate import (
    _SITE_DIRS,
    JOB_ENV,
    CascadeState,
    EvalOutcome,
    _timeouts,
    parse_stage,
    stage_argv,
    stage_limits,
)
from veriloop.evolve.problem import Problem
from veriloop.sandbox import cgroup, jobdir, local
from veriloop.sandbox.contract import Job, JobResult, Limits
from veriloop.sandbox.process import kill_reason, make_preexec

HARNESS_FILE = "_veriloop_harness.py"
ZYGOTE_FILE = "_veriloop_zygote.py"
_HERE = Path(__file__).resolve().parent
START_TIMEOUT_S = 60.0
GRACE_S = 10.0
"""How long past a stage's own timeout the host waits for the zygote before killing the worker."""
DEFAULT_MAX_USES = 256


class PoolStats(BaseModel):
    """What the pool did: workers started, recycled (by policy) and lost (died or hung)."""

    started: int = 0
    recycled: int = 0
    lost: int = 0
    evaluations: int = 0
    recycle_reasons: dict[str, int] = {}


def warm_available() -> bool:
    """Warm workers need bubblewrap to accept at least --cap-drop ALL (probed once)."""
    return local.hardening_flags() is not None


def _clean_stale(base: Path) -> None:
    """Remove shared dirs left by veriloop processes that were killed (SIGKILL skips close())."""
    for d in base.glob("veriloop-zygote-*-*"):
        try:
            pid = int(d.name.split("-")[2])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(d, ignore_errors=True)


def _shared_dir() -> Path:
    """A host dir (bound read-only into every worker) holding the harness and the zygote."""
    _clean_stale(Path(tempfile.gettempdir()))
    root = Path(tempfile.mkdtemp(prefix=f"veriloop-zygote-{os.getpid()}-"))
    os.chmod(root, 0o755)
    shutil.copyfile(_HERE / "harness.py", root / HARNESS_FILE)
    shutil.copyfile(_HERE / "zygote.py", root / ZYGOTE_FILE)
    return root


class WarmWorker:
    """One sandbox running the zygote; `stage()` sends one request and waits for its reply."""

    def __init__(self, problem: Problem, shared: Path) -> None:
        self.uses = 0
        self.host_dir = jobdir.create({})
        os.chmod(self.host_dir, 0o755)
        mem = problem.evaluator.memory_mb
        self.limits = Limits(wall_s=86400.0, memory_mb=mem, nproc=256, nofile=512)
        job = Job(
            argv=[
                sys.executable,
                "-I",
                "-S",
                str(shared / ZYGOTE_FILE),
                _SITE_DIRS,
                str(problem.path),
                problem.program_file,
                local.JOB_DIR,
            ],
            ro_paths=[str(shared), str(problem.path)],
            env=dict(JOB_ENV),
            limits=self.limits,
        )
        argv = local.bwrap_argv(job, self.host_dir)
        flags = local.hardening_flags()
        if flags is None:
            jobdir.remove(self.host_dir)
            raise SandboxError("bubblewrap here cannot drop capabilities: warm workers are unavailable.")
        self.group = cgroup.open_job_cgroup(self.limits.nproc + 8)
        self._err: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._buf = b""
        try:
            self.proc = subprocess.Popen(  # noqa: S603 - the sandbox's own bwrap command line
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._err,
                env={"PATH": "/usr/bin:/bin"},
                cwd=str(self.host_dir),
                start_new_session=True,
                close_fds=True,
                preexec_fn=make_preexec(self.limits, self.group.procs_files if self.group else []),
            )
        except OSError as exc:
            self.close()
            raise SandboxError(f"Could not start a warm evaluation worker: {exc}.") from None
        ready = self._recv(time.monotonic() + START_TIMEOUT_S)
        if not ready or not ready.get("ready"):
            tail = self.stderr_tail()
            self.close()
            raise SandboxError(
                "A warm evaluation worker did not start" + (f": {tail}" if tail else "."),
                hint="Try --isolation per-candidate, or check `veriloop sandbox` diagnostics.",
            )

    def stderr_tail(self) -> str:
        with contextlib.suppress(OSError, ValueError):
            self._err.seek(0, os.SEEK_END)
            size = self._err.tell()
            self._err.seek(max(0, size - 1500))
            return self._err.read().decode("utf-8", "replace").strip()
        return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _recv(self, deadline: float) -> dict[str, Any] | None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        need = 4
        header: int | None = None
        while True:
            if len(self._buf) >= need:
                if header is None:
                    header = struct.unpack(">I", self._buf[:4])[0]
                    self._buf = self._buf[4:]
                    need = header
                    continue
                body, self._buf = self._buf[:need], self._buf[need:]
                try:
                    obj = json.loads(body)
                except ValueError:
                    return None
                return obj if isinstance(obj, dict) else None
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return None
            self._buf += chunk

    def stage(self, request: dict[str, Any], timeout_s: float) -> dict[str, Any] | None:
        """Send one stage; its reply, or None when the worker died, hung or garbled the protocol."""
        assert self.proc.stdin is not None
        deadline = time.monotonic() + timeout_s + GRACE_S
        fd = self.proc.stdin.fileno()
        data = json.dumps(request).encode()
        view = memoryview(struct.pack(">I", len(data)) + data)
        try:
            os.set_blocking(fd, False)  # never block on a worker that stopped reading
            while view:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                if select.select([], [fd], [], min(left, 1.0))[1]:
                    with contextlib.suppress(BlockingIOError):
                        view = view[os.write(fd, view[: 1 << 16]) :]
        except OSError:
            return None
        self.uses += 1
        return self._recv(deadline)

    def close(self) -> None:
        proc = getattr(self, "proc", None)
        if proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        if self.group is not None:
            self.group.kill_all()
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
        if self.group is not None:
            self.group.close()
            self.group = None
        with contextlib.suppress(OSError):
            self._err.close()
        jobdir.remove(self.host_dir)


def to_job_result(reply: dict[str, Any], limits: Limits) -> JobResult:
    """The zygote's reply as the JobResult the per-candidate path would have produced."""
    status = int(reply.get("status") or 0)
    sig: int | None = None
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        exit_code = 128 + sig
    else:
        exit_code = os.WEXITSTATUS(status)
    killed = reply.get("killed")
    cpu_s = float(reply.get("cpu_s") or 0.0)
    stderr = str(reply.get("stderr") or "")
    if killed is None:
        killed = kill_reason(exit_code, sig, cpu_s, limits, stderr[-4096:])
    return JobResult(
        exit_code=exit_code,
        signal=sig,
        stdout=str(reply.get("stdout") or ""),
        stderr=stderr,
        stdout_truncated=bool(reply.get("stdout_truncated")),
        stderr_truncated=bool(reply.get("stderr_truncated")),
        wall_s=float(reply.get("wall_s") or 0.0),
        cpu_s=cpu_s,
        killed=killed,
        backend="local-warm",
        contained=True,
    )


class WarmPool:
    """`size` warm workers for one problem; `evaluate()` is thread-safe and blocks for a free worker.

    Call it from long-lived threads (a thread pool): bwrap's --die-with-parent kills a worker when
    the thread that started it exits (the pool then notices and starts a new one).
    """

    def __init__(self, problem: Problem, size: int, max_uses: int = DEFAULT_MAX_USES) -> None:
        self.problem = problem
        self.size = max(1, size)
        self.max_uses = max(1, max_uses)
        self.stats = PoolStats()
        self._shared = _shared_dir()
        self._slots: list[WarmWorker | None] = [None] * self.size
        self._free: queue.SimpleQueue[int] = queue.SimpleQueue()
        for i in range(self.size):
            self._free.put(i)
        self._lock = threading.Lock()
        self._closed = False

    def _count(self, field: str, reason: str | None = None) -> None:
        with self._lock:
            setattr(self.stats, field, getattr(self.stats, field) + 1)
            if reason:
                self.stats.recycle_reasons[reason] = self.stats.recycle_reasons.get(reason, 0) + 1

    def _worker(self, slot: int) -> WarmWorker:
        w = self._slots[slot]
        if w is not None and w.alive():
            return w
        if w is not None:
            w.close()
            self._count("lost", "died")
        w = WarmWorker(self.problem, self._shared)
        self._count("started")
        if self._closed:
            w.close()
            raise SandboxError("The evaluation worker pool is closed.")
        self._slots[slot] = w
        return w

    def prestart(self, submit: Callable[[Callable[[], None]], object]) -> None:
        """Start every worker in the background (overlaps the caller's own start-up work).

        `submit` must run the function on a thread that outlives the worker (e.g. a thread pool's
        submit): bwrap's --die-with-parent fires when the *thread* that started it exits.
        """

        def start_one() -> None:
            slot = self._free.get()
            try:
                if not self._closed:
                    self._worker(slot)
            except SandboxError:
                pass  # the next evaluation on this slot retries and reports the error
            finally:
                self._free.put(slot)

        for _ in range(self.size):
            submit(start_one)

    def run_stage(self, code: str, stage_index: int, nonce: str, timeout_s: float) -> JobResult:
        """One stage of one candidate in a fresh child of a warm worker."""
        limits = stage_limits(self.problem, timeout_s)
        request = {
            "stage": self.problem.stages[stage_index],
            "problem_dir": str(self.problem.path),
            "program_file": self.problem.program_file,
            "argv": stage_argv(self.problem, stage_index)[3:],
            "code": code,
            "nonce": nonce,
            "timeout": timeout_s,
            "memory_mb": limits.memory_mb,
            "file_size_mb": limits.file_size_mb,
            "output_bytes": limits.output_bytes,
            "nofile": limits.nofile,
            "nproc": limits.nproc,
        }
        slot = self._free.get()
        try:
            if self._closed:
                raise SandboxError("The evaluation worker pool is closed.")
            worker = self._worker(slot)
            started = time.monotonic()
            reply = worker.stage(request, timeout_s)
            self._count("evaluations")
            if reply is None:
                # Died, hung past the grace period or garbled the protocol: this candidate's fault.
                wall = time.monotonic() - started
                hung = wall >= timeout_s + GRACE_S - 0.5
                worker.close()
                self._slots[slot] = None
                self._count("lost", "hung" if hung else "died")
                return JobResult(
                    exit_code=None,
                    signal=signal.SIGKILL,
                    stderr="veriloop: the evaluation worker died during this stage\n",
                    wall_s=wall,
                    killed="timeout" if hung else "signal",
                    backend="local-warm",
                )
            result = to_job_result(reply, limits)
            reason = None
            if reply.get("dirty"):
                reason = str(reply.get("why") or "dirty")
            elif result.killed is not None or result.signal is not None:
                reason = f"killed:{result.killed or result.signal}"
            elif result.exit_code != 0:
                reason = "nonzero_exit"
            elif worker.uses >= self.max_uses:
                reason = "max_uses"
            if reason is not None:
                worker.close()
                self._slots[slot] = None
                self._count("recycled", reason)
            return result
        finally:
            self._free.put(slot)

    def evaluate(self, code: str, stage_timeouts: list[float] | None = None) -> EvalOutcome:
        """The problem's cascade on `code`, every stage in a fresh child of a warm worker."""
        import secrets

        state = CascadeState(self.problem)
        for i, timeout in enumerate(_timeouts(self.problem, stage_timeouts)):
            nonce = secrets.token_hex(16)
            result = self.run_stage(code, i, nonce, timeout)
            if not state.add(i, parse_stage(result, nonce), result.wall_s):
                break
        return state.outcome

    def close(self) -> None:
        self._closed = True
        for i, w in enumerate(self._slots):
            if w is not None:
                w.close()
                self._slots[i] = None
        shutil.rmtree(self._shared, ignore_errors=True)
