"""The planner agent: spec -> plan, and after each verdict: done / iterate / escalate / ask a human."""

from __future__ import annotations

import json
import re
from typing import Any

from langgraph.types import interrupt

from veriloop.agents.codeparse import extract_json
from veriloop.agents.deps import Turn, deps_from
from veriloop.agents.spec_interface import plan_from_spec, spec_top
from veriloop.agents.state import DesignState, Plan, Verdict
from veriloop.agents.tb_scaffold import REFERENCE_MODEL_SOURCE
from veriloop.errors import BudgetExhausted
from veriloop.llm.contract import Message

SYSTEM = """You are the planner agent of veriloop, a team of agents that turns a natural-language \
hardware specification into verified Verilog RTL.
Read the specification and answer with ONE JSON object in a ```json fenced block with the keys:
  "feasible": true/false (false only if the spec cannot be built as synchronous digital RTL),
  "reason": why not feasible ("" otherwise),
  "top": the top module name,
  "summary": one paragraph restating the behaviour precisely (reset kind, widths, edge cases),
  "modules": [{"name", "purpose", "ports", "depends_on": []}] where "ports" lists one declaration \
per port (direction, width, name) with the names and widths the specification gives; a clock or \
reset port only when the specification has sequential behaviour,
  "interfaces": ["port or protocol descriptions"],
  "verification_plan": ["what the testbench must exercise"],
  "acceptance": ["checks that must pass before the design is done"].
Prefer a single module unless the spec clearly has separable parts."""

PLAN_PROMPT = """Specification:
{spec}

{top_hint}Verification mode: {mode}.{tb_hint}
Answer with the JSON plan."""


def _fallback_plan(spec: str, top: str | None) -> Plan:
    name = top or "top"
    return Plan(
        top=name,
        summary=spec.strip(),
        modules=[],
        verification_plan=["simulate against a self-checking testbench"],
        acceptance=["lint clean", "testbench passes", "synthesizes"],
    )


def _normalise(plan: Plan, top: str | None) -> Plan:
    if top and plan.top != top:
        # The planner's own top (often "top") is the module the spec names: renamed, not kept beside it.
        if plan.top and top not in [m.name for m in plan.modules]:
            for m in plan.modules:
                if m.name == plan.top:
                    m.name = top
                m.depends_on = [top if d == plan.top else d for d in m.depends_on]
        plan.top = top
    plan.top = re.sub(r"[^A-Za-z0-9_]", "_", plan.top or "top") or "top"
    if not plan.modules or plan.top not in [m.name for m in plan.modules]:
        from veriloop.agents.state import ModulePlan

        plan.modules = [m for m in plan.modules if m.name != plan.top] + [
            ModulePlan(
                name=plan.top,
                purpose=plan.summary or "the top module",
                depends_on=[m.name for m in plan.modules if m.name != plan.top],
            )
        ]
    return plan


_CLOCKED = re.compile(
    r"\b(clk|clock|clocked|posedge|negedge|register(ed)?|flip-?flops?|sequential|cycles?)\b", re.I
)
_CLOCK_PORT = re.compile(r"\b(clk|clock|rst|reset|rst_n|resetn)\s*$")
_COMBINATIONAL = re.compile(r"\bcombinational\b", re.I)


def drop_unasked_clock(plan: Plan, spec: str) -> Plan:
    """A spec that says it is combinational and never mentions a clock gets no clock/reset ports
    (a small model copies example ports into its plan)."""
    if not _COMBINATIONAL.search(spec) or _CLOCKED.search(spec):
        return plan
    for m in plan.modules:
        m.ports = [p for p in m.ports if not _CLOCK_PORT.search(p.strip())]
    return plan


