"""veriloop evolve vs OpenEvolve 0.4.0: throughput, peak memory and parent-sampling time, as ratios.

Run from the repo root:  .venv/bin/python bench/perf/evolve_vs_openevolve.py [--quick] [--json]

It creates bench/perf/.openevolve-venv (gitignored) with openevolve==0.4.0 from PyPI on first use,
starts ONE fake OpenAI server (veriloop.testing.fake_openai) and points both frameworks at it, on
the same trivial problem (bench/perf/evolve_perf_problem.py). Figures printed:
  - 500 ms LLM latency: OpenEvolve it/s with 1/2/4/8 workers, veriloop it/s, peak RSS of each
    process tree (sampled from /proc), and the ratios against the issue's targets
    (>= 4x OpenEvolve's 8-worker throughput with <= half its memory);
  - 0 ms latency, trivial evaluator: OpenEvolve with 2 workers vs veriloop (target >= 2x);
  - parent sampling time of veriloop's database at 1k/5k/20k programs (target < 5 ms at 20k),
    and OpenEvolve's at 1k (5k with --oe-sampling-5k: it can take seconds per sample).
veriloop runs twice per latency, in the same run: `--isolation warm` (the default: long-lived
bubblewrap workers fork a fresh child per stage) and `--isolation per-candidate` (a fresh sandbox
per stage); OpenEvolve evaluates in its worker processes. Each target prints PASS or FAIL.
Wall times include each framework's start-up. The machine's load is printed:
on a shared machine the figures are noisy, compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

from evolve_perf_problem import responder, write_problem  # noqa: E402
from oe_venv import OE_PY, ensure_openevolve  # noqa: E402

TARGETS = {
    "memory_pss_vs_oe8": 0.5,
    "throughput_500ms_vs_oe8": 4.0,
    "memory_vs_oe8": 0.5,
    "throughput_0ms_vs_oe2": 2.0,
    "sampling_20k_ms": 5.0,
}
ISSUE_BASELINE = {"oe_500ms": {1: 1.75, 2: 3.3, 4: 5.9, 8: 8.6}, "oe_0ms_2w": 31.0}


def _field(path: str, key: str) -> int:
    """A kB field of a /proc file, in bytes (0 when the process is gone)."""
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


class TreeRSS:
    """Samples the summed RSS of a process and all its descendants (from /proc) every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat", "rb") as fh:
                    stat = fh.read().decode(errors="replace")
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d))
        out, todo = [], [self.pid]
        while todo:
            p = todo.pop()
            out.append(p)
            todo.extend(children.get(p, []))
        return out

    def _loop(self) -> None:
        while not self._stop.is_set():
            rss = pss = 0
            for p in self._tree():
                rss += _field(f"/proc/{p}/status", "VmRSS:")
                pss += _field(f"/proc/{p}/smaps_rollup", "Pss:")
            self.peak = max(self.peak, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self._stop.wait(0.05)

    def stop(self) -> tuple[int, int]:
        """(peak summed RSS, peak summed PSS): PSS splits shared pages fairly between processes."""
        self._stop.set()
        self._thread.join()
        return self.peak, self.peak_pss


def _timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, tuple[int, int], str]:
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rss = TreeRSS(proc.pid)
    out, err = proc.communicate()
    wall = time.monotonic() - t0
    peak = rss.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:4]} failed ({proc.returncode}): {err[-1500:]}")
    return wall, peak, out


def run_openevolve(problem: Path, base_url: str, iterations: int, workers: int, work: Path) -> dict[str, Any]:
    out_dir = work / f"oe-{workers}-{time.monotonic_ns()}"
    out_dir.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "OPENAI_API_KEY": "sk-fake"}
    wall, peak, _ = _timed(
        [
            str(OE_PY),
            str(HERE / "evolve_oe_driver.py"),
            "run",
            str(problem),
            base_url,
            str(iterations),
            str(workers),
            str(out_dir),
        ],
        out_dir,
        env,
    )
    return {
        "iterations": iterations,
        "wall_s": round(wall, 2),
        "it_per_s": round(iterations / wall, 2),
        "peak_rss_mb": round(peak[0] / 2**20, 1),
        "peak_pss_mb": round(peak[1] / 2**20, 1),
    }


