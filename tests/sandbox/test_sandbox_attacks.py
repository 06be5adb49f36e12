"""Issue 12 attacks on the sandbox: host identity, kernel tunables, syscalls, control channel,
state left for the next job, unbounded writes and trees that crash cleanup. Each class has variants
through one-off jobs and warm staged jobs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from veriloop.config import SandboxConfig
from veriloop.sandbox import Job, Limits, StagedJob, Step, describe, run_job, warm
from veriloop.sandbox.inside import remove
from veriloop.sandbox.staged import StepPool

PY = sys.executable
LOCAL = SandboxConfig(backend="local")
RLIMITS = SandboxConfig(backend="rlimits")

pytestmark = pytest.mark.skipif(
    not (describe(LOCAL).contained and warm.available()), reason="bubblewrap cannot run here"
)
X86 = os.uname().machine == "x86_64"


def _one(code: str, **limits: float) -> tuple[int | None, str, str]:
    res = run_job(Job(argv=[PY, "-c", textwrap.dedent(code)], limits=Limits(**limits)), LOCAL)  # type: ignore[arg-type]
    return res.exit_code, res.stdout, res.stderr


def _warm(pool: StepPool, code: str, wall_s: float = 20.0) -> tuple[int | None, str, str]:
    res = pool.run(StagedJob(steps=[Step(argv=[PY, "-c", textwrap.dedent(code)], wall_s=wall_s)]))[-1]
    return res.exit_code, res.stdout, res.stderr


# --- 1. the job holds no host-privileged identity -------------------------------------------------

IDENTITY = """
import os
st = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines() if ':' in l)
print(st['Uid'].split()[0], st['CapEff'].strip(), st['CapBnd'].strip(), st['NoNewPrivs'].strip(),
      st['Seccomp'].strip())
"""


def test_job_runs_as_unprivileged_host_uid_without_caps() -> None:
    code, out, err = _one(IDENTITY)
    assert code == 0, err
    uid, eff, bnd, nnp, seccomp = out.split()
    assert int(uid) != 0
    assert eff == bnd == "0000000000000000"
    assert nnp == "1" and seccomp == "2"


def test_warm_job_runs_as_unprivileged_host_uid_without_caps(pool: StepPool) -> None:
    code, out, err = _warm(pool, IDENTITY)
    assert code == 0, err
    uid, eff, _bnd, nnp, seccomp = out.split()
    assert int(uid) != 0 and eff == "0000000000000000" and nnp == "1" and seccomp == "2"


def test_host_sees_the_job_as_an_unprivileged_user() -> None:
    """From the host's side: every process of a running job belongs to a non-root host user."""
    import threading

    got: dict[str, object] = {}

    def job() -> None:
        got["res"] = run_job(
            Job(argv=["sh", "-c", "readlink /proc/self/ns/pid; sleep 3"], limits=Limits(wall_s=20)), LOCAL
        )

    worker = threading.Thread(target=job)
    worker.start()
    uids: set[int] = set()
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not uids:
        time.sleep(0.2)
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            if cmd == b"sleep\x003\x00":
                uids.add(int(status.split("Uid:")[1].split()[1]))
    worker.join()
    assert uids and 0 not in uids


SYSCTL_WRITES = {  # each with a value the kernel would accept, so only a permission can refuse it
    "/proc/sys/kernel/core_pattern": "|/job/evil.sh %p",
    "/proc/sys/fs/lease-break-time": "45",
    "/proc/sys/kernel/hostname": "pwned",
    "/proc/sys/net/ipv4/ip_forward": "0",
    "/proc/sys/vm/swappiness": "60",
    "/proc/sysrq-trigger": "h",
    "/proc/self/coredump_filter": "0x33",
}


@pytest.mark.parametrize("target", sorted(SYSCTL_WRITES))
def test_kernel_tunables_cannot_be_written(target: str) -> None:
    before = Path(target).read_text() if target.startswith("/proc/sys/") else None
    code, out, _err = _one(
        f"""
        try:
            with open({target!r}, 'w') as fh:
                fh.write({SYSCTL_WRITES[target]!r})
            print('WROTE')
        except OSError as exc:
            print('DENIED', exc.errno)
        """
    )
    assert "WROTE" not in out
    assert out.split()[:2] in (["DENIED", "1"], ["DENIED", "2"], ["DENIED", "13"], ["DENIED", "30"]), out
    if before is not None:
        assert Path(target).read_text() == before


