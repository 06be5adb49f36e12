"""Sandboxed cascade evaluation of one candidate: one sandbox job per stage, nonce-framed results.

This is the per-candidate path (`--isolation per-candidate`, the Ray executor, `evaluate_code`);
`workers.py` runs the same stages in warm sandboxed workers and reuses the pieces here.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import sysconfig
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from veriloop.evolve.problem import Problem
from veriloop.sandbox.contract import Job, JobResult, Limits, Sandbox

HARNESS_NAME = "_veriloop_harness.py"
PROXY_NAME = "_veriloop_proxy.py"
_HARNESS_SRC = (Path(__file__).with_name("harness.py")).read_text(encoding="utf-8")
_PROXY_SRC = (Path(__file__).with_name("proxy.py")).read_text(encoding="utf-8")
JOB_ENV = {
    "PYTHONHASHSEED": "0",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
}


class EvalOutcome(BaseModel):
    """What the cascade said about one candidate."""

    metrics: dict[str, float] = Field(default_factory=dict)
    artifacts: dict[str, str] = Field(default_factory=dict)
    combined_score: float | None = None
    stage_reached: int = 0
    """How many stages returned a result."""
    error: str | None = None
    killed: str | None = None
    """Why the sandbox stopped a stage: timeout, memory, output, signal."""
    fault: str | None = None
    """Fault class for run stats: timeout, memory, output, crash, exit, exception, no_result, forged."""
    timings: dict[str, float] = Field(default_factory=dict)
    import_mode: str = "proxy"
    """How the evaluator was to get the candidate if it imported it: proxy or shared."""
    imported: str | None = None
    """How it did: "proxy", "shared" (candidate code ran in the evaluator's process) or None (it never
    imported the candidate, e.g. ran it in a subprocess)."""
    in_process: bool = False
    """The evaluator's process compiled the candidate's code itself: its scores are forgeable."""
    proxy_trouble: list[str] = Field(default_factory=list)
    """What the proxy could not carry (arguments that cannot travel to the candidate's process)."""

    @property
    def ok(self) -> bool:
        return self.error is None


def score_of(metrics: dict[str, float]) -> float | None:
    """`combined_score` if present, else the mean of the numeric metrics (OpenEvolve's rule)."""
    if "combined_score" in metrics:
        return float(metrics["combined_score"])
    vals = [v for k, v in metrics.items() if k != "error"]
    return sum(vals) / len(vals) if vals else None


_SITE_DIRS = os.pathsep.join(
    dict.fromkeys(p for p in (sysconfig.get_path("purelib"), sysconfig.get_path("platlib")) if p)
)


def import_mode(problem: Problem) -> str:
    """The harness's import mode for this problem: "shared" only when set or decided so, else "proxy"."""
    return "shared" if problem.evaluator.candidate_import == "shared" else "proxy"


def stage_argv(problem: Problem, stage_index: int, harness: str = HARNESS_NAME) -> list[str]:
    """The harness command line of one stage (the warm workers replay it as the child's sys.argv)."""
    return [
        sys.executable,
        "-I",
        "-S",
        harness,
        problem.stages[stage_index],
        str(problem.path),
        problem.program_file,
        _SITE_DIRS,
        import_mode(problem),
    ]


def stage_limits(problem: Problem, timeout_s: float) -> Limits:
    """The limits every stage runs under, whichever isolation mode runs it."""
    return Limits(wall_s=timeout_s, memory_mb=problem.evaluator.memory_mb, output_bytes=1 << 20)


def stage_job(problem: Problem, code: str, stage_index: int, nonce: str, timeout_s: float) -> Job:
    """The sandbox job that runs one evaluator stage on `code` in a fresh sandboxed process.

    The problem directory is bound read-only at its own path (also under /tmp: the sandbox keeps
    binds below its private /tmp visible).
    """
    return Job(
        argv=stage_argv(problem, stage_index),
        files={problem.program_file: code, HARNESS_NAME: _HARNESS_SRC, PROXY_NAME: _PROXY_SRC},
        ro_paths=[str(problem.path)],
        env=dict(JOB_ENV),
        stdin=(nonce + "\n").encode(),
        limits=stage_limits(problem, timeout_s),
        label=f"evolve:{problem.name}:{problem.stages[stage_index]}",
    )


def parse_stage(result: JobResult, nonce: str) -> dict[str, Any]:
    """The harness payload of one stage, or {'ok': False, 'fault': ..., 'error': ...}."""
    frames = [ln[len(nonce) + 1 :] for ln in result.stdout.splitlines() if ln.startswith(nonce + " ")]
    tail = result.stderr[-1500:].strip()
    if len(frames) > 1:
        return {"ok": False, "fault": "forged", "error": "more than one result frame on the result channel"}
    if frames and result.killed is None:
        try:
            payload = json.loads(frames[0])
        except ValueError:
            return {"ok": False, "fault": "forged", "error": "unreadable result frame"}
        if not isinstance(payload, dict):
            return {"ok": False, "fault": "forged", "error": "unreadable result frame"}
        if not payload.get("ok"):
            status = payload.get("candidate_status")
            if payload.get("memory"):
                payload["fault"] = "memory"
            elif isinstance(status, int) and not isinstance(status, bool):
                # the candidate's own process (proxy mode) died: the same classes as the evaluator's
                payload["fault"] = "crash" if status < 0 else "exit"
            else:
                payload["fault"] = "exception"
            payload["stderr"] = tail
        return payload
    if result.killed == "timeout":
        return {
            "ok": False,
            "fault": "timeout",
            "killed": "timeout",
            "error": f"stage timed out after {result.wall_s:.1f}s and was killed",
        }
    if result.killed == "memory":
        return {
            "ok": False,
            "fault": "memory",
            "killed": "memory",
            "error": "stage exceeded its memory limit",
        }
    if result.killed == "output":
        return {
            "ok": False,
            "fault": "output",
            "killed": "output",
            "error": "stage exceeded its output limit",
        }
    if result.signal or result.killed == "signal":
        return {
            "ok": False,
            "fault": "crash",
            "killed": result.killed or "signal",
            "error": f"evaluator process died by signal {result.signal}",
            "stderr": tail,
        }
    if result.stdout_truncated or result.stderr_truncated:
        return {"ok": False, "fault": "output", "error": "stage flooded its output and left no result"}
    return {
        "ok": False,
        "fault": "exit",
        "error": f"evaluator exited (code {result.exit_code}) without a result",
        "stderr": tail,
    }


class CascadeState:
    """Accumulates stage payloads into an EvalOutcome and decides whether to go on."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.outcome = EvalOutcome(import_mode=import_mode(problem))

    def add(self, index: int, payload: dict[str, Any], wall_s: float) -> bool:
        """Fold one stage in; True when the next stage should run."""
        out = self.outcome
        out.timings[self.problem.stages[index]] = round(wall_s, 4)
        seen = payload.get("import")
        if isinstance(seen, dict):
            if seen.get("imported") in ("proxy", "shared") and out.imported != "shared":
                out.imported = str(seen["imported"])
            out.in_process = out.in_process or bool(seen.get("in_process"))
            trouble = seen.get("proxy_trouble")
            if isinstance(trouble, list):
                out.proxy_trouble += [str(t)[:300] for t in trouble[:5]]
        if not payload.get("ok"):
            out.error = str(payload.get("error") or "stage failed")
            out.fault = payload.get("fault") or "exception"
            out.killed = payload.get("killed")
            detail = payload.get("traceback") or payload.get("stderr")
            if detail:
                out.artifacts[f"{self.problem.stages[index]}_error"] = str(detail)[-4000:]
            return False
        out.metrics.update(payload.get("metrics") or {})
        out.artifacts.update(payload.get("artifacts") or {})
        out.stage_reached = index + 1
        out.combined_score = score_of(out.metrics)
        thresholds = self.problem.evaluator.cascade_thresholds
        if index + 1 >= len(self.problem.stages):
            return False
        if index < len(thresholds):
            score = out.combined_score if out.combined_score is not None else float("-inf")
            if score < thresholds[index]:
                out.artifacts["cascade"] = (
                    f"stopped after stage {index + 1}: score {score:.4g} < {thresholds[index]}"
                )
                return False
        return True


def _timeouts(problem: Problem, stage_timeouts: list[float] | None) -> list[float]:
    n = len(problem.stages)
    if stage_timeouts:
        return [float(stage_timeouts[min(i, len(stage_timeouts) - 1)]) for i in range(n)]
    return [problem.evaluator.stage_timeout(i) for i in range(n)]


def evaluate_code(
    problem: Problem, code: str, *, sandbox: Sandbox | None = None, stage_timeouts: list[float] | None = None
) -> EvalOutcome:
    """Run the problem's evaluator cascade on `code` in the sandbox. Never raises for a bad candidate."""
    if sandbox is None:
        from veriloop.sandbox import get_sandbox

        sandbox = get_sandbox()
    state = CascadeState(problem)
    for i, timeout in enumerate(_timeouts(problem, stage_timeouts)):
        nonce = secrets.token_hex(16)
        result = sandbox.run(stage_job(problem, code, i, nonce, timeout))
        if not state.add(i, parse_stage(result, nonce), result.wall_s):
            break
    return state.outcome
