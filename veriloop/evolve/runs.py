"""Evolve runs for `veriloop runs`: show, resume, export (best program, diffs, lineage, plots)."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

from veriloop.errors import InputError, StoreError
from veriloop.runstore import RunRecord


def _connect(record: RunRecord) -> sqlite3.Connection:
    path = record.dir / "programs.sqlite"
    if not path.is_file():
        raise StoreError(
            f"Run {record.id} has no program database at {path}.",
            hint="The run may have failed before its first evaluation.",
        )
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.execute("SELECT 1 FROM programs LIMIT 1")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"Program database {path} is unreadable or corrupt: {exc}.") from None
    return conn


def _programs(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    cur = conn.execute(
        "SELECT id, iteration, parent_id, island, generation, combined_score, status, fault, backend, "
        "model, cost, code_length FROM programs ORDER BY iteration"
    )
    keys = [
        "id",
        "iteration",
        "parent_id",
        "island",
        "generation",
        "score",
        "status",
        "fault",
        "backend",
        "model",
        "cost",
        "code_length",
    ]
    return [dict(zip(keys, r, strict=True)) for r in cur.fetchall()]


def _best(progs: list[dict[str, Any]]) -> dict[str, Any] | None:
    ok = [p for p in progs if p["status"] == "ok" and p["score"] is not None]
    return max(ok, key=lambda p: (p["score"], -p["iteration"])) if ok else None


def score_curve(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Best score so far after each iteration (every iteration counted, evaluated or not)."""
    scores = dict(
        conn.execute(
            "SELECT iteration, combined_score FROM programs WHERE status='ok' AND combined_score IS NOT NULL"
        ).fetchall()
    )
    out: list[dict[str, Any]] = []
    best: float | None = None
    for (it,) in conn.execute("SELECT iteration FROM iterations ORDER BY iteration").fetchall():
        s = scores.get(it)
        if s is not None and (best is None or s > best):
            best = s
        out.append({"iteration": it, "score": s, "best": best})
    return out


def show(record: RunRecord) -> dict[str, Any]:
    """Best program, score curve and stats of an evolve run, as plain data."""
    conn = _connect(record)
    try:
        progs = _programs(conn)
        best = _best(progs)
        code = None
        if best is not None:
            code = conn.execute("SELECT code FROM programs WHERE id=?", (best["id"],)).fetchone()[0]
        faults = dict(
            conn.execute(
                "SELECT fault, COUNT(*) FROM iterations WHERE fault IS NOT NULL GROUP BY fault ORDER BY fault"
            ).fetchall()
        )
        status = dict(conn.execute("SELECT status, COUNT(*) FROM iterations GROUP BY status").fetchall())
        cost = conn.execute("SELECT COALESCE(SUM(cost),0) FROM iterations").fetchone()[0]
        curve = score_curve(conn)
    finally:
        conn.close()
    return {
        "run_id": record.id,
        "status": record.status,
        "problem": record.meta.get("problem"),
        "candidate_import": _import_verdict(record, None),
        "best": None if best is None else best | {"code": code},
        "score_curve": [{"iteration": c["iteration"], "best": c["best"]} for c in curve],
        "stats": {
            "iterations": sum(status.values()),
            "programs": len(progs),
            "by_status": status,
            "faults": faults,
            "cost_usd": round(float(cost), 6),
            "stop_reason": record.meta.get("stop_reason"),
        },
    }


def _import_verdict(record: RunRecord, conn: sqlite3.Connection | None) -> dict[str, Any]:
    """The run's candidate-import verdict (run record, else the database's meta table), with the
    warning sentence when its scores are forgeable."""
    verdict = record.meta.get("candidate_import")
    if not isinstance(verdict, dict) and conn is not None:
        try:
            row = conn.execute("SELECT value FROM meta WHERE key='candidate_import'").fetchone()
            verdict = json.loads(row[0]) if row else None
        except (sqlite3.DatabaseError, ValueError):
            verdict = None
    if not isinstance(verdict, dict):
        return {}
    from veriloop.evolve.candidate_import import FORGEABLE

    out = dict(verdict)
    if out.get("forgeable"):
        out["warning"] = FORGEABLE
    return out


def resume(
    record: RunRecord,
    settings: Any,
    iterations: int | None = None,
    show_progress: bool = True,
    console: Any = None,
) -> Any:
    """Continue a killed or stopped evolve run; returns its RunSummary."""
    from veriloop.evolve.controller import EvolveOptions, run_evolution

    if record.kind != "evolve":
        raise InputError(f"Run {record.id} is a {record.kind} run, not an evolve run.")
    options = EvolveOptions.model_validate(record.meta.get("options") or {})
    if iterations is not None:
        options = options.model_copy(update={"iterations": iterations})
    if console is None:
        from rich.console import Console

        console = Console(stderr=True)
    return run_evolution(
        record.meta.get("problem", ""),
        settings,
        options,
        resume=record,
        show_progress=show_progress,
        console=console,
    )


