"""The SQLite results store of a bench run: the run's spec and one row per finished sample."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from veriloop.errors import StoreError

DB_NAME = "results.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
  problem TEXT NOT NULL, backend TEXT NOT NULL, config TEXT NOT NULL, idx INTEGER NOT NULL,
  passed INTEGER NOT NULL, category TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',
  mismatches INTEGER, total INTEGER, prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0, cost_usd REAL NOT NULL DEFAULT 0,
  latency_s REAL, llm_latency_s REAL, grade_s REAL, calls INTEGER NOT NULL DEFAULT 0,
  seed INTEGER, temperature REAL, mode TEXT NOT NULL, model TEXT NOT NULL DEFAULT '',
  tool_versions TEXT NOT NULL DEFAULT '{}', modules TEXT NOT NULL DEFAULT '[]',
  score REAL, code TEXT NOT NULL DEFAULT '', log_tail TEXT NOT NULL DEFAULT '', created REAL NOT NULL,
  PRIMARY KEY (problem, backend, config, idx)
);
CREATE INDEX IF NOT EXISTS samples_group ON samples (backend, config);
"""

RETRY_CATEGORIES = ("backend_error", "harness_error")
"""Rows that record an infrastructure failure or a harness bug, not a verdict: resume retries them."""


class SampleRecord(BaseModel):
    """One finished sample: verdict, failure category, cost, latency and provenance."""

    problem: str
    backend: str
    config: str
    idx: int
    passed: bool
    category: str
    detail: str = ""
    mismatches: int | None = None
    total: int | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float | None = None
    """Seconds of work on the sample: generation + grading, time queued for a slot excluded."""
    llm_latency_s: float | None = None
    grade_s: float | None = None
    calls: int = 0
    seed: int | None = None
    temperature: float | None = None
    mode: str
    model: str = ""
    tool_versions: dict[str, str | None] = Field(default_factory=dict)
    modules: list[str] = Field(default_factory=list)
    score: float | None = None
    """Evolve problems: the best score reached."""
    code: str = ""
    log_tail: str = ""
    created: float = 0.0

    def key(self) -> tuple[str, str, str, int]:
        return (self.problem, self.backend, self.config, self.idx)


_JSON_COLS = ("tool_versions", "modules")


class ResultStore:
    """Thin, transactional access to one run's results database (WAL; one writer per run)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"Results store {path} is unreadable or corrupt: {exc}.") from None

    @classmethod
    def open(cls, run_dir: Path) -> ResultStore:
        return cls(run_dir / DB_NAME)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- meta -----------------------------------------------------------------------------------
    def set_meta(self, key: str, value: Any) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                            (key, json.dumps(value, default=str)))

    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    # -- samples --------------------------------------------------------------------------------
    def put(self, rec: SampleRecord) -> None:
        data = rec.model_dump()
        for c in _JSON_COLS:
            data[c] = json.dumps(data[c])
        data["passed"] = int(rec.passed)
        cols = ", ".join(data)
        marks = ", ".join(f":{k}" for k in data)
        with self.db:
            self.db.execute(f"INSERT OR REPLACE INTO samples ({cols}) VALUES ({marks})", data)

    def done_keys(self) -> set[tuple[str, str, str, int]]:
        """Keys of samples with a verdict (infrastructure failures excluded, so they are retried)."""
        q = f"SELECT problem, backend, config, idx FROM samples WHERE category NOT IN " \
            f"({', '.join('?' for _ in RETRY_CATEGORIES)})"
        return {(p, b, c, int(i)) for p, b, c, i in self.db.execute(q, RETRY_CATEGORIES)}

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM samples").fetchone()[0])

    def records(self, with_code: bool = False) -> list[SampleRecord]:
        cur = self.db.execute("SELECT * FROM samples ORDER BY backend, config, problem, idx")
        names = [d[0] for d in cur.description]
        out = []
        for row in cur.fetchall():
            data = dict(zip(names, row, strict=True))
            for c in _JSON_COLS:
                data[c] = json.loads(data[c])
            data["passed"] = bool(data["passed"])
            if not with_code:
                data["code"] = ""
            out.append(SampleRecord.model_validate(data))
        return out
