"""Two bench runs side by side: which groups correspond, and what differs between them.

Groups pair up by (backend, config) first. Groups left over on both sides (two runs of different
backends, a live run against `bench grade` of samples made elsewhere) pair by configuration, then in
order, so two runs with one group each are always compared. For each pair: pass@1 (and the largest
common k), solved problems, cost, and the problems only one side solved.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from veriloop.bench.metrics import GroupMetrics
from veriloop.bench.report.model import BenchReport


class PairDiff(BaseModel):
    """One group of run A against one group of run B (either may be missing)."""

    a: GroupMetrics | None = None
    b: GroupMetrics | None = None
    pass1_delta: float | None = None
    """B's pass@1 minus A's, over the problems both ran (None unless both ran some)."""
    common_problems: int = 0
    only_a_solved: list[str] = Field(default_factory=list)
    only_b_solved: list[str] = Field(default_factory=list)
    changed_failure: dict[str, tuple[str, str]] = Field(default_factory=dict)
    """Problems neither solved whose main failure category differs: problem -> (A's, B's)."""

    @staticmethod
    def label(g: GroupMetrics | None) -> str:
        if g is None:
            return "-"
        return g.backend if g.config == "reference" else f"{g.backend}/{g.config}"


class Comparison(BaseModel):
    a: str
    b: str
    a_title: str = ""
    b_title: str = ""
    groups: list[PairDiff] = Field(default_factory=list)
    """Paired groups (key kept as `groups` for JSON readers of earlier versions)."""


def _pair(groups_a: list[GroupMetrics], groups_b: list[GroupMetrics]) -> list[tuple[GroupMetrics | None,
                                                                                       GroupMetrics | None]]:
    left_a = list(groups_a)
    left_b = list(groups_b)
    out: list[tuple[GroupMetrics | None, GroupMetrics | None]] = []
    for match in (lambda x, y: (x.backend, x.config) == (y.backend, y.config),
                  lambda x, y: x.config == y.config,
                  lambda x, y: True):
        for ga in list(left_a):
            gb = next((g for g in left_b if match(ga, g)), None)
            if gb is not None:
                out.append((ga, gb))
                left_a.remove(ga)
                left_b.remove(gb)
    out += [(ga, None) for ga in left_a] + [(None, gb) for gb in left_b]
    return out


def _rate(g: GroupMetrics, problems: set[str]) -> float:
    return sum(c / n for p, (n, c) in g.per_problem.items() if p in problems and n) / len(problems)


def diff(ga: GroupMetrics | None, gb: GroupMetrics | None) -> PairDiff:
    """What differs between two groups, over the problems both ran."""
    d = PairDiff(a=ga, b=gb)
    if ga is None or gb is None:
        return d
    common = set(ga.per_problem) & set(gb.per_problem)
    d.common_problems = len(common)
    if not common:
        return d
    d.pass1_delta = _rate(gb, common) - _rate(ga, common)
    solved_a = {p for p in common if ga.per_problem[p][1] > 0}
    solved_b = {p for p in common if gb.per_problem[p][1] > 0}
    d.only_a_solved = sorted(solved_a - solved_b)
    d.only_b_solved = sorted(solved_b - solved_a)
    d.changed_failure = {p: (ga.failures[p], gb.failures[p]) for p in sorted(common)
                         if p in ga.failures and p in gb.failures and ga.failures[p] != gb.failures[p]}
    return d


def compare(a: BenchReport, b: BenchReport) -> Comparison:
    """Pair the groups of two runs and compute their differences."""
    return Comparison(a=a.run_id, b=b.run_id, a_title=a.title, b_title=b.title,
                      groups=[diff(ga, gb) for ga, gb in _pair(a.groups, b.groups)])