def _lineage(conn: sqlite3.Connection, pid: str) -> list[dict[str, Any]]:
    chain = []
    seen = set()
    cur: str | None = pid
    while cur and cur not in seen:
        seen.add(cur)
        row = conn.execute(
            "SELECT id, parent_id, iteration, combined_score, diff FROM programs WHERE id=?", (cur,)
        ).fetchone()
        if row is None:
            break
        chain.append(
            {"id": row[0], "parent_id": row[1], "iteration": row[2], "score": row[3], "diff": row[4]}
        )
        cur = row[1]
    return list(reversed(chain))


def export(record: RunRecord, dest: str | Path) -> list[Path]:
    """Write the best program, its diff history, the lineage tree (JSON + PNG) and the score curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(dest)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"Cannot create export directory {out}: {exc.strerror}.") from None
    conn = _connect(record)
    written: list[Path] = []
    try:
        progs = _programs(conn)
        best = _best(progs)
        verdict = _import_verdict(record, conn)
        report = {
            "run_id": record.id,
            "problem": record.meta.get("problem"),
            "best": best,
            "candidate_import": verdict,
        }
        p = out / "report.json"
        p.write_text(json.dumps(report, indent=1), encoding="utf-8")
        written.append(p)
        warning = (
            f"> **Warning: {verdict['warning']}** ({verdict.get('reason', '')})\n"
            if verdict.get("forgeable")
            else ""
        )
        if best is not None:
            code = conn.execute("SELECT code FROM programs WHERE id=?", (best["id"],)).fetchone()[0]
            problem = Path(record.meta.get("problem", ""))
            ext = (
                next((p.suffix for p in problem.glob("initial_program.*")), ".py")
                if problem.is_dir()
                else ".py"
            )
            p = out / f"best_program{ext}"
            p.write_text(code, encoding="utf-8")
            written.append(p)
            chain = _lineage(conn, best["id"])
            lines = [f"# Diff history of {best['id']} (score {best['score']})", ""]
            if warning:
                lines += [warning]
            for step in chain:
                lines.append(f"## iteration {step['iteration']}: {step['id']} (score {step['score']})")
                lines.append("")
                lines.append("```")
                lines.append(step["diff"] or "(initial program)")
                lines.append("```")
                lines.append("")
            p = out / "best_diff_history.md"
            p.write_text("\n".join(lines), encoding="utf-8")
            written.append(p)
        tree = {
            "nodes": [{k: v for k, v in pr.items()} for pr in progs],
            "best": best["id"] if best else None,
        }
        p = out / "lineage.json"
        p.write_text(json.dumps(tree, indent=1), encoding="utf-8")
        written.append(p)
        curve = score_curve(conn)
        p = out / "score_curve.csv"
        with p.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["iteration", "score", "best"])
            for c in curve:
                w.writerow(
                    [
                        c["iteration"],
                        "" if c["score"] is None else c["score"],
                        "" if c["best"] is None else c["best"],
                    ]
                )
        written.append(p)
    finally:
        conn.close()

    fig, ax = plt.subplots(figsize=(7, 4))
    xs = [c["iteration"] for c in curve if c["best"] is not None]
    ax.step(xs, [c["best"] for c in curve if c["best"] is not None], where="post", label="best so far")
    pts = [c for c in curve if c["score"] is not None]
    ax.scatter([c["iteration"] for c in pts], [c["score"] for c in pts], s=8, alpha=0.5, label="candidate")
    ax.set_xlabel("iteration")
    ax.set_ylabel("combined_score")
    ax.set_title(f"evolve run {record.id}")
    ax.legend()
    p = out / "score_curve.png"
    fig.savefig(p, dpi=100, bbox_inches="tight")
    plt.close(fig)
    written.append(p)

    fig, ax = plt.subplots(figsize=(8, 5))
    by_id = {pr["id"]: pr for pr in progs}
    for pr in progs:
        par = by_id.get(pr["parent_id"] or "")
        if par is not None and pr["score"] is not None and par["score"] is not None:
            ax.plot([par["iteration"], pr["iteration"]], [par["score"], pr["score"]], color="0.7", lw=0.6)
    scored = [pr for pr in progs if pr["score"] is not None]
    ax.scatter(
        [pr["iteration"] for pr in scored],
        [pr["score"] for pr in scored],
        c=[pr["island"] for pr in scored],
        cmap="tab10",
        s=12,
    )
    if best is not None:
        chain_ids = {s["id"] for s in _lineage_ids(progs, best["id"])}
        line = [
            by_id[i]
            for i in sorted(chain_ids, key=lambda i: by_id[i]["iteration"])
            if by_id[i]["score"] is not None
        ]
        ax.plot(
            [pr["iteration"] for pr in line],
            [pr["score"] for pr in line],
            color="red",
            lw=1.5,
            label="lineage of best",
        )
        ax.legend()
    ax.set_xlabel("iteration")
    ax.set_ylabel("combined_score")
    ax.set_title("lineage tree (colour = island)")
    p = out / "lineage.png"
    fig.savefig(p, dpi=100, bbox_inches="tight")
    plt.close(fig)
    written.append(p)
    return written


def _lineage_ids(progs: list[dict[str, Any]], pid: str) -> list[dict[str, Any]]:
    by_id = {p["id"]: p for p in progs}
    out = []
    cur: str | None = pid
    while cur in by_id and by_id[cur] not in out:
        out.append(by_id[cur])
        cur = by_id[cur]["parent_id"]
    return out
