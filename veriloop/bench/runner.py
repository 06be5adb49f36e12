"""Run (suite × backends × configs × n) with bounded concurrency, recording every sample as it ends."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import os
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from veriloop.bench import generate
from veriloop.bench.grade import Grade, grade_design
from veriloop.bench.imported import META_KEY as IMPORTED_KEY
from veriloop.bench.problem import BenchProblem, Suite
from veriloop.bench.spec import IMPORTED, REFERENCE, RunSpec
from veriloop.bench.store import ResultStore, SampleRecord
from veriloop.errors import (
    BackendAuthError,
    BackendError,
    BackendUnreachable,
    InputError,
    ModelNotFound,
    VeriloopError,
)

FATAL_BACKEND_ERRORS = (BackendAuthError, ModelNotFound, BackendUnreachable)
"""Errors that will hit every sample of a backend: stop that backend instead of recording each."""

Key = tuple[str, str, str, int]
ProgressFn = Callable[[SampleRecord], None]


def select_problems(suite: Suite, spec: RunSpec) -> list[BenchProblem]:
    """Apply --problems (comma-separated globs over ids) and --limit; an empty selection is an input error."""
    probs = suite.problems
    if spec.imported is not None:
        probs = [p for p in probs if spec.imported.get(p.id)]
    if spec.problems:
        globs = [g.strip() for g in spec.problems.split(",") if g.strip()]
        probs = [p for p in probs if any(fnmatch.fnmatchcase(p.id, g) for g in globs)]
    if spec.limit:
        probs = probs[: spec.limit]
    if not probs:
        raise InputError(f"No problem of suite {suite.name} matches '{spec.problems}'.",
                         hint="Problem ids look like " + ", ".join(p.id for p in suite.problems[:3]) + ".")
    return probs


def planned_keys(problems: list[BenchProblem], spec: RunSpec) -> list[Key]:
    """Every sample of the run in a fair interleaved order (sample 0 of all groups first)."""
    out: list[Key] = []
    max_n = max(spec.samples_for(b) for b in spec.backends)
    for idx in range(max_n):
        for p in problems:
            for backend, config in spec.pairs():
                if idx < spec.samples_for(backend, p.id):
                    out.append((p.id, backend, config, idx))
    return out


def grading_slots(settings: Any) -> int:
    configured = int(getattr(getattr(settings, "sandbox", None), "max_parallel", 0) or 0)
    return configured or (os.cpu_count() or 1)


class BenchRunner:
    """Owns the backends, semaphores and the store for one execution of a run (fresh or resumed)."""

    def __init__(self, spec: RunSpec, settings: Any, store: ResultStore, run_dir: Path,
                 problems: list[BenchProblem], on_sample: ProgressFn | None = None) -> None:
        self.spec = spec
        self.settings = settings
        self.store = store
        self.run_dir = run_dir
        self.problems = {p.id: p for p in problems}
        self.on_sample = on_sample
        self.grade_sem = asyncio.Semaphore(grading_slots(settings))
        self.graph_sem = asyncio.Semaphore(max(1, grading_slots(settings)))
        self.imported: dict[str, list[str]] = dict(store.get_meta(IMPORTED_KEY) or {}) \
            if spec.imported is not None else {}
        self.fatal: dict[str, BackendError] = {}
        self.tool_versions: dict[str, str | None] = {}
        self._backends: dict[str, Any] = {}
        self.ray: Any = None
        if spec.executor == "ray":
            from veriloop.bench.ray_grading import RayGrader

            self.ray = RayGrader(spec.address, grading_slots(settings))

    # -- setup ----------------------------------------------------------------------------------
    def _backend(self, name: str) -> Any:
        if name not in self._backends:
            from veriloop.llm import get_backend

            self._backends[name] = get_backend(self.settings, name)
        return self._backends[name]

    def _concurrency(self, backend: str) -> int:
        if backend == REFERENCE or self.spec.imported is not None:
            return grading_slots(self.settings)
        return int(self.settings.backend(backend).max_concurrency)

    async def _versions(self) -> None:
        try:
            from veriloop.tools import versions

            self.tool_versions = await asyncio.to_thread(versions)
        except Exception:  # versions are provenance, not a reason to stop a run
            self.tool_versions = {}

    # -- one sample -----------------------------------------------------------------------------
    async def _candidate(self, problem: BenchProblem, backend: str, config: str,
                         idx: int) -> tuple[generate.Candidate, float]:
        """The candidate and the seconds spent producing it (not waiting for a slot)."""
        if backend == REFERENCE:
            return generate.reference(problem), 0.0
        if config == IMPORTED:
            return generate.imported(problem, self.imported[problem.id][idx], backend), 0.0
        start = time.monotonic()
        if config == "single-shot":
            cand = await generate.single_shot(problem, self._backend(backend),
                                              self.spec.effective_temperature(), self.spec.seed + idx)
            return cand, time.monotonic() - start
        out_dir = self.run_dir / "designs" / backend / config / f"{_safe(problem.id)}-{idx}"
        async with self.graph_sem:
            start = time.monotonic()
            cand = await generate.design_graph(problem, self.settings, backend, config, self.spec, out_dir,
                                               self.spec.seed + idx)
            return cand, time.monotonic() - start

    async def _grade(self, problem: BenchProblem, code: str) -> Grade:
        async with self.grade_sem:
            if self.ray is not None:
                return await self.ray.grade(problem, code, self.spec.timeout_s)  # type: ignore[no-any-return]
            return await asyncio.to_thread(grade_design, problem, code, self.spec.timeout_s)

    async def run_sample(self, key: Key) -> SampleRecord:
        """One sample, start to verdict. latency_s = generation + grading time, queueing excluded."""
        pid, backend, config, idx = key
        problem = self.problems[pid]
        start = time.monotonic()
        seed = None if backend == REFERENCE or config == IMPORTED else self.spec.seed + idx
        # only single-shot sends the run's sampling temperature; the design graph uses its agents' own
        temp = self.spec.effective_temperature() if config == "single-shot" else None
        base: dict[str, Any] = dict(problem=pid, backend=backend, config=config, idx=idx, seed=seed,
                                    temperature=temp, tool_versions=self.tool_versions, mode=config,
                                    created=time.time())
        try:
            cand, busy = await self._candidate(problem, backend, config, idx)
        except FATAL_BACKEND_ERRORS:
            raise
        except BackendError as exc:
            return SampleRecord(**base, passed=False, category="backend_error", detail=exc.message,
                                latency_s=time.monotonic() - start)
        except VeriloopError as exc:  # the configuration failed on this sample (sandbox, store...)
            return SampleRecord(**base, passed=False, category="tool_error", detail=exc.message,
                                latency_s=time.monotonic() - start)
        except Exception as exc:  # a bug in a configuration must not end the run, nor hide
            return SampleRecord(**base, passed=False, category="harness_error",
                                detail=f"{type(exc).__name__}: {exc}"[:500],
                                log_tail=traceback.format_exc()[-2000:], latency_s=time.monotonic() - start)
        base.update(prompt_tokens=cand.prompt_tokens, completion_tokens=cand.completion_tokens,
                    cost_usd=cand.cost_usd, llm_latency_s=cand.llm_latency_s, calls=cand.calls,
                    mode=cand.mode or config, model=cand.model, modules=cand.modules, code=cand.code)
        if cand.category is not None:
            return SampleRecord(**base, passed=False, category=cand.category, detail=cand.detail,
                                latency_s=busy)
        g = await self._grade(problem, cand.code)
        base["tool_versions"] = {**self.tool_versions, **g.tool_versions}
        return SampleRecord(**base, passed=g.passed, category=g.category, detail=g.detail or cand.detail,
                            mismatches=g.mismatches, total=g.total, grade_s=g.grade_s, log_tail=g.log_tail,
                            latency_s=busy + g.grade_s)

    # -- the whole run --------------------------------------------------------------------------
    def _longest_first(self, keys: list[Key]) -> list[Key]:
        """Samples whose grading is expected to take longest first (a long simulation started last
        would decide when the run ends); stable, so equal costs keep the run's order."""
        from veriloop.tools import simcost

        cost = {pid: simcost.expected_s(p.testbench, "", p.ref) for pid, p in self.problems.items()}
        return sorted(keys, key=lambda k: -cost.get(k[0], 0.0))

    async def _worker(self, backend: str, queue: asyncio.Queue[Key]) -> None:
        while True:
            try:
                key = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            if backend in self.fatal:
                continue
            try:
                rec = await self.run_sample(key)
            except FATAL_BACKEND_ERRORS as exc:
                self.fatal.setdefault(backend, exc)
                continue
            self.store.put(rec)
            if self.on_sample is not None:
                self.on_sample(rec)

    async def run(self, keys: list[Key]) -> None:
        """Run the given samples; raise the first fatal backend error after the others finished."""
        await self._versions()
        queues: dict[str, asyncio.Queue[Key]] = {}
        for key in self._longest_first(keys):
            queues.setdefault(key[1], asyncio.Queue()).put_nowait(key)
        workers: list[asyncio.Task[None]] = []
        for backend, q in queues.items():
            workers.extend(asyncio.create_task(self._worker(backend, q))
                           for _ in range(max(1, min(self._concurrency(backend), q.qsize()))))
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
            if self.ray is not None:
                self.ray.close()
            for b in self._backends.values():
                aclose = getattr(b, "aclose", None)
                if aclose is not None:
                    with contextlib.suppress(Exception):
                        await aclose()
        if self.fatal:
            raise next(iter(self.fatal.values()))


def _safe(s: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in s)[:80]
