"""Retrieval evaluation: recall@5 and MRR of lexical, dense and hybrid search over the built-in corpus.

Queries live in queries.jsonl (id, query, expected sources, type, split). A hit is relevant when its
source is one of the expected sources. Each query carries a fixed split: fusion settings may be
tuned on "dev" only (`--tune`), and the "test" split is reported untouched.

    python bench/retrieval/evaluate.py                # all queries, library defaults
    python bench/retrieval/evaluate.py --tune         # grid over RRF k / weights on dev, report test
    python bench/retrieval/evaluate.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

QUERIES = Path(__file__).with_name("queries.jsonl")
K = 5
MRR_DEPTH = 10
DEPTH = 30


def load_queries(path: Path = QUERIES) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def build_store(directory: Path) -> Any:
    """A store holding only the built-in corpus (the thing the queries were written for)."""
    from veriloop.config import KnowledgeConfig, Settings
    from veriloop.knowledge.corpus import corpus_files
    from veriloop.knowledge.store import open_store

    settings = Settings(knowledge=KnowledgeConfig(store_dir=str(directory)))
    store = open_store(settings)
    files = corpus_files()
    store.ingest(list(files), progress=False, sources=files)
    return store


def collect(store: Any, queries: list[dict[str, Any]]) -> dict[str, tuple[list[Any], list[Any]]]:
    """Dense and lexical rankings per query (fusion variants are then computed without re-querying)."""
    return {q["id"]: store.rankings(q["query"], depth=DEPTH) for q in queries}


def first_rank(hits: list[Any], expected: set[str]) -> int | None:
    for i, h in enumerate(hits, start=1):
        if h.source in expected:
            return i
    return None


def score(ranked: dict[str, list[Any]], queries: list[dict[str, Any]]) -> dict[str, float]:
    recall = mrr = 0.0
    for q in queries:
        r = first_rank(ranked[q["id"]][:MRR_DEPTH], set(q["expected"]))
        if r is not None and r <= K:
            recall += 1
        if r is not None:
            mrr += 1.0 / r
    n = max(len(queries), 1)
    return {"recall@5": round(recall / n, 4), "mrr": round(mrr / n, 4), "n": len(queries)}


def evaluate(
    rankings: dict[str, tuple[list[Any], list[Any]]],
    queries: list[dict[str, Any]],
    rrf_k: int | None = None,
    weights: tuple[float, float] | None = None,
) -> dict[str, dict[str, float]]:
    from veriloop.knowledge.store import fuse

    dense = {qid: d for qid, (d, _) in rankings.items()}
    lexical = {qid: lx for qid, (_, lx) in rankings.items()}
    hybrid = {qid: fuse(d, lx, MRR_DEPTH, rrf_k=rrf_k, weights=weights) for qid, (d, lx) in rankings.items()}
    return {
        "lexical": score(lexical, queries),
        "dense": score(dense, queries),
        "hybrid": score(hybrid, queries),
    }


def tune(rankings: dict[str, tuple[list[Any], list[Any]]], dev: list[dict[str, Any]]) -> dict[str, Any]:
    """Grid search of RRF k and the dense/lexical weights on the dev split (MRR, then recall@5)."""
    best: dict[str, Any] | None = None
    for rrf_k in (1, 3, 5, 10, 20, 40, 60):
        for wd in (0.25, 0.5, 0.75, 1.0, 1.25, 1.5):
            got = evaluate(rankings, dev, rrf_k=rrf_k, weights=(wd, 1.0))["hybrid"]
            key = (got["mrr"], got["recall@5"])
            if best is None or key > (best["mrr"], best["recall@5"]):
                best = {"rrf_k": rrf_k, "weights": (wd, 1.0), **got}
    assert best is not None
    return best


def table(title: str, result: dict[str, dict[str, float]]) -> str:
    lines = [f"{title}", f"  {'mode':8} {'recall@5':>9} {'MRR':>7} {'n':>4}"]
    for mode, m in result.items():
        lines.append(f"  {mode:8} {m['recall@5']:>9.3f} {m['mrr']:>7.3f} {m['n']:>4}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, help="store directory to (re)use; default: a fresh temp dir")
    ap.add_argument("--tune", action="store_true", help="tune RRF k/weights on the dev split, report test")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from veriloop.knowledge import fusion

    queries = load_queries()
    with tempfile.TemporaryDirectory(prefix="kb-eval-") as tmp:
        t0 = time.perf_counter()
        store = build_store(args.store or Path(tmp) / "store")
        t_ingest = time.perf_counter() - t0
        t0 = time.perf_counter()
        rankings = collect(store, queries)
        t_query = (time.perf_counter() - t0) / max(len(queries), 1)
    dev = [q for q in queries if q["split"] == "dev"]
    test = [q for q in queries if q["split"] == "test"]
    report: dict[str, Any] = {
        "queries": len(queries),
        "error_queries": sum(q["type"] == "error" for q in queries),
        "defaults": {"rrf_k": fusion.RRF_K, "weights": [fusion.DENSE_WEIGHT, fusion.LEXICAL_WEIGHT]},
        "all": evaluate(rankings, queries),
        "dev": evaluate(rankings, dev),
        "test": evaluate(rankings, test),
        "by_type": {
            t: evaluate(rankings, [q for q in queries if q["type"] == t]) for t in ("error", "concept")
        },
        "seconds_ingest": round(t_ingest, 2),
        "ms_per_query_both_rankings": round(1000 * t_query, 1),
    }
    if args.tune:
        best = tune(rankings, dev)
        report["tuned_on_dev"] = best
        report["test_with_tuned"] = evaluate(rankings, test, rrf_k=best["rrf_k"], weights=best["weights"])
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"{report['queries']} queries ({report['error_queries']} raw tool error messages); "
        f"RRF k={fusion.RRF_K}, weights dense/lexical={fusion.DENSE_WEIGHT}/{fusion.LEXICAL_WEIGHT}"
    )
    print(table("all queries", report["all"]))
    print(table("dev split", report["dev"]))
    print(table("test split", report["test"]))
    for t, res in report["by_type"].items():
        print(table(f"type={t}", res))
    if args.tune:
        b = report["tuned_on_dev"]
        print(f"tuned on dev: rrf_k={b['rrf_k']} weights={b['weights']} (dev MRR {b['mrr']:.3f})")
        print(table("test split with the dev-tuned setting", report["test_with_tuned"]))
    print(
        f"ingest {report['seconds_ingest']} s; "
        f"{report['ms_per_query_both_rankings']} ms/query (dense+lexical, first includes model load)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
