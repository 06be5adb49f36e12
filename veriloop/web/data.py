"""What the UI shows, as plain JSON, read through veriloop's own stores while runs may be writing them."""

from __future__ import annotations

import difflib
import json
import sqlite3
from functools import lru_cache
from pathlib import Path
from typing import Any

from veriloop import runstore
from veriloop.errors import InputError, StoreError
from veriloop.runstore import RunRecord

PROGRAM_FIELDS = ["id", "iteration", "parent_id", "island", "generation", "score", "status", "fault",
                  "model", "cost"]
"""Column order of the compact program rows the evolve view sends (one array per program)."""


def _readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection to a run's SQLite store (WAL: readers never block the writer)."""
    if not path.is_file():
        raise StoreError(f"No database at {path}.", hint="The run may not have written anything yet.")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        conn.execute("PRAGMA query_only=1")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"Database {path} is unreadable or corrupt: {exc}.") from None
    return conn


def record(data_dir: Path, run_id: str, kind: str | None = None) -> RunRecord:
    rec = runstore.load_run(data_dir, run_id)
    if kind is not None and rec.kind != kind:
        raise InputError(f"Run {run_id} is a {rec.kind} run, not a {kind} run.")
    return rec


# ------------------------------------------------------------------------------------------- runs list
def _evolve_summary(rec: RunRecord) -> dict[str, Any]:
    planned = int((rec.meta.get("options") or {}).get("iterations") or 0)
    out: dict[str, Any] = {"total": planned + 1 if planned else None, "problem": rec.meta.get("problem_name")}
    path = rec.dir / "programs.sqlite"
    if not path.is_file():
        return out | {"done": 0}
    conn = _readonly(path)
    try:
        done, cost = conn.execute("SELECT COUNT(*), COALESCE(SUM(cost), 0) FROM iterations").fetchone()
        best = conn.execute(
            "SELECT MAX(combined_score) FROM programs WHERE status='ok'"
        ).fetchone()[0]
    except sqlite3.DatabaseError:
        return out | {"done": 0}
    finally:
        conn.close()
    return out | {"done": int(done), "best": best, "spend": round(float(cost), 6)}


def _bench_summary(rec: RunRecord) -> dict[str, Any]:
    path = rec.dir / "results.sqlite"
    out: dict[str, Any] = {"total": None, "problem": (rec.meta.get("spec") or {}).get("suite")}
    if not path.is_file():
        return out | {"done": 0}
    conn = _readonly(path)
    try:
        n, passed, cost, scored, best = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(passed), 0), COALESCE(SUM(cost_usd), 0), "
            "SUM(category='score'), MAX(score) FROM samples"
        ).fetchone()
    except sqlite3.DatabaseError:
        return out | {"done": 0}
    finally:
        conn.close()
    graded = int(n) - int(scored or 0)
    return out | {"done": int(n), "pass_rate": (int(passed) / graded) if graded else None,
                  "best": best if scored else None, "spend": round(float(cost), 6)}


def _design_summary(rec: RunRecord) -> dict[str, Any]:
    m = rec.meta
    return {"done": m.get("iterations"), "total": m.get("max_iters"), "verified": m.get("verified"),
            "spend": m.get("usd"), "problem": m.get("top")}


_SUMMARY = {"evolve": _evolve_summary, "bench": _bench_summary, "design": _design_summary}


def runs_list(data_dir: Path, kind: str | None = None) -> list[dict[str, Any]]:
    """Every run, newest first, with its progress, best score or pass rate and spend."""
    out = []
    for rec in reversed(runstore.list_runs(data_dir)):
        if kind and rec.kind != kind:
            continue
        try:
            summary = _SUMMARY[rec.kind](rec)
        except StoreError as exc:
            summary = {"error": exc.message}
        out.append({"id": rec.id, "kind": rec.kind, "title": rec.title, "created": rec.created,
                    "state": runstore.display_status(rec)} | summary)
    return out


def run_status(data_dir: Path, run_id: str) -> dict[str, Any]:
    """A cheap poll: the run's state and how far it got (the page refetches when this changes)."""
    rec = record(data_dir, run_id)
    summary = _SUMMARY[rec.kind](rec)
    notes = 0
    if rec.kind == "evolve" and (rec.dir / "programs.sqlite").is_file():
        notes = len(evolve_notes(rec))
    return {"id": rec.id, "kind": rec.kind, "state": runstore.display_status(rec),
            "done": summary.get("done"), "notes": notes}


