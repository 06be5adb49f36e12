"""Knowledge base: docs, code and lessons in chromadb, searched dense + BM25 (imports are lazy)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from veriloop.knowledge.corpus import ensure_corpus
    from veriloop.knowledge.memory import Lesson, LessonHit, distill_lessons, signature
    from veriloop.knowledge.models import Hit, IngestReport, StoreStats
    from veriloop.knowledge.store import KnowledgeStore, open_store

_EXPORTS = {
    "open_store": "veriloop.knowledge.store",
    "KnowledgeStore": "veriloop.knowledge.store",
    "ensure_corpus": "veriloop.knowledge.corpus",
    "Hit": "veriloop.knowledge.models",
    "IngestReport": "veriloop.knowledge.models",
    "StoreStats": "veriloop.knowledge.models",
    "Lesson": "veriloop.knowledge.memory",
    "LessonHit": "veriloop.knowledge.memory",
    "distill_lessons": "veriloop.knowledge.memory",
    "signature": "veriloop.knowledge.memory",
}

__all__ = [
    "Hit",
    "IngestReport",
    "KnowledgeStore",
    "Lesson",
    "LessonHit",
    "StoreStats",
    "distill_lessons",
    "ensure_corpus",
    "open_store",
    "signature",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'veriloop.knowledge' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
