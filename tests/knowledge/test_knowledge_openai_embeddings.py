"""The OpenAI-compatible embeddings option, against the fake OpenAI server through the openai SDK."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from veriloop.errors import BackendError, StoreError


def _config(tmp_path: Path, base_url: str, store: Path) -> None:
    (tmp_path / "veriloop.toml").write_text(
        f"""
[backends.fake]
kind = "openai"
base_url = "{base_url}"
model = "fake-model"
api_key_env = "FAKE_KEY"

[knowledge]
store_dir = "{store}"
embedding = "openai"
embedding_backend = "fake"
embedding_model = "fake-embedding"
"""
    )


def test_store_embeds_through_the_openai_endpoint(fake_openai: Any, tmp_path: Path) -> None:
    from veriloop.config import load_settings
    from veriloop.knowledge.store import open_store

    _config(tmp_path, fake_openai.base_url, tmp_path / "kb")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(
        "# Resets\n\n## Async\nasynchronous reset in the sensitivity list\n\n"
        "## Sync\nsynchronous reset sampled at the clock edge\n"
    )
    store = open_store(load_settings())
    assert store.ingest([docs], progress=False).chunks_added == 2
    hits = store.search("asynchronous reset in the sensitivity list", k=2, mode="dense")
    assert hits[0].metadata["heading"] == "Async" and hits[0].score > hits[1].score
    embedding_calls = [r for r in fake_openai.embedding_requests if r.get("model") == "fake-embedding"]
    assert len(embedding_calls) >= 2  # one for the chunks, one for the query
    assert store.stats().embedding.startswith("openai fake-embedding")

    # the same store opened with the local model is refused instead of mixing vector spaces
    (tmp_path / "veriloop.toml").write_text(f'[knowledge]\nstore_dir = "{tmp_path / "kb"}"\n')
    with pytest.raises(StoreError, match="built with 'veriloop-openai' embeddings"):
        open_store(load_settings())


def test_unreachable_embedding_endpoint_is_one_backend_error(tmp_path: Path) -> None:
    from veriloop.config import load_settings
    from veriloop.knowledge.store import open_store

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _config(tmp_path, f"http://127.0.0.1:{port}/v1", tmp_path / "kb")
    (tmp_path / "n.md").write_text("# Note\n\ntext\n")
    store = open_store(load_settings())
    with pytest.raises(BackendError, match="did not answer"):
        store.ingest([tmp_path / "n.md"], progress=False)
    assert store.stats().counts["docs"] == 0


def test_a_failed_update_keeps_the_old_chunks(fake_openai: Any, tmp_path: Path) -> None:
    from veriloop.config import load_settings
    from veriloop.knowledge.store import open_store

    _config(tmp_path, fake_openai.base_url, tmp_path / "kb")
    note = tmp_path / "note.md"
    note.write_text("# Note\n\n## One\nthe original first section\n\n## Two\nthe original second section\n")
    store = open_store(load_settings())
    store.ingest([note], progress=False)
    fake_openai.stop()  # the endpoint goes away before the next update
    note.write_text("# Note\n\n## One\na rewritten section\n")
    with pytest.raises(BackendError):
        store.ingest([note], progress=False)
    assert store.stats().counts["docs"] == 2
    texts = [h.text for h in store.search("original section", k=5, mode="lexical")]
    assert len(texts) == 2 and all("original" in t for t in texts)
