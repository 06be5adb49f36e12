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


def show_run_header(console: Console, record: Any) -> None:
    """`runs show`: the lines every run kind starts with (id, kind, state, created, title)."""
    from veriloop.runstore import display_status

    state = display_status(record)
    line(console, f"run {record.id}  ·  {record.kind}  ·  {state}  ·  created {record.created}")
    if record.title:
        line(console, f"title: {record.title}")
    error = record.meta.get("error")
    if error:
        line(console, f"stopped on: {error}")


def show_design(console: Console, summary: dict[str, Any]) -> None:
    """`runs show` of a design run: its verdict, evidence, spend and where the thread stands."""
    rep = summary.get("report") or {}
    if rep:
        line(console, f"verdict: {str(rep.get('status', '')).upper()}: {rep.get('reason', '')}")
        for ev in str(rep.get("evidence") or "").splitlines()[:4]:
            line(console, f"  {ev}")
        line(console, f"{rep.get('iterations')} iteration(s), {rep.get('calls')} LLM call(s), "
                      f"{int(rep.get('prompt_tokens', 0) or 0) + int(rep.get('completion_tokens', 0) or 0)} "
                      f"tokens, ${float(rep.get('usd', 0) or 0):.4f}")
    thread = summary.get("thread") or {}
    if thread:
        verdicts = ", ".join(f"{v.get('iteration')}: {'PASS' if v.get('passed') else v.get('category')}"
                             for v in thread.get("verdicts") or []) or "none yet"
        line(console, f"thread: iteration {thread.get('iteration')}, verdicts {verdicts}")
        if thread.get("next"):
            line(console, f"next step: {', '.join(thread['next'])}")
        if thread.get("waiting_for_human"):
            line(console, "waiting for a human: answer with `veriloop runs resume ID` in a terminal")
    line(console, f"outputs: {summary.get('out_dir')}")


def show_evolve(console: Console, summary: dict[str, Any]) -> None:
    """`runs show` of an evolve run: the best program, progress and spend, faults and warnings."""
    stats = summary.get("stats") or {}
    best = summary.get("best") or {}
    line(console, f"problem: {summary.get('problem')}")
    if best:
        line(console, f"best: {best.get('score'):.6g} (program {best.get('id')}, "
                      f"iteration {best.get('iteration')})")
    else:
        line(console, "best: none yet")
    line(console, f"iterations {stats.get('iterations')}  programs {stats.get('programs')}  "
                  f"spend ${float(stats.get('cost_usd') or 0):.4f}  "
                  f"stopped by {stats.get('stop_reason') or '-'}")
    faults = stats.get("faults") or {}
    if faults:
        line(console, "faults: " + ", ".join(f"{k} {v}" for k, v in sorted(faults.items())))
    warning = (summary.get("candidate_import") or {}).get("warning")
    if warning:
        line(console, str(warning), style="bold yellow")
    line(console, f"export the best program: veriloop runs export {summary.get('run_id')} --out DIR")


def counterexample_table(values: list[Any], sequential: bool) -> Table:
    """A counterexample as one row per step and one column per input that changes; inputs held at one
    value over a sequential trace (a clock, which the bounded search never toggles) are in
    `constant_inputs`, not repeated in every row."""
    steps = sorted({v.step for v in values})
    cell = {(v.step, v.signal): str(v.value) for v in values}
    held = constant_inputs(values) if sequential else {}
    signals = [s for s in dict.fromkeys(v.signal for v in values) if s not in held]
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("step" if sequential else "", justify="right", no_wrap=True)
    for sig in signals:
        table.add_column(sig, justify="right", no_wrap=True)
    for st in steps:
        table.add_row(str(st), *(cell.get((st, sig), "") for sig in signals))
    return table


def constant_inputs(values: list[Any]) -> dict[str, str]:
    """Inputs of a trace of two steps or more that keep one value at every step: signal -> value."""
    steps = {v.step for v in values}
    seen: dict[str, set[str]] = {}
    for v in values:
        seen.setdefault(v.signal, set()).add(str(v.value))
    counts: dict[str, int] = {}
    for v in values:
        counts[v.signal] = counts.get(v.signal, 0) + 1
    if len(steps) < 2:
        return {}
    return {sig: next(iter(vals)) for sig, vals in seen.items()
            if len(vals) == 1 and counts[sig] == len(steps)}
