"""CLI group 'problems': list the built-in evolution problems with their metric and baseline."""

from __future__ import annotations

import typer

from veriloop import ui

app = typer.Typer(
    no_args_is_help=True, help="Built-in evolution problems (run one with `veriloop evolve PATH`)."
)


@app.command("list")
def list_(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One line per built-in problem: name, kind, metric (direction), baseline score, summary."""
    from veriloop.problems import list_problems

    problems = list_problems()
    out = ui.mode(ctx, json_out)
    if out.json:
        ui.print_json([p.to_json() for p in problems])
        return
    width = max((len(p.name) for p in problems), default=8)
    out.console.print(f"[bold]{'problem':<{width}}  {'kind':<8}  {'baseline':>8}     metric — summary[/]")
    for p in problems:
        base = f"{p.baseline_score:.4g}" if p.baseline_score is not None else "-"
        arrow = "↑" if p.direction == "max" else "↓"
        line = f"{p.name:<{width}}  {p.kind:<8}  {base:>8}  {arrow}  {p.metric} — {p.summary}"
        out.console.print(line, no_wrap=True, overflow="ellipsis", crop=True, highlight=False, markup=False)
    out.console.print(f"[dim]{len(problems)} problems; run one with `veriloop evolve <path>` "
                      "(`veriloop problems path NAME` prints the path).[/]")


@app.command("path")
def path(name: str = typer.Argument(..., help="A built-in problem's name.")) -> None:
    """Print the directory of a built-in problem (for `veriloop evolve $(veriloop problems path NAME)`)."""
    from veriloop.problems import problem_path

    typer.echo(str(problem_path(name)))
