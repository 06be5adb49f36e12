"""Terminal (rich) and markdown renderings of bench reports, single and side by side."""

from __future__ import annotations

from rich.table import Table

from veriloop.bench.metrics import GroupMetrics
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
    """Groups of both runs side by side, with the pass@1 difference where a group is in both."""
    table = Table(title=f"bench {a.run_id} vs {b.run_id}")
    for h in ("backend", "config", f"pass@1 {a.run_id}", f"pass@1 {b.run_id}", "Δ pass@1",
              f"cost {a.run_id}", f"cost {b.run_id}"):
        table.add_column(h)
    keys = sorted({(g.backend, g.config) for g in a.groups} | {(g.backend, g.config) for g in b.groups})
    for backend, config in keys:
        ga, gb = a.group(backend, config), b.group(backend, config)
        pa = ga.pass_at.get(1) if ga else None
        pb = gb.pass_at.get(1) if gb else None
        delta = f"{100 * (pb - pa):+.1f} pt" if pa is not None and pb is not None else "-"
        table.add_row(backend, config, _fmt(pa, pct=True), _fmt(pb, pct=True), delta,
                      _fmt(ga.cost_usd if ga else None, money=True),
                      _fmt(gb.cost_usd if gb else None, money=True))
    return table


def compare_data(a: BenchReport, b: BenchReport) -> dict[str, object]:
    rows = []
    keys = sorted({(g.backend, g.config) for g in a.groups} | {(g.backend, g.config) for g in b.groups})
    for backend, config in keys:
        ga, gb = a.group(backend, config), b.group(backend, config)
        rows.append({"backend": backend, "config": config,
                     "a": ga.model_dump() if ga else None, "b": gb.model_dump() if gb else None})
    return {"a": a.run_id, "b": b.run_id, "groups": rows}
