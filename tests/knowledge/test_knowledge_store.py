"""The store: incremental ingest, hybrid search with filters, a fresh process, stats and reset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from veriloop.errors import InputError

from .conftest import store_settings

DOC_V1 = """---
tool: verilator
---
# Lint notes

## Width warnings
Operands of different widths are truncated silently; size every literal.

## Unused signals
Remove inputs that are never read.
"""

CODE = """module gray_enc #(parameter W = 4) (input [W-1:0] b, output [W-1:0] g);
  assign g = b ^ (b >> 1);
endmodule

module pulse_stretch (input clk, input p, output reg q);
  always @(posedge clk) q <= p;
endmodule
"""


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    from veriloop.knowledge.store import open_store

    root = tmp_path_factory.mktemp("kb-small")
    docs = root / "docs"
    docs.mkdir()
    (docs / "lint.md").write_text(DOC_V1)
    (docs / "blocks.sv").write_text(CODE)
    (docs / ".hidden.md").write_text("# hidden\nnot ingested")
    store = open_store(store_settings(root / "store"))
    report = store.ingest([docs], progress=False)
    assert report.files_added == 2 and report.chunks_added == 4 and not report.files_failed
    return store, docs


def test_unchanged_files_are_skipped_and_changed_ones_replaced(small_store: tuple[Any, Path]) -> None:
    store, docs = small_store
    again = store.ingest([docs], progress=False)
    assert (again.files_unchanged, again.files_added, again.chunks_added) == (2, 0, 0)

    (docs / "lint.md").write_text(DOC_V1.replace("Remove inputs that are never read.", "Tie them off."))
    changed = store.ingest([docs / "lint.md"], progress=False)
    assert (changed.files_updated, changed.chunks_removed, changed.chunks_added) == (1, 2, 2)
    texts = [h.text for h in store.search("inputs never read tie off", k=5, mode="lexical")]
    assert any("Tie them off." in t for t in texts)
    assert not any("never read" in t for t in texts)
    assert store.stats().counts == {"docs": 2, "code": 2, "lessons": 0}


def test_missing_path_fails_before_any_work(small_store: tuple[Any, Path], tmp_path: Path) -> None:
    store, docs = small_store
    before = store.stats().counts
    with pytest.raises(InputError, match="does not exist"):
        store.ingest([docs / "lint.md", tmp_path / "nope.md"], progress=False)
    assert store.stats().counts == before


def test_search_modes_and_metadata_filters(small_store: tuple[Any, Path]) -> None:
    store, _ = small_store
    for mode in ("lexical", "dense", "hybrid"):
        hits = store.search("gray code encoder xor shift", k=2, mode=mode)
        assert hits[0].metadata.get("module") == "gray_enc", mode
        assert hits[0].kind == "code" and hits[0].metadata["language"] == "systemverilog"
    only_docs = store.search("gray code encoder", k=5, kind="doc")
    assert only_docs and all(h.kind == "doc" for h in only_docs)
    tool = store.search("width", k=5, where={"tool": "verilator"})
    assert tool and all(h.metadata.get("tool") == "verilator" for h in tool)
    assert store.search("width", k=5, where={"tool": "yosys"}) == []
    mod = store.search("register", k=5, where={"module": ["pulse_stretch"]}, mode="dense")
    assert [h.metadata["module"] for h in mod] == ["pulse_stretch"]
    with pytest.raises(InputError):
        store.search("   ")
    with pytest.raises(InputError):
        store.search("x", mode="fuzzy")  # type: ignore[arg-type]


def test_hybrid_is_the_rank_fusion_of_both_rankings(corpus_store: Any) -> None:
    from veriloop.knowledge import fusion

    q = "Latch inferred for signal 'q' (not all control paths of combinational always assign a value)"
    dense, lexical = corpus_store.rankings(q, depth=30)
    expected = fusion.rrf(
        [[h.id for h in dense], [h.id for h in lexical]],
        weights=(fusion.DENSE_WEIGHT, fusion.LEXICAL_WEIGHT),
        k=fusion.RRF_K,
    )[:5]
    got = corpus_store.search(q, k=5)
    assert [h.id for h in got] == [i for i, _ in expected]
    assert [h.score for h in got] == [round(s, 6) for _, s in expected]


def test_a_fresh_process_searches_the_store_with_the_custom_embedding(
    corpus_store: Any, corpus_store_dir: Path
) -> None:
    query = "How do I write an asynchronous active-low reset?"
    here = [h.id for h in corpus_store.search(query, k=5, mode="dense")]
    script = f"""
import json, chromadb
from chromadb.config import Settings as CS
import veriloop.knowledge.embeddings  # registers our embedding functions with chromadb
from veriloop.config import KnowledgeConfig, Settings
from veriloop.knowledge.store import open_store
path = {str(corpus_store_dir)!r}
# chromadb rebuilds the registered embedding function from the collection's stored config (none passed)
client = chromadb.PersistentClient(path=path + "/chroma", settings=CS(anonymized_telemetry=False))
col = client.get_collection("docs")
ef_name = col.configuration["embedding_function"].name()
raw = col.query(query_texts=[{query!r}], n_results=1)["ids"][0]
store = open_store(Settings(knowledge=KnowledgeConfig(store_dir=path)), create=False)
hits = store.search({query!r}, k=5, mode="dense")
print(json.dumps({{"ef": ef_name, "raw": raw, "ids": [h.id for h in hits]}}))
"""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["ef"] == "veriloop-minilm"
    assert out["ids"] == here
    assert out["raw"] and out["raw"][0].startswith("doc:corpus/idioms/resets.md")


def test_stats_and_reset(tmp_path: Path) -> None:
    from veriloop.knowledge.store import open_store

    store = open_store(store_settings(tmp_path / "store"))
    (tmp_path / "n.md").write_text("# Note\n\nsome text about resets\n")
    store.ingest([tmp_path / "n.md"], progress=False)
    st = store.stats()
    assert st.counts["docs"] == 1 and st.sources == 1 and st.lexical_index == "fresh"
    assert "all-MiniLM-L6-v2" in st.embedding
    store.reset()
    st = store.stats()
    assert st.counts == {"docs": 0, "code": 0, "lessons": 0} and st.sources == 0
    assert store.search("resets", mode="lexical") == []
