"""Verilator lint: `--lint-only -Wall` diagnostics parsed into file/line/column/code/severity/message."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from veriloop.tools.runner import Sources, load_sources, run_tool, tail
from veriloop.tools.versions import version

LINT_FLAGS = ["--lint-only", "-Wall", "-Wno-DECLFILENAME", "-Wno-EOFNEWLINE"]
"""File-name style warnings are off: the job's file names are veriloop's, not the user's."""
_DIAG_RE = re.compile(
    r"^%(?P<sev>Warning|Error)(?:-(?P<code>[A-Z0-9_]+))?:\s*(?:(?P<file>[^:\s]+):(?P<line>\d+):(?:(?P<col>\d+):)?)?"
    r"\s*(?P<msg>.*)$"
)


class Diagnostic(BaseModel):
    file: str = ""
    line: int | None = None
    column: int | None = None
    code: str | None = None
    severity: Literal["error", "warning"]
    message: str


class LintReport(BaseModel):
    """ok = no errors (warnings allowed)."""

    ok: bool
    errors: int
    warnings: int
    diagnostics: list[Diagnostic] = Field(default_factory=list)
    log_tail: str = ""
    tool_version: str | None = None
    wall_s: float = 0.0


def parse(log: str) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for line in log.splitlines():
        m = _DIAG_RE.match(line)
        if not m or m["msg"].startswith("Exiting due to"):
            continue
        out.append(
            Diagnostic(
                file=m["file"] or "",
                line=int(m["line"]) if m["line"] else None,
                column=int(m["col"]) if m["col"] else None,
                code=m["code"],
                severity="error" if m["sev"] == "Error" else "warning",
                message=m["msg"].strip(),
            )
        )
    return out


def lint(
    sources: Sources, top: str | None = None, *, timeout_s: float = 60.0, extra_flags: list[str] | None = None
) -> LintReport:
    """Lint `sources` with Verilator."""
    files = load_sources(sources)
    argv = ["verilator", *LINT_FLAGS, *(extra_flags or [])]
    if top:
        argv += ["--top-module", top]
    res = run_tool([*argv, *sorted(files)], files, timeout_s=timeout_s, label="verilator lint")
    log = res.stdout + res.stderr
    diags = parse(log)
    errors = sum(d.severity == "error" for d in diags)
    if res.killed:
        diags.append(Diagnostic(severity="error", message=f"verilator stopped by the sandbox: {res.killed}"))
        errors += 1
    elif res.exit_code != 0 and errors == 0 and not any(d.severity == "warning" for d in diags):
        diags.append(Diagnostic(severity="error", message=f"verilator failed (exit {res.exit_code})"))
        errors += 1
    warnings = sum(d.severity == "warning" for d in diags)
    return LintReport(
        ok=errors == 0,
        errors=errors,
        warnings=warnings,
        diagnostics=diags,
        log_tail=tail(log),
        tool_version=version("verilator"),
        wall_s=res.wall_s,
    )
