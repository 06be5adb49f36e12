"""Typed records of the knowledge store: chunks, hits, ingest reports and statistics."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Kind = Literal["doc", "code", "lesson"]
KINDS: tuple[Kind, ...] = ("doc", "code", "lesson")
COLLECTION_OF: dict[str, str] = {"doc": "docs", "code": "code", "lesson": "lessons"}
SearchMode = Literal["hybrid", "dense", "lexical"]
_ALIASES: dict[str, Kind] = {
    "doc": "doc",
    "docs": "doc",
    "code": "code",
    "lesson": "lesson",
    "lessons": "lesson",
}


def normalise_kind(kind: str | None) -> Kind | None:
    """Accept 'doc'/'docs', 'code', 'lesson'/'lessons' (or None for every kind)."""
    if kind is None:
        return None
    found = _ALIASES.get(kind.strip().lower())
    if found is None:
        from veriloop.errors import InputError

        raise InputError(f"Unknown knowledge kind '{kind}'.", hint="Use one of: doc, code, lesson.")
    return found


class Chunk(BaseModel):
    """One piece of text ready to be embedded and indexed."""

    id: str
    text: str
    kind: Kind
    metadata: dict[str, str | int | float | bool] = Field(default_factory=dict)


class Hit(BaseModel):
    """One search result: the chunk, where it came from and how well it matched."""

    id: str
    text: str
    source: str
    kind: Kind
    score: float
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def title(self) -> str:
        return str(self.metadata.get("title") or self.metadata.get("heading") or self.source)

    def snippet(self, width: int = 240) -> str:
        """The chunk body on one line, cut to `width` characters."""
        flat = " ".join(self.text.split())
        return flat if len(flat) <= width else flat[: width - 1] + "…"

    def citation(self) -> str:
        """A short reference an agent can quote in its transcript."""
        heading = self.metadata.get("heading")
        return f"{self.source}" + (f" § {heading}" if heading else "")


class IngestReport(BaseModel):
    """What one ingest call did."""

    files_seen: int = 0
    files_added: int = 0
    files_updated: int = 0
    files_unchanged: int = 0
    files_failed: list[str] = Field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0
    seconds: float = 0.0


class StoreStats(BaseModel):
    """Size and configuration of a store."""

    path: str
    embedding: str
    counts: dict[str, int]
    sources: int
    lexical_index: Literal["fresh", "stale", "absent"]
