"""Grade one candidate design against its problem's trusted testbench (honest nonce grading)."""

from __future__ import annotations

import inspect
import time
from typing import Any

from pydantic import BaseModel, Field

from veriloop.bench.problem import BenchProblem

CATEGORIES = ("pass", "illegal", "syntax", "mismatch", "timeout", "tool_error", "no_summary", "no_code",
              "backend_error", "harness_error", "budget", "score")
"""Every category a sample can get. `illegal` is a design the grader refused before running it (an
`include, a $finish, a name outside the design...: `veriloop.tools.screen`; upstream harnesses would
have run it, so it is kept apart from `syntax`); `no_code` is the empty/garbled reply; `backend_error` an LLM
call that failed after retries and `harness_error` an unexpected exception in a configuration
(both retried on resume); `budget` a design run that spent its budget
without an answer; `score` an evolve sample (graded by score, not pass/fail)."""


class Grade(BaseModel):
    """The verdict on one candidate."""

    passed: bool
    category: str
    detail: str = ""
    mismatches: int | None = None
    total: int | None = None
    log_tail: str = ""
    tool_versions: dict[str, str | None] = Field(default_factory=dict)
    grade_s: float = 0.0


def _accepted(fn: Any) -> set[str]:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return set()


def grade_design(problem: BenchProblem, code: str, timeout_s: float = 30.0) -> Grade:
    """Compile the candidate with the testbench (and reference), simulate, and read the nonce summary."""
    from veriloop.tools.grading import grade_testbench

    accepted = _accepted(grade_testbench)
    kwargs: dict[str, Any] = {}
    if "timeout_s" in accepted:
        kwargs["timeout_s"] = timeout_s
    if problem.data_files:
        for name in ("files", "extra_files", "data_files"):
            if name in accepted:
                kwargs[name] = dict(problem.data_files)
                break
    if problem.golden and "golden_sv" in accepted:
        kwargs["golden_sv"] = problem.golden
    if "top" in accepted:
        kwargs["top"] = problem.tb_top
    elif "tb_top" in accepted:
        kwargs["tb_top"] = problem.tb_top
    start = time.monotonic()
    report = grade_testbench(code, problem.testbench, problem.ref, **kwargs)
    elapsed = time.monotonic() - start
    detail = report.detail
    if not report.passed and report.first_mismatch_time is not None and not detail:
        detail = f"first mismatch at time {report.first_mismatch_time}"
    return Grade(
        passed=report.passed, category=str(report.category), detail=detail[:500],
        mismatches=report.mismatches, total=report.samples, log_tail=report.log_tail[-2000:],
        tool_versions=dict(report.tool_versions), grade_s=elapsed,
    )
