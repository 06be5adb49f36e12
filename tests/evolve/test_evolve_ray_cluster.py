"""--executor ray on a real two-node Ray cluster whose worker node cannot see the problem directory.

The head has no CPUs, so every evaluation runs on a worker node started in its own mount namespace
with an empty tmpfs over the problem's parent directory: the problem's files reach it only through
Ray's object store. The driver is the real CLI (`veriloop evolve --executor ray --address ...`).
A worker node killed mid-run loses no candidate: Ray re-runs its tasks on a replacement node, and
the database still equals the local executor's.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from veriloop.config import load_settings
from veriloop.evolve.controller import EvolveOptions, run_evolution

from .helpers_evolve import copy_problem, db_rows
from .ray_cluster import LocalCluster, can_unshare

pytest.importorskip("ray")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not can_unshare(), reason="needs root and unshare(1) for a node in its own mount namespace"
    ),
]

VERILOOP = str(Path(sys.executable).with_name("veriloop"))
DRIVER_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def hidden(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The parent of the problem copies: visible to the driver, an empty tmpfs on the worker nodes."""
    return tmp_path_factory.mktemp("driver-only")


@pytest.fixture(scope="module")
def cluster(hidden: Path) -> Iterator[LocalCluster]:
    c = LocalCluster(hidden)
    try:
        c.start_head()
        c.start_worker("w1")
        c.wait_nodes(2)
        yield c
    finally:
        c.stop()
        assert c.leftover() == [], "Ray processes of the test cluster survived"


def _driver(
    cluster: LocalCluster, problem: Path, data: Path, iterations: int, seed: int
) -> subprocess.Popen[str]:
    env = cluster.env | {"VERILOOP_DATA_DIR": str(data)}
    argv = [
        VERILOOP,
        "evolve",
        str(problem),
        "--iterations",
        str(iterations),
        "--seed",
        str(seed),
        "--eval-workers",
        "2",
        "--executor",
        "ray",
        "--address",
        cluster.address,
        "--json",
    ]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _summary(proc: subprocess.Popen[str]) -> dict:
    out, err = proc.communicate(timeout=DRIVER_TIMEOUT_S)
    assert proc.returncode == 0, err[-3000:]
    # Ray's driver prints task-retry notices ("(raylet) Task ... failed ... will be retried") on
    # stdout from a thread of its own; the summary is the JSON object that starts a line.
    start = 0 if out.startswith("{") else out.index("\n{") + 1
    return json.loads(out[start:])  # type: ignore[no-any-return]


def _node_sees(cluster: LocalCluster, name: str, path: Path) -> list[str]:
    """What the node's processes see at `path` (through /proc/PID/root, in their mount namespace)."""
    return sorted(os.listdir(f"/proc/{cluster.procs[name].pid}/root{path}"))


def test_cluster_run_equals_local(cluster: LocalCluster, hidden: Path, tmp_path: Path) -> None:
    problem = copy_problem(hidden / "equal")
    assert _node_sees(cluster, "w1", hidden) == [] and os.listdir(hidden) == ["equal"]
    local = run_evolution(problem, load_settings(), EvolveOptions(iterations=10, seed=11, eval_workers=2))
    remote = _summary(_driver(cluster, problem, tmp_path / "driver-data", 10, 11))
    assert remote["status"] == "done" and remote["iterations_done"] == 11
    assert remote["stats"]["executor"]["lost"] == 0
    assert db_rows(Path(local.run_dir) / "programs.sqlite") == db_rows(
        Path(remote["run_dir"]) / "programs.sqlite"
    )
    assert remote["best_score"] == local.best_score
    # the node evaluated its own unpacked copy (the node cache is outside the hidden directory)
    copies = list((cluster.node_cache).glob("*/maxfn/evaluator.py"))
    assert copies and copies[0].read_text() == (problem / "evaluator.py").read_text()


GRADE_BOTH = """
import asyncio, json, sys
from veriloop.bench.grade import grade_design
from veriloop.bench.ray_grading import RayGrader
from veriloop.bench.suites import load_suite

problems = load_suite("builtin").problems[:3]
cases = []
for p in problems:
    cases += [(p, p.golden), (p, p.golden.replace("endmodule", "", 1)), (p, p.golden.replace(";", "", 3))]
grader = RayGrader(sys.argv[1], 2)

async def main():
    return await asyncio.gather(*(grader.grade(p, code, 30.0) for p, code in cases))

remote = asyncio.run(main())
grader.close()
local = [grade_design(p, code, 30.0) for p, code in cases]
print(json.dumps([[(g.passed, g.category, g.mismatches) for g in gs] for gs in (local, remote)]))
"""


