"""The run registry: every design, evolve and bench run gets a directory and a run.json."""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from veriloop.errors import InputError, StoreError

RunKind = Literal["design", "evolve", "bench"]


class ProcessStamp(BaseModel):
    """Which process, on which host, is working on a run: pid plus the kernel's start time of that
    pid, so a recycled pid does not pass for the original process."""

    host: str
    pid: int
    start: str = ""

    @classmethod
    def current(cls) -> ProcessStamp:
        return cls(host=socket.gethostname(), pid=os.getpid(), start=_proc_start(os.getpid()))

    def alive(self) -> bool | None:
        """True/False on this host; None when the run belongs to another host (cannot tell)."""
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return not self.start or _proc_start(self.pid) == self.start


def _proc_start(pid: int) -> str:
    """Field 22 of /proc/PID/stat (start time in clock ticks since boot); '' where there is no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[19] if len(fields) > 19 else ""


class RunRecord(BaseModel):
    """What is known about one run without opening its own stores."""

    id: str
    kind: RunKind
    created: str
    status: Literal["running", "done", "failed", "interrupted"] = "running"
    title: str = ""
    meta: dict[str, Any] = Field(default_factory=dict)
    path: str = ""
    owner: ProcessStamp | None = None
    """The process that last set the run running (so a killed run is told from a running one)."""

    @property
    def dir(self) -> Path:
        return Path(self.path)


def runs_root(data_dir: Path) -> Path:
    return data_dir / "runs"


def new_run_id(kind: RunKind) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return f"{kind[0]}-{stamp}-{secrets.token_hex(3)}"


def _write(record: RunRecord) -> None:
    path = record.dir / "run.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(record.model_dump_json(indent=2, exclude={"path"}), encoding="utf-8")
    os.replace(tmp, path)


def create_run(data_dir: Path, kind: RunKind, title: str = "", meta: dict[str, Any] | None = None,
               run_id: str | None = None) -> RunRecord:
    """Make the run's directory and its run.json; the id is unique and sortable by time."""
    rid = run_id or new_run_id(kind)
    d = runs_root(data_dir) / rid
    try:
        d.mkdir(parents=True, exist_ok=False)
    except FileExistsError:
        raise StoreError(f"Run {rid} already exists.") from None
    except OSError as exc:
        raise StoreError(f"Cannot create run directory {d}: {exc.strerror}.") from None
    rec = RunRecord(id=rid, kind=kind, created=datetime.now(UTC).isoformat(timespec="seconds"),
                    title=title, meta=meta or {}, path=str(d), owner=ProcessStamp.current())
    _write(rec)
    return rec


def update_run(record: RunRecord, **changes: Any) -> RunRecord:
    """Persist changed fields (status, meta, title) of a run; setting it running stamps this process."""
    if changes.get("status") == "running":
        changes["owner"] = ProcessStamp.current()
    new = record.model_copy(update=changes)
    _write(new)
    return new


def load_run(data_dir: Path, run_id: str) -> RunRecord:
    d = runs_root(data_dir) / run_id
    path = d / "run.json"
    if not path.is_file():
        raise InputError(f"No run with id '{run_id}' under {runs_root(data_dir)}.",
                         hint="`veriloop runs list` shows the runs that exist.")
    try:
        rec = RunRecord.model_validate(json.loads(path.read_text(encoding="utf-8")) | {"path": str(d)})
    except (ValueError, OSError) as exc:
        raise StoreError(f"Run record {path} is unreadable or corrupt: {exc}.") from None
    return rec


def display_status(record: RunRecord) -> str:
    """The status a person needs: a "running" run whose process is gone was killed; a design that
    ended unverified is told apart from one that stopped on an error."""
    if record.status == "running":
        alive = record.owner.alive() if record.owner is not None else None
        return "killed" if alive is False else "running"
    if record.status == "failed":
        if record.meta.get("error"):
            return "error"
        if record.kind == "design" and record.meta.get("verified") is False:
            return "not verified"
        return "error" if record.kind != "design" else "failed"
    return record.status


def list_runs(data_dir: Path, kind: RunKind | None = None) -> list[RunRecord]:
    root = runs_root(data_dir)
    out: list[RunRecord] = []
    if not root.is_dir():
        return out
    for d in sorted(root.iterdir()):
        if (d / "run.json").is_file():
            try:
                rec = load_run(data_dir, d.name)
            except StoreError:
                continue
            if kind is None or rec.kind == kind:
                out.append(rec)
    return out
