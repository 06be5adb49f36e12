"""The knowledge store: chromadb collections (docs, code, lessons) plus a BM25 index, searched hybrid."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from veriloop.errors import InputError, StoreError, VeriloopError
from veriloop.flock import wait_exclusive
from veriloop.knowledge import fusion
from veriloop.knowledge.chunking import SUPPORTED, chunk_file, chunk_text, file_hash
from veriloop.knowledge.lexical import LexicalIndex
from veriloop.knowledge.models import (
    COLLECTION_OF,
    KINDS,
    Chunk,
    Hit,
    IngestReport,
    Kind,
    SearchMode,
    StoreStats,
    normalise_kind,
)

if TYPE_CHECKING:
    from veriloop.config import Settings
    from veriloop.knowledge.memory import Lesson, LessonHit

META_FILE = "veriloop-kb.json"
LOCK_FILE = ".lock"
LOCK_WAIT_S = 10.0
"""How long a writer waits for another process's write lock before giving up with a StoreError."""
FORMAT = 1
ADD_BATCH = 256
Where = dict[str, Any]


def _chroma_where(where: Where | None, kind: Kind | None = None) -> dict[str, Any] | None:
    """Our simple filter ({key: value or [values]}) in chromadb's where syntax."""
    clauses: list[dict[str, Any]] = []
    for key, value in (where or {}).items():
        if isinstance(value, list | tuple | set):
            clauses.append({key: {"$in": list(value)}})
        elif isinstance(value, dict):
            clauses.append({key: value})
        else:
            clauses.append({key: value})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _matches(meta: dict[str, Any], where: Where | None) -> bool:
    for key, value in (where or {}).items():
        have = meta.get(key)
        if isinstance(value, list | tuple | set):
            if have not in value:
                return False
        elif isinstance(value, dict):
            if "$in" in value and have not in value["$in"]:
                return False
            if "$ne" in value and have == value["$ne"]:
                return False
            if "$eq" in value and have != value["$eq"]:
                return False
        elif have != value:
            return False
    return True


