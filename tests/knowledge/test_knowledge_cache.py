"""The installation-level corpus cache: built once, copied into new stores, validated, never trusted."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

QUERIES = [
    "synchronous reset counter",
    "blocking vs non-blocking assignment in sequential logic",
    "syntax error, unexpected endmodule",
    "%Warning-WIDTH: Operator ASSIGN expects 4 bits",
    "latch inferred in combinational always block",
]


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One XDG cache dir shared by this module's tests (they run in order: cold, warm, corrupt)."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(scope="module")
def reference_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the corpus ingested the ordinary way, to compare the copies against.

    Built with an unusable cache location (a file where the cache dir should be): the store falls
    back to a normal ingest, which is also what this fixture checks.
    """
    import os

    from veriloop.knowledge import cache

    base = tmp_path_factory.mktemp("kb-ref")
    blocker = base / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(blocker)
    try:
        builds = cache.builds
        store = _open(base / "store")
        report = store.ensure_corpus()
    finally:
        if old is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = old
    assert report is not None and report.chunks_added > 100  # ingested, not copied
    assert store.seeded_from is None and cache.builds == builds
    assert blocker.is_file()
    return base / "store"


@pytest.fixture
def home(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    return cache_home


def _open(path: Path, create: bool = True) -> Any:
    from veriloop.knowledge.store import open_store

    from .conftest import store_settings

    return open_store(store_settings(path), create=create)


def _results(store: Any) -> list[list[tuple[str, float]]]:
    out = []
    for q in QUERIES:
        for mode in ("hybrid", "dense", "lexical"):
            out.append([(h.id, h.score) for h in store.search(q, k=8, mode=mode)])
    return out


def test_cold_cache_is_built_once_and_copies_search_like_a_fresh_ingest(
    home: Path, reference_dir: Path, tmp_path: Path
) -> None:
    from veriloop.knowledge import cache, embeddings

    builds = cache.builds
    first = _open(tmp_path / "a")
    assert first.seeded_from is None  # no cache yet: nothing to copy at open
    assert first.ensure_corpus() is None  # seeded from the cache it just built
    assert cache.builds == builds + 1
    assert first.seeded_from is not None and first.seeded_from.parent == home / "veriloop"
    assert first.seeded_from.name.startswith("corpus-")
    manifest = json.loads((first.seeded_from / cache.MANIFEST).read_text())
    assert manifest["counts"]["docs"] > 100 and manifest["counts"]["lessons"] == 0
    assert not [p for p in (home / "veriloop").iterdir() if p.name.startswith(".build-")]

    embedded = embeddings.embedded_texts
    t0 = time.perf_counter()
    second = _open(tmp_path / "b")
    assert second.seeded_from is None
    assert second.ensure_corpus() is None  # a warm cache is copied in before the client opens
    seed_s = time.perf_counter() - t0
    assert second.seeded_from == first.seeded_from
    assert cache.builds == builds + 1  # not rebuilt
    assert embeddings.embedded_texts == embedded  # the copy embedded nothing
    assert seed_s < 20, seed_s  # a copy, not a 30-80 s ingest (generous for a loaded machine)

    reference = _open(reference_dir, create=False)
    assert first.stats().counts == second.stats().counts == reference.stats().counts
    assert first.sources() == reference.sources()
    want = _results(reference)
    assert _results(first) == want
    assert _results(second) == want


def test_lessons_and_user_docs_stay_out_of_the_cache(home: Path, tmp_path: Path) -> None:
    from veriloop.knowledge import cache

    store = _open(tmp_path / "mine")
    store.ensure_corpus()
    assert store.seeded_from is not None
    before = json.loads((store.seeded_from / cache.MANIFEST).read_text())
    store.add_lesson(error_text="error: Unknown module type: adder4", fix="add adder4.v to the file list")
    doc = tmp_path / "notes.md"
    doc.write_text("# Team notes\n\nOur FIFOs are always 16 deep and use gray pointers.\n")
    assert store.ingest([doc], progress=False).chunks_added == 1
    assert store.stats().counts["lessons"] == 1

    other = _open(tmp_path / "other")
    other.ensure_corpus()
    assert other.seeded_from == store.seeded_from
    assert other.stats().counts["lessons"] == 0
    assert str(doc.resolve()) not in other.sources()
    assert cache.validate(store.seeded_from, before["key"]) == before


def test_corrupt_cache_is_rejected_and_rebuilt(home: Path, reference_dir: Path, tmp_path: Path) -> None:
    from veriloop.knowledge import cache

    good = _open(tmp_path / "good")
    good.ensure_corpus()
    cached = good.seeded_from
    assert cached is not None
    key = cached.name.removeprefix("corpus-")
    assert cache.validate(cached, key) is not None
    assert cache.validate(cached, "another-key") is None
    db = cached / "chroma" / "chroma.sqlite3"
    db.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)  # same header, garbage inside
    assert cache.validate(cached, key) is None

    builds = cache.builds
    fresh = _open(tmp_path / "fresh")
    assert fresh.ensure_corpus() is None  # the bad cache is not copied: it is rebuilt first
    assert cache.builds == builds + 1 and fresh.seeded_from == cached
    assert cache.validate(cached, key) is not None
    assert _results(fresh) == _results(_open(reference_dir, create=False))


def test_other_embeddings_are_never_cached(
    fake_openai: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from veriloop.config import load_settings
    from veriloop.knowledge import cache
    from veriloop.knowledge.store import open_store

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "veriloop.toml").write_text(
        f"""
[backends.fake]
kind = "openai"
base_url = "{fake_openai.base_url}"
model = "fake-model"
api_key_env = "FAKE_KEY"

[knowledge]
embedding = "openai"
embedding_backend = "fake"
embedding_model = "fake-embedding"
"""
    )
    store = open_store(load_settings())
    assert not cache.cacheable(store.embedding)
    report = store.ensure_corpus()
    assert report is not None and report.chunks_added > 100
    assert store.seeded_from is None
    assert not (tmp_path / "cache").exists()
    assert fake_openai.embedding_requests