# ------------------------------------------------------------------------------------------- evolve
def evolve_notes(rec: RunRecord) -> list[dict[str, Any]]:
    conn = _readonly(rec.dir / "programs.sqlite")
    try:
        rows = conn.execute("SELECT seq, text, created FROM notes ORDER BY seq").fetchall()
    except sqlite3.OperationalError:
        rows = []
    finally:
        conn.close()
    return [{"seq": s, "text": t, "created": c} for s, t, c in rows]


def _grid(feats: list[tuple[str, float, dict[str, float]]], bins: int = 10,
          islands: list[int] | None = None) -> dict[str, Any]:
    """The MAP-Elites grid over the first two feature dimensions, binned over the whole run's range:
    per cell its champion (best score) and how many programs fell in it; with `islands` (one per
    program), the same grid per island under "by_island"."""
    dims = sorted({k for _, _, f in feats for k in f})[:2]
    if not dims:
        return {"dims": [], "bins": bins, "cells": [], "by_island": {}}
    if len(dims) == 1:
        dims.append(dims[0])
    lo = {d: min(f.get(d, 0.0) for _, _, f in feats) for d in dims}
    hi = {d: max(f.get(d, 0.0) for _, _, f in feats) for d in dims}

    def b(d: str, v: float) -> int:
        return 0 if hi[d] <= lo[d] else min(bins - 1, int((v - lo[d]) / (hi[d] - lo[d]) * bins))

    def cells_of(members: list[tuple[str, float, dict[str, float]]]) -> list[list[Any]]:
        cells: dict[tuple[int, int], list[Any]] = {}
        for pid, score, f in members:
            key = (b(dims[0], f.get(dims[0], 0.0)), b(dims[1], f.get(dims[1], 0.0)))
            cur = cells.get(key)
            if cur is None:
                cells[key] = [key[0], key[1], pid, score, 1]
            else:
                cur[4] += 1
                if score > cur[3]:
                    cur[2], cur[3] = pid, score
        return sorted(cells.values())

    by_island: dict[str, list[list[Any]]] = {}
    if islands is not None:
        for isl in sorted(set(islands)):
            by_island[str(isl)] = cells_of([f for f, i in zip(feats, islands, strict=True) if i == isl])
    return {"dims": dims, "bins": bins, "range": {d: [lo[d], hi[d]] for d in dims},
            "cells": cells_of(feats), "by_island": by_island}


def evolve_view(rec: RunRecord) -> dict[str, Any]:
    """An evolve run at a glance: every program (compact rows for the lineage and score curves), the
    MAP-Elites grid, iteration statistics and the steering notes."""
    planned = int((rec.meta.get("options") or {}).get("iterations") or 0)
    if not (rec.dir / "programs.sqlite").is_file():  # just started: nothing evaluated yet
        return {"run": _run_json(rec), "fields": PROGRAM_FIELDS, "programs": [], "grid": _grid([]),
                "best": None, "notes": [],
                "stats": {"iterations": 0, "planned": planned + 1 if planned else None, "programs": 0,
                          "by_status": {}, "faults": {}, "cost_usd": 0.0, "prompt_tokens": 0,
                          "completion_tokens": 0}}
    conn = _readonly(rec.dir / "programs.sqlite")
    try:
        rows = conn.execute(
            "SELECT id, iteration, parent_id, island, generation, combined_score, status, fault, model, "
            "cost, features FROM programs ORDER BY iteration"
        ).fetchall()
        by_status = dict(conn.execute("SELECT status, COUNT(*) FROM iterations GROUP BY status").fetchall())
        faults = dict(conn.execute(
            "SELECT fault, COUNT(*) FROM iterations WHERE fault IS NOT NULL GROUP BY fault").fetchall())
        cost, ptok, ctok = conn.execute(
            "SELECT COALESCE(SUM(cost),0), COALESCE(SUM(prompt_tokens),0), "
            "COALESCE(SUM(completion_tokens),0) FROM iterations").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"Program database of run {rec.id} is unreadable: {exc}.") from None
    finally:
        conn.close()
    programs = [list(r[:10]) for r in rows]
    ok = [r for r in rows if r[6] == "ok" and r[5] is not None]
    feats = [(r[0], float(r[5]), json.loads(r[10] or "{}")) for r in ok]
    best = max(feats, key=lambda f: f[1]) if feats else None
    return {
        "run": _run_json(rec),
        "fields": PROGRAM_FIELDS,
        "programs": programs,
        "grid": _grid(feats, islands=[int(r[3]) for r in ok]),
        "best": {"id": best[0], "score": best[1]} if best else None,
        "stats": {"iterations": sum(by_status.values()), "planned": planned + 1 if planned else None,
                  "programs": len(programs), "by_status": by_status, "faults": faults,
                  "cost_usd": round(float(cost), 6), "prompt_tokens": int(ptok),
                  "completion_tokens": int(ctok)},
        "notes": evolve_notes(rec),
    }


