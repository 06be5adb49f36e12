"""Honest grading of a design against a trusted testbench: the design cannot forge a pass.

Three layers, each enough to stop a class of forgery on its own:

1. Screening (`screen.screen_design`, a real parser): the design's preprocessed text may only use
   pure system functions and printing, may only name what it declares, may not `include or leave
   an `ifdef open, and may not define names the testbench or reference use. A refusal is its own
   category, `illegal`, with the reasons. What passes is compiled as pyslang printed it (macros
   expanded, directives gone), after the trusted files, so no design-side directive reaches them.
2. A nonce: every run draws a random nonce and rewrites the trusted testbench's summary display
   `$display("Mismatches: ...")` to `$display("VERILOOP-<nonce> Mismatches: ...")`. Compilation and
   simulation are two steps of one sandboxed job (`icarus.compile_and_run`): the sources are deleted
   before the simulation and the compiled program reaches `vvp` through a pipe. The nonce is in no
   module or instance name, and the design can open no file, so nothing it can observe reveals it.
   A pass needs exactly one tagged summary with 0 mismatches, a clean exit and no capped output.
3. The sample count: the golden reference (given, or VerilogEval's reference renamed to the module
   the testbench expects) is graded once on the same testbench and its count cached per setup
   (`expected`); a pass needs exactly that count. Without a golden reference the count is not
   cross-checked, and the report says so (`samples_checked=False`).

The design's modules that the testbench instantiates are also elaborated as roots of their own
(`-s`): an upward name that slipped past the parser then has nowhere to resolve.

Categories: pass / illegal (refused before running) / syntax (does not parse or compile) / mismatch /
timeout / tool_error (sandbox kill, crash, unusable testbench) / no_summary (no trustworthy summary:
missing, duplicated, capped output, or a sample count that differs from the golden reference's).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from pydantic import BaseModel, Field

from veriloop.tools import expected, simcost
from veriloop.tools.icarus import OutputHint, SimCategory, compile_and_run, report_from_run
from veriloop.tools.runner import Sources, load_sources
from veriloop.tools.screen import TrustedNames, screen_design, trusted_names
from veriloop.tools.versions import version
from veriloop.tools.vsource import read, rename_unit

_DISPLAY_RE = re.compile(r'(\$display\s*\(\s*")(\s*Mismatches:)')


class GradeReport(BaseModel):
    """The verdict on one design, with the evidence."""

    passed: bool
    category: SimCategory
    mismatches: int | None = None
    samples: int | None = None
    expected_samples: int | None = None
    """The golden reference's sample count on this testbench (None: no golden reference)."""
    samples_checked: bool = False
    """True when `samples` was compared with `expected_samples`."""
    first_mismatch_time: int | None = None
    hints: list[OutputHint] = Field(default_factory=list)
    log_tail: str = ""
    compile_log: str = ""
    tool_versions: dict[str, str | None] = Field(default_factory=dict)
    compile_s: float = 0.0
    sim_s: float = 0.0
    contained: bool = True
    detail: str = ""
    reasons: list[str] = Field(default_factory=list)
    """Why an `illegal` design was refused (one sentence each)."""
    waveform: str = ""
    """The testbench's VCD dump (`wave.vcd`, capped), when asked for: evidence, never part of a verdict."""


def tag_testbench(testbench_sv: str, nonce: str) -> str:
    """The testbench with its summary display tagged. Raises ValueError unless there is exactly one."""
    tag = f"VERILOOP-{nonce} "
    tagged, count = _DISPLAY_RE.subn(lambda m: m[1] + tag + m[2].lstrip(), testbench_sv)
    if count != 1:
        raise ValueError(f"the testbench must print exactly one 'Mismatches:' summary (found {count})")
    return tagged


def golden_from_ref(ref_sv: str | None, trusted: TrustedNames) -> str | None:
    """VerilogEval's convention: a reference defining one module, renamed to the one module the testbench
    expects from the design, is the golden design. None when that does not apply."""
    if not ref_sv:
        return None
    units = [u for u in read(ref_sv, "ref.sv").units if u.kind in ("module", "macromodule")]
    duts = trusted.dut_types
    if len(units) != 1 or len(duts) != 1 or units[0].name == duts[0]:
        return None
    return rename_unit(ref_sv, units[0].name, duts[0])


