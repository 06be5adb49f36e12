"""Stage timings of every built-in problem's evaluator on its baseline, run in the real sandbox.

Usage: .venv/bin/python bench/perf/problem_timings.py [--repeat N] [--json] [NAME ...]

Per problem: wall and CPU seconds of stage 1 and of the full stage (median of N runs; CPU time
includes the candidate's child process and the EDA tools), the baseline's combined_score next to
the listed one, and whether the full stage stays within budget: 5 s of CPU for the pure-Python
systems problems (the "5 s on 2 cores" target; wall time on a shared machine is also printed),
the problem's own stage timeout for the hardware ones.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
from typing import Any

SYSTEMS_BUDGET_S = 5.0


def _stage(sandbox: Any, problem: Any, code: str, index: int) -> tuple[float, float, dict[str, Any]]:
    from veriloop.evolve.evaluate import parse_stage, stage_job

    nonce = secrets.token_hex(16)
    timeout = problem.evaluator.stage_timeout(index)
    res = sandbox.run(stage_job(problem, code, index, nonce, timeout))
    return res.wall_s, res.cpu_s, parse_stage(res, nonce)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from veriloop.evolve.problem import load_problem
    from veriloop.problems import list_problems
    from veriloop.sandbox import describe, get_sandbox

    sandbox = get_sandbox()
    info = describe()
    rows = []
    for prob in list_problems():
        if args.names and prob.name not in args.names:
            continue
        problem = load_problem(prob.path)
        last = len(problem.stages) - 1
        s1_wall, s1_cpu, full_wall, full_cpu, scores = [], [], [], [], []
        error = None
        for _ in range(max(1, args.repeat)):
            w1, c1, p1 = _stage(sandbox, problem, problem.initial_code, 0)
            wf, cf, pf = _stage(sandbox, problem, problem.initial_code, last)
            if not (p1.get("ok") and pf.get("ok")):
                error = str(p1.get("error") or pf.get("error"))
                break
            s1_wall.append(w1)
            s1_cpu.append(c1)
            full_wall.append(wf)
            full_cpu.append(cf)
            scores.append(float(pf["metrics"].get("combined_score", 0.0)))
        budget = SYSTEMS_BUDGET_S if prob.kind == "systems" else problem.evaluator.stage_timeout(last)
        med = {
            k: (statistics.median(v) if v else None)
            for k, v in {
                "stage1_wall_s": s1_wall,
                "stage1_cpu_s": s1_cpu,
                "full_wall_s": full_wall,
                "full_cpu_s": full_cpu,
            }.items()
        }
        measured = med["full_cpu_s"] if prob.kind == "systems" else med["full_wall_s"]
        row: dict[str, Any] = {
            "problem": prob.name,
            "kind": prob.kind,
            "error": error,
            **med,
            "budget_s": budget,
            "within_budget": measured is not None and measured <= budget,
            "baseline_score": statistics.median(scores) if scores else None,
            "listed_baseline": prob.baseline_score,
        }
        rows.append(row)
        if args.json:
            continue
        if error:
            print(f"{prob.name:22s} ERROR {error}")
            continue
        print(
            f"{prob.name:22s} stage1 {med['stage1_wall_s']:5.2f} s wall {med['stage1_cpu_s']:5.2f} s cpu | "
            f"full {med['full_wall_s']:5.2f} s wall {med['full_cpu_s']:5.2f} s cpu | budget {budget:4.0f} s "
            f"{'ok  ' if row['within_budget'] else 'OVER'} | score {row['baseline_score']:.4f} "
            f"(listed {prob.baseline_score})"
        )
    if args.json:
        print(json.dumps({"sandbox": info.model_dump(), "problems": rows}, indent=2))
    else:
        print(f"sandbox: {info.mode} (contained={info.contained}); medians of {args.repeat} run(s)")
    return 0 if all(r["within_budget"] and not r["error"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
