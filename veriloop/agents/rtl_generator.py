"""The RTL generator agent: writes each module, with an inner lint/compile tool loop bounded by steps."""

from __future__ import annotations

import asyncio
import re
from functools import partial
from typing import Any

from veriloop.agents import autofix, eda
from veriloop.agents.codeparse import extract_modules, instantiated_modules
from veriloop.agents.deps import Turn, clip, deps_from
from veriloop.agents.state import Architecture, DesignState, Plan
from veriloop.errors import BudgetExhausted, MalformedReply
from veriloop.llm.caps import cut_off_note, cut_off_reason, is_cut_off
from veriloop.llm.contract import Message, ToolCall, ToolSpec
from veriloop.tools import vsource

SYSTEM = """You are the RTL generator agent of veriloop. You write synthesizable Verilog-2005 \
(SystemVerilog is accepted by the tools) for one module at a time.
Rules: synchronous logic in always @(posedge clk) blocks with non-blocking assignments; \
combinational logic with assign or always @*; no initial blocks, no delays, no $display in the design.
Before answering you may call the tools `lint` (Verilator lint) and `compile` (Icarus compile) \
with your code to check it. Answer with the complete module(s) in ```verilog fenced blocks."""

WRITE_PROMPT = """Specification:
{spec}

Plan summary: {summary}
Write module `{module}`: {purpose}
Ports: {ports}
Top module of the design: `{top}`.
Micro-architecture choices:
{choices}
{retrieved}{others}"""

FIX_PROMPT = """Specification:
{spec}

The current design (top `{top}`) failed verification. The verifier's evidence:
{evidence}

Current RTL:
```verilog
{rtl}
```
Find the bug using the evidence and answer with the corrected module(s), complete, in ```verilog blocks."""

TOOLS = [
    ToolSpec(
        name="lint",
        description="Lint Verilog code with Verilator (together with the modules "
        "already written). Returns errors and warnings.",
        parameters={
            "type": "object",
            "properties": {"code": {"type": "string", "description": "Verilog source of the module(s)"}},
            "required": ["code"],
        },
    ),
    ToolSpec(
        name="compile",
        description="Compile Verilog code with Icarus Verilog (together with the "
        "modules already written). Returns compiler errors, if any.",
        parameters={
            "type": "object",
            "properties": {"code": {"type": "string", "description": "Verilog source of the module(s)"}},
            "required": ["code"],
        },
    ),
]


def _tool_result(call: ToolCall, others: dict[str, str], top: str) -> str:
    code = call.arguments.get("code") if isinstance(call.arguments, dict) else None
    if not isinstance(code, str) or not code.strip():
        return "error: pass the Verilog source in the `code` argument"
    mods = {**others, **(extract_modules(code) or {"_snippet": code})}
    if call.name == "lint":
        return eda.lint(mods, top if top in mods else None).text()
    if call.name == "compile":
        return eda.compile_check(mods, top if top in mods else None).text()
    return f"error: unknown tool {call.name!r}; available: lint, compile"


MAX_CUT_OFF_RETRIES = 2
"""Retries after a reply cut off at max_tokens, per module; after that the module is given up."""


