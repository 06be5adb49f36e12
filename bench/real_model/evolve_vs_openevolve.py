"""veriloop evolve vs OpenEvolve 0.4.0 with a real local model: same problem, model, server and LLM calls.

Run from the repo root, with a model server up (e.g. `veriloop llm serve`; issue 14):

    .venv/bin/python bench/real_model/evolve_vs_openevolve.py --calls 12 --json out.json

Both frameworks get the same problem directory (default: veriloop's built-in `rtl_ppa`, whose
`evaluator.py` is an OpenEvolve-style `evaluate(program_path)` that both run unchanged; the score
is the cells x depth ratio against the behavioural popcount16 after a SAT equivalence proof), the
same model on the same server, the same number of LLM calls N, the same reply cap (max_tokens) and
temperature, and one LLM request in flight at a time:
  - veriloop: `veriloop evolve -n N --llm-concurrency 1 --eval-workers 1` (one LLM call per
    iteration; the initial program is evaluated without a call), reply cap set by
    `[backends.X.max_tokens] evolve = ...`;
  - OpenEvolve: `max_iterations = N` with one worker (one call per iteration; the initial program
    is evaluated without a call), `llm.max_tokens`, `llm.temperature`, `llm.timeout` from the flags,
    `language` and the cascade thresholds and island count from the problem, the problem's
    description as its system message. It runs in bench/perf/.openevolve-venv (made on first use).
Each framework talks to the server through its own metering proxy (llm_meter.py), which counts
every HTTP exchange, the server's token usage, cut-off replies (finish_reason=length) and the time
spent in calls, whatever the framework's own retries do (while the server is down or restarting
the proxy holds and re-sends the request, so an outage costs neither framework a call). The
script also reads each run's own count (veriloop's run database and ledger, OpenEvolve's
per-iteration log) and warns when the counts of replies differ from N.

Per framework it reports: initial and best score, the call that found the best, LLM replies,
calls whose reply parsed into an edit that applied to the parent ("applied"), of those the ones
the evaluator accepted ("valid": evaluated without error and valid = 1), rejected candidates,
replies with no usable edit (and why), duplicates, tokens, time in LLM calls and wall time. The
exchanges (prompts, replies) and both runs' outputs are kept under --work; `--report WORK...`
prints the table again from kept runs (e.g. when each framework was run alone with --only).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "perf"))

from llm_meter import MeteringProxy, summarize  # noqa: E402
from oe_venv import OE_PY, ensure_openevolve  # noqa: E402  (bench/perf)

OE_DRIVER = HERE.parent / "perf" / "evolve_oe_driver.py"


def wait_for_server(base_url: str, limit_s: float = 600.0) -> None:
    """Poll GET /models until the server answers (it may be restarting)."""
    deadline = time.monotonic() + limit_s
    while True:
        try:
            with urllib.request.urlopen(base_url.rstrip("/") + "/models", timeout=10) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the model server at {base_url} did not answer for {limit_s:.0f} s")
        print("waiting for the model server ...", flush=True)
        time.sleep(10)


def _valid(metrics: dict[str, Any] | None) -> bool:
    """The evaluator accepted the candidate: a score and no rejection (`valid` = 1 where reported)."""
    if not metrics:
        return False
    score = metrics.get("combined_score")
    if not isinstance(score, int | float) or "error" in metrics:
        return False
    return float(metrics.get("valid", 1.0)) >= 1.0


def _tally(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    kinds = Counter(o["outcome"] for o in outcomes)
    return {
        "applied": kinds["valid"] + kinds["rejected"] + kinds["duplicate"],
        "valid": kinds["valid"],
        "rejected": kinds["rejected"],
        "duplicate": kinds["duplicate"],
        "no_edit": kinds["no_edit"],
        "llm_error": kinds["llm_error"],
        "no_edit_reasons": dict(Counter(o["reason"] for o in outcomes if o["outcome"] == "no_edit")),
        "reject_reasons": dict(Counter(o["reason"] for o in outcomes if o["outcome"] == "rejected")),
    }


def _best(initial: float | None, outcomes: list[dict[str, Any]]) -> tuple[float | None, int]:
    best, at = initial, 0
    for o in outcomes:
        if o["outcome"] == "valid" and o["score"] is not None and (best is None or o["score"] > best):
            best, at = o["score"], o["iteration"]
    return best, at


def run_and_save(work: Path, name: str, argv: list[str], env: dict[str, str], meter: MeteringProxy) -> None:
    """Run one framework under `work/name`, keep its output, wall time and metered exchanges.

    What only the driving process knows (wall time, exchanges) goes to `work/{name}-run.json`, so
    the collect_* functions can rebuild the figures from disk later; a failed run stops the script.
    """
    d = work / name
    t0 = time.monotonic()
    proc = subprocess.run(argv, cwd=d, env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    (d / "stdout.txt").write_text(proc.stdout, encoding="utf-8")
    (d / "stderr.txt").write_text(proc.stderr, encoding="utf-8")
    raw = {"wall_s": round(wall, 1), "exchanges": list(meter.calls)}
    (work / f"{name}-run.json").write_text(json.dumps(raw, indent=1), encoding="utf-8")
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed ({proc.returncode}): {proc.stderr[-2000:]}")


# ------------------------------------------------------------------------------------------ veriloop
def run_veriloop(args: argparse.Namespace, problem: Path, work: Path) -> dict[str, Any]:
    d = work / "veriloop"
    d.mkdir(parents=True, exist_ok=True)
    with MeteringProxy(args.upstream) as meter:
        cfg = d / "veriloop.toml"
        cfg.write_text(
            f'data_dir = "{d / "data"}"\n'
            "[backends.real]\n"
            'kind = "openai"\n'
            f'base_url = "{meter.base_url}"\n'
            f'model = "{args.model}"\n'
            "max_concurrency = 1\n"
            f"timeout_s = {float(args.timeout)}\n"
            f"retries = {args.retries}\n"
            f"context_tokens = {args.context}\n"
            "[backends.real.max_tokens]\n"
            f"evolve = {args.max_tokens}\n",
            encoding="utf-8",
        )
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(d),
            "VERILOOP_DATA_DIR": str(d / "data"),
            "COLUMNS": "200",
            # PYTHONPATH passes through so a checkout other than the installed one can be measured.
            **({"PYTHONPATH": os.environ["PYTHONPATH"]} if os.environ.get("PYTHONPATH") else {}),
        }
        argv = [
            sys.executable, "-m", "veriloop.cli", "--config", str(cfg), "evolve", str(problem),
            "-b", "real", "-n", str(args.calls), "--seed", str(args.seed), "--json",
            "--llm-concurrency", "1", "--eval-workers", "1",
        ]  # fmt: skip
        run_and_save(work, "veriloop", argv, env, meter)
    return collect_veriloop(work)


def collect_veriloop(work: Path) -> dict[str, Any]:
    """veriloop's figures from a finished run under `work` (its summary, run database, exchanges)."""
    d = work / "veriloop"
    raw = json.loads((work / "veriloop-run.json").read_text(encoding="utf-8"))
    calls, wall = raw["exchanges"], raw["wall_s"]
    summary = json.loads((d / "stdout.txt").read_text(encoding="utf-8"))
    conn = sqlite3.connect(Path(summary["run_dir"]) / "programs.sqlite")
    rows = conn.execute(
        "SELECT i.iteration, i.status, i.fault, i.detail, i.prompt_tokens, i.completion_tokens, "
        "i.retries, p.metrics, p.artifacts FROM iterations i LEFT JOIN programs p ON p.id = i.program_id "
        "ORDER BY i.iteration"
    ).fetchall()
    conn.close()
    initial: float | None = None
    outcomes: list[dict[str, Any]] = []
    own_calls = own_pt = own_ct = 0
    for it, status, fault, detail_s, pt, ct, _retries, metrics_s, arts_s in rows:
        detail = (detail_s or "")[:300]
        metrics = json.loads(metrics_s) if metrics_s else None
        if it == 0:
            initial = (metrics or {}).get("combined_score")
            continue
        if status != "llm_error":
            own_calls += 1
        own_pt, own_ct = own_pt + pt, own_ct + ct
        score = (metrics or {}).get("combined_score")
        if status == "llm_error":
            kind, reason = "llm_error", fault or "llm_error"
        elif status == "edit_failed":
            kind, reason = "no_edit", fault or "edit_failed"
        elif status == "duplicate":
            kind, reason = "duplicate", "duplicate"
        elif _valid(metrics) and status == "evaluated":
            kind, reason = "valid", ""
        else:
            arts = json.loads(arts_s) if arts_s else {}
            kind, reason = "rejected", str(arts.get("rejected") or fault or "eval_failed")[:80]
        outcomes.append(
            {"iteration": it, "outcome": kind, "reason": reason, "score": score, "detail": detail}
        )
    best, at = _best(initial, outcomes)
    usage = summary["stats"].get("usage", {})
    return {
        "framework": "veriloop",
        "initial_score": initial,
        "best_score": summary["best_score"],
        "best_score_from_outcomes": best,
        "best_at_call": at,
        "wall_s": round(wall, 1),
        "meter": summarize(calls),
        "own_count": {
            "iterations": summary["iterations_done"] - 1,
            "llm_replies": own_calls,
            "ledger_calls": usage.get("calls"),
            "ledger_failures": usage.get("failures"),
            "ledger_retries": usage.get("retries"),
            "prompt_tokens": own_pt,
            "completion_tokens": own_ct,
        },
        "tally": _tally(outcomes),
        "outcomes": outcomes,
        "exchanges": calls,
        "run_dir": summary["run_dir"],
        "stop_reason": summary["stop_reason"],
    }


