"""The agents' view of the EDA tools: small typed results over veriloop.tools (lint, sim, synth, equiv)."""

from __future__ import annotations

import re
import shutil
from typing import Any

from pydantic import BaseModel, Field

from veriloop.errors import ToolMissingError, VeriloopError
from veriloop.tools.vcd_window import mismatch_window

REQUIRED = ("iverilog", "vvp", "yosys")


def require_tools() -> None:
    """Fail before any work when a tool the flow cannot do without is missing."""
    for tool in REQUIRED:
        if shutil.which(tool) is None:
            raise ToolMissingError(
                f"{tool} is not installed (not found on PATH); the design flow needs it.",
                hint="Run scripts/setup.sh or install the Debian packages iverilog and yosys.",
            )


class Check(BaseModel):
    """Lint or compile outcome: errors block, warnings do not."""

    ok: bool
    errors: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    tool: str = ""

    def text(self) -> str:
        if self.ok and not self.warnings:
            return f"{self.tool}: clean (no errors, no warnings)"
        head = f"{self.tool}: {len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        return "\n".join([head, *self.errors[:20], *self.warnings[:10]])


class Grade(BaseModel):
    """Honest grading of a design against a testbench."""

    passed: bool
    category: str
    mismatches: int | None = None
    samples: int | None = None
    first_mismatch_time: int | None = None
    hints: list[str] = Field(default_factory=list)
    log: str = ""
    log_tail: str = ""
    trace: str = ""
    """Inputs, outputs and expected outputs per time step around the first mismatch (from the dump)."""


class Equiv(BaseModel):
    status: str
    """proved | refuted | unknown | error"""
    detail: str = ""
    method: str = ""


class Synth(BaseModel):
    ok: bool
    cells: int | None = None
    cell_types: dict[str, int] = Field(default_factory=dict)
    area: float | None = None
    depth: int | None = None
    note: str = ""


def _files(mods: dict[str, str]) -> dict[str, str]:
    return {f"{name}.sv": src for name, src in mods.items()}


def _diag_text(d: Any) -> str:
    if isinstance(d, str):
        return d
    parts = [str(getattr(d, "file", "") or ""), str(getattr(d, "line", "") or "")]
    where = ":".join(p for p in parts if p)
    code = getattr(d, "code", None)
    msg = getattr(d, "message", None) or str(d)
    return f"{where}: {getattr(d, 'severity', '')}{f' [{code}]' if code else ''}: {msg}".strip(": ")


def _split_diags(report: Any) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    warnings: list[str] = []
    for d in getattr(report, "diagnostics", None) or []:
        sev = str(getattr(d, "severity", "error")).lower()
        (warnings if sev.startswith("warn") or sev in ("info", "note") else errors).append(_diag_text(d))
    return errors, warnings


def lint(mods: dict[str, str], top: str | None) -> Check:
    """Verilator lint of the modules (Icarus compile when Verilator is absent)."""
    try:
        from veriloop.tools import verilator
    except ImportError:
        return compile_check(mods, top)
    if shutil.which("verilator") is None:
        return compile_check(mods, top)

    try:
        rep = verilator.lint(_files(mods), top=top)
    except VeriloopError as err:
        return Check(ok=False, errors=[err.message], tool="verilator")
    errors, warnings = _split_diags(rep)
    promoted = {w: e for w in warnings if (e := undriven_output(w, mods))}
    if promoted:  # an output nobody drives is a bug, whatever Verilator's severity
        warnings = [w for w in warnings if w not in promoted]
        errors += list(promoted.values())
    ok = bool(getattr(rep, "ok", not errors)) and not errors
    if not ok and not errors:
        errors = [str(getattr(rep, "log_tail", "") or getattr(rep, "log", "") or "lint failed")[-2000:]]
    return Check(ok=ok, errors=errors, warnings=warnings, tool="verilator")


_UNDRIVEN = re.compile(
    r"^(?P<where>(?P<module>\w+)\.sv:\d+): warning \[UNDRIVEN\]: (?:Bits of signal are|Signal is) not "
    r"driven: '(?P<name>\w+)'(?P<bits>\S*)"
)


