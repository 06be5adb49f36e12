"""The sample count a testbench reports for its golden reference: measured once per setup, cached on disk.

A pass needs exactly this many samples, so a design cannot pass by ending the simulation early (or
by any other way of making the testbench count fewer samples). The count is keyed by
sha256(testbench, reference compiled beside the design, golden design, data files) and kept in
`$XDG_CACHE_HOME/veriloop/golden-samples.json`; only counts from a passing golden run are kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path


def key(testbench: str, ref: str | None, golden: str, data_files: Mapping[str, str | bytes] | None) -> str:
    h = hashlib.sha256()
    for part in (testbench, ref or "", golden):
        h.update(part.encode())
        h.update(b"\0")
    for name in sorted(data_files or {}):
        value = (data_files or {})[name]
        h.update(name.encode() + b"\0" + (value.encode() if isinstance(value, str) else value) + b"\0")
    return h.hexdigest()[:32]


def default_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "veriloop" / "golden-samples.json"


class GoldenCounts:
    """Sample counts by setup key; one measurement per key even when many threads ask at once."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._known: dict[str, int] = self._read()
        self._failed: set[str] = set()
        """Setups whose golden run did not pass, in this process (not written: a fixed tool may pass)."""

    def _read(self) -> dict[str, int]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): int(v) for k, v in data.items() if isinstance(v, int) and v > 0}

    def get(self, setup: str) -> int | None:
        with self._lock:
            return self._known.get(setup)

    def put(self, setup: str, samples: int) -> None:
        """Remember a count (written to disk only when it is new)."""
        with self._lock:
            if self._known.get(setup) == samples:
                return
            self._known[setup] = samples
        self._save()

    def measure(self, setup: str, run: Callable[[], int | None]) -> int | None:
        """The cached count, or `run()` (once per key at a time). A failed golden run (None) is
        remembered for this process only."""
        found = self.get(setup)
        if found is not None or setup in self._failed:
            return found
        with self._lock:
            lock = self._key_locks.setdefault(setup, threading.Lock())
        with lock:
            found = self.get(setup)
            if found is not None or setup in self._failed:
                return found
            samples = run()
            if samples is not None and samples > 0:
                self.put(setup, samples)
                return samples
            with self._lock:
                self._failed.add(setup)
            return None

    def _save(self) -> None:
        with self._lock:
            merged = {**self._read(), **self._known}
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".golden-samples-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(merged, fh)
            os.replace(tmp, self.path)


_shared: GoldenCounts | None = None
_shared_lock = threading.Lock()


def counts() -> GoldenCounts:
    """The process-wide cache (reads the file on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.path != default_path():
            _shared = GoldenCounts()
        return _shared
