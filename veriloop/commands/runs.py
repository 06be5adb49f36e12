"""CLI group 'runs': list, show, resume and export design, evolve and bench runs."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import typer

from veriloop import runstore, ui
from veriloop.errors import InputError

app = typer.Typer(no_args_is_help=True, help="Runs are stored under the data dir; each has an id.")

# Each run kind's package owns how its runs are shown, resumed and exported.
_OWNERS = {"design": "veriloop.agents.runs", "evolve": "veriloop.evolve.runs", "bench": "veriloop.bench.runs"}


def _owner(kind: str) -> ModuleType:
    return importlib.import_module(_OWNERS[kind])


def _record(ctx: typer.Context, run_id: str) -> tuple[Any, runstore.RunRecord]:
    settings = ui.settings(ctx)
    return settings, runstore.load_run(settings.data_path, run_id)


@app.command("list")
def list_(
    ctx: typer.Context,
    kind: str | None = typer.Option(None, "--kind", help="Only runs of this kind: design, evolve or bench."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List runs, oldest first."""
    if kind is not None and kind not in _OWNERS:
        raise InputError(f"Unknown run kind '{kind}'.", hint="Use design, evolve or bench.")
    settings = ui.settings(ctx)
    records = runstore.list_runs(settings.data_path, kind)  # type: ignore[arg-type]
    out = ui.mode(ctx, json_out)
    if out.json:
        ui.print_json([r.model_dump(mode="json") | {"state": runstore.display_status(r)} for r in records])
        return
    if not records:
        ui.line(out.console, f"No runs under {runstore.runs_root(settings.data_path)}.")
        return
    out.console.print(ui.runs_table(records, out.console.width))


@app.command("show")
def show(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., help="The run's id (see `veriloop runs list`)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a run's summary: status, best result, spend."""
    _, record = _record(ctx, run_id)
    summary = {"run": record.model_dump(mode="json"), **_owner(record.kind).show(record)}
    out = ui.mode(ctx, json_out)
    if out.json:
        ui.print_json(summary | {"state": runstore.display_status(record)})
        return
    ui.show_run_header(out.console, record)
    if record.kind == "bench":
        from veriloop.bench.report import load_report
        from veriloop.commands.bench import print_tables

        print_tables(out.console, load_report(record))
    elif record.kind == "design":
        ui.show_design(out.console, summary)
    else:
        ui.show_evolve(out.console, summary)


@app.command("resume")
def resume(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., help="The run to continue from its last checkpoint."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Continue a run that was interrupted or killed, without redoing finished work."""
    settings, record = _record(ctx, run_id)
    out = ui.mode(ctx, json_out)
    code = _RESUME[record.kind](out, record, settings)
    # A resumed run that ends without its goal (e.g. a design not verified) exits non-zero.
    if code:
        raise typer.Exit(code)


def _resume_design(out: ui.OutputMode, record: runstore.RunRecord, settings: Any) -> int:
    """Resume with the live view `design` shows, and end with its summary."""
    from veriloop.agents.view import LiveView, ask_human
    from veriloop.commands.design import render_result

    view = LiveView(out.err_console, enabled=not out.json)
    with view:
        view.started(record)
        ask = (lambda p: view.ask(p, ask_human)) if out.err_console.is_terminal else None
        result = _owner("design").resume(record, settings, progress=view.update, ask=ask)
    if out.json:
        ui.print_json(result)
    else:
        render_result(out.console, result.model_dump())
    return int(result.exit_code)


def _resume_evolve(out: ui.OutputMode, record: runstore.RunRecord, settings: Any) -> int:
    from veriloop.commands.evolve import render_summary

    summary = _owner("evolve").resume(record, settings, show_progress=not out.json, console=out.err_console)
    if out.json:
        ui.print_json(summary)
    else:
        render_summary(out.console, summary)
    return 0


def _resume_bench(out: ui.OutputMode, record: runstore.RunRecord, settings: Any) -> int:
    from veriloop.bench.report import load_report
    from veriloop.commands.bench import render_run

    record = _owner("bench").resume(record, settings, console=out.err_console)
    render_run(out, load_report(record), record.id)
    return 0


_RESUME = {"design": _resume_design, "evolve": _resume_evolve, "bench": _resume_bench}


@app.command("export")
def export(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., help="The run to export."),
    out_dir: Path = typer.Option(Path("."), "--out", help="Directory to write the export into."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Write a run's artefacts (best design/program, history, plots, reports) to a directory."""
    _, record = _record(ctx, run_id)
    dest = out_dir / record.id
    dest.mkdir(parents=True, exist_ok=True)
    paths = _owner(record.kind).export(record, dest)
    out = ui.mode(ctx, json_out)
    if out.json:
        ui.print_json([str(p) for p in paths])
    else:
        for p in paths:
            out.console.print(str(p))
