"""`veriloop kb ...`: ingest, search, stats and reset through the real CLI entry point."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from veriloop.cli import main


def run(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["veriloop", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def kb_dir(corpus_store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the session corpus store, used as this test's configured knowledge store."""
    dst = tmp_path / "kb"
    shutil.copytree(corpus_store_dir, dst)
    monkeypatch.setenv("VERILOOP_KNOWLEDGE__STORE_DIR", str(dst))
    return dst


def test_ingest_search_stats_reset(
    kb_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "team.md").write_text(
        "# Team rules\n\n## Clock gating\nNever gate clocks with plain AND gates.\n"
    )
    (notes / "blk.v").write_text(
        "module blinky(input clk, output reg led); always @(posedge clk) led <= ~led; endmodule\n"
    )

    code, out, _ = run(["kb", "ingest", str(notes), "--json"], monkeypatch, capsys)
    assert code == 0
    report = json.loads(out)
    assert report["files_added"] == 2 and report["chunks_added"] == 2

    code, out, _ = run(["kb", "ingest", str(notes)], monkeypatch, capsys)
    assert code == 0 and "2 unchanged" in out

    code, out, _ = run(
        ["kb", "search", "gating clocks with an AND gate", "-k", "3", "--json"], monkeypatch, capsys
    )
    assert code == 0
    hits = json.loads(out)
    assert hits[0]["source"] == str((notes / "team.md").resolve())
    assert {"id", "source", "score", "text", "kind", "heading"} <= set(hits[0])

    code, out, _ = run(
        [
            "kb",
            "search",
            "%Warning-LATCH: a.v:3:3: Latch inferred for signal 'q'",
            "--kind",
            "doc",
            "--tool",
            "verilator",
            "--json",
        ],
        monkeypatch,
        capsys,
    )
    assert code == 0
    assert json.loads(out)[0]["source"] == "corpus/errors/verilator-warnings.md"

    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(
        ["kb", "search", "blocking assignment in clocked block", "--mode", "lexical"], monkeypatch, capsys
    )
    assert code == 0 and "blocking-vs-nonblocking.md" in out

    code, out, _ = run(["kb", "stats", "--json"], monkeypatch, capsys)
    stats = json.loads(out)
    assert code == 0 and stats["counts"]["docs"] > 100 and stats["counts"]["code"] >= 4

    code, out, _ = run(["kb", "reset", "--yes"], monkeypatch, capsys)
    assert code == 0 and "reset" in out
    code, out, _ = run(["kb", "stats", "--json"], monkeypatch, capsys)
    assert json.loads(out)["counts"] == {"docs": 0, "code": 0, "lessons": 0}


def test_bad_input_is_one_sentence_and_changes_nothing(
    kb_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sorted(p.name for p in kb_dir.iterdir())
    code, out, err = run(["kb", "ingest", str(tmp_path / "missing.md")], monkeypatch, capsys)
    assert code == 2 and "does not exist" in err and "Traceback" not in err
    code, out, err = run(["kb", "search", "x", "--mode", "fuzzy"], monkeypatch, capsys)
    assert code == 2 and "Unknown search mode" in err
    assert sorted(p.name for p in kb_dir.iterdir()) == before


def test_stats_on_a_missing_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VERILOOP_KNOWLEDGE__STORE_DIR", str(tmp_path / "nothing-here"))
    code, _, err = run(["kb", "stats"], monkeypatch, capsys)
    assert code == 6 and "There is no knowledge store" in err
    assert not (tmp_path / "nothing-here").exists()


def test_reset_of_a_corrupt_store_removes_only_its_own_files(
    kb_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (kb_dir / "chroma" / "chroma.sqlite3").write_bytes(b"garbage" * 50)
    (kb_dir / "my-notes.txt").write_text("not the store's")
    code, _, err = run(["kb", "search", "latch"], monkeypatch, capsys)
    assert code == 6 and "corrupt" in err
    code, out, err = run(["kb", "reset"], monkeypatch, capsys)  # no --yes and no terminal: refused
    assert (
        code == 2
        and "without confirmation" in " ".join(err.split())
        and (kb_dir / "chroma" / "chroma.sqlite3").read_bytes() == b"garbage" * 50
    )
    code, out, _ = run(["kb", "reset", "--yes"], monkeypatch, capsys)
    assert code == 0
    assert sorted(p.name for p in kb_dir.iterdir()) == ["my-notes.txt"]