def evolve_program(rec: RunRecord, program_id: str) -> dict[str, Any]:
    """One program: code, the unified diff from its parent, the edit that made it, metrics, artifacts,
    fault, model and cost."""
    from veriloop.evolve.database import _PCOLS, _row

    conn = _readonly(rec.dir / "programs.sqlite")
    try:
        row = conn.execute(f"SELECT {_PCOLS} FROM programs WHERE id=?", (program_id,)).fetchone()
        if row is None:
            raise InputError(f"Run {rec.id} has no program '{program_id}'.")
        prog = _row(row)
        parent = None
        if prog.parent_id:
            prow = conn.execute(f"SELECT {_PCOLS} FROM programs WHERE id=?", (prog.parent_id,)).fetchone()
            parent = _row(prow) if prow else None
        it = conn.execute(
            "SELECT status, prompt_tokens, completion_tokens, retries FROM iterations WHERE iteration=?",
            (prog.iteration,)).fetchone()
        children = [r[0] for r in conn.execute("SELECT id FROM programs WHERE parent_id=? ORDER BY iteration",
                                               (program_id,)).fetchall()]
    finally:
        conn.close()
    diff = ""
    if parent is not None:
        diff = "\n".join(difflib.unified_diff(parent.code.splitlines(), prog.code.splitlines(),
                                              fromfile=f"parent {parent.id}", tofile=f"program {prog.id}",
                                              lineterm="", n=3))
    data = prog.model_dump(mode="json")
    data["edit_text"] = data.pop("diff")
    return data | {
        "parent_diff": diff,
        "parent_score": parent.combined_score if parent else None,
        "children": children,
        "iteration_row": (dict(zip(["status", "prompt_tokens", "completion_tokens", "retries"], it,
                                   strict=True)) if it else None),
    }


# ------------------------------------------------------------------------------------------- bench
def bench_view(rec: RunRecord) -> dict[str, Any]:
    """The backend × configuration table, and per problem the verdict of every sample of every group."""
    from veriloop.bench.report import load_report
    from veriloop.bench.store import ResultStore

    report = load_report(rec)
    with ResultStore.open(rec.dir) as store:
        recs = store.records(with_code=False)
    groups = sorted({(r.backend, r.config) for r in recs})
    problems = sorted({r.problem for r in recs})
    cells: dict[str, dict[str, list[dict[str, Any]]]] = {p: {} for p in problems}
    for r in sorted(recs, key=lambda r: r.idx):
        cells[r.problem].setdefault(f"{r.backend} · {r.config}", []).append(
            {"idx": r.idx, "passed": r.passed, "category": r.category, "score": r.score})
    data = report.model_dump(mode="json")
    return {"run": _run_json(rec), "sampling": report.sampling(), "groups": data["groups"],
            "evolve": report.evolve_summary(), "columns": [f"{b} · {c}" for b, c in groups],
            "column_keys": [{"backend": b, "config": c} for b, c in groups], "problems": problems,
            "cells": cells, "tool_versions": data["tool_versions"]}


