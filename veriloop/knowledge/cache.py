"""Installation-level cache of the built-in corpus store: embedded once, copied into every new store.

The cache lives in `$XDG_CACHE_HOME/veriloop/corpus-<key>` (or `~/.cache/veriloop/...`); the key
covers the corpus fingerprint, the embedding model and the chromadb version. It is built in a
separate process (so its chromadb client is closed before anyone copies it) into a temporary
directory next to it and renamed into place, under a file lock so that two processes never both
build it. A cache is validated (manifest, SQLite open + row count, file sizes) before every use;
an invalid one is rebuilt, and any failure here just means "ingest normally".
Only the default local embedding is cached; lessons and user documents never enter the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MANIFEST = "veriloop-cache.json"
LOCK_WAIT_S = 900.0
BUILD_TIMEOUT_S = 1800.0
SEED_ITEMS = ("chroma", "bm25", "generation")
"""What a seed copies into a new store (the store's metadata file is copied last)."""

builds = 0
"""How many cache builds this process ran (each one embeds the whole corpus); read by tests."""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "veriloop"


def cacheable(embedding: Any) -> bool:
    """Only the default local embedding (same vectors on every machine) is cached."""
    from veriloop.knowledge.embeddings import LocalMiniLM

    return type(embedding) is LocalMiniLM


def corpus_fingerprint() -> str:
    from veriloop.knowledge.corpus import corpus_files, designlib_entries, fingerprint

    return fingerprint(corpus_files(), designlib_entries())


def cache_key(embedding: Any, fingerprint: str | None = None) -> str:
    import chromadb

    from veriloop.knowledge.store import FORMAT

    h = hashlib.sha256()
    for part in (
        fingerprint or corpus_fingerprint(),
        embedding.name(),
        json.dumps(embedding.get_config(), sort_keys=True),
        chromadb.__version__,
        str(FORMAT),
    ):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


def cache_dir(key: str) -> Path:
    return cache_root() / f"corpus-{key}"


def is_empty_store(path: Path) -> bool:
    """A store directory that holds nothing yet (absent, or only a lock file)."""
    from veriloop.knowledge.store import LOCK_FILE

    if not path.exists():
        return True
    if not path.is_dir():
        return False
    return all(p.name == LOCK_FILE or p.name.startswith(".seed-") for p in path.iterdir())


def _sqlite_count(db: Path) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT count(*) FROM embeddings").fetchone()
    finally:
        con.close()
    return int(row[0])


def validate(path: Path, key: str) -> dict[str, Any] | None:
    """The cache's manifest when the cache at `path` is complete and intact, else None. Never raises."""
    try:
        manifest: dict[str, Any] = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("key") != key:
            return None
        counts = manifest.get("counts") or {}
        total = sum(int(v) for v in counts.values())
        if total <= 0:
            return None
        for rel, size in (manifest.get("files") or {}).items():
            if (path / rel).stat().st_size != int(size):
                return None
        db = path / "chroma" / "chroma.sqlite3"
        with db.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                return None
        if _sqlite_count(db) != total:
            return None
        return manifest
    except (OSError, ValueError, TypeError, sqlite3.Error):
        return None


@contextlib.contextmanager
def _locked(lock: Path, wait_s: float) -> Iterator[bool]:
    """An exclusive flock on `lock`; yields False when it could not be had within `wait_s`."""
    import fcntl

    from veriloop.flock import wait_exclusive

    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not wait_exclusive(fd, wait_s, poll_s=0.2):
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _files(path: Path) -> dict[str, int]:
    return {
        p.relative_to(path).as_posix(): p.stat().st_size
        for p in sorted(path.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def build_into(path: Path, key: str, progress: bool = False) -> dict[str, Any]:
    """Ingest the built-in corpus into a new store at `path` and write its manifest (runs in the builder)."""
    from veriloop.knowledge.corpus import _ingest_corpus as ingest_corpus
    from veriloop.knowledge.corpus import corpus_files, designlib_entries, fingerprint
    from veriloop.knowledge.embeddings import LocalMiniLM
    from veriloop.knowledge.models import COLLECTION_OF, KINDS
    from veriloop.knowledge.store import KnowledgeStore

    files, entries = corpus_files(), designlib_entries()
    fp = fingerprint(files, entries)
    store = KnowledgeStore(path, LocalMiniLM(), create=True, seed=False)
    if cache_key(store.embedding, fp) != key:
        raise RuntimeError("the corpus changed while its cache was being built")
    ingest_corpus(store, files, entries, fp, progress=progress)
    store.lexical()
    counts = {COLLECTION_OF[k]: store.collection(k).count() for k in KINDS}
    manifest = {"key": key, "fingerprint": fp, "counts": counts, "built": time.time()}
    return manifest


def _build(key: str, progress: bool) -> Path | None:
    """Build the cache for `key` in a child process into a temp dir next to it, then rename it in place."""
    global builds
    final = cache_dir(key)
    tmp = final.parent / f".build-{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        builds += 1
        # With progress, the child's stderr (its rich progress bar) goes to ours.
        done = subprocess.run(
            [sys.executable, "-m", "veriloop.knowledge.cache", str(tmp), key, "1" if progress else "0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=None if progress else subprocess.DEVNULL,
            timeout=BUILD_TIMEOUT_S,
            check=False,
            env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
        )
        if done.returncode != 0:
            return None
        manifest = json.loads(done.stdout.decode().strip().splitlines()[-1])
        manifest["files"] = _files(tmp)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if validate(tmp, key) is None:
            return None
        if final.exists():
            shutil.rmtree(final)
        os.rename(tmp, final)
        return final
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_cache(embedding: Any, fingerprint: str | None = None, progress: bool = False) -> Path | None:
    """The valid cache directory for this corpus and embedding, built when missing or invalid.

    None when the embedding is not cacheable or the cache cannot be had (the caller then ingests).
    """
    if not cacheable(embedding):
        return None
    try:
        key = cache_key(embedding, fingerprint)
        final = cache_dir(key)
        if validate(final, key) is not None:
            return final
        with _locked(final.parent / f"corpus-{key}.lock", LOCK_WAIT_S) as got:
            if not got:
                return None
            if validate(final, key) is not None:  # another process built it while we waited
                return final
            for stale in final.parent.glob(f".build-{key}-*"):  # left by a killed builder
                shutil.rmtree(stale, ignore_errors=True)
            return _build(key, progress)
    except Exception:  # noqa: BLE001 - the cache is an optimisation; any failure means "ingest normally"
        return None


def discard(path: Path) -> None:
    """Remove a cache found to be bad (under its lock), so that the next use rebuilds it."""
    key = path.name.removeprefix("corpus-")
    with contextlib.suppress(OSError), _locked(path.parent / f"corpus-{key}.lock", 60.0) as got:
        if got:
            shutil.rmtree(path, ignore_errors=True)


def seed(store_path: Path, cache: Path) -> bool:
    """Copy the cached corpus store into an empty store directory (before any client opens it)."""
    from veriloop.knowledge.store import META_FILE

    if not is_empty_store(store_path):
        return False
    store_path.mkdir(parents=True, exist_ok=True)
    staging = store_path / f".seed-{uuid.uuid4().hex[:8]}"
    try:
        staging.mkdir()
        for name in (*SEED_ITEMS, META_FILE):
            src = cache / name
            if src.is_dir():
                shutil.copytree(src, staging / name)
            elif src.exists():
                shutil.copy2(src, staging / name)
        if not (staging / "chroma" / "chroma.sqlite3").is_file() or not (staging / META_FILE).is_file():
            return False
        for name in (*SEED_ITEMS, META_FILE):  # metadata last: its presence marks a complete seed
            if (staging / name).exists():
                os.rename(staging / name, store_path / name)
        return True
    except OSError:
        return False
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _main(argv: list[str]) -> int:
    """Child entry: `python -m veriloop.knowledge.cache TMPDIR KEY [1]`; prints the manifest as JSON."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    manifest = build_into(Path(argv[0]), argv[1], progress=argv[2:3] == ["1"])
    print(json.dumps(manifest))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