def run_veriloop(
    problem: Path,
    server: Any,
    iterations: int,
    work: Path,
    llm_concurrency: int,
    eval_workers: int,
    isolation: str = "warm",
) -> dict[str, Any]:
    from veriloop.testing.fake_openai import write_config

    cwd = work / f"vl-{time.monotonic_ns()}"
    cwd.mkdir()
    # The backend's own connection bound (default 8) must not cap --llm-concurrency.
    write_config(cwd, server, max_concurrency=llm_concurrency)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "FAKE_KEY": "sk-fake",
        "VERILOOP_DATA_DIR": str(cwd / "data"),
        "COLUMNS": "200",
    }
    wall, peak, out = _timed(
        [
            sys.executable,
            "-m",
            "veriloop.cli",
            "evolve",
            str(problem),
            "-b",
            "fake",
            "-n",
            str(iterations),
            "--seed",
            "0",
            "--json",
            "--llm-concurrency",
            str(llm_concurrency),
            "--eval-workers",
            str(eval_workers),
            "--isolation",
            isolation,
        ],
        cwd,
        env,
    )
    summary = json.loads(out)
    return {
        "iterations": iterations,
        "wall_s": round(wall, 2),
        "it_per_s": round(iterations / wall, 2),
        "peak_rss_mb": round(peak[0] / 2**20, 1),
        "peak_pss_mb": round(peak[1] / 2**20, 1),
        "evaluated": summary["stats"]["by_status"].get("evaluated", 0),
        "faults": summary["stats"]["faults"],
        "executor": summary["stats"].get("executor", {}),
    }


def veriloop_sampling(n: int, work: Path, repeats: int = 300) -> dict[str, Any]:
    """Median time of sample() + fetching the parent and inspirations, after n programs."""
    from veriloop.evolve.database import DatabaseConfig, IterationRow, ProgramDatabase, ProgramRow

    db = ProgramDatabase(work / f"sampling-{n}.sqlite", DatabaseConfig(num_islands=5, feature_bins=10))
    t0 = time.monotonic()
    for i in range(n):
        code = f"def f():\n    a = {i}\n    return a * {i % 13}\n" + "# pad\n" * (i % 17)
        score = float((i * 37) % 101)
        p = ProgramRow(
            id=f"p{i:06d}",
            iteration=i,
            island=i % 5,
            code=code,
            code_hash=f"h{i}",
            metrics={"combined_score": score},
            combined_score=score,
            features={"combined_score": score, "code_length": float(len(code))},
        )
        db.record(IterationRow(iteration=i, status="evaluated", program_id=p.id), p)
        db.apply(p, i)
        db.count_applied(i)
    fill = time.monotonic() - t0
    rng = random.Random(0)
    times = []
    for k in range(repeats):
        t = time.perf_counter()
        parent, insps = db.sample(k % 5, rng)
        assert parent is not None
        db.get(parent)
        for i in insps:
            db.get(i)
        times.append(time.perf_counter() - t)
    db.close()
    return {
        "n": n,
        "fill_s": round(fill, 2),
        "sample_ms": round(statistics.median(times) * 1000, 3),
        "p99_ms": round(sorted(times)[int(len(times) * 0.99) - 1] * 1000, 3),
    }


