"""The lexical side of retrieval: a BM25 index (bm25s) over every chunk, persisted beside chromadb."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "so",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "this",
        "to",
        "was",
        "were",
        "will",
        "with",
        "which",
        "what",
        "when",
        "where",
        "how",
        "do",
        "does",
        "can",
        "you",
        "your",
        "we",
        "our",
        "not",
        "no",
        "i",
        "me",
        "my",
        "than",
    ]
)
_TOKEN = re.compile(r"[a-z0-9_$]+")


def _stem(word: str) -> str:
    """A light English stemmer (plurals, -ing, -ed) that leaves identifiers and numbers alone."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            return word[: len(word) - len(suffix)] + keep
    return word


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens; snake_case identifiers also contribute their parts."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower()):
        if tok in STOPWORDS:
            continue
        out.append(_stem(tok))
        if "_" in tok:
            out.extend(_stem(p) for p in tok.split("_") if p and p not in STOPWORDS)
    return out


class LexicalIndex:
    """BM25 over (id, text, kind, metadata) records; saved as a directory with a generation stamp."""

    def __init__(self, records: list[dict[str, Any]], generation: str) -> None:
        import bm25s

        self.records = records
        self.generation = generation
        self._bm25 = bm25s.BM25()
        if records:
            self._bm25.index([tokenize(r["text"]) or ["<empty>"] for r in records], show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        if not self.records:
            return np.zeros(0, dtype=np.float32)
        tokens = [t for t in tokenize(query) if t in self._vocab]
        if not tokens:
            return np.zeros(len(self.records), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    @property
    def _vocab(self) -> dict[str, int]:
        vocab: dict[str, int] = self._bm25.vocab_dict
        return vocab

    def search(self, query: str, n: int, keep: Any = None) -> list[tuple[int, float]]:
        """Indices into `records` with positive BM25 score, best first; `keep(record)` filters."""
        scores = self.scores(query)
        order = np.argsort(-scores, kind="stable")
        out: list[tuple[int, float]] = []
        for i in order:
            s = float(scores[i])
            if s <= 0:
                break
            if keep is not None and not keep(self.records[i]):
                continue
            out.append((int(i), s))
            if len(out) >= n:
                break
        return out

    def save(self, directory: Path) -> None:
        """Write atomically: build in a temp dir next to the target, then swap it in."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".bm25-", dir=directory.parent))
        try:
            if self.records:
                self._bm25.save(str(tmp / "bm25"), show_progress=False)
            (tmp / "records.json").write_text(json.dumps(self.records), encoding="utf-8")
            (tmp / "generation").write_text(self.generation, encoding="utf-8")
            old = directory.with_name(directory.name + ".old")
            if directory.exists():
                if old.exists():
                    shutil.rmtree(old, ignore_errors=True)
                os.replace(directory, old)
            os.replace(tmp, directory)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex | None:
        """The saved index, or None when there is none or it cannot be read (it is then rebuilt)."""
        import bm25s

        try:
            generation = (directory / "generation").read_text(encoding="utf-8")
            records = json.loads((directory / "records.json").read_text(encoding="utf-8"))
            self = cls.__new__(cls)
            self.records = records
            self.generation = generation
            self._bm25 = (
                bm25s.BM25.load(str(directory / "bm25"), show_progress=False) if records else bm25s.BM25()
            )
            return self
        except (OSError, ValueError, KeyError):
            return None

    @staticmethod
    def saved_generation(directory: Path) -> str | None:
        try:
            return (directory / "generation").read_text(encoding="utf-8")
        except OSError:
            return None
