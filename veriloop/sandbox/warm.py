"""Warm sandboxes: long-lived bubblewrap sandboxes that serve one request at a time, and a pool of them.

This is a layer over the `local` backend's pieces: a `WarmSandbox` is ONE sandbox with exactly the
view, identity, seccomp filter and limits of a one-off job (`bwrap.command`), whose command is a
server (the evolve zygote, or `step_server.py` for staged jobs) that speaks `inside.send`/
`inside.recv` framing on its stdin/stdout and says `{"ready": true}` first; per request it starts
fresh children and wipes every writable place after them (`inside.py`).

The control channel is out of every job's reach: the server runs as PID 1 of the sandbox's pid
namespace (`--as-pid-1`: no bubblewrap init holds the host's pipes), moves the protocol off fds 0
and 1 and makes itself non-dumpable, so a job (same uid, no capabilities) can neither open its
/proc files nor signal it; children get only their own pipes.

`WarmSlots` keeps `size` of them for many threads: a request waits for a free slot; a sandbox is
recycled after `max_uses` requests and whenever the caller's judge finds a reason (killed, left
processes or files behind...); one that dies or hangs is replaced on the next request. Sandboxes are
started on the pool's own long-lived thread: bwrap's --die-with-parent fires when the *thread* that
started it exits, so they must not be started on a short-lived worker thread.
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
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import BaseModel

from veriloop.errors import SandboxError
from veriloop.sandbox import bwrap, cgroup, jobdir
from veriloop.sandbox.contract import Job, JobResult, Limits, base_env
from veriloop.sandbox.process import bwrap_sync_argv, kill_reason, release_bwrap

START_TIMEOUT_S = 60.0
GRACE_S = 10.0
"""How long past a request's own timeout the host waits for the server before killing the sandbox."""
INSIDE_FILE = "_veriloop_inside.py"
_HERE = Path(__file__).resolve().parent


class PoolStats(BaseModel):
    """What a pool did: sandboxes started, recycled (by policy) and lost (died or hung)."""

    started: int = 0
    recycled: int = 0
    lost: int = 0
    evaluations: int = 0
    recycle_reasons: dict[str, int] = {}


def available() -> bool:
    """Warm sandboxes need bubblewrap to accept at least --cap-drop ALL (probed once)."""
    return bwrap.probe()[0] and bwrap.hardening_flags() is not None


def shared_dir(prefix: str, files: dict[str, Path]) -> Path:
    """A fresh host dir (to bind read-only into the sandboxes) holding `inside.py` and `files`."""
    jobdir.remove_stale(prefix)
    root = Path(tempfile.mkdtemp(prefix=f"{prefix}-{os.getpid()}-"))
    os.chmod(root, 0o755)
    shutil.copyfile(_HERE / "inside.py", root / INSIDE_FILE)
    for name, src in files.items():
        shutil.copyfile(src, root / name)
    return root


def to_job_result(reply: dict[str, Any], limits: Limits) -> JobResult:
    """A server's reply on one child (status, cpu_s, wall_s, killed, stdout, stderr...) as a JobResult."""
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


def lost_result(wall_s: float, hung: bool, what: str) -> JobResult:
    """The result of a request whose sandbox died, hung past the grace period or garbled the protocol."""
    return JobResult(
        exit_code=None,
        signal=signal.SIGKILL,
        stderr=f"veriloop: the {what} died during this job\n",
        wall_s=wall_s,
        killed="timeout" if hung else "signal",
        backend="local-warm",
    )


class WarmSandbox:
    """One sandbox running a server; `request()` sends one request and waits for its reply."""

    def __init__(self, job: Job, what: str = "warm sandbox", hint: str = "") -> None:
        self.uses = 0
        self.what = what
        self.group: cgroup.JobCgroup | None = None
        if bwrap.hardening_flags() is None:
            raise SandboxError(f"bubblewrap here cannot drop capabilities: a {what} is unavailable.")
        spawn = bwrap.command(
            job.argv,
            limits=job.limits,
            env=base_env(job.env),
            files={n: (d.encode() if isinstance(d, str) else d) for n, d in job.files.items()},
            ro_paths=job.ro_paths,
            network=job.network,
            as_pid_1=True,
        )
        self.group = cgroup.open_job_cgroup(job.limits.nproc + 8)
        launch = bwrap.launcher(job.limits, self.group is not None)
        argv, sync, extra = bwrap_sync_argv([*launch, *spawn.argv])
        self._err: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._buf = b""
        try:
            self.proc = subprocess.Popen(  # noqa: S603 - the sandbox's own bwrap command line
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._err,
                env={"PATH": "/usr/bin:/bin"},
                cwd="/",
                start_new_session=True,
                close_fds=True,
                pass_fds=[*spawn.fds, *extra],
            )
        except OSError as exc:
            for fd in (*extra, *sync):
                os.close(fd)
            spawn.close()
            self.close()
            raise SandboxError(f"Could not start a {what}: {exc}.") from None
        for fd in extra:
            os.close(fd)
        spawn.close()
        procs = self.group.procs_files if self.group else []
        release_bwrap(sync[0], sync[1], procs, time.monotonic() + START_TIMEOUT_S)
        ready = self._recv(time.monotonic() + START_TIMEOUT_S)
        if not ready or not ready.get("ready"):
            tail = self.stderr_tail()
            self.close()
            raise SandboxError(f"A {what} did not start" + (f": {tail}" if tail else "."), hint=hint)

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

    def request(self, obj: dict[str, Any], timeout_s: float) -> dict[str, Any] | None:
        """Send one request; its reply, or None when the server died, hung or garbled the protocol."""
        assert self.proc.stdin is not None
        deadline = time.monotonic() + timeout_s + GRACE_S
        fd = self.proc.stdin.fileno()
        data = json.dumps(obj).encode()
        view = memoryview(struct.pack(">I", len(data)) + data)
        try:
            os.set_blocking(fd, False)  # never block on a server that stopped reading
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
        if hasattr(self, "_err"):
            with contextlib.suppress(OSError):
                self._err.close()


