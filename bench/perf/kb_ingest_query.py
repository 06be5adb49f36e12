"""Knowledge store: ingest 1,000 chunks, then query from a fresh process with no network.

Usage: .venv/bin/python bench/perf/kb_ingest_query.py [--chunks 1000] [--queries 30] [--json]

Phase 1 (this process) writes 100 markdown files of 10 sections each and ingests them with
`KnowledgeStore.ingest` (chunking, offline MiniLM embeddings, chromadb, BM25). The baseline in the
same run is the bare model encoding the same texts, so the store's overhead is a ratio.
Phase 2 is a fresh Python process, run without a network namespace when bubblewrap can provide one
(`bwrap --unshare-net`; otherwise proxies point at a closed port) and with HF_HUB_OFFLINE=1: it
reopens the store (custom embedding function), loads the model, and times lexical, dense and hybrid
queries. A re-ingest of the unchanged files measures the incremental (content-hash) path.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUERIES = [
    "Unable to bind wire/reg/memory in module",
    "latch inferred for signal in combinational always block",
    "blocking assignment in sequential logic process",
    "how to reset a counter asynchronously with an active-low reset",
    "synchronous FIFO full and empty flags",
    "Operator ASSIGNW expects 8 bits on the Assign RHS",
    "yosys stat cell count after synthesis",
    "self-checking testbench summary line mismatches",
    "signed comparison with unsigned operands",
    "equivalence check with a miter and sat",
]


def _paragraphs() -> list[str]:
    from veriloop.knowledge.chunking import front_matter, markdown_sections
    from veriloop.knowledge.corpus import corpus_files

    out: list[str] = []
    for path in corpus_files():
        if path.suffix == ".md":
            _, body = front_matter(path.read_text(encoding="utf-8"))
            out.extend(s.body for s in markdown_sections(body)[1] if 80 < len(s.body) < 900)
    return out


def write_docs(directory: Path, n_chunks: int, seed: int = 7) -> list[str]:
    """n_chunks sections (10 per file) built from corpus paragraphs, each made unique."""
    rng = random.Random(seed)
    paras = _paragraphs()
    texts: list[str] = []
    per_file = 10
    for f in range((n_chunks + per_file - 1) // per_file):
        lines = [f"# Synthetic note {f}", ""]
        for s in range(min(per_file, n_chunks - f * per_file)):
            body = rng.choice(paras)
            tag = f"note{f}_{s} module_{rng.randrange(10**6):06d}"
            lines += [f"## Section {s} ({tag})", "", body, ""]
            texts.append(f"Synthetic note {f} — Section {s} ({tag})\n{body}")
        (directory / f"note_{f:03d}.md").write_text("\n".join(lines), encoding="utf-8")
    return texts


def query_phase(store_dir: str, n_queries: int) -> dict[str, float]:
    """Runs in the fresh process: open, load the model, time queries per mode."""
    from veriloop.config import KnowledgeConfig, Settings
    from veriloop.knowledge.store import open_store

    t0 = time.perf_counter()
    store = open_store(Settings(knowledge=KnowledgeConfig(store_dir=store_dir)), create=False)
    t_open = time.perf_counter() - t0
    t0 = time.perf_counter()
    store.search("warm-up query", k=5, mode="dense")  # loads the model once
    t_first = time.perf_counter() - t0
    out = {"open_s": round(t_open, 3), "first_dense_query_s": round(t_first, 3)}
    for mode in ("lexical", "dense", "hybrid"):
        t0 = time.perf_counter()
        for i in range(n_queries):
            hits = store.search(QUERIES[i % len(QUERIES)] + f" {i}", k=5, mode=mode)  # type: ignore[arg-type]
            assert hits, "a query over 1,000 chunks returned nothing"
        out[f"{mode}_ms_per_query"] = round(1000 * (time.perf_counter() - t0) / n_queries, 2)
    out["chunks"] = sum(store.stats().counts.values())
    return out


def _isolated_cmd(args: list[str]) -> tuple[list[str], str]:
    bwrap = shutil.which("bwrap")
    if bwrap:
        probe = subprocess.run([bwrap, "--dev-bind", "/", "/", "--unshare-net", "true"], capture_output=True)
        if probe.returncode == 0:
            return [
                bwrap,
                "--dev-bind",
                "/",
                "/",
                "--unshare-net",
                *args,
            ], "network namespace without interfaces"
    return args, "proxies pointed at a closed port (bubblewrap unavailable)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunks", type=int, default=1000)
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--query-phase", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"

    if args.query_phase:
        print(json.dumps(query_phase(args.query_phase, args.queries)))
        return 0

    from veriloop.config import KnowledgeConfig, Settings
    from veriloop.knowledge.embeddings import LocalMiniLM
    from veriloop.knowledge.store import open_store

    with tempfile.TemporaryDirectory(prefix="kb-perf-") as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        texts = write_docs(docs, args.chunks)
        ef = LocalMiniLM()
        t0 = time.perf_counter()
        ef(["load the model"])
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        ef(texts)
        t_encode = time.perf_counter() - t0

        store_dir = str(Path(tmp) / "store")
        store = open_store(Settings(knowledge=KnowledgeConfig(store_dir=store_dir)))
        report = store.ingest([docs], progress=False)
        t_ingest = report.seconds
        again = store.ingest([docs], progress=False)
        del store

        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env.update(
            {
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
                "HTTP_PROXY": "http://127.0.0.1:9",
                "HTTPS_PROXY": "http://127.0.0.1:9",
                "NO_PROXY": "",
            }
        )
        cmd, how = _isolated_cmd(
            [sys.executable, __file__, "--query-phase", store_dir, "--queries", str(args.queries)]
        )
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        t_child = time.perf_counter() - t0
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            return 1
        child = json.loads(proc.stdout.strip().splitlines()[-1])

    result = {
        "chunks_ingested": report.chunks_added,
        "ingest_s": t_ingest,
        "ingest_chunks_per_s": round(report.chunks_added / t_ingest, 1) if t_ingest else None,
        "baseline_model_encode_s": round(t_encode, 3),
        "ingest_over_encode_ratio": round(t_ingest / t_encode, 2) if t_encode else None,
        "model_load_s": round(t_load, 3),
        "reingest_unchanged_s": again.seconds,
        "reingest_files_unchanged": again.files_unchanged,
        "fresh_process": {**child, "isolation": how, "wall_s": round(t_child, 2)},
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    fp = result["fresh_process"]
    print(
        f"ingest {result['chunks_ingested']} chunks: {t_ingest:.2f} s "
        f"({result['ingest_chunks_per_s']} chunks/s); "
        f"bare model encode of the same texts {t_encode:.2f} s -> store/encode ratio "
        f"{result['ingest_over_encode_ratio']}"
    )
    print(f"re-ingest unchanged: {again.seconds:.2f} s ({again.files_unchanged} files skipped)")
    print(
        f"fresh process ({fp['isolation']}): open {fp['open_s']} s, first dense query incl. model load "
        f"{fp['first_dense_query_s']} s"
    )
    print(
        f"ms/query over {fp['chunks']} chunks: lexical {fp['lexical_ms_per_query']}, dense "
        f"{fp['dense_ms_per_query']}, hybrid {fp['hybrid_ms_per_query']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
