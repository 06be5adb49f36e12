"""Warm sandboxed workers: same results as per-candidate sandboxes, and no candidate can reach a later one."""

from __future__ import annotations

from pathlib import Path

import pytest

from veriloop.evolve.evaluate import evaluate_code
from veriloop.evolve.problem import Problem, load_problem
from veriloop.evolve.workers import WarmPool
from veriloop.sandbox import describe

from .helpers_evolve import copy_problem

pytestmark = pytest.mark.skipif(describe().mode != "local", reason="warm workers need the bwrap sandbox")

GOOD = -((2.0 - 3.7) ** 2)


def _inject(p: Problem, body: str) -> str:
    return p.initial_code.replace(
        "def choose():\n", "def choose():\n    " + body.replace("\n", "\n    ") + "\n"
    )


@pytest.fixture
def problem(tmp_path: Path) -> Problem:
    return load_problem(copy_problem(tmp_path))


def test_warm_matches_per_candidate(problem: Problem) -> None:
    pool = WarmPool(problem, 1)
    try:
        for code in (
            problem.initial_code,
            problem.initial_code.replace("b = 0.5", "b = 1.35"),
            _inject(problem, "raise ValueError('boom')"),
            _inject(problem, "print('noise'); import sys; print('err', file=sys.stderr)"),
        ):
            warm, cold = pool.evaluate(code), evaluate_code(problem, code)
            assert warm.model_dump(exclude={"timings"}) == cold.model_dump(exclude={"timings"})
        assert pool.stats.started == 1 and pool.stats.recycled == 0
    finally:
        pool.close()


def test_candidates_cannot_tamper_with_later_ones(problem: Problem, tmp_path: Path) -> None:
    """Each attack runs, then an honest candidate in the same pool must see a pristine sandbox."""
    probe = _inject(
        problem,
        "import os, glob\n"
        "left = glob.glob('/tmp/*planted*') + glob.glob('/dev/shm/*') + glob.glob('/job/planted*')\n"
        "mine = (1, os.getpid(), os.getppid())\n"
        "procs = [d for d in os.listdir('/proc') if d.isdigit() and int(d) not in mine]\n"
        "assert not left and not procs and oct(os.stat('/job').st_mode)[-3:] == '755', (left, procs)",
    )
    attacks = {
        "files": "open('/tmp/planted', 'w').write('x'); open('/dev/shm/planted', 'w').write('x')\n"
        "open('/job/planted', 'w').write('x')",
        "locked_dir": "import os; os.makedirs('/tmp/planted_d/sub'); os.chmod('/tmp/planted_d', 0)",
        "orphan": "import os, time\nif os.fork() == 0:\n    os.setsid(); time.sleep(300)",
        "chmod_job": "import os; os.chmod('/job', 0o700)",
        "remount": "import subprocess\nsubprocess.run(['mount', '-o', 'remount,bind,rw', '/usr'])\n"
        "open('/usr/planted', 'w')",
        "ptrace": "import os; open(f'/proc/{os.getppid()}/mem', 'rb')",
        # every ancestor below the sandbox's init: the harness child and the zygote (in proxy mode
        # the candidate's own parent is the harness child, not the zygote)
        "kill_zygote": "import os, signal\npid = os.getppid()\nwhile pid > 1:\n"
        "    nxt = int(open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[1])\n"
        "    os.kill(pid, signal.SIGKILL)\n    pid = nxt",
    }
    pool = WarmPool(problem, 1)
    try:
        for name, body in attacks.items():
            attacked = pool.evaluate(_inject(problem, body), stage_timeouts=[5.0])
            if name in ("remount", "ptrace"):
                assert attacked.fault == "exception", (name, attacked)
                detail = attacked.artifacts.get("evaluate_stage1_error", "")
                assert "Read-only file system" in detail or "Permission denied" in detail, (name, detail)
            after = pool.evaluate(probe)
            assert after.ok, (name, after.error, after.artifacts)
            assert pool.evaluate(problem.initial_code).combined_score == pytest.approx(GOOD)
        assert not Path("/usr/planted").exists()
        assert pool.stats.lost <= 1  # the killed zygote (none where the zygote is the sandbox's pid 1)
        assert pool.stats.recycle_reasons.get("processes left behind", 0) >= 1
    finally:
        pool.close()


def test_worker_is_recycled_after_max_uses(problem: Problem) -> None:
    pool = WarmPool(problem, 1, max_uses=3)
    try:
        scores = [pool.evaluate(problem.initial_code).combined_score for _ in range(3)]  # 2 stages each
        assert scores == [pytest.approx(GOOD)] * 3
        assert pool.stats.recycle_reasons == {"max_uses": 2} and pool.stats.started == 2
    finally:
        pool.close()
