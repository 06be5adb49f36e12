"""pass@k estimator, percentiles and per-group aggregation."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import pytest

from veriloop.bench.metrics import group_metrics, pass_at_k, percentile


def exact(n: int, c: int, k: int) -> float:
    if n - c < k:
        return 1.0
    return float(1 - Fraction(comb(n - c, k), comb(n, k)))


@pytest.mark.parametrize(("n", "c", "k", "want"), [
    (5, 2, 1, 0.4), (5, 0, 1, 0.0), (5, 5, 1, 1.0), (5, 1, 2, 0.4), (5, 3, 5, 1.0), (10, 1, 10, 1.0),
    (4, 1, 2, 0.5),
])
def test_pass_at_k_by_hand(n: int, c: int, k: int, want: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(want, abs=1e-12)


def test_pass_at_k_matches_exact_combinatorics_including_large_n() -> None:
    for n, c, k in [(20, 3, 5), (200, 7, 50), (1000, 3, 100), (1000, 999, 1), (1000, 1, 999)]:
        assert pass_at_k(n, c, k) == pytest.approx(exact(n, c, k), rel=1e-9, abs=1e-12)


def test_pass_at_k_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)


def test_percentile() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0], 95) == 3.0
    assert percentile([1, 2, 3, 4], 50) == pytest.approx(2.5)
    assert percentile(list(range(101)), 95) == pytest.approx(95.0)


def _row(problem: str, passed: bool, category: str, cost: float = 0.01, lat: float = 1.0,
         backend: str = "a", config: str = "single-shot") -> dict[str, object]:
    return {"problem": problem, "backend": backend, "config": config, "passed": passed,
            "category": category, "cost_usd": cost, "latency_s": lat, "prompt_tokens": 10,
            "completion_tokens": 5}


def test_group_metrics_aggregates_per_backend_and_config() -> None:
    rows = [_row("p1", True, "pass"), _row("p1", False, "syntax"),
            _row("p2", False, "mismatch"), _row("p2", False, "mismatch", lat=3.0),
            _row("p1", True, "pass", backend="b"), _row("p2", True, "pass", backend="b")]
    by = {(g.backend, g.config): g for g in group_metrics(rows)}
    a = by[("a", "single-shot")]
    assert a.problems == 2 and a.samples == 4 and a.n_min == 2
    assert a.pass_at[1] == pytest.approx((0.5 + 0.0) / 2)
    assert a.pass_at[2] == pytest.approx((1.0 + 0.0) / 2)
    assert a.solved == 1 and a.cost_usd == pytest.approx(0.04) and a.cost_per_solved == pytest.approx(0.04)
    assert a.categories == {"mismatch": 2, "pass": 1, "syntax": 1}
    assert a.category_rates["mismatch"] == pytest.approx(0.5)
    assert a.failures == {"p2": "mismatch"}
    assert a.latency_p50 == pytest.approx(1.0) and a.latency_p95 == pytest.approx(2.7)
    assert a.prompt_tokens == 40 and a.completion_tokens == 20
    b = by[("b", "single-shot")]
    assert b.pass_at == {1: 1.0} and b.cost_per_solved == pytest.approx(0.01)
