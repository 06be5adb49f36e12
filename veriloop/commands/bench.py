"""CLI group 'bench': run a benchmark, render a run's report, compare two runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from veriloop import ui
from veriloop.errors import InputError

app = typer.Typer(no_args_is_help=True, help="Compare LLM backends and agent configurations on RTL suites.")

_FORMATS = ("table", "json", "md", "html")


def print_tables(console: Any, report: Any) -> None:
    """The run's tables and its unsolved problems with the reason (also used by `runs show`)."""
    from veriloop.bench.report.text import evolve_table, rich_table, unsolved_lines

    if report.groups or not report.evolve:
        console.print(rich_table(report))
        for line in unsolved_lines(report):
            ui.line(console, line)
    if report.evolve:
        console.print(evolve_table(report))


def problem_selection(value: str | None) -> str | None:
    """--problems as stored in the run: globs as given, or the ids listed in @FILE joined by commas."""
    if not value or not value.startswith("@"):
        return value
    path = Path(value[1:])
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Cannot read the problem list {path}: {exc}.") from None
    ids = [ln.split("#", 1)[0].strip() for ln in lines]
    ids = [i for i in ids if i]
    if not ids:
        raise InputError(f"The problem list {path} names no problem (one id per line, # comments).")
    return ",".join(ids)


