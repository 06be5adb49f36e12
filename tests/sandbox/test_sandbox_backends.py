"""Backend selection: docker absence detected quickly, the rlimits fallback says it is not contained."""

from __future__ import annotations

import time

import pytest

from veriloop.config import SandboxConfig
from veriloop.errors import SandboxError
from veriloop.sandbox import Job, Limits, describe, get_sandbox, run_job
from veriloop.sandbox.docker_backend import engine_available


def test_docker_absence_is_detected_quickly_and_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    engine_available.cache_clear()
    t0 = time.monotonic()
    ok, why = engine_available()
    assert time.monotonic() - t0 < 5
    assert not ok and "Docker" in why
    with pytest.raises(SandboxError) as err:
        get_sandbox(SandboxConfig(backend="docker", docker_image="veriloop-test:none"))
    assert "docker" in err.value.message.lower()
    engine_available.cache_clear()


def test_rlimits_backend_is_marked_not_contained() -> None:
    cfg = SandboxConfig(backend="rlimits")
    assert describe(cfg).contained is False
    res = run_job(Job(argv=["sh", "-c", "echo $HOME; echo ${OPENAI_API_KEY:-absent}"]), cfg)
    assert res.backend == "rlimits" and res.contained is False
    assert res.stdout.splitlines()[1] == "absent"


def test_rlimits_backend_limits_still_apply() -> None:
    cfg = SandboxConfig(backend="rlimits")
    res = run_job(Job(argv=["sh", "-c", "while :; do :; done"], limits=Limits(wall_s=1)), cfg)
    assert res.killed == "timeout"
    big = run_job(Job(argv=["sh", "-c", "yes"], limits=Limits(output_bytes=4096)), cfg)
    assert big.killed == "output" and big.stdout_truncated


def test_auto_prefers_bubblewrap_here() -> None:
    info = describe(SandboxConfig(backend="auto"))
    assert info.mode in {"local", "docker", "rlimits"}
    assert info.reason.startswith("auto")
