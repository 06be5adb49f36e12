"""The program database: append-only SQLite (WAL) plus in-memory islands, MAP-Elites grids, archive."""

from __future__ import annotations

import bisect
import difflib
import json
import math
import random
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from veriloop.errors import StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS programs(
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  iteration INTEGER NOT NULL UNIQUE,
  parent_id TEXT,
  island INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  code TEXT NOT NULL,
  code_hash TEXT NOT NULL UNIQUE,
  code_length INTEGER NOT NULL,
  status TEXT NOT NULL,
  metrics TEXT NOT NULL,
  artifacts TEXT NOT NULL,
  combined_score REAL,
  features TEXT NOT NULL,
  cell TEXT,
  stage_reached INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  fault TEXT,
  timings TEXT NOT NULL DEFAULT '{}',
  backend TEXT,
  model TEXT,
  cost REAL NOT NULL DEFAULT 0,
  diff TEXT,
  edit TEXT,
  created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS programs_island_score ON programs(island, combined_score);
CREATE INDEX IF NOT EXISTS programs_parent ON programs(parent_id);
CREATE INDEX IF NOT EXISTS programs_score ON programs(combined_score);
CREATE TABLE IF NOT EXISTS iterations(
  iteration INTEGER PRIMARY KEY,
  status TEXT NOT NULL,
  fault TEXT,
  program_id TEXT,
  parent_id TEXT,
  island INTEGER,
  backend TEXT,
  model TEXT,
  cost REAL NOT NULL DEFAULT 0,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  retries INTEGER NOT NULL DEFAULT 0,
  applied INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  detail TEXT,
  created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS iterations_fault ON iterations(fault);
CREATE TABLE IF NOT EXISTS members(
  program_id TEXT NOT NULL,
  island INTEGER NOT NULL,
  since_iteration INTEGER NOT NULL,
  PRIMARY KEY(program_id, island)
);
CREATE TABLE IF NOT EXISTS notes(seq INTEGER PRIMARY KEY, text TEXT NOT NULL, created REAL NOT NULL);
"""

NOTES_IN_PROMPT = 5
"""How many of the latest steering notes (typed into `veriloop ui`) the next prompts carry."""


_PCOLS = (
    "id, iteration, parent_id, island, generation, code, code_hash, status, metrics, artifacts, "
    "combined_score, features, cell, stage_reached, error, fault, timings, backend, model, cost, "
    "diff, edit, created"
)


class ProgramRow(BaseModel):
    """One evaluated program, as stored."""

    id: str
    iteration: int
    parent_id: str | None = None
    island: int = 0
    generation: int = 0
    code: str
    code_hash: str
    status: str = "ok"
    metrics: dict[str, float] = Field(default_factory=dict)
    artifacts: dict[str, str] = Field(default_factory=dict)
    combined_score: float | None = None
    features: dict[str, float] = Field(default_factory=dict)
    cell: str | None = None
    stage_reached: int = 0
    error: str | None = None
    fault: str | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    backend: str | None = None
    model: str | None = None
    cost: float = 0.0
    diff: str | None = None
    edit: dict[str, Any] = Field(default_factory=dict)
    created: float = 0.0


class IterationRow(BaseModel):
    """What one iteration ended as (evaluated, duplicate, edit_failed, llm_error...)."""

    iteration: int
    status: str
    fault: str | None = None
    program_id: str | None = None
    parent_id: str | None = None
    island: int | None = None
    backend: str | None = None
    model: str | None = None
    cost: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0
    applied: int = 0
    failed: int = 0
    detail: str | None = None
    created: float = 0.0


@dataclass(slots=True)
class Entry:
    """The in-memory summary of a program (no code)."""

    id: str
    iteration: int
    island: int
    score: float
    generation: int
    cell: str | None
    code_length: int


@dataclass
class Island:
    """Members, a MAP-Elites grid (cell -> champion id) and a score-sorted elite list."""

    members: list[str] = field(default_factory=list)
    member_set: set[str] = field(default_factory=set)
    grid: dict[str, str] = field(default_factory=dict)
    elite_keys: list[tuple[float, int, str]] = field(default_factory=list)
    """(-score, iteration, id), ascending: best first."""


class DatabaseConfig(BaseModel):
    """Search settings the database needs."""

    num_islands: int = 4
    feature_dimensions: list[str] = Field(default_factory=lambda: ["combined_score", "code_length"])
    feature_bins: int = 10
    archive_size: int = 100
    exploration_ratio: float = 0.2
    exploitation_ratio: float = 0.7
    migration_interval: int = 10
    migration_rate: float = 0.1
    num_inspirations: int = 3


def novelty(parent_code: str | None, code: str) -> float:
    """1 - similarity to the parent (0 = identical)."""
    if parent_code is None:
        return 0.0
    return round(1.0 - difflib.SequenceMatcher(None, parent_code, code, autojunk=False).quick_ratio(), 6)


class ProgramDatabase:
    """Append-only store of every evaluated program; sampling works from in-memory indexes."""

    def __init__(self, path: Path, config: DatabaseConfig) -> None:
        self.path = Path(path)
        self.config = config
        self._lock = threading.RLock()
        try:
            self.conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"Program database {self.path} is unreadable or corrupt: {exc}.") from None
        self.entries: dict[str, Entry] = {}
        self.hashes: set[str] = set()
        self.islands = [Island() for _ in range(config.num_islands)]
        self.archive: list[tuple[float, int, str]] = []
        self.ranges: dict[str, tuple[float, float]] = {}
        self.applied_count = 0
        self.best_id: str | None = None
        self.initial_id: str | None = None
        self._load()

    # ---------------------------------------------------------------- persistence
    def _load(self) -> None:
        """Rebuild the in-memory indexes by replaying committed iterations in order."""
        cur = self.conn.execute(
            "SELECT id, iteration, island, generation, code_hash, code_length, status, combined_score, "
            "features, cell FROM programs"
        )
        progs = {r[1]: r for r in cur.fetchall()}
        for row in progs.values():
            self.hashes.add(row[4])
        for (h,) in self.conn.execute("SELECT detail FROM iterations WHERE status='duplicate'").fetchall():
            if h:
                self.hashes.add(h)
        for (it,) in self.conn.execute("SELECT iteration FROM iterations ORDER BY iteration").fetchall():
            row = progs.get(it)
            if row is not None:
                pid, _, island, gen, _, clen, status, score, feats, cell = row
                if it == 0:
                    self.initial_id = pid
                if status == "ok" and score is not None:
                    e = Entry(pid, it, island, float(score), gen, self.cell_of(json.loads(feats)), clen)
                    self._apply(e, persist_migration=True)
                    if it == 0:
                        for i in range(1, len(self.islands)):
                            self._add_member(self.islands[i], e)
            self.count_applied(it)

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (key, value))

    def notes(self) -> list[str]:
        """The latest steering notes, oldest first (see `add_note`)."""
        with self._lock:
            return latest_notes(self.conn)

    def done_iterations(self) -> set[int]:
        return {r[0] for r in self.conn.execute("SELECT iteration FROM iterations").fetchall()}

    def record(self, it: IterationRow, program: ProgramRow | None = None) -> None:
        """Commit one iteration (and its program) durably, in one transaction. Does not apply it."""
        now = time.time()
        with self._lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                if program is not None:
                    p = program
                    self.conn.execute(
                        "INSERT INTO programs(id, iteration, parent_id, island, generation, code, "
                        "code_hash, code_length, status, metrics, artifacts, combined_score, features, "
                        "cell, stage_reached, error, fault, timings, backend, model, cost, diff, edit, "
                        "created) "
                        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (
                            p.id,
                            p.iteration,
                            p.parent_id,
                            p.island,
                            p.generation,
                            p.code,
                            p.code_hash,
                            len(p.code),
                            p.status,
                            json.dumps(p.metrics, sort_keys=True),
                            json.dumps(p.artifacts, sort_keys=True),
                            p.combined_score,
                            json.dumps(p.features, sort_keys=True),
                            p.cell,
                            p.stage_reached,
                            p.error,
                            p.fault,
                            json.dumps(p.timings, sort_keys=True),
                            p.backend,
                            p.model,
                            p.cost,
                            p.diff,
                            json.dumps(p.edit, sort_keys=True),
                            p.created or now,
                        ),
                    )
                self.conn.execute(
                    "INSERT INTO iterations(iteration, status, fault, program_id, parent_id, island, "
                    "backend, model, cost, prompt_tokens, completion_tokens, retries, applied, failed, "
                    "detail, created) "
                    "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        it.iteration,
                        it.status,
                        it.fault,
                        it.program_id,
                        it.parent_id,
                        it.island,
                        it.backend,
                        it.model,
                        it.cost,
                        it.prompt_tokens,
                        it.completion_tokens,
                        it.retries,
                        it.applied,
                        it.failed,
                        it.detail,
                        it.created or now,
                    ),
                )
                self.conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                self.conn.execute("ROLLBACK")
                raise StoreError(
                    f"Could not commit iteration {it.iteration} to {self.path}: {exc}."
                ) from None
            if program is not None:
                self.hashes.add(program.code_hash)

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    # ---------------------------------------------------------------- features and cells
    def _track_ranges(self, features: dict[str, float]) -> None:
        for k, v in features.items():
            lo, hi = self.ranges.get(k, (v, v))
            self.ranges[k] = (min(lo, v), max(hi, v))

    def features_of(
        self, metrics: dict[str, float], score: float | None, code: str, parent_code: str | None
    ) -> dict[str, float]:
        out: dict[str, float] = {}
        for dim in self.config.feature_dimensions:
            if dim == "code_length":
                out[dim] = float(len(code))
            elif dim == "novelty":
                out[dim] = novelty(parent_code, code)
            elif dim == "combined_score":
                out[dim] = float(score) if score is not None else 0.0
            else:
                out[dim] = float(metrics.get(dim, 0.0))
        return out

    def cell_of(self, features: dict[str, float]) -> str:
        """Bin each feature over the range seen so far (including this program)."""
        self._track_ranges(features)
        bins = self.config.feature_bins
        idx = []
        for dim in self.config.feature_dimensions:
            v = features.get(dim, 0.0)
            if dim == "novelty":
                lo, hi = 0.0, 1.0
            else:
                lo, hi = self.ranges.get(dim, (v, v))
            b = 0 if hi <= lo else min(bins - 1, int((v - lo) / (hi - lo) * bins))
            idx.append(str(max(0, b)))
        return "-".join(idx)

    # ---------------------------------------------------------------- in-order application
    def apply(self, program: ProgramRow, iteration: int) -> None:
        """Make a committed program visible to sampling (called in schedule order)."""
        with self._lock:
            if (
                program.status == "ok"
                and program.combined_score is not None
                and program.id not in self.entries
            ):
                cell = self.cell_of(program.features)
                self._apply(
                    Entry(
                        program.id,
                        program.iteration,
                        program.island,
                        float(program.combined_score),
                        program.generation,
                        cell,
                        len(program.code),
                    ),
                    persist_migration=True,
                )

    def apply_initial(self, program: ProgramRow) -> None:
        """Make the seed program visible on every island (so each island has a parent)."""
        with self._lock:
            self.initial_id = program.id
            self.apply(program, 0)
            e = self.entries.get(program.id)
            if e is not None:
                for i in range(1, len(self.islands)):
                    self._add_member(self.islands[i], e)

    def count_applied(self, iteration: int) -> None:
        """Count an iteration as applied (even without a program) and migrate when it is time."""
        with self._lock:
            self.applied_count += 1
            every = self.config.migration_interval * self.config.num_islands
            if self.config.num_islands > 1 and self.applied_count % every == 0:
                self._migrate(iteration)

    def _apply(self, e: Entry, persist_migration: bool) -> None:
        self.entries[e.id] = e
        isl = self.islands[e.island % len(self.islands)]
        self._add_member(isl, e)
        key = (-e.score, e.iteration, e.id)
        bisect.insort(self.archive, key)
        if len(self.archive) > self.config.archive_size:
            self.archive.pop()
        if self.best_id is None or key < (
            -self.entries[self.best_id].score,
            self.entries[self.best_id].iteration,
            self.best_id,
        ):
            self.best_id = e.id

    def _add_member(self, isl: Island, e: Entry) -> None:
        if e.id in isl.member_set:
            return
        isl.members.append(e.id)
        isl.member_set.add(e.id)
        key = (-e.score, e.iteration, e.id)
        bisect.insort(isl.elite_keys, key)
        if len(isl.elite_keys) > self.config.archive_size:
            isl.elite_keys.pop()
        if e.cell is not None:
            cur = isl.grid.get(e.cell)
            if cur is None or (-e.score, e.iteration) < (
                -self.entries[cur].score,
                self.entries[cur].iteration,
            ):
                isl.grid[e.cell] = e.id

    def _migrate(self, iteration: int) -> None:
        """Ring migration: each island's top-k joins the next island."""
        n = len(self.islands)
        moves: list[tuple[str, int]] = []
        for i, isl in enumerate(self.islands):
            k = max(1, int(len(isl.elite_keys) * self.config.migration_rate)) if isl.elite_keys else 0
            for _, _, pid in isl.elite_keys[:k]:
                moves.append((pid, (i + 1) % n))
        for pid, dst in moves:
            target = self.islands[dst]
            if pid not in target.member_set:
                self._add_member(target, self.entries[pid])
                self.conn.execute(
                    "INSERT OR IGNORE INTO members(program_id, island, since_iteration) VALUES(?,?,?)",
                    (pid, dst, iteration),
                )

    # ---------------------------------------------------------------- sampling
    def sample(self, island: int, rng: random.Random) -> tuple[str | None, list[str]]:
        """(parent id, inspiration ids) for a child on `island`; parent None if the db is empty."""
        with self._lock:
            isl = self.islands[island % len(self.islands)]
            if not isl.members:
                nonempty = [x for x in self.islands if x.members]
                if not nonempty:
                    return None, []
                isl = nonempty[0]
            r = rng.random()
            cfg = self.config
            if r < cfg.exploration_ratio:
                parent = isl.members[rng.randrange(len(isl.members))]
            elif r < cfg.exploration_ratio + cfg.exploitation_ratio and isl.grid:
                champions = sorted(isl.grid.items())
                parent = champions[rng.randrange(len(champions))][1]
            else:
                k = len(isl.elite_keys)
                weights = [math.exp(-3.0 * j / max(1, k)) for j in range(k)]
                parent = rng.choices(isl.elite_keys, weights=weights, k=1)[0][2]
            inspirations: list[str] = []
            for _, _, pid in isl.elite_keys[:2]:
                if pid != parent and len(inspirations) < cfg.num_inspirations:
                    inspirations.append(pid)
            cells = sorted(isl.grid.items())
            tries = 0
            while len(inspirations) < cfg.num_inspirations and cells and tries < 4 * cfg.num_inspirations:
                tries += 1
                pid = cells[rng.randrange(len(cells))][1]
                if pid != parent and pid not in inspirations:
                    inspirations.append(pid)
            return parent, inspirations

    # ---------------------------------------------------------------- reads
    def get(self, pid: str) -> ProgramRow | None:
        cur = self.conn.execute(
            f"SELECT {_PCOLS} FROM programs WHERE id=?",
            (pid,),
        )
        row = cur.fetchone()
        if not row:
            return None
        prog = _row(row)
        entry = self.entries.get(pid)
        prog.cell = entry.cell if entry else None
        return prog

    def best(self) -> ProgramRow | None:
        return self.get(self.best_id) if self.best_id else None

    def all_programs(self) -> list[ProgramRow]:
        cur = self.conn.execute(f"SELECT {_PCOLS} FROM programs ORDER BY iteration")
        return [_row(r) for r in cur.fetchall()]

    def iteration_rows(self) -> list[IterationRow]:
        cols = (
            "iteration, status, fault, program_id, parent_id, island, backend, model, cost, prompt_tokens, "
            "completion_tokens, retries, applied, failed, detail, created"
        )
        names = [c.strip() for c in cols.split(",")]
        cur = self.conn.execute(f"SELECT {cols} FROM iterations ORDER BY iteration")
        return [IterationRow(**dict(zip(names, r, strict=True))) for r in cur.fetchall()]

    def stats(self) -> dict[str, Any]:
        faults = dict(
            self.conn.execute(
                "SELECT fault, COUNT(*) FROM iterations WHERE fault IS NOT NULL GROUP BY fault ORDER BY fault"
            ).fetchall()
        )
        status = dict(
            self.conn.execute(
                "SELECT status, COUNT(*) FROM iterations GROUP BY status ORDER BY status"
            ).fetchall()
        )
        cost, pt, ct, retries = self.conn.execute(
            "SELECT COALESCE(SUM(cost),0), COALESCE(SUM(prompt_tokens),0), "
            "COALESCE(SUM(completion_tokens),0), COALESCE(SUM(retries),0) FROM iterations"
        ).fetchone()
        n_prog = self.conn.execute("SELECT COUNT(*) FROM programs").fetchone()[0]
        best = self.entries[self.best_id].score if self.best_id else None
        return {
            "iterations": sum(status.values()),
            "programs": n_prog,
            "by_status": status,
            "faults": faults,
            "cost_usd": round(float(cost), 6),
            "prompt_tokens": int(pt),
            "completion_tokens": int(ct),
            "backend_retries": int(retries),
            "best_score": best,
            "best_id": self.best_id,
            "cells": sum(len(i.grid) for i in self.islands),
        }


def latest_notes(conn: sqlite3.Connection, k: int = NOTES_IN_PROMPT) -> list[str]:
    try:
        rows = conn.execute("SELECT text FROM notes ORDER BY seq DESC LIMIT ?", (k,)).fetchall()
    except sqlite3.OperationalError:  # a database written before notes existed
        return []
    return [r[0] for r in reversed(rows)]


def add_note(path: Path, text: str) -> dict[str, Any]:
    """Record a person's steering note in a run's program database (another process may be running the
    run: WAL lets this write go in beside it); the run's next prompts carry it."""
    text = text.strip()
    if not text:
        raise StoreError("A steering note cannot be empty.")
    try:
        conn = sqlite3.connect(str(path), timeout=10, isolation_level=None)
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS notes("
                "seq INTEGER PRIMARY KEY, text TEXT NOT NULL, created REAL NOT NULL)"
            )
            now = time.time()
            cur = conn.execute("INSERT INTO notes(text, created) VALUES(?, ?)", (text, now))
            return {"seq": cur.lastrowid, "text": text, "created": now}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"Could not record the note in {path}: {exc}.") from None


def _row(r: tuple[Any, ...]) -> ProgramRow:
    (
        pid,
        it,
        parent,
        island,
        gen,
        code,
        h,
        status,
        metrics,
        artifacts,
        score,
        feats,
        cell,
        stage,
        err,
        fault,
        timings,
        backend,
        model,
        cost,
        diff,
        edit,
        created,
    ) = r
    return ProgramRow(
        id=pid,
        iteration=it,
        parent_id=parent,
        island=island,
        generation=gen,
        code=code,
        code_hash=h,
        status=status,
        metrics=json.loads(metrics),
        artifacts=json.loads(artifacts),
        combined_score=score,
        features=json.loads(feats),
        cell=cell,
        stage_reached=stage,
        error=err,
        fault=fault,
        timings=json.loads(timings),
        backend=backend,
        model=model,
        cost=cost,
        diff=diff,
        edit=json.loads(edit or "{}"),
        created=created,
    )
