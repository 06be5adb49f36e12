"""Time grading the 156 VerilogEval v2 spec-to-rtl references: veriloop (parallel, sandboxed) vs a plain loop.

Baseline, in the same run: a sequential loop of the very commands the upstream harness uses
(`iverilog -Wall -Winfloop -Wno-timescale -g2012 -s tb -o a.out ...` then `vvp -n a.out`, 30 s timeout),
run directly on the host with no sandbox. veriloop: `grade_testbench` on a thread pool (one worker
per core by default), every compile and simulation in its own bubblewrap sandbox, nonce-tagged.
Also measures the median sandbox overhead per job: `true` through the sandbox minus `true` spawned
directly. Targets: ratio >= 1.8x on 2 cores, overhead < 30 ms.

    .venv/bin/python bench/perf/grade_verilogeval.py [--workers N] [--limit N] [--json]
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
from concurrent.futures import ThreadPoolExecutor
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--overhead-runs", type=int, default=40)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from veriloop.sandbox import Job, describe, get_sandbox
    from veriloop.tools.grading import grade_testbench
    from veriloop.tools.versions import versions

    probs = problems(args.limit)
    versions()  # warm the version cache outside the timings
    box = get_sandbox()

    t0 = time.perf_counter()
    plain = [plain_grade(*p) for p in probs]
    t_plain = time.perf_counter() - t0

    def ours(p: tuple[str, str, str]) -> bool:
        n, ref, tb = p
        return grade_testbench(re.sub(r"\bRefModule\b", "TopModule", ref), tb, ref).passed

    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:
        mine = list(pool.map(ours, probs))
    t_ours = time.perf_counter() - t0

    direct, boxed = [], []
    for _ in range(args.overhead_runs):
        a = time.perf_counter()
        subprocess.run(["true"])
        direct.append(time.perf_counter() - a)
        a = time.perf_counter()
        box.run(Job(argv=["true"]))
        boxed.append(time.perf_counter() - a)
    overhead_ms = (statistics.median(boxed) - statistics.median(direct)) * 1000

    result = {
        "problems": len(probs),
        "workers": args.workers,
        "cores": os.cpu_count(),
        "sandbox": describe().model_dump(),
        "plain_sequential_s": round(t_plain, 2),
        "plain_pass": sum(plain),
        "veriloop_parallel_s": round(t_ours, 2),
        "veriloop_pass": sum(mine),
        "speedup": round(t_plain / t_ours, 2),
        "median_sandbox_overhead_ms": round(overhead_ms, 1),
        "median_true_direct_ms": round(statistics.median(direct) * 1000, 1),
        "median_true_sandboxed_ms": round(statistics.median(boxed) * 1000, 1),
        "loadavg": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    mode = result["sandbox"]["mode"]
    print(f"{len(probs)} problems; sandbox {mode}; {args.workers} workers on {os.cpu_count()} cores")
    print(f"plain iverilog/vvp loop : {t_plain:7.2f} s  ({sum(plain)} pass)")
    print(f"veriloop (sandboxed)    : {t_ours:7.2f} s  ({sum(mine)} pass)")
    print(f"speedup                 : {result['speedup']:.2f}x   (target >= 1.8x)")
    print(f"median sandbox overhead : {overhead_ms:.1f} ms per job (target < 30 ms)")
    print(f"load average (1 min)    : {result['loadavg']:.2f}")


if __name__ == "__main__":
    main()
