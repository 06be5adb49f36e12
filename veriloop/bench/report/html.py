"""A self-contained HTML report: tables plus matplotlib plots embedded as base64 PNGs (opens offline)."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

from veriloop import runstore
from veriloop.bench.report.model import BenchReport
from veriloop.bench.report.samples import SampleView
from veriloop.bench.report.text import _headers, _ks, _row


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _label(g: Any) -> str:
    return g.backend if g.config == "reference" else f"{g.backend} / {g.config}"


def plots(report: BenchReport) -> dict[str, str]:
    """The three plots as data URIs: pass@k per group, cost vs pass rate, failure categories."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, str] = {}
    groups = report.groups
    if not groups:
        return out
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    max_k = max((max(g.pass_at) for g in groups if g.pass_at), default=1)
    if max_k == 1:  # one sample per problem: pass@1 as bars
        ax.bar([_label(g) for g in groups], [100 * g.pass_at.get(1, 0.0) for g in groups],
               color=[f"C{i}" for i in range(len(groups))])
        ax.tick_params(axis="x", labelrotation=20, labelsize=8)
        ax.set_ylabel("pass@1 (%)")
    else:
        for g in groups:
            ks = sorted(g.pass_at)
            ax.plot(ks, [100 * g.pass_at[k] for k in ks], marker="o", label=_label(g))
        ax.set_xlabel("k")
        ax.set_ylabel("pass@k (%)")
        ax.set_xticks(sorted({k for g in groups for k in g.pass_at}))
        ax.legend(fontsize=8)
    ax.set_ylim(-2, 105)
    ax.set_title("pass@k per backend / configuration")
    ax.grid(alpha=0.3)
    out["pass@k"] = _png(fig)

    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for g in groups:
        ax.scatter([g.cost_usd], [100 * g.pass_rate], s=60)
        ax.annotate(_label(g), (g.cost_usd, 100 * g.pass_rate), fontsize=8, xytext=(4, 4),
                    textcoords="offset points")
    ax.set_xlabel("total cost (USD)")
    ax.set_ylabel("pass rate (%)")
    ax.set_ylim(-4, 108)
    ax.set_title("cost vs pass rate")
    ax.grid(alpha=0.3)
    out["cost vs pass rate"] = _png(fig)

    cats = sorted({c for g in groups for c in g.categories})
    fig, ax = plt.subplots(figsize=(6.5, 0.6 * len(groups) + 2))
    left = [0.0] * len(groups)
    labels = [_label(g) for g in groups]
    for c in cats:
        vals = [100 * g.category_rates.get(c, 0.0) for g in groups]
        ax.barh(labels, vals, left=left, label=c)
        left = [a + b for a, b in zip(left, vals, strict=True)]
    ax.set_xlabel("share of samples (%)")
    ax.set_title("verdict categories")
    ax.legend(fontsize=8, loc="lower right")
    out["failure categories"] = _png(fig)
    return out