async def write_module(
    turn: Turn,
    messages: list[Message],
    want: list[str],
    known: dict[str, str],
    top: str,
    max_steps: int,
    task: str,
    context: dict[str, Any],
) -> dict[str, str]:
    """The inner loop: ask, run tool calls, parse code, lint, feed errors back; at most max_steps calls.

    A reply cut off at max_tokens is never parsed nor sent back: the request is asked again, shorter
    (at most MAX_CUT_OFF_RETRIES times). Modules outside the requested ones' instantiation closure
    are dropped. A reply identical to the previous one does not get the same lint error again: the
    retry names the failure and runs warmer; a third identical reply ends the loop.
    """
    got: dict[str, str] = {}
    base = list(messages)
    roots = list(want) or [top]
    retry = 0
    cut_offs = 0
    last_error = ""
    checked: set[str] = set()
    ports_checked = False
    for step in range(max_steps):
        try:
            comp = await turn.complete(
                messages,
                task=task,
                context=context | {"step": step},
                tools=TOOLS,
                record_prompt=(step == 0),
                retry=retry,
            )
        except MalformedReply as exc:
            turn.note("failure", f"backend reply unusable: {exc.message}")
            retry += 1
            continue
        if comp.tool_calls:
            messages.append(Message(role="assistant", content=comp.text or None, tool_calls=comp.tool_calls))
            for call in comp.tool_calls:
                result = await asyncio.to_thread(_tool_result, call, {**known, **got}, top)
                key = f"{call.name}:{call.arguments.get('code') if isinstance(call.arguments, dict) else ''}"
                if key in checked:  # the same code checked again: say so instead of the same error alone
                    turn.repeats += 1
                    turn.note("failure", f"identical to the previous call: {call.name} with unchanged code")
                    result = (
                        "You already checked this exact code and it has not changed; the result is the "
                        "same. Change the code before checking again.\n" + result
                    )
                checked.add(key)
                turn.note("tool", f"{call.name}: {clip(result, 1500)}")
                messages.append(
                    Message(role="tool", tool_call_id=call.id, name=call.name, content=clip(result))
                )
            continue
        mods = design_modules(extract_modules(comp.text))
        if is_cut_off(comp) and not all(r in mods for r in roots):
            cut_offs += 1
            reason = cut_off_reason(comp)
            turn.note("failure", f"reply {reason} after {comp.completion_tokens} tokens; discarded")
            if cut_offs > MAX_CUT_OFF_RETRIES:
                turn.note("failure", f"still cut off after {MAX_CUT_OFF_RETRIES} shorter retries; giving up")
                break
            what = "the complete module " + ", ".join(f"`{r}`" for r in roots)
            messages = [*base, Message(role="user", content=cut_off_note(comp.completion_tokens, what))]
            retry += 1
            continue
        mods, dropped = requested_closure(mods, roots, known)
        if dropped:
            turn.note("decision", "dropped module(s) nobody asked for: " + ", ".join(dropped))
        if last_error and turn.repeated(task, context) > 0:
            if turn.repeated(task, context) >= 2:
                turn.note("failure", "the same reply three times in a row; stopping this module's loop")
                break
            turn.note("failure", "the reply did not change; the same error is not fed back again")
            messages = [
                *base,
                Message(
                    role="user",
                    content="Your previous answer was rejected with this error:\n"
                    + clip(last_error, 1500)
                    + "\nYou sent the same code again. Write a DIFFERENT, corrected version.",
                ),
            ]
            retry += 1
            continue
        messages.append(Message(role="assistant", content=comp.text or ""))
        if not mods:
            turn.note("failure", "reply contained no Verilog module")
            last_error = "the reply contained no Verilog module"
            messages.append(
                Message(
                    role="user",
                    content="Your reply contained no Verilog module. Answer with "
                    f"the complete module {', '.join(roots)} in a ```verilog block.",
                )
            )
            retry += 1
            continue
        missing = [w for w in want if w not in got and w not in mods]
        if missing:  # a module nobody asked for is not kept beside the one that was
            turn.note(
                "failure",
                f"reply did not define module(s) {', '.join(missing)}"
                + (f" (it defined {', '.join(mods)}; not kept)" if mods else ""),
            )
            last_error = f"the module must be named exactly `{missing[0]}`"
            messages.append(
                Message(
                    role="user",
                    content=f"The module must be named exactly "
                    f"`{missing[0]}`. Answer with the complete module.",
                )
            )
            retry += 1
            continue
        wrong_ports = [] if ports_checked else missing_spec_ports(mods.get(top, ""), top, context)
        if wrong_ports:  # the spec's port names win over names a model took from an example
            ports_checked = True
            turn.note("failure", f"module `{top}` lacks the spec's port(s) {', '.join(wrong_ports)}")
            last_error = (
                f"Module `{top}` must use the port names of the specification; missing: "
                + ", ".join(f"`{p}`" for p in wrong_ports)
            )
            messages.append(
                Message(role="user", content=last_error + ". Answer with the complete corrected module.")
            )
            retry += 1
            continue
        got.update(mods)
        # A behaviour-preserving repair veriloop makes itself before the model is asked again.
        lint = partial(_lint, known, top)
        got, report, what = await asyncio.to_thread(autofix.check_with_repair, got, lint)
        if what:
            turn.note("tool", f"auto-fix: {what}")
        if report.ok:
            turn.note(
                "tool", "lint: clean" + (f" ({len(report.warnings)} warnings)" if report.warnings else "")
            )
            return got
        turn.note("tool", f"lint: {clip(report.text(), 1500)}")
        last_error = "Verilator lint reports errors:\n" + clip(report.text(), 3000)
        messages.append(
            Message(
                role="user",
                content=last_error + "\nFix them and answer with the complete corrected module(s).",
            )
        )
        retry += 1
    if got:
        turn.note(
            "failure", f"step budget ({max_steps}) spent; keeping the last code, which is not lint clean"
        )
    return got


