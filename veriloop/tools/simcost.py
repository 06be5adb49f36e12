"""Expected cost of grading against a testbench, so that batches start the longest simulations first.

Parallel grading is list scheduling: with a few workers, one long simulation that starts last
decides when the batch ends (VerilogEval's Prob144 alone is ~40% of the whole suite's work). Longest
first fixes that, given a cost per testbench:

- measured: the simulation seconds of earlier gradings against the same testbench (+ reference),
  kept in `$XDG_CACHE_HOME/veriloop/sim-costs.json` (`History`);
- otherwise estimated from the text: the clock cycles the testbench asks for (`repeat (N)` counts,
  doubled for both-edge waits) times the work of the design per cycle (the larger of design and
  reference): its size in characters, where the body of a procedural `for` loop with a constant
  bound counts once per iteration (Icarus runs such loops at simulation time); scaled to seconds by
  the median ratio seen on testbenches that have both (`History.expected`).

Only the order of work depends on this, never a verdict.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import statistics
import tempfile
import threading
from pathlib import Path

_REPEAT_RE = re.compile(r"repeat\s*\(\s*(\d+)\s*\)\s*(@\s*\([^)]*\))?")
_FOR_RE = re.compile(r"\bfor\s*\(([^;]*);([^;]*);[^)]*\)")
_BOUND_RE = re.compile(r"(?:<=?|!=)\s*(\d+)\s*$")
_BLOCK_RE = re.compile(r"\b(begin|end)\b|;")
_MAX_TRIPS = 1 << 16
_SAVE_EVERY = 64


def key(testbench: str, ref: str | None = None) -> str:
    """The identity of a grading setup: the testbench and the reference it compares against."""
    return hashlib.sha256((testbench + "\0" + (ref or "")).encode()).hexdigest()[:20]


def _body_end(text: str, start: int) -> int:
    """Where the statement starting at `start` ends: its matching `end`, or its first `;`."""
    nested = _FOR_RE.match(text, start + len(text[start:]) - len(text[start:].lstrip()))
    if nested:
        return _body_end(text, nested.end())
    depth = 0
    for m in _BLOCK_RE.finditer(text, start):
        if m[1] == "begin":
            depth += 1
        elif m[1] == "end":
            depth -= 1
            if depth <= 0:
                return m.end()
        elif depth == 0:
            return m.end()
    return len(text)


def work(text: str) -> float:
    """Characters executed per pass over `text`: a loop body with a constant bound counts per trip."""
    total = 0.0
    pos = 0
    for m in _FOR_RE.finditer(text):
        if m.start() < pos:
            continue  # inside a loop already counted
        bound = _BOUND_RE.search(m[2].strip())
        trips = min(int(bound[1]), _MAX_TRIPS) if bound else 1
        end = _body_end(text, m.end())
        total += (m.start() - pos) + trips * work(text[m.end() : end])
        pos = end
    return total + (len(text) - pos)


def estimate(testbench: str, design: str = "", ref: str | None = None) -> float:
    """Cycles the testbench requests times the design's work per cycle (arbitrary units, >= 1)."""
    cycles = 0
    for count, event in _REPEAT_RE.findall(testbench):
        both = bool(event) and "posedge" in event and "negedge" in event
        cycles += int(count) * (2 if both else 1)
    size = max(work(design), work(ref or ""), 1.0)
    return float(max(cycles, 1) * size)


def default_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "veriloop" / "sim-costs.json"


class History:
    """Measured simulation seconds per grading setup, loaded once and saved atomically (merged)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, float | None]] = self._read()
        self._dirty = 0

    def _read(self) -> dict[str, tuple[float, float | None]]:
        """{setup: (seconds, estimate units or None)}; a missing or damaged file is an empty history."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        out: dict[str, tuple[float, float | None]] = {}
        for k, v in data.items() if isinstance(data, dict) else ():
            with contextlib.suppress(TypeError, ValueError, IndexError):
                secs, units = (
                    (float(v[0]), float(v[1]) if v[1] else None) if isinstance(v, list) else (float(v), None)
                )
                if secs >= 0:
                    out[str(k)] = (secs, units)
        return out

    def get(self, setup: str) -> float | None:
        found = self._entries.get(setup)
        return None if found is None else found[0]

    def record(self, setup: str, seconds: float, estimate_units: float | None = None) -> None:
        """Remember a measurement (a moving average when the setup was seen before)."""
        with self._lock:
            old = self._entries.get(setup)
            secs = seconds if old is None else 0.5 * old[0] + 0.5 * seconds
            self._entries[setup] = (secs, estimate_units or (old[1] if old else None))
            self._dirty += 1
            due = self._dirty >= _SAVE_EVERY
        if due:
            self.save()

    def expected(self, setup: str, estimate_units: float) -> float:
        """Seconds: measured when known, else the estimate scaled by the median measured ratio."""
        known = self._entries.get(setup)
        if known is not None:
            return known[0]
        ratios = [s / u for s, u in self._entries.values() if u]
        scale = statistics.median(ratios) if ratios else 1e-6
        return estimate_units * scale

    def save(self) -> None:
        """Merge into the file on disk (other processes may have added setups) and replace it."""
        with self._lock:
            if not self._dirty:
                return
            merged = {**self._read(), **self._entries}
            self._dirty = 0
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".sim-costs-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({k: [s, u] for k, (s, u) in merged.items()}, fh)
            os.replace(tmp, self.path)


_shared: History | None = None
_shared_lock = threading.Lock()


def history() -> History:
    """The process-wide history (saved at exit too)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            import atexit

            _shared = History()
            atexit.register(_shared.save)
        return _shared


def expected_s(testbench: str, design: str = "", ref: str | None = None) -> float:
    """Expected simulation seconds of grading `design` against this testbench (and reference)."""
    return history().expected(key(testbench, ref), estimate(testbench, design, ref))


def record(testbench: str, design: str, ref: str | None, seconds: float) -> None:
    """Remember how long grading `design` against this testbench (and reference) simulated."""
    history().record(key(testbench, ref), seconds, estimate(testbench, design, ref))


def longest_first(costs: list[float]) -> list[int]:
    """Indices in decreasing expected cost (stable for ties)."""
    return sorted(range(len(costs)), key=lambda i: -costs[i])