class KnowledgeStore:
    """One knowledge store directory: `chroma/` (chromadb), `bm25/` (lexical index), metadata files.

    Use `open_store(settings)`; then `ingest`, `search`, `add_lesson`, `find_lessons`, `stats`, `reset`.
    """

    def __init__(self, path: Path, embedding: Any, create: bool = True, seed: bool = True) -> None:
        """Open the store at `path` (created when `create`).

        A new, empty store using the default local embedding opens its chromadb client lazily: when
        `ensure_corpus()` is its first use, it is seeded by copying the installation's corpus cache
        (see `cache.py`) instead of embedding the corpus again. Any other first use opens it empty.
        """
        from veriloop.knowledge import cache

        self.path = path
        self.embedding = embedding
        self._lock_depth = 0
        self._lock_fd: int | None = None
        self._client_obj: Any = None
        self._cols: dict[str, Any] = {}
        self._lexical: LexicalIndex | None = None
        self.seeded_from: Path | None = None
        """The corpus cache this store was seeded from (None when it was not)."""
        self._check_dir(create)
        # A new, empty store keeps its client closed until first use, so that `ensure_corpus()`
        # (when that comes first) can copy the corpus cache in before chromadb opens the directory.
        self._seedable = bool(create and seed and cache.cacheable(embedding) and cache.is_empty_store(path))
        self._meta = self._read_meta()
        if not self._seedable:
            self._open()

    def _open(self) -> None:
        """Open the chromadb client and collections (once), and write the metadata of a new store."""
        if self._client_obj is not None:
            return
        self._seedable = False
        client = self._open_client()
        cols: dict[str, Any] = {}
        with self._guard("open"):
            for kind in KINDS:
                cols[kind] = client.get_or_create_collection(
                    COLLECTION_OF[kind],
                    embedding_function=self.embedding,
                    configuration={"hnsw": {"space": "cosine"}},
                )
        self._client_obj, self._cols = client, cols
        if not self._meta:
            self._meta = {
                "format": FORMAT,
                "embedding": self.embedding.name(),
                "embedding_config": self.embedding.get_config(),
            }
            with self._writing():
                self._write_meta()

    @property
    def _client(self) -> Any:
        self._open()
        return self._client_obj

    @property
    def _collections(self) -> dict[str, Any]:
        self._open()
        return self._cols

    def _seed(self, cached: Path) -> bool:
        """Copy a cached corpus store into this empty store (only before the client is open)."""
        from veriloop.knowledge import cache

        if not self._seedable or self._client_obj is not None:
            return False
        if cache.seed(self.path, cached):
            self.seeded_from = cached
            self._seedable = False
            self._meta = self._read_meta()
            return True
        return False

    def seed_corpus(self, progress: bool = False) -> bool:
        """Seed a new, empty store from the corpus cache, building the cache first when needed.

        False when the store is not seedable (has data, other embedding) or the cache is unavailable.
        """
        from veriloop.knowledge import cache

        if not self._seedable or self._client_obj is not None:
            return False
        with self._writing("seed"):
            if not cache.is_empty_store(self.path):
                self._seedable = False
                return False
            built = cache.ensure_cache(self.embedding, progress=progress)
            if built is None or not self._seed(built):
                return False
            manifest = cache.validate(built, built.name.removeprefix("corpus-")) or {}
            want = {str(k): int(v) for k, v in (manifest.get("counts") or {}).items()}
            self._open()
            have = {COLLECTION_OF[k]: self._cols[k].count() for k in KINDS}
            if not want or have != want:  # a bad copy: start this (new) store over, rebuild the cache
                cache.discard(built)
                self.seeded_from = None
                self.reset()
                return False
        return True

    # ----- opening and guarding -------------------------------------------------------------

    def _check_dir(self, create: bool) -> None:
        p = self.path
        if p.exists() and not p.is_dir():
            raise StoreError(
                f"The knowledge store path {p} is a file, not a directory.",
                hint="Point knowledge.store_dir at a directory.",
            )
        if not p.exists():
            if not create:
                raise StoreError(
                    f"There is no knowledge store at {p}.",
                    hint="Run `veriloop kb ingest PATH` or `veriloop kb search` to create it.",
                )
            try:
                p.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"Cannot create the knowledge store at {p}: {exc.strerror}.") from None
        if not os.access(p, os.R_OK | os.W_OK | os.X_OK):
            raise StoreError(
                f"The knowledge store at {p} is not readable and writable by this user.",
                hint="Fix its permissions or set knowledge.store_dir elsewhere; nothing was changed.",
            )
        db = p / "chroma" / "chroma.sqlite3"
        if db.exists():
            if not os.access(db, os.R_OK | os.W_OK):
                raise StoreError(
                    f"The knowledge database {db} is not readable and writable by this user.",
                    hint="Fix its permissions; nothing was changed.",
                )
            try:
                with db.open("rb") as fh:
                    head = fh.read(16)
            except OSError as exc:
                raise StoreError(f"Cannot read the knowledge database {db}: {exc.strerror}.") from None
            if head and head != b"SQLite format 3\x00":
                raise StoreError(
                    f"The knowledge database {db} is corrupt (not an SQLite file).",
                    hint="Move it aside or run `veriloop kb reset --yes` to start over; nothing was changed.",
                )

    def _read_meta(self) -> dict[str, Any]:
        f = self.path / META_FILE
        if not f.exists():
            return {}
        try:
            meta: dict[str, Any] = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise StoreError(
                f"The knowledge store metadata {f} is unreadable or corrupt.",
                hint="Move it aside or run `veriloop kb reset --yes`; nothing was changed.",
            ) from None
        have, want = meta.get("embedding"), self.embedding.name()
        if have and have != want:
            raise StoreError(
                f"The knowledge store at {self.path} was built with '{have}' embeddings, "
                f"but the settings ask for '{want}'.",
                hint="Use the original knowledge.embedding, another knowledge.store_dir, "
                "or `veriloop kb reset --yes` to rebuild.",
            )
        return meta

    def _write_meta(self) -> None:
        f = self.path / META_FILE
        tmp = f.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._meta, indent=2), encoding="utf-8")
        os.replace(tmp, f)

    def _open_client(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        with self._guard("open"):
            return chromadb.PersistentClient(
                path=str(self.path / "chroma"),
                settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
            )

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn a storage failure into one StoreError sentence (user-facing errors pass through)."""
        try:
            yield
        except VeriloopError:
            raise
        except PermissionError as exc:
            raise StoreError(
                f"Cannot {action} the knowledge store at {self.path}: permission denied "
                f"({exc.filename or 'a file in it'}).",
                hint="Fix its permissions; nothing was changed.",
            ) from None
        except sqlite3.OperationalError as exc:
            msg = str(exc)
            if "locked" in msg or "busy" in msg:
                raise StoreError(
                    f"The knowledge store at {self.path} is locked by another process.",
                    hint="Wait for the other veriloop process to finish and retry.",
                ) from None
            raise StoreError(f"Cannot {action} the knowledge store at {self.path}: {msg}.") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"The knowledge store at {self.path} is corrupt ({exc}).",
                hint="Move it aside or run `veriloop kb reset --yes`; nothing was changed.",
            ) from None
        except OSError as exc:
            raise StoreError(
                f"Cannot {action} the knowledge store at {self.path}: {exc.strerror or exc}."
            ) from None
        except Exception as exc:  # chromadb raises its own and rust-binding errors
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            low = text.lower()
            if "locked" in low or "busy" in low:
                raise StoreError(
                    f"The knowledge store at {self.path} is locked by another process.",
                    hint="Wait for the other veriloop process to finish and retry.",
                ) from None
            if any(w in low for w in ("malformed", "not a database", "corrupt", "file is not")):
                raise StoreError(
                    f"The knowledge store at {self.path} is corrupt ({text}).",
                    hint="Move it aside or run `veriloop kb reset --yes`; nothing was changed.",
                ) from None
            if "permission" in low or "readonly" in low or "read-only" in low:
                raise StoreError(
                    f"Cannot {action} the knowledge store at {self.path}: {text}.",
                    hint="Fix its permissions; nothing was changed.",
                ) from None
            if type(exc).__module__.startswith("chromadb"):
                raise StoreError(f"Cannot {action} the knowledge store at {self.path}: {text}.") from None
            raise

    @contextlib.contextmanager
    def _writing(self, action: str = "write") -> Iterator[None]:
        """Hold the store's write lock (an flock on `<store>/.lock`, re-entrant) and guard errors."""
        if self._lock_depth == 0:
            self._acquire_lock()
        self._lock_depth += 1
        try:
            with self._guard(action):
                yield
        finally:
            self._lock_depth -= 1
            if self._lock_depth == 0:
                self._release_lock()

    def _acquire_lock(self) -> None:
        lock = self.path / LOCK_FILE
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"Cannot lock the knowledge store at {self.path}: {exc.strerror}.") from None
        if not wait_exclusive(fd, LOCK_WAIT_S, poll_s=0.05):
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise StoreError(
                f"The knowledge store at {self.path} is locked by another process{who}.",
                hint="Wait for the other veriloop process to finish and retry; nothing was changed.",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd = fd

    def _release_lock(self) -> None:
        import fcntl

        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._lock_fd, 0)
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def collection(self, kind: Kind) -> Any:
        return self._collections[kind]

    # ----- generation stamp and lexical index ------------------------------------------------

    def _generation(self) -> str:
        try:
            return (self.path / "generation").read_text(encoding="utf-8")
        except OSError:
            return ""

    def _bump(self) -> None:
        """Mark the store as changed: the lexical index is rebuilt at the next search."""
        f = self.path / "generation"
        tmp = self.path / f".generation.{os.getpid()}"
        tmp.write_text(uuid.uuid4().hex, encoding="utf-8")
        os.replace(tmp, f)

    def _all_records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        with self._guard("read"):
            for kind in KINDS:
                col = self._collections[kind]
                total = col.count()
                for offset in range(0, total, 5000):
                    got = col.get(include=["documents", "metadatas"], limit=5000, offset=offset)
                    for cid, doc, meta in zip(
                        got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False
                    ):
                        records.append(
                            {"id": cid, "text": doc or "", "kind": kind, "metadata": dict(meta or {})}
                        )
        return records

    def lexical(self) -> LexicalIndex:
        """The BM25 index, loaded from disk or rebuilt when the store changed since it was saved."""
        gen = self._generation()
        if self._lexical is not None and self._lexical.generation == gen:
            return self._lexical
        directory = self.path / "bm25"
        if LexicalIndex.saved_generation(directory) == gen:
            loaded = LexicalIndex.load(directory)
            if loaded is not None:
                self._lexical = loaded
                return loaded
        index = LexicalIndex(self._all_records(), gen)
        with contextlib.suppress(OSError):
            index.save(directory)
        self._lexical = index
        return index

    # ----- ingestion ------------------------------------------------------------------------

    @staticmethod
    def expand(paths: Iterable[Path | str]) -> list[Path]:
        """Every supported file named or found under the given paths; bad input fails before any work."""
        files: list[Path] = []
        for raw in paths:
            p = Path(raw).expanduser()
            if not p.exists():
                raise InputError(f"{p} does not exist.")
            if p.is_dir():
                files.extend(
                    sorted(
                        f
                        for f in p.rglob("*")
                        if f.is_file()
                        and f.suffix.lower() in SUPPORTED
                        and not any(part.startswith(".") for part in f.relative_to(p).parts)
                    )
                )
            elif p.suffix.lower() in SUPPORTED:
                files.append(p)
            else:
                raise InputError(
                    f"{p}: unsupported file type '{p.suffix or p.name}'.",
                    hint="Supported: " + ", ".join(sorted(SUPPORTED)),
                )
        return files

    def _existing(self, source: str) -> dict[Kind, tuple[list[str], set[str]]]:
        """Per kind: the chunk ids stored for a source and the file hashes they carry."""
        found: dict[Kind, tuple[list[str], set[str]]] = {}
        for kind in KINDS:
            got = self._collections[kind].get(where={"source": source}, include=["metadatas"])
            if got["ids"]:
                hashes = {str((m or {}).get("file_hash", "")) for m in (got["metadatas"] or [])}
                found[kind] = (list(got["ids"]), hashes)
        return found

    def ingest(
        self,
        paths: Sequence[Path | str],
        kind: str | None = None,
        progress: bool = True,
        sources: dict[Path, str] | None = None,
    ) -> IngestReport:
        """Ingest files and directories; unchanged files are skipped, changed files replaced.

        `sources` may name the source string of some files (default: the resolved path).
        """
        the_kind = normalise_kind(kind)
        if the_kind == "lesson":
            raise InputError("Lessons are added with add_lesson, not ingested from files.")
        files = self.expand(paths)
        items = [(f, (sources or {}).get(f) or str(f.resolve())) for f in files]
        return self._ingest_items(items, the_kind, progress)

    def _ingest_items(self, items: list[tuple[Path, str]], kind: Kind | None, progress: bool) -> IngestReport:
        t0 = time.perf_counter()
        report = IngestReport(files_seen=len(items))
        pending: list[Chunk] = []
        stale: list[tuple[Kind, list[str]]] = []  # old chunk ids, deleted only after the new ones are in
        changed = False

        def flush() -> None:
            by_kind: dict[Kind, list[Chunk]] = {}
            for c in pending:
                by_kind.setdefault(c.kind, []).append(c)
            for k, chunks in by_kind.items():
                for i in range(0, len(chunks), ADD_BATCH):
                    batch = chunks[i : i + ADD_BATCH]
                    self._collections[k].upsert(
                        ids=[c.id for c in batch],
                        documents=[c.text for c in batch],
                        metadatas=[dict(c.metadata) for c in batch],
                    )
            for k, ids in stale:
                if ids:
                    self._collections[k].delete(ids=ids)
            report.chunks_added += len(pending)
            pending.clear()
            stale.clear()

        with self._progress(progress, len(items)) as advance, self._writing():
            try:
                for path, source in items:
                    try:
                        data = path.read_bytes()
                        h = file_hash(data)
                        existing = self._existing(source)
                        want = kind or (
                            "code" if path.suffix.lower() in {".v", ".sv", ".vh", ".svh"} else "doc"
                        )
                        if set(existing) == {want} and existing[want][1] == {h}:
                            report.files_unchanged += 1
                            advance(path.name)
                            continue
                        chunks = chunk_file(path, data, source, want)
                    except (OSError, InputError, UnicodeError) as exc:
                        report.files_failed.append(f"{path}: {getattr(exc, 'message', None) or exc}")
                        advance(path.name)
                        continue
                    new_ids = {c.id for c in chunks}
                    for k, (ids, _) in existing.items():
                        stale.append((k, [i for i in ids if k != want or i not in new_ids]))
                        report.chunks_removed += len(ids)
                    changed = True
                    if existing:
                        report.files_updated += 1
                    else:
                        report.files_added += 1
                    pending.extend(chunks)
                    if len(pending) >= ADD_BATCH:
                        flush()
                    advance(path.name)
                flush()
            finally:
                if changed:
                    self._bump()
        if changed:
            self.lexical()
        report.seconds = round(time.perf_counter() - t0, 3)
        return report

    def ingest_text(
        self,
        source: str,
        text: str,
        kind: str = "doc",
        fmt: str = "md",
        metadata: dict[str, str] | None = None,
    ) -> int:
        """Ingest one in-memory text under a source name (replacing that source); returns the chunk count."""
        the_kind = normalise_kind(kind) or "doc"
        h = file_hash(text.encode("utf-8"))
        base = {"source": source, "file_hash": h, "format": fmt, **(metadata or {})}
        chunks = chunk_text(text, source, the_kind, fmt, base)
        with self._writing():
            existing = self._existing(source)
            if set(existing) == {the_kind} and existing[the_kind][1] == {h}:
                return 0
            for i in range(0, len(chunks), ADD_BATCH):
                batch = chunks[i : i + ADD_BATCH]
                self._collections[the_kind].upsert(
                    ids=[c.id for c in batch],
                    documents=[c.text for c in batch],
                    metadatas=[dict(c.metadata) for c in batch],
                )
            new_ids = {c.id for c in chunks}
            for k, (ids, _) in existing.items():
                old = [i for i in ids if k != the_kind or i not in new_ids]
                if old:
                    self._collections[k].delete(ids=old)
            self._bump()
        return len(chunks)

    def add_chunks(self, chunks: Sequence[Chunk]) -> int:
        """Upsert ready-made chunks (used for lessons and benchmarks)."""
        with self._writing():
            for i in range(0, len(chunks), ADD_BATCH):
                batch = chunks[i : i + ADD_BATCH]
                for kind in {c.kind for c in batch}:
                    part = [c for c in batch if c.kind == kind]
                    self._collections[kind].upsert(
                        ids=[c.id for c in part],
                        documents=[c.text for c in part],
                        metadatas=[dict(c.metadata) for c in part],
                    )
            self._bump()
        return len(chunks)

    def delete_sources(self, sources: Iterable[str]) -> int:
        removed = 0
        with self._writing():
            for source in sources:
                for k, (ids, _) in self._existing(source).items():
                    self._collections[k].delete(ids=ids)
                    removed += len(ids)
            if removed:
                self._bump()
        return removed

    def sources(self, kind: Kind | None = None) -> set[str]:
        """Every source name stored (optionally of one kind)."""
        out: set[str] = set()
        with self._guard("read"):
            for k in [kind] if kind else KINDS:
                got = self._collections[k].get(include=["metadatas"])
                out.update(str((m or {}).get("source", "")) for m in (got["metadatas"] or []))
        out.discard("")
        return out

    @contextlib.contextmanager
    def _progress(self, show: bool, total: int) -> Iterator[Callable[[str], None]]:
        if not show or total == 0:
            yield lambda _name: None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from veriloop.ui import OutputMode

        with Progress(
            TextColumn("[bold]ingest[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            console=OutputMode().err_console,
            transient=True,
        ) as bar:
            task = bar.add_task("", total=total)
            yield lambda name: bar.update(task, advance=1, description=name)

    # ----- search ---------------------------------------------------------------------------

    def _dense(self, query: str, kinds: Sequence[Kind], where: Where | None, n: int) -> list[Hit]:
        live = [k for k in kinds if self._collections[k].count() > 0]
        if not live:
            return []
        from veriloop.knowledge.memory import embedding_text

        vector = self.embedding.embed_query([embedding_text(query)])[0]
        hits: list[Hit] = []
        for k in live:
            col = self._collections[k]
            res = col.query(
                query_embeddings=[vector],
                n_results=min(n, col.count()),
                where=_chroma_where(where),
                include=["documents", "metadatas", "distances"],
            )
            for cid, doc, meta, dist in zip(
                res["ids"][0],
                (res["documents"] or [[]])[0],
                (res["metadatas"] or [[]])[0],
                (res["distances"] or [[]])[0],
                strict=False,
            ):
                m = dict(meta or {})
                hits.append(
                    Hit(
                        id=cid,
                        text=doc or "",
                        source=str(m.get("source", "")),
                        kind=k,
                        score=round(1.0 - float(dist), 6),
                        metadata=m,
                    )
                )
        hits.sort(key=lambda h: -h.score)
        return hits[:n]

    def _lexical_hits(self, query: str, kinds: Sequence[Kind], where: Where | None, n: int) -> list[Hit]:
        index = self.lexical()
        wanted = set(kinds)
        found = index.search(query, n, keep=lambda r: r["kind"] in wanted and _matches(r["metadata"], where))
        out: list[Hit] = []
        for i, score in found:
            r = index.records[i]
            out.append(
                Hit(
                    id=r["id"],
                    text=r["text"],
                    source=str(r["metadata"].get("source", "")),
                    kind=r["kind"],
                    score=round(score, 6),
                    metadata=r["metadata"],
                )
            )
        return out

    def search(
        self,
        query: str,
        k: int = 5,
        kind: str | None = None,
        where: Where | None = None,
        mode: SearchMode = "hybrid",
        rrf_k: int | None = None,
        weights: tuple[float, float] | None = None,
    ) -> list[Hit]:
        """The k best chunks for a query: dense, lexical (BM25) or both fused by reciprocal rank.

        `kind` limits to doc/code/lesson; `where` filters on metadata ({"tool": "verilator"},
        {"source": [a, b]}, {"language": "systemverilog"}).
        """
        if not query or not query.strip():
            raise InputError("The search query is empty.")
        if k < 1:
            raise InputError(f"k must be at least 1 (got {k}).")
        if mode not in ("hybrid", "dense", "lexical"):
            raise InputError(f"Unknown search mode '{mode}'.", hint="Use hybrid, dense or lexical.")
        if mode == "dense":
            return self.rankings(query, kind, where, k, lexical=False)[0]
        if mode == "lexical":
            return self.rankings(query, kind, where, k, dense=False)[1]
        dense, lexical = self.rankings(query, kind, where, max(30, 4 * k))
        return fuse(dense, lexical, k, rrf_k=rrf_k, weights=weights)

    def rankings(
        self,
        query: str,
        kind: str | None = None,
        where: Where | None = None,
        depth: int = 30,
        dense: bool = True,
        lexical: bool = True,
    ) -> tuple[list[Hit], list[Hit]]:
        """The dense and lexical rankings (each up to `depth` hits) that hybrid search fuses."""
        one = normalise_kind(kind)
        kinds: list[Kind] = [one] if one else list(KINDS)
        with self._guard("search"):
            d = self._dense(query, kinds, where, depth) if dense else []
            lx = self._lexical_hits(query, kinds, where, depth) if lexical else []
        return d, lx

    # ----- lessons --------------------------------------------------------------------------

    def add_lesson(self, lesson: Lesson | None = None, **fields: Any) -> Lesson:
        """Store a lesson (a `memory.Lesson`, or its fields as keywords: error_text, fix, insight, ...)."""
        from veriloop.knowledge import memory

        return memory.add_lesson(self, lesson, **fields)

    def find_lessons(self, error_text: str, k: int = 3, tool: str | None = None) -> list[LessonHit]:
        """Lessons whose error matches `error_text` (same normalised signature first, then similar)."""
        from veriloop.knowledge import memory

        return memory.find_lessons(self, error_text, k=k, tool=tool)

    # ----- corpus, stats, reset -------------------------------------------------------------

    def ensure_corpus(self, progress: bool = False) -> IngestReport | None:
        """Ingest the built-in corpus (and design library) unless it is already current."""
        from veriloop.knowledge.corpus import ensure_corpus

        return ensure_corpus(self, progress=progress)

    @property
    def meta(self) -> dict[str, Any]:
        return self._meta

    def reload_meta(self) -> None:
        """Re-read the metadata file (another process may have updated it)."""
        self._meta = self._read_meta() or self._meta

    def set_meta(self, **values: Any) -> None:
        self._meta.update(values)
        with self._writing():
            self._write_meta()

    def stats(self) -> StoreStats:
        with self._guard("read"):
            counts = {COLLECTION_OF[k]: self._collections[k].count() for k in KINDS}
        gen = self._generation()
        saved = LexicalIndex.saved_generation(self.path / "bm25")
        state: Literal["fresh", "stale", "absent"] = (
            "absent" if saved is None else ("fresh" if saved == gen else "stale")
        )
        describe = getattr(self.embedding, "describe", None)
        return StoreStats(
            path=str(self.path),
            embedding=describe() if describe else self.embedding.name(),
            counts=counts,
            sources=len(self.sources()),
            lexical_index=state,
        )  # type: ignore[arg-type]

    def reset(self) -> None:
        """Delete every chunk and lesson in this store (the caller has asked the user)."""
        import shutil

        with self._writing("reset"):
            for kind in KINDS:
                self._client.delete_collection(COLLECTION_OF[kind])
                self._cols[kind] = self._client.get_or_create_collection(
                    COLLECTION_OF[kind],
                    embedding_function=self.embedding,
                    configuration={"hnsw": {"space": "cosine"}},
                )
            shutil.rmtree(self.path / "bm25", ignore_errors=True)
            self._meta = {
                "format": FORMAT,
                "embedding": self.embedding.name(),
                "embedding_config": self.embedding.get_config(),
            }
            self._write_meta()
            self._bump()
        self._lexical = None


def fuse(
    dense: Sequence[Hit],
    lexical: Sequence[Hit],
    k: int,
    rrf_k: int | None = None,
    weights: tuple[float, float] | None = None,
) -> list[Hit]:
    """Reciprocal rank fusion of a dense and a lexical ranking; the hit score becomes the fused score."""
    w = weights or (fusion.DENSE_WEIGHT, fusion.LEXICAL_WEIGHT)
    fused = fusion.rrf(
        [[h.id for h in dense], [h.id for h in lexical]],
        weights=w,
        k=rrf_k if rrf_k is not None else fusion.RRF_K,
    )
    by_id = {h.id: h for h in lexical}
    by_id.update({h.id: h for h in dense})
    return [by_id[cid].model_copy(update={"score": round(score, 6)}) for cid, score in fused[:k]]


def open_store(
    settings: Settings | None = None, create: bool = True, path: Path | None = None
) -> KnowledgeStore:
    """Open (or create) the knowledge store the settings name. Cheap: the model loads at first embedding."""
    if settings is None:
        from veriloop.config import load_settings

        settings = load_settings()
    from veriloop.knowledge.embeddings import embedding_for

    return KnowledgeStore(path or settings.knowledge_path, embedding_for(settings), create=create)


OWNED = ("chroma", "bm25", "bm25.old", META_FILE, "generation", LOCK_FILE)


def wipe_store(path: Path) -> list[str]:
    """Remove what a knowledge store keeps under `path` (and only that), without opening it.

    Used by `veriloop kb reset` so that a corrupt or mismatched store can be started over.
    """
    import shutil

    removed: list[str] = []
    if not path.exists():
        return removed
    if not path.is_dir():
        raise StoreError(f"The knowledge store path {path} is a file, not a directory.")
    try:
        for name in OWNED:
            target = path / name
            if target.is_dir():
                shutil.rmtree(target)
                removed.append(name)
            elif target.exists():
                target.unlink()
                removed.append(name)
    except OSError as exc:
        raise StoreError(
            f"Cannot reset the knowledge store at {path}: {exc.strerror or exc}.",
            hint="Fix its permissions and retry.",
        ) from None
    return removed
