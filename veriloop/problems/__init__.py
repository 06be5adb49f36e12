"""The built-in evolution problems: one OpenEvolve-style directory each, listed with metric and baseline."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

from veriloop.errors import InputError

ROOT = Path(__file__).resolve().parent
KIT = ROOT / "problemkit.py"


@dataclass(frozen=True)
class ProblemInfo:
    """One built-in problem as `veriloop problems list` shows it."""

    name: str
    path: Path
    summary: str
    metric: str
    direction: str
    baseline_score: float | None
    kind: str
    baseline_tolerance: float = 1e-6
    """How far a fresh evaluation of the baseline may land from baseline_score (timing noise)."""
    baseline_metrics: dict[str, float] | None = None

    def to_json(self) -> dict[str, object]:
        out = asdict(self)
        out["path"] = str(self.path)
        return out


def _dirs() -> list[Path]:
    return sorted(
        p
        for p in ROOT.iterdir()
        if p.is_dir() and (p / "evaluator.py").is_file() and any(p.glob("initial_program.*"))
    )


def _info(path: Path) -> ProblemInfo:
    data = tomllib.loads((path / "problem.toml").read_text(encoding="utf-8"))
    listing_file = path / "listing.toml"
    listing = tomllib.loads(listing_file.read_text(encoding="utf-8")) if listing_file.is_file() else {}
    program = next(iter(sorted(path.glob("initial_program.*"))))
    return ProblemInfo(
        name=path.name,
        path=path,
        summary=str(listing.get("summary", "")),
        metric=str(listing.get("metric", "combined_score")),
        direction=str(data.get("metrics", {}).get("combined_score", "max")),
        baseline_score=float(listing["baseline_score"]) if "baseline_score" in listing else None,
        kind="hardware"
        if program.suffix in (".v", ".abc") or listing.get("kind") == "hardware"
        else "systems",
        baseline_tolerance=float(listing.get("baseline_tolerance", 1e-6)),
        baseline_metrics={str(k): float(v) for k, v in listing.get("baseline_metrics", {}).items()} or None,
    )


def list_problems() -> list[ProblemInfo]:
    """Every built-in problem, sorted by name."""
    return [_info(p) for p in _dirs()]


def problem_path(name: str) -> Path:
    """The directory of the built-in problem `name`; InputError naming the choices if there is none."""
    candidate = ROOT / name
    if name and "/" not in name and candidate in _dirs():
        return candidate
    names = ", ".join(p.name for p in _dirs())
    raise InputError(f"There is no built-in problem called '{name}'.", hint=f"Built-in problems: {names}.")


def sync_kits() -> list[Path]:
    """Copy problemkit.py into every problem directory that uses it; returns the copies rewritten."""
    source = KIT.read_bytes()
    changed = []
    for path in _dirs():
        if "from problemkit import" not in (path / "evaluator.py").read_text(encoding="utf-8"):
            continue
        target = path / "problemkit.py"
        if not target.is_file() or target.read_bytes() != source:
            target.write_bytes(source)
            changed.append(target)
    return changed