def test_core_dump_escape_through_a_graded_verilog_design_fails() -> None:
    """The reported attack: a Verilog design writes core_pattern with $fopen, then dumps core."""
    before = Path("/proc/sys/kernel/core_pattern").read_text()
    design = textwrap.dedent(
        """
        module tb;
          integer fd;
          initial begin
            fd = $fopen("/proc/sys/kernel/core_pattern", "w");
            $display("fd=%0d", fd);
            if (fd != 0) begin $fwrite(fd, "|/job/pwn.sh"); $fclose(fd); end
            $finish;
          end
        endmodule
        """
    )
    res = run_job(
        Job(
            argv=["sh", "-c", "iverilog -o a.out tb.v && vvp -n a.out; head -c 300000000 /dev/zero > big"],
            files={"tb.v": design, "pwn.sh": "#!/bin/sh\ntouch /tmp/veriloop-pwned\n"},
            limits=Limits(wall_s=30, file_size_mb=1),
        ),
        LOCAL,
    )
    assert "fd=0" in res.stdout, res.stdout + res.stderr
    assert Path("/proc/sys/kernel/core_pattern").read_text() == before
    assert not Path("/tmp/veriloop-pwned").exists()


SYSCALLS_X86_64 = {
    "mount": (165, (0, 0, 0, 0, 0)),
    "unshare": (272, (0x10000000,)),
    "setns": (308, (0, 0)),
    "keyctl": (250, (0, 0, 0, 0)),
    "add_key": (248, (0, 0, 0, 0, 0)),
    "ptrace": (101, (16, 1, 0, 0)),
    "process_vm_readv": (310, (1, 0, 0, 0, 0, 0)),
    "bpf": (321, (0, 0, 0)),
    "perf_event_open": (298, (0, 0, -1, -1, 0)),
    "userfaultfd": (323, (0,)),
    "mq_open": (240, (0, 0, 0, 0)),
    "pidfd_getfd": (438, (0, 0, 0)),
    "sethostname": (170, (0, 0)),
    "init_module": (175, (0, 0, 0)),
    "io_uring_setup": (425, (1, 0)),
    "kexec_load": (246, (0, 0, 0, 0)),
    "open_by_handle_at": (304, (0, 0, 0)),
}


@pytest.mark.skipif(not X86, reason="syscall numbers are x86-64's")
@pytest.mark.parametrize("name", sorted(SYSCALLS_X86_64))
def test_seccomp_denies_what_no_tool_needs(name: str) -> None:
    nr, args = SYSCALLS_X86_64[name]
    code, out, err = _one(
        f"""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        rc = libc.syscall({nr}, *[ctypes.c_long(a) for a in {args!r}])
        print(rc, ctypes.get_errno())
        """
    )
    assert code == 0, err
    rc, errno_ = (int(x) for x in out.split())
    assert rc == -1 and errno_ == 1, f"{name}: rc={rc} errno={errno_}"


def test_new_namespaces_through_clone_flags_are_denied() -> None:
    code, out, err = _one(
        """
        import os, ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        print(libc.unshare(0x10000000), ctypes.get_errno())   # CLONE_NEWUSER
        print(libc.unshare(0x00020000), ctypes.get_errno())   # CLONE_NEWNS
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        print('fork ok')
        """
    )
    assert code == 0, err
    lines = out.split("\n")
    assert lines[0].split()[0] == "-1" and lines[1].split()[0] == "-1"
    assert "fork ok" in out


def test_unshare_command_cannot_make_a_user_namespace() -> None:
    res = run_job(Job(argv=["unshare", "--user", "--map-root-user", "id"], limits=Limits(wall_s=10)), LOCAL)
    assert res.exit_code != 0
    assert "uid=0" not in res.stdout


# --- 2. nothing a job can open holds the host's end of a pipe -----------------------------------

