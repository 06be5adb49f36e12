"""Spawn one host process with rlimits, pump its output under a cap, enforce the wall clock, reap it.

This is the part shared by the `local` (bubblewrap) and `rlimits` backends:

- rlimits are set in the child before exec (RLIMIT_CPU, RLIMIT_DATA for memory -- not RLIMIT_AS,
  because wasm-based tools reserve huge address space --, RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_NPROC);
  the child also joins the job's pids cgroup when one is available (see `cgroup.py`);
- the child gets its own session, so the whole process group is killed on timeout;
- stdout and stderr are read concurrently (one selector loop, no extra threads); each keeps its first
  `limits.output_bytes` bytes and a marker says how much was dropped; a job whose output exceeds
  `OUTPUT_KILL_FACTOR` times the cap is killed (`killed="output"`): a runaway printer is stopped early
  instead of being drained for its whole wall time;
- CPU time comes from `wait4` (the job and every descendant it reaped).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import resource
import select
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from veriloop.sandbox.contract import JobResult, KillReason, Limits

OUTPUT_KILL_FACTOR = 8
"""Output beyond this many times the cap (per stream) kills the job with killed="output"."""

_MEMORY_PATTERNS = re.compile(
    r"MemoryError|std::bad_alloc|Cannot allocate memory|[Oo]ut of memory|memory exhausted"
    r"|failed to allocate|Memory allocation failed"
)
"""How a process that hit RLIMIT_DATA usually says so (malloc returns NULL, no signal is sent)."""

_CHUNK = 1 << 16


@dataclass
class _Stream:
    cap: int
    data: bytearray = field(default_factory=bytearray)
    total: int = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.cap - len(self.data)
        if room > 0:
            self.data += chunk[:room]

    @property
    def truncated(self) -> bool:
        return self.total > self.cap

    def text(self, killed_for_output: bool) -> str:
        out = bytes(self.data).decode("utf-8", errors="replace")
        if self.truncated:
            dropped = self.total - len(self.data)
            more = "at least " if killed_for_output else ""
            out += (
                f"\n[veriloop sandbox: output truncated at {self.cap} bytes; "
                f"{more}{dropped} more bytes dropped]\n"
            )
        return out


@dataclass
class RawRun:
    """What the host saw of one process run."""

    exit_code: int | None
    signal: int | None
    stdout: str
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool
    wall_s: float
    cpu_s: float
    killed: KillReason | None
    max_rss_kb: int = 0
    side: bytes = b""
    """What arrived on the side channel (see `run_process`), capped."""

    def to_result(self, backend: str, contained: bool, files: dict[str, bytes]) -> JobResult:
        """The contract's JobResult for this run."""
        return JobResult(
            exit_code=self.exit_code,
            stdout=self.stdout,
            stderr=self.stderr,
            stdout_truncated=self.stdout_truncated,
            stderr_truncated=self.stderr_truncated,
            wall_s=self.wall_s,
            cpu_s=self.cpu_s,
            killed=self.killed,
            signal=self.signal,
            backend=backend,
            contained=contained,
            files=files,
        )


def kill_reason(
    exit_code: int | None, sig: int | None, cpu_s: float, limits: Limits, stderr_tail: str
) -> KillReason | None:
    """Why a job that ended by itself was stopped by its limits, judged from how it ended.

    SIGXCPU, or SIGKILL after spending ~all its CPU allowance: "timeout"; SIGXFSZ: "signal"; a failure
    whose stderr says it ran out of memory (RLIMIT_DATA): "memory"; any other signal: "signal".
    """
    cpu_limit = limits.cpu_s if limits.cpu_s is not None else limits.wall_s
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu_s >= cpu_limit * 0.9):
        return "timeout"
    if sig == signal.SIGXFSZ:
        return "signal"
    if exit_code != 0 or sig is not None:
        if _MEMORY_PATTERNS.search(stderr_tail):
            return "memory"
        if sig is not None:
            return "signal"
    return None