def bench_compare(a: RunRecord, b: RunRecord) -> dict[str, Any]:
    """Two bench runs side by side (`veriloop bench compare`): paired groups with pass@1 delta and the
    problems only one side solved, plus each run's per-problem verdicts."""
    from veriloop.bench.report import load_report
    from veriloop.bench.report.compare import PairDiff, compare

    cmp = compare(load_report(a), load_report(b))
    va, vb = bench_view(a), bench_view(b)
    pairs = [d.model_dump(mode="json") | {"a_label": PairDiff.label(d.a), "b_label": PairDiff.label(d.b)}
             for d in cmp.groups]
    return {"a": va["run"], "b": vb["run"], "pairs": pairs,
            "problems": sorted(set(va["problems"]) | set(vb["problems"])),
            "a_columns": va["columns"], "b_columns": vb["columns"], "a_cells": va["cells"],
            "b_cells": vb["cells"]}


@lru_cache(maxsize=8)
def _goldens(spec_json: str) -> dict[str, str]:
    from veriloop.bench.report.samples import goldens

    return goldens(json.loads(spec_json))


def bench_sample(rec: RunRecord, problem: str, backend: str, config: str, idx: int) -> dict[str, Any]:
    """One sample: its code, the grader's log excerpt, first mismatch and the diff against the reference."""
    from veriloop.bench.report.samples import code_diff, first_mismatch
    from veriloop.bench.store import ResultStore
    from veriloop.bench.taxonomy import failure_class, failure_reason

    with ResultStore.open(rec.dir) as store:
        found = [r for r in store.records(with_code=True)
                 if (r.problem, r.backend, r.config, r.idx) == (problem, backend, config, idx)]
    if not found:
        raise InputError(f"Run {rec.id} has no sample {problem} {backend}/{config} #{idx}.")
    r = found[0]
    refs = _goldens(json.dumps(rec.meta.get("spec") or {}, sort_keys=True, default=str))
    return {
        "problem": r.problem, "backend": r.backend, "config": r.config, "idx": r.idx, "passed": r.passed,
        "category": r.category, "failure_class": failure_class(r.category, r.detail, r.log_tail),
        "reason": "" if r.passed else failure_reason(r.category, r.detail, r.log_tail),
        "detail": r.detail, "model": r.model, "mode": r.mode, "cost_usd": r.cost_usd,
        "latency_s": r.latency_s,
        "prompt_tokens": r.prompt_tokens, "completion_tokens": r.completion_tokens,
        "code": r.code, "log_excerpt": (r.log_tail or "")[-3000:], "first_mismatch": first_mismatch(r),
        "diff": code_diff(refs.get(r.problem, ""), r.code, r.problem),
        "has_reference": bool(refs.get(r.problem)),
        "tool_versions": r.tool_versions,
    }


# ------------------------------------------------------------------------------------------- design
async def design_view(rec: RunRecord) -> dict[str, Any]:
    """A design run's checkpointed thread: the steps in order (every transcript entry: prompts,
    replies, tool calls, decisions), every verdict with its evidence, the RTL and the report."""
    from veriloop.agents.runs import _out_dir, _snapshot

    out: dict[str, Any] = {"run": _run_json(rec), "out_dir": str(_out_dir(rec))}
    report = _out_dir(rec) / "report.json"
    if report.is_file():
        try:
            out["report"] = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            out["report"] = None
    md = _out_dir(rec) / "report.md"
    out["report_md"] = md.read_text(encoding="utf-8", errors="replace") if md.is_file() else ""
    snap = await _snapshot(rec)
    v = snap.values if snap is not None and snap.values else {}
    out["transcript"] = v.get("transcript") or []
    out["verdicts"] = v.get("verdicts") or []
    out["rtl"] = v.get("rtl") or {}
    out["plan"] = v.get("plan")
    out["spend"] = v.get("spend") or {}
    out["decision"] = v.get("decision", "")
    out["next"] = list(snap.next) if snap is not None else []
    pending = [i.value for t in snap.tasks for i in t.interrupts] if snap is not None else []
    out["waiting_for_human"] = bool(pending)
    out["pending"] = None
    if pending:
        out["pending"] = pending[0] if isinstance(pending[0], dict) else {"question": str(pending[0])}
    return out


def _run_json(rec: RunRecord) -> dict[str, Any]:
    return rec.model_dump(mode="json", exclude={"owner"}) | {"state": runstore.display_status(rec)}