def undriven_output(warning: str, mods: dict[str, str]) -> str:
    """Verilator's UNDRIVEN warning about an output port of one of the modules, as an error line;
    "" for other warnings (an undriven internal wire nobody reads is harmless)."""
    m = _UNDRIVEN.match(warning)
    if not m or m["module"] not in mods:
        return ""
    declared = re.search(rf"\boutput\b[^;()]*?\b{re.escape(m['name'])}\b", mods[m["module"]])
    if not declared:
        return ""
    return (f"{m['where']}: error [UNDRIVEN]: output '{m['name']}'{m['bits']} is never driven "
            "(assign it, or drive it from an always block)")


def compile_check(mods: dict[str, str], top: str | None) -> Check:
    """Icarus compile of the modules (no simulation)."""
    from veriloop.tools import icarus

    root = top if top in mods else (list(mods)[-1] if mods else "top")
    try:
        rep, _ = icarus.compile_sources(_files(mods), root)
    except VeriloopError as err:
        return Check(ok=False, errors=[err.message], tool="iverilog")
    errors, warnings = _split_diags(rep)
    ok = bool(getattr(rep, "ok", not errors))
    if not ok and not errors:
        errors = [str(getattr(rep, "log_tail", "") or getattr(rep, "log", "") or "compile failed")[-2000:]]
    return Check(ok=ok, errors=errors if not ok else [], warnings=warnings, tool="iverilog")


def grade(design: str, testbench: str, ref: str | None = None, golden: str | None = None) -> Grade:
    """Grade with the honest grader (`veriloop.tools.grading`): screening, nonce, and the golden design's
    sample count when a golden design (the user's --ref) is known."""
    from veriloop.tools.grading import grade_testbench

    try:
        rep = grade_testbench(design, testbench, ref_sv=ref, timeout_s=60, golden_sv=golden, waveform=True)
    except VeriloopError as err:
        return Grade(passed=False, category="tool_error", log=err.message, log_tail=err.message)
    compile_log = str(getattr(rep, "compile_log", "") or "")
    tail = str(getattr(rep, "log_tail", "") or "")
    detail = str(getattr(rep, "detail", "") or "")
    log = "\n".join(x for x in (compile_log if not rep.passed else "", tail, detail) if x)
    hints = [
        f"output '{h.name}' has {h.mismatches} mismatches; first at time {h.first_time}"
        for h in getattr(rep, "hints", None) or []
    ]
    return Grade(
        passed=bool(rep.passed),
        category=str(rep.category),
        mismatches=rep.mismatches,
        samples=rep.samples,
        first_mismatch_time=rep.first_mismatch_time,
        hints=hints,
        log=log,
        log_tail=log[-3000:],
        trace=mismatch_window(rep.waveform, rep.first_mismatch_time)
        if rep.category == "mismatch" and rep.waveform
        else "",
    )


def equivalence(design: str, ref: str, top: str) -> Equiv:
    from veriloop.tools.equiv import check_equivalence

    try:
        # The reference is the gold side: its x bits (don't-cares) are the ones the miter ignores.
        rep = check_equivalence({"ref.sv": ref}, {"design.sv": design}, top=top)
    except VeriloopError as err:
        return Equiv(status="unknown", detail=err.message)
    lines = [rep.detail] if rep.detail else []
    if rep.counterexample:
        lines.append("step  signal  value (binary, MSB first)")
        lines += [f"{c.step:>4}  {c.signal}  {c.value}" for c in rep.counterexample[:60]]
    elif rep.status != "proved" and rep.log_tail:
        lines.append(rep.log_tail[-1200:])
    return Equiv(status=str(rep.status), detail="\n".join(lines), method=rep.method)


def synthesize(design: str, top: str) -> Synth:
    from veriloop.tools import yosys

    try:
        rep = yosys.synthesize({f"{top}.sv": design}, top=top)
    except VeriloopError as err:
        return Synth(ok=False, note=err.message)
    ok = bool(rep.synthesizes)
    note = "" if ok else "\n".join([*rep.errors[:10], rep.log_tail])[-2000:]
    if ok and rep.latches:
        note = f"{rep.latches} latch(es) inferred"
    return Synth(
        ok=ok,
        cells=rep.cells,
        cell_types=dict(rep.cells_by_type),
        area=rep.area,
        depth=rep.logic_depth,
        note=note,
    )


def versions() -> dict[str, str | None]:
    try:
        from veriloop.tools import versions as tool_versions

        return dict(tool_versions())
    except Exception:  # noqa: BLE001 - versions are provenance, never a reason to fail a finished run
        return {t: None for t in ("iverilog", "verilator", "yosys")}
