"""The bench side of `veriloop runs`: show, resume and export a bench run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from veriloop import runstore
from veriloop.bench.report import load_report
from veriloop.errors import InputError, StoreError


def show(record: runstore.RunRecord) -> dict[str, Any]:
    """A JSON-able summary of the run's results: per-group metrics (the caller adds the record)."""
    report = load_report(record)
    data = report.model_dump(mode="json")
    return {"samples": report.samples, "spec": data["spec"], "groups": data["groups"],
            "tool_versions": data["tool_versions"]}


def resume(record: runstore.RunRecord, settings: Any, console: Any = None) -> runstore.RunRecord:
    """Run the samples the store does not hold yet (a killed run loses nothing it finished), with the
    progress bar on `console` (stderr by default)."""
    from veriloop.bench.session import execute

    return execute(record, settings, console)


def export(record: runstore.RunRecord, dest: Path) -> list[Path]:
    """Write run.json, a results.sqlite copy, samples.jsonl (with code) and report.json/.md/.html."""
    from veriloop.bench.report.html import html_page
    from veriloop.bench.report.text import markdown
    from veriloop.bench.store import ResultStore

    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise InputError(f"Export destination {dest} exists and is not a directory.")
    out = dest
    try:
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy2(record.dir / "run.json", out / "run.json")
        with ResultStore.open(record.dir) as store:
            recs = store.records(with_code=True)
            backup = ResultStore(out / "results.sqlite")
            store.db.backup(backup.db)
            backup.close()
        with (out / "samples.jsonl").open("w", encoding="utf-8") as fh:
            for r in recs:
                fh.write(json.dumps(r.model_dump(mode="json")) + "\n")
        report = load_report(record)
        (out / "report.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
        (out / "report.md").write_text(markdown(report), encoding="utf-8")
        (out / "report.html").write_text(html_page(record), encoding="utf-8")
    except OSError as exc:
        raise StoreError(f"Cannot export run {record.id} to {out}: {exc.strerror}.") from None
    names = ("run.json", "results.sqlite", "samples.jsonl", "report.json", "report.md", "report.html")
    return [out / n for n in names]
