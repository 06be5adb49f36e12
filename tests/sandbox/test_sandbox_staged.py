"""Staged jobs in warm sandboxes: the containment cases, and nothing crosses from one job to the next."""

from __future__ import annotations

import os
import socket
import sys
import threading

import pytest

from veriloop.config import SandboxConfig
from veriloop.sandbox import Limits, StagedJob, Step, describe, get_sandbox, warm
from veriloop.sandbox.contract import run_as_jobs
from veriloop.sandbox.staged import StepPool

PY = sys.executable
LOCAL = SandboxConfig(backend="local")

pytestmark = pytest.mark.skipif(
    not (describe().mode == "local" and warm.available()), reason="warm sandboxes need the bwrap sandbox"
)


def _py(code: str, wall_s: float = 10.0, **kw: object) -> Step:
    return Step(argv=[PY, "-c", code], wall_s=wall_s, **kw)  # type: ignore[arg-type]


PROBE = _py(
    "import os, glob\n"
    "left = glob.glob('/tmp/*planted*') + glob.glob('/dev/shm/*') + os.listdir('/job')\n"
    "mine = (1, os.getpid(), os.getppid())\n"
    "procs = [d for d in os.listdir('/proc') if d.isdigit() and int(d) not in mine]\n"
    "print(sorted(left), procs)"
)


def _pristine(pool: StepPool) -> bool:
    out = pool.run(StagedJob(steps=[PROBE]))[0]
    return out.ok and out.stdout.strip() == "[] []"


def test_steps_share_the_job_dir_and_stdin_file_is_consumed(pool: StepPool) -> None:
    job = StagedJob(
        files={"src.txt": "secret-42\n", "data.hex": "0f\n"},
        steps=[
            Step(argv=["sh", "-c", "cp src.txt prog.bin && echo compiled"]),
            _py(
                "import os, sys\n"
                "first = sys.stdin.read()\n"
                "again = open('/dev/stdin').read()\n"
                "print(repr(first), repr(again), sorted(os.listdir('.')))",
                stdin_file="prog.bin",
                keep=["data.hex"],
            ),
        ],
    )
    a, b = pool.run(job)
    assert a.ok and a.stdout.strip() == "compiled"
    assert b.ok, b.stderr
    assert b.stdout.strip() == "'secret-42\\n' '' ['data.hex']"  # read once; sources and program gone
    assert a.backend == b.backend == "local-warm" and b.contained


def test_first_failing_step_ends_the_job_and_collect_reads_back(pool: StepPool) -> None:
    failed = pool.run(StagedJob(steps=[Step(argv=["sh", "-c", "exit 3"]), Step(argv=["true"])]))
    assert [r.exit_code for r in failed] == [3]
    done = pool.run(
        StagedJob(steps=[Step(argv=["sh", "-c", "printf abc > out.bin"])], collect=["out.bin", "none"])
    )
    assert done[0].files == {"out.bin": b"abc"}


