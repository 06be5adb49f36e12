"""CLI group 'sandbox': run any command contained and show the JobResult."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True, help="Run commands in the veriloop sandbox.")


@app.command("exec", context_settings={"allow_interspersed_args": False})
def exec_cmd(
    ctx: typer.Context,
    command: list[str] = typer.Argument(..., help="The command and its arguments (after --)."),
    timeout: float = typer.Option(60.0, "--timeout", help="Wall-clock limit in seconds."),
    mem: int = typer.Option(2048, "--mem", help="Memory limit in MB (RLIMIT_DATA)."),
    net: bool = typer.Option(False, "--net", help="Give the job network access."),
    directory: Path | None = typer.Option(
        None, "--dir", help="Copy this directory's files into the job dir."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the JobResult as JSON."),
) -> None:
    """Run CMD ARGS... in the sandbox and print what happened; exits with the job's exit code."""
    from veriloop import ui
    from veriloop.errors import InputError
    from veriloop.sandbox import Job, Limits, describe, get_sandbox

    out = ui.mode(ctx, json_out)
    files: dict[str, str | bytes] = {}
    if directory is not None:
        if not directory.is_dir():
            raise InputError(f"--dir {directory} is not a directory.")
        for path in sorted(directory.rglob("*")):
            if path.is_file() and not path.is_symlink():
                files[str(path.relative_to(directory))] = path.read_bytes()
    cfg = ui.settings(ctx).sandbox
    job = Job(
        argv=command, files=files, network=net, limits=Limits(wall_s=timeout, memory_mb=mem), label="cli"
    )
    result = get_sandbox(cfg).run(job)
    if out.json:
        ui.print_json(result)
    else:
        info = describe(cfg)
        if result.stdout:
            out.console.out(result.stdout, end="", highlight=False)
        if result.stderr:
            out.err_console.out(result.stderr, end="", highlight=False)
        killed = f", killed: {result.killed}" if result.killed else ""
        note = "" if result.contained else " [bold red](NOT contained: rlimits only)[/]"
        out.err_console.print(
            f"[dim]sandbox {info.mode}{note}: exit {result.exit_code}{killed}, "
            f"wall {result.wall_s:.2f}s, cpu {result.cpu_s:.2f}s[/]",
            highlight=False,
        )
    code = result.exit_code if result.exit_code is not None else 128 + (result.signal or 9)
    raise typer.Exit(code if 0 <= code < 256 else 1)
