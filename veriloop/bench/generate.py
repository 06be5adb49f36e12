"""Produce one candidate design for a sample under an agent configuration (or the golden one)."""

from __future__ import annotations

import inspect
import json
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from veriloop.bench.extract import extract_code
from veriloop.bench.problem import BenchProblem
from veriloop.bench.prompts import messages
from veriloop.bench.spec import IMPORTED, REFERENCE, RunSpec
from veriloop.errors import (
    BackendAuthError,
    BackendError,
    BackendUnreachable,
    BudgetExhausted,
    MalformedReply,
    ModelNotFound,
)
from veriloop.llm.contract import CompletionRequest, LLMBackend


class Candidate(BaseModel):
    """What a configuration produced for one sample, and what producing it cost."""

    code: str = ""
    category: str | None = None
    """Set when the candidate is already known to fail (no code, duplicate modules, budget...)."""
    detail: str = ""
    modules: list[str] = Field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    llm_latency_s: float | None = None
    calls: int = 0
    model: str = ""
    mode: str = ""


def reference(problem: BenchProblem) -> Candidate:
    """The suite's own golden solution: the harness self-test."""
    ex = extract_code(problem.golden, problem.top, "", problem.reserved_modules)
    return Candidate(code=ex.code, category=ex.category, detail=ex.detail, modules=ex.modules,
                     mode=REFERENCE, model="golden")


def imported(problem: BenchProblem, text: str, label: str) -> Candidate:
    """A sample made elsewhere: the same extraction as a live reply (`veriloop bench grade`)."""
    ex = extract_code(text, problem.top, problem.interface, problem.reserved_modules)
    return Candidate(code=ex.code, category=ex.category, detail=ex.detail, modules=ex.modules,
                     mode=IMPORTED, model=label)


async def single_shot(problem: BenchProblem, backend: LLMBackend, temperature: float,
                      seed: int | None) -> Candidate:
    """One completion → extract the code; BackendErrors other than a malformed reply propagate."""
    req = CompletionRequest(
        messages=messages(problem), temperature=temperature, seed=seed, task="design.rtl",
        context={"spec": problem.spec, "top": problem.top, "interface": problem.interface,
                 "source": "bench"},
    )
    model = getattr(backend, "model", "")
    try:
        comp = await backend.complete(req)
    except MalformedReply as exc:
        return Candidate(category="no_code", detail=f"garbled reply: {exc.message}", calls=1,
                         model=model, mode="single-shot")
    except BackendError as exc:
        if isinstance(exc, _EVERY_SAMPLE):
            raise
        return Candidate(category="backend_error", detail=backend_reason(exc), calls=1, model=model,
                         mode="single-shot")
    from veriloop.llm.caps import cut_off_reason, is_cut_off, reply_cap

    ex = extract_code(comp.text, problem.top, problem.interface, problem.reserved_modules)
    category, detail = ex.category, ex.detail
    if is_cut_off(comp):
        # A reply cut at its cap (or stopped as a runaway) says so: unusable when it holds no whole
        # module; graded as usual when the module ended before the cut.
        reason = cut_off_reason(comp, req.max_tokens or reply_cap(req.task))
        why = reason if reason.startswith("stopped:") else f"reply {reason}"
        if category in ("no_code", "syntax"):
            category, detail = "no_code", f"{why} ({detail})"
        elif category is None:
            detail = f"{why}; the module before the cut was graded"
    return Candidate(code=ex.code, category=category, detail=detail, modules=ex.modules,
                     prompt_tokens=comp.prompt_tokens, completion_tokens=comp.completion_tokens,
                     cost_usd=comp.cost_usd, llm_latency_s=comp.latency_s, calls=1,
                     model=comp.model or model, mode="single-shot")


_EVERY_SAMPLE = (BackendAuthError, ModelNotFound, BackendUnreachable)


def backend_reason(exc: BackendError) -> str:
    """The error with the server's own words (they travel in the hint)."""
    return (exc.message + (f" {exc.hint}" if exc.hint else ""))[:800]


def _spent(out_dir: Path) -> dict[str, Any]:
    """Calls and tokens recorded in a design run's report.json (zeros when there is none)."""
    try:
        rep = json.loads((Path(out_dir) / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return dict(prompt_tokens=int(rep.get("prompt_tokens", 0) or 0),
                completion_tokens=int(rep.get("completion_tokens", 0) or 0),
                cost_usd=float(rep.get("usd", 0.0) or 0.0), calls=int(rep.get("calls", 0) or 0))


def _spec_text(problem: BenchProblem) -> str:
    text = problem.spec.strip()
    if problem.interface:
        text += "\n\nComplete the module whose interface is:\n\n" + problem.interface.strip()
    text += f"\n\nThe top module must be named {problem.top}."
    return text


def design_code(result: Any) -> str:
    """The RTL a design run wrote: its module files (testbench, reports and transcripts excluded)."""
    parts = []
    for f in getattr(result, "files", []) or []:
        path = Path(f)
        if path.suffix in (".sv", ".v") and path.name not in ("tb.sv", "tb.v") and path.is_file():
            parts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n\n".join(parts)


async def design_graph(problem: BenchProblem, settings: Any, backend: str, mode: str, spec: RunSpec,
                       out_dir: Path, seed: int) -> Candidate:
    """Run the design graph on the problem; oracle-tb hands it the bench testbench, self-verified not."""
    from veriloop.agents import arun_design

    oracle = mode == "oracle-tb"
    kwargs: dict[str, Any] = dict(
        tb=problem.testbench if oracle else None, ref=problem.ref if oracle else None,
        top=problem.top, out_dir=out_dir, backend=backend, max_iters=spec.max_iters,
        samples=spec.design_samples,
        budget_usd=spec.budget_usd, interactive=False, mode=mode, seed=seed,
    )
    accepted = set(inspect.signature(arun_design).parameters)
    kwargs = {k: v for k, v in kwargs.items() if k in accepted}
    start = time.monotonic()
    try:
        result = await arun_design(_spec_text(problem), settings, **kwargs)
    except BudgetExhausted as exc:
        return Candidate(category="budget", detail=exc.message, mode=mode,
                         llm_latency_s=time.monotonic() - start)
    except BackendError as exc:
        if isinstance(exc, _EVERY_SAMPLE):
            raise
        # The aborted run wrote its report: keep the calls and tokens already spent with the reason.
        return Candidate(category="backend_error", detail=backend_reason(exc), mode=mode,
                         llm_latency_s=time.monotonic() - start, **_spent(out_dir))
    elapsed = time.monotonic() - start
    rep: dict[str, Any] = dict(getattr(result, "report", {}) or {})
    models = rep.get("models") or {}
    common: dict[str, Any] = dict(
        prompt_tokens=int(rep.get("prompt_tokens", 0) or 0),
        completion_tokens=int(rep.get("completion_tokens", 0) or 0),
        cost_usd=float(rep.get("usd", 0.0) or 0.0), calls=int(rep.get("calls", 0) or 0),
        llm_latency_s=elapsed, mode=mode,
        model=",".join(sorted(set(map(str, models.values())))) if isinstance(models, dict) else str(models),
    )
    code = design_code(result)
    if not code.strip():
        why = f"design run {getattr(result, 'run_id', '')} wrote no RTL: {getattr(result, 'reason', '')}"
        return Candidate(category="no_code", detail=why[:500], **common)
    ex = extract_code(code, problem.top, problem.interface, problem.reserved_modules)
    return Candidate(code=ex.code, category=ex.category, detail=ex.detail, modules=ex.modules, **common)
