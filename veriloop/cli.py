"""The typer app: global options, the command groups, and error handling. No logic lives here."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import typer

from veriloop import __version__
from veriloop.commands import (
    bench,
    config_cmd,
    design,
    doctor,
    evolve,
    kb,
    llm,
    problems,
    runs,
    sandbox,
    tools,
    ui,
)
from veriloop.errors import VeriloopError

try:
    from typer._click.exceptions import ClickException as _TyperClickException
except ImportError:  # typer that uses the real click
    _TyperClickException = click.ClickException  # type: ignore[misc,assignment]
from veriloop.ui import OutputMode, render_error

app = typer.Typer(
    name="veriloop",
    help="Design automation with a verifier in every loop: design RTL, evolve programs, benchmark LLMs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"veriloop {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help="Print results as JSON where a command has one."),
    config: Path | None = typer.Option(
        None, "--config", help="Read this veriloop.toml instead of searching."
    ),
    record: Path | None = typer.Option(
        None, "--record", help="Append each LLM exchange to this JSONL cassette; replay: --backend replay:P"
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """veriloop: spec to verified RTL, ADRS-style evolution, and fair LLM benchmarks."""
    ctx.obj = OutputMode(json=json_out, config_file=config, record=record)


app.command("design")(design.design)
app.command("evolve")(evolve.evolve)
app.command("doctor")(doctor.doctor)
app.command("ui")(ui.ui)
app.add_typer(bench.app, name="bench")
app.add_typer(kb.app, name="kb")
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(tools.app, name="tools")
app.add_typer(runs.app, name="runs")
app.add_typer(problems.app, name="problems")
app.add_typer(config_cmd.app, name="config")
app.add_typer(llm.app, name="llm")


def main() -> None:
    """Console-script entry point: run the app, turn VeriloopError into one sentence and an exit code."""
    try:
        rc = app(standalone_mode=False)
        if isinstance(rc, int) and rc != 0:
            sys.exit(rc)  # typer.Exit(n) comes back as a return value when standalone_mode=False
    except VeriloopError as err:
        render_error(err)
        sys.exit(err.exit_code)
    except (click.exceptions.Exit, typer.Exit) as ex:
        sys.exit(ex.exit_code)
    except (click.exceptions.Abort, typer.Abort, KeyboardInterrupt):
        typer.echo("interrupted; everything saved so far is kept.", err=True)
        sys.exit(130)
    except (click.ClickException, _TyperClickException) as exc:
        # typer >= 0.20 ships its own copy of click: usage errors come as its exceptions
        exc.show()
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