_DEFAULT_TIMESCALE = '`timescale 1s/1s\n`line 1 "design.sv" 0\n'
"""Upstream harnesses compile the design first, so a design without `timescale gets Icarus's default
(1 s / 1 s); compiled here after the testbench, it would inherit the testbench's instead. This
preamble keeps upstream's time units (and, with `line, the design's own line numbers)."""


WAVEFORM_FILE = "wave.vcd"
WAVEFORM_CHARS = 8 << 20


def _waveform_text(data: bytes | None) -> str:
    """The dump the simulation left, as text, capped (it was written by the design's simulation)."""
    return data[:WAVEFORM_CHARS].decode("ascii", errors="replace") if data else ""


def _as_upstream(design_text: str) -> str:
    has_scale = any(d.kind == "timescale" for d in read(design_text, "design.sv").directives)
    return design_text if has_scale else _DEFAULT_TIMESCALE + design_text


def _run(
    design_text: str,
    roots: list[str],
    testbench_sv: str,
    ref_sv: str | None,
    top: str,
    timeout_s: float,
    data_files: dict[str, str | bytes] | None,
    vers: dict[str, str | None],
    waveform: bool = False,
) -> GradeReport:
    """Compile (trusted files first, the design last) and simulate once with a fresh nonce."""
    nonce = secrets.token_hex(12)
    tb = tag_testbench(testbench_sv, nonce)
    files = {"tb.sv": tb}
    if ref_sv is not None:
        files["ref.sv"] = ref_sv
    files["design.sv"] = _as_upstream(design_text)
    comp, res = compile_and_run(
        files,
        top,
        timeout_s=timeout_s,
        compile_timeout_s=max(timeout_s, 60.0),
        data_files=dict(data_files or {}),
        extra_roots=roots,
        collect=[WAVEFORM_FILE] if waveform else None,
    )
    if res is None:
        category: SimCategory = "syntax"
        if "stopped by the sandbox" in comp.log:
            category = "timeout" if "timeout" in comp.log else "tool_error"
        return GradeReport(
            passed=False, category=category, compile_log=comp.log, log_tail=comp.log,
            tool_versions=vers, compile_s=comp.wall_s, detail="compilation failed",
        )
    tagged_re = re.compile(
        rf"^VERILOOP-{re.escape(nonce)} Mismatches:\s*(\d+)\s+in\s+(\d+)\s+samples\s*$", re.MULTILINE
    )
    rep = report_from_run(res, comp, summary_re=tagged_re, require_summary=True)
    count = len(tagged_re.findall(res.stdout))
    category = rep.category
    detail = ""
    if res.stdout_truncated or res.stderr_truncated or res.killed == "output":
        category = "no_summary" if category in ("pass", "mismatch", "no_summary") else category
        detail = "the simulation output exceeded the sandbox's cap, so its summary cannot be trusted"
    elif category == "pass" and (count != 1 or not rep.samples):
        category, detail = "no_summary", f"{count} tagged summaries, {rep.samples} samples"
    elif category == "no_summary":
        detail = "the testbench's own summary line never appeared (crash or forged output)"
    return GradeReport(
        passed=category == "pass",
        category=category,
        mismatches=rep.mismatches,
        samples=rep.samples,
        first_mismatch_time=rep.first_mismatch_time,
        hints=rep.hints,
        log_tail=rep.log_tail.replace(f"VERILOOP-{nonce} ", ""),
        compile_log=comp.log,
        tool_versions=vers,
        compile_s=comp.wall_s,
        sim_s=res.wall_s,
        contained=res.contained,
        detail=detail,
        waveform=_waveform_text(res.files.get(WAVEFORM_FILE)) if waveform else "",
    )