FD_WALK = """
import os, glob
me = os.getpid()
usable = []
for path in glob.glob('/proc/[0-9]*/fd/*') + glob.glob('/proc/[0-9]*/task/*/fd/*'):
    pid = int(path.split('/')[2])
    if pid == me:
        continue
    for mode in (os.O_RDONLY | os.O_NONBLOCK, os.O_WRONLY | os.O_NONBLOCK):
        try:
            fd = os.open(path, mode)
        except OSError:
            continue
        usable.append(path)
        os.close(fd)
readable_mem = []
for path in glob.glob('/proc/[0-9]*/mem') + glob.glob('/proc/[0-9]*/environ'):
    if int(path.split('/')[2]) == me:
        continue
    try:
        with open(path, 'rb') as fh:
            fh.read(1)
        readable_mem.append(path)
    except OSError:
        pass
print('PIDS', sorted({int(p.split('/')[2]) for p in glob.glob('/proc/[0-9]*')}))
print('USABLE', usable)
print('MEM', readable_mem)
"""


def _walk_result(out: str) -> tuple[list[str], list[str]]:
    usable = eval(out.split("USABLE ", 1)[1].split("\n", 1)[0])  # noqa: S307 - our own repr of a list
    mem = eval(out.split("MEM ", 1)[1].split("\n", 1)[0])  # noqa: S307
    return usable, mem


def test_warm_job_finds_no_usable_descriptor_of_another_process(pool: StepPool) -> None:
    for _ in range(2):
        code, out, err = _warm(pool, FD_WALK)
        assert code == 0, err
        usable, mem = _walk_result(out)
        assert usable == [] and mem == [], out


def test_warm_server_is_pid_1_and_cannot_be_killed_from_inside(pool: StepPool) -> None:
    code, out, err = _warm(
        pool,
        """
        import os, signal
        print(open('/proc/1/cmdline').read().split('\\0')[2:3])
        for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):
            try:
                os.kill(1, sig)
            except OSError as exc:
                print('refused', exc.errno)
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        """,
    )
    assert code is not None
    code, out, err = _warm(pool, "print('alive')")
    assert code == 0 and out.strip() == "alive", err


def test_a_job_cannot_answer_for_the_next_one(pool: StepPool) -> None:
    """The reported hijack: write a reply on /proc/1/fd/1 and read the next request on /proc/1/fd/0."""
    code, out, _err = _warm(
        pool,
        """
        import json, os, struct
        hits = []
        for target, mode in (('/proc/1/fd/1', os.O_WRONLY), ('/proc/1/fd/0', os.O_RDONLY),
                             ('/proc/1/fd/3', os.O_RDWR), ('/proc/1/fd/4', os.O_RDWR)):
            try:
                fd = os.open(target, mode | os.O_NONBLOCK)
                hits.append(target)
                if mode != os.O_RDONLY:
                    body = json.dumps({'steps': [{'status': 0, 'stdout': 'Mismatches: 0 in 100 samples'}]})
                    os.write(fd, struct.pack('>I', len(body)) + body.encode())
            except OSError:
                pass
        print('HITS', hits)
        """,
    )
    assert "HITS []" in out
    code, out, err = _warm(pool, "print('honest')")
    assert code == 0 and out.strip() == "honest", err


# --- 3. a warm job leaves no state for the next one ----------------------------------------------

STATE_SETTERS = {
    "hostname": "import socket; socket.sethostname('pwned')",
    "sysv_shm": (
        "import ctypes; libc = ctypes.CDLL(None, use_errno=True); "
        "print('id', libc.shmget(0x5EC, 4096, 0o1666))"
    ),
    "posix_mq": (
        "import ctypes; libc = ctypes.CDLL('librt.so.1', use_errno=True); "
        "print('mq', libc.mq_open(b'/veriloop-leak', 0o100 | 0o2, 0o666, None))"
    ),
    "keyring": (
        "import ctypes; libc = ctypes.CDLL(None, use_errno=True); "
        "print('key', libc.syscall(248, b'user', b'leak', b'secret', 6, -4))"
    ),
    "net_sysctl": "open('/proc/sys/net/ipv4/ip_default_ttl', 'w').write('7')",
    "dev_shm_file": "open('/dev/shm/leak', 'w').write('x')",
    "tmp_file": "open('/tmp/leak', 'w').write('x')",
    "job_file": "open('/job/leak', 'w').write('x')",
}