def missing_spec_ports(source: str, top: str, context: dict[str, Any]) -> list[str]:
    """Port names the plan gives the top that the specification itself names, but `source` lacks."""
    if not source:
        return []
    spec = str(context.get("spec") or "")
    plan = context.get("plan") or {}
    ports: list[str] = next(
        (list(m.get("ports") or []) for m in plan.get("modules") or [] if m.get("name") == top), []
    )
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", spec))
    wanted = [n for n in (_port_name(p) for p in ports) if n and n in words]
    try:
        unit = vsource.read(source, f"{top}.sv").unit(top)
    except Exception:  # noqa: BLE001 - unparsable code is lint's to report
        return []
    if unit is None or not unit.ports:
        return []
    return [n for n in wanted if n not in unit.ports]


def _port_name(decl: str) -> str:
    words = [
        w
        for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", re.sub(r"\[[^\]]*\]", " ", decl))
        if w not in ("input", "output", "inout", "wire", "reg", "logic", "signed", "unsigned")
    ]
    return words[-1] if words else ""


def requested_closure(
    mods: dict[str, str], roots: list[str], known: dict[str, str]
) -> tuple[dict[str, str], list[str]]:
    """Keep the modules reachable by instantiation from `roots` (through `known` ones too); drop the rest.

    A reply that defines none of the roots keeps everything (the caller reports the missing name).
    Instantiations are read with the parser (veriloop.tools.vsource).
    """
    pool = {**known, **mods}
    if not any(r in pool for r in roots):
        return mods, []
    keep: set[str] = set()
    todo = [r for r in roots if r in pool]
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep.add(name)
        try:
            used = vsource.read(pool[name], f"{name}.sv").instantiated
        except Exception:  # noqa: BLE001 - an unparsable module keeps its parser-free fallback
            used = instantiated_modules(pool[name])
        todo.extend(u for u in used if u in pool and u not in keep)
    kept = {n: src for n, src in mods.items() if n in keep}
    return kept, [n for n in mods if n not in keep]


def design_modules(mods: dict[str, str]) -> dict[str, str]:
    """Drop testbench-like modules a reply may carry along (named `tb`, or calling $finish)."""
    return {n: src for n, src in mods.items() if n != "tb" and "$finish" not in src}


def _write_prompt(
    state: DesignState, plan: Plan, name: str, top: str, choices: str, retrieved: str, known: dict[str, str]
) -> str:
    purpose = next((m.purpose for m in plan.modules if m.name == name), "")
    others = "".join(
        f"Already written (instantiate, do not rewrite):\n```verilog\n{src}```\n" for src in known.values()
    )
    return WRITE_PROMPT.format(
        spec=state["spec"],
        summary=plan.summary,
        module=name,
        purpose=purpose or "see the specification",
        ports=_ports(plan, name),
        top=top,
        choices=choices,
        retrieved=retrieved,
        others=others,
    )


def _ports(plan: Plan, name: str) -> str:
    for m in plan.modules:
        if m.name == name:
            return ", ".join(m.ports) or "(choose them from the specification)"
    return "(choose them from the specification)"


async def _first_pass(
    turn: Turn,
    state: DesignState,
    plan: Plan,
    arch: Architecture,
    top: str,
    max_steps: int,
    base_ctx: dict[str, Any],
    sample: int,
) -> dict[str, str]:
    """Write every module level by level; the modules of one level are independent and written in parallel."""
    choices = "\n".join(f"- {c.decision} ({c.reason})" for c in arch.choices) or "- (none given)"
    retrieved = "".join(
        f"Reference [{c.source}] (an example, not this design: ideas only; keep this spec's names):\n"
        f"{c.text}\n\n"
        for c in arch.citations
        if c.kind != "lesson"
    )
    retrieved += "".join(f"Lesson [{c.source}]:\n{c.text}\n\n" for c in arch.citations if c.kind == "lesson")
    rtl: dict[str, str] = {}
    for level in arch.levels or [[top]]:
        known = dict(rtl)
        prompts = {n: _write_prompt(state, plan, n, top, choices, retrieved, known) for n in level}
        results = await asyncio.gather(
            *(
                write_module(
                    turn,
                    [Message(role="system", content=SYSTEM), Message(role="user", content=prompts[n])],
                    [n],
                    known,
                    top,
                    max_steps,
                    "design.rtl",
                    base_ctx | {"module": n, "sample": sample},
                )
                for n in level
            )
        )
        for r in results:
            rtl.update(r)
    return _ordered(rtl, arch, top)