_Order = tuple[Callable[[], "WarmSandbox"], Future["WarmSandbox"]]


class _Spawners:
    """Long-lived daemon threads that start sandboxes (so --die-with-parent ties them to a thread that
    lives as long as the process); one more thread is added whenever all are busy starting one."""

    def __init__(self) -> None:
        self._q: queue.SimpleQueue[_Order] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0

    def _loop(self) -> None:
        while True:
            factory, fut = self._q.get()
            try:
                fut.set_result(factory())
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                fut.set_exception(exc)
            with self._lock:
                self._idle += 1

    def start(self, factory: Callable[[], WarmSandbox]) -> WarmSandbox:
        fut: Future[WarmSandbox] = Future()
        with self._lock:
            if self._idle == 0:
                threading.Thread(target=self._loop, name="veriloop-warm-spawner", daemon=True).start()
            else:
                self._idle -= 1
            self._q.put((factory, fut))
        return fut.result()


_spawners = _Spawners()


def _spawn(factory: Callable[[], WarmSandbox]) -> WarmSandbox:
    return _spawners.start(factory)


class WarmSlots:
    """`size` warm sandboxes made by `factory`; `call()` is thread-safe and blocks for a free one."""

    def __init__(self, factory: Callable[[], WarmSandbox], size: int, max_uses: int) -> None:
        self.factory = factory
        self.size = max(1, size)
        self.max_uses = max(1, max_uses)
        self.stats = PoolStats()
        self._slots: list[WarmSandbox | None] = [None] * self.size
        self._free: queue.SimpleQueue[int] = queue.SimpleQueue()
        for i in range(self.size):
            self._free.put(i)
        self._lock = threading.Lock()
        self.closed = False

    def _count(self, field: str, reason: str | None = None) -> None:
        with self._lock:
            setattr(self.stats, field, getattr(self.stats, field) + 1)
            if reason:
                self.stats.recycle_reasons[reason] = self.stats.recycle_reasons.get(reason, 0) + 1

    def _sandbox(self, slot: int) -> WarmSandbox:
        box = self._slots[slot]
        if box is not None and box.alive():
            return box
        if box is not None:
            box.close()
            self._slots[slot] = None
            self._count("lost", "died")
        box = _spawn(self.factory)
        self._count("started")
        if self.closed:
            box.close()
            raise SandboxError("The warm sandbox pool is closed.")
        self._slots[slot] = box
        return box

    def prestart(self) -> None:
        """Start every sandbox in the background (overlaps the caller's own start-up work)."""

        def start_one() -> None:
            slot = self._free.get()
            try:
                if not self.closed:
                    self._sandbox(slot)
            except SandboxError:
                pass  # the next request on this slot retries and reports the error
            finally:
                self._free.put(slot)

        for _ in range(self.size):
            threading.Thread(target=start_one, daemon=True).start()

    def call(
        self, request: dict[str, Any], timeout_s: float, judge: Callable[[dict[str, Any]], str | None]
    ) -> tuple[dict[str, Any] | None, float, bool]:
        """(reply or None when the sandbox died/hung, seconds waited, hung past the grace period).

        `judge(reply)` names a reason to recycle the sandbox after this request, or None.
        """
        slot = self._free.get()
        try:
            if self.closed:
                raise SandboxError("The warm sandbox pool is closed.")
            box = self._sandbox(slot)
            started = time.monotonic()
            reply = box.request(request, timeout_s)
            wall = time.monotonic() - started
            self._count("evaluations")
            if reply is None:
                hung = wall >= timeout_s + GRACE_S - 0.5
                box.close()
                self._slots[slot] = None
                self._count("lost", "hung" if hung else "died")
                return None, wall, hung
            reason = judge(reply)
            if reason is None and box.uses >= self.max_uses:
                reason = "max_uses"
            if reason is not None:
                box.close()
                self._slots[slot] = None
                self._count("recycled", reason)
            return reply, wall, False
        finally:
            self._free.put(slot)

    def close(self) -> None:
        self.closed = True
        for i, box in enumerate(self._slots):
            if box is not None:
                box.close()
                self._slots[i] = None