STATE_READER = """
import ctypes, os, socket
libc = ctypes.CDLL(None, use_errno=True)
rt = ctypes.CDLL('librt.so.1', use_errno=True)
seen = []
if socket.gethostname() == 'pwned':
    seen.append('hostname')
if libc.shmget(0x5EC, 0, 0) != -1:
    seen.append('sysv_shm')
if rt.mq_open(b'/veriloop-leak', 0) != -1:
    seen.append('posix_mq')
if open('/proc/sys/net/ipv4/ip_default_ttl').read().strip() == '7':
    seen.append('net_sysctl')
for name, path in (('dev_shm_file', '/dev/shm/leak'), ('tmp_file', '/tmp/leak'),
                   ('job_file', '/job/leak')):
    if os.path.exists(path):
        seen.append(name)
keys = open('/proc/keys').read() if os.path.exists('/proc/keys') else ''
if 'leak' in keys:
    seen.append('keyring')
print('SEEN', seen)
"""


@pytest.mark.parametrize("kind", sorted(STATE_SETTERS))
def test_state_set_by_one_warm_job_is_not_seen_by_the_next(pool: StepPool, kind: str) -> None:
    pool.run(StagedJob(steps=[Step(argv=[PY, "-c", STATE_SETTERS[kind]], wall_s=10)]))
    code, out, err = _warm(pool, STATE_READER)
    assert code == 0, err
    assert "SEEN []" in out, out


# --- 4. every writable place is capped --------------------------------------------------------------


@pytest.mark.parametrize("place", ["/dev/shm", "/tmp", "/job"])
def test_writes_stop_at_the_cap(place: str) -> None:
    code, out, err = _one(
        f"""
        import errno
        written = 0
        try:
            with open({place!r} + '/fill', 'wb') as fh:
                for _ in range(2000):
                    fh.write(b'x' * (1 << 20))
                    fh.flush()
                    written += 1
        except OSError as exc:
            print('STOPPED', exc.errno, written)
        """,
        wall_s=60,
        memory_mb=256,
        disk_mb=64,
        file_size_mb=4000,
    )
    assert "STOPPED" in out, out + err
    written = int(out.split()[-1])
    assert written <= 64


def test_many_files_in_the_job_dir_stop_at_the_cap(pool: StepPool) -> None:
    code, out, err = _warm(
        pool,
        """
        n = 0
        try:
            for i in range(4000):
                with open(f'/job/f{i}', 'wb') as fh:
                    fh.write(b'x' * (1 << 20))
                n += 1
        except OSError as exc:
            print('STOPPED', exc.errno, n)
        """,
        wall_s=60,
    )
    assert "STOPPED 28" in out, out + err
    assert int(out.split()[-1]) <= 512
    code, out, err = _warm(pool, "import os; print(len(os.listdir('/job')))")
    assert out.strip() == "0", out + err


# --- 5. nothing a job leaves behind crashes or hangs veriloop -----------------------------------------

DEEP_TREE = """
import os
os.chdir('/job')
for i in range(5000):
    os.mkdir('d')
    os.chdir('d')
open('leaf', 'w').write('x')
os.chmod('.', 0o500)
print('made')
"""


def test_deep_tree_from_a_one_off_job() -> None:
    code, out, err = _one(DEEP_TREE, wall_s=60)
    assert code == 0 and "made" in out, err


def test_deep_tree_in_a_warm_job_then_a_clean_next_job(pool: StepPool) -> None:
    code, out, err = _warm(pool, DEEP_TREE, wall_s=60)
    assert code == 0 and "made" in out, err
    code, out, err = _warm(pool, "import os; print(os.listdir('/job'))")
    assert code == 0 and out.strip() == "[]", err


def test_deep_tree_in_the_rlimits_backend_is_removed() -> None:
    res = run_job(Job(argv=[PY, "-c", DEEP_TREE.replace("/job", ".")], limits=Limits(wall_s=60)), RLIMITS)
    assert res.exit_code == 0, res.stderr


