"""CLI group 'tools': lint, simulate, synthesise and check equivalence through the sandbox."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True, help="Run EDA tools (Verilator, Icarus, Yosys) in the sandbox.")


def _check(files: list[Path]) -> None:
    from veriloop.errors import InputError

    for f in files:
        if not f.is_file():
            raise InputError(f"Source file {f} does not exist.")


@app.command("lint")
def lint(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="Verilog/SystemVerilog files."),
    top: str | None = typer.Option(None, "--top", help="Top module."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Verilator --lint-only -Wall: diagnostics with file, line, code and severity."""
    from rich.table import Table

    from veriloop import ui
    from veriloop.tools.verilator import lint as run_lint

    _check(files)
    out = ui.mode(ctx, json_out)
    rep = run_lint(files, top=top)
    if out.json:
        ui.print_json(rep)
    else:
        table = Table("severity", "code", "location", "message", title=f"lint ({rep.tool_version})")
        for d in rep.diagnostics:
            table.add_row(d.severity, d.code or "", f"{d.file}:{d.line}:{d.column or ''}", d.message)
        out.console.print(table)
        out.console.print(
            "[green]clean[/]" if rep.ok else f"[red]{rep.errors} error(s)[/], {rep.warnings} warning(s)"
        )
    raise typer.Exit(0 if rep.ok else 1)


@app.command("sim")
def sim(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="Design files."),
    tb: Path = typer.Option(..., "--tb", help="Testbench file (top module 'tb' unless --top)."),
    ref: Path | None = typer.Option(
        None, "--ref", help="Reference module compiled beside the design (VerilogEval's RefModule)."
    ),
    top: str = typer.Option("tb", "--top", help="Simulation top module."),
    timeout: float = typer.Option(30.0, "--timeout", help="Simulation wall-clock limit (s)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Grade the design against the testbench with the honest grader (the same one bench and design use).

    The testbench must print one `Mismatches: N in M samples` summary; the design is screened first
    (no $finish, file access, `include, names outside itself...) and a refusal is `illegal`."""
    from veriloop import ui
    from veriloop.tools.grading import grade_files

    _check([*files, tb, *([ref] if ref else [])])
    out = ui.mode(ctx, json_out)
    rep = grade_files(files, [tb], [ref] if ref else None, top=top, timeout_s=timeout)
    if out.json:
        ui.print_json(rep)
    else:
        colour = "green" if rep.passed else "red"
        checked = ""
        if rep.samples is not None:
            golden = f" (golden reference: {rep.expected_samples})"
            checked = golden if rep.samples_checked else " (not cross-checked)"
        out.console.print(
            f"[{colour}]{rep.category}[/] mismatches={rep.mismatches} samples={rep.samples}{checked} "
            f"first_mismatch_time={rep.first_mismatch_time} (iverilog {rep.tool_versions.get('iverilog')})",
            highlight=False,
        )
        for h in rep.hints:
            out.console.print(f"  output {h.name}: {h.mismatches} mismatches, first at {h.first_time}")
        if rep.detail:
            out.console.print(rep.detail, highlight=False, markup=False)
        if not rep.passed and rep.log_tail and rep.log_tail != rep.detail:
            out.console.print(rep.log_tail, highlight=False, markup=False)
    raise typer.Exit(0 if rep.passed else 1)


@app.command("synth")
def synth(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="Design files."),
    top: str = typer.Option(..., "--top", help="Top module."),
    liberty: Path | None = typer.Option(None, "--liberty", help="Liberty file for mapping and area."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Yosys synth: cells by type, area estimate, logic depth."""
    from rich.table import Table

    from veriloop import ui
    from veriloop.tools.yosys import synthesize

    _check(files)
    out = ui.mode(ctx, json_out)
    rep = synthesize(files, top, liberty=str(liberty) if liberty else None)
    if out.json:
        ui.print_json(rep)
    elif rep.synthesizes:
        table = Table(
            "cell",
            "count",
            title=f"{top}: {rep.cells} cells, area {rep.area} {rep.area_unit}, depth {rep.logic_depth}",
        )
        for cell, n in sorted(rep.cells_by_type.items()):
            table.add_row(cell, str(n))
        out.console.print(table)
    else:
        out.console.print(f"[red]does not synthesise[/]: {'; '.join(rep.errors)}", highlight=False)
    raise typer.Exit(0 if rep.synthesizes else 1)


@app.command("equiv")
def equiv(
    ctx: typer.Context,
    a: Path = typer.Argument(..., help="The reference (its x values are don't-cares)."),
    b: Path = typer.Argument(..., help="The design checked against it (an output it never drives fails)."),
    top: str = typer.Option(..., "--top", help="Top module (same name and ports in both)."),
    bound: int = typer.Option(20, "--bound", help="Cycles for the bounded search (sequential designs)."),
    engine: str = typer.Option(
        "yosys", "--engine", help="yosys (system Yosys) or sby (SymbiYosys via yowasp)."
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Formal equivalence: proved / refuted (with counterexample) / unknown. Exit 0 only when proved."""
    from veriloop import ui
    from veriloop.tools.equiv import check_equivalence

    _check([a, b])
    out = ui.mode(ctx, json_out)
    if engine not in ("yosys", "sby"):
        from veriloop.errors import InputError

        raise InputError(
            f"Unknown equivalence engine '{engine}'.", hint="Use --engine yosys or --engine sby."
        )
    rep = check_equivalence([a], [b], top, bound=bound, engine="sby" if engine == "sby" else "yosys")
    if out.json:
        ui.print_json(rep)
    else:
        colour = {"proved": "green", "refuted": "red"}.get(rep.status, "yellow")
        out.console.print(f"[{colour}]{rep.status}[/] ({rep.method}) {rep.detail}", highlight=False)
        if rep.counterexample:
            out.console.print(ui.counterexample_table(rep.counterexample, rep.sequential))
            held = ui.constant_inputs(rep.counterexample) if rep.sequential else {}
            if held:
                ui.line(out.console, "held at every step: " + ", ".join(f"{k} = {v}" for k, v in held.items())
                        + " (a clock is not toggled by the bounded search: each step is one clock cycle)")
    raise typer.Exit({"proved": 0, "refuted": 1}.get(rep.status, 2))
