"""Pass@1 of single-shot, oracle-tb and self-verified with a real model on the fixed problem list.

Run from the repo root, with a model server running (`veriloop llm serve`) and its backend entry in
a config file (issue 14; the README's "Local model" section has the exact commands):

    .venv/bin/python bench/real_model/measure.py --config local.toml --backend local \
        [--configs single-shot,oracle-tb,self-verified] [--max-iters 3] [--out bench/real_model/RESULT.md]
    .venv/bin/python bench/real_model/measure.py --report RUN_ID [RUN_ID ...]   # tables of finished runs

Each configuration is its own `veriloop bench run` (resumable: rerun with --resume-runs to finish a
killed one) over the problems in bench/real_model/problems.txt (40 VerilogEval v2 spec-to-rtl
problems, chosen once). The table gives, per configuration: problems solved (pass@1, temperature 0
for single-shot; the design graph's own sampling otherwise), the ratio to single-shot, and per
problem the mean tokens (prompt + reply), LLM calls and wall time; then one row per problem.
Not a CI test: a run takes hours on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PROBLEMS = HERE / "problems.txt"
VERILOG_EVAL = REPO.parent / "shared" / "benchmarks" / "verilog-eval-v2"
CONFIGS = ("single-shot", "oracle-tb", "self-verified")


def veriloop(*args: str, config: str | None) -> subprocess.CompletedProcess[str]:
    cmd = [str(REPO / ".venv" / "bin" / "veriloop")]
    if config:
        cmd += ["--config", config]
    return subprocess.run([*cmd, *args], text=True, capture_output=True, check=False, cwd=REPO)


def run_config(args: argparse.Namespace, cfg: str) -> str:
    """One bench run for one configuration; returns its run id."""
    out = veriloop(
        "bench", "run", "--suite", "verilog-eval", "--path", str(args.data),
        "--backend", args.backend, "--config", cfg, "--problems", f"@{PROBLEMS}",
        "--max-iters", str(args.max_iters), "--design-samples", str(args.design_samples), "--json",
        config=args.config,
    )
    if out.returncode != 0:
        sys.exit(f"bench run --config {cfg} failed: {out.stderr.strip()[-500:]}")
    return str(json.loads(out.stdout)["run_id"])


def samples(run_dir: Path) -> list[dict[str, Any]]:
    con = sqlite3.connect(f"file:{run_dir / 'results.sqlite'}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(
            "select problem, config, passed, category, prompt_tokens, completion_tokens, calls, "
            "llm_latency_s, latency_s from samples where idx = 0"
        )]
    finally:
        con.close()


def data_dir(config: str | None) -> Path:
    from veriloop.config import load_settings

    cwd = Path.cwd()
    os.chdir(REPO)  # the runs live where `veriloop` ran (the repo root)
    try:
        return load_settings(Path(config) if config else None).data_path.resolve()
    finally:
        os.chdir(cwd)


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown: the summary per configuration, then one row per problem."""
    by_cfg: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        by_cfg.setdefault(r["config"], {})[r["problem"]] = r
    cfgs = [c for c in CONFIGS if c in by_cfg] + sorted(set(by_cfg) - set(CONFIGS))
    single = by_cfg.get("single-shot", {})
    lines = [
        "| configuration | solved | single-shot, same problems | ratio | tokens/problem | calls/problem "
        "| wall s/problem |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in cfgs:
        rs = list(by_cfg[c].values())
        n = len(rs)
        solved = sum(r["passed"] for r in rs)
        common = [p for p in by_cfg[c] if p in single]
        base = sum(single[p]["passed"] for p in common)
        tok = sum((r["prompt_tokens"] or 0) + (r["completion_tokens"] or 0) for r in rs) / max(n, 1)
        calls = sum(r["calls"] or 0 for r in rs) / max(n, 1)
        wall = sum(r["latency_s"] or 0 for r in rs) / max(n, 1)
        ratio = f"{solved / base:.2f}x" if base and len(common) == n else ("-" if len(common) != n else "inf")
        lines.append(f"| {c} | {solved}/{n} | {base}/{len(common)} | {ratio} | {tok:,.0f} | {calls:.1f} "
                     f"| {wall:.0f} |")
    problems = sorted({r["problem"] for r in rows})
    lines += ["", "| problem | " + " | ".join(cfgs) + " |", "|---|" + "---|" * len(cfgs)]
    for p in problems:
        cells = []
        for c in cfgs:
            r = by_cfg[c].get(p)
            if r is None:
                cells.append("-")
                continue
            mark = "PASS" if r["passed"] else r["category"]
            tok = (r["prompt_tokens"] or 0) + (r["completion_tokens"] or 0)
            cells.append(f"{mark} ({tok} tok, {r['latency_s'] or 0:.0f} s)")
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", help="veriloop.toml with the backend entry")
    ap.add_argument("--backend", default="local")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--max-iters", type=int, default=3)
    ap.add_argument("--design-samples", type=int, default=1)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("VERILOG_EVAL_PATH", VERILOG_EVAL)))
    ap.add_argument("--report", nargs="+", metavar="RUN_ID", help="Only tabulate these finished runs.")
    ap.add_argument("--out", type=Path, help="Also write the Markdown table here.")
    args = ap.parse_args()
    runs_dir = data_dir(args.config) / "runs"
    ids = args.report or [run_config(args, c) for c in args.configs.split(",") if c]
    rows = [r for i in ids for r in samples(runs_dir / i)]
    text = table(rows) + "\n\nRuns: " + ", ".join(ids) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
