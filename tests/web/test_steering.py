"""Steering an evolve run: a note recorded in the run database (as `veriloop ui` records it, while the
run goes) reaches the prompts built after it, with its time; it is not sent before it was written."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from veriloop.config import load_settings
from veriloop.evolve.controller import run_evolution
from veriloop.evolve.database import DatabaseConfig, ProgramDatabase, add_note
from veriloop.testing.fake_openai import FakeOpenAIServer, last_user_text, write_config

from ..evolve.helpers_evolve import ONE_ISLAND_TOML, copy_problem, one_at_a_time

NOTE = "Steering: try values close to 3.7 first."


def edit(value: float) -> str:
    body = f"def choose():\n    return {value}"
    return f"Trying.\n<<<<<<< SEARCH\ndef choose():\n=======\n{body}\n>>>>>>> REPLACE\n"


def test_a_note_written_during_the_run_reaches_the_next_prompts(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    problem = copy_problem(tmp_path, ONE_ISLAND_TOML)
    write_config(tmp_path, fake_openai)
    seen: list[str] = []
    lock = threading.Lock()

    def responder(body: dict[str, Any]) -> str:
        with lock:
            seen.append(last_user_text(body))
            if len(seen) == 1:  # the person types a note while the first request is out
                (db,) = (tmp_path / "data" / "runs").glob("*/programs.sqlite")
                add_note(db, NOTE)
            return edit(3.0 + len(seen) / 10)

    fake_openai.responder = responder
    opts = one_at_a_time(iterations=3)
    summary = run_evolution(problem, load_settings(), opts)
    assert summary.iterations_done == 4
    assert len(seen) == 3
    assert NOTE not in seen[0]
    assert all(NOTE in text for text in seen[1:]), seen[1]
    assert "Notes from the person steering this run" in seen[1]
    conn = sqlite3.connect(Path(summary.run_dir) / "programs.sqlite")
    ((text, created),) = conn.execute("SELECT text, created FROM notes").fetchall()
    assert text == NOTE and created > 0


def test_notes_kept_latest_first_limit_and_old_databases(tmp_path: Path) -> None:
    path = tmp_path / "programs.sqlite"
    # a database written before notes existed: reading gives none, writing creates the table
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.close()
    for i in range(7):
        add_note(path, f"note {i}")
    db = ProgramDatabase(path, DatabaseConfig(num_islands=1))
    try:
        assert db.notes() == [f"note {i}" for i in range(2, 7)]  # the latest five, oldest first
    finally:
        db.close()
