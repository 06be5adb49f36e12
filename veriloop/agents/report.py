"""The design run's outputs: RTL and testbench files, report.json/.md, transcript.jsonl/.md."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from veriloop.agents.deps import CUT_OFF_NOTE
from veriloop.agents.state import PPA, Architecture, DesignState, Plan, Spend, TranscriptEntry, Verdict
from veriloop.agents.tb_scaffold import REFERENCE_MODEL_SOURCE


class DesignReport(BaseModel):
    """Everything a reader needs to trust (or not) the design: verdict, evidence, PPA, cost, provenance."""

    run_id: str
    status: str
    """"verified" or "not verified"."""
    verified: bool
    reason: str
    spec: str
    mode: str
    top: str
    testbench_source: str
    iterations: int
    verdict: dict[str, Any] | None = None
    evidence: str = ""
    verdicts: list[dict[str, Any]] = Field(default_factory=list)
    ppa: dict[str, Any] = Field(default_factory=dict)
    plan: dict[str, Any] = Field(default_factory=dict)
    choices: list[dict[str, Any]] = Field(default_factory=list)
    citations: list[dict[str, Any]] = Field(default_factory=list)
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usd: float = 0.0
    backends: dict[str, str] = Field(default_factory=dict)
    models: dict[str, str] = Field(default_factory=dict)
    escalated: bool = False
    seed: int | None = None
    tool_versions: dict[str, str | None] = Field(default_factory=dict)
    files: list[str] = Field(default_factory=list)
    lessons_stored: int = 0
    repeated_replies: int = 0
    """LLM replies identical to the previous reply of the same request thread."""
    cut_off_replies: int = 0
    """LLM replies that stopped at the max_tokens cap (finish_reason=length)."""
    finished: str = ""


def build_report(state: DesignState, tool_versions: dict[str, str | None]) -> DesignReport:
    verdicts = [Verdict.model_validate(v) for v in state.get("verdicts") or []]
    last = verdicts[-1] if verdicts else None
    verified = bool(last and last.passed and state.get("decision") == "done")
    decision = state.get("decision") or ""
    if verified:
        reason = "the verifier passed the design" + (
            {
                "user": " against the user's testbench",
                "design library": " against the design library's self-checking testbench",
                REFERENCE_MODEL_SOURCE: " against veriloop's testbench comparing it with the agents' "
                "reference model of the spec (written apart from the design; a misreading shared by "
                "both would pass)",
            }.get(state.get("tb_source") or "", " against the agents' own self-checking testbench")
        )
    else:
        reason = state.get("reason") or (
            f"the run ended with decision '{decision}'" if decision else "the run did not finish"
        )
    spend = Spend.model_validate(state.get("spend") or {})
    arch = Architecture.model_validate(state.get("architecture") or {})
    plan = Plan.model_validate(state.get("plan") or {})
    return DesignReport(
        run_id=state.get("run_id", ""),
        status="verified" if verified else "not verified",
        verified=verified,
        reason=reason,
        spec=state.get("spec", ""),
        mode=state.get("mode", "self-verified"),
        top=state.get("top") or plan.top,
        testbench_source=state.get("tb_source") or "none",
        iterations=len({v.iteration for v in verdicts}),
        verdict=last.model_dump(mode="json") if last else None,
        evidence=last.evidence() if last else "",
        verdicts=[v.model_dump(mode="json") for v in verdicts],
        ppa=PPA.model_validate(state.get("ppa") or {}).model_dump(),
        plan=plan.model_dump(mode="json"),
        choices=[c.model_dump() for c in arch.choices],
        citations=[c.model_dump() for c in arch.citations],
        calls=spend.calls,
        prompt_tokens=spend.prompt_tokens,
        completion_tokens=spend.completion_tokens,
        usd=round(spend.usd, 6),
        backends=dict(state.get("backends") or {}),
        models=spend.models,
        escalated=bool(state.get("escalated")),
        seed=state.get("seed"),
        tool_versions=tool_versions,
        repeated_replies=_count_notes(state, ("identical to the previous",)),
        cut_off_replies=_count_notes(state, (CUT_OFF_NOTE, "reply cut off at the max_tokens cap")),
        finished=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )


def _count_notes(state: DesignState, starts: tuple[str, ...]) -> int:
    """Failure notes of the transcript that begin with one of `starts` (repeats, cut-off replies)."""
    return sum(
        1
        for e in state.get("transcript") or []
        if e.get("kind") == "failure" and str(e.get("text", "")).startswith(starts)
    )


def _md(report: DesignReport) -> str:
    r = report
    lines = [
        f"# veriloop design run {r.run_id}",
        "",
        f"**Status: {r.status.upper()}** — {r.reason}.",
        "",
        f"- Spec: {r.spec.strip()[:500]}",
        f"- Mode: `{r.mode}` (testbench: {r.testbench_source})",
        f"- Top module: `{r.top}`",
        f"- Iterations: {r.iterations}",
        "- Backends: "
        + ", ".join(f"{a}={b}" for a, b in r.backends.items())
        + (" (escalated)" if r.escalated else ""),
        "- Models: " + (", ".join(f"{b}: {m}" for b, m in r.models.items()) or "none called"),
        f"- LLM calls: {r.calls}; tokens: {r.prompt_tokens} prompt + {r.completion_tokens} completion; "
        f"cost: ${r.usd:.4f}; replies cut off at max_tokens: {r.cut_off_replies}; "
        f"identical to the previous one: {r.repeated_replies}",
        f"- Seed: {r.seed}",
        "- Tool versions: " + ", ".join(f"{k} {v or 'absent'}" for k, v in r.tool_versions.items()),
        "",
        "## Evidence",
        "",
        "```",
        r.evidence or "(no verdict was reached)",
        "```",
        "",
        "## PPA (Yosys)",
        "",
    ]
    p = r.ppa
    if p.get("synthesized"):
        lines += [
            f"- Cells: {p.get('cells')}",
            f"- Area estimate: {p.get('area')}",
            f"- Logic depth: {p.get('depth')}",
            "- Cell types: " + ", ".join(f"{k}: {v}" for k, v in sorted((p.get("cell_types") or {}).items())),
        ]
    else:
        lines.append(f"- Not synthesized ({p.get('note') or 'no design'}).")
    lines += [
        f"- Lint: {p.get('lint_errors', 0)} errors, {p.get('lint_warnings', 0)} warnings",
        f"- Score: {p.get('score', 0.0)}",
        "",
        "## History",
        "",
    ]
    for v in r.verdicts:
        mm = f" — {v.get('mismatches')} mismatches in {v.get('samples')} samples" if v.get("samples") else ""
        eq = f", equivalence {v.get('equivalence')}" if v.get("equivalence") else ""
        lines.append(
            f"- iteration {v.get('iteration')}: {'PASS' if v.get('passed') else 'FAIL'} "
            f"({v.get('category')}){mm}{eq}"
        )
    if r.choices:
        lines += ["", "## Micro-architecture choices", ""]
        lines += [f"- {c['decision']}: {c.get('reason', '')}" for c in r.choices]
    if r.citations:
        lines += ["", "## Retrieved", ""]
        lines += [
            f"- [{i + 1}] {c['kind']} `{c['source']}` (score {c['score']:.2f})"
            for i, c in enumerate(r.citations)
        ]
    lines += ["", "## Files", ""] + [f"- `{f}`" for f in r.files]
    return "\n".join(lines) + "\n"


def _transcript_md(entries: list[TranscriptEntry]) -> str:
    out = ["# Transcript", ""]
    for e in entries:
        head = f"### [{e.iteration}] {e.agent} · {e.kind}"
        if e.backend:
            head += f" · {e.backend}" + (f"/{e.model}" if e.model else "")
        if e.tokens:
            head += f" · {e.tokens} tokens"
        out += [head, ""]
        if e.citations:
            out += ["Citations: " + ", ".join(e.citations), ""]
        out += ["```", e.text.replace("```", "'''"), "```", ""]
    return "\n".join(out)


def write_outputs(
    state: DesignState, out_dir: Path, tool_versions: dict[str, str | None], lessons_stored: int = 0
) -> DesignReport:
    """Write RTL, testbench, reports and transcript to out_dir (idempotent: a resume rewrites them)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    for name, src in (state.get("rtl") or {}).items():
        (out_dir / f"{name}.sv").write_text(src, encoding="utf-8")
        files.append(f"{name}.sv")
    if state.get("tb"):
        (out_dir / "tb.sv").write_text(state["tb"], encoding="utf-8")
        files.append("tb.sv")
    entries = [TranscriptEntry.model_validate(e) for e in state.get("transcript") or []]
    with (out_dir / "transcript.jsonl").open("w", encoding="utf-8") as fh:
        for e in entries:
            fh.write(e.model_dump_json() + "\n")
    (out_dir / "transcript.md").write_text(_transcript_md(entries), encoding="utf-8")
    files += ["transcript.jsonl", "transcript.md", "report.json", "report.md"]
    report = build_report(state, tool_versions)
    report.files = files
    report.lessons_stored = lessons_stored
    (out_dir / "report.json").write_text(
        json.dumps(report.model_dump(mode="json"), indent=2), encoding="utf-8"
    )
    (out_dir / "report.md").write_text(_md(report), encoding="utf-8")
    return report
