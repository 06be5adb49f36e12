"""Containment of the real bubblewrap sandbox: every case of issue 8, through the Python API and the CLI."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from veriloop.config import SandboxConfig
from veriloop.sandbox import Job, Limits, describe, get_sandbox, run_job

LOCAL = SandboxConfig(backend="local")
PY = sys.executable


def _local_ok() -> bool:
    try:
        return describe(LOCAL).contained
    except Exception:  # noqa: BLE001
        return False


pytestmark = pytest.mark.skipif(not _local_ok(), reason="bubblewrap cannot run here")


def _py(code: str, **limits: float) -> Job:
    return Job(argv=[PY, "-c", code], limits=Limits(**limits))  # type: ignore[arg-type]


def test_describe_local_is_contained() -> None:
    info = describe(LOCAL)
    assert info.mode == "local" and info.contained and "bubblewrap" in info.reason


def test_venv_python_with_numpy_runs_inside() -> None:
    res = run_job(_py("import numpy, os; print(numpy.arange(4).sum(), os.getcwd())"), LOCAL)
    assert res.ok, res.stderr
    assert res.stdout.split() == ["6", "/job"]
    assert res.backend == "local" and res.contained


def test_infinite_loop_is_killed_for_timeout() -> None:
    res = run_job(Job(argv=["sh", "-c", "while :; do :; done"], limits=Limits(wall_s=1.0)), LOCAL)
    assert res.killed == "timeout"
    assert res.exit_code != 0
    assert 0.9 < res.wall_s < 5


def test_cpu_limit_kills_for_timeout() -> None:
    res = run_job(_py("while True: pass", wall_s=20, cpu_s=1), LOCAL)
    assert res.killed == "timeout"
    assert res.wall_s < 10


def test_fork_bomb_is_contained_and_host_is_fine() -> None:
    bomb = (
        "import os, time\n"
        "n = 0\n"
        "for _ in range(5000):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        break\n"
        "    if pid == 0:\n"
        "        time.sleep(30); os._exit(0)\n"
        "    n += 1\n"
        "print('forked', n, flush=True)\n"
        "time.sleep(30)\n"
    )
    before = len(os.listdir("/proc"))
    res = run_job(Job(argv=[PY, "-c", bomb], limits=Limits(wall_s=3, nproc=64)), LOCAL)
    assert res.killed == "timeout"
    forked = int(res.stdout.split()[1])
    assert forked < 200, "the process cap did not hold"
    time.sleep(0.3)
    # Nothing of the job is left, and the host can still start processes.
    leftover = subprocess.run(["pgrep", "-f", "time.sleep\\(30\\)"], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""
    assert subprocess.run(["true"]).returncode == 0
    assert len(os.listdir("/proc")) < before + 50


def test_big_allocation_is_killed_for_memory() -> None:
    res = run_job(_py("x = bytearray(4 << 30); print('allocated')", memory_mb=512), LOCAL)
    assert res.killed == "memory"
    assert "allocated" not in res.stdout


def test_gigabyte_of_stdout_is_capped() -> None:
    res = run_job(
        Job(
            argv=["sh", "-c", "head -c 1073741824 /dev/zero | tr '\\0' y"], limits=Limits(output_bytes=65536)
        ),
        LOCAL,
    )
    assert res.stdout_truncated
    assert res.killed == "output"
    assert len(res.stdout) < 65536 + 200
    assert "output truncated" in res.stdout
    assert res.wall_s < 20


def test_modest_output_over_cap_is_truncated_not_killed() -> None:
    res = run_job(
        Job(argv=["sh", "-c", "head -c 200000 /dev/zero | tr '\\0' y"], limits=Limits(output_bytes=65536)),
        LOCAL,
    )
    assert res.exit_code == 0 and res.killed is None
    assert res.stdout_truncated and "134464 more bytes dropped" in res.stdout


def test_tcp_connect_to_host_port_is_unreachable() -> None:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    accepted: list[object] = []

    def accept() -> None:
        srv.settimeout(5)
        with contextlib.suppress(OSError):
            accepted.append(srv.accept())

    t = threading.Thread(target=accept)
    t.start()
    code = (
        "import socket\n"
        f"s = socket.socket(); s.settimeout(2)\n"
        "try:\n"
        f"    s.connect(('127.0.0.1', {port})); print('CONNECTED')\n"
        "except OSError as e:\n"
        "    print('REFUSED', e)\n"
    )
    res = run_job(_py(code), LOCAL)
    t.join()
    srv.close()
    assert "REFUSED" in res.stdout, res.stdout + res.stderr
    assert not accepted


def test_write_outside_job_dir_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "escape.txt"
    code = (
        "import os\n"
        f"for p in ['{target}', '/usr/escape', '/etc/escape', '/escape', '/root/escape']:\n"
        "    try:\n"
        "        open(p, 'w').write('x'); print('WROTE', p)\n"
        "    except OSError as e:\n"
        "        print('DENIED', p)\n"
        "open('inside.txt', 'w').write('ok')\n"
    )
    res = run_job(Job(argv=[PY, "-c", code], collect=["inside.txt"]), LOCAL)
    assert "WROTE" not in res.stdout
    assert res.stdout.count("DENIED") == 5
    assert not target.exists()
    assert res.files == {"inside.txt": b"ok"}


def test_host_secrets_are_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-secret")
    res = run_job(_py("import os; print(os.environ.get('OPENAI_API_KEY')); print(sorted(os.environ))"), LOCAL)
    assert res.stdout.splitlines()[0] == "None"
    assert "sk-host-secret" not in res.stdout
    res2 = run_job(Job(argv=["sh", "-c", "ls /root /home 2>&1; cat /proc/1/environ | tr '\\0' ' '"]), LOCAL)
    assert "sk-host-secret" not in res2.stdout


def test_job_env_is_passed() -> None:
    res = run_job(Job(argv=["sh", "-c", "echo $FOO"], env={"FOO": "bar"}), LOCAL)
    assert res.stdout.strip() == "bar"


def test_zombie_child_is_reaped_and_nothing_outlives_the_job() -> None:
    code = (
        "import ctypes, os, subprocess\n"
        "if os.fork() == 0:\n"
        "    ctypes.CDLL(None).prctl(15, b'vlzombie4242', 0, 0, 0)\n"  # PR_SET_NAME: recognisable
        "    os._exit(0)\n"  # a zombie: never waited for
        "subprocess.Popen(['sleep', '4242'], start_new_session=True)\n"  # a daemon left behind
        "print('parent done')\n"
    )
    res = run_job(_py(code), LOCAL)
    assert res.ok and "parent done" in res.stdout
    time.sleep(0.2)
    left = subprocess.run(["pgrep", "-f", "sleep 4242"], capture_output=True, text=True)
    assert left.stdout.strip() == ""
    zombies = subprocess.run(["ps", "-eo", "stat,comm"], capture_output=True, text=True).stdout
    assert "vlzombie4242" not in zombies


def test_network_flag_gives_host_network() -> None:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    code = f"import socket; s=socket.create_connection(('127.0.0.1', {port}), 2); print('CONNECTED')"
    res = run_job(Job(argv=[PY, "-c", code], network=True), LOCAL)
    srv.close()
    assert "CONNECTED" in res.stdout


def test_concurrent_jobs_are_independent() -> None:
    from concurrent.futures import ThreadPoolExecutor

    box = get_sandbox(LOCAL)

    def one(i: int) -> str:
        r = box.run(
            Job(
                argv=["sh", "-c", f"cat in.txt; echo {i} > out.txt"],
                files={"in.txt": f"job{i}\n"},
                collect=["out.txt"],
            )
        )
        return r.stdout.strip() + "|" + r.files["out.txt"].decode().strip()

    with ThreadPoolExecutor(6) as ex:
        got = list(ex.map(one, range(12)))
    assert got == [f"job{i}|{i}" for i in range(12)]


def test_stdin_is_fed() -> None:
    res = run_job(Job(argv=["wc", "-c"], stdin=b"x" * 300000), LOCAL)
    assert res.stdout.strip() == "300000"


def test_bad_job_file_name_is_rejected() -> None:
    from veriloop.errors import SandboxError

    with pytest.raises(SandboxError):
        run_job(Job(argv=["true"], files={"../evil": "x"}), LOCAL)


def test_cli_exec_json_and_exit_code(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "hello.txt").write_text("hi there\n")
    cmd = [
        sys.executable,
        "-m",
        "veriloop.cli",
        "sandbox",
        "exec",
        "--json",
        "--dir",
        str(tmp_path / "d"),
        "--timeout",
        "5",
        "--",
        "sh",
        "-c",
        "cat hello.txt; exit 3",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    data = json.loads(done.stdout)
    assert data["stdout"] == "hi there\n" and data["exit_code"] == 3 and data["backend"] == "local"


def test_cli_exec_timeout_reports_killed() -> None:
    cmd = [
        sys.executable,
        "-m",
        "veriloop.cli",
        "sandbox",
        "exec",
        "--json",
        "--timeout",
        "1",
        "--",
        "sleep",
        "30",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    data = json.loads(done.stdout)
    assert data["killed"] == "timeout" and done.returncode != 0


def test_ro_paths_are_visible_read_only(tmp_path: Path) -> None:
    prob = tmp_path / "problem"
    prob.mkdir()
    (prob / "data.txt").write_text("payload")
    code = (
        f"print(open('{prob}/data.txt').read())\n"
        "try:\n"
        f"    open('{prob}/new.txt', 'w'); print('WROTE')\n"
        "except OSError:\n"
        "    print('READONLY')\n"
    )
    res = run_job(Job(argv=[PY, "-c", code], ro_paths=[str(prob)]), LOCAL)
    assert res.stdout.split() == ["payload", "READONLY"], res.stderr
    assert not (prob / "new.txt").exists()


def test_read_only_binds_cannot_be_remounted_writable(tmp_path: Path) -> None:
    """A job started by root holds no capabilities: remounting a read-only bind rw fails."""
    shared = tmp_path / "shared"
    shared.mkdir()
    script = (
        f"mount -o remount,bind,rw {shared} 2>&1; echo pwned > {shared}/pwned 2>&1; "
        "mount -o remount,rw / 2>&1; echo pwned > /usr/pwned 2>&1; "
        "grep CapEff /proc/self/status"
    )
    res = run_job(Job(argv=["sh", "-c", script], ro_paths=[str(shared)]), LOCAL)
    assert res.killed is None
    assert not (shared / "pwned").exists()
    assert not Path("/usr/pwned").exists()
    cap_line = next(line for line in res.stdout.splitlines() if line.startswith("CapEff"))
    assert int(cap_line.split()[1], 16) == 0, res.stdout
