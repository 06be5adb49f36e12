"""The built-in corpus (docs this project writes) and design-library entries, ingested on first use."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from veriloop.knowledge.chunking import SUPPORTED
from veriloop.knowledge.models import IngestReport

if TYPE_CHECKING:
    from veriloop.knowledge.store import KnowledgeStore

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
CORPUS_PREFIX = "corpus/"
DESIGNLIB_PREFIX = "designlib/"


def corpus_files() -> dict[Path, str]:
    """Every corpus file and its source name `corpus/<relative path>`."""
    return {
        f: CORPUS_PREFIX + f.relative_to(CORPUS_DIR).as_posix()
        for f in sorted(CORPUS_DIR.rglob("*"))
        if f.is_file() and f.suffix.lower() in SUPPORTED
    }


def _entry_text(entry: Any, render: Any) -> tuple[str, str, str] | None:
    """(name, markdown text, rtl) of one design-library entry, read defensively."""
    name = str(getattr(entry, "name", "") or "")
    if not name:
        return None
    rendered = None
    if render is not None:
        try:
            rendered = render(entry, {})
        except Exception:  # a template the renderer cannot fill with defaults: keep the raw text
            rendered = None
    title = str(getattr(entry, "title", "") or name)
    lines = [f"# Design library: {title} ({name})", ""]
    for attr in ("description", "spec"):
        source = rendered if attr == "spec" and rendered is not None else entry
        value = str(getattr(source, attr, "") or "").strip()
        if value:
            lines += [value, ""]
    ports = getattr(entry, "ports", None) or []
    if ports:
        lines.append(
            "Ports: "
            + ", ".join(
                f"{getattr(p, 'dir', '')} {getattr(p, 'name', '')}[{getattr(p, 'width', '1')}]".strip()
                for p in ports
            )
        )
    params = getattr(entry, "params", None) or []
    if params:
        lines.append(
            "Parameters: "
            + ", ".join(
                f"{getattr(p, 'name', '')} (default {getattr(p, 'default', '')}) "
                f"{getattr(p, 'doc', '')}".strip()
                for p in params
            )
        )
    keywords = getattr(entry, "keywords", None)
    if keywords:
        lines.append("Keywords: " + ", ".join(map(str, keywords)))
    rtl = str(getattr(rendered, "rtl", "") or "")
    return name, "\n".join(lines).strip() + "\n", rtl


def _designlib() -> tuple[list[Any], Any]:
    import importlib

    lib = importlib.import_module("veriloop.designlib")
    load = getattr(lib, "load_library", None)
    render = getattr(lib, "render", None)
    if load is None:
        load = importlib.import_module("veriloop.designlib.library").load_library
    if render is None or not callable(render):
        render = getattr(importlib.import_module("veriloop.designlib.render"), "render", None)
    return list(load()), render


def designlib_entries() -> list[tuple[str, str, str]]:
    """The design library's entries when that package exists (it is optional here)."""
    try:
        entries, render = _designlib()
    except Exception:  # built by another part of the project; its absence or breakage is not ours
        return []
    out = []
    for e in entries:
        got = _entry_text(e, render)
        if got:
            out.append(got)
    return out


def fingerprint(files: dict[Path, str], entries: list[tuple[str, str, str]]) -> str:
    h = hashlib.sha256()
    for f, src in files.items():
        h.update(src.encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())
    for name, text, rtl in entries:
        h.update(name.encode())
        h.update(text.encode())
        h.update(rtl.encode())
    return h.hexdigest()


def ensure_corpus(store: KnowledgeStore, progress: bool = False) -> IngestReport | None:
    """Ingest the corpus and design library if they changed since the last time; None when current.

    A new store is seeded from the corpus cache instead (see `cache.py`), which needs no embedding.
    """
    files = corpus_files()
    entries = designlib_entries()
    fp = fingerprint(files, entries)
    if store.meta.get("corpus_fingerprint") == fp:
        return None
    # A new store with the default embedding copies the installation's corpus cache (built once).
    if store.seed_corpus(progress=progress) and store.meta.get("corpus_fingerprint") == fp:
        return None
    with store._writing():  # one process ingests; another waiting one then finds it current
        store.reload_meta()
        if store.meta.get("corpus_fingerprint") == fp:
            return None
        return _ingest_corpus(store, files, entries, fp, progress)


def _ingest_corpus(
    store: KnowledgeStore,
    files: dict[Path, str],
    entries: list[tuple[str, str, str]],
    fp: str,
    progress: bool,
) -> IngestReport:
    report = store.ingest(list(files), progress=progress, sources=files)
    wanted = set(files.values())
    for name, text, rtl in entries:
        src = f"{DESIGNLIB_PREFIX}{name}"
        wanted.add(src)
        report.chunks_added += store.ingest_text(
            src, text, kind="doc", fmt="md", metadata={"designlib": name}
        )
        if rtl:
            wanted.add(src + ".v")
            report.chunks_added += store.ingest_text(
                src + ".v",
                rtl,
                kind="code",
                fmt="verilog",
                metadata={"designlib": name, "language": "verilog"},
            )
    stale = {s for s in store.sources() if s.startswith((CORPUS_PREFIX, DESIGNLIB_PREFIX))} - wanted
    report.chunks_removed += store.delete_sources(sorted(stale))
    store.set_meta(corpus_fingerprint=fp)
    return report
