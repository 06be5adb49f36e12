"""Time grading the 156 VerilogEval v2 spec-to-rtl references: veriloop (parallel, sandboxed) vs a plain loop.

Baseline: a sequential loop of the very commands the upstream harness uses (`iverilog -Wall -Winfloop
-Wno-timescale -g2012 -s tb -o a.out ...` then `vvp -n a.out`, 30 s timeout), run directly on the host
with no sandbox. veriloop: `grading.grade_many`, one worker per core, each design compiled and
simulated in a warm bubblewrap sandbox (fresh job dir per design, nonce-tagged, sources deleted
before the simulation), longest expected simulation first. Two veriloop passes per round: "cold"
orders by the static estimate only (an empty cost history), "warm" by the simulation times the cold
pass measured. Rounds alternate baseline and veriloop so that drift in machine speed hits both; the
ratios printed are medians over rounds.

Also the median sandbox overhead per job: `true` through the sandbox minus `true` spawned directly,
for a one-off job (its own bubblewrap) and for a staged job in a warm sandbox (what grading uses).
Targets: ratio >= 1.8x on 2 cores, overhead < 30 ms.

    .venv/bin/python bench/perf/grade_verilogeval.py [--rounds N] [--workers N] [--limit N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[3] / "shared/benchmarks/verilog-eval-v2/dataset_spec-to-rtl"
SUMMARY = re.compile(r"Mismatches:\s*(\d+)\s+in\s+(\d+)\s+samples")


def problems(limit: int | None) -> list[tuple[str, str, str]]:
    names = sorted(p.name[: -len("_ref.sv")] for p in DATA.glob("*_ref.sv"))[:limit]
    out = []
    for n in names:
        ref = (DATA / f"{n}_ref.sv").read_text()
        out.append((n, ref, (DATA / f"{n}_test.sv").read_text()))
    return out


def plain_grade(name: str, ref: str, tb: str) -> bool:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d)
        (p / "sample.sv").write_text(re.sub(r"\bRefModule\b", "TopModule", ref))
        (p / "ref.sv").write_text(ref)
        (p / "test.sv").write_text(tb)
        c = subprocess.run(
            [
                "iverilog",
                "-Wall",
                "-Winfloop",
                "-Wno-timescale",
                "-g2012",
                "-s",
                "tb",
                "-o",
                "a.out",
                "sample.sv",
                "test.sv",
                "ref.sv",
            ],
            cwd=d,
            capture_output=True,
        )
        if c.returncode != 0:
            return False
        try:
            s = subprocess.run(["vvp", "-n", "a.out"], cwd=d, capture_output=True, text=True, timeout=30)
        except subprocess.TimeoutExpired:
            return False
        m = SUMMARY.findall(s.stdout)
        return bool(m) and m[-1][0] == "0"


def _overhead_ms(runs: int) -> dict[str, float]:
    from veriloop.sandbox import Job, StagedJob, Step, get_sandbox, run_staged

    box = get_sandbox()
    direct, oneoff, staged = [], [], []
    job = StagedJob(steps=[Step(argv=["true"])])
    run_staged(job)  # start the warm sandbox outside the timings
    for _ in range(runs):
        a = time.perf_counter()
        subprocess.run(["true"])
        direct.append(time.perf_counter() - a)
        a = time.perf_counter()
        box.run(Job(argv=["true"]))
        oneoff.append(time.perf_counter() - a)
        a = time.perf_counter()
        run_staged(job)
        staged.append(time.perf_counter() - a)
    base = statistics.median(direct)
    return {
        "true_direct_ms": round(base * 1000, 2),
        "one_off_job_overhead_ms": round((statistics.median(oneoff) - base) * 1000, 2),
        "warm_staged_job_overhead_ms": round((statistics.median(staged) - base) * 1000, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--overhead-runs", type=int, default=60)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from veriloop.sandbox import describe
    from veriloop.tools import simcost
    from veriloop.tools.grading import GradeItem, grade_many
    from veriloop.tools.versions import versions

    probs = problems(args.limit)
    versions()  # warm the version cache outside the timings
    items = [
        GradeItem(design_sv=re.sub(r"\bRefModule\b", "TopModule", ref), testbench_sv=tb, ref_sv=ref)
        for _, ref, tb in probs
    ]
    grade_many(items[:2], workers=args.workers)  # start the warm sandboxes outside the timings

    rounds = []
    with tempfile.TemporaryDirectory() as cache:
        for _ in range(max(1, args.rounds)):
            t0 = time.perf_counter()
            plain = [plain_grade(*p) for p in probs]
            t_plain = time.perf_counter() - t0
            simcost._shared = simcost.History(Path(cache) / f"costs-{len(rounds)}.json")  # empty: cold
            t0 = time.perf_counter()
            cold = grade_many(items, workers=args.workers)
            t_cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            warm = grade_many(items, workers=args.workers)  # ordered by what the cold pass measured
            t_warm = time.perf_counter() - t0
            rounds.append(
                {
                    "plain_sequential_s": round(t_plain, 2),
                    "veriloop_cold_s": round(t_cold, 2),
                    "veriloop_warm_s": round(t_warm, 2),
                    "plain_pass": sum(plain),
                    "cold_pass": sum(r.passed for r in cold),
                    "warm_pass": sum(r.passed for r in warm),
                }
            )
    cold_ratio = statistics.median(r["plain_sequential_s"] / r["veriloop_cold_s"] for r in rounds)
    warm_ratio = statistics.median(r["plain_sequential_s"] / r["veriloop_warm_s"] for r in rounds)
    over = _overhead_ms(args.overhead_runs)
    result = {
        "problems": len(probs),
        "workers": args.workers,
        "cores": os.cpu_count(),
        "sandbox": describe().model_dump(),
        "rounds": rounds,
        "speedup_cold": round(cold_ratio, 2),
        "speedup_warm": round(warm_ratio, 2),
        **over,
        "loadavg": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    mode = result["sandbox"]["mode"]
    print(f"{len(probs)} problems; sandbox {mode}; {args.workers} workers on {os.cpu_count()} cores")
    for i, r in enumerate(rounds, 1):
        print(
            f"round {i}: plain loop {r['plain_sequential_s']:6.2f} s ({r['plain_pass']} pass) | "
            f"veriloop cold {r['veriloop_cold_s']:6.2f} s ({r['cold_pass']} pass) | "
            f"warm {r['veriloop_warm_s']:6.2f} s ({r['warm_pass']} pass)"
        )
    print(f"speedup, static cost order (cold) : {cold_ratio:.2f}x   (target >= 1.8x)")
    print(f"speedup, measured cost order (warm): {warm_ratio:.2f}x   (target >= 1.8x)")
    print(
        f"median sandbox overhead: one-off job {over['one_off_job_overhead_ms']:.1f} ms, "
        f"warm staged job {over['warm_staged_job_overhead_ms']:.1f} ms (target < 30 ms)"
    )
    print(f"load average (1 min)    : {result['loadavg']:.2f}")


if __name__ == "__main__":
    main()
