"""Icarus Verilog: compile + simulate with the VerilogEval conventions, parsed into a SimReport.

Flags: `-Wall -Winfloop -Wno-timescale -g2012 -s <top>`; vvp runs under a wall-clock timeout.
Parsed from the simulation log: `Mismatches: N in M samples` and the per-output hints
`Hint: Output 'x' has N mismatches. First mismatch occurred at time T.`
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from veriloop.sandbox import JobResult, Step
from veriloop.tools.runner import Sources, load_sources, run_tool, run_tool_steps, tail
from veriloop.tools.versions import version

IVERILOG_FLAGS = ["-Wall", "-Winfloop", "-Wno-timescale", "-g2012"]
PROGRAM = "sim.vvp"
SUMMARY_RE = re.compile(r"Mismatches:\s*(\d+)\s+in\s+(\d+)\s+samples")
HINT_RE = re.compile(r"Hint: Output '([^']+)' has (\d+) mismatches\. First mismatch occurred at time (\d+)\.")
_DIAG_RE = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+):\s*(?P<msg>.*)$")

SimCategory = Literal["pass", "illegal", "syntax", "mismatch", "timeout", "tool_error", "no_summary"]
"""`illegal`: refused by grading's screening before anything ran (see `veriloop.tools.screen`)."""


class OutputHint(BaseModel):
    """One output port the testbench found wrong."""

    name: str
    mismatches: int
    first_time: int


class CompileDiagnostic(BaseModel):
    file: str
    line: int
    message: str
    severity: Literal["error", "warning"] = "error"


class CompileReport(BaseModel):
    """iverilog's verdict on a set of sources."""

    ok: bool
    diagnostics: list[CompileDiagnostic] = Field(default_factory=list)
    log: str = ""
    tool_version: str | None = None
    wall_s: float = 0.0


class SimReport(BaseModel):
    """The outcome of compiling and simulating a testbench."""

    category: SimCategory
    passed: bool
    compiled: bool
    mismatches: int | None = None
    samples: int | None = None
    first_mismatch_time: int | None = None
    hints: list[OutputHint] = Field(default_factory=list)
    compile: CompileReport
    log_tail: str = ""
    exit_code: int | None = None
    killed: str | None = None
    sim_wall_s: float = 0.0
    tool_version: str | None = None
    contained: bool = True


def parse_diagnostics(log: str) -> list[CompileDiagnostic]:
    """iverilog's `file:line: message` lines."""
    out: list[CompileDiagnostic] = []
    for line in log.splitlines():
        m = _DIAG_RE.match(line.strip())
        if not m:
            continue
        msg = m["msg"]
        sev: Literal["error", "warning"] = "warning" if msg.lower().startswith("warning") else "error"
        out.append(CompileDiagnostic(file=m["file"], line=int(m["line"]), message=msg, severity=sev))
    return out


def parse_hints(log: str) -> list[OutputHint]:
    return [OutputHint(name=m[1], mismatches=int(m[2]), first_time=int(m[3])) for m in HINT_RE.finditer(log)]


def _compile_argv(names: list[str], top: str, out: str, extra_roots: list[str] | None) -> list[str]:
    roots = [top, *(r for r in (extra_roots or []) if r != top)]
    return ["iverilog", *IVERILOG_FLAGS, *(a for r in roots for a in ("-s", r)), "-o", out, *names]


def _compile_report(res: JobResult, ok: bool) -> CompileReport:
    log = (res.stdout + res.stderr).strip()
    if res.killed:
        log += f"\n[iverilog stopped by the sandbox: {res.killed}]"
    return CompileReport(
        ok=ok,
        diagnostics=parse_diagnostics(log),
        log=tail(log, 60),
        tool_version=version("iverilog"),
        wall_s=res.wall_s,
    )


def compile_sources(
    files: dict[str, str],
    top: str,
    *,
    timeout_s: float = 60.0,
    out: str = "sim.vvp",
    data_files: dict[str, str | bytes] | None = None,
    extra_roots: list[str] | None = None,
) -> tuple[CompileReport, bytes | None]:
    """Compile to a vvp program; returns the report and the program bytes (None on failure).

    `files` are compiled; `data_files` are only present in the directory (e.g. `include files);
    `extra_roots` are elaborated as roots besides `top` (see `compile_and_run`)."""
    res = run_tool(
        _compile_argv(sorted(files), top, out, extra_roots),
        {**(data_files or {}), **files},
        timeout_s=timeout_s,
        collect=[out],
        label="iverilog",
    )
    program = res.files.get(out)
    ok = res.exit_code == 0 and program is not None and res.killed is None
    return _compile_report(res, ok), (program if ok else None)


