"""The retrieval evaluation runs, and hybrid search is at least as good as the better single mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .conftest import load_evaluate


def test_queries_file_is_well_formed() -> None:
    ev = load_evaluate()
    queries = ev.load_queries()
    corpus = Path(ev.__file__).resolve().parents[2] / "veriloop" / "knowledge"
    assert len(queries) >= 40
    assert sum(q["type"] == "error" for q in queries) >= 20
    assert {q["split"] for q in queries} == {"dev", "test"}
    assert len({q["id"] for q in queries}) == len(queries)
    for q in queries:
        assert q["query"].strip() and q["expected"]
        for source in q["expected"]:
            assert (corpus / source).is_file(), source


def test_hybrid_is_at_least_as_good_as_lexical_and_dense(corpus_store: Any) -> None:
    ev = load_evaluate()
    queries = ev.load_queries()
    rankings = ev.collect(corpus_store, queries)
    held_out = [q for q in queries if q["split"] == "test"]
    for name, subset in (("all", queries), ("test", held_out)):
        result = ev.evaluate(rankings, subset)
        for metric in ("recall@5", "mrr"):
            best_single = max(result["lexical"][metric], result["dense"][metric])
            assert result["hybrid"][metric] >= best_single, (name, metric, result)
        assert result["hybrid"]["recall@5"] >= 0.9, result
    # the numbers are real: neither single mode is perfect on every query
    everything = ev.evaluate(rankings, queries)
    assert min(everything["lexical"]["mrr"], everything["dense"]["mrr"]) < 1.0