def oe_sampling(n: int, work: Path, repeats: int) -> dict[str, Any]:
    res = subprocess.run(
        [str(OE_PY), str(HERE / "evolve_oe_driver.py"), "sample", str(n), str(repeats)],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if res.returncode != 0:
        return {"n": n, "error": res.stderr[-500:]}
    data = json.loads(res.stdout.strip().splitlines()[-1])
    return {"n": n, "fill_s": round(data["fill_s"], 2), "sample_ms": round(data["sample_s"] * 1000, 3)}


def _both_modes(
    label: str, problem: Path, srv: Any, n: int, work: Path, args: argparse.Namespace
) -> tuple[dict[str, Any], dict[str, Any]]:
    """veriloop with warm workers (default) and with one sandbox per stage, same server, same run."""
    out = []
    for isolation, workers in (
        ("warm", args.eval_workers),
        ("per-candidate", args.eval_workers_per_candidate),
    ):
        r = run_veriloop(problem, srv, n, work, args.llm_concurrency, workers, isolation)
        ex = r.get("executor") or {}
        print(
            f"[{label}] veriloop --isolation {isolation} (llm {args.llm_concurrency}, eval {workers}): "
            f"{r['it_per_s']} it/s, peak RSS {r['peak_rss_mb']} MB (PSS {r['peak_pss_mb']} MB)"
            + (f", workers started {ex.get('started')}" if isolation == "warm" else ""),
            flush=True,
        )
        out.append(r)
    return out[0], out[1]


def _ratios(
    vl: dict[str, Any],
    vl0: dict[str, Any],
    oe8: float,
    oe8_mem: float,
    oe8_pss: float,
    oe2_0: float,
    sampling_ms: float,
) -> dict[str, float]:
    return {
        "throughput_500ms_vs_oe8": round(vl["it_per_s"] / oe8, 2),
        "memory_vs_oe8": round(vl["peak_rss_mb"] / oe8_mem, 2),
        "memory_pss_vs_oe8": round(vl["peak_pss_mb"] / oe8_pss, 2),
        "throughput_0ms_vs_oe2": round(vl0["it_per_s"] / oe2_0, 2),
        "sampling_20k_ms": sampling_ms,
    }


def _print_ratios(ratios: dict[str, float]) -> None:
    for key, val in ratios.items():
        target = TARGETS[key]
        low = key.startswith("memory") or key.startswith("sampling")
        ok = val <= target if low else val >= target
        op = "<=" if low else ">="
        print(f"  {key:26s} {val:>8} (target {op} {target}) {'PASS' if ok else 'FAIL'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations (noisier)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    ap.add_argument(
        "--skip-openevolve", action="store_true", help="compare with the issue's OpenEvolve figures"
    )
    ap.add_argument("--oe-sampling-5k", action="store_true", help="also time OpenEvolve sampling at 5,000")
    ap.add_argument("--llm-concurrency", type=int, default=64)
    ap.add_argument(
        "--eval-workers",
        type=int,
        default=os.cpu_count() or 2,
        help="veriloop warm sandboxed workers (each evaluation is a fork: one per core is plenty)",
    )
    ap.add_argument(
        "--eval-workers-per-candidate",
        type=int,
        default=4 * (os.cpu_count() or 2),
        help="evaluations in flight with --isolation per-candidate (mostly sandbox start-up latency)",
    )
    args = ap.parse_args()
    from veriloop.testing.fake_openai import FakeOpenAIServer

    scale = 0.5 if args.quick else 1.0
    res: dict[str, Any] = {"load_avg": os.getloadavg(), "cpus": os.cpu_count()}
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (shared machines are noisy)"
    )
    if not args.skip_openevolve:
        ensure_openevolve()
    with tempfile.TemporaryDirectory(prefix="veriloop-evolve-perf-") as tmp:
        work = Path(tmp)
        problem = write_problem(work)
        with FakeOpenAIServer(responder=responder(), latency_s=0.5) as srv:
            oe: dict[int, dict[str, Any]] = {}
            if not args.skip_openevolve:
                for w in (1, 2, 4, 8):
                    n = max(8, int({1: 16, 2: 24, 4: 40, 8: 64}[w] * scale))
                    oe[w] = run_openevolve(problem, srv.base_url, n, w, work)
                    print(
                        f"[500 ms] OpenEvolve {w} worker(s): {oe[w]['it_per_s']} it/s, "
                        f"peak RSS {oe[w]['peak_rss_mb']} MB (PSS {oe[w]['peak_pss_mb']} MB)",
                        flush=True,
                    )
            vl, vl_pc = _both_modes("500 ms", problem, srv, max(40, int(200 * scale)), work, args)
        res["latency_500ms"] = {"openevolve": oe, "veriloop": vl, "veriloop_per_candidate": vl_pc}
        with FakeOpenAIServer(responder=responder(), latency_s=0.0) as srv:
            oe0 = None
            if not args.skip_openevolve:
                oe0 = run_openevolve(problem, srv.base_url, max(20, int(120 * scale)), 2, work)
                print(f"[0 ms] OpenEvolve 2 workers: {oe0['it_per_s']} it/s", flush=True)
            vl0, vl0_pc = _both_modes("0 ms", problem, srv, max(40, int(200 * scale)), work, args)
        res["latency_0ms"] = {"openevolve_2w": oe0, "veriloop": vl0, "veriloop_per_candidate": vl0_pc}
        samp = [veriloop_sampling(n, work) for n in (1000, 5000, 20000)]
        for s in samp:
            print(
                f"[sampling] veriloop at {s['n']}: median {s['sample_ms']} ms (p99 {s['p99_ms']} ms)",
                flush=True,
            )
        oes = []
        if not args.skip_openevolve:
            oes.append(oe_sampling(1000, work, 5))
            if args.oe_sampling_5k:
                oes.append(oe_sampling(5000, work, 3))
            for s in oes:
                print(
                    f"[sampling] OpenEvolve at {s['n']}: {s.get('sample_ms', s.get('error'))} ms", flush=True
                )
        res["sampling"] = {"veriloop": samp, "openevolve": oes}

    oe8 = oe.get(8, {}).get("it_per_s") or ISSUE_BASELINE["oe_500ms"][8]
    oe8_mem = oe.get(8, {}).get("peak_rss_mb") or 65.0 * 8
    oe8_pss = oe.get(8, {}).get("peak_pss_mb") or 65.0 * 8
    oe2_0 = (oe0 or {}).get("it_per_s") or ISSUE_BASELINE["oe_0ms_2w"]
    res["ratios"] = ratios = _ratios(vl, vl0, oe8, oe8_mem, oe8_pss, oe2_0, samp[-1]["sample_ms"])
    res["ratios_per_candidate"] = _ratios(vl_pc, vl0_pc, oe8, oe8_mem, oe8_pss, oe2_0, samp[-1]["sample_ms"])
    src = "issue figures" if args.skip_openevolve else "measured in this run"
    print(f"\nratios (OpenEvolve baseline: {src}; veriloop --isolation warm, the default)")
    _print_ratios(ratios)
    print("same ratios with --isolation per-candidate (one fresh sandbox per stage; the old default)")
    _print_ratios(res["ratios_per_candidate"])
    if args.json:
        print(json.dumps(res, indent=2, default=str))


if __name__ == "__main__":
    main()