# ---------------------------------------------------------------------------------------- OpenEvolve
def run_openevolve(args: argparse.Namespace, problem: Path, work: Path) -> dict[str, Any]:
    from veriloop.evolve.problem import load_problem

    prob = load_problem(problem)
    d = work / "openevolve"
    d.mkdir(parents=True, exist_ok=True)
    initial = next(p for p in problem.iterdir() if p.name.startswith("initial_program."))
    system = (
        f"You are improving a {prob.language} program by evolution; an evaluator scores every "
        f"candidate (higher combined_score is better).\n\n{prob.description}\n"
        + (f"\nWorkload: {prob.workload}\n" if prob.workload else "")
    )
    with MeteringProxy(args.upstream) as meter:
        settings = {
            "initial_program": str(initial),
            "evaluator": str(problem / "evaluator.py"),
            "base_url": meter.base_url,
            "model": args.model,
            "api_key": "sk-local",
            "iterations": args.calls,
            "max_tokens": args.max_tokens,
            "temperature": args.temperature,
            "timeout": int(args.timeout),
            "retries": args.retries,
            "retry_delay": 10,
            "workers": 1,
            "seed": args.seed,
            "num_islands": prob.evolution.num_islands,
            "cascade_thresholds": prob.evaluator.cascade_thresholds,
            "eval_timeout": int(max(prob.evaluator.timeout_s, *prob.evaluator.stage_timeouts, 1)),
            "language": prob.language,
            "system_message": system,
        }
        (d / "settings.json").write_text(json.dumps(settings, indent=1), encoding="utf-8")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(d), "OPENAI_API_KEY": "sk-local"}
        run_and_save(
            work, "openevolve", [str(OE_PY), str(OE_DRIVER), "evolve", str(d / "settings.json")], env, meter
        )
    return collect_openevolve(work)


