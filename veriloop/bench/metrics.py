"""Benchmark metrics: unbiased pass@k, per-category rates, cost per solved problem, latency percentiles."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from veriloop.bench.taxonomy import CLASSES, failure_class, failure_reason


def pass_at_k(n: int, c: int, k: int) -> float:
    """Chen et al.'s unbiased estimator 1 - C(n-c, k)/C(n, k), computed as a stable product."""
    if n < 1 or k < 1 or k > n:
        raise ValueError(f"pass@k needs 1 <= k <= n (got n={n}, k={k})")
    if c < 0 or c > n:
        raise ValueError(f"correct count c={c} outside 0..{n}")
    if n - c < k:
        return 1.0
    # C(n-c,k)/C(n,k) = prod_{i=n-c+1}^{n} (1 - k/i)
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    if not values:
        return None
    xs = sorted(values)
    if len(xs) == 1:
        return float(xs[0])
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = math.ceil(pos)
    return float(xs[lo] + (xs[hi] - xs[lo]) * (pos - lo))


class GroupMetrics(BaseModel):
    """Metrics of one (backend, config) group over the problems it ran."""

    backend: str
    config: str
    model: str = ""
    mode: str = ""
    problems: int = 0
    samples: int = 0
    n_min: int = 0
    """Smallest number of samples any problem has; pass@k is given for k <= n_min."""
    pass_at: dict[int, float] = Field(default_factory=dict)
    pass_rate: float = 0.0
    """Fraction of samples that passed."""
    solved: int = 0
    """Problems with at least one passing sample."""
    categories: dict[str, int] = Field(default_factory=dict)
    category_rates: dict[str, float] = Field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cost_per_solved: float | None = None
    latency_p50: float | None = None
    latency_p95: float | None = None
    per_problem: dict[str, tuple[int, int]] = Field(default_factory=dict)
    """problem -> (samples, passing samples)."""
    failures: dict[str, str] = Field(default_factory=dict)
    """problem -> most common failure category, for problems never solved."""
    reasons: dict[str, str] = Field(default_factory=dict)
    """problem -> one line on why it was never solved (the grader's evidence on a sample of that category)."""
    taxonomy: dict[str, int] = Field(default_factory=dict)
    """Failure class (`taxonomy.CLASSES`) -> failing samples of this group."""
    problem_taxonomy: dict[str, dict[str, int]] = Field(default_factory=dict)
    """problem -> failure class -> failing samples, for problems with any failing sample."""


def group_metrics(rows: Iterable[dict[str, Any]]) -> list[GroupMetrics]:
    """Aggregate sample rows (dicts with problem, backend, config, passed, category, ...) per group."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)  # (backend, config) -> rows
    for r in rows:
        groups[(r["backend"], r["config"])].append(r)
    out: list[GroupMetrics] = []
    for (backend, config), rs in sorted(groups.items()):
        per: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rs:
            per[r["problem"]].append(r)
        counts = {p: (len(v), sum(1 for r in v if r["passed"])) for p, v in per.items()}
        n_min = min(n for n, _ in counts.values())
        pass_at = {
            k: sum(pass_at_k(n, c, k) for n, c in counts.values()) / len(counts)
            for k in range(1, n_min + 1)
        }
        cats = Counter(r["category"] for r in rs)
        solved = sum(1 for _, c in counts.values() if c > 0)
        cost = sum(float(r.get("cost_usd") or 0.0) for r in rs)
        lat = [float(r["latency_s"]) for r in rs if r.get("latency_s") is not None]
        failures, reasons = {}, {}
        for p, v in per.items():
            if counts[p][1] == 0:
                failures[p] = cat = Counter(r["category"] for r in v).most_common(1)[0][0]
                first_of = next(r for r in v if r["category"] == cat)
                reasons[p] = failure_reason(cat, str(first_of.get("detail") or ""),
                                            str(first_of.get("log_tail") or ""))
        classes: dict[str, dict[str, int]] = defaultdict(dict)
        for r in rs:
            cls = failure_class(r["category"], str(r.get("detail") or ""), str(r.get("log_tail") or ""))
            if cls is not None:
                classes[r["problem"]][cls] = classes[r["problem"]].get(cls, 0) + 1
        taxonomy = Counter(cls for per_p in classes.values() for cls, k in per_p.items() for _ in range(k))
        first = rs[0]
        out.append(GroupMetrics(
            backend=backend, config=config, model=str(first.get("model") or ""),
            mode=str(first.get("mode") or ""), problems=len(counts), samples=len(rs), n_min=n_min,
            pass_at=pass_at, pass_rate=sum(1 for r in rs if r["passed"]) / len(rs), solved=solved,
            categories=dict(sorted(cats.items())),
            category_rates={k: v / len(rs) for k, v in sorted(cats.items())},
            prompt_tokens=sum(int(r.get("prompt_tokens") or 0) for r in rs),
            completion_tokens=sum(int(r.get("completion_tokens") or 0) for r in rs),
            cost_usd=cost, cost_per_solved=(cost / solved) if solved else None,
            latency_p50=percentile(lat, 50), latency_p95=percentile(lat, 95),
            per_problem=dict(sorted(counts.items())), failures=dict(sorted(failures.items())),
            reasons=dict(sorted(reasons.items())),
            taxonomy={c: taxonomy[c] for c in CLASSES if taxonomy.get(c)},
            problem_taxonomy={p: {c: v[c] for c in CLASSES if c in v} for p, v in sorted(classes.items())},
        ))
    return out
