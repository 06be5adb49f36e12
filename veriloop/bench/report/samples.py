"""Per-sample evidence for the HTML drill-down: the graded code, the grader's log excerpt, the first
mismatch, and a diff against the suite's reference solution."""

from __future__ import annotations

import difflib
import re

from pydantic import BaseModel

from veriloop import runstore
from veriloop.bench.store import ResultStore, SampleRecord
from veriloop.bench.taxonomy import failure_class, failure_reason

_FIRST_MISMATCH = re.compile(r"[Ff]irst mismatch (?:occurred )?at time\s*(\d+)")
_MAX_CODE = 40_000
_MAX_LOG = 3_000


class SampleView(BaseModel):
    """One sample as the report shows it."""

    problem: str
    backend: str
    config: str
    idx: int
    passed: bool
    category: str
    failure_class: str | None = None
    reason: str = ""
    code: str = ""
    log_excerpt: str = ""
    first_mismatch: str = ""
    diff: str = ""
    """Unified diff from the reference solution to the sample's code ('' if either is missing)."""


def first_mismatch(rec: SampleRecord) -> str:
    """'time T' (and the output, when the testbench names it) of the first mismatch, if reported."""
    for line in (rec.log_tail or "").splitlines():
        m = _FIRST_MISMATCH.search(line)
        if m:
            out = re.search(r"Output '([^']+)'", line)
            return f"time {m.group(1)}" + (f" (output {out.group(1)})" if out else "")
    m = _FIRST_MISMATCH.search(rec.detail or "")
    return f"time {m.group(1)}" if m else ""


def code_diff(reference: str, code: str, problem: str) -> str:
    if not reference.strip() or not code.strip():
        return ""
    lines = difflib.unified_diff(reference.splitlines(), code.splitlines(), fromfile=f"{problem} reference",
                                 tofile=f"{problem} sample", lineterm="", n=2)
    return "\n".join(lines)


def goldens(spec: dict[str, object]) -> dict[str, str]:
    """The suite's reference solutions by problem id; empty when the suite's data cannot be read now."""
    from veriloop.bench.suites import load_suite
    from veriloop.errors import VeriloopError

    suite = str(spec.get("suite") or "")
    if not suite or suite == "evolve":
        return {}
    try:
        loaded = load_suite(suite, spec.get("path") or None)  # type: ignore[arg-type]
    except (VeriloopError, OSError):
        return {}
    return {p.id: p.golden for p in loaded.problems}


def sample_views(record: runstore.RunRecord) -> list[SampleView]:
    """Every RTL sample of a run with its evidence, ordered by problem, group and sample index."""
    with ResultStore.open(record.dir) as store:
        recs = [r for r in store.records(with_code=True) if r.category != "score"]
    refs = goldens(dict(record.meta.get("spec") or {})) if recs else {}
    out = []
    for r in sorted(recs, key=lambda r: (r.problem, r.backend, r.config, r.idx)):
        out.append(SampleView(
            problem=r.problem, backend=r.backend, config=r.config, idx=r.idx, passed=r.passed,
            category=r.category, failure_class=failure_class(r.category, r.detail, r.log_tail),
            reason="" if r.passed else failure_reason(r.category, r.detail, r.log_tail),
            code=r.code[:_MAX_CODE], log_excerpt=(r.log_tail or "")[-_MAX_LOG:],
            first_mismatch=first_mismatch(r),
            diff="" if r.config == "reference" else code_diff(refs.get(r.problem, ""), r.code, r.problem),
        ))
    return out
