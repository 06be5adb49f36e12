"""Evolution problems as a bench suite: the built-in problems, or OpenEvolve-style dirs from a path."""

from __future__ import annotations

from pathlib import Path

from veriloop.bench.problem import BenchProblem, Suite
from veriloop.errors import InputError


def _is_problem(d: Path) -> bool:
    return d.is_dir() and (d / "evaluator.py").is_file() and any(d.glob("initial_program.*"))


def problem_dirs(path: Path | None) -> list[Path]:
    """The built-in problems (no path), the path itself if it is a problem, or its problem subdirs."""
    if path is None:
        from veriloop.problems import list_problems

        return [info.path for info in list_problems()]
    p = path.expanduser()
    if not p.is_dir():
        raise InputError(f"Evolve suite path {p} is not a directory.")
    if _is_problem(p):
        return [p]
    dirs = sorted(d for d in p.iterdir() if _is_problem(d))
    if not dirs:
        raise InputError(f"{p} holds no evolution problem (a dir with initial_program.* and evaluator.py).")
    return dirs


def load_evolve_suite(path: Path | None) -> Suite:
    """Validate every problem with the evolve loader (its error names the problem and the file)."""
    from veriloop.evolve.problem import load_problem

    problems = []
    for d in problem_dirs(path):
        prob = load_problem(d)
        problems.append(BenchProblem(id=d.name, suite="evolve", kind="evolve", spec=prob.description,
                                     top="", evolve_dir=str(d), source=str(d)))
    return Suite(name="evolve", path=str(path) if path else "veriloop.problems", problems=problems)
