"""A real two-node Ray cluster on one machine for tests: a head and worker nodes that cannot see a path.

The head has no CPUs, so every evaluation runs on a worker node. Each worker node is started by
`unshare -m` in its own mount namespace with a tmpfs over `hidden` (the driver's problem's parent
directory): its processes see an empty directory where the driver's problem is. All ports are
picked free; every Ray process of the cluster is found by this cluster's own temp dir in its command
line and killed at the end, so other Ray clusters on the machine are never touched.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from veriloop.testing.processes import free_ports

RAY = str(Path(sys.executable).with_name("ray"))
OBJECT_STORE_BYTES = 100 * 1024 * 1024


def _kill(pid: int, group: bool = False) -> None:
    with contextlib.suppress(ProcessLookupError):
        (os.killpg if group else os.kill)(pid, signal.SIGKILL)


def can_unshare() -> bool:
    """Whether this process may make a mount namespace (root, unshare(1) present)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "true"], capture_output=True, timeout=20
    )
    return probe.returncode == 0


class LocalCluster:
    """Head (0 CPUs) + worker nodes (1 CPU each) whose processes do not see `hidden`."""

    def __init__(self, hidden: Path) -> None:
        self.hidden = hidden
        self.base = Path(tempfile.mkdtemp(prefix="vlray-", dir="/tmp"))
        os.chmod(self.base, 0o755)
        self.node_cache = self.base / "node-cache"
        self.gcs_port, self.client_port, self.dashboard_port = free_ports(3)
        self.address = f"127.0.0.1:{self.gcs_port}"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.env = dict(os.environ) | {
            "RAY_USAGE_STATS_ENABLED": "0",
            "VERILOOP_RAY_CACHE": str(self.node_cache),
            "PYTHONDONTWRITEBYTECODE": "1",
            # its own token, so nothing depends on (or writes) ~/.ray/auth_token
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": secrets.token_hex(32),
        }
        self.env.pop("RAY_AUTH_TOKEN_PATH", None)
        self.env.pop("RAY_ADDRESS", None)

    def _node_ports(self) -> list[str]:
        nm, om, agent_http, agent_grpc, metrics, renv = free_ports(6)
        return [
            f"--node-manager-port={nm}",
            f"--object-manager-port={om}",
            f"--dashboard-agent-listen-port={agent_http}",
            f"--dashboard-agent-grpc-port={agent_grpc}",
            f"--metrics-export-port={metrics}",
            f"--runtime-env-agent-port={renv}",
        ]

    def _popen(self, name: str, argv: list[str]) -> None:
        log = open(self.base / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
        )
        log.close()

    def start_head(self) -> None:
        self._popen(
            "head",
            [
                RAY,
                "start",
                "--head",
                "--block",
                "--node-ip-address=127.0.0.1",
                f"--port={self.gcs_port}",
                f"--ray-client-server-port={self.client_port}",
                "--num-cpus=0",
                f"--object-store-memory={OBJECT_STORE_BYTES}",
                "--include-dashboard=false",
                f"--dashboard-port={self.dashboard_port}",
                "--disable-usage-stats",
                f"--temp-dir={self.base / 'ray'}",
                *self._node_ports(),
            ],
        )
        self._wait_nodes(1)

    def start_worker(self, name: str) -> None:
        """A 1-CPU node in its own mount namespace, with an empty tmpfs over `hidden`."""
        ray_cmd = [
            RAY,
            "start",
            "--block",
            f"--address={self.address}",
            "--node-ip-address=127.0.0.1",
            "--num-cpus=1",
            f"--object-store-memory={OBJECT_STORE_BYTES}",
            "--disable-usage-stats",
            f"--temp-dir={self.base / 'ray'}",
            *self._node_ports(),
        ]
        script = 'mount -t tmpfs -o size=1m,mode=755 veriloop-hidden "$1" && shift && exec "$@"'
        self._popen(
            name,
            [
                "unshare",
                "-m",
                "--propagation",
                "private",
                "sh",
                "-c",
                script,
                "sh",
                str(self.hidden),
                *ray_cmd,
            ],
        )

    def alive_nodes(self) -> int:
        try:
            out = subprocess.run(
                [sys.executable, "-c", _COUNT_NODES, self.address],
                capture_output=True,
                text=True,
                timeout=60,
                env=self.env,
            )
            return int(out.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError, subprocess.TimeoutExpired):
            return -1

    def _wait_nodes(self, n: int, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, p in self.procs.items():
                if p.poll() is not None:
                    raise RuntimeError(
                        f"ray node {name} exited: {(self.base / f'{name}.log').read_text()[-2000:]}"
                    )
            if self.alive_nodes() >= n:
                return
            time.sleep(2.0)
        raise TimeoutError(f"the Ray cluster did not reach {n} node(s) in {timeout:.0f}s")

    def wait_nodes(self, n: int, timeout: float = 90.0) -> None:
        self._wait_nodes(n, timeout)

    def kill(self, name: str) -> None:
        """SIGKILL a node's process group and every process of it found by its namespace's mounts."""
        p = self.procs.pop(name)
        pids = [pid for pid in self._cluster_pids() if self._ns_of(pid) == self._ns_of(p.pid)]
        for pid in [p.pid, *pids]:
            _kill(pid)
        _kill(p.pid, group=True)
        p.wait(timeout=30)

    @staticmethod
    def _ns_of(pid: int) -> str:
        try:
            return os.readlink(f"/proc/{pid}/ns/mnt")
        except OSError:
            return ""

    def _cluster_pids(self) -> list[int]:
        """Every process whose command line names this cluster's temp dir or GCS port."""
        marks = (str(self.base).encode(), f"127.0.0.1:{self.gcs_port}".encode())
        out = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if any(m in cmd for m in marks):
                out.append(int(entry))
        return out

    def stop(self) -> None:
        """Kill every process of this cluster (and only those), then remove its temp dir."""
        for p in self.procs.values():
            _kill(p.pid, group=True)
        for _ in range(3):
            pids = self._cluster_pids()
            for pid in pids:
                _kill(pid)
            if not pids:
                break
            time.sleep(0.5)
        for p in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=30)
        self.procs.clear()
        shutil.rmtree(self.base, ignore_errors=True)

    def leftover(self) -> list[int]:
        return self._cluster_pids()


_COUNT_NODES = """
import sys, ray
ray.init(address=sys.argv[1], include_dashboard=False, log_to_driver=False, logging_level="ERROR")
print(sum(1 for n in ray.nodes() if n["Alive"]))
"""