def compile_and_run(
    files: dict[str, str],
    top: str,
    *,
    timeout_s: float = 30.0,
    compile_timeout_s: float = 60.0,
    plusargs: list[str] | None = None,
    data_files: dict[str, str | bytes] | None = None,
    extra_roots: list[str] | None = None,
    collect: list[str] | None = None,
) -> tuple[CompileReport, JobResult | None]:
    """Compile and simulate in ONE sandboxed job dir: (compile report, simulation result or None).

    `files` are compiled in their order (grading puts the trusted files first, the design last).
    The simulation step sees only `data_files`: the sources are deleted before it starts and the
    compiled program reaches `vvp -n /dev/stdin` through a pipe, so nothing the design runs can read
    what the testbench was compiled from. `extra_roots` are elaborated as roots of their own besides
    `top` (an upward name such as `good1.out` in one of them then fails to elaborate: grading uses it
    so that a design cannot name anything outside itself). `collect` names files the simulation
    leaves (e.g. the testbench's `wave.vcd`) to read back into the result's `files`."""
    keep = sorted(data_files or {})
    steps = [
        Step(argv=_compile_argv(list(files), top, PROGRAM, extra_roots), wall_s=compile_timeout_s),
        Step(
            argv=["vvp", "-n", "/dev/stdin", *(plusargs or [])],
            wall_s=timeout_s,
            stdin_file=PROGRAM,
            keep=keep,
        ),
    ]
    results = run_tool_steps(
        steps, {**(data_files or {}), **files}, label="iverilog+vvp", collect=collect or []
    )
    comp = _compile_report(results[0], results[0].ok)
    return comp, (results[1] if comp.ok and len(results) > 1 else None)


def simulate(
    sources: Sources,
    top: str = "tb",
    *,
    timeout_s: float = 30.0,
    compile_timeout_s: float = 60.0,
    plusargs: list[str] | None = None,
) -> SimReport:
    """Compile `sources` with `top` as root and simulate; pass = clean exit and `Mismatches: 0`
    when the testbench prints a summary (a testbench without summary passes on a clean run).

    Not a grader: every source is trusted and nothing is screened. A verdict on a design (bench,
    design, `tools sim`) comes from `veriloop.tools.grading.grade_testbench`."""
    files = load_sources(sources)
    comp, res = compile_and_run(
        files, top, timeout_s=timeout_s, compile_timeout_s=compile_timeout_s, plusargs=plusargs
    )
    if res is None:
        return SimReport(
            category="syntax" if comp.diagnostics or "error" in comp.log.lower() else "tool_error",
            passed=False,
            compiled=False,
            compile=comp,
            log_tail=comp.log,
            tool_version=comp.tool_version,
        )
    return report_from_run(res, comp)


def report_from_run(
    res: JobResult,
    comp: CompileReport,
    summary_re: re.Pattern[str] = SUMMARY_RE,
    require_summary: bool = False,
) -> SimReport:
    """Classify one vvp run; the last line matching `summary_re` is the testbench's verdict."""
    log = res.stdout + ("\n" + res.stderr if res.stderr.strip() else "")
    found = summary_re.findall(res.stdout)
    mism = samples = None
    if found:
        mism, samples = int(found[-1][0]), int(found[-1][1])
    hints = parse_hints(res.stdout)
    first = min((h.first_time for h in hints), default=None)
    category: SimCategory
    if res.killed == "timeout":
        category = "timeout"
    elif res.killed is not None:
        category = "tool_error"
    elif mism is None:
        category = "no_summary" if require_summary else "pass" if res.exit_code == 0 else "tool_error"
    elif mism == 0 and res.exit_code == 0:
        category = "pass"
    elif mism == 0:
        category = "tool_error"
    else:
        category = "mismatch"
    return SimReport(
        category=category,
        passed=category == "pass",
        compiled=True,
        mismatches=mism,
        samples=samples,
        first_mismatch_time=first,
        hints=hints,
        compile=comp,
        log_tail=tail(log, 40),
        exit_code=res.exit_code,
        killed=res.killed,
        sim_wall_s=res.wall_s,
        tool_version=version("vvp"),
        contained=res.contained,
    )
