"""The gvisor backend with the real runsc: the same containment cases as the local backend, and a clear
sentence (never a traceback) where runsc cannot run."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

import veriloop
from veriloop.config import SandboxConfig
from veriloop.errors import SandboxError
from veriloop.sandbox import Job, Limits, describe, get_sandbox, gvisor, run_job

GV = SandboxConfig(backend="gvisor")
PY = sys.executable
REPO = Path(veriloop.__file__).resolve().parents[1]


def _gvisor_ok() -> tuple[bool, str]:
    try:
        return gvisor.probe()
    except Exception as exc:  # noqa: BLE001 - any failure to probe means "cannot run here"
        return False, f"{type(exc).__name__}: {exc}"


_OK, _WHY = _gvisor_ok()
needs_runsc = pytest.mark.skipif(not _OK, reason=f"runsc cannot run on this machine: {_WHY}")


def _py(code: str, **limits: float) -> Job:
    return Job(argv=[PY, "-c", code], limits=Limits(**limits))  # type: ignore[arg-type]


def _leftovers() -> tuple[set[str], list[str], list[str]]:
    """Bundle dirs, runsc processes and memory cgroups of this process's gvisor jobs that still exist
    (other processes on the machine may run gvisor jobs at the same time)."""
    mine = f"veriloop-gvisor-{os.getpid()}-"
    tmp = Path(tempfile.gettempdir())
    dirs = {p.name for p in tmp.glob(f"{mine}*") if "-root-" not in p.name}  # roots: one set per process
    procs = subprocess.run(["pgrep", "-af", f"runsc.*{mine}"], capture_output=True, text=True)
    groups: list[str] = []
    parent = gvisor._memory_parent()
    if parent is not None:
        groups = [p.name for p in parent.glob(f"job-{os.getpid()}-*")]
    return dirs, procs.stdout.splitlines(), groups


@needs_runsc
def test_describe_and_results_name_gvisor() -> None:
    info = describe(GV)
    assert info.mode == "gvisor" and info.contained and "gVisor" in info.reason
    res = run_job(
        _py("import os, numpy; print(numpy.arange(4).sum(), os.getcwd(), os.getuid(), os.getgid())"), GV
    )
    assert res.ok, res.stderr
    assert res.stdout.split() == ["6", "/job", "65534", "65534"]
    assert res.backend == "gvisor" and res.contained


@needs_runsc
def test_only_the_allowed_host_files_are_visible(tmp_path: Path) -> None:
    marker = Path("/tmp") / f"veriloop-gvtest-marker-{os.getpid()}"
    marker.write_text("host tmp")
    try:
        code = (
            "import os, json\n"
            "probe = ['/root', '/home', '/etc/shadow', '/etc/hostname', '/var', '/opt', '/srv', '/mnt',\n"
            f"         '{marker}', '{tmp_path}', '{REPO / 'pyproject.toml'}', '{REPO / 'veriloop'}',\n"
            "         '/work/shared', '/sys/fs/cgroup/memory', '/run']\n"
            "seen = [p for p in probe if os.path.exists(p)]\n"
            "print(json.dumps({'seen': seen, 'root': sorted(os.listdir('/')), 'tmp': os.listdir('/tmp'),\n"
            "                  'etc': sorted(os.listdir('/etc'))}))\n"
        )
        res = run_job(_py(code), GV)
    finally:
        marker.unlink()
    assert res.ok, res.stderr
    import json

    got = json.loads(res.stdout)
    # A Python install under /root or /var (a private checkout's venv) makes its parents exist as
    # empty mount points; nothing else of them is visible.
    parents = {str(q) for d in gvisor._python_dirs() for q in Path(d).parents}
    assert [p for p in got["seen"] if p not in parents] == []
    # The same for a checkout under /tmp: only the first component of its venv's path shows there.
    venv_under_tmp = {Path(d).relative_to("/tmp").parts[0] for d in gvisor._python_dirs()
                      if Path(d).is_relative_to("/tmp") and Path(d) != Path("/tmp")}
    assert [n for n in got["tmp"] if n not in venv_under_tmp] == []
    allowed_top = {
        "bin",
        "dev",
        "etc",
        "job",
        "lib",
        "lib32",
        "lib64",
        "libx32",
        "proc",
        "sbin",
        "sys",
        "tmp",
        "usr",
    }
    allowed_top |= {p.strip("/").split("/")[0] for p in gvisor._python_dirs()}
    assert set(got["root"]) <= allowed_top, got["root"]
    assert set(got["etc"]) <= {"ld.so.cache", "alternatives", "passwd", "group", "nsswitch.conf", "localtime"}


@needs_runsc
def test_host_environment_is_not_inherited(monkeypatch: pytest.MonkeyPatch) -> None:
    from veriloop.sandbox.contract import base_env

    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-secret")
    code = "import os; print(os.environ.get('OPENAI_API_KEY')); print(','.join(sorted(os.environ)))"
    res = run_job(_py(code), GV)
    assert res.ok, res.stderr
    first, keys = res.stdout.splitlines()
    assert first == "None"
    assert set(keys.split(",")) == set(base_env({}))
    res2 = run_job(Job(argv=["sh", "-c", "cat /proc/1/environ /proc/self/environ | tr '\\0' ' '"]), GV)
    assert "sk-host-secret" not in res2.stdout and "HOME=/tmp" in res2.stdout


@needs_runsc
def test_job_env_and_stdin_pass() -> None:
    res = run_job(Job(argv=["sh", "-c", "echo $FOO; wc -c"], env={"FOO": "bar"}, stdin=b"x" * 300000), GV)
    assert res.stdout.split() == ["bar", "300000"]


@needs_runsc
def test_unprivileged_no_capabilities_no_new_privs() -> None:
    code = (
        "import ctypes, os\n"
        "caps = {l.split(':')[0]: l.split()[1] for l in open('/proc/self/status') if l.startswith('Cap')}\n"
        "print(os.getuid(), os.geteuid(), os.getgid(), os.getgroups())\n"
        "print(sorted(set(caps.values())))\n"
        "print(ctypes.CDLL(None).prctl(39, 0, 0, 0, 0))\n"  # PR_GET_NO_NEW_PRIVS
    )
    res = run_job(_py(code), GV)
    assert res.ok, res.stderr
    ids, caps, nnp = res.stdout.splitlines()
    assert ids == "65534 65534 65534 []"
    assert caps == "['0000000000000000']"
    assert nnp == "1"


@needs_runsc
def test_proc_sys_and_read_only_places_cannot_be_written(tmp_path: Path) -> None:
    target = tmp_path / "escape.txt"
    code = (
        f"for p in ['/proc/sys/kernel/hostname', '/proc/sys/vm/drop_caches', '{target}', '/usr/escape',\n"
        "          '/etc/escape', '/escape', '/root/escape', '/bin/escape']:\n"
        "    try:\n"
        "        open(p, 'w').write('x'); print('WROTE', p)\n"
        "    except OSError:\n"
        "        print('DENIED', p)\n"
    )
    res = run_job(Job(argv=[PY, "-c", code]), GV)
    assert "WROTE" not in res.stdout, res.stdout
    assert res.stdout.count("DENIED") == 8
    assert not target.exists() and not Path("/usr/escape").exists() and not Path("/escape").exists()


@needs_runsc
def test_files_written_outside_the_job_dir_stay_in_the_sandbox() -> None:
    name = f"veriloop-gvtest-escape-{os.getpid()}"
    res = run_job(
        Job(
            argv=["sh", "-c", f"echo secret > /tmp/{name} && cat /tmp/{name} && echo ok > sub/out.txt"],
            files={"sub/in.txt": "x"},
            collect=["sub/out.txt", "sub/in.txt", "missing.txt"],
        ),
        GV,
    )
    assert res.ok, res.stderr
    assert res.stdout.strip() == "secret"
    assert not (Path("/tmp") / name).exists()
    assert res.files == {"sub/out.txt": b"ok\n", "sub/in.txt": b"x"}


@needs_runsc
def test_collect_does_not_follow_links() -> None:
    res = run_job(
        Job(
            argv=["sh", "-c", "ln -s /etc/passwd leak.txt; mkdir d; ln -s /etc d2"],
            collect=["leak.txt", "d2/passwd"],
        ),
        GV,
    )
    assert res.ok, res.stderr
    assert res.files == {}


@needs_runsc
def test_network_is_off_by_default_and_on_with_the_flag() -> None:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    port = srv.getsockname()[1]
    accepted: list[object] = []

    def accept() -> None:
        srv.settimeout(8)
        with contextlib.suppress(OSError):
            accepted.append(srv.accept())

    t = threading.Thread(target=accept)
    t.start()
    code = (
        "import socket\n"
        "s = socket.socket(); s.settimeout(2)\n"
        "try:\n"
        f"    s.connect(('127.0.0.1', {port})); print('CONNECTED')\n"
        "except OSError as e:\n"
        "    print('REFUSED', e)\n"
        "print(sorted(n for _, n in socket.if_nameindex()))\n"
    )
    res = run_job(_py(code), GV)
    t.join()
    assert "REFUSED" in res.stdout, res.stdout + res.stderr
    assert "['lo']" in res.stdout
    assert not accepted
    on = run_job(Job(argv=[PY, "-c", code], network=True), GV)
    srv.close()
    assert "CONNECTED" in on.stdout, on.stdout + on.stderr


@needs_runsc
def test_timeout_kills_the_sandbox_and_leaves_nothing() -> None:
    before = _leftovers()
    res = run_job(Job(argv=["sh", "-c", "sleep 4242 & while :; do :; done"], limits=Limits(wall_s=1.5)), GV)
    assert res.killed == "timeout"
    assert res.exit_code != 0
    assert 1.4 < res.wall_s < 8
    time.sleep(0.3)
    dirs, procs, groups = _leftovers()
    assert dirs <= before[0] and procs == [] and groups == []
    assert subprocess.run(["pgrep", "-f", "sleep 4242"], capture_output=True).stdout == b""


@needs_runsc
def test_big_allocation_is_stopped_for_memory() -> None:
    res = run_job(_py("x = bytearray(3 << 30); print('allocated')", memory_mb=256, wall_s=60), GV)
    assert "allocated" not in res.stdout
    assert res.killed == "memory", (res.killed, res.exit_code, res.stderr[-500:])
    assert res.wall_s < 30


@needs_runsc
def test_output_flood_is_capped_and_killed() -> None:
    res = run_job(
        Job(
            argv=["sh", "-c", "head -c 1073741824 /dev/zero | tr '\\0' y"], limits=Limits(output_bytes=65536)
        ),
        GV,
    )
    assert res.killed == "output"
    assert res.stdout_truncated and "output truncated" in res.stdout
    assert len(res.stdout) < 65536 + 200
    assert res.wall_s < 20
    modest = run_job(
        Job(argv=["sh", "-c", "head -c 200000 /dev/zero | tr '\\0' y"], limits=Limits(output_bytes=65536)), GV
    )
    assert modest.exit_code == 0 and modest.killed is None
    assert modest.stdout_truncated and "134464 more bytes dropped" in modest.stdout


@needs_runsc
def test_file_size_limit_holds() -> None:
    res = run_job(
        Job(
            argv=["sh", "-c", "head -c 5000000 /dev/zero > big; echo rc=$?; wc -c < big"],
            limits=Limits(file_size_mb=1),
            collect=["big"],
        ),
        GV,
    )
    assert res.stdout.split() == ["rc=153", "1048576"], res.stdout + res.stderr  # 128 + SIGXFSZ
    assert len(res.files["big"]) == 1 << 20


@needs_runsc
def test_fork_bomb_is_bounded() -> None:
    bomb = (
        "import os, time\n"
        "n = 0\n"
        "for _ in range(2000):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        break\n"
        "    if pid == 0:\n"
        "        time.sleep(60); os._exit(0)\n"
        "    n += 1\n"
        "print('forked', n, flush=True)\n"
        "time.sleep(60)\n"
    )
    res = run_job(Job(argv=[PY, "-c", bomb], limits=Limits(wall_s=8, nproc=32)), GV)
    assert res.killed == "timeout", res.stderr
    forked = int(res.stdout.split()[1])
    assert forked < 32, "the process cap did not hold"
    time.sleep(0.3)
    assert _leftovers()[1] == []
    assert subprocess.run(["true"]).returncode == 0


@needs_runsc
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
    res = run_job(Job(argv=[PY, "-c", code], ro_paths=[str(prob)]), GV)
    assert res.stdout.split() == ["payload", "READONLY"], res.stderr
    assert not (prob / "new.txt").exists()
    with pytest.raises(SandboxError):
        run_job(Job(argv=["true"], ro_paths=[str(tmp_path / "absent")]), GV)


@needs_runsc
def test_iverilog_and_vvp_compile_and_simulate() -> None:
    design = (
        "module counter(input clk, input rst, output reg [3:0] q);\n"
        "  always @(posedge clk) q <= rst ? 4'd0 : q + 4'd1;\n"
        "endmodule\n"
    )
    tb = (
        "module tb; reg clk = 0, rst = 1; wire [3:0] q;\n"
        "  counter dut(.clk(clk), .rst(rst), .q(q));\n"
        "  always #1 clk = ~clk;\n"
        '  initial begin #3 rst = 0; #20 $display("q=%0d", q); $finish; end\n'
        "endmodule\n"
    )
    res = run_job(
        Job(
            argv=["sh", "-c", "iverilog -g2012 -o sim.vvp counter.v tb.v && vvp -n sim.vvp"],
            files={"counter.v": design, "tb.v": tb},
            collect=["sim.vvp"],
            limits=Limits(wall_s=60),
        ),
        GV,
    )
    assert res.ok, res.stdout + res.stderr
    assert "q=10" in res.stdout
    assert res.files["sim.vvp"].startswith(b"#!")


@needs_runsc
def test_concurrent_jobs_are_independent() -> None:
    from concurrent.futures import ThreadPoolExecutor

    box = get_sandbox(GV)

    def one(i: int) -> str:
        r = box.run(
            Job(
                argv=["sh", "-c", f"cat in.txt; echo {i} > out.txt"],
                files={"in.txt": f"job{i}\n"},
                collect=["out.txt"],
            )
        )
        return r.stdout.strip() + "|" + r.files["out.txt"].decode().strip()

    before = _leftovers()[0]
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(one, range(6)))
    assert got == [f"job{i}|{i}" for i in range(6)]
    assert _leftovers()[0] <= before  # every bundle dir is gone, however the threads interleaved


def test_unavailable_runsc_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gvisor, "runsc_path", lambda: None)
    ok, why = gvisor.check()
    assert not ok and why == "runsc (gVisor) is not installed"
    monkeypatch.setattr(gvisor, "probe", gvisor.check)
    with pytest.raises(SandboxError) as err:
        get_sandbox(SandboxConfig(backend="gvisor", max_parallel=7))
    assert err.value.message == "The gvisor sandbox was requested but runsc (gVisor) is not installed."
    assert err.value.hint and "runsc" in err.value.hint


@pytest.mark.skipif(
    os.geteuid() != 0 or not Path("/usr/bin/setpriv").exists(), reason="needs root and setpriv"
)
def test_cli_as_non_root_says_why_without_traceback() -> None:
    import shutil

    readable = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
        + ["test", "-r", str(REPO / "pyproject.toml")],
        check=False,
    )
    if readable.returncode != 0:
        pytest.skip("this checkout is private to root: uid 65534 cannot run veriloop from it")

    home = Path(tempfile.mkdtemp(prefix="veriloop-gvcli-"))  # pytest's tmp root is private to root
    try:
        os.chown(home, 65534, 65534)
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "VERILOOP_SANDBOX__BACKEND": "gvisor",
            "LANG": "C.UTF-8",
        }
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", PY, "-m", "veriloop.cli"]
        done = subprocess.run(
            [*cmd, "sandbox", "exec", "--", "true"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=home,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    assert "gvisor sandbox was requested but runsc needs root here" in done.stderr + done.stdout


def test_doctor_shows_gvisor() -> None:
    from veriloop.commands.doctor import collect
    from veriloop.config import load_settings

    rows = [r for r in collect(load_settings(), 1.0) if r.part == "gvisor"]
    assert len(rows) == 1
    row = rows[0]
    assert row.required is False and row.ok == _OK
    assert ("gVisor runsc" in row.detail) if _OK else row.hint


@needs_runsc
def test_staged_job_runs_step_by_step() -> None:
    from veriloop.sandbox import StagedJob, Step, run_staged

    design = 'module tb; initial begin $display("hello from vvp"); $finish; end endmodule\n'
    staged = StagedJob(
        steps=[
            Step(argv=["iverilog", "-o", "sim.vvp", "tb.v"], wall_s=60),
            Step(argv=["vvp", "-n", "sim.vvp"], wall_s=60, keep=["sim.vvp"]),
        ],
        files={"tb.v": design},
    )
    results = run_staged(staged, GV)
    assert [r.ok for r in results] == [True, True], [r.stderr for r in results]
    assert "hello from vvp" in results[1].stdout
    assert all(r.backend == "gvisor" for r in results)


@needs_runsc
def test_ro_paths_outside_tmp_dir_and_file() -> None:
    problem = REPO / "veriloop" / "problems" / "moe_eplb"
    single = REPO / "pyproject.toml"
    code = (
        "import os\n"
        f"print(sorted(os.listdir('{problem}')) == {sorted(os.listdir(problem))!r})\n"
        f"print(open('{single}').read(9))\n"
        f"print(os.path.exists('{REPO / 'README.md'}'))\n"
    )
    res = run_job(Job(argv=[PY, "-c", code], ro_paths=[str(problem), str(single)]), GV)
    assert res.stdout.split("\n")[:3] == ["True", single.read_text()[:9], "False"], res.stdout + res.stderr


@needs_runsc
def test_a_killed_veriloop_leaves_no_sandbox_running(tmp_path: Path) -> None:
    """The sandbox dies with the veriloop process that started it; its bundle dir and memory group
    are swept by the next veriloop process."""
    script = tmp_path / "parent.py"
    script.write_text(
        "from veriloop.config import SandboxConfig\n"
        "from veriloop.sandbox import Job, Limits, run_job\n"
        "run_job(Job(argv=['sh', '-c', 'sleep 4243; :']), SandboxConfig(backend='gvisor'))\n"
    )
    parent = subprocess.Popen([PY, str(script)], cwd=tmp_path)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if subprocess.run(["pgrep", "-f", f"veriloop-gvisor-{parent.pid}-"], capture_output=True).stdout:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the job never started")
        time.sleep(0.5)
    finally:
        parent.kill()
        parent.wait()
    # runsc, its Gofer and the Sentry (whose ptrace stubs run the job) all name the bundle dir.
    mine = ["pgrep", "-f", f"veriloop-gvisor-{parent.pid}-"]
    until = time.monotonic() + 10
    while time.monotonic() < until and subprocess.run(mine, capture_output=True).stdout:
        time.sleep(0.1)
    assert subprocess.run(mine, capture_output=True).stdout == b""
    gvisor.sweep_stale()
    assert not list(Path("/tmp").glob(f"veriloop-gvisor-{parent.pid}-*"))
    mem = gvisor._memory_parent()
    assert mem is None or not list(mem.glob(f"job-{parent.pid}-*"))


@needs_runsc
def test_cpu_limit_kills_for_timeout() -> None:
    res = run_job(_py("while True: pass", wall_s=30, cpu_s=1), GV)
    assert res.killed == "timeout", (res.exit_code, res.signal, res.stderr[-300:])
    assert res.wall_s < 15


@needs_runsc
@pytest.mark.parametrize("place", ["/job", "/tmp", "/dev/shm"])
def test_writes_stop_at_the_disk_cap(place: str) -> None:
    code = (
        "written = 0\n"
        "try:\n"
        f"    with open('{place}/fill', 'wb') as fh:\n"
        "        for _ in range(2000):\n"
        "            fh.write(b'x' * (1 << 20)); fh.flush(); written += 1\n"
        "except OSError as exc:\n"
        "    print('STOPPED', exc.errno, written)\n"
    )
    res = run_job(_py(code, wall_s=60, memory_mb=512, disk_mb=64, file_size_mb=4000), GV)
    assert "STOPPED 28" in res.stdout, res.stdout + res.stderr  # ENOSPC: the job's own, not the host's
    assert int(res.stdout.split()[-1]) <= 64


@needs_runsc
def test_syscall_filter_and_no_new_namespaces() -> None:
    code = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "for name, nr, args in [('unshare', 272, (0x10000000,)), ('setns', 308, (0, 0)),\n"
        "                       ('mount', 165, (0, 0, 0, 0, 0)), ('ptrace', 101, (16, 1, 0, 0)),\n"
        "                       ('bpf', 321, (0, 0, 0)), ('keyctl', 250, (0, 0, 0, 0))]:\n"
        "    rc = libc.syscall(nr, *[ctypes.c_long(a) for a in args])\n"
        "    print(name, rc, ctypes.get_errno())\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "print('fork ok')\n"
    )
    res = run_job(_py(code), GV)
    assert res.ok, res.stderr
    lines = res.stdout.splitlines()
    assert all(line.split()[1:] == ["-1", "1"] for line in lines[:-1]), res.stdout
    assert lines[-1] == "fork ok"
    userns = run_job(Job(argv=["unshare", "--user", "--map-root-user", "id"], limits=Limits(wall_s=10)), GV)
    assert userns.exit_code != 0 and "uid=0" not in userns.stdout


@needs_runsc
def test_threads_and_multiprocessing_work() -> None:
    code = (
        "import multiprocessing as mp, threading\n"
        "t = threading.Thread(target=print, args=('thread',)); t.start(); t.join()\n"
        "with mp.Pool(2) as pool:\n"
        "    print(sum(pool.map(abs, [-1, -2, -3])))\n"
    )
    res = run_job(_py(code, wall_s=60), GV)
    assert res.ok, res.stderr
    assert res.stdout.split() == ["thread", "6"]


@needs_runsc
def test_runsc_failures_are_sandbox_errors_and_the_job_cannot_fake_one() -> None:
    with pytest.raises(SandboxError) as err:
        run_job(Job(argv=["no-such-command-xyz"]), GV)
    assert "no-such-command-xyz" in err.value.message
    fake = run_job(
        Job(argv=["sh", "-c", "echo 'running container: starting container: x' >&2; exit 128"]), GV
    )
    assert fake.exit_code == 128 and "running container" in fake.stderr


@needs_runsc
def test_without_a_memory_cgroup_the_cap_is_rlimit_as(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gvisor, "_memory_parent", lambda: None)
    box = gvisor.GVisorSandbox(1)
    hog = box.run(_py("x = bytearray(3 << 30); print('allocated')", memory_mb=256))
    assert hog.killed == "memory" and "allocated" not in hog.stdout, hog.stderr[-300:]
    fine = box.run(_py("import numpy; print(numpy.zeros(10 << 20).nbytes)", memory_mb=512))
    assert fine.ok and fine.stdout.strip() == str(80 << 20), fine.stderr[-300:]


@needs_runsc
def test_host_sees_the_sentry_and_its_stubs_as_an_unprivileged_user() -> None:
    """From the host's side: the Sentry (gVisor's kernel) and the ptrace stubs that run the job's code
    belong to a non-root host user; only runsc and its Gofer (the file server) stay root."""
    got: dict[str, object] = {}
    worker = threading.Thread(target=lambda: got.update(res=run_job(Job(argv=["sleep", "3"]), GV)))
    worker.start()
    mark = f"veriloop-gvisor-{os.getpid()}-".encode()
    uids: dict[int, int] = {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(uids) < 2:
        time.sleep(0.2)
        sentries = set()
        for pid in filter(str.isdigit, os.listdir("/proc")):
            with contextlib.suppress(OSError):
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                if mark in cmd and b"\0boot\0" in cmd:
                    sentries.add(pid)
        for pid in filter(str.isdigit, os.listdir("/proc")):
            with contextlib.suppress(OSError, IndexError):
                status = Path(f"/proc/{pid}/status").read_text()
                ppid = status.split("PPid:")[1].split()[0]
                if pid in sentries or ppid in sentries:
                    uids[int(pid)] = int(status.split("Uid:")[1].split()[1])
    worker.join()
    assert len(uids) >= 2, "found no Sentry with a stub"  # the Sentry and at least one stub
    assert 0 not in uids.values(), uids
