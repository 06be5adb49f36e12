"""Honest grading of a design against a trusted testbench: the design cannot forge a pass.

How: every run draws a random nonce and rewrites the trusted testbench's summary display
`$display("Mismatches: ...")` to `$display("VERILOOP-<nonce> Mismatches: ...")`. Compilation and
simulation are two steps of one sandboxed job (`icarus.compile_and_run`): before the simulation
starts, the sources are deleted and the compiled program (which contains the nonce) reaches
`vvp -n /dev/stdin` through a pipe, already consumed when the design starts running, so the design
can neither read the nonce nor print the tagged line. A sample passes only when exactly one
nonce-tagged summary appears and it says 0 mismatches in >0 samples. A design that prints
"Mismatches: 0 in 1 samples" itself, or calls `$finish` early, gets `no_summary`. The testbench's
top module is renamed to a nonce-derived name, so absolute names into the testbench
(`tb.stats1.errors`) do not resolve; upward names (`good1.out`) fail because the design's top is
also elaborated as a root of its own (`_design_roots`); a design module named like a testbench
object is refused (`_name_clashes`).

Categories: pass / syntax (does not compile) / mismatch / timeout / tool_error (sandbox kill,
crash, unusable testbench) / no_summary.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from pydantic import BaseModel, Field

from veriloop.tools import simcost
from veriloop.tools.icarus import OutputHint, SimCategory, compile_and_run, report_from_run
from veriloop.tools.versions import version

_DISPLAY_RE = re.compile(r'(\$display\s*\(\s*")(\s*Mismatches:)')
_TB_MODULE_RE = re.compile(r"\bmodule\s+tb\b")


class GradeReport(BaseModel):
    """The verdict on one design, with the evidence."""

    passed: bool
    category: SimCategory
    mismatches: int | None = None
    samples: int | None = None
    first_mismatch_time: int | None = None
    hints: list[OutputHint] = Field(default_factory=list)
    log_tail: str = ""
    compile_log: str = ""
    tool_versions: dict[str, str | None] = Field(default_factory=dict)
    compile_s: float = 0.0
    sim_s: float = 0.0
    contained: bool = True
    detail: str = ""


def tag_testbench(testbench_sv: str, nonce: str, top: str = "tb") -> tuple[str, str]:
    """(tagged testbench, new top name). Raises ValueError when the summary display is not exactly one."""
    tag = f"VERILOOP-{nonce} "
    tagged, count = _DISPLAY_RE.subn(lambda m: m[1] + tag + m[2].lstrip(), testbench_sv)
    if count != 1:
        raise ValueError(f"the testbench must print exactly one 'Mismatches:' summary (found {count})")
    new_top = top
    module_re = re.compile(rf"\bmodule\s+{re.escape(top)}\b")
    if len(module_re.findall(tagged)) == 1:
        # Rename the top everywhere (declaration, $dumpvars scopes, hierarchical names) consistently.
        new_top = f"{top}_{nonce}"
        tagged = re.sub(rf"(?<![\w$.]){re.escape(top)}\b", new_top, tagged)
    return tagged, new_top


_MODULE_NAME_RE = re.compile(r"\bmodule\s+(\w+)")


def _instantiated(name: str, trusted_sv: str) -> bool:
    """Does the trusted code instantiate a module called `name` (`name [#(...)] inst (`)?"""
    pattern = rf"(?<![\w$.]){re.escape(name)}\s*(?:#\s*\(|[A-Za-z_]\w*\s*\()"
    return re.search(pattern, trusted_sv) is not None


def _name_clashes(design_sv: str, trusted_sv: str) -> list[str]:
    """Design modules whose names are testbench identifiers other than the module types it instantiates.

    A design module named like a testbench instance (say `good1`) would otherwise let a hierarchical
    name in the design (`good1.out`) resolve to the testbench's object once compiled together.
    """
    out = set()
    for name in set(_MODULE_NAME_RE.findall(design_sv)):
        named = re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", trusted_sv) is not None
        if named and not _instantiated(name, trusted_sv):
            out.add(name)
    return sorted(out)


def _design_roots(design_sv: str, trusted_sv: str) -> list[str]:
    """The design's modules that the testbench instantiates (all of them if it names none).

    Each is elaborated a second time as a root of its own: an upward reference in it or anything it
    instantiates (`good1.out`, `stats1.errors`) then has nowhere to resolve and compilation fails,
    while a design that names only its own objects elaborates the same in both places.
    """
    defined = list(dict.fromkeys(_MODULE_NAME_RE.findall(design_sv)))
    return [m for m in defined if _instantiated(m, trusted_sv)] or defined


def grade_testbench(
    design_sv: str,
    testbench_sv: str,
    ref_sv: str | None = None,
    top: str = "tb",
    timeout_s: float = 30.0,
    *,
    nonce: str | None = None,
    data_files: dict[str, str | bytes] | None = None,
) -> GradeReport:
    """Compile design + testbench (+ reference) and simulate; pass only on the nonce-tagged summary.

    `data_files` (trusted test data such as $readmemh images or `include files) are placed in both the
    compile and the simulation directory; they must not contain the nonce (they cannot: it is fresh).
    """
    vers = {"iverilog": version("iverilog"), "vvp": version("vvp")}
    nonce = nonce or secrets.token_hex(12)
    try:
        tb, sim_top = tag_testbench(testbench_sv, nonce, top)
    except ValueError as exc:
        return GradeReport(passed=False, category="tool_error", detail=str(exc), tool_versions=vers)
    files = {"design.sv": design_sv, "tb.sv": tb}
    if ref_sv is not None:
        files["ref.sv"] = ref_sv
    extra = dict(data_files or {})
    clash = _name_clashes(design_sv, testbench_sv + "\n" + (ref_sv or ""))
    if clash:
        return GradeReport(
            passed=False,
            category="tool_error",
            tool_versions=vers,
            detail=f"the design defines module(s) named like testbench objects: {', '.join(clash)}",
        )
    comp, res = compile_and_run(
        files,
        sim_top,
        timeout_s=timeout_s,
        compile_timeout_s=max(timeout_s, 60.0),
        data_files=extra,
        extra_roots=_design_roots(design_sv, testbench_sv + "\n" + (ref_sv or "")),
    )
    if res is None:
        category: SimCategory = "syntax"
        if "stopped by the sandbox" in comp.log:
            category = "timeout" if "timeout" in comp.log else "tool_error"
        return GradeReport(
            passed=False,
            category=category,
            compile_log=comp.log,
            log_tail=comp.log,
            tool_versions=vers,
            compile_s=comp.wall_s,
            detail="compilation failed",
        )
    tagged_re = re.compile(
        rf"^VERILOOP-{re.escape(nonce)} Mismatches:\s*(\d+)\s+in\s+(\d+)\s+samples\s*$", re.MULTILINE
    )
    rep = report_from_run(res, comp, summary_re=tagged_re, require_summary=True)
    count = len(tagged_re.findall(res.stdout))
    category = rep.category
    detail = ""
    if category == "pass" and (count != 1 or not rep.samples):
        category, detail = "no_summary", f"{count} tagged summaries, {rep.samples} samples"
    elif category == "no_summary":
        detail = "the testbench's own summary line never appeared (early $finish, crash or forged output)"
    log = rep.log_tail.replace(f"VERILOOP-{nonce} ", "")
    simcost.record(testbench_sv, design_sv, ref_sv, res.wall_s)
    return GradeReport(
        passed=category == "pass",
        category=category,
        mismatches=rep.mismatches,
        samples=rep.samples,
        first_mismatch_time=rep.first_mismatch_time,
        hints=rep.hints,
        log_tail=log,
        compile_log=comp.log,
        tool_versions=vers,
        compile_s=comp.wall_s,
        sim_s=res.wall_s,
        contained=res.contained,
        detail=detail,
    )


class GradeItem(BaseModel):
    """One design to grade with `grade_many` (the arguments of `grade_testbench`)."""

    design_sv: str
    testbench_sv: str
    ref_sv: str | None = None
    top: str = "tb"
    timeout_s: float = 30.0
    data_files: dict[str, str | bytes] | None = None


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
            it.design_sv, it.testbench_sv, it.ref_sv, it.top, it.timeout_s, data_files=it.data_files
        )
        reports[i] = rep
        if on_done is not None:
            on_done(i, rep)

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="veriloop-grade") as pool:
        list(pool.map(one, order))
    simcost.history().save()
    return [r for r in reports if r is not None]
