"""CLI group `veriloop config`: show the effective configuration (secrets masked) and where it comes from."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import typer

from veriloop import ui
from veriloop.config import toml_literal

app = typer.Typer(no_args_is_help=True, help="Show the effective configuration and where it comes from.")


def _to_toml(data: dict[str, Any], prefix: str = "") -> list[str]:
    """Plain TOML blocks for display: scalars, then one [table] per nested dict (None as a comment)."""
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    for key, value in data.items():
        if isinstance(value, dict) and key != "extra_body":
            tables.append((f"{prefix}{key}", value))
        elif value is None:
            lines.append(f"# {key} = (unset)")
        else:
            lines.append(f"{key} = {toml_literal(value)}")
    blocks = []
    if lines:
        blocks.append(("[" + prefix.rstrip(".") + "]\n" if prefix else "") + "\n".join(lines))
    for name, table in tables:
        blocks.extend(_to_toml(table, f"{name}."))
    return blocks


_SECRET_KEY = re.compile(r"(secret|password|passwd|token|authorization|api[_-]?key)$", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


def mask_secrets(data: Any) -> Any:
    """Mask any secret-looking value left in plain data (credentials in URLs, *token/*secret keys)."""
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            if isinstance(v, str) and _SECRET_KEY.search(str(k)) and k != "api_key":
                out[k] = "*** (masked)"
            else:
                out[k] = mask_secrets(v)
        return out
    if isinstance(data, list):
        return [mask_secrets(v) for v in data]
    if isinstance(data, str):
        return _URL_CREDENTIALS.sub("***@", data)
    return data


def _env_overrides() -> list[str]:
    return sorted(k for k in os.environ if k.startswith("VERILOOP_"))


def _search_paths(ctx: typer.Context) -> list[tuple[str, Path]]:
    from veriloop.config import CONFIG_NAME, user_config_path

    explicit = ui.mode(ctx).config_file
    if explicit is not None:
        return [("--config", explicit)]
    return [("project", Path.cwd() / CONFIG_NAME), ("user", user_config_path())]


@app.command("show")
def show(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help="Print the configuration as JSON."),
) -> None:
    """Print the effective configuration (files + VERILOOP_* environment), API keys masked."""
    out = ui.mode(ctx, json_out)
    settings = ui.settings(ctx)
    data = mask_secrets(settings.masked())
    files = data.pop("config_files", [])
    env = _env_overrides()
    if out.json:
        ui.print_json({"files": files, "env": env, "config": data})
        return
    from rich.syntax import Syntax

    con = out.console
    if files:
        con.print(f"[bold]config from:[/] {', '.join(files)}", highlight=False)
    else:
        searched = ", ".join(str(p) for _, p in _search_paths(ctx))
        con.print(
            f"[bold]config from:[/] built-in defaults (no veriloop.toml found; searched {searched})",
            highlight=False,
        )
    if env:
        con.print(f"[bold]environment overrides:[/] {', '.join(env)}", highlight=False)
    con.print("[dim]API keys are never stored in files; api_key shows only whether its variable is set.[/]")
    text = "\n\n".join(_to_toml(data)) + "\n"
    con.print(Syntax(text, "toml", theme="ansi_dark", background_color="default"))


@app.command("path")
def path(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help="Print the paths as JSON."),
) -> None:
    """Print where veriloop looks for veriloop.toml, in order, and which file is used."""
    out = ui.mode(ctx, json_out)
    rows = []
    used_one = False
    for origin, p in _search_paths(ctx):
        exists = p.is_file()
        used = exists and not used_one
        used_one = used_one or used
        rows.append({"origin": origin, "path": str(p), "exists": exists, "used": used})
    if out.json:
        ui.print_json(rows)
        return
    for row in rows:
        mark = "[green]used[/]" if row["used"] else ("exists" if row["exists"] else "[dim]absent[/]")
        out.console.print(f"{row['origin']:8} {row['path']}  {mark}", highlight=False)
