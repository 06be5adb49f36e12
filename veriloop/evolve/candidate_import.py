"""How an evaluator that imports the candidate gets it (proxy or shared), decided once per run.

`[evaluator] candidate_import` in problem.toml is "proxy", "shared" or "auto" (the default). The
harness (`harness.py`) serves "proxy" with a proxy module whose calls run in a separate sandboxed
process, and "shared" by letting the evaluator import the candidate into its own process, where
the candidate can reach the result channel: its scores are then forgeable.

`decide` runs at the start of a run on the initial program: in "auto" it tries the proxy and falls
back to "shared" only when the proxy cannot serve the problem (the proxy run fails or reports an
argument it could not carry, and the shared run works). The verdict says whether the evaluator
ran candidate code in its own process (a shared import, or exec of the candidate's source the
proxy does not cover): then the run's output, its run record, its database and the exported
report carry FORGEABLE.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from veriloop.evolve.evaluate import EvalOutcome
from veriloop.evolve.executors import Executor
from veriloop.evolve.problem import Problem

FORGEABLE = "scores of this problem are forgeable by the candidate"
META_KEY = "candidate_import"


class ImportVerdict(BaseModel):
    """The import mode a run uses and whether its scores can be forged by a candidate."""

    setting: Literal["proxy", "shared", "auto"]
    """What problem.toml asked for."""
    mode: Literal["proxy", "shared"]
    """What the run uses."""
    forgeable: bool
    imported: str | None = None
    """How the evaluator got the initial program: proxy, shared, or None (it never imported it)."""
    reason: str = ""
    """Why the run fell back to shared, or why its scores are forgeable."""

    def sentence(self) -> str:
        """One line for the run's output."""
        if self.forgeable:
            why = f" ({self.reason})" if self.reason else ""
            return f"warning: {FORGEABLE}: the evaluator runs candidate code in its own process{why}."
        if self.imported == "proxy":
            return "candidate import: proxy (the candidate runs in its own sandboxed process)."
        return "candidate import: the evaluator does not import the candidate into its own process."


def with_mode(problem: Problem, mode: str) -> Problem:
    """The same problem with `candidate_import` set to `mode`."""
    evaluator = problem.evaluator.model_copy(update={"candidate_import": mode})
    return problem.model_copy(update={"evaluator": evaluator})


def _verdict(setting: str, mode: str, outcome: EvalOutcome, reason: str = "") -> ImportVerdict:
    forgeable = outcome.in_process
    if forgeable and not reason:
        reason = (
            'problem.toml sets candidate_import = "shared"'
            if setting == "shared"
            else "it executes the candidate's source without importing it"
        )
    return ImportVerdict(
        setting=setting,  # type: ignore[arg-type]
        mode=mode,  # type: ignore[arg-type]
        forgeable=forgeable,
        imported=outcome.imported,
        reason=reason if forgeable or mode == "shared" else "",
    )


async def decide(problem: Problem, executor: Executor) -> tuple[Problem, ImportVerdict, EvalOutcome]:
    """Evaluate the initial program to choose the import mode: (problem with it, verdict, outcome)."""
    setting = problem.evaluator.candidate_import
    first = with_mode(problem, "shared" if setting == "shared" else "proxy")
    outcome = await executor.evaluate(first, problem.initial_code)
    proxy_failed = not outcome.ok or bool(outcome.proxy_trouble)
    if setting == "auto" and outcome.imported == "proxy" and proxy_failed:
        shared = with_mode(problem, "shared")
        fallback = await executor.evaluate(shared, problem.initial_code)
        if fallback.ok:
            why = (outcome.proxy_trouble or [outcome.error or "the proxy run failed"])[0]
            reason = f"the proxy import cannot serve this evaluator: {why}"[:400]
            return shared, _verdict(setting, "shared", fallback, reason), fallback
    return first, _verdict(setting, first.evaluator.candidate_import, outcome), outcome
