"""The `docker` backend: the same Job contract run in a throw-away container via the docker SDK.

The container gets no network (`network_mode="none"` unless job.network), memory/CPU/pids limits,
a read-only root, a size-capped tmpfs `/tmp`, the job directory bind-mounted read-write at `/job`
(its cwd) and `job.ro_paths` read-only. Output is capped like the local backend. The image
(SandboxConfig.docker_image) must contain whatever the job runs. `engine_available()` answers
quickly (short socket timeout) so that `doctor` and backend selection never hang.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

from veriloop.errors import SandboxError
from veriloop.sandbox import jobdir
from veriloop.sandbox.contract import JOB_DIR, Job, JobResult, KillReason, Sandbox, base_env


def _client(timeout_s: float) -> Any:
    import docker  # lazy: the SDK is only needed when an engine is used

    return docker.from_env(timeout=max(1, int(round(timeout_s))))


@functools.lru_cache(maxsize=1)
def engine_available(timeout_s: float = 2.0) -> tuple[bool, str]:
    """Does a Docker engine answer a ping? (ok, reason); cached for the process."""
    try:
        client = _client(timeout_s)
        client.ping()
        version = client.version().get("Version", "?")
        client.close()
    except ImportError:
        return False, "the docker Python SDK is not installed"
    except Exception as exc:  # noqa: BLE001 - any failure means "no usable engine"
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return False, f"no Docker engine answers ({first[:80]})"
    return True, f"Docker engine {version} answers"


def _cap(data: bytes, cap: int) -> tuple[str, bool]:
    text = data[:cap].decode("utf-8", errors="replace")
    if len(data) > cap:
        text += (
            f"\n[veriloop sandbox: output truncated at {cap} bytes; {len(data) - cap} more bytes dropped]\n"
        )
        return text, True
    return text, False


class DockerSandbox(Sandbox):
    """Runs each job in a fresh container; thread-safe (one SDK client per call)."""

    name = "docker"
    contained = True

    def __init__(self, image: str, max_parallel: int = 0) -> None:
        ok, why = engine_available()
        if not ok:
            raise SandboxError(
                f"The docker sandbox was requested but {why}.",
                hint='Start a Docker engine, or set [sandbox] backend = "local".',
            )
        self.image = image
        super().__init__(max_parallel)

    def run(self, job: Job) -> JobResult:
        host_dir = jobdir.create(job.files)
        try:
            with self._gate:
                result = self._run(job, host_dir)
            result.files = jobdir.collect(host_dir, job.collect, job.limits.file_size_mb * 1024 * 1024)
            return result
        finally:
            jobdir.remove(host_dir)

    def _run(self, job: Job, host_dir: Path) -> JobResult:
        lim = job.limits
        client = _client(lim.wall_s + 30)
        volumes = {str(host_dir): {"bind": JOB_DIR, "mode": "rw"}}
        for ro in job.ro_paths:
            volumes[ro] = {"bind": ro, "mode": "ro"}
        env = base_env(job.env)
        env["PATH"] = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
        started = time.monotonic()
        killed: KillReason | None = None
        container = client.containers.create(
            self.image,
            command=job.argv,
            working_dir=JOB_DIR,
            environment=env,
            volumes=volumes,
            network_mode="bridge" if job.network else "none",
            mem_limit=f"{lim.memory_mb}m",
            memswap_limit=f"{lim.memory_mb}m",
            nano_cpus=int(1e9 * 1),
            pids_limit=lim.nproc,
            read_only=True,
            tmpfs={"/tmp": f"size={lim.file_size_mb}m"},
            stdin_open=job.stdin is not None,
            ulimits=[
                {"Name": "fsize", "Soft": lim.file_size_mb << 20, "Hard": lim.file_size_mb << 20},
                {"Name": "nofile", "Soft": lim.nofile, "Hard": lim.nofile},
            ],
        )
        try:
            if job.stdin is not None:
                sock = container.attach_socket(params={"stdin": 1, "stream": 1})
                container.start()
                sock._sock.sendall(job.stdin)
                sock._sock.close()
            else:
                container.start()
            try:
                status = container.wait(timeout=lim.wall_s)
                code: int | None = int(status.get("StatusCode", -1))
            except Exception:  # noqa: BLE001 - the SDK raises a requests timeout here
                container.kill()
                killed, code = "timeout", None
            state = container.attrs if killed else (container.reload() or container.attrs)
            if killed is None and state.get("State", {}).get("OOMKilled"):
                killed = "memory"
            out = container.logs(stdout=True, stderr=False)
            err = container.logs(stdout=False, stderr=True)
        finally:
            try:
                container.remove(force=True)
            finally:
                client.close()
        stdout, so_t = _cap(out, lim.output_bytes)
        stderr, se_t = _cap(err, lim.output_bytes)
        sig = code - 128 if code is not None and code > 128 else None
        return JobResult(
            exit_code=code,
            stdout=stdout,
            stderr=stderr,
            stdout_truncated=so_t,
            stderr_truncated=se_t,
            wall_s=time.monotonic() - started,
            cpu_s=0.0,
            killed=killed,
            signal=sig,
            backend=self.name,
            contained=True,
        )
