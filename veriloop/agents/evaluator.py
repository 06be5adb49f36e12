"""The evaluator agent: lint cleanliness, synthesis (cells, area estimate, depth) and a score."""

from __future__ import annotations

import asyncio
from typing import Any

from veriloop.agents import eda
from veriloop.agents.deps import Turn, deps_from
from veriloop.agents.state import PPA, DesignState, Verdict

SCORING = """score = 0 when nothing compiles; 0.5 * (1 - mismatches/samples) for a design that \
simulates but fails; 1.0 for a verified design (minus 0.1 per lint error)."""


def score(verdict: Verdict | None, lint_errors: int) -> float:
    if verdict is None or verdict.category in ("no_code", "syntax", "tb_error", "tool_error"):
        return 0.0
    if verdict.passed:
        return max(0.0, 1.0 - 0.1 * lint_errors)
    if verdict.mismatches is not None and verdict.samples:
        return round(0.5 * (1 - min(verdict.mismatches, verdict.samples) / verdict.samples), 4)
    return 0.1


async def evaluator_node(state: DesignState, runtime: Any = None) -> dict[str, Any]:
    """Measure the current design. Synthesis runs only on a verified design: PPA of wrong RTL means little."""
    deps = deps_from(runtime)
    turn = Turn(deps, state, "evaluator")
    if state.get("decision") == "budget":
        return {}
    rtl = dict(state.get("rtl") or {})
    top = state.get("top") or "top"
    verdicts = state.get("verdicts") or []
    verdict = Verdict.model_validate(verdicts[-1]) if verdicts else None
    iteration = int(state.get("iteration", 0))
    ppa = PPA()
    if rtl:
        deps.say("evaluator", iteration, "lint and synthesis")
        lint = await asyncio.to_thread(eda.lint, rtl, top if top in rtl else None)
        ppa.lint_errors, ppa.lint_warnings = len(lint.errors), len(lint.warnings)
        if verdict is not None and verdict.passed and top in rtl:
            synth = await asyncio.to_thread(eda.synthesize, "\n".join(rtl.values()), top)
            ppa.synthesized = synth.ok
            ppa.cells, ppa.cell_types, ppa.area, ppa.depth = (
                synth.cells,
                synth.cell_types,
                synth.area,
                synth.depth,
            )
            ppa.note = synth.note
            if not synth.ok:
                failed = verdict.model_copy(
                    update={
                        "passed": False,
                        "category": "synthesis",
                        "summary": "Simulation passed but Yosys could not synthesize the design.",
                        "log_excerpt": synth.note[-2000:],
                    }
                )
                turn.note("decision", failed.evidence())
                return {
                    **turn.updates(),
                    "ppa": ppa.model_dump(mode="json"),
                    "verdicts": [failed.model_dump(mode="json")],
                    "feedback": failed.evidence(),
                    "failures": int(state.get("failures", 0)) + 1,
                }
        else:
            ppa.note = "not synthesized: the design is not verified"
    ppa.score = score(verdict, ppa.lint_errors)
    turn.note(
        "decision",
        f"PPA: synthesized={ppa.synthesized} cells={ppa.cells} area={ppa.area} "
        f"depth={ppa.depth} lint errors={ppa.lint_errors} warnings={ppa.lint_warnings} "
        f"score={ppa.score} ({ppa.note})",
    )
    return {**turn.updates(), "ppa": ppa.model_dump(mode="json")}
