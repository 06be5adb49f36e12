"""A self-contained HTML report: tables plus matplotlib plots embedded as base64 PNGs (opens offline)."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

from veriloop.bench.report.model import BenchReport
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
td.num{text-align:right}img{max-width:100%;margin:0.5em 1em 0.5em 0}.meta{color:#666}"""


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"


def render_html(report: BenchReport) -> str:
    e = html.escape
    ks = _ks(report.groups)
    head = "".join(f"<th>{e(h)}</th>" for h in _headers(ks))
    rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in _row(g, ks)) + "</tr>" for g in report.groups)
    imgs = "".join(f'<figure><img alt="{e(name)}" src="{uri}"><figcaption>{e(name)}</figcaption></figure>'
                   for name, uri in plots(report).items())
    unsolved = "".join(f"<li>{e(g.backend)}/{e(g.config)}: {e(p)} ({e(c)})</li>"
                       for g in report.groups for p, c in g.failures.items())
    evolve = ""
    if report.evolve:
        evolve = "<h2>Evolution</h2><table><tr><th>problem</th><th>backend</th><th>samples</th>" \
                 "<th>mean score</th><th>best score</th><th>mean cost</th></tr>" + "".join(
                     f"<tr><td>{e(r['problem'])}</td><td>{e(r['backend'])}</td><td>{r['samples']}</td>"
                     f"<td>{_num(r['mean_score'])}</td><td>{_num(r['best_score'])}</td>"
                     f"<td>${r['mean_cost_usd']:.4f}</td></tr>" for r in report.evolve_summary()) + "</table>"
    tools = ", ".join(f"{k} {v}" for k, v in sorted(report.tool_versions.items()))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>veriloop bench {e(report.run_id)}</title>
<style>{_CSS}</style></head><body>
<h1>veriloop bench {e(report.run_id)}</h1>
<p>{e(report.title)}</p>
<p class="meta">status {e(report.status)} · {report.samples} samples · created {e(report.created)} ·
{e(report.sampling())}</p>
{f"<table><tr>{head}</tr>{rows}</table>" if report.groups else ""}
{imgs}
{"<h2>Unsolved problems</h2><ul>" + unsolved + "</ul>" if unsolved else ""}
{evolve}
<p class="meta">Tools: {e(tools) or "-"}</p>
</body></html>
"""