def rlimit_values(limits: Limits, with_cgroup: bool = False) -> list[tuple[int, int, int]]:
    """The (resource, soft, hard) triples a job runs under.

    RLIMIT_NPROC counts every process of the job's host user, and all contained jobs share one
    user: with a pids cgroup capping the job itself, it is left as it is, so that one job's fork
    bomb cannot starve the jobs next to it."""
    cpu = limits.cpu_s if limits.cpu_s is not None else limits.wall_s
    cpu_soft = max(1, math.ceil(cpu))
    mem = limits.memory_mb * 1024 * 1024
    fsize = limits.file_size_mb * 1024 * 1024
    values = [
        (resource.RLIMIT_CPU, cpu_soft, cpu_soft + 1),
        (resource.RLIMIT_DATA, mem, mem),
        (resource.RLIMIT_FSIZE, fsize, fsize),
        (resource.RLIMIT_NOFILE, limits.nofile, limits.nofile),
        (resource.RLIMIT_CORE, 0, 0),
    ]
    if not with_cgroup:
        values.append((resource.RLIMIT_NPROC, limits.nproc, limits.nproc))
    return values


def make_preexec(limits: Limits, cgroup_procs: list[str]) -> Callable[[], None]:
    """The function run in the forked child before exec: join the cgroup, then lower the rlimits.

    It only calls os/resource primitives (no imports, no allocation-heavy work), so it is safe to
    run in a child forked from a multi-threaded parent.
    """
    values = rlimit_values(limits, with_cgroup=bool(cgroup_procs))
    procs = list(cgroup_procs)

    def preexec() -> None:
        me = str(os.getpid()).encode()
        for path in procs:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, me)
            finally:
                os.close(fd)
        for res, soft, hard in values:
            try:
                resource.setrlimit(res, (soft, hard))
            except (ValueError, OSError):
                # Never raise a limit above the current hard limit: keep the stricter one.
                cur_soft, cur_hard = resource.getrlimit(res)
                if cur_hard != resource.RLIM_INFINITY:
                    resource.setrlimit(res, (min(soft, cur_hard), cur_hard))

    return preexec


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def run_process(
    argv: Sequence[str],
    *,
    env: dict[str, str],
    cwd: str,
    stdin: bytes | None,
    limits: Limits,
    cgroup_procs: Sequence[str] = (),
    on_kill: Callable[[], None] | None = None,
    cpu_meter: Callable[[], float | None] | None = None,
    signal_from_exit_code: bool = False,
    bwrap_sync: bool = False,
    pass_fds: Sequence[int] = (),
    after_spawn: Callable[[], None] | None = None,
    side_channel: int | None = None,
    side_cap: int = 0,
) -> RawRun:
    """Run argv to completion or until a limit stops it; never raises for the job's own failures.

    `on_kill` is called after the process group is killed (the cgroup uses it to kill stragglers).
    `signal_from_exit_code`: the direct child reports a signal death of the job as 128+N (bwrap).
    `cpu_meter`: the job's CPU seconds when something better than rusage knows them (cgroup).
    `bwrap_sync`: argv is a bwrap command line. Instead of a pre-exec hook in a forked child, bwrap is
    started with `--info-fd`/`--block-fd`: it reports the pid of the sandbox's init and waits; that
    pid joins the cgroups and gets the rlimits (prlimit), then bwrap is let go. No Python runs in a
    forked child, so subprocess can use vfork: cheaper per job.
    `pass_fds` are inherited by the process; `after_spawn` runs once it has started (close the parent's
    copies of descriptors the process must own alone there). `side_channel`: a descriptor read like
    stdout until EOF, keeping at most `side_cap` bytes (in RawRun.side).
    """
    started = time.monotonic()
    sync: tuple[int, int] | None = None
    extra_fds: tuple[int, ...] = ()
    argv = list(argv)
    if bwrap_sync:
        argv, sync, extra_fds = bwrap_sync_argv(argv)
    try:
        proc = subprocess.Popen(  # noqa: S603 - argv is the job's own command line
            argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
            pass_fds=(*extra_fds, *pass_fds),
            preexec_fn=None if bwrap_sync else make_preexec(limits, list(cgroup_procs)),
        )
    except OSError as exc:
        if after_spawn is not None:
            after_spawn()
        for fd in (*extra_fds, *(sync or ())):
            os.close(fd)
        return RawRun(
            exit_code=127,
            signal=None,
            stdout="",
            stderr=f"veriloop sandbox: cannot start {argv[0]}: {exc}\n",
            stdout_truncated=False,
            stderr_truncated=False,
            wall_s=time.monotonic() - started,
            cpu_s=0.0,
            killed=None,
        )
    for fd in extra_fds:
        os.close(fd)
    if after_spawn is not None:
        after_spawn()
    if sync is not None:
        release_bwrap(sync[0], sync[1], cgroup_procs, started + limits.wall_s)
    side = bytearray()
    side_total = 0
    deadline = started + limits.wall_s
    cap = limits.output_bytes
    streams: dict[int, _Stream] = {}
    killed: KillReason | None = None

    def kill(reason: KillReason) -> None:
        nonlocal killed
        if killed is None:
            killed = reason
        _kill_group(proc.pid)
        if on_kill is not None:
            on_kill()

    sel = selectors.DefaultSelector()
    assert proc.stdout is not None and proc.stderr is not None
    for pipe in (proc.stdout, proc.stderr):
        os.set_blocking(pipe.fileno(), False)
        sel.register(pipe, selectors.EVENT_READ)
        streams[pipe.fileno()] = _Stream(cap)
    if side_channel is not None:
        os.set_blocking(side_channel, False)
        sel.register(side_channel, selectors.EVENT_READ)
    pending_in = memoryview(stdin) if stdin else None
    if proc.stdin is not None:
        os.set_blocking(proc.stdin.fileno(), False)
        sel.register(proc.stdin, selectors.EVENT_WRITE)

    drain_until: float | None = None
    try:
        while sel.get_map():
            now = time.monotonic()
            if drain_until is None and now >= deadline:
                kill("timeout")
                drain_until = now + 1.0
            if drain_until is not None and now >= drain_until:
                break
            wait = (drain_until if drain_until is not None else deadline) - now
            for key, _ in sel.select(timeout=max(0.0, min(wait, 0.5))):
                fobj = key.fileobj
                if proc.stdin is not None and fobj is proc.stdin:
                    assert pending_in is not None
                    try:
                        n = os.write(proc.stdin.fileno(), pending_in[:_CHUNK])
                        pending_in = pending_in[n:]
                    except (BrokenPipeError, OSError):
                        pending_in = pending_in[:0]
                    if not pending_in:
                        sel.unregister(proc.stdin)
                        proc.stdin.close()
                    continue
                fd = key.fd
                try:
                    chunk = os.read(fd, _CHUNK)
                except BlockingIOError:
                    continue
                if not chunk:
                    sel.unregister(fobj)
                    continue
                if fd == side_channel:
                    side_total += len(chunk)
                    if len(side) < side_cap:
                        side += chunk[: side_cap - len(side)]
                    elif side_total > 2 * side_cap:
                        sel.unregister(fobj)  # a flood: stop reading, the writer gets EPIPE
                    continue
                stream = streams[fd]
                stream.feed(chunk)
                if drain_until is None and stream.total > OUTPUT_KILL_FACTOR * cap:
                    kill("output")
                    drain_until = time.monotonic() + 1.0
    finally:
        for key in list(sel.get_map().values()):
            sel.unregister(key.fileobj)
        sel.close()

    # Both pipes are closed (or given up on): reap, still honouring the wall clock.
    status, rusage = _wait(proc.pid, deadline if killed is None else time.monotonic() + 5.0)
    if status is None:
        kill("timeout")
        status, rusage = _wait(proc.pid, time.monotonic() + 5.0)
    proc.returncode = -9 if status is None else (os.waitstatus_to_exitcode(status))
    for maybe_pipe in (proc.stdin, proc.stdout, proc.stderr):
        if maybe_pipe is not None:
            with contextlib.suppress(OSError):
                maybe_pipe.close()
    # Whatever the job left in its process group (rlimits mode) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if on_kill is not None:
        on_kill()

    exit_code: int | None
    sig: int | None = None
    if status is None:
        exit_code, sig = None, signal.SIGKILL
    elif os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        exit_code = 128 + sig  # shell convention, the same number bwrap reports
    else:
        exit_code = os.WEXITSTATUS(status)
        if signal_from_exit_code and 128 < exit_code < 128 + 65:
            sig = exit_code - 128
    cpu_s = (rusage.ru_utime + rusage.ru_stime) if rusage is not None else 0.0
    metered = cpu_meter() if cpu_meter is not None else None
    if metered is not None:
        cpu_s = metered
    so, se = list(streams.values())
    if killed is None:
        tail = bytes(se.data[-4096:]).decode("utf-8", errors="replace")
        killed = kill_reason(exit_code, sig, cpu_s, limits, tail)
    return RawRun(
        exit_code=exit_code,
        signal=sig,
        stdout=so.text(killed == "output"),
        stderr=se.text(killed == "output"),
        stdout_truncated=so.truncated,
        stderr_truncated=se.truncated,
        wall_s=time.monotonic() - started,
        cpu_s=cpu_s,
        killed=killed,
        max_rss_kb=int(rusage.ru_maxrss) if rusage is not None else 0,
        side=bytes(side),
    )


