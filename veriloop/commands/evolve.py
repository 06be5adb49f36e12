"""CLI command 'evolve': run or resume an ADRS-style evolution campaign on a problem directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from veriloop import ui


def evolve(
    ctx: typer.Context,
    problem_dir: Path | None = typer.Argument(None, help="OpenEvolve-style problem directory."),
    backend: list[str] = typer.Option(
        [], "--backend", "-b", help="Backend name, optionally NAME:WEIGHT; repeat for an ensemble."
    ),
    bandit: bool = typer.Option(False, "--bandit", help="Pick among backends by observed gain per dollar."),
    iterations: int | None = typer.Option(None, "--iterations", "-n", min=0, help="Iterations to run."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed + offline = same database)."),
    resume: str | None = typer.Option(None, "--resume", help="Continue a killed or stopped run by id."),
    executor: str = typer.Option("local", "--executor", help="local (sandbox pool) or ray."),
    address: str | None = typer.Option(None, "--address", help="Ray cluster address (with --executor ray)."),
    isolation: str = typer.Option(
        "warm", "--isolation", help="warm (sandboxed worker pool, fork per candidate) or per-candidate."
    ),
    budget_usd: float | None = typer.Option(
        None, "--budget-usd", min=0, help="Stop after this many dollars."
    ),
    max_wall: float | None = typer.Option(
        None, "--max-wall", min=0.001, help="Stop after this many seconds."
    ),
    target_score: float | None = typer.Option(
        None, "--target-score", help="Stop once the best reaches this."
    ),
    stagnation: int | None = typer.Option(
        None, "--stagnation", min=1, help="Stop after N iterations w/o gain."
    ),
    llm_concurrency: int = typer.Option(16, "--llm-concurrency", min=1, help="LLM requests in flight."),
    eval_workers: int = typer.Option(
        0, "--eval-workers", min=0, help="Evaluations in flight (0: CPU cores)."
    ),
    full_rewrite: bool = typer.Option(False, "--full-rewrite", help="Ask for full rewrites, not diffs."),
    templates: Path | None = typer.Option(
        None, "--templates", help="Directory of prompt templates overriding the built-in ones by file name."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
) -> None:
    """Evolve a program: LLM edits, sandboxed cascade evaluation, islands + MAP-Elites database."""
    from veriloop.errors import InputError
    from veriloop.evolve.controller import BackendChoice, EvolveOptions, run_evolution
    from veriloop.runstore import load_run

    out = ui.mode(ctx, json_out)
    settings = ui.settings(ctx)
    record = None
    if isolation not in ("warm", "per-candidate"):
        raise InputError(
            f"Unknown isolation mode '{isolation}'.",
            hint="Use --isolation warm or --isolation per-candidate.",
        )
    if resume:
        record = load_run(settings.data_path, resume)
        if record.kind != "evolve":
            raise InputError(f"Run {resume} is a {record.kind} run, not an evolve run.")
        stored = EvolveOptions.model_validate(record.meta.get("options") or {})
        updates: dict[str, object] = {}
        if iterations is not None:
            updates["iterations"] = iterations
        if backend:
            updates["backends"] = [BackendChoice.parse(b) for b in backend]
        for key, val in (
            ("budget_usd", budget_usd),
            ("max_wall_s", max_wall),
            ("target_score", target_score),
        ):
            if val is not None:
                updates[key] = val
        options = stored.model_copy(update=updates)
        problem_path = Path(record.meta.get("problem", ""))
        if problem_dir is not None:
            problem_path = problem_dir
    else:
        if problem_dir is None:
            raise InputError(
                "Give a problem directory (or --resume RUN).",
                hint="e.g. `veriloop evolve moe_eplb` (see `veriloop problems list`) or a directory.",
            )
        options = EvolveOptions(
            backends=[BackendChoice.parse(b) for b in backend] or [BackendChoice(name="offline")],
            bandit=bandit,
            iterations=iterations,
            seed=seed,
            llm_concurrency=llm_concurrency,
            eval_workers=eval_workers,
            budget_usd=budget_usd,
            max_wall_s=max_wall,
            target_score=target_score,
            stagnation=stagnation,
            executor=executor,
            address=address,
            isolation=isolation,  # type: ignore[arg-type]
            diff_based=False if full_rewrite else None,
            templates_dir=str(templates.resolve()) if templates else None,
        )
        problem_path = problem_dir
    problem_path = _resolve_problem(problem_path)
    summary = run_evolution(
        problem_path, settings, options, resume=record, show_progress=not out.json, console=out.err_console
    )
    if out.json:
        ui.print_json(summary)
        return
    render_summary(out.console, summary)


def render_summary(c: Any, summary: Any) -> None:
    """The end-of-run summary of an evolve run (also printed by `runs resume`)."""
    best = f"{summary.best_score:.6g}" if summary.best_score is not None else "n/a"
    c.print(
        f"[bold]run[/] {summary.run_id}  problem {summary.problem}  stopped by {summary.stop_reason}",
        highlight=False,
    )
    c.print(
        f"iterations {summary.iterations_done}  programs {summary.stats.get('programs')}  best {best} "
        f"({summary.best_program_id})  spend ${summary.stats.get('cost_usd', 0):.4f}  {summary.wall_s:.1f}s",
        highlight=False,
    )
    if summary.candidate_import.get("forgeable"):
        from veriloop.evolve.candidate_import import ImportVerdict

        verdict = ImportVerdict.model_validate(summary.candidate_import)
        c.print(verdict.sentence(), style="bold yellow", highlight=False)
    faults = summary.stats.get("faults") or {}
    if faults:
        c.print("faults: " + ", ".join(f"{k} {v}" for k, v in sorted(faults.items())), highlight=False)
    c.print(
        f"database {summary.run_dir}/programs.sqlite; `veriloop runs show {summary.run_id}`", highlight=False
    )


def _resolve_problem(path: Path) -> Path:
    """A directory as given, or the built-in problem of that bare name (e.g. `moe_eplb`)."""
    if path.exists() or len(path.parts) != 1:
        return path
    from veriloop.problems import problem_path

    return problem_path(str(path))