async def plan_node(state: DesignState, runtime: Any = None) -> dict[str, Any]:
    """Ask the planner backend for a plan; an unusable reply falls back to a one-module plan."""
    deps = deps_from(runtime)
    turn = Turn(deps, state, "planner")
    deps.say("planner", 0, "planning")
    spec, mode = state["spec"], state.get("mode", "self-verified")
    # The top's name: --top, else the one the spec names ("a module named counter8"); the plan keeps it.
    top = state.get("top") or spec_top(spec) or None
    direct = plan_from_spec(spec, top) if deps.settings.agents.plan_from_spec else None
    if direct is not None:
        turn.note(
            "decision",
            "plan read from the spec's own interface (no planner call): top "
            f"{direct.top}, ports {', '.join(direct.modules[0].ports)}",
        )
        deps.say("planner", 0, f"plan: top {direct.top}, ports from the spec")
        return {
            **turn.updates(),
            "decision": "",
            "reason": "",
            "plan": direct.model_dump(mode="json"),
            "plan_source": "spec",
            "top": direct.top,
        }
    top_hint = f"The top module must be called `{top}`.\n" if top else ""
    tb_hint = (
        " A testbench is given by the user; keep its port names." if state.get("tb_source") == "user" else ""
    )
    messages = [
        Message(role="system", content=SYSTEM),
        Message(
            role="user", content=PLAN_PROMPT.format(spec=spec, top_hint=top_hint, mode=mode, tb_hint=tb_hint)
        ),
    ]
    context = {
        "spec": spec,
        "top": top,
        "mode": mode,
        "has_tb": bool(state.get("tb")),
        "has_ref": bool(state.get("ref")),
    }
    out: dict[str, Any] = {"decision": "", "reason": ""}
    try:
        comp = await turn.complete(messages, task="design.plan", context=context)
    except BudgetExhausted as exc:
        turn.note("decision", f"stop: {exc.message}")
        plan = _normalise(_fallback_plan(spec, top), top)
        return {
            **turn.updates(),
            "plan": plan.model_dump(mode="json"),
            "decision": "budget",
            "reason": exc.message,
        }
    data = extract_json(comp.text)
    parsed: Plan | None = None
    try:
        parsed = Plan.model_validate(data) if data is not None else None
    except ValueError:
        parsed = None
    if parsed is None:
        turn.note("failure", "planner reply had no usable JSON plan; using a one-module plan")
    plan = drop_unasked_clock(_normalise(parsed or _fallback_plan(spec, top), top), spec)
    if not plan.feasible:
        reason = plan.reason or "the planner judged the spec infeasible"
        turn.note("decision", f"stop: {reason}")
        out.update(decision="infeasible", reason=reason)
    else:
        turn.note("decision", "plan: " + json.dumps(plan.model_dump(mode="json"))[:1500])
    deps.say("planner", 0, f"plan: top {plan.top}, {len(plan.modules)} module(s)")
    return {
        **turn.updates(),
        **out,
        "plan": plan.model_dump(mode="json"),
        "plan_source": "planner",
        "top": plan.top,
    }


def approve_plan_node(state: DesignState, runtime: Any = None) -> dict[str, Any]:
    """Interactive runs: a human approves the plan, adds requirements, or stops the run."""
    answer = interrupt(
        {
            "kind": "approve_plan",
            "plan": state.get("plan"),
            "question": "Approve this plan? (yes / no / extra requirements)",
        }
    )
    text = str(answer if answer is not None else "yes").strip()
    entry = {"agent": "human", "kind": "human", "iteration": 0, "text": f"plan approval: {text}"}
    if text.lower() in ("", "y", "yes", "ok", "approve", "true"):
        return {"transcript": [entry]}
    if text.lower() in ("n", "no", "stop", "false"):
        return {"transcript": [entry], "decision": "human_stop", "reason": "the plan was rejected by a human"}
    return {
        "transcript": [entry],
        "decision": "replan",
        "spec": state["spec"] + "\nAdditional requirements: " + text,
    }


