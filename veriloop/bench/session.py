"""Start or resume a bench run: validate inputs, register the run, drive the runner with a progress bar."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from veriloop import runstore
from veriloop.bench.imported import META_KEY as IMPORTED_KEY
from veriloop.bench.imported import load_samples
from veriloop.bench.problem import Suite
from veriloop.bench.runner import BenchRunner, planned_keys, select_problems
from veriloop.bench.spec import IMPORTED, REFERENCE, RunSpec
from veriloop.bench.store import ResultStore, SampleRecord
from veriloop.bench.suites import load_suite
from veriloop.errors import (
    BackendAuthError,
    BackendError,
    BackendUnreachable,
    InputError,
    ModelNotFound,
    StoreError,
    VeriloopError,
)


def check_backend(settings: Any, name: str) -> None:
    """Unknown name, missing key, missing cassette, unreachable endpoint or unserved model: fail now."""
    cfg = settings.backend(name)  # ConfigError for an unknown backend
    hint = "`veriloop doctor` checks every configured backend; nothing was run or saved."
    if cfg.kind == "openai":
        from veriloop.llm import probe_backend

        ok, why = probe_backend(cfg, timeout_s=min(cfg.timeout_s, 10.0))
        if ok:
            return
        err: type[BackendError] = BackendUnreachable
        if "key" in why or "refused access" in why:
            err = BackendAuthError
        elif "does not list model" in why:
            err = ModelNotFound
        raise err(f"Backend '{name}' cannot be used: {why}.", hint=hint)

    async def build() -> None:
        from veriloop.llm import get_backend

        await get_backend(settings, name).aclose()

    asyncio.run(build())


def validate(spec: RunSpec, settings: Any) -> Suite:
    """Everything that can be wrong with the request, checked before any run is created."""
    for b in spec.backends:
        if b != REFERENCE and spec.imported is None:  # imported samples: the backend is only a label
            check_backend(settings, b)
    if not spec.backends:
        raise InputError("Name at least one --backend (or `reference` for the harness self-test).")
    bad = [c for c in spec.configs if c not in ("single-shot", "oracle-tb", "self-verified")
           and spec.suite != "evolve" and spec.imported is None]
    if bad:
        raise InputError(f"Unknown configuration '{bad[0]}'.",
                         hint="Choose single-shot, oracle-tb or self-verified.")
    suite = load_suite(spec.suite, spec.path)
    select_problems(suite, spec)
    return suite


def start_run(spec: RunSpec, settings: Any, console: Console | None = None,
              title: str = "") -> runstore.RunRecord:
    """Validate, create the run (registry + results store), and execute it to the end."""
    validate(spec, settings)
    groups = ", ".join(b if c == "reference" else f"{b}/{c}" for b, c in spec.pairs())
    title = title or f"{spec.suite}: {groups}, n={spec.n}"
    record = runstore.create_run(settings.data_path, "bench", title, meta={"spec": spec.model_dump()})
    with ResultStore.open(record.dir) as store:
        store.set_meta("spec", spec.model_dump())
    return execute(record, settings, console)


def start_grade(suite_name: str, suite_path: str | None, samples: Path, settings: Any,
                console: Console | None = None, label: str = "", timeout_s: float = 30.0,
                problems: str | None = None) -> runstore.RunRecord:
    """Grade samples made elsewhere as a bench run of their own: one group (`label`, config
    `imported`), pass@k over the samples given; the texts are kept in the run's store, so the run
    resumes, reports and compares like any other."""
    if suite_name == "evolve":
        raise InputError("The evolve suite's samples are campaigns, not texts: they cannot be graded.")
    suite = load_suite(suite_name, suite_path)
    imported = load_samples(samples, suite)
    label = label or _label(samples)
    spec = RunSpec(suite=suite_name, path=suite_path, backends=[label], configs=[IMPORTED],
                   n=max(imported.counts().values()), problems=problems, timeout_s=timeout_s,
                   imported=imported.counts(), samples_from=imported.source)
    select_problems(suite, spec)
    title = f"{suite_name}: graded {label} ({imported.layout}, {sum(imported.counts().values())} samples)"
    record = runstore.create_run(settings.data_path, "bench", title, meta={"spec": spec.model_dump()})
    with ResultStore.open(record.dir) as store:
        store.set_meta(IMPORTED_KEY, imported.texts)
        store.set_meta("spec", spec.model_dump())
    return execute(record, settings, console)


def _label(samples: Path) -> str:
    name = Path(samples).expanduser().resolve().name
    stem = name.rsplit(".", 1)[0] if name.endswith((".jsonl", ".json")) else name
    return stem or "samples"


def load_spec(record: runstore.RunRecord) -> RunSpec:
    if not (record.dir / "results.sqlite").is_file():
        raise StoreError(f"Bench run {record.id} has no results store.")
    with ResultStore.open(record.dir) as store:
        data = store.get_meta("spec")
    if data is None:
        raise StoreError(f"Bench run {record.id} does not record what it was asked to run.")
    return RunSpec.model_validate(data)


def execute(record: runstore.RunRecord, settings: Any, console: Console | None = None) -> runstore.RunRecord:
    """Run every sample of the record's spec that the store does not hold yet (fresh or resumed)."""
    if record.kind != "bench":
        raise InputError(f"Run {record.id} is a {record.kind} run, not a bench run.")
    spec = load_spec(record)
    if spec.suite == "evolve":
        from veriloop.bench.evolve_runner import execute_evolve

        return execute_evolve(record, spec, settings, console)
    suite = validate(spec, settings)
    problems = select_problems(suite, spec)
    console = console or Console(stderr=True)
    record = runstore.update_run(record, status="running")
    with ResultStore.open(record.dir) as store:
        done = store.done_keys()
        keys = [k for k in planned_keys(problems, spec) if k not in done]
        status, error = "failed", ""
        try:
            _drive(spec, settings, store, record, problems, keys, console)
            status = "done"
        except (KeyboardInterrupt, asyncio.CancelledError):
            status = "interrupted"
            raise
        except VeriloopError as exc:
            error = exc.message
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            meta = {k: v for k, v in record.meta.items() if k != "error"} | {"summary": _summary(store)}
            if status == "failed":
                meta["error"] = error or "stopped on an unexpected error"
            record = runstore.update_run(record, status=status, meta=meta)
    return record


def _summary(store: ResultStore) -> dict[str, Any]:
    recs = store.records()
    return {"samples": len(recs), "passed": sum(1 for r in recs if r.passed),
            "cost_usd": round(sum(r.cost_usd for r in recs), 6)}


def _drive(spec: RunSpec, settings: Any, store: ResultStore, record: runstore.RunRecord,
           problems: list[Any], keys: list[tuple[str, str, str, int]], console: Console) -> None:
    total_planned = len(planned_keys(problems, spec))
    already = total_planned - len(keys)
    stats = {"passed": sum(1 for r in store.records() if r.passed), "cost": 0.0}
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("pass {task.fields[passed]}"), TextColumn("${task.fields[cost]:.4f}"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False,
    )
    with progress:
        task = progress.add_task(f"bench {record.id}", total=total_planned, completed=already,
                                 passed=stats["passed"], cost=0.0)

        def on_sample(rec: SampleRecord) -> None:
            stats["passed"] += int(rec.passed)
            stats["cost"] += rec.cost_usd
            progress.update(task, advance=1, passed=stats["passed"], cost=stats["cost"])

        runner = BenchRunner(spec, settings, store, record.dir, problems, on_sample)
        asyncio.run(runner.run(keys))
