"""Lessons memory: (error -> fix that worked) pairs from past runs, matched by a normalised error signature.

Usage from an agent or the evolve loop::

    store = open_store(settings)
    store.add_lesson(error_text=raw_compiler_output, fix="declare `cnt` as reg [3:0]",
                     insight="undeclared counters", run_id=run.id, job="rtl", tool="iverilog")
    for hit in store.find_lessons(new_raw_output, k=3):
        prompt += hit.lesson.as_prompt()

The signature strips file paths, line/column numbers, quoted identifiers and numbers from the error
lines, so the same mistake in another file, at another line, with other names still matches.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from veriloop.errors import InputError
from veriloop.knowledge.models import Chunk

if TYPE_CHECKING:
    from veriloop.knowledge.store import KnowledgeStore

MAX_SIGNATURE_LINES = 3

_NOISE = (
    re.compile(r"^\s*\d+\s*\|"),  # verilator source echo "   3 |   assign ..."
    re.compile(r"^\s*\|?\s*[\^~]+\s*$"),  # caret lines
    re.compile(r"^\s*(\.\.\.|:\s*\.\.\.)\s*(For (warning|error) description|Use \"/\*)"),
    re.compile(r"^\s*\*\*\*"),
    re.compile(r"^%Error: Exiting due to"),
    re.compile(r"^\s*(Elaboration failed|I give up\.)\s*$"),
    re.compile(r"^\s*\d+ error\(s\) during elaboration\.?\s*$"),
)
_PATH = re.compile(
    r"(?<![\w/])(?:\.{0,2}/)?(?:[\w.\-~]+/)*[\w\-.]+\.(?:s?v|vh|svh|vvp|ys|sby|py|txt|hex|mem|vcd|log)\b"
    r"|(?<![\w/])/(?:[\w.\-~]+/)+[\w.\-]+"
)
_NAMES = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"\b(is not a port of) [\w.$]+", r"\1 <id>"),
        (r"(error: )[\w.$\[\]]+( is not a valid l-value in )[\w.$]+", r"\1<id>\2<id>"),
        (r"^(\S*:\s*:\s*)[\w.$]+( is declared here as)", r"\1<id>\2"),
        (r"(Unknown module type: )\S+", r"\1<id>"),
        (r"\b(reg )[\w$]+(; cannot be driven)", r"\1<id>\2"),
        (r"\b(parameter )[\w$]+( not found in )\S+", r"\1<id>\2<id>"),
        (r"\b(Port \d+ \()[\w$]+(\) of )[\w$]+", r"\1<id>\2<id>"),
        (r"\b(Include file )\S+", r"\1<file>"),
        (r"\b(macro )[\w$]+( undefined)", r"\1<id>\2"),
        (r"\b(timescale for )[\w$]+", r"\1<id>"),
        (r"\b(Unable to open )\S+", r"\1<file>"),
        (r"(System task/function )\$[\w$]+", r"\1$<id>"),
        (r"\b(Module )\S+( not found)", r"\1<id>\2"),
        (r"\b(for signal )\S+", r"\1<id>"),
        (r"\b(conflicting drivers for )\S+", r"\1<id>"),
        (r"\b(found logic loop in module )\S+", r"\1<id>"),
        (r"\b(Identifier )\S+", r"\1<id>"),
        (r"\b(Wire )\S+", r"\1<id>"),
    )
)
_LOCATION = re.compile(r"<file>(?::\d+)+(?:\.\d+(?:-\d+\.\d+)?)?")
_QUOTED = re.compile(r"`[^`'\s]+''?|'[^'\s]+'|\"[^\"\n]*\"|``[^'\s]+''")
_HEX = re.compile(r"\b0x[0-9a-fA-F]+\b|\b\d+'[sS]?[bBoOdDhH][0-9a-fA-F_xXzZ?]+\b")
_NUMBER = re.compile(r"\b\d+\b")
_DOLLAR = re.compile(r"\$(?:auto|paramod|abstract|flatten|techmap|proc)\$[^\s:']+")
_WS = re.compile(r"\s+")


def _is_noise(line: str) -> bool:
    return not line.strip() or any(p.search(line) for p in _NOISE)


def normalise_line(line: str) -> str:
    """One error line with paths, locations, identifiers and numbers replaced by placeholders."""
    s = _PATH.sub("<file>", line.strip())
    for pattern, repl in _NAMES:
        s = pattern.sub(repl, s)
    s = _LOCATION.sub("<file>:<loc>", s)
    s = _DOLLAR.sub("<auto>", s)
    s = _QUOTED.sub("'<id>'", s)
    s = _HEX.sub("<n>", s)
    s = _NUMBER.sub("<n>", s)
    s = re.sub(r"\bin instance \S+", "in instance <id>", s, flags=re.I)
    s = re.sub(r"\bin (?:module )?`?\\?[A-Za-z_][\w.$]*'?\.?$", "in <id>", s)
    return _WS.sub(" ", s).strip()


def error_lines(text: str) -> list[str]:
    """The lines of a tool log that state an error or warning (or the first line, if none does)."""
    lines = [ln for ln in text.splitlines() if not _is_noise(ln)]
    flagged = [
        ln for ln in lines if re.search(r"error|warning|syntax|unable|not found|undefined|unknown", ln, re.I)
    ]
    return flagged or lines[:1]


def signature(error_text: str) -> str:
    """A stable signature of an error: its first few distinct normalised error lines, joined."""
    seen: list[str] = []
    for line in error_lines(error_text):
        norm = normalise_line(line)
        if norm and norm not in seen:
            seen.append(norm)
        if len(seen) >= MAX_SIGNATURE_LINES:
            break
    return " | ".join(seen)


_TOOL_OUTPUT = re.compile(r"%(?:Warning|Error)|\bERROR:|\berror:|\bwarning:|\w\.s?vh?:\d+")


def embedding_text(query: str) -> str:
    """The form of a query that is embedded: tool output loses paths, locations, names and numbers
    (noise to a sentence model); any other text is returned unchanged."""
    if not _TOOL_OUTPUT.search(query):
        return query
    text = " ".join(normalise_line(line) for line in query.splitlines() if line.strip())
    for token, repl in (("<file>:<loc>:", ""), ("<file>", "file"), ("'<id>'", ""), ("<id>", ""), ("<n>", "")):
        text = text.replace(token, repl)
    return _WS.sub(" ", text).strip() or query


class Provenance(BaseModel):
    """Where a lesson was learnt."""

    run_id: str | None = None
    job: str | None = None
    tool: str | None = None
    time: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


class Lesson(BaseModel):
    """An error, the fix that made it go away, and what to remember."""

    error_signature: str = ""
    error_text: str
    fix: str
    insight: str = ""
    provenance: Provenance = Field(default_factory=Provenance)

    def model_post_init(self, _ctx: Any) -> None:
        if not self.error_signature:
            self.error_signature = signature(self.error_text)

    @property
    def id(self) -> str:
        digest = hashlib.sha256(f"{self.error_signature}\n{self.fix}".encode()).hexdigest()[:20]
        return f"lesson:{digest}"

    def document(self) -> str:
        """The text that is embedded and indexed: the signature, the raw error, the fix and insight."""
        parts = [f"Error: {self.error_signature}", self.error_text.strip()[:1500], f"Fix: {self.fix}"]
        if self.insight:
            parts.append(f"Insight: {self.insight}")
        return "\n".join(parts)

    def as_prompt(self) -> str:
        """A compact form for an LLM prompt, with provenance to cite."""
        src = self.provenance.run_id or "unknown run"
        lines = [
            f"- Past error ({self.provenance.tool or 'tool'}, run {src}): {self.error_signature}",
            f"  Fix that worked: {self.fix}",
        ]
        if self.insight:
            lines.append(f"  Insight: {self.insight}")
        return "\n".join(lines)


class LessonHit(BaseModel):
    """A retrieved lesson, whether its signature matched exactly, and a score in [0, 1]."""

    lesson: Lesson
    exact: bool
    score: float


def _to_metadata(lesson: Lesson) -> dict[str, str | int | float | bool]:
    p = lesson.provenance
    return {
        "source": f"lesson/{p.run_id or 'manual'}",
        "signature": lesson.error_signature,
        "error_text": lesson.error_text[:4000],
        "fix": lesson.fix[:4000],
        "insight": lesson.insight[:2000],
        "run_id": p.run_id or "",
        "job": p.job or "",
        "tool": p.tool or "",
        "time": p.time,
        "title": "lesson",
        "heading": lesson.error_signature[:120],
    }


def _from_metadata(meta: dict[str, Any]) -> Lesson:
    return Lesson(
        error_signature=str(meta.get("signature", "")),
        error_text=str(meta.get("error_text", "")),
        fix=str(meta.get("fix", "")),
        insight=str(meta.get("insight", "")),
        provenance=Provenance(
            run_id=meta.get("run_id") or None,
            job=meta.get("job") or None,
            tool=meta.get("tool") or None,
            time=str(meta.get("time", "")),
        ),
    )


def add_lesson(store: KnowledgeStore, lesson: Lesson | None = None, **fields: Any) -> Lesson:
    """Store one lesson; the same (signature, fix) pair is stored once (the newest provenance wins).

    Keywords when no Lesson is given: error_text, fix, insight, run_id, job, tool.
    """
    if lesson is None:
        prov = Provenance(
            run_id=fields.pop("run_id", None), job=fields.pop("job", None), tool=fields.pop("tool", None)
        )
        try:
            lesson = Lesson(provenance=prov, **fields)
        except Exception as exc:
            raise InputError(f"A lesson needs error_text and fix: {exc}") from None
    if not lesson.error_text.strip() or not lesson.fix.strip():
        raise InputError("A lesson needs a non-empty error_text and fix.")
    store.add_chunks(
        [Chunk(id=lesson.id, text=lesson.document(), kind="lesson", metadata=_to_metadata(lesson))]
    )
    return lesson


def find_lessons(
    store: KnowledgeStore, error_text: str, k: int = 3, tool: str | None = None
) -> list[LessonHit]:
    """Lessons for an error: exact signature matches first, then the most similar ones (hybrid search)."""
    if not error_text.strip():
        return []
    sig = signature(error_text)
    col = store.collection("lesson")
    where: dict[str, Any] = {"signature": sig}
    if tool:
        where = {"$and": [where, {"tool": tool}]}
    with store._guard("search"):
        exact = col.get(where=where, include=["metadatas"]) if col.count() else {"ids": [], "metadatas": []}
    hits: list[LessonHit] = []
    seen: set[str] = set()
    for cid, meta in zip(exact["ids"], exact["metadatas"] or [], strict=False):
        hits.append(LessonHit(lesson=_from_metadata(dict(meta or {})), exact=True, score=1.0))
        seen.add(cid)
    if len(hits) < k and col.count() > len(seen):
        similar = store.search(
            f"{sig}\n{error_text[:1000]}",
            k=k + len(seen),
            kind="lesson",
            where={"tool": tool} if tool else None,
            mode="hybrid",
        )
        best = max((h.score for h in similar), default=1.0) or 1.0
        for h in similar:
            if h.id in seen:
                continue
            hits.append(
                LessonHit(
                    lesson=_from_metadata(h.metadata),
                    exact=False,
                    score=round(min(0.99, 0.9 * h.score / best), 4),
                )
            )
            seen.add(h.id)
    return hits[:k]


class Attempt(BaseModel):
    """One try in a run's fix loop: the code, the tool output it got ('' when clean) and the change note."""

    code: str = ""
    error_text: str = ""
    note: str = ""


