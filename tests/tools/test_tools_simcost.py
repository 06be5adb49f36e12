"""Cost-ordered batch grading: estimates, the measured history, and longest-first order in grade_many."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from veriloop.tools import simcost
from veriloop.tools.grading import GradeItem, grade_many

DATA = Path(__file__).resolve().parents[2].parent / "shared/benchmarks/verilog-eval-v2/dataset_spec-to-rtl"


@pytest.fixture
def fresh_history(tmp_path: Path) -> Iterator[simcost.History]:
    old = simcost._shared
    simcost._shared = simcost.History(tmp_path / "costs.json")
    try:
        yield simcost._shared
    finally:
        simcost._shared = old


def test_estimate_counts_requested_cycles_times_design_size() -> None:
    tb = "initial begin repeat(10) @(posedge clk); repeat (5) @(posedge clk, negedge clk); end"
    assert simcost.estimate(tb, "x" * 100) == (10 + 2 * 5) * 100
    assert simcost.estimate(tb, "x" * 10, ref="y" * 50) == 20 * 50
    assert simcost.estimate("no waits", "") == 1.0


def test_loop_bodies_count_once_per_trip() -> None:
    straight = "always @(posedge clk) begin a <= b; end"
    assert simcost.work(straight) == len(straight)
    body = " begin x[i][j] <= y; end"
    nested = "always @(posedge clk) for (int i=0;i<16;i++) for (int j=0;j<16;j++)" + body
    # the outer body is " for (...)" + body: its leading blank, then the inner loop's 16 trips
    assert simcost.work(nested) == len("always @(posedge clk) ") + 16 * (1 + 16 * len(body))
    unknown = "for (i = 0; i < WIDTH; i = i + 1) y[i] = x[i];"
    assert simcost.work(unknown) == len(" y[i] = x[i];")  # a non-constant bound counts one trip


def test_history_scales_estimates_and_survives_reload(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    h = simcost.History(path)
    h.record("a", 2.0, estimate_units=1000.0)
    h.record("a", 4.0)
    assert h.get("a") == pytest.approx(3.0)
    assert h.expected("a", 1.0) == pytest.approx(3.0)
    assert h.expected("unknown", 500.0) == pytest.approx(500.0 * 3.0 / 1000.0)
    h.save()
    other = simcost.History(path)
    other.record("b", 1.0)
    other.save()
    again = simcost.History(path)
    assert again.get("a") == pytest.approx(3.0) and again.get("b") == pytest.approx(1.0)
    path.write_text("{not json")
    assert simcost.History(path).get("a") is None


def test_longest_first_is_stable() -> None:
    assert simcost.longest_first([1.0, 5.0, 1.0, 3.0]) == [1, 3, 0, 2]


@pytest.mark.skipif(not DATA.is_dir(), reason="VerilogEval v2 data not present")
def test_grade_many_starts_the_longest_and_keeps_input_order(fresh_history: simcost.History) -> None:
    names = ["Prob001_zero", "Prob050_kmap1", "Prob082_lfsr32"]
    items = []
    for n in names:
        ref = (DATA / f"{n}_ref.sv").read_text()
        tb = (DATA / f"{n}_test.sv").read_text()
        design = re.sub(r"\bRefModule\b", "TopModule", ref)
        items.append(GradeItem(design_sv=design, testbench_sv=tb, ref_sv=ref))
    finished: list[int] = []
    reports = grade_many(items, workers=1, on_done=lambda i, _r: finished.append(i))
    assert finished[0] == 2  # the 200k-cycle LFSR testbench runs first
    assert [r.passed for r in reports] == [True, True, True]
    assert reports[2].samples and reports[2].samples > reports[0].samples  # type: ignore[operator]
    measured = fresh_history.get(simcost.key(items[2].testbench_sv, items[2].ref_sv))
    assert measured is not None and measured > 0
    assert Path(fresh_history.path).is_file()  # saved after the batch