def review_node(state: DesignState, runtime: Any = None) -> dict[str, Any]:
    """After a verdict: done, iterate with the evidence, escalate, stop at the budget, or ask a human."""
    deps = deps_from(runtime)
    turn = Turn(deps, state, "planner")
    verdicts = [Verdict.model_validate(v) for v in state.get("verdicts") or []]
    last = verdicts[-1] if verdicts else None
    iteration = int(state.get("iteration", 0))
    failures = int(state.get("failures", 0))
    if state.get("decision") == "budget":
        decision, reason = "budget", state.get("reason") or "the budget is spent"
    elif last is not None and last.passed:
        decision, reason = "done", "the verifier passed the design"
        if state.get("interactive"):
            answer = interrupt(
                {
                    "kind": "approve_final",
                    "verdict": last.model_dump(mode="json"),
                    "ppa": state.get("ppa"),
                    "question": "Accept this design? (yes / feedback to iterate)",
                }
            )
            text = str(answer if answer is not None else "yes").strip()
            turn.note("human", f"final approval: {text}")
            if text.lower() not in ("", "y", "yes", "ok", "accept", "true"):
                if iteration + 1 >= int(state.get("max_iters", 4)):
                    return {
                        **turn.updates(),
                        "decision": "human_stop",
                        "reason": "a human rejected the design and no iterations are left",
                    }
                turn.note("decision", "iterate with human feedback")
                return {
                    **turn.updates(),
                    "decision": "iterate",
                    "iteration": iteration + 1,
                    "feedback": "A human reviewer rejected the design: " + text,
                }
    elif iteration + 1 >= int(state.get("max_iters", 4)):
        decision, reason = "budget", f"the iteration budget ({state.get('max_iters')}) is spent"
    elif turn.over_budget():
        decision, reason = (
            "budget",
            f"the dollar budget (${float(state.get('budget_usd') or 0):.4f}) is spent",
        )
    else:
        escalate_to = deps.settings.agents.escalate_to
        if escalate_to and not state.get("escalated") and failures >= deps.settings.agents.escalate_after:
            backends = dict(state.get("backends") or {})
            backends["generator"] = backends["verifier"] = escalate_to
            turn.note(
                "decision",
                f"escalate: {failures} failures in a row; generator and verifier now "
                f"use backend '{escalate_to}'",
            )
            deps.say("planner", iteration, f"escalating to {escalate_to}")
            return {
                **turn.updates(),
                "decision": "escalate",
                "backends": backends,
                "escalated": True,
                "iteration": iteration + 1,
            }
        if state.get("interactive") and failures >= deps.settings.agents.escalate_after:
            answer = interrupt(
                {
                    "kind": "help",
                    "evidence": state.get("feedback"),
                    "question": "The design keeps failing. Give a hint, or 'stop'.",
                }
            )
            text = str(answer or "").strip()
            turn.note("human", f"hint: {text}")
            if text.lower() in ("stop", "no", "n"):
                return {**turn.updates(), "decision": "human_stop", "reason": "stopped by a human"}
            if text:
                return {
                    **turn.updates(),
                    "decision": "iterate",
                    "iteration": iteration + 1,
                    "feedback": (state.get("feedback") or "") + "\nHuman hint: " + text,
                }
        extra: dict[str, Any] = {}
        if (
            state.get("mode") == "self-verified"
            and state.get("tb_source") in ("agents", REFERENCE_MODEL_SOURCE)
            and failures >= deps.settings.agents.escalate_after
            and not state.get("tb_rederived")
        ):
            # The agents' own testbench may be the thing that is wrong: derive it afresh, once.
            extra = {"tb": "", "tb_rederived": True}
            turn.note(
                "decision",
                f"{failures} failures in a row: the verifier re-derives its testbench "
                "from the spec in case the testbench itself is wrong",
            )
        turn.note("decision", "iterate with the verifier's evidence")
        deps.say("planner", iteration + 1, "iterating with the evidence")
        return {**turn.updates(), **extra, "decision": "iterate", "iteration": iteration + 1}
    turn.note("decision", f"{decision}: {reason}")
    deps.say("planner", iteration, f"{decision}: {reason}")
    return {**turn.updates(), "decision": decision, "reason": reason}
