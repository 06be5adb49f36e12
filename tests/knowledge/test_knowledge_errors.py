"""A missing, locked, corrupt or unreadable store gives one StoreError sentence and loses nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from veriloop.errors import StoreError

from .conftest import store_settings


def _open(path: Path, create: bool = True) -> Any:
    from veriloop.knowledge.store import open_store

    return open_store(store_settings(path), create=create)


def _snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _one_sentence(err: StoreError) -> None:
    assert err.message.endswith(".") and "\n" not in err.message and "Traceback" not in err.message


@pytest.fixture
def copy_of_corpus(corpus_store_dir: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(corpus_store_dir, dst)
    return dst


def test_missing_store_when_not_creating(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="There is no knowledge store") as info:
        _open(tmp_path / "absent", create=False)
    _one_sentence(info.value)
    assert not (tmp_path / "absent").exists()


def test_a_file_where_the_store_should_be(tmp_path: Path) -> None:
    (tmp_path / "store").write_text("precious")
    with pytest.raises(StoreError, match="is a file, not a directory"):
        _open(tmp_path / "store")
    assert (tmp_path / "store").read_text() == "precious"


def test_garbage_database_file_is_reported_and_kept(copy_of_corpus: Path) -> None:
    db = copy_of_corpus / "chroma" / "chroma.sqlite3"
    db.write_bytes(b"this is not sqlite at all" * 100)
    before = _snapshot(copy_of_corpus)
    with pytest.raises(StoreError, match="corrupt") as info:
        _open(copy_of_corpus)
    _one_sentence(info.value)
    assert _snapshot(copy_of_corpus) == before


def test_damaged_database_pages_are_reported_and_kept(copy_of_corpus: Path) -> None:
    db = copy_of_corpus / "chroma" / "chroma.sqlite3"
    data = bytearray(db.read_bytes())
    for i in range(100, len(data), 7):  # keep the header, scramble every page
        data[i] = 0xAB
    db.write_bytes(bytes(data))
    before = _snapshot(copy_of_corpus)
    with pytest.raises(StoreError, match="corrupt") as info:
        store = _open(copy_of_corpus)
        store.search("latch", mode="lexical")
    _one_sentence(info.value)
    assert _snapshot(copy_of_corpus) == before


def test_embedding_mismatch_is_refused(copy_of_corpus: Path) -> None:
    meta = copy_of_corpus / "veriloop-kb.json"
    data = json.loads(meta.read_text())
    data["embedding"] = "veriloop-openai"
    meta.write_text(json.dumps(data))
    with pytest.raises(StoreError, match="built with 'veriloop-openai' embeddings"):
        _open(copy_of_corpus)


def test_locked_store_gives_one_sentence_and_keeps_data(
    copy_of_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from veriloop.knowledge import store as store_mod

    monkeypatch.setattr(store_mod, "LOCK_WAIT_S", 0.5)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            f"fd = os.open({str(copy_of_corpus / '.lock')!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, str(os.getpid()).encode())\n"
            "print('locked', flush=True); time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        store = _open(copy_of_corpus)
        before = store.stats().counts
        with pytest.raises(StoreError, match=r"locked by another process \(pid \d+\)") as info:
            store.add_lesson(
                error_text="a.v:1: error: Unable to bind wire/reg/memory `x' in `a'", fix="declare x"
            )
        _one_sentence(info.value)
        assert store.search("latch inferred", k=3, mode="lexical")  # reads still work
    finally:
        holder.kill()
        holder.wait()
    store = _open(copy_of_corpus)
    assert store.stats().counts == before
    store.add_lesson(error_text="a.v:1: error: Unable to bind wire/reg/memory `x' in `a'", fix="declare x")
    assert store.stats().counts["lessons"] == before["lessons"] + 1


def test_directory_without_permission(copy_of_corpus: Path) -> None:
    """A store directory this process may not write is one clear sentence; nothing in it changes."""
    before = _snapshot(copy_of_corpus)
    script = (
        "import sys\n"
        "from veriloop.config import KnowledgeConfig, Settings\n"
        "from veriloop.errors import StoreError\n"
        "from veriloop.knowledge.store import open_store\n"
        "try:\n"
        f"    open_store(Settings(knowledge=KnowledgeConfig(store_dir={str(copy_of_corpus)!r})))\n"
        "except StoreError as e:\n"
        "    print(e.message); sys.exit(6)\n"
        "print('opened')\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if os.geteuid() == 0:
        # root ignores permission bits: the store is made read-only by a bind mount instead
        bwrap = shutil.which("bwrap")
        probe = (
            subprocess.run([bwrap, "--dev-bind", "/", "/", "true"], capture_output=True) if bwrap else None
        )
        if probe is None or probe.returncode != 0:
            pytest.skip("running as root without bubblewrap: cannot take write permission away")
        ro = str(copy_of_corpus)
        cmd = [bwrap, "--dev-bind", "/", "/", "--ro-bind", ro, ro, sys.executable, "-c", script]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    else:
        os.chmod(copy_of_corpus, 0o500)
        try:
            proc = subprocess.run(
                [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
            )
        finally:
            os.chmod(copy_of_corpus, 0o755)
    assert proc.returncode == 6, proc.stdout + proc.stderr[-2000:]
    assert proc.stdout.strip().startswith("The knowledge store at")
    assert "not readable and writable" in proc.stdout
    assert len(proc.stdout.strip().splitlines()) == 1
    assert _snapshot(copy_of_corpus) == before
