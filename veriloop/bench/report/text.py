"""Terminal (rich) and markdown renderings of bench reports, single and side by side."""

from __future__ import annotations

from rich.table import Table

from veriloop.bench.metrics import GroupMetrics
from veriloop.bench.report.compare import compare
from veriloop.bench.report.model import BenchReport


def _fmt(v: float | None, pct: bool = False, money: bool = False, secs: bool = False) -> str:
    if v is None:
        return "-"
    if pct:
        return f"{100 * v:.1f}%"
    if money:
        return f"${v:.4f}"
    if secs:
        return f"{v:.2f}s"
    return f"{v:g}"


def _ks(groups: list[GroupMetrics]) -> list[int]:
    ks = sorted({k for g in groups for k in g.pass_at})
    if len(ks) > 4:  # keep the table narrow: 1, 5, 10 and the largest
        ks = sorted({k for k in ks if k in (1, 5, 10)} | {ks[-1]})
    return ks


def _row(g: GroupMetrics, ks: list[int]) -> list[str]:
    fails = ", ".join(f"{k} {v}" for k, v in g.categories.items() if k != "pass") or "-"
    return [g.backend, g.config, g.model or "-", f"{g.solved}/{g.problems}",
            *[_fmt(g.pass_at.get(k), pct=True) for k in ks], _fmt(g.pass_rate, pct=True),
            str(g.prompt_tokens + g.completion_tokens), _fmt(g.cost_usd, money=True),
            _fmt(g.cost_per_solved, money=True), _fmt(g.latency_p50, secs=True),
            _fmt(g.latency_p95, secs=True), fails]


def _headers(ks: list[int]) -> list[str]:
    return ["backend", "config", "model", "solved", *[f"pass@{k}" for k in ks], "pass rate", "tokens",
            "cost", "$/solved", "p50", "p95", "failures"]


def _compact_row(g: GroupMetrics, ks: list[int]) -> list[str]:
    fails = ", ".join(f"{k} {v}" for k, v in g.categories.items() if k != "pass") or "-"
    lat = "-" if g.latency_p50 is None or g.latency_p95 is None else \
        f"{g.latency_p50:.1f}/{g.latency_p95:.1f}s"
    return [g.backend if g.config == "reference" else f"{g.backend}\n{g.config}", f"{g.solved}/{g.problems}",
            *[_fmt(g.pass_at.get(k), pct=True) for k in ks],
            _fmt(g.cost_usd, money=True), _fmt(g.cost_per_solved, money=True), lat, fails]


def rich_table(report: BenchReport, groups: list[GroupMetrics] | None = None,
               title: str | None = None) -> Table:
    """A terminal-width table: one row per (backend, config); markdown/HTML carry every column."""
    groups = report.groups if groups is None else groups
    ks = _ks(groups)
    table = Table(title=title or f"bench {report.run_id}: {report.title}", show_lines=True)
    for h in ("backend / config", "solved", *[f"pass@{k}" for k in ks], "cost", "$/solved", "p50/p95",
              "failures"):  # cost and latency in full precision live in the md/json/html reports
        table.add_column(h, justify="left" if h in ("backend / config", "failures") else "right",
                         overflow="fold")
    for g in groups:
        table.add_row(*_compact_row(g, ks))
    return table


def evolve_table(report: BenchReport) -> Table:
    """Evolve campaigns: score reached (mean, best) and spend per problem and backend."""
    table = Table(title="evolution: score reached and spend")
    for h in ("problem", "backend", "samples", "mean score", "best score", "mean cost"):
        table.add_column(h, justify="left" if h in ("problem", "backend") else "right")
    for r in report.evolve_summary():
        table.add_row(r["problem"], r["backend"], str(r["samples"]), _fmt4(r["mean_score"]),
                      _fmt4(r["best_score"]), _fmt(r["mean_cost_usd"], money=True))
    return table


