"""Runs INSIDE the OpenEvolve venv (bench/perf/.openevolve-venv): one OpenEvolve run or a sampling probe.

    python evolve_oe_driver.py run PROBLEM_DIR BASE_URL ITERATIONS WORKERS OUT_DIR
    python evolve_oe_driver.py sample N [REPEATS]
    python evolve_oe_driver.py evolve SETTINGS_JSON

`run` and `sample` print one JSON line with the measured figures (bench/perf/evolve_vs_openevolve.py).
`evolve` (bench/real_model/evolve_vs_openevolve.py) takes its settings from a JSON file (problem,
initial program, base URL, model, iterations, reply cap, temperature, timeouts, ...), runs
OpenEvolve's controller on them and writes `oe_result.json` beside the settings: the initial
program's metrics, one outcome per iteration (the LLM error or the diff failure OpenEvolve
reported, or the child program's metrics), and the best program.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import time
from pathlib import Path
from typing import Any


def write_config(out_dir: Path, s: dict[str, Any]) -> Path:
    """An OpenEvolve config file from settings (JSON is valid YAML); unset keys keep OpenEvolve's defaults."""
    llm: dict[str, Any] = {
        "api_base": s["base_url"],
        "api_key": s.get("api_key", "sk-fake"),
        "timeout": s.get("timeout", 60),
        "retries": s.get("retries", 1),
        "models": [{"name": s.get("model", "fake-model"), "weight": 1.0}],
    }
    for key in ("max_tokens", "temperature", "retry_delay"):
        if s.get(key) is not None:
            llm[key] = s[key]
    cfg: dict[str, Any] = {
        "max_iterations": s["iterations"],
        "checkpoint_interval": 1000000,
        "log_level": s.get("log_level", "WARNING"),
        "diff_based_evolution": True,
        "random_seed": s.get("seed", 0),
        "llm": llm,
        "database": {
            "num_islands": s.get("num_islands", 2),
            "in_memory": True,
            "log_prompts": s.get("log_prompts", False),
        },
        "evaluator": {
            "parallel_evaluations": s.get("workers", 1),
            "cascade_evaluation": bool(s.get("cascade_thresholds")),
            "timeout": s.get("eval_timeout", 60),
        },
    }
    if s.get("cascade_thresholds"):
        cfg["evaluator"]["cascade_thresholds"] = s["cascade_thresholds"]
    if s.get("language"):
        cfg["language"] = s["language"]
    if s.get("system_message"):
        cfg["prompt"] = {"system_message": s["system_message"]}
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    path = Path(out_dir) / "oe_config.yaml"
    path.write_text(json.dumps(cfg, indent=1), encoding="utf-8")
    return path


def run(problem: str, base_url: str, iterations: int, workers: int, out_dir: str) -> None:
    from openevolve.api import run_evolution

    cfg = write_config(Path(out_dir), {"base_url": base_url, "iterations": iterations, "workers": workers})
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


_ITER_ERROR = re.compile(
    r"^Iteration (\d+) error: (.*?)(?: \| tokens: (\d+) \(prompt: (\d+), completion: (\d+)\))?$", re.S
)


class _IterationLog(logging.Handler):
    """Keeps the 'Iteration N error: ...' lines OpenEvolve's process controller logs (main process)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.errors: dict[int, dict[str, Any]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        m = _ITER_ERROR.match(record.getMessage())
        if m:
            self.errors[int(m.group(1))] = {
                "error": m.group(2)[:500],
                "llm_reply": m.group(3) is not None,
                "prompt_tokens": int(m.group(4) or 0),
                "completion_tokens": int(m.group(5) or 0),
            }


def evolve(settings_path: str) -> None:
    from openevolve.config import load_config
    from openevolve.controller import OpenEvolve

    s = json.loads(Path(settings_path).read_text(encoding="utf-8"))
    out = Path(settings_path).parent
    cfg = write_config(out, s | {"log_level": s.get("log_level", "INFO"), "log_prompts": True})
    log = _IterationLog()
    logging.getLogger("openevolve.process_parallel").addHandler(log)
    t0 = time.monotonic()
    ctl = OpenEvolve(
        initial_program_path=s["initial_program"],
        evaluation_file=s["evaluator"],
        config=load_config(str(cfg)),
        output_dir=str(out / "oe_out"),
    )
    asyncio.run(ctl.run(iterations=s["iterations"]))
    wall = time.monotonic() - t0
    db = ctl.database
    programs = list(db.programs.values())
    initial = next((p for p in programs if p.iteration_found == 0 and p.parent_id is None), None)
    rows: list[dict[str, Any]] = []
    children = [p for p in programs if p.parent_id and not (p.metadata or {}).get("migrant")]
    by_iter = {p.iteration_found: p for p in children}
    logged = db.prompts_by_program or {}
    for it in range(1, s["iterations"] + 1):
        p = by_iter.get(it)
        if p is not None:
            usage = (p.metadata or {}).get("token_usage") or {}
            parent = db.programs.get(p.parent_id)
            rows.append(
                {
                    "iteration": it,
                    "child": True,
                    "metrics": p.metrics,
                    "parent_score": (parent.metrics or {}).get("combined_score") if parent else None,
                    "llm_reply": bool(usage),
                    "prompt_tokens": int(usage.get("prompt_tokens") or 0),
                    "completion_tokens": int(usage.get("completion_tokens") or 0),
                    "reply": logged.get(p.id, {}).get("diff_user", {}).get("responses"),
                }
            )
        else:
            err = log.errors.get(it, {"error": "no result recorded"})
            rows.append({"iteration": it, "child": False} | err)
    best = db.get(db.best_program_id) if db.best_program_id else db.get_best_program()
    result = {
        "wall_s": wall,
        "initial_metrics": initial.metrics if initial else None,
        "iterations": rows,
        "best_metrics": best.metrics if best else None,
        "best_iteration": best.iteration_found if best else None,
        "best_code": best.code if best else None,
        "config": json.loads(cfg.read_text(encoding="utf-8")),
    }
    (out / "oe_result.json").write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    print(json.dumps({"wall_s": wall, "iterations": s["iterations"]}))


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
    elif sys.argv[1] == "evolve":
        evolve(sys.argv[2])
    else:
        sample(int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 5)