def collect_openevolve(work: Path) -> dict[str, Any]:
    """OpenEvolve's figures from a finished run under `work` (the driver's oe_result.json, exchanges)."""
    d = work / "openevolve"
    raw = json.loads((work / "openevolve-run.json").read_text(encoding="utf-8"))
    calls, wall = raw["exchanges"], raw["wall_s"]
    res = json.loads((d / "oe_result.json").read_text(encoding="utf-8"))
    outcomes: list[dict[str, Any]] = []
    for row in res["iterations"]:
        it = row["iteration"]
        if row["child"]:
            m = row["metrics"] or {}
            ok = _valid(m)
            reason = "" if ok else str(m.get("error") or "valid=0")[:80]
            outcomes.append(
                {"iteration": it, "outcome": "valid" if ok else "rejected", "reason": reason,
                 "score": m.get("combined_score"), "detail": ""}
            )  # fmt: skip
            continue
        err = str(row.get("error") or "")
        kind = "llm_error" if err.startswith("LLM ") or not row.get("llm_reply") else "no_edit"
        reason = err.split(":")[0][:80] if kind == "llm_error" else _oe_reason(err)
        outcomes.append(
            {"iteration": it, "outcome": kind, "reason": reason, "score": None, "detail": err[:300]}
        )
    init = (res["initial_metrics"] or {}).get("combined_score")
    best, at = _best(init, outcomes)
    rows = res["iterations"]
    return {
        "framework": "OpenEvolve 0.4.0",
        "initial_score": init,
        "best_score": (res["best_metrics"] or {}).get("combined_score"),
        "best_score_from_outcomes": best,
        "best_at_call": at,
        "wall_s": round(wall, 1),
        "meter": summarize(calls),
        "own_count": {
            "iterations": len(rows),
            "llm_replies": sum(1 for r in rows if r.get("llm_reply")),
            "prompt_tokens": sum(int(r.get("prompt_tokens") or 0) for r in rows),
            "completion_tokens": sum(int(r.get("completion_tokens") or 0) for r in rows),
        },
        "tally": _tally(outcomes),
        "outcomes": outcomes,
        "exchanges": calls,
        "run_dir": str(d),
        "config": res["config"],
    }