def _fmt4(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"


def markdown(report: BenchReport) -> str:
    ks = _ks(report.groups)
    lines = [f"# bench {report.run_id}", "", f"{report.title}", "",
             f"status: {report.status} · samples: {report.samples} · created: {report.created}", ""]
    if report.spec:
        lines += [report.sampling(), ""]
    hs = _headers(ks)
    lines += ["| " + " | ".join(hs) + " |", "|" + "|".join("---" for _ in hs) + "|"]
    lines += ["| " + " | ".join(_row(g, ks)) + " |" for g in report.groups]
    unsolved = [(g, p, c) for g in report.groups for p, c in g.failures.items()]
    if unsolved:
        lines += ["", "## Unsolved problems", ""]
        lines += [f"- {g.backend}/{g.config}: {p} ({c}){_because(g, p)}" for g, p, c in unsolved]
    lines += _taxonomy_md(report)
    if report.evolve:
        lines += ["", "## Evolution", "",
                  "| problem | backend | samples | mean score | best score | mean cost |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {r['problem']} | {r['backend']} | {r['samples']} | {_fmt4(r['mean_score'])} | "
                  f"{_fmt4(r['best_score'])} | {_fmt(r['mean_cost_usd'], money=True)} |"
                  for r in report.evolve_summary()]
    if report.tool_versions:
        lines += ["", "Tools: " + ", ".join(f"{k} {v}" for k, v in sorted(report.tool_versions.items()))]
    return "\n".join(lines) + "\n"


def _taxonomy_md(report: BenchReport) -> list[str]:
    """Failure classes per group, then per problem (one column per group)."""
    from veriloop.bench.taxonomy import CLASSES

    groups = [g for g in report.groups if g.taxonomy]
    if not groups:
        return []
    used = [c for c in CLASSES if any(c in g.taxonomy for g in groups)]
    labels = [g.backend if g.config == "reference" else f"{g.backend}/{g.config}" for g in groups]
    lines = ["", "## Failure taxonomy", "", "| group | samples | " + " | ".join(used) + " |",
             "|---|---|" + "---|" * len(used)]
    lines += [f"| {lab} | {g.samples} | " + " | ".join(str(g.taxonomy.get(c, 0)) for c in used) + " |"
              for lab, g in zip(labels, groups, strict=True)]
    problems = sorted({p for g in groups for p in g.problem_taxonomy})
    lines += ["", "### Failures per problem", "", "| problem | " + " | ".join(labels) + " |",
              "|---|" + "---|" * len(groups)]
    for p in problems:
        cells = [", ".join(f"{c} {k}" for c, k in g.problem_taxonomy.get(p, {}).items()) or "-"
                 for g in groups]
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    return lines


def _because(g: GroupMetrics, problem: str) -> str:
    why = g.reasons.get(problem, "")
    return f": {why}" if why and why != g.failures.get(problem) else ""


def unsolved_lines(report: BenchReport, limit: int = 12) -> list[str]:
    """Plain lines (never wrapped) naming each group's unsolved problems with the reason, up to `limit`
    per group; the rest are counted, and every one is in the md/json/html reports."""
    out: list[str] = []
    for g in report.groups:
        if not g.failures:
            continue
        label = g.backend if g.config == "reference" else f"{g.backend}/{g.config}"
        out.append(f"unsolved ({label}): {len(g.failures)} of {g.problems}")
        items = list(g.failures.items())
        out += [f"  {p} ({c}){_because(g, p)}" for p, c in items[:limit]]
        if len(items) > limit:
            more = len(items) - limit
            out.append(f"  ... and {more} more: veriloop bench report {report.run_id} --format md")
    return out


def compare_table(a: BenchReport, b: BenchReport) -> Table:
    """Paired groups of two runs (see `report.compare`): pass@1, its change, solved and cost. The run
    ids are in `compare_lines`, printed whole, not in the headers."""
    comp = compare(a, b)
    table = Table(title="bench compare: A vs B")
    for h in ("group A", "group B", "pass@1 A", "pass@1 B", "Δ pass@1", "solved A/B", "cost A/B"):
        table.add_column(h, justify="left" if h.startswith("group") else "right", overflow="fold")
    for d in comp.groups:
        ga, gb = d.a, d.b
        delta = "-" if d.pass1_delta is None else f"{100 * d.pass1_delta:+.1f} pt"
        solved = f"{ga.solved if ga else '-'}/{gb.solved if gb else '-'}"
        cost_a = _fmt(ga.cost_usd if ga else None, money=True)
        cost = f"{cost_a}/{_fmt(gb.cost_usd if gb else None, money=True)}"
        table.add_row(d.label(ga), d.label(gb), _fmt(ga.pass_at.get(1) if ga else None, pct=True),
                      _fmt(gb.pass_at.get(1) if gb else None, pct=True), delta, solved, cost)
    return table


def compare_lines(a: BenchReport, b: BenchReport, limit: int = 20) -> list[str]:
    """Plain lines to print under the table: the two whole run ids, then per pair the problems only
    one side solved and failures that changed category."""
    comp = compare(a, b)
    out = [f"A = {comp.a}" + (f"  ({comp.a_title})" if comp.a_title else ""),
           f"B = {comp.b}" + (f"  ({comp.b_title})" if comp.b_title else ""),
           "Δ pass@1 is over the problems both groups ran; pass@1 A and B over each group's own."]

    def names(ps: list[str]) -> str:
        return ", ".join(ps[:limit]) + (f" (+{len(ps) - limit} more)" if len(ps) > limit else "")

    for d in comp.groups:
        if d.a is None or d.b is None:
            continue
        head = f"{d.label(d.a)} vs {d.label(d.b)} on {d.common_problems} common problems"
        if not d.common_problems:
            out.append(f"{head}: nothing to compare")
            continue
        if not (d.only_a_solved or d.only_b_solved or d.changed_failure):
            out.append(f"{head}: the same problems solved")
            continue
        out.append(f"{head}:")
        if d.only_a_solved:
            out.append(f"  solved only by A: {names(d.only_a_solved)}")
        if d.only_b_solved:
            out.append(f"  solved only by B: {names(d.only_b_solved)}")
        if d.changed_failure:
            items = [f"{p} {x}->{y}" for p, (x, y) in d.changed_failure.items()]
            out.append(f"  failure changed: {names(items)}")
    return out


def compare_data(a: BenchReport, b: BenchReport) -> dict[str, object]:
    """The comparison as JSON: both ids and titles, and every pair with its differences."""
    return compare(a, b).model_dump(mode="json")