def test_bench_grades_on_the_cluster_like_locally(cluster: LocalCluster, tmp_path: Path) -> None:
    """`bench run --executor ray` grades on the worker node; the verdicts equal local grading."""
    env = cluster.env | {"VERILOOP_DATA_DIR": str(tmp_path / "bench-data")}
    out = subprocess.run(
        [sys.executable, "-c", GRADE_BOTH, cluster.address],
        env=env,
        capture_output=True,
        text=True,
        timeout=DRIVER_TIMEOUT_S,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    local, remote = json.loads(out.stdout.strip().splitlines()[-1])
    assert remote == local
    assert {c for _, c, _ in local} >= {"pass", "syntax"}
    argv = [
        VERILOOP,
        "bench",
        "run",
        "--suite",
        "builtin",
        "--backend",
        "reference",
        "--limit",
        "3",
        "--json",
    ]
    runs = []
    for extra in ([], ["--executor", "ray", "--address", cluster.address]):
        res = subprocess.run(argv + extra, env=env, capture_output=True, text=True, timeout=DRIVER_TIMEOUT_S)
        assert res.returncode == 0, res.stderr[-3000:]
        report = json.loads(res.stdout[res.stdout.index("{") :])
        assert report["spec"]["executor"] == ("ray" if extra else "local")
        runs.append([(g["backend"], g["categories"], g["per_problem"]) for g in report["groups"]])
    assert runs[0] == runs[1] and runs[0][0][1] == {"pass": 3}
    # the evolve suite: each campaign's evaluations run on the cluster; the same best scores
    argv = [
        VERILOOP,
        "bench",
        "run",
        "--suite",
        "evolve",
        "--backend",
        "offline",
        "--problems",
        "txn_scheduling",
    ]
    scores = []
    for extra in ([], ["--executor", "ray", "--address", cluster.address]):
        res = subprocess.run(
            [*argv, "--evolve-budget", "4", "--json", *extra],
            env=env,
            capture_output=True,
            text=True,
            timeout=DRIVER_TIMEOUT_S,
        )
        assert res.returncode == 0, res.stderr[-3000:]
        report = json.loads(res.stdout[res.stdout.index("{") :])
        scores.append([(e["problem"], e["score"], e["calls"]) for e in report["evolve"]])
    assert scores[0] == scores[1] and scores[0][0][1] is not None
    assert list(cluster.node_cache.glob("*/txn_scheduling/evaluator.py"))  # evaluated on the node


SLOW_STAGE2 = """

import time as _time

_fast_stage2 = evaluate_stage2


def evaluate_stage2(program_path):
    _time.sleep(0.6)
    return _fast_stage2(program_path)
"""


def _recorded(data: Path) -> int:
    dbs = list(data.glob("runs/*/programs.sqlite"))
    if not dbs:
        return 0
    try:
        conn = sqlite3.connect(dbs[0], timeout=5)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM iterations").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def test_killed_worker_node_loses_no_candidate(cluster: LocalCluster, hidden: Path, tmp_path: Path) -> None:
    problem = copy_problem(hidden / "slow")
    with (problem / "evaluator.py").open("a", encoding="utf-8") as f:
        f.write(SLOW_STAGE2)
    iterations = 14
    data = tmp_path / "driver-data"
    driver = _driver(cluster, problem, data, iterations, 5)
    try:
        deadline = time.monotonic() + DRIVER_TIMEOUT_S
        while _recorded(data) < 5 and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        killed_at = _recorded(data)
        print(f"killing w1 with {killed_at} of {iterations + 1} iterations recorded")
        assert driver.poll() is None and killed_at < iterations + 1, "the run ended before the kill"
        cluster.kill("w1")  # SIGKILL: raylet, its workers and the evaluation in flight
        cluster.start_worker("w2")
        summary = _summary(driver)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    assert summary["status"] == "done" and summary["iterations_done"] == iterations + 1
    rows = db_rows(Path(summary["run_dir"]) / "programs.sqlite")
    assert [r[0] for r in rows["iterations"]] == list(range(iterations + 1))
    lost = summary["stats"]["executor"]["lost"]
    # Ray's spent re-runs are recorded as faults, not dropped. (The database need not equal the
    # local run's here: a stage cut short by the kill may be recorded as that candidate's fault,
    # after which the search goes another way. Equality without a kill is the test above.)
    assert sum(1 for r in rows["iterations"] if r[2] == "lost") == lost
    assert all(r[1] for r in rows["iterations"]), "every iteration has an outcome"
    assert {r[0] for r in rows["programs"]} >= {r[3] for r in rows["iterations"] if r[3]}