def _oe_reason(err: str) -> str:
    """A short class for OpenEvolve's iteration errors (process_parallel's wording, 0.4.0)."""
    if "Unmatched SEARCH/REPLACE delimiter" in err or "Malformed SEARCH/REPLACE" in err:
        return "malformed diff (stray or extra marker line)"
    if "No valid diffs" in err:
        return "no SEARCH/REPLACE block"
    if "SEARCH block(s) matched" in err:
        return "SEARCH text not in the parent"
    if "did not change" in err:
        return "edit changes nothing"
    if "exceeds maximum length" in err:
        return "too long"
    return err[:60]


# ---------------------------------------------------------------------------------------- report
def _fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def table(results: list[dict[str, Any]], calls: int) -> str:
    """A markdown table: one column per framework."""
    lines: list[tuple[str, list[Any]]] = [
        ("initial program score", [r["initial_score"] for r in results]),
        ("best score reached", [r["best_score"] for r in results]),
        ("call that found the best (0 = initial)", [r["best_at_call"] for r in results]),
        (f"LLM replies (budget {calls}; metered)", [r["meter"]["replies"] for r in results]),
        ("HTTP requests (incl. failed/retried)", [r["meter"]["http_requests"] for r in results]),
        ("the run's own count of replies", [r["own_count"]["llm_replies"] for r in results]),
        ("replies cut off at max_tokens", [r["meter"]["cut_off_replies"] for r in results]),
        ("calls with an applied edit", [r["tally"]["applied"] for r in results]),
        ("  of which evaluated valid", [r["tally"]["valid"] for r in results]),
        ("  of which rejected by the evaluator", [r["tally"]["rejected"] for r in results]),
        ("  of which duplicates (not evaluated)", [r["tally"]["duplicate"] for r in results]),
        ("calls with no usable edit", [r["tally"]["no_edit"] for r in results]),
        ("calls that failed (backend)", [r["tally"]["llm_error"] for r in results]),
        ("prompt tokens (server count)", [r["meter"]["prompt_tokens"] for r in results]),
        ("completion tokens (server count)", [r["meter"]["completion_tokens"] for r in results]),
        ("time in LLM calls, s", [f"{r['meter']['llm_seconds']:.0f}" for r in results]),
        ("wall time, s", [f"{r['wall_s']:.0f}" for r in results]),
    ]
    head = "| | " + " | ".join(r["framework"] for r in results) + " |"
    sep = "|---|" + "---:|" * len(results)
    body = [f"| {name} | " + " | ".join(_fmt(v) for v in vals) + " |" for name, vals in lines]
    return "\n".join([head, sep, *body])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-url", default="http://127.0.0.1:8088/v1", help="the model server (OpenAI API)")
    ap.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    ap.add_argument("--problem", default="rtl_ppa", help="a built-in problem name or a problem directory")
    ap.add_argument("--calls", type=int, default=12, help="LLM calls per framework (one per iteration)")
    ap.add_argument("--max-tokens", type=int, default=2048, help="reply cap sent with every request")
    ap.add_argument("--temperature", type=float, default=0.7, help="both frameworks' default is 0.7")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per request (a slow CPU model)")
    ap.add_argument("--retries", type=int, default=2, help="retries after a failed request")
    ap.add_argument("--context", type=int, default=32768, help="the server's context window")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", choices=["both", "veriloop", "openevolve"], default="both")
    ap.add_argument("--work", type=Path, default=None, help="keep runs and exchanges here (default: /tmp)")
    ap.add_argument("--json", type=Path, default=None, help="write all figures and outcomes here")
    ap.add_argument(
        "--report",
        type=Path,
        nargs="+",
        default=None,
        metavar="WORK",
        help="run nothing: report finished runs kept in these work dirs (e.g. each framework run alone)",
    )
    args = ap.parse_args()
    args.upstream = args.base_url.rstrip("/").removesuffix("/v1")
    problem = Path(args.problem)
    if not problem.is_dir():
        problem = REPO / "veriloop" / "problems" / args.problem
    problem = problem.resolve()
    work = (args.work or Path(f"/tmp/veriloop-evolve-real-{time.strftime('%Y%m%d-%H%M%S')}")).resolve()
    if args.report:
        work = args.report[0].resolve()
    work.mkdir(parents=True, exist_ok=True)
    print(f"problem {problem.name}, model {args.model} at {args.base_url}, {args.calls} calls each")
    print(f"work dir {work}")
    if args.only != "veriloop" and not args.report:
        ensure_openevolve()
    results: list[dict[str, Any]] = []
    runners = {"veriloop": run_veriloop, "openevolve": run_openevolve}
    collectors = {"veriloop": collect_veriloop, "openevolve": collect_openevolve}
    for name, runner in runners.items():
        if args.only not in ("both", name):
            continue
        if args.report:
            found = [w for w in args.report if (w / f"{name}-run.json").exists()]
            if not found:
                continue
            r = collectors[name](found[0].resolve())
        else:
            wait_for_server(args.base_url)
            print(f"running {name} ...", flush=True)
            r = runner(args, problem, work)
        print(
            f"{name}: best {_fmt(r['best_score'])} (initial {_fmt(r['initial_score'])}), "
            f"{r['meter']['replies']} replies, {r['tally']['applied']} applied, {r['tally']['valid']} valid, "
            f"wall {r['wall_s']} s",
            flush=True,
        )
        if r["meter"]["replies"] != args.calls or r["own_count"]["llm_replies"] != r["meter"]["replies"]:
            print(
                f"  NOTE: {name} got {r['meter']['replies']} metered replies, its own count says "
                f"{r['own_count']['llm_replies']}, the budget was {args.calls}",
                flush=True,
            )
        results.append(r)
    print()
    print(table(results, args.calls))
    for r in results:
        t = r["tally"]
        print(f"\n{r['framework']}: no usable edit: {t['no_edit_reasons'] or '-'}")
        print(f"  rejected by the evaluator: {t['reject_reasons'] or '-'}")
        print("  per call: " + " ".join(f"{o['iteration']}:{o['outcome']}" for o in r["outcomes"]))
    if args.json:
        slim = [{k: v for k, v in r.items() if k != "exchanges"} for r in results]
        out = {
            "problem": problem.name,
            "model": args.model,
            "base_url": args.base_url,
            "calls": args.calls,
            "max_tokens": args.max_tokens,
            "temperature": args.temperature,
            "work": str(work),
            "results": slim,
            "table_markdown": table(results, args.calls),
        }
        args.json.write_text(json.dumps(out, indent=1, default=str), encoding="utf-8")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
