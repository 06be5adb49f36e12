"""Evolve suite runs: each (problem, backend, sample) is an evolution campaign with a fixed budget."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from veriloop import runstore
from veriloop.bench.problem import BenchProblem
from veriloop.bench.runner import planned_keys, select_problems
from veriloop.bench.spec import REFERENCE, RunSpec
from veriloop.bench.store import ResultStore, SampleRecord
from veriloop.bench.suites import load_suite
from veriloop.errors import BackendError, VeriloopError


def _reference(problem: BenchProblem, base: dict[str, Any]) -> SampleRecord:
    """The initial program's own score: the baseline every campaign starts from."""
    from veriloop.evolve.evaluate import evaluate_code
    from veriloop.evolve.problem import load_problem

    prob = load_problem(Path(problem.evolve_dir or ""))
    out = evaluate_code(prob, prob.initial_code)
    detail = "initial program" + (f": {out.error}" if out.error else "")
    return SampleRecord(**base, passed=False, category="score", score=out.combined_score, detail=detail,
                        mode="baseline", model="initial_program")


def _campaign(problem: BenchProblem, backend: str, idx: int, spec: RunSpec, settings: Any,
              base: dict[str, Any]) -> SampleRecord:
    from veriloop.evolve.controller import BackendChoice, EvolveOptions, run_evolution

    opts = EvolveOptions(backends=[BackendChoice(name=backend)], iterations=spec.evolve_budget,
                         seed=spec.seed + idx, temperature=spec.effective_temperature(),
                         budget_usd=spec.budget_usd, executor=spec.executor, address=spec.address)
    summary = run_evolution(problem.evolve_dir or "", settings, opts)
    stats = summary.stats
    usage = stats.get("usage") or {}
    return SampleRecord(
        **base, passed=False, category="score", score=summary.best_score,
        detail=f"evolve run {summary.run_id}: {summary.iterations_done} iterations, "
               f"stop: {summary.stop_reason}",
        prompt_tokens=int(stats.get("prompt_tokens", usage.get("prompt_tokens", 0)) or 0),
        completion_tokens=int(stats.get("completion_tokens", usage.get("completion_tokens", 0)) or 0),
        cost_usd=float(stats.get("cost_usd", usage.get("cost_usd", 0.0)) or 0.0),
        calls=int(usage.get("calls", 0) or 0), mode="evolve",
        model=str(settings.backend(backend).model),
    )


def run_one(problem: BenchProblem, backend: str, idx: int, spec: RunSpec, settings: Any) -> SampleRecord:
    start = time.monotonic()
    config = REFERENCE if backend == REFERENCE else "evolve"
    base: dict[str, Any] = dict(problem=problem.id, backend=backend, config=config, idx=idx,
                                seed=None if backend == REFERENCE else spec.seed + idx,
                                temperature=None if backend == REFERENCE else spec.effective_temperature())
    try:
        rec = _reference(problem, base) if backend == REFERENCE else _campaign(problem, backend, idx, spec,
                                                                               settings, base)
    except BackendError as exc:
        rec = SampleRecord(**base, passed=False, category="backend_error", detail=exc.message, mode=config)
    except VeriloopError as exc:
        rec = SampleRecord(**base, passed=False, category="tool_error", detail=exc.message, mode=config)
    rec.latency_s = time.monotonic() - start
    rec.created = time.time()
    return rec


def execute_evolve(record: runstore.RunRecord, spec: RunSpec, settings: Any,
                   console: Console | None = None) -> runstore.RunRecord:
    """Run every missing (problem, backend, sample) campaign in turn, recording each as it ends."""
    suite = load_suite("evolve", spec.path)
    problems = select_problems(suite, spec)
    by_id = {p.id: p for p in problems}
    record = runstore.update_run(record, status="running")
    status = "failed"
    with ResultStore.open(record.dir) as store:
        done = store.done_keys()
        planned = planned_keys(problems, spec)
        keys = [k for k in planned if k not in done]
        progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("best {task.fields[best]}"), TimeElapsedColumn(),
                            console=console or Console(stderr=True))
        try:
            with progress:
                task = progress.add_task(f"bench {record.id}", total=len(planned),
                                         completed=len(planned) - len(keys), best="-")
                for pid, backend, _config, idx in keys:
                    rec = run_one(by_id[pid], backend, idx, spec, settings)
                    store.put(rec)
                    best = f"{rec.score:.4g}" if rec.score is not None else "-"
                    progress.update(task, advance=1, best=best)
            status = "done"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            recs = store.records()
            summary = {"samples": len(recs), "cost_usd": round(sum(r.cost_usd for r in recs), 6)}
            record = runstore.update_run(record, status=status, meta={**record.meta, "summary": summary})
    return record
