"""Why a sample failed: a failure class (VerilogEval-style taxonomy) and one line a person can read,
both taken from the grader's own evidence (category, detail, log)."""

from __future__ import annotations

import re

_SUMMARY = re.compile(r"^\s*Mismatches:\s*\d+\s+in\s+\d+\s+samples\s*$")
_TOOL_ERROR = re.compile(r"\b(error|sorry|syntax|unsupported|not supported|cannot|unable)\b", re.I)
_ELAB = re.compile(
    r"Elaboration failed|Unknown module type|is not a port|Unable to bind|unable to bind|"
    r"port .* (does not exist|not found)|Cannot find|not declared|Unresolved|Unknown port|"
    r"Port .* of .* is not", re.I)
_RESET_HINT = re.compile(
    r"Your reset (doesn't seem to be working|should be \w+, but doesn't appear to be)", re.I)
_RUNTIME = re.compile(r"\$fatal|FATAL|Segmentation|core dumped|Assertion failed|stack overflow", re.I)

CLASSES = ("syntax", "elaboration", "runtime", "mismatch", "mismatch-reset", "timeout", "illegal",
           "no_code", "infra", "other")
"""Failure classes, in report order. syntax: the code does not parse or compile; elaboration: it
parses but cannot be built (unknown module, wrong ports, unbound names); runtime: the simulation
crashed or ended without a trustworthy summary; mismatch: wrong outputs; mismatch-reset: wrong
outputs where the testbench says the reset does not work (VerilogEval's hint); timeout; illegal:
refused by the grader's screening; no_code: nothing usable in the reply; infra: backend, harness or
budget failures (not the design's fault); other: anything else."""
_DIRECT = {"timeout": "timeout", "illegal": "illegal", "no_code": "no_code", "backend_error": "infra",
           "harness_error": "infra", "budget": "infra", "no_summary": "runtime"}


def failure_class(category: str, detail: str = "", log_tail: str = "") -> str | None:
    """The failure class of a sample's verdict; None for a pass (and for evolve scores)."""
    if category in ("pass", "score"):
        return None
    if category in _DIRECT:
        return _DIRECT[category]
    text = f"{detail}\n{log_tail}"
    if category == "syntax":
        return "elaboration" if _ELAB.search(text) else "syntax"
    if category == "mismatch":
        return "mismatch-reset" if _RESET_HINT.search(log_tail) else "mismatch"
    if category == "tool_error":
        return "runtime" if _RUNTIME.search(text) else "infra"
    return "other"


_SIM_FAIL = re.compile(r"\b(error|fail(ed|ure|ures)?|mismatch(es)?|wrong|expected)\b", re.I)


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not _SUMMARY.match(ln)]


def _squeeze(line: str, width: int) -> str:
    line = re.sub(r"\s+", " ", re.sub(r"[=*#-]{3,}", " ", line)).strip(" =-*:")
    return line if len(line) <= width else line[: width - 1] + "…"


def failure_reason(category: str, detail: str = "", log_tail: str = "", width: int = 160) -> str:
    """One line: the tool's first error for code that did not compile, the testbench's last failure
    message for a simulation that did not pass, else the grader's detail (or the category itself)."""
    lines = _lines(log_tail)
    if category in ("syntax", "tool_error", "timeout"):
        hit = next((ln for ln in lines if _TOOL_ERROR.search(ln)), None)
        if hit:
            return _squeeze(hit, width)
    if category in ("mismatch", "no_summary"):
        reset = next((ln for ln in lines if _RESET_HINT.search(ln)), None)
        hits = [ln for ln in lines if _SIM_FAIL.search(ln)]
        if reset:
            other = next((ln for ln in hits if ln != reset), "")
            return _squeeze(reset + (f" {other}" if other else ""), width)
        if hits:
            # a summary line ("Failed: 3", "20 failures") says more than one failing vector
            counted = [ln for ln in hits if re.search(r"\d+\s+failures|fail(ed|ures)?\b.*\d", ln, re.I)]
            return _squeeze((counted or hits)[-1], width)
    if detail and detail != "compilation failed":
        return _squeeze(detail.splitlines()[0], width)
    if lines:
        return _squeeze(lines[-1], width)
    return category
