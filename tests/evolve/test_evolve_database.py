"""Program database: islands, MAP-Elites cells, migration, sampling, duplicates and replay on reopen."""

from __future__ import annotations

import random
from pathlib import Path

from veriloop.evolve.database import DatabaseConfig, IterationRow, ProgramDatabase, ProgramRow


def _prog(i: int, island: int, score: float | None, parent: str | None = None) -> ProgramRow:
    code = f"x = {i}\n" + "y = 1\n" * (i % 7)
    return ProgramRow(
        id=f"p{i:05d}",
        iteration=i,
        parent_id=parent,
        island=island,
        code=code,
        code_hash=f"h{i}",
        status="ok" if score is not None else "error",
        metrics={"combined_score": score or 0.0, "speed": float(i % 5)},
        combined_score=score,
        features={"combined_score": score or 0.0, "code_length": len(code)},
    )


def _fill(db: ProgramDatabase, n: int, islands: int) -> None:
    for i in range(n):
        p = _prog(i, i % islands, float((i * 37) % 101) if i % 9 else None, parent="p00000" if i else None)
        db.record(IterationRow(iteration=i, status="evaluated", program_id=p.id, island=p.island), p)
        db.apply(p, i)
        db.count_applied(i)


def test_islands_cells_and_migration(tmp_path: Path) -> None:
    cfg = DatabaseConfig(num_islands=3, feature_bins=4, migration_interval=2, migration_rate=0.2)
    db = ProgramDatabase(tmp_path / "p.sqlite", cfg)
    _fill(db, 60, 3)
    assert db.best_id is not None and db.entries[db.best_id].score == 100.0
    for isl in db.islands:
        assert isl.grid and len(isl.grid) <= 16
        assert all(db.entries[pid].score >= 0 for pid in isl.grid.values())
    # Migration copied some elites into the next island of the ring.
    foreign = [pid for k, isl in enumerate(db.islands) for pid in isl.members if db.entries[pid].island != k]
    assert foreign
    # Failed programs are stored but never sampled as parents.
    rng = random.Random(1)
    for k in range(200):
        parent, insps = db.sample(k % 3, rng)
        assert parent is not None and db.entries[parent].score is not None
        assert parent not in insps and len(insps) <= cfg.num_inspirations
    stats = db.stats()
    assert stats["programs"] == 60 and stats["iterations"] == 60
    db.close()


def test_reopen_replays_the_same_state(tmp_path: Path) -> None:
    cfg = DatabaseConfig(num_islands=2, feature_bins=5, migration_interval=3)
    db = ProgramDatabase(tmp_path / "p.sqlite", cfg)
    _fill(db, 40, 2)
    state = ([i.members for i in db.islands], [i.grid for i in db.islands], db.best_id, set(db.hashes))
    db.close()
    again = ProgramDatabase(tmp_path / "p.sqlite", cfg)
    assert (
        [i.members for i in again.islands],
        [i.grid for i in again.islands],
        again.best_id,
        set(again.hashes),
    ) == state
    assert again.get("p00003") is not None and again.get("nope") is None
    again.close()


def test_sampling_is_deterministic(tmp_path: Path) -> None:
    db = ProgramDatabase(tmp_path / "p.sqlite", DatabaseConfig(num_islands=2))
    _fill(db, 30, 2)
    a = [db.sample(k % 2, random.Random(k)) for k in range(20)]
    b = [db.sample(k % 2, random.Random(k)) for k in range(20)]
    assert a == b
    db.close()