def test_host_environment_is_absent(pool: StepPool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-secret")
    res = pool.run(StagedJob(steps=[Step(argv=["sh", "-c", "env"])]))[0]
    assert res.ok and "sk-host-secret" not in res.stdout and "OPENAI_API_KEY" not in res.stdout


def test_infinite_loop_is_killed_and_the_next_job_is_clean(pool: StepPool) -> None:
    res = pool.run(StagedJob(steps=[Step(argv=["sh", "-c", "while :; do :; done"], wall_s=1.0)]))[0]
    assert res.killed == "timeout" and 0.9 < res.wall_s < 5
    assert _pristine(pool)


def test_big_allocation_is_killed_for_memory() -> None:
    small = Limits(memory_mb=512)
    job = StagedJob(steps=[_py("x = bytearray(4 * 1024**3); print(len(x))")], limits=small)
    res = get_sandbox(LOCAL).run_staged(job)[0]  # routed to a warm pool with this limits profile
    assert res.backend == "local-warm"
    assert res.killed == "memory" and "MemoryError" in res.stderr
    ok = get_sandbox(LOCAL).run_staged(StagedJob(steps=[_py("x = bytearray(64 * 1024**2)")], limits=small))
    assert ok[0].ok


def test_a_pool_refuses_jobs_with_other_limits(pool: StepPool) -> None:
    with pytest.raises(ValueError, match="other limits"):
        pool.run(StagedJob(steps=[Step(argv=["true"])], limits=Limits(memory_mb=100)))


def test_huge_output_is_capped(pool: StepPool) -> None:
    job = StagedJob(
        steps=[Step(argv=["sh", "-c", "head -c 1000000000 /dev/zero | tr '\\0' x"], wall_s=30)],
        limits=Limits(output_bytes=1 << 16),
    )
    res = pool.run(job)[0]
    assert res.stdout_truncated and len(res.stdout) < (1 << 16) + 200
    assert "output truncated" in res.stdout and res.killed == "output"
    assert _pristine(pool)


def test_fork_bomb_and_orphans_are_contained(pool: StepPool) -> None:
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    res = pool.run(StagedJob(steps=[_py(bomb, wall_s=2.0)]))[0]
    assert res.killed == "timeout"  # bounded by the sandbox's pids cgroup, stopped by the wall clock
    orphan = Step(argv=["sh", "-c", "setsid sleep 300 & echo started"])
    left = pool.run(StagedJob(steps=[orphan]))[0]
    assert left.ok and left.stdout.strip() == "started"
    assert _pristine(pool)
    assert pool.stats.recycle_reasons.get("processes left behind", 0) >= 1
    assert os.system("true") == 0  # the host is fine


def test_files_and_tmp_do_not_cross_jobs(pool: StepPool) -> None:
    plant = Step(
        argv=["sh", "-c", "echo x > /tmp/planted; echo x > /dev/shm/planted; echo x > /job/planted"]
    )
    assert pool.run(StagedJob(steps=[plant]))[0].ok
    assert _pristine(pool)


def test_write_outside_job_dir_is_refused(pool: StepPool) -> None:
    res = pool.run(StagedJob(steps=[Step(argv=["sh", "-c", "echo x > /usr/planted"])]))[0]
    assert res.exit_code != 0 and ("Read-only" in res.stderr or "Permission denied" in res.stderr)
    assert not os.path.exists("/usr/planted")


def test_host_port_on_loopback_is_unreachable(pool: StepPool) -> None:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    threading.Thread(target=lambda: srv.accept(), daemon=True).start()
    try:
        code = (
            "import socket\ns = socket.socket(); s.settimeout(3)\n"
            f"try:\n    s.connect(('127.0.0.1', {port})); print('connected')\n"
            "except OSError as e:\n    print('refused', e)"
        )
        res = pool.run(StagedJob(steps=[_py(code)]))[0]
        assert res.ok and res.stdout.startswith("refused")
    finally:
        srv.close()


def test_the_server_cannot_be_read_by_a_step(pool: StepPool) -> None:
    code = (
        "import os\nppid = os.getppid()\n"
        "try:\n    open(f'/proc/{ppid}/mem', 'rb'); print('read')\n"
        "except OSError as e:\n    print('denied', e.errno)"
    )
    res = pool.run(StagedJob(steps=[_py(code)]))[0]
    assert res.ok and res.stdout.startswith("denied")


def test_fallback_runs_the_same_job_one_job_per_step() -> None:
    box = get_sandbox(LOCAL)
    job = StagedJob(
        files={"a.txt": "hello\n", "keep.txt": "k"},
        steps=[
            Step(argv=["sh", "-c", "cp a.txt b.txt"]),
            Step(argv=["sh", "-c", "cat; ls"], stdin_file="b.txt", keep=["keep.txt"]),
        ],
    )
    a, b = run_as_jobs(box, job)
    assert a.ok and b.ok and b.backend == "local"
    assert b.stdout.split() == ["hello", "keep.txt"]
    warm_b = box.run_staged(job)[1]
    assert warm_b.stdout.split() == b.stdout.split() and warm_b.backend == "local-warm"