def grade_testbench(
    design_sv: str,
    testbench_sv: str,
    ref_sv: str | None = None,
    top: str = "tb",
    timeout_s: float = 30.0,
    *,
    data_files: dict[str, str | bytes] | None = None,
    golden_sv: str | None = None,
    waveform: bool = False,
) -> GradeReport:
    """Screen the design, compile it after the testbench (+ reference), simulate, and read the nonce
    summary; a pass also needs the golden reference's sample count when there is a golden reference.

    `golden_sv` is a known-good design for this testbench (default: derived from `ref_sv`, see
    `golden_from_ref`). `data_files` (trusted test data such as $readmemh images) are placed in both
    the compile and the simulation directory. `waveform` reads back the testbench's `wave.vcd`
    (if it writes one) into the report, as evidence for a fix."""
    vers = {"iverilog": version("iverilog"), "vvp": version("vvp")}
    if len(_DISPLAY_RE.findall(testbench_sv)) != 1:
        return GradeReport(
            passed=False, category="tool_error", tool_versions=vers,
            detail=(
                "the testbench must print exactly one 'Mismatches: N in M samples' summary with $display; "
                "without one there is nothing to grade"
            ),
        )
    trusted = trusted_names(testbench_sv, ref_sv)
    golden = golden_sv if golden_sv is not None else golden_from_ref(ref_sv, trusted)
    scr = screen_design(design_sv, trusted, golden)
    if not scr.ok:
        return GradeReport(
            passed=False,
            category="illegal" if scr.category == "illegal" else "syntax",
            tool_versions=vers,
            reasons=scr.reasons,
            detail="; ".join(scr.reasons)[:2000],
            compile_log="\n".join(scr.reasons) if scr.category == "syntax" else "",
            log_tail="\n".join(scr.reasons)[-3000:],
        )
    report = _run(
        scr.compiled_text, scr.roots, testbench_sv, ref_sv, top, timeout_s, data_files, vers, waveform
    )
    simcost.record(testbench_sv, design_sv, ref_sv, report.sim_s)
    if not golden:
        if report.passed:
            report.detail = "sample count not cross-checked (no golden reference for this testbench)"
        return report
    setup = expected.key(testbench_sv, ref_sv, golden, data_files)
    if golden == design_sv and report.passed and report.samples:
        expected.counts().put(setup, report.samples)

    def golden_run() -> int | None:
        gscr = screen_design(golden, trusted, golden)
        text, roots = (gscr.compiled_text, gscr.roots) if gscr.ok else (golden, trusted.dut_types)
        grep = _run(text, roots, testbench_sv, ref_sv, top, max(timeout_s, 60.0), data_files, vers)
        return grep.samples if grep.passed else None

    want = expected.counts().measure(setup, golden_run) if report.passed else expected.counts().get(setup)
    report.expected_samples = want
    if want is None:
        if report.passed:
            report.detail = "sample count not cross-checked (the golden reference fails this testbench)"
        return report
    report.samples_checked = True
    if report.passed and report.samples != want:
        report.passed = False
        report.category = "no_summary"
        report.detail = (
            f"the testbench counted {report.samples} samples but gives the golden reference {want}: "
            "the simulation did not run the whole test"
        )
    return report


def grade_files(
    design: Sources, testbench: Sources, ref: Sources | None = None, top: str = "tb", timeout_s: float = 30.0
) -> GradeReport:
    """`grade_testbench` over files (`veriloop tools sim`): the design files are joined in order into one
    design text, the testbench files into one testbench, the reference files into one reference."""

    def joined(sources: Sources) -> str:
        return "\n".join(load_sources(sources).values())

    return grade_testbench(
        joined(design), joined(testbench), joined(ref) if ref else None, top=top, timeout_s=timeout_s
    )


class GradeItem(BaseModel):
    """One design to grade with `grade_many` (the arguments of `grade_testbench`)."""

    design_sv: str
    testbench_sv: str
    ref_sv: str | None = None
    top: str = "tb"
    timeout_s: float = 30.0
    data_files: dict[str, str | bytes] | None = None
    golden_sv: str | None = None


def grade_many(
    items: Sequence[GradeItem],
    workers: int = 0,
    on_done: Callable[[int, GradeReport], None] | None = None,
) -> list[GradeReport]:
    """Grade many designs in parallel, longest expected simulation first; reports in input order.

    `workers` defaults to the sandbox's slots (one per core). `on_done(index, report)` is called as
    each finishes (from a worker thread), e.g. to advance a progress bar."""
    from veriloop.sandbox import get_sandbox

    slots = int(getattr(get_sandbox(), "slots", 0) or 0)
    workers = workers or slots or (os.cpu_count() or 1)
    costs = [simcost.expected_s(it.testbench_sv, it.design_sv, it.ref_sv) for it in items]
    order = simcost.longest_first(costs)
    reports: list[GradeReport | None] = [None] * len(items)

    def one(i: int) -> None:
        it = items[i]
        rep = grade_testbench(
            it.design_sv, it.testbench_sv, it.ref_sv, it.top, it.timeout_s,
            data_files=it.data_files, golden_sv=it.golden_sv,
        )
        reports[i] = rep
        if on_done is not None:
            on_done(i, rep)

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="veriloop-grade") as pool:
        list(pool.map(one, order))
    simcost.history().save()
    return [r for r in reports if r is not None]
