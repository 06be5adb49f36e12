"""Per-job cgroups (v1 `pids` and `cpuacct` controllers), used when the host lets us create them.

Why: RLIMIT_NPROC does not stop a fork bomb when veriloop runs as root (the kernel exempts the
root user, even inside bubblewrap's user namespace where uid 0 maps to host uid 0). A pids cgroup
caps the job's process count whoever runs it and lists every process of the job, so all of them
are killed at the end; `cpuacct` gives the job's exact CPU time (rusage does not see through the
pid namespace). Without writable cgroups the job still has its own pid namespace (everything dies
with it), RLIMIT_NPROC (effective for non-root users) and rusage-based CPU time.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import signal
import threading
import time
from pathlib import Path

_MOUNT = Path("/sys/fs/cgroup")
_lock = threading.Lock()
_bases: dict[str, Path] | None = None
_counter = itertools.count()


def _own_paths() -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for c in controllers.split(","):
                out[c] = path
    except OSError:
        pass
    return out


def _probe_one(controller: str, limit_file: str | None) -> Path | None:
    own = _own_paths().get(controller, "/")
    for mount in (_MOUNT / controller, _MOUNT / "cpu,cpuacct"):
        if not (mount / "cgroup.procs").exists():
            continue
        parent = mount / own.lstrip("/") / "veriloop-sandbox"
        try:
            parent.mkdir(exist_ok=True)
            test = parent / f"probe-{os.getpid()}"
            test.mkdir(exist_ok=True)
            if limit_file:
                (test / limit_file).write_text("8")
            test.rmdir()
        except OSError:
            continue
        _clean_stale(parent)
        return parent
    return None


def bases() -> dict[str, Path]:
    """Controller -> parent dir for job groups; empty when this host gives us no cgroups."""
    global _bases
    with _lock:
        if _bases is None:
            found: dict[str, Path] = {}
            pids = _probe_one("pids", "pids.max")
            if pids is not None:
                found["pids"] = pids
                cpu = _probe_one("cpuacct", None)
                if cpu is not None:
                    found["cpuacct"] = cpu
            _bases = found
        return _bases


def base_dir() -> Path | None:
    """The pids parent cgroup, or None when job process counts cannot be capped by a cgroup."""
    return bases().get("pids")


class JobCgroup:
    """One job's cgroups: created with a process cap, joined by the child, killed and removed."""

    def __init__(self, parents: dict[str, Path], max_pids: int) -> None:
        name = f"job-{os.getpid()}-{next(_counter)}"
        self.paths: dict[str, Path] = {}
        try:
            for controller, parent in parents.items():
                path = parent / name
                path.mkdir()
                self.paths[controller] = path
            (self.paths["pids"] / "pids.max").write_text(str(max_pids))
        except BaseException:
            self.close()
            raise

    @property
    def procs_files(self) -> list[str]:
        return [str(p / "cgroup.procs") for p in self.paths.values()]

    def pids(self) -> list[int]:
        try:
            return [int(x) for x in (self.paths["pids"] / "cgroup.procs").read_text().split()]
        except (OSError, ValueError, KeyError):
            return []

    def kill_all(self) -> None:
        """SIGKILL every process in the group until it is empty (bounded to ~2 s)."""
        end = time.monotonic() + 2.0
        delay = 0.0002
        while True:
            pids = self.pids()
            if not pids or time.monotonic() > end:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(delay)
            delay = min(delay * 2, 0.01)

    def cpu_s(self) -> float | None:
        path = self.paths.get("cpuacct")
        if path is None:
            return None
        try:
            return int((path / "cpuacct.usage").read_text()) / 1e9
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        """Kill what is left, then remove the (now empty) groups in the background.

        The kernel refuses rmdir (EBUSY) for a few milliseconds after the last process exits;
        waiting for that would add to every job's latency, so a reaper thread retries instead.
        """
        self.kill_all()
        for path in self.paths.values():
            try:
                path.rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                _reaper().put(path)


_reaper_queue: queue.Queue[Path] | None = None


def _reaper() -> queue.Queue[Path]:
    global _reaper_queue
    with _lock:
        if _reaper_queue is None:
            _reaper_queue = queue.Queue()
            threading.Thread(
                target=_reap_loop, args=(_reaper_queue,), name="veriloop-cgroup-reaper", daemon=True
            ).start()
        return _reaper_queue


def _reap_loop(q: queue.Queue[Path]) -> None:
    while True:
        path = q.get()
        end = time.monotonic() + 10.0
        while time.monotonic() < end:
            try:
                path.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.01)


def _clean_stale(parent: Path) -> None:
    """Remove empty job groups left by veriloop processes that no longer exist."""
    for child in parent.glob("job-*"):
        try:
            owner = int(child.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if owner != os.getpid() and not Path(f"/proc/{owner}").exists():
            with contextlib.suppress(OSError):
                child.rmdir()


def open_job_cgroup(max_pids: int) -> JobCgroup | None:
    """Fresh cgroups for one job, or None when cgroups are not available here."""
    parents = bases()
    if "pids" not in parents:
        return None
    try:
        return JobCgroup(parents, max_pids)
    except OSError:
        return None