def test_remove_handles_deep_trees_links_and_modes(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    fd = os.open(root, os.O_RDONLY)
    for _ in range(6000):
        os.mkdir("d", dir_fd=fd)
        nxt = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nxt
    os.fchmod(fd, 0o000)
    os.close(fd)
    (root / "link").symlink_to("/etc")
    outside = tmp_path / "keep"
    outside.write_text("keep")
    (root / "to_outside").symlink_to(outside)
    os.mkfifo(root / "fifo")
    assert remove(str(root)) is True
    assert not root.exists() and outside.read_text() == "keep"
    assert Path("/etc/passwd").exists()


def test_sandbox_exec_cli_with_a_deep_tree_prints_no_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(Path(PY).parent / "veriloop"), "sandbox", "exec", "--timeout", "60", "--", PY, "-c", DEEP_TREE],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert "Traceback" not in done.stderr
    assert done.returncode == 0, done.stderr


def test_collect_takes_only_regular_files_at_requested_names() -> None:
    res = run_job(
        Job(
            argv=[
                "sh",
                "-c",
                "echo ok > good; ln -s /etc/passwd link; mkfifo fifo; mkdir -p sub; "
                "ln -s /etc sub2; echo x > sub/f; head -c 3000000 /dev/zero > big",
            ],
            collect=["good", "link", "fifo", "sub2/passwd", "sub/f", "big", "missing"],
            limits=Limits(wall_s=20, file_size_mb=1),
        ),
        LOCAL,
    )
    assert set(res.files) == {"good", "sub/f", "big"}
    assert res.files["good"] == b"ok\n" and len(res.files["big"]) <= 1 << 20


def test_a_problem_dir_under_a_private_parent_is_visible_to_the_job_only(tmp_path: Path) -> None:
    """A 0700 parent keeps the sandbox user out; the job gets a copy that other users cannot read."""
    private = tmp_path / "private"
    (private / "prob").mkdir(parents=True)
    private.chmod(0o700)
    (private / "prob" / "data.txt").write_text("payload")
    (private / "prob" / "link").symlink_to("/etc/hostname")
    res = run_job(
        Job(
            argv=["sh", "-c", f"cat {private}/prob/data.txt; echo; ls {private}/prob"],
            ro_paths=[str(private / "prob")],
            limits=Limits(wall_s=10),
        ),
        LOCAL,
    )
    assert res.ok, res.stderr
    assert res.stdout.split() == ["payload", "data.txt"]
    if os.geteuid() == 0:
        from veriloop.sandbox.bwrap import readable_path

        copy = Path(readable_path(str(private / "prob")))
        assert copy != private / "prob"
        assert copy.parent.stat().st_mode & 0o077 == 0


def test_warm_collect_follows_no_link_and_never_blocks(pool: StepPool) -> None:
    script = (
        "import os\n"
        "open('good', 'w').write('ok')\n"
        "os.symlink('/etc', 'etc_link')\n"
        "os.symlink('/etc/passwd', 'passwd_link')\n"
        "os.mkfifo('fifo')\n"
        "os.mkdir('d'); os.symlink('/etc/hostname', 'd/h')\n"
    )
    res = pool.run(
        StagedJob(
            steps=[Step(argv=[PY, "-c", script], wall_s=10)],
            collect=["good", "etc_link/passwd", "passwd_link", "fifo", "d/h", "../etc/passwd"],
        )
    )[-1]
    assert res.ok, res.stderr
    assert res.files == {"good": b"ok"}


def test_rlimits_fallback_never_runs_a_job_as_root() -> None:
    res = run_job(
        Job(argv=["sh", "-c", "id -u; echo x > out.txt; cat in.txt"], files={"in.txt": "in"},
            collect=["out.txt"], limits=Limits(wall_s=10)),
        RLIMITS,
    )
    assert res.ok, res.stderr
    uid, content = res.stdout.split()
    assert content == "in" and res.files["out.txt"] == b"x\n"
    if os.geteuid() == 0:
        assert uid != "0"


def test_concurrent_removals_under_one_parent_do_not_collide(tmp_path: Path) -> None:
    import threading

    roots = []
    for i in range(6):
        root = tmp_path / f"job{i}"
        for j in range(30):
            (root / f"a{j}" / "b" / "c").mkdir(parents=True)
            (root / f"a{j}" / "b" / "c" / "f").write_text("x")
        roots.append(root)
    results: list[bool] = []
    threads = [threading.Thread(target=lambda r=r: results.append(remove(str(r)))) for r in roots]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 6
    assert list(tmp_path.iterdir()) == []