def _diff_summary(before: str, after: str, limit: int = 24) -> str:
    diff = [
        ln
        for ln in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if not ln.startswith(("---", "+++", "@@"))
    ]
    text = "\n".join(diff[:limit])
    return text + ("\n…" if len(diff) > limit else "")


def distill_lessons(
    attempts: Sequence[Attempt],
    run_id: str | None = None,
    job: str | None = None,
    tool: str | None = None,
    insight: str = "",
) -> list[Lesson]:
    """Lessons from consecutive attempts: wherever an error's signature disappeared in the next attempt,
    that attempt's note (or the code diff) is the fix that worked. Nothing is stored here."""
    lessons: list[Lesson] = []
    for before, after in zip(attempts, attempts[1:], strict=False):
        if not before.error_text.strip():
            continue
        sig = signature(before.error_text)
        after_sigs = (
            {normalise_line(x) for x in error_lines(after.error_text)} if after.error_text.strip() else set()
        )
        gone = [line for line in sig.split(" | ") if line not in after_sigs]
        if not gone:
            continue
        fix = after.note.strip() or _diff_summary(before.code, after.code)
        if not fix.strip():
            continue
        lessons.append(
            Lesson(
                error_text=before.error_text,
                fix=fix,
                insight=insight,
                provenance=Provenance(run_id=run_id, job=job, tool=tool),
            )
        )
    return lessons
