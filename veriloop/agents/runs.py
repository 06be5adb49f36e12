"""`veriloop runs show|resume|export` for design runs: runs are threads in the run's SQLite checkpointer."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from veriloop.agents.deps import ProgressFn
from veriloop.agents.run import AskFn, DesignResult, drive, finalize
from veriloop.config import Settings
from veriloop.errors import InputError, StoreError
from veriloop.runstore import RunRecord

CHECKPOINT_FILE = "checkpoints.sqlite"


def _out_dir(record: RunRecord) -> Path:
    return Path(record.meta.get("out_dir") or record.dir / "out")


async def _snapshot(record: RunRecord) -> Any:
    from veriloop.agents.graph import checkpointed_graph

    if not (record.dir / CHECKPOINT_FILE).is_file():
        return None
    async with checkpointed_graph(record.dir) as graph:
        return await graph.aget_state({"configurable": {"thread_id": record.id}})


def show(record: RunRecord) -> dict[str, Any]:
    """The run record, its report (when written) and where the checkpointed thread stands."""
    out: dict[str, Any] = {"run": record.model_dump(mode="json"), "out_dir": str(_out_dir(record))}
    report = _out_dir(record) / "report.json"
    if report.is_file():
        try:
            out["report"] = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            out["report"] = None
    snap = asyncio.run(_snapshot(record))
    if snap is not None and snap.values:
        v = snap.values
        out["thread"] = {
            "next": list(snap.next),
            "iteration": v.get("iteration", 0),
            "decision": v.get("decision", ""),
            "verdicts": [
                {"iteration": x.get("iteration"), "passed": x.get("passed"), "category": x.get("category")}
                for x in v.get("verdicts") or []
            ],
            "modules": list((v.get("rtl") or {}).keys()),
            "spend": v.get("spend") or {},
            "transcript_entries": len(v.get("transcript") or []),
            "waiting_for_human": any(t.interrupts for t in snap.tasks),
        }
    return out


def resume(
    record: RunRecord,
    settings: Settings,
    *,
    progress: ProgressFn | None = None,
    ask: AskFn | None = None,
    answer: str | None = None,
) -> DesignResult:
    """Continue the thread from its last checkpoint; finished steps are not redone.

    An interrupted (interactive) run takes `answer` (or asks through `ask`) for the pending question.
    """
    if record.kind != "design":
        raise InputError(f"Run {record.id} is a {record.kind} run, not a design run.")
    if not (record.dir / CHECKPOINT_FILE).is_file():
        raise StoreError(f"Run {record.id} has no checkpoint database; it cannot be resumed.")
    return asyncio.run(_resume(record, settings, progress=progress, ask=ask, answer=answer))


async def _resume(
    record: RunRecord,
    settings: Settings,
    *,
    progress: ProgressFn | None,
    ask: AskFn | None,
    answer: str | None,
) -> DesignResult:
    from langgraph.types import Command

    from veriloop.agents.deps import Deps
    from veriloop.agents.graph import checkpointed_graph

    config = {"configurable": {"thread_id": record.id}}
    async with checkpointed_graph(record.dir) as graph:
        snap = await graph.aget_state(config)
    if snap is None or not snap.values:
        raise StoreError(f"Run {record.id} has no saved steps; start a new run instead.")
    waiting = any(t.interrupts for t in snap.tasks)
    if not snap.next and not waiting:
        # The graph already finished; only the outputs may be missing (killed while writing them).
        return finalize(record, settings, snap.values, _out_dir(record), Deps(settings=settings))
    graph_input: Any = None
    if waiting and answer is None and ask is None and sys.stdin.isatty():
        from rich.console import Console

        from veriloop.agents.view import ask_human

        console = Console(stderr=True)
        ask = lambda payload: ask_human(payload, console)  # noqa: E731
    if waiting:
        if answer is None and ask is None:
            payload = next(i.value for t in snap.tasks for i in t.interrupts)
            question = payload.get("question") if isinstance(payload, dict) else str(payload)
            raise InputError(
                f"Run {record.id} is waiting for a human: {question}",
                hint="Answer it with `veriloop runs resume ID` in a terminal, or pass an answer.",
            )
        if answer is not None:
            graph_input = Command(resume=answer)
    return await drive(record, settings, graph_input, progress=progress, ask=ask)


def export(record: RunRecord, dest: Path) -> list[Path]:
    """Copy the run's outputs (RTL, testbench, reports, transcript) and run.json into dest."""
    src = _out_dir(record)
    if not src.is_dir():
        raise InputError(
            f"Run {record.id} has no outputs yet.", hint="Resume it first: veriloop runs resume ID."
        )
    try:
        dest.mkdir(parents=True, exist_ok=True)
        copied: list[Path] = []
        for f in sorted(src.iterdir()):
            if f.is_file():
                target = dest / f.name
                shutil.copy2(f, target)
                copied.append(target)
        run_json = record.dir / "run.json"
        if run_json.is_file():
            shutil.copy2(run_json, dest / "run.json")
            copied.append(dest / "run.json")
    except OSError as exc:
        raise StoreError(f"Cannot export run {record.id} to {dest}: {exc.strerror}.") from None
    return copied