@app.command("run")
def run(
    ctx: typer.Context,
    suite: str = typer.Option("", "--suite", help="verilog-eval|verilog-eval-cc|rtllm|builtin|evolve."),
    path: Path | None = typer.Option(None, "--path", help="The suite's data (verilog-eval, rtllm)."),
    backend: list[str] = typer.Option([], "--backend", help="A backend name or `reference` (repeatable)."),
    config: list[str] = typer.Option([], "--config",
                                     help="single-shot | oracle-tb | self-verified (repeatable)."),
    n: int = typer.Option(1, "-n", help="Samples per problem (pass@k is reported for every k <= n)."),
    problems: str | None = typer.Option(
        None, "--problems",
        help="Globs over problem ids, comma-separated ('Prob00*'), or @FILE (one id per line)."),
    limit: int | None = typer.Option(None, "--limit", help="Run only the first N (selected) problems."),
    temperature: float | None = typer.Option(None, "--temperature", help="Default 0 for n=1, 0.8 otherwise."),
    seed: int = typer.Option(0, "--seed", help="Sample i asks for seed+i."),
    timeout: float = typer.Option(30.0, "--timeout", help="Simulation timeout per sample (seconds)."),
    max_iters: int = typer.Option(4, "--max-iters", help="Design graph iterations per sample."),
    design_samples: int = typer.Option(
        1, "--design-samples",
        help="Design graph: candidates written on the first pass, ranked by the verifier."),
    budget: float | None = typer.Option(None, "--budget", help="Dollar budget per design-graph sample."),
    evolve_budget: int = typer.Option(20, "--evolve-budget", help="Evolve suite: evaluations per sample."),
    resume: str | None = typer.Option(None, "--resume", help="Continue this run; only missing samples run."),
    executor: str = typer.Option("local", "--executor", help="Grade here (local) or on a Ray cluster (ray)."),
    address: str | None = typer.Option(None, "--address", help="Ray cluster address (with --executor ray)."),
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Run a suite against backends × configurations × n samples; the run resumes if killed."""
    from veriloop import runstore
    from veriloop.bench.report import load_report
    from veriloop.bench.session import execute, start_run
    from veriloop.bench.spec import RunSpec

    out = ui.mode(ctx, json_out)
    settings = ui.settings(ctx)
    if resume:
        record = runstore.load_run(settings.data_path, resume)
        record = execute(record, settings, out.err_console)
    else:
        if not suite:
            raise InputError("Name a suite with --suite (or continue a run with --resume RUN).")
        if not backend:
            raise InputError("Name at least one --backend (use `reference` for the harness self-test).")
        if n < 1:
            raise InputError("-n must be at least 1.")
        if executor not in ("local", "ray"):
            raise InputError(f"Unknown executor '{executor}'.",
                             hint="Use --executor local or --executor ray.")
        spec = RunSpec(suite=suite, path=_abs(path), backends=list(dict.fromkeys(backend)),
                       configs=list(dict.fromkeys(config)) or ["single-shot"], n=n,
                       problems=problem_selection(problems),
                       limit=limit, temperature=temperature, seed=seed, timeout_s=timeout,
                       max_iters=max_iters, design_samples=design_samples, budget_usd=budget,
                       evolve_budget=evolve_budget,
                       executor="ray" if executor == "ray" else "local", address=address)
        record = start_run(spec, settings, out.err_console)
    render_run(out, load_report(record), record.id)


@app.command("grade")
def grade(
    ctx: typer.Context,
    samples: Path = typer.Argument(..., help="Trial folders (t1/<design>.v, ...) or a JSONL file of "
                                              '{"problem": ID, "completion": TEXT} rows.'),
    suite: str = typer.Option(..., "--suite", help="verilog-eval|verilog-eval-cc|rtllm|builtin."),
    path: Path | None = typer.Option(None, "--path", help="The suite's data (verilog-eval, rtllm)."),
    name: str = typer.Option("", "--name", help="Label of the samples' group (default: the file/dir name)."),
    problems: str | None = typer.Option(None, "--problems", help="Glob over problem ids to grade."),
    timeout: float = typer.Option(30.0, "--timeout", help="Simulation timeout per sample (seconds)."),
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Grade samples made elsewhere with the bench's grader: a normal bench run (resume, report, compare)."""
    from veriloop.bench.report import load_report
    from veriloop.bench.session import start_grade

    out = ui.mode(ctx, json_out)
    record = start_grade(suite, _abs(path), samples, ui.settings(ctx), out.err_console,
                         label=name, timeout_s=timeout, problems=problems)
    render_run(out, load_report(record), record.id)


def render_run(out: Any, report: Any, run_id: str) -> None:
    """A bench run's tables, unsolved problems and id (also printed by `runs resume`)."""
    if out.json:
        ui.print_json(report)
        return
    print_tables(out.console, report)
    ui.line(out.console, f"run id: {run_id}  ·  report: veriloop bench report {run_id} --format html")


@app.command("report")
def report(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., help="A bench run id (see `veriloop runs list --kind bench`)."),
    fmt: str = typer.Option("table", "--format", help="table | json | md | html."),
    out_file: Path | None = typer.Option(None, "--out", help="Write here instead of stdout (html on a "
                                         "terminal: the run dir)."),
    json_out: bool = typer.Option(False, "--json", help="Same as --format json."),
) -> None:
    """Render a run's report as a terminal table, JSON, markdown or a self-contained HTML page."""
    from veriloop import runstore
    from veriloop.bench.report import load_report
    from veriloop.bench.report.text import markdown

    out = ui.mode(ctx, json_out)
    if out.json:
        fmt = "json"
    if fmt not in _FORMATS:
        raise InputError(f"Unknown report format '{fmt}'.", hint="Use table, json, md or html.")
    settings = ui.settings(ctx)
    record = runstore.load_run(settings.data_path, run_id)
    if record.kind != "bench":
        raise InputError(f"Run {run_id} is a {record.kind} run, not a bench run.")
    rep = load_report(record)
    if fmt == "table":
        print_tables(out.console, rep)
        return
    if fmt == "json":
        text = rep.model_dump_json(indent=2) + "\n"
    elif fmt == "md":
        text = markdown(rep)
    else:
        from veriloop.bench.report.html import html_page

        text = html_page(record)
        if out_file is None and out.console.is_terminal:  # a page is no use on a terminal: keep it
            out_file = record.dir / "report.html"
    if out_file is None:
        typer.echo(text, nl=False)
        return
    try:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"Cannot write {out_file}: {exc.strerror}.") from None
    ui.line(out.err_console, f"wrote {out_file}")


@app.command("compare")
def compare(
    ctx: typer.Context,
    run_a: str = typer.Argument(..., help="First bench run id."),
    run_b: str = typer.Argument(..., help="Second bench run id."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Put two runs side by side: pass@1, its change, solved and cost per group pair; the problems
    only one run solved. Groups pair by backend/config, else by config, else in order."""
    from veriloop import runstore
    from veriloop.bench.report import load_report
    from veriloop.bench.report.text import compare_data, compare_lines, compare_table

    out = ui.mode(ctx, json_out)
    settings = ui.settings(ctx)
    reps = []
    for rid in (run_a, run_b):
        rec = runstore.load_run(settings.data_path, rid)
        if rec.kind != "bench":
            raise InputError(f"Run {rid} is a {rec.kind} run, not a bench run.")
        reps.append(load_report(rec))
    if out.json:
        ui.print_json(compare_data(reps[0], reps[1]))
    else:
        out.console.print(compare_table(reps[0], reps[1]))
        for line in compare_lines(reps[0], reps[1]):
            ui.line(out.console, line)


def _abs(path: Path | None) -> str | None:
    """The suite path as an absolute path, so a resume or report from another directory finds it."""
    return str(path.expanduser().resolve()) if path else None