_CSS = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;
margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px}th{background:#f3f3f3}
th.sort{cursor:pointer}th.sort:after{content:" \\2195";color:#999}
td.num{text-align:right}img{max-width:100%;margin:0.5em 1em 0.5em 0}.meta{color:#666}
details{margin:0.3em 0 0.3em 1em}summary{cursor:pointer}pre{background:#f7f7f7;padding:6px;overflow-x:auto;
font-size:12px;max-height:30em}.pass{color:#175f17}.fail{color:#a31515}"""

# Click a header to sort its table (numbers numerically); no network, no library.
_JS = """document.querySelectorAll('table.sortable').forEach(function(t){
t.querySelectorAll('th').forEach(function(th,i){th.classList.add('sort');th.addEventListener('click',function(){
var rows=Array.from(t.querySelectorAll('tr')).slice(1),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
function key(r){var v=(r.children[i]||{}).textContent||'';var n=parseFloat(v.replace(/[$%,]/g,''));
return isNaN(n)?v.toLowerCase():n;}
rows.sort(function(a,b){var x=key(a),y=key(b);return (x<y?-1:x>y?1:0)*(asc?1:-1);});
rows.forEach(function(r){t.appendChild(r);});});});});"""


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="sortable"><tr>{head}</tr>{body}</table>'


def _taxonomy(report: BenchReport) -> str:
    """Failure classes per group, and per problem (one column per group)."""
    from veriloop.bench.taxonomy import CLASSES

    groups = [g for g in report.groups if g.taxonomy]
    if not groups:
        return ""
    used = [c for c in CLASSES if any(c in g.taxonomy for g in groups)]
    per_group = _table(["group", "samples", *used],
                       [[_label(g), str(g.samples), *(str(g.taxonomy.get(c, 0)) for c in used)]
                        for g in groups])
    problems = sorted({p for g in groups for p in g.problem_taxonomy})
    rows = [[p, *(", ".join(f"{c} {k}" for c, k in g.problem_taxonomy.get(p, {}).items()) or "-"
                  for g in groups)] for p in problems]
    per_problem = _table(["problem", *(_label(g) for g in groups)], rows)
    return ("<h2>Failure taxonomy</h2><p class=\"meta\">syntax · elaboration · runtime · mismatch · "
            "mismatch-reset (the testbench says the reset does not work) · timeout · illegal · no_code · "
            "infra</p>" + per_group + "<h3>Per problem</h3>" + per_problem)


def _drilldown(samples: list[SampleView]) -> str:
    """Per problem, per sample: verdict, reason, first mismatch, code, log excerpt, diff to the reference."""
    if not samples:
        return ""
    e = html.escape
    by_problem: dict[str, list[SampleView]] = {}
    for sv in samples:
        by_problem.setdefault(sv.problem, []).append(sv)
    parts = ["<h2>Samples</h2>"]
    for problem, svs in by_problem.items():
        passed = sum(1 for sv in svs if sv.passed)
        cls = "pass" if passed else "fail"
        parts.append(f'<details><summary><b>{e(problem)}</b> <span class="{cls}">{passed}/{len(svs)} '
                     "passed</span></summary>")
        for sv in svs:
            label = sv.backend if sv.config == "reference" else f"{sv.backend} / {sv.config}"
            verdict = "pass" if sv.passed else (sv.failure_class or sv.category)
            line = f"{label} #{sv.idx}: {verdict}" + (f" — {sv.reason}" if sv.reason else "")
            body = []
            if sv.first_mismatch:
                body.append(f"<p>first mismatch: {e(sv.first_mismatch)}</p>")
            if sv.code:
                body.append(f"<p>code</p><pre>{e(sv.code)}</pre>")
            if sv.log_excerpt and not sv.passed:
                body.append(f"<p>grader log (end)</p><pre>{e(sv.log_excerpt)}</pre>")
            if sv.diff:
                body.append(f"<p>diff against the reference</p><pre>{e(sv.diff)}</pre>")
            parts.append(f'<details><summary class="{"pass" if sv.passed else "fail"}">{e(line)}</summary>'
                         + "".join(body) + "</details>")
        parts.append("</details>")
    return "".join(parts)


def render_html(report: BenchReport, samples: list[SampleView] | None = None) -> str:
    """The page: summary table, plots, unsolved problems with reasons, failure taxonomy, and (given the
    samples) a drill-down per problem and sample. One file, no network."""
    e = html.escape
    ks = _ks(report.groups)
    imgs = "".join(f'<figure><img alt="{e(name)}" src="{uri}"><figcaption>{e(name)}</figcaption></figure>'
                   for name, uri in plots(report).items())
    unsolved = "".join(f"<li>{e(g.backend)}/{e(g.config)}: {e(p)} ({e(c)})"
                       + (f": {e(g.reasons[p])}" if g.reasons.get(p) and g.reasons[p] != c else "") + "</li>"
                       for g in report.groups for p, c in g.failures.items())
    evolve = ""
    if report.evolve:
        evolve = "<h2>Evolution</h2>" + _table(
            ["problem", "backend", "samples", "mean score", "best score", "mean cost"],
            [[r["problem"], r["backend"], str(r["samples"]), _num(r["mean_score"]), _num(r["best_score"]),
              f"${r['mean_cost_usd']:.4f}"] for r in report.evolve_summary()])
    tools = ", ".join(f"{k} {v}" for k, v in sorted(report.tool_versions.items()))
    summary = _table(_headers(ks), [_row(g, ks) for g in report.groups]) if report.groups else ""
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>veriloop bench {e(report.run_id)}</title>
<style>{_CSS}</style></head><body>
<h1>veriloop bench {e(report.run_id)}</h1>
<p>{e(report.title)}</p>
<p class="meta">status {e(report.status)} · {report.samples} samples · created {e(report.created)} ·
{e(report.sampling())}</p>
{summary}
{imgs}
{"<h2>Unsolved problems</h2><ul>" + unsolved + "</ul>" if unsolved else ""}
{_taxonomy(report)}
{_drilldown(samples or [])}
{evolve}
<p class="meta">Tools: {e(tools) or "-"}</p>
<script>{_JS}</script>
</body></html>
"""


def html_page(record: runstore.RunRecord) -> str:
    """The whole HTML report of a run, with every sample's evidence."""
    from veriloop.bench.report import load_report
    from veriloop.bench.report.samples import sample_views

    return render_html(load_report(record), sample_views(record))