async def generator_node(state: DesignState, runtime: Any = None) -> dict[str, Any]:
    """First pass: write the design (N candidate samples in parallel when asked). Later: fix with evidence."""
    deps = deps_from(runtime)
    turn = Turn(deps, state, "generator")
    plan = Plan.model_validate(state.get("plan") or {})
    arch = Architecture.model_validate(state.get("architecture") or {})
    top = state.get("top") or plan.top
    max_steps = int(state.get("max_steps", 4))
    rtl: dict[str, str] = dict(state.get("rtl") or {})
    iteration = int(state.get("iteration", 0))
    samples = max(1, int(state.get("samples", 1)))
    candidates: list[dict[str, str]] = []
    base_ctx = {
        "spec": state["spec"],
        "top": top,
        "plan": plan.model_dump(mode="json"),
        "mode": state.get("mode"),
    }
    try:
        if not rtl:
            deps.say(
                "generator", iteration, "writing RTL" + (f" ({samples} candidates)" if samples > 1 else "")
            )
            drafts = await asyncio.gather(
                *(_first_pass(turn, state, plan, arch, top, max_steps, base_ctx, i) for i in range(samples))
            )
            for d in drafts:
                if d and d not in candidates:
                    candidates.append(d)
            rtl = candidates[0] if candidates else {}
            if len(candidates) > 1:
                turn.note("decision", f"{len(candidates)} distinct candidates for the verifier to grade")
            else:
                candidates = []
        elif _last_category(state) == "tb_error":
            # The verifier failed, not the design: leave the design alone; the verifier tries again.
            turn.note(
                "decision",
                "the last failure is the verifier's (no compiling testbench), not evidence against the "
                "design: design left unchanged",
            )
        else:
            deps.say("generator", iteration, "fixing RTL with the verifier's evidence")
            evidence = state.get("feedback") or "(no evidence recorded)"
            rtl, stray = requested_closure(rtl, [top], {})
            if stray:
                turn.note("decision", "dropped module(s) nobody asked for: " + ", ".join(stray))
            current = "\n".join(rtl.values())
            prompt = FIX_PROMPT.format(spec=state["spec"], top=top, evidence=evidence, rtl=current)
            prompt += _lessons_for(deps, turn, evidence)
            msgs = [Message(role="system", content=SYSTEM), Message(role="user", content=prompt)]
            fixed = await write_module(
                turn,
                msgs,
                [],
                dict(rtl),
                top,
                max_steps,
                "design.fix",
                base_ctx | {"rtl": rtl, "feedback": evidence},
            )
            if fixed:
                changed = sorted(n for n, s in fixed.items() if rtl.get(n) != s)
                turn.note("decision", "changed modules: " + (", ".join(changed) or "none"))
                rtl.update(fixed)
            else:
                turn.note("failure", "no corrected code was produced this iteration")
    except BudgetExhausted as exc:
        turn.note("decision", f"stop: {exc.message}")
        return {
            **turn.updates(),
            "rtl": _ordered(rtl, arch, top),
            "candidates": [],
            "decision": "budget",
            "reason": exc.message,
        }
    deps.say("generator", iteration, f"{len(rtl)} module(s) written")
    return {**turn.updates(), "rtl": _ordered(rtl, arch, top), "candidates": candidates}


def _last_category(state: DesignState) -> str:
    verdicts = state.get("verdicts") or []
    return str(verdicts[-1].get("category", "")) if verdicts and isinstance(verdicts[-1], dict) else ""


def _lessons_for(deps: Any, turn: Turn, evidence: str) -> str:
    """Lessons stored by earlier runs whose error matches this evidence exactly, for the fix prompt."""
    store = deps.knowledge()
    if store is None:
        return ""
    try:
        hits = [h for h in store.find_lessons(evidence, k=2) if h.exact]
    except Exception:  # noqa: BLE001 - retrieval is optional; the fix loop works without it
        return ""
    if not hits:
        return ""
    sources = [f"lesson/{h.lesson.provenance.run_id or 'manual'}" for h in hits]
    turn.note("retrieval", "lessons for this error: " + ", ".join(sources), citations=sources)
    return "\n\nEarlier runs hit this same error; what fixed it then:\n" + "\n".join(
        h.lesson.as_prompt() for h in hits
    )


def _ordered(rtl: dict[str, str], arch: Architecture, top: str) -> dict[str, str]:
    order = [n for lv in arch.levels for n in lv]
    names = [n for n in rtl if n != top and n not in order] + [n for n in order if n in rtl and n != top]
    if top in rtl:
        names.append(top)
    return {n: rtl[n] for n in names}


def _lint(known: dict[str, str], top: str, mods: dict[str, str]) -> eda.Check:
    """Lint the modules with the known ones, from `top` when it is among them."""
    everything = {**known, **mods}
    return eda.lint(everything, top if top in everything else None)


def design_source(rtl: dict[str, str]) -> str:
    """All modules as one source text, in dependency order."""
    return "\n".join(rtl.values())
