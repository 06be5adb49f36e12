"""The evolution controller: async pipeline of LLM edits and sandboxed evaluations over the database.

Determinism: iteration k samples its parent right after iteration k-W has been applied (W = the
window of iterations in flight), results are applied in schedule order, duplicate hashes are
reserved in schedule order and every random choice comes from a per-iteration RNG, so the same
seed and a deterministic backend give the same database whatever the timing. Durability: each
iteration is committed to SQLite when it finishes (before it is counted); `resume` re-runs only the
iterations that have no row.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from veriloop.config import Settings
from veriloop.errors import BackendError, InputError, MalformedReply, SandboxError
from veriloop.evolve.candidate_import import ImportVerdict
from veriloop.evolve.database import DatabaseConfig, IterationRow, ProgramDatabase, ProgramRow
from veriloop.evolve.edits import EditResult, apply_reply, normalised_hash
from veriloop.evolve.evaluate import EvalOutcome
from veriloop.evolve.executors import Executor
from veriloop.evolve.problem import Problem, load_problem
from veriloop.evolve.prompts import Templates, build_request, load_lessons
from veriloop.llm.caps import cut_off_reason, is_cut_off, reply_cap
from veriloop.llm.contract import Completion, LLMBackend
from veriloop.runstore import RunRecord, create_run, update_run


class BackendChoice(BaseModel):
    """One backend of the ensemble and its weight."""

    name: str
    weight: float = Field(default=1.0, gt=0)

    @classmethod
    def parse(cls, text: str) -> BackendChoice:
        if ":" in text and not text.startswith("replay:"):
            name, _, w = text.rpartition(":")
            try:
                return cls(name=name, weight=float(w))
            except ValueError:
                raise InputError(
                    f"Backend weight in '{text}' is not a positive number.",
                    hint="Use --backend NAME or --backend NAME:WEIGHT, e.g. --backend fast:0.7.",
                ) from None
        return cls(name=text)


class EvolveOptions(BaseModel):
    """Everything a run was started with (stored in run.json, reused by --resume)."""

    backends: list[BackendChoice] = Field(default_factory=lambda: [BackendChoice(name="offline")])
    bandit: bool = False
    iterations: int | None = None
    seed: int = 0
    llm_concurrency: int = Field(default=16, ge=1, le=4096)
    eval_workers: int = Field(default=0, ge=0, le=1024)
    """0: one per CPU core."""
    window: int | None = Field(default=None, ge=1)
    budget_usd: float | None = Field(default=None, ge=0)
    max_wall_s: float | None = Field(default=None, gt=0)
    target_score: float | None = None
    stagnation: int | None = Field(default=None, ge=1)
    executor: str = "local"
    address: str | None = None
    isolation: Literal["warm", "per-candidate"] = "warm"
    """warm: long-lived sandboxed workers fork a fresh child per stage; per-candidate: a sandbox each."""
    diff_based: bool | None = None
    temperature: float = 0.7
    templates_dir: str | None = None

    def workers(self) -> int:
        return self.eval_workers or (os.cpu_count() or 1)


class RunSummary(BaseModel):
    """What a finished (or stopped) run reports."""

    run_id: str
    run_dir: str
    problem: str
    status: str
    stop_reason: str
    iterations_done: int
    best_score: float | None
    best_program_id: str | None
    stats: dict[str, Any]
    wall_s: float
    candidate_import: dict[str, Any] = Field(default_factory=dict)
    """The import verdict (`candidate_import.ImportVerdict`): mode, and whether scores are forgeable."""


@dataclass
class _Done:
    iteration: int
    program: ProgramRow | None
    parent_score: float | None
    backend: str
    cost: float
    fault: str | None


@dataclass
class _Prep:
    island: int
    parent: ProgramRow | None
    inspirations: list[ProgramRow]
    backend: str
    llm_seed: int


@dataclass
class _Arm:
    pulls: int = 0
    calls: int = 0
    reward: float = 0.0


@dataclass
class _State:
    started: float = field(default_factory=time.monotonic)
    best: float | None = None
    since_improve: int = 0
    stop_reason: str = ""
    in_flight_llm: int = 0
    in_flight_eval: int = 0
    applied: int = 0


def backend_fault(exc: BackendError) -> str:
    """Fault class of a backend failure (after the backend's own retries)."""
    msg = exc.message
    if isinstance(exc, MalformedReply) and "empty" in msg:
        return "empty_reply"
    if re.search(r"\bHTTP 429\b", msg):  # not just "429": the base URL's port may contain it
        return "backend_429"
    if re.search(r"\bHTTP 5\d\d\b", msg):
        return "backend_5xx"
    return "backend_error"


def _iter_rng(seed: int, iteration: int) -> random.Random:
    return random.Random(f"veriloop-evolve:{seed}:{iteration}")


class Controller:
    """Runs one campaign against one database."""

    def __init__(
        self,
        problem: Problem,
        db: ProgramDatabase,
        options: EvolveOptions,
        backends: dict[str, LLMBackend],
        executor: Executor,
        ledger: Any,
        total: int,
        lessons: list[str],
        progress: Any = None,
    ) -> None:
        self.problem = problem
        self.verdict: ImportVerdict | None = None
        """How the evaluator gets candidates and whether their scores are forgeable (seed_initial)."""
        self.db = db
        self.opt = options
        self.backends = backends
        self.executor = executor
        self.ledger = ledger
        self.total = total
        self.lessons = lessons
        self.progress = progress
        self.progress_task: Any = None
        self.templates = Templates(
            [Path(options.templates_dir)] if options.templates_dir else [], problem=problem
        )
        self.diff_based = problem.evolution.diff_based if options.diff_based is None else options.diff_based
        self.state = _State()
        self.arms = {b.name: _Arm() for b in options.backends}
        self.llm_sem = asyncio.Semaphore(options.llm_concurrency)
        # Iterations in flight: enough to keep every LLM slot and evaluator busy. An offline-only
        # ensemble answers instantly, so a short window keeps parents fresh.
        offline_only = all(getattr(b, "model", "") == "offline" for b in backends.values())
        default_window = (
            2 * options.workers() if offline_only else options.llm_concurrency + options.workers()
        )
        self.window = options.window or default_window
        self.reserved: set[str] = set(db.hashes)
        self._sandbox_failures = 0
        self.prior_cost = float(db.stats()["cost_usd"])
        self._hash_events: dict[int, asyncio.Event] = {}
        best = db.entries.get(db.best_id) if db.best_id else None
        self.state.best = best.score if best else None

    # ---------------------------------------------------------------- choices
    def _choose_backend(self, rng: random.Random) -> str:
        names = [b.name for b in self.opt.backends]
        weights = [b.weight for b in self.opt.backends]
        if len(names) == 1:
            return names[0]
        if self.opt.bandit and rng.random() > 0.2:
            # Epsilon-greedy over observed gain per dollar; arms not yet pulled go first.
            def value(n: str) -> tuple[float, int, int]:
                arm = self.arms[n]
                mean = arm.reward / arm.calls if arm.calls else float("inf")
                return (float("inf") if arm.pulls == 0 else mean, -arm.pulls, -names.index(n))

            choice = max(names, key=value)
        else:
            choice = rng.choices(names, weights=weights, k=1)[0]
        self.arms[choice].pulls += 1
        return choice

    # ---------------------------------------------------------------- one iteration
    def _prepare(self, idx: int, it: int) -> _Prep:
        """Everything random about iteration `it`, drawn synchronously from the applied state."""
        rng = _iter_rng(self.opt.seed, it)
        island = it % self.problem.evolution.num_islands
        parent_id, insp_ids = self.db.sample(island, rng)
        if parent_id is None:
            parent_id = self.db.initial_id
        parent = self.db.get(parent_id) if parent_id else None
        insps = [p for p in (self.db.get(i) for i in insp_ids) if p is not None]
        backend_name = self._choose_backend(rng)
        llm_seed = rng.randrange(2**31)
        self._hash_events[idx] = asyncio.Event()
        return _Prep(island, parent, insps, backend_name, llm_seed)

    async def _iteration(self, idx: int, it: int, prep: _Prep) -> _Done:
        island, parent, insps, backend_name, llm_seed = (
            prep.island,
            prep.parent,
            prep.inspirations,
            prep.backend,
            prep.llm_seed,
        )
        prev = self._hash_events.get(idx - 1)
        event = self._hash_events[idx]
        row = IterationRow(
            iteration=it,
            status="llm_error",
            parent_id=parent.id if parent else None,
            island=island,
            backend=backend_name,
        )
        try:
            if parent is None:
                row.status, row.fault = "no_parent", "no_parent"
                await self._wait(prev)
                return self._finish(row, None, None)
            req = build_request(
                self.problem,
                self.templates,
                parent,
                insps,
                iteration=it,
                seed=llm_seed,
                lessons=self.lessons,
                diff_based=self.diff_based,
                temperature=self.opt.temperature,
                notes=self.db.notes(),
            )
            backend = self.backends[backend_name]
            if getattr(backend, "model", "") == "offline":
                # The offline operator answers at once and skips programs the run already has: it
                # asks after the earlier iterations reserved theirs, so the set (and the run) is the
                # same whatever finishes first. `context` never leaves the process.
                await self._wait(prev)
                req.context["evaluated"] = frozenset(self.reserved)
            completion: Completion | None = None
            async with self.llm_sem:
                self.state.in_flight_llm += 1
                try:
                    completion = await backend.complete(req)
                except BackendError as exc:
                    row.fault, row.detail = backend_fault(exc), exc.message[:500]
                except Exception as exc:  # noqa: BLE001 - a broken reply must not end the campaign
                    row.fault, row.detail = "backend_error", f"{type(exc).__name__}: {exc}"[:500]
                finally:
                    self.state.in_flight_llm -= 1
            if completion is not None:
                row.model, row.cost = completion.model, completion.cost_usd
                row.prompt_tokens, row.completion_tokens = (
                    completion.prompt_tokens,
                    completion.completion_tokens,
                )
                row.retries = completion.retries
            if completion is None:
                await self._wait(prev)
                return self._finish(row, None, parent.combined_score)
            if is_cut_off(completion):
                # A reply cut at its cap (or stopped as a runaway) is a prefix, not an edit: not
                # applied, recorded with its reason, and never quoted into a later prompt.
                row.status, row.fault = "edit_failed", "cut_off"
                row.detail = cut_off_reason(completion, req.max_tokens or reply_cap(req.task))
                await self._wait(prev)
                return self._finish(row, None, parent.combined_score)
            if not completion.text or not completion.text.strip():
                row.status, row.fault = "edit_failed", "empty_reply"
                await self._wait(prev)
                return self._finish(row, None, parent.combined_score)
            edit = apply_reply(parent.code, completion.text)
            row.applied, row.failed = edit.applied, edit.failed
            if edit.code is None:
                row.status, row.fault = "edit_failed", edit.fault
                row.detail = edit.feedback()[:1000]
                await self._wait(prev)
                return self._finish(row, None, parent.combined_score, edit=edit)
            if len(edit.code) > self.problem.evolution.max_code_length:
                row.status, row.fault = "edit_failed", "too_long"
                await self._wait(prev)
                return self._finish(row, None, parent.combined_score, edit=edit)
            code_hash = normalised_hash(edit.code)
            await self._wait(prev)
            if code_hash in self.reserved:
                row.status, row.fault, row.detail = "duplicate", "duplicate", code_hash
                event.set()
                return self._finish(row, None, parent.combined_score, edit=edit)
            self.reserved.add(code_hash)
            event.set()
            self.state.in_flight_eval += 1
            try:
                outcome = await self.executor.evaluate(self.problem, edit.code)
                self._sandbox_failures = 0
            except SandboxError as exc:
                # One job the sandbox could not start is this candidate's fault class; many in a
                # row mean the sandbox itself is broken, and the run stops with that error.
                self._sandbox_failures += 1
                if self._sandbox_failures >= 5:
                    raise
                outcome = EvalOutcome(error=exc.message, fault="sandbox_error")
            finally:
                self.state.in_flight_eval -= 1
            program = self._program(it, parent, island, edit.code, code_hash, outcome, edit, row)
            row.status = "evaluated" if outcome.ok else "eval_failed"
            row.fault = (
                outcome.fault
                if not outcome.ok
                else (
                    edit.fault
                    or ("failed_search" if edit.failed else ("outside_block" if edit.outside else None))
                )
            )
            row.program_id = program.id
            return self._finish(row, program, parent.combined_score, edit=edit)
        finally:
            event.set()
            self._hash_events.pop(idx - 1, None)

    async def _wait(self, prev: asyncio.Event | None) -> None:
        if prev is not None:
            await prev.wait()

    def _program(
        self,
        it: int,
        parent: ProgramRow | None,
        island: int,
        code: str,
        code_hash: str,
        outcome: EvalOutcome,
        edit: EditResult | None,
        row: IterationRow,
    ) -> ProgramRow:
        features = self.db.features_of(
            outcome.metrics, outcome.combined_score, code, parent.code if parent else None
        )
        edit_info: dict[str, Any] = {}
        if edit is not None:
            edit_info = {
                "kind": edit.kind,
                "blocks": edit.blocks,
                "applied": edit.applied,
                "failed": edit.failed,
                "outside": edit.outside,
                "ambiguous": edit.ambiguous,
                "feedback": edit.feedback(),
            }
        return ProgramRow(
            id=f"{it:06d}-{code_hash[:10]}",
            iteration=it,
            parent_id=parent.id if parent else None,
            island=island,
            generation=(parent.generation + 1) if parent else 0,
            code=code,
            code_hash=code_hash,
            status="ok" if outcome.ok else "error",
            metrics=outcome.metrics,
            artifacts=outcome.artifacts,
            combined_score=outcome.combined_score,
            features=features,
            stage_reached=outcome.stage_reached,
            error=outcome.error,
            fault=outcome.fault,
            timings=outcome.timings,
            backend=row.backend,
            model=row.model,
            cost=row.cost,
            diff=edit.diff_text if edit else None,
            edit=edit_info,
        )

    def _finish(
        self,
        row: IterationRow,
        program: ProgramRow | None,
        parent_score: float | None,
        edit: EditResult | None = None,
    ) -> _Done:
        if edit is not None and row.detail is None and program is None:
            row.detail = edit.feedback()[:1000]
        self.db.record(row, program)  # durable before it is counted
        return _Done(row.iteration, program, parent_score, row.backend or "", row.cost, row.fault)

    # ---------------------------------------------------------------- initial program
    async def seed_initial(self) -> None:
        """Decide the candidate import mode on the initial program (kept in the database), then seed."""
        from veriloop.evolve.candidate_import import META_KEY, ImportVerdict, decide, with_mode

        done = 0 in self.db.done_iterations()
        stored = self.db.meta(META_KEY)
        if done and stored:
            self.verdict = ImportVerdict.model_validate_json(stored)
            self.problem = with_mode(self.problem, self.verdict.mode)
            return
        self.problem, self.verdict, outcome = await decide(self.problem, self.executor)
        self.db.set_meta(META_KEY, self.verdict.model_dump_json())
        if done:
            return
        code = self.problem.initial_code
        h = normalised_hash(code)
        row = IterationRow(iteration=0, status="initial", island=0, fault=outcome.fault)
        program = self._program(0, None, 0, code, h, outcome, None, row)
        row.program_id = program.id
        self.db.record(row, program)
        self.reserved.add(h)
        self.db.apply_initial(program)
        self.db.count_applied(0)
        if program.combined_score is not None and program.status == "ok":
            self.state.best = program.combined_score

    # ---------------------------------------------------------------- budgets
    def _spent(self) -> float:
        """Dollars spent by this run, earlier sessions included."""
        try:
            return self.prior_cost + float(self.ledger.snapshot().cost_usd)
        except Exception:  # noqa: BLE001
            return self.prior_cost

    def _check_stop(self) -> None:
        if self.state.stop_reason:
            return
        o = self.opt
        if o.max_wall_s is not None and time.monotonic() - self.state.started >= o.max_wall_s:
            self.state.stop_reason = "wall_time"
        elif o.budget_usd is not None and self._spent() >= o.budget_usd:
            self.state.stop_reason = "budget_usd"
        elif o.target_score is not None and self.state.best is not None and self.state.best >= o.target_score:
            self.state.stop_reason = "target_score"
        elif o.stagnation is not None and self.state.since_improve >= o.stagnation:
            self.state.stop_reason = "stagnation"

    def _apply(self, done: _Done) -> None:
        improved = False
        if done.program is not None:
            self.db.apply(done.program, done.iteration)
            s = done.program.combined_score
            if (
                done.program.status == "ok"
                and s is not None
                and (self.state.best is None or s > self.state.best)
            ):
                self.state.best = s
                improved = True
        self.db.count_applied(done.iteration)
        self.state.since_improve = 0 if improved else self.state.since_improve + 1
        self.state.applied += 1
        arm = self.arms.get(done.backend)
        if arm is not None:
            gain = 0.0
            if (
                done.program is not None
                and done.program.combined_score is not None
                and done.parent_score is not None
            ):
                gain = max(0.0, done.program.combined_score - done.parent_score)
            arm.calls += 1
            arm.reward += gain / max(done.cost, 1e-4)

    # ---------------------------------------------------------------- the pipeline
    async def run(self, schedule: list[int]) -> None:
        tasks: dict[asyncio.Task[_Done], int] = {}
        results: dict[int, _Done] = {}
        next_launch = 0
        next_apply = 0

        def launch() -> None:
            nonlocal next_launch
            while (
                next_launch < len(schedule)
                and next_launch < next_apply + self.window
                and not self.state.stop_reason
            ):
                idx = next_launch
                prep = self._prepare(idx, schedule[idx])
                t = asyncio.create_task(self._iteration(idx, schedule[idx], prep))
                tasks[t] = idx
                next_launch += 1

        self._check_stop()
        launch()
        try:
            while tasks:
                done, _ = await asyncio.wait(list(tasks), return_when=asyncio.FIRST_COMPLETED)
                for t in done:
                    idx = tasks.pop(t)
                    results[idx] = t.result()
                while next_apply in results:
                    self._apply(results.pop(next_apply))
                    next_apply += 1
                    self._check_stop()
                    launch()
                self._show()
        finally:
            for t in tasks:
                t.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    def _show(self) -> None:
        if self.progress is None:
            return
        best = f"{self.state.best:.6g}" if self.state.best is not None else "n/a"
        self.progress.update(
            self.progress_task,
            completed=self.state.applied,
            best=best,
            flight=f"llm {self.state.in_flight_llm} eval {self.state.in_flight_eval}",
            spend=f"${self._spent():.4f}",
        )


def _make_executor(options: EvolveOptions, settings: Settings) -> Executor:
    if options.executor == "ray":
        from veriloop.evolve.executors.ray_executor import RayExecutor

        return RayExecutor(options.workers(), options.address, settings.sandbox)
    if options.executor != "local":
        raise InputError(
            f"Unknown executor '{options.executor}'.", hint="Use --executor local or --executor ray."
        )
    from veriloop.evolve.executors.local import LocalExecutor

    return LocalExecutor(options.workers(), settings.sandbox, isolation=options.isolation)


def run_evolution(
    problem_dir: str | Path,
    settings: Settings,
    options: EvolveOptions | None = None,
    *,
    resume: RunRecord | None = None,
    show_progress: bool = False,
    console: Any = None,
) -> RunSummary:
    """Start a run (or resume `resume`) and drive it to a budget; returns the summary."""
    from veriloop.llm import get_backend
    from veriloop.llm.ledger import UsageLedger

    options = options or EvolveOptions()
    problem = load_problem(problem_dir)
    ledger = UsageLedger()
    executor = _make_executor(options, settings)
    prestart = getattr(executor, "prestart", None)
    if callable(prestart):
        prestart(problem)  # sandboxed workers start while the LLM backends load
    try:
        backends: dict[str, LLMBackend] = {}
        for b in options.backends:
            if b.name not in backends:
                backends[b.name] = get_backend(settings, b.name, ledger=ledger)
        total = options.iterations if options.iterations is not None else problem.evolution.max_iterations
        if resume is None:
            meta = {
                "problem": str(problem.path),
                "problem_name": problem.name,
                "options": options.model_dump(mode="json") | {"iterations": total},
            }
            record = create_run(settings.data_path, "evolve", title=f"evolve {problem.name}", meta=meta)
        else:
            record = update_run(resume, status="running")
        db_cfg = DatabaseConfig(
            num_islands=problem.evolution.num_islands,
            feature_dimensions=problem.features.dimensions,
            feature_bins=problem.features.bins,
            archive_size=problem.evolution.archive_size,
            exploration_ratio=problem.evolution.exploration_ratio,
            exploitation_ratio=problem.evolution.exploitation_ratio,
            migration_interval=problem.evolution.migration_interval,
            migration_rate=problem.evolution.migration_rate,
            num_inspirations=problem.evolution.num_inspirations,
        )
        db = ProgramDatabase(record.dir / "programs.sqlite", db_cfg)
    except BaseException:
        executor.close()
        raise
    lessons = load_lessons(settings, problem)
    started = time.monotonic()
    status, reason = "failed", "error"
    progress = None
    ctl: Controller | None = None
    try:
        ctl = Controller(problem, db, options, backends, executor, ledger, total, lessons)
        done_before = db.done_iterations()
        schedule = [i for i in range(1, total + 1) if i not in done_before]

        async def main() -> None:
            assert ctl is not None
            await ctl.seed_initial()
            if console is not None and ctl.verdict is not None:
                style = "bold yellow" if ctl.verdict.forgeable else "dim"
                console.print(ctl.verdict.sentence(), style=style, highlight=False)
            await ctl.run(schedule)
            for b in backends.values():
                await b.aclose()

        if show_progress:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            progress = Progress(
                TextColumn("[bold]evolve[/] {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("best {task.fields[best]}"),
                TextColumn("{task.fields[flight]}"),
                TextColumn("{task.fields[spend]}"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            )
            progress.start()
            ctl.progress = progress
            ctl.progress_task = progress.add_task(
                problem.name, total=len(schedule), best="n/a", flight="0", spend="$0"
            )
        asyncio.run(main())
        status, reason = "done", ctl.state.stop_reason or "iterations"
    except KeyboardInterrupt:
        status, reason = "interrupted", "interrupted"
        raise
    finally:
        if progress is not None:
            progress.stop()
        executor.close()
        stats = db.stats()
        stats["usage"] = _usage(ledger)
        executor_stats = getattr(executor, "stats", None)
        if callable(executor_stats):
            stats["executor"] = executor_stats()
        db.close()
        verdict = ctl.verdict.model_dump() if ctl is not None and ctl.verdict is not None else {}
        meta = record.meta | {"stats": stats, "stop_reason": reason}
        if verdict:
            meta["candidate_import"] = verdict
        update_run(record, status=status, meta=meta)
    return RunSummary(
        run_id=record.id,
        run_dir=str(record.dir),
        problem=problem.name,
        status=status,
        stop_reason=reason,
        iterations_done=stats["iterations"],
        best_score=stats["best_score"],
        best_program_id=stats["best_id"],
        stats=stats,
        wall_s=round(time.monotonic() - started, 3),
        candidate_import=verdict,
    )


def _usage(ledger: Any) -> dict[str, Any]:
    try:
        snap = ledger.snapshot()
        return {
            "calls": snap.calls,
            "failures": snap.failures,
            "retries": snap.retries,
            "prompt_tokens": snap.prompt_tokens,
            "completion_tokens": snap.completion_tokens,
            "cost_usd": snap.cost_usd,
        }
    except Exception:  # noqa: BLE001
        return {}
