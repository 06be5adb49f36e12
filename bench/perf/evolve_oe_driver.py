"""Runs INSIDE the OpenEvolve venv (bench/perf/.openevolve-venv): one OpenEvolve run or a sampling probe.

    python evolve_oe_driver.py run PROBLEM_DIR BASE_URL ITERATIONS WORKERS OUT_DIR
    python evolve_oe_driver.py sample N [REPEATS]

Prints one JSON line with the measured figures.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path


def run(problem: str, base_url: str, iterations: int, workers: int, out_dir: str) -> None:
    from openevolve.api import run_evolution

    cfg = Path(out_dir) / "oe_config.yaml"
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    cfg.write_text(
        f"max_iterations: {iterations}\ncheckpoint_interval: 1000000\nlog_level: WARNING\n"
        "diff_based_evolution: true\nrandom_seed: 0\n"
        f"llm:\n  api_base: {base_url}\n  api_key: sk-fake\n  timeout: 60\n  retries: 1\n"
        "  models:\n    - name: fake-model\n      weight: 1.0\n"
        "database:\n  num_islands: 2\n  in_memory: true\n  log_prompts: false\n"
        f"evaluator:\n  parallel_evaluations: {workers}\n  cascade_evaluation: false\n  timeout: 60\n",
        encoding="utf-8",
    )
    logging.disable(logging.WARNING)
    t0 = time.monotonic()
    run_evolution(
        str(Path(problem) / "initial_program.py"),
        str(Path(problem) / "evaluator.py"),
        config=str(cfg),
        iterations=iterations,
        output_dir=str(Path(out_dir) / "oe_out"),
        cleanup=False,
    )
    print(json.dumps({"wall_s": time.monotonic() - t0, "iterations": iterations}))


def sample(n: int, repeats: int) -> None:
    from openevolve.config import DatabaseConfig
    from openevolve.database import Program, ProgramDatabase

    db = ProgramDatabase(DatabaseConfig(in_memory=True, num_islands=5, log_prompts=False))
    t0 = time.monotonic()
    for i in range(n):
        code = f"def f():\n    a = {i}\n    return a * {i % 13}\n" + "# pad\n" * (i % 17)
        db.add(Program(id=f"p{i}", code=code, metrics={"combined_score": float((i * 37) % 101)}))
    fill = time.monotonic() - t0
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        db.sample()
        times.append(time.perf_counter() - t)
    print(json.dumps({"n": n, "fill_s": fill, "sample_s": sorted(times)[len(times) // 2]}))


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    else:
        sample(int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 5)
