"""`veriloop ui` on a 10,000-program evolve run: API and page load times (target: page < 2 s).

Usage: .venv/bin/python bench/perf/ui_load.py [--programs 10000] [--repeat 5] [--json]

Builds an evolve run through veriloop's own API (runstore.create_run + ProgramDatabase.record, one
committed iteration per program, parents drawn from recent programs so the lineage is deep, four
islands), starts the real `veriloop ui --port 0` server, and measures:
- api: GET /api/evolve/<run> (every program's row, the MAP-Elites grid, stats), median of --repeat;
- baseline: a raw sqlite3 read of the same columns of the same rows in this process (no JSON, no
  HTTP): the ratio api / baseline is the cost of the UI's reader and transport;
- page: headless Chromium (Debian's /usr/bin/chromium via Playwright, when present) from navigation
  to the lineage SVG holding every program's node, score chart and grid drawn; then the time from a
  click on a node to its diff on screen;
- runs: GET /api/runs (the runs list summarises the run from its database).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]

TEMPLATE = '''"""Rank resident experts for eviction (synthetic program {i})."""

# EVOLVE-BLOCK-START
RECENCY_WEIGHT = {a:.6f}
FREQUENCY_WEIGHT = {b:.6f}
LAYER_WEIGHT = {c:.6f}
DECAY = {d:.6f}


def score(age, uses, layers):
    return RECENCY_WEIGHT * age - FREQUENCY_WEIGHT * uses + LAYER_WEIGHT * layers
# EVOLVE-BLOCK-END


def make_policy(info):
    class Policy:
        def rank(self, history, cache):
            return sorted(cache, key=lambda e: -score(history.age(e), history.uses(e), info.layers(e)))
    return Policy()
'''


def build(data_dir: Path, n: int, seed: int = 0) -> str:
    from veriloop import runstore
    from veriloop.evolve.database import DatabaseConfig, IterationRow, ProgramDatabase, ProgramRow

    rng = random.Random(seed)
    rec = runstore.create_run(data_dir, "evolve", title=f"synthetic {n}-program run",
                              meta={"problem_name": "synthetic", "options": {"iterations": n - 1}})
    db = ProgramDatabase(rec.dir / "programs.sqlite", DatabaseConfig())
    ids: list[str] = []
    gens: dict[str, int] = {}
    score = 0.5
    try:
        for i in range(n):
            code = TEMPLATE.format(i=i, a=rng.random(), b=rng.random(), c=rng.random(), d=rng.random())
            h = hashlib.sha256(code.encode()).hexdigest()
            pid = f"{i:06d}-{h[:10]}"
            parent = None if i == 0 else ids[max(0, len(ids) - 200) + rng.randrange(min(200, len(ids)))]
            failed = i > 0 and rng.random() < 0.1
            score = max(0.0, min(1.0, score + rng.gauss(0.0005, 0.01)))
            s = None if failed else score
            gen = 0 if parent is None else gens[parent] + 1
            prog = ProgramRow(
                id=pid, iteration=i, parent_id=parent, island=i % 4, generation=gen, code=code, code_hash=h,
                status="eval_failed" if failed else "ok", metrics={} if failed else {"combined_score": score},
                artifacts={"feedback": f"synthetic {i}"}, combined_score=s,
                features={"combined_score": s or 0.0, "code_length": float(len(code))},
                fault="timeout" if failed else None, backend="offline", model="offline", cost=0.0001,
            )
            db.record(IterationRow(iteration=i, status="eval_failed" if failed else "evaluated",
                                   fault=prog.fault, program_id=pid, parent_id=parent, island=i % 4,
                                   backend="offline", model="offline", cost=0.0001), prog)
            ids.append(pid)
            gens[pid] = gen
    finally:
        db.close()
    runstore.update_run(rec, status="done")
    return rec.id


def fetch(url: str) -> tuple[float, int]:
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as r:
        body = r.read()
    return time.perf_counter() - t, len(body)


def raw_read(db: Path) -> float:
    t = time.perf_counter()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = conn.execute(
        "SELECT id, iteration, parent_id, island, generation, combined_score, status, fault, model, cost, "
        "features FROM programs ORDER BY iteration").fetchall()
    conn.close()
    assert rows
    return time.perf_counter() - t


def page_times(url: str, run_id: str, n: int, profile: Path, shot: Path | None) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=ARGS,
            viewport={"width": 1400, "height": 1000})
        try:
            page = ctx.new_page()
            page.goto(url)  # warm the browser (static files, JS compile)
            page.wait_for_selector("#runs")
            loads = []
            for _ in range(3):
                page.goto("about:blank")
                t = time.perf_counter()
                page.goto(f"{url}#/evolve/{run_id}")
                page.wait_for_function(
                    f"document.querySelectorAll('#lineage circle').length === {n} "
                    "&& document.querySelector('#map-elites') && document.querySelector('#score-chart')",
                    timeout=60_000, polling=50)
                loads.append(time.perf_counter() - t)
            last = page.locator("#lineage circle").last
            pid = last.get_attribute("data-id")
            t = time.perf_counter()
            last.dispatch_event("click")
            page.wait_for_function(f"document.querySelector('#program-title')?.textContent.includes('{pid}')",
                                   timeout=30_000, polling=20)
            click = time.perf_counter() - t
            if shot is not None:
                page.evaluate("window.scrollTo(0, 0)")
                page.screenshot(path=str(shot))
        finally:
            ctx.close()
    return {"page_load_s": statistics.median(loads), "page_load_all_s": loads, "click_to_diff_s": click}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--programs", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--screenshot", type=Path, default=None, help="save the loaded page here (PNG)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="veriloop-ui-perf-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        t = time.perf_counter()
        run_id = build(data, args.programs)
        build_s = time.perf_counter() - t
        env = os.environ | {"VERILOOP_DATA_DIR": str(data), "XDG_CONFIG_HOME": str(Path(tmp) / "xdg")}
        server = subprocess.Popen([sys.executable, "-m", "veriloop.cli", "ui", "--port", "0"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tmp)
        try:
            assert server.stdout is not None
            url = server.stdout.readline().split(": ", 1)[1].strip()
            fetch(url + f"api/evolve/{run_id}")  # warm imports in the server
            api = [fetch(url + f"api/evolve/{run_id}") for _ in range(args.repeat)]
            runs = [fetch(url + "api/runs")[0] for _ in range(args.repeat)]
            base = [raw_read(data / "runs" / run_id / "programs.sqlite") for _ in range(args.repeat)]
            out: dict[str, object] = {
                "programs": args.programs, "build_s": round(build_s, 2),
                "api_evolve_s": round(statistics.median(a for a, _ in api), 4),
                "api_evolve_bytes": api[0][1],
                "baseline_raw_sqlite_s": round(statistics.median(base), 4),
                "api_runs_s": round(statistics.median(runs), 4),
            }
            out["api_vs_raw_sqlite"] = round(
                float(out["api_evolve_s"]) / float(out["baseline_raw_sqlite_s"]), 2)  # type: ignore[arg-type]
            if CHROMIUM.is_file():
                try:
                    out |= {k: (round(v, 3) if isinstance(v, float) else [round(x, 3) for x in v])
                            for k, v in page_times(url, run_id, args.programs, Path(tmp) / "profile",
                                                        args.screenshot).items()}
                    out["page_target_s"] = 2.0
                    out["page_ok"] = float(out["page_load_s"]) < 2.0  # type: ignore[arg-type]
                except ImportError:
                    out["page"] = "playwright not installed"
            else:
                out["page"] = "no /usr/bin/chromium"
        finally:
            server.terminate()
            server.wait(timeout=10)
            if server.stdout is not None:
                server.stdout.close()
    if args.json:
        print(json.dumps(out, indent=2))
        return
    for k, v in out.items():
        print(f"{k:24} {v}")


if __name__ == "__main__":
    main()
