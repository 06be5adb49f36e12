"""Why a sample failed, in one line a person can read: taken from the grader's own evidence."""

from __future__ import annotations

import re

_SUMMARY = re.compile(r"^\s*Mismatches:\s*\d+\s+in\s+\d+\s+samples\s*$")
_TOOL_ERROR = re.compile(r"\b(error|sorry|syntax|unsupported|not supported|cannot|unable)\b", re.I)
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
        hits = [ln for ln in lines if _SIM_FAIL.search(ln)]
        if hits:
            # a summary line ("Failed: 3", "20 failures") says more than one failing vector
            counted = [ln for ln in hits if re.search(r"\d+\s+failures|fail(ed|ures)?\b.*\d", ln, re.I)]
            return _squeeze((counted or hits)[-1], width)
    if detail and detail != "compilation failed":
        return _squeeze(detail.splitlines()[0], width)
    if lines:
        return _squeeze(lines[-1], width)
    return category
