"""CLI command 'design': spec (text or file) in, verified RTL and a report out, with a live view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from veriloop import ui


def _spec_text(spec: str) -> str:
    """The spec argument is a file when it names one (or looks like a path), else the spec itself."""
    single = "\n" not in spec and len(spec) < 1024
    path = Path(spec)
    try:
        is_file = single and bool(spec.strip()) and path.exists()
    except OSError:
        is_file = False
    looks_like_path = (
        single and " " not in spec.strip() and ("/" in spec or spec.endswith((".txt", ".md", ".spec")))
    )
    if not (is_file or looks_like_path):
        return spec
    from veriloop.agents.run import read_input_file

    return read_input_file(path, "spec")


def design(
    ctx: typer.Context,
    spec: str = typer.Argument(..., help="The spec as text, or a file that holds it."),
    tb: Path | None = typer.Option(
        None,
        "--tb",
        help="Your testbench (top `tb`, prints 'Mismatches: N in M samples'); implies --mode oracle-tb.",
    ),
    ref: Path | None = typer.Option(
        None, "--ref", help="A reference design: equivalence is checked against it."
    ),
    top: str | None = typer.Option(None, "--top", help="Name of the top module."),
    out: Path | None = typer.Option(
        None, "--out", help="Write RTL, testbench and reports here (default: the run dir)."
    ),
    backend: str | None = typer.Option(
        None, "--backend", help="LLM backend of the agents (a per-agent backend in the config wins)."
    ),
    max_iters: int = typer.Option(4, "--max-iters", help="Verification iterations before giving up."),
    budget_usd: float | None = typer.Option(
        None, "--budget-usd", help="Stop when this many dollars are spent."
    ),
    interactive: bool = typer.Option(
        False, "--interactive", help="Ask a human to approve the plan and the design."
    ),
    mode: str | None = typer.Option(
        None, "--mode", help="self-verified (default) or oracle-tb (needs --tb)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed passed to the LLM backends."),
    samples: int = typer.Option(
        1, "--samples", help="Candidate designs written in parallel on the first pass; the best is kept."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Turn a natural-language spec into verified RTL (planner, architect, generator, verifier, evaluator)."""
    from veriloop.agents.run import run_design
    from veriloop.agents.view import LiveView, ask_human

    om = ui.mode(ctx, json_out)
    settings = ui.settings(ctx)
    text = _spec_text(spec)
    view = LiveView(om.err_console, enabled=not om.json)
    with view:
        result = run_design(
            text,
            settings,
            tb=tb,
            ref=ref,
            top=top,
            out_dir=out,
            backend=backend,
            max_iters=max_iters,
            budget_usd=budget_usd,
            interactive=interactive,
            mode=mode,
            seed=seed,
            samples=samples,
            progress=view.update,
            ask=(lambda p: view.ask(p, ask_human)) if interactive else None,
            on_start=view.started,
        )
    if om.json:
        ui.print_json(result)
    else:
        render_result(om.console, result.model_dump())
    if not result.verified:
        raise typer.Exit(1)


def render_result(console: Any, r: dict[str, Any]) -> None:
    """The end-of-run summary of a design run (also printed by `runs resume`)."""
    from rich.markup import escape

    rep = r.get("report") or {}
    colour = "green" if r["verified"] else "red"
    console.print(
        f"[bold {colour}]{r['status'].upper()}[/]: {escape(r['reason'].rstrip('.'))}. (run {r['run_id']})",
        highlight=False,
    )
    if rep.get("evidence"):
        console.print("\n".join(rep["evidence"].splitlines()[:4]), highlight=False, markup=False)
    ppa = rep.get("ppa") or {}
    if ppa.get("synthesized"):
        console.print(
            f"PPA: {ppa.get('cells')} cells, area {ppa.get('area')}, depth {ppa.get('depth')}",
            highlight=False,
        )
    if rep:
        console.print(
            f"{rep.get('iterations')} iteration(s), {rep.get('calls')} LLM call(s), "
            f"{rep.get('prompt_tokens', 0) + rep.get('completion_tokens', 0)} tokens, "
            f"${rep.get('usd', 0):.4f}",
            highlight=False,
        )
    console.print(f"Outputs: {r['out_dir']} (report.md, transcript.md)", highlight=False)
    if r.get("status") == "interrupted":
        console.print(f"Resume with: veriloop runs resume {r['run_id']}", highlight=False)
