"""The golden sample-count cache: one measurement per setup, kept on disk only when it passed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from veriloop.tools.expected import GoldenCounts, key


def test_measured_once_under_concurrency_and_persisted(tmp_path: Path) -> None:
    counts = GoldenCounts(tmp_path / "g.json")
    calls: list[int] = []

    def run() -> int:
        calls.append(1)
        time.sleep(0.05)
        return 219

    threads = [threading.Thread(target=counts.measure, args=("k", run)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and counts.get("k") == 219
    assert GoldenCounts(tmp_path / "g.json").get("k") == 219  # read back by a new process


def test_a_failed_golden_run_is_not_written(tmp_path: Path) -> None:
    counts = GoldenCounts(tmp_path / "g.json")
    calls: list[int] = []

    def fail() -> None:
        calls.append(1)

    assert counts.measure("bad", fail) is None and counts.measure("bad", fail) is None
    assert len(calls) == 1  # remembered in this process
    assert GoldenCounts(tmp_path / "g.json").get("bad") is None


def test_key_covers_testbench_reference_golden_and_data() -> None:
    base = key("tb", "ref", "gold", {"a.hex": "01"})
    assert base == key("tb", "ref", "gold", {"a.hex": b"01"})
    assert len({base, key("tb2", "ref", "gold", None), key("tb", None, "gold", None),
                key("tb", "ref", "gold2", None), key("tb", "ref", "gold", {"a.hex": "02"})}) == 5
