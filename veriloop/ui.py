"""Terminal output: one rich console, the global --json mode, and error rendering."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from veriloop.errors import VeriloopError


def make_console(stderr: bool = False) -> Console:
    """A rich console that never wraps plain lines when its stream is not a terminal: errors, ids and
    paths piped into a file or another program stay on one line, however long (tables still fit the
    width; their id columns do not fold, see `runs list`)."""
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console.soft_wrap = True
    return console


@dataclass
class OutputMode:
    """What the root callback decided: JSON or rich, and where to print."""

    json: bool = False
    config_file: Path | None = None
    record: Path | None = None
    console: Console = field(default_factory=make_console)
    err_console: Console = field(default_factory=lambda: make_console(stderr=True))


def mode(ctx: typer.Context | None = None, local_json: bool = False) -> OutputMode:
    """The output mode of this invocation; a command's own --json also switches it on."""
    root = ctx.find_root() if ctx is not None else None
    found = root.obj if root is not None and isinstance(root.obj, OutputMode) else OutputMode()
    if local_json and not found.json:
        found = OutputMode(json=True, config_file=found.config_file, record=found.record,
                           console=found.console, err_console=found.err_console)
    return found


def to_jsonable(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, list):
        return [to_jsonable(o) for o in obj]
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    return obj


def print_json(obj: Any) -> None:
    """Print a result as JSON on stdout (plain, so pipes and jq read it)."""
    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, default=str) + "\n")
    sys.stdout.flush()


def line(console: Console, text: str, style: str | None = None) -> None:
    """Print one line as is: never wrapped (ids, paths and errors stay whole in a pipe), no markup."""
    console.print(text, style=style, soft_wrap=True, markup=False, highlight=False, crop=False)


def render_error(err: VeriloopError, console: Console | None = None) -> None:
    console = console or make_console(stderr=True)
    console.print(f"[bold red]error:[/] {escape(err.message)}", highlight=False)
    if err.hint:
        console.print(f"[dim]hint:[/] {escape(err.hint)}", highlight=False)


def settings(ctx: typer.Context | None = None):  # type: ignore[no-untyped-def]
    """Load the effective settings for this invocation (honours the global --config)."""
    from veriloop.config import load_settings

    out = mode(ctx)
    settings = load_settings(out.config_file)
    if out.record is not None:
        settings.record = str(out.record)
    return settings


def runs_table(records: list[Any], width: int = 80) -> Table:
    """Runs one per line: whole ids (never folded, whatever the width), the status a person needs
    (killed, not verified, error...), the creation minute; the title is cut to the width left."""
    from veriloop.runstore import display_status

    rows = [[r.id, r.kind, display_status(r), r.created.replace("T", " ")[:16], r.title] for r in records]
    names = ("id", "kind", "status", "created")
    widths = [max(len(name), *(len(row[i]) for row in rows)) for i, name in enumerate(names)]
    room = max(6, width - sum(widths) - 3 * len(widths) - 1)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name, w in zip(names, widths, strict=True):
        table.add_column(name, no_wrap=True, min_width=w)
    table.add_column("title", no_wrap=True, max_width=room)
    for row in rows:
        title = row[4] if len(row[4]) <= room else row[4][: room - 1] + "…"
        table.add_row(*row[:4], title)
    return table
