"""CLI command 'ui': serve the local web view of runs (see veriloop/web)."""

from __future__ import annotations

import secrets
import socket

import typer

from veriloop import ui as term


def ui(
    ctx: typer.Context,
    port: int = typer.Option(8765, "--port", help="Port to listen on (0 picks a free one)."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to bind. Anything but loopback needs the token printed at start."
    ),
) -> None:
    """Open a live web view of design, evolve and bench runs (runs list, lineage, verdicts, steering)."""
    from veriloop.web.server import bind, build_app, is_loopback, serve

    settings = term.settings(ctx)
    token = None if is_loopback(host) else secrets.token_urlsafe(24)
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    shown = socket.gethostname() if host in ("0.0.0.0", "::") else host  # all interfaces: name this machine
    shown = f"[{shown}]" if ":" in shown else shown
    url = f"http://{shown}:{bound}/" + (f"?token={token}" if token else "")
    typer.echo(f"veriloop ui: {url}", err=False)
    typer.echo(f"runs under {settings.data_path / 'runs'}; Ctrl-C stops the server.", err=True)
    if token:
        typer.echo(f"token: {token} (requests without it get 401)", err=True)
    serve(build_app(settings.data_path, token, settings), sock)
