"""Samples made elsewhere (other pipelines, batch jobs, agents), read for `veriloop bench grade`.

Two layouts are accepted:

- a directory of trial folders, one file per design in each: `t1/accu.v`, `t2/accu.v`, ... (RTLLM's
  layout). A file is matched to a problem by its stem: the problem's id or the module it must define.
- a JSONL file of `{"problem": ID, "completion": TEXT}` rows (`task_id` is read as `problem`, as
  VerilogEval's own sample files name it); several rows for a problem are several samples.

The text of a sample goes through the same extraction as a live model's reply, so fenced code, prose
around it and bare modules are all read as they would be from a backend.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import BaseModel, Field

from veriloop.bench.problem import Suite
from veriloop.errors import InputError

META_KEY = "imported_samples"
"""The results-store meta key holding the samples' texts (so a resumed run needs no original file)."""
_HDL = (".v", ".sv")
_MAX_BYTES = 4 << 20


class ImportedSamples(BaseModel):
    """Sample texts per problem id, in the order given, and where they came from."""

    source: str
    layout: str
    """"trials" (a directory of trial folders) or "jsonl"."""
    texts: dict[str, list[str]] = Field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {p: len(t) for p, t in self.texts.items()}


def _natural(name: str) -> list[object]:
    """Sort key that puts t2 before t10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _resolver(suite: Suite) -> dict[str, str]:
    """Name (problem id, or the module the problem asks for) -> problem id; ids win over module names."""
    names: dict[str, str] = {}
    for p in suite.problems:
        if p.top:
            names.setdefault(p.top, p.id)
    for p in suite.problems:
        names[p.id] = p.id
    return names


def _read_text(path: Path) -> str:
    try:
        if path.stat().st_size > _MAX_BYTES:
            raise InputError(f"Sample {path} is larger than {_MAX_BYTES >> 20} MiB.")
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"Cannot read sample {path}: {exc.strerror}.") from None


def _from_trials(root: Path, suite: Suite) -> ImportedSamples:
    names = _resolver(suite)
    trials = sorted((d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")),
                    key=lambda d: _natural(d.name))
    if not trials:
        raise InputError(f"{root} holds no trial folders.",
                         hint="Lay samples out as t1/<design>.v, t2/<design>.v, ... or give a JSONL file.")
    texts: dict[str, list[str]] = {}
    unknown: list[str] = []
    for trial in trials:
        for f in sorted(trial.iterdir(), key=lambda f: f.name):
            if not f.is_file() or f.suffix not in _HDL:
                continue
            pid = names.get(f.stem)
            if pid is None:
                unknown.append(f"{trial.name}/{f.name}")
                continue
            texts.setdefault(pid, []).append(_read_text(f))
    if unknown:
        raise InputError(f"Sample {root / unknown[0]} names no problem of suite {suite.name}"
                         + (f" (nor do {len(unknown) - 1} more)" if len(unknown) > 1 else "") + ".",
                         hint="Name each file after the problem's id or its module, e.g. "
                              f"{suite.problems[0].top or suite.problems[0].id}.v.")
    if not texts:
        raise InputError(f"{root}'s trial folders hold no .v or .sv file.")
    return ImportedSamples(source=str(root), layout="trials", texts=_ordered(texts, suite))


def _from_jsonl(path: Path, suite: Suite) -> ImportedSamples:
    names = _resolver(suite)
    texts: dict[str, list[str]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Cannot read samples file {path}: {exc}.") from None
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}, line {no}"
        try:
            row = json.loads(line)
        except ValueError:
            raise InputError(f"{where} is not JSON.",
                             hint='Each line is {"problem": ID, "completion": TEXT}.') from None
        if not isinstance(row, dict):
            raise InputError(f"{where} is not a JSON object.")
        problem = row.get("problem", row.get("task_id"))
        completion = row.get("completion")
        if not isinstance(problem, str) or not isinstance(completion, str):
            raise InputError(f"{where} needs a string \"problem\" and a string \"completion\".")
        pid = names.get(problem)
        if pid is None:
            examples = ", ".join(p.id for p in suite.problems[:3])
            raise InputError(f"{where} names problem '{problem}', which suite {suite.name} does not have.",
                             hint=f"Problem ids look like {examples}.")
        texts.setdefault(pid, []).append(completion)
    if not texts:
        raise InputError(f"Samples file {path} holds no rows.")
    return ImportedSamples(source=str(path), layout="jsonl", texts=_ordered(texts, suite))


def _ordered(texts: dict[str, list[str]], suite: Suite) -> dict[str, list[str]]:
    return {p.id: texts[p.id] for p in suite.problems if p.id in texts}


def load_samples(path: Path, suite: Suite) -> ImportedSamples:
    """Read samples from a trial-folder directory or a JSONL file; every sample must name a problem."""
    p = Path(path).expanduser()
    if not p.exists():
        raise InputError(f"Samples path {p} does not exist.")
    if p.is_dir():
        return _from_trials(p, suite)
    return _from_jsonl(p, suite)
