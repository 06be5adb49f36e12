"""How a problem travels to Ray nodes: no links out or caches, unpacked readable, paths mapped back."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from veriloop.evolve.evaluate import EvalOutcome
from veriloop.evolve.executors.ray_executor import _map_paths, pack_problem, unpack_problem
from veriloop.evolve.problem import load_problem

from .helpers_evolve import copy_problem


def test_pack_and_unpack(tmp_path: Path) -> None:
    problem_dir = copy_problem(tmp_path)
    (problem_dir / "data").mkdir()
    (problem_dir / "data" / "table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (problem_dir / "__pycache__").mkdir(exist_ok=True)
    (problem_dir / "__pycache__" / "x.pyc").write_bytes(b"\0")
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret", encoding="utf-8")
    os.symlink(secret, problem_dir / "leak.txt")  # a link out of the directory is not packed
    os.symlink("data/table.csv", problem_dir / "alias.csv")  # a link inside is packed as its content
    problem = load_problem(problem_dir)

    blob = pack_problem(problem)
    assert blob == pack_problem(problem)  # reproducible: one digest per problem version
    digest = hashlib.sha256(blob).hexdigest()
    cache = tmp_path / "node-cache"
    local = unpack_problem(blob, digest, "maxfn", base=cache)
    assert local == cache / digest[:32] / "maxfn"
    files = sorted(str(p.relative_to(local)) for p in local.rglob("*") if p.is_file())
    assert files == sorted(
        ["alias.csv", "data/table.csv", "evaluator.py", "initial_program.py", "problem.toml"]
    )
    assert (local / "alias.csv").read_text() == "a,b\n1,2\n"
    assert b"host secret" not in blob
    for p in [local, *local.rglob("*")]:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o755 if p.is_dir() else 0o644), p  # readable by the sandbox's user
    # a second task on the same node reuses the copy
    assert unpack_problem(blob, digest, "maxfn", base=cache) == local
    assert [p.name for p in cache.iterdir()] == [digest[:32]]


def test_node_paths_are_reported_as_the_drivers() -> None:
    out = EvalOutcome(
        error='File "/node/cache/ab/maxfn/evaluator.py", line 3',
        artifacts={"evaluate_stage1_error": 'File "/node/cache/ab/maxfn/evaluator.py"'},
    )
    mapped = _map_paths(out, "/node/cache/ab/maxfn", "/home/me/maxfn")
    assert mapped.error == 'File "/home/me/maxfn/evaluator.py", line 3'
    assert mapped.artifacts["evaluate_stage1_error"] == 'File "/home/me/maxfn/evaluator.py"'
