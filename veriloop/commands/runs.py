"""CLI group 'runs': list, show, resume and export design, evolve and bench runs."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import typer
from rich.pretty import Pretty

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
        ui.print_json(summary)
    else:
        out.console.print(Pretty(summary, max_string=400))


@app.command("resume")
def resume(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., help="The run to continue from its last checkpoint."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Continue a run that was interrupted or killed, without redoing finished work."""
    settings, record = _record(ctx, run_id)
    result = _owner(record.kind).resume(record, settings)
    out = ui.mode(ctx, json_out)
    if out.json:
        ui.print_json(result)
    elif result is not None:
        out.console.print(Pretty(ui.to_jsonable(result), max_string=400))
    # A resumed run that ends without its goal (e.g. a design not verified) exits non-zero.
    code = getattr(result, "exit_code", 0)
    if isinstance(code, int) and code:
        raise typer.Exit(code)


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