def bwrap_sync_argv(argv: Sequence[str]) -> tuple[list[str], tuple[int, int], tuple[int, int]]:
    """`argv` (a bwrap command line) made to report its child's pid and wait: (argv, our ends (info
    read, block write) for `release_bwrap`, the ends to pass to bwrap and close after the start)."""
    info_r, info_w = os.pipe()
    block_r, block_w = os.pipe()
    at = list(argv).index("bwrap") + 1 if "bwrap" in argv else 1
    out = [*argv[:at], "--info-fd", str(info_w), "--block-fd", str(block_r), *argv[at:]]
    return out, (info_r, block_w), (info_w, block_r)


def release_bwrap(info_r: int, block_w: int, cgroup_procs: Sequence[str], deadline: float) -> None:
    """Read bwrap's child pid, put it in the cgroups, then let bwrap run the job (its rlimits come from
    the `prlimit` launcher in front of bwrap: see `bwrap.launcher`)."""
    info = b""
    try:
        while b"}" not in info:
            ready, _, _ = select.select([info_r], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return
            chunk = os.read(info_r, 4096)
            if not chunk:
                return  # bwrap failed before cloning; its stderr says why
            info += chunk
        match = re.search(rb'"child-pid"\s*:\s*(\d+)', info)
        if match is None:
            return
        pid = int(match[1])
        for path in cgroup_procs:
            with contextlib.suppress(OSError), open(path, "w") as fh:
                fh.write(str(pid))
    finally:
        with contextlib.suppress(OSError):
            os.write(block_w, b"x")
        os.close(block_w)
        os.close(info_r)


def _wait(pid: int, until: float) -> tuple[int | None, resource.struct_rusage | None]:
    """wait4 the child, polling with a short back-off until `until`; (None, None) on expiry."""
    delay = 0.0005
    while True:
        try:
            got, status, rusage = os.wait4(pid, os.WNOHANG)
        except ChildProcessError:
            return 0, None
        if got == pid:
            return status, rusage
        if time.monotonic() >= until:
            return None, None
        time.sleep(delay)
        delay = min(delay * 2, 0.02)
