"""The verifier agent: gets a testbench, simulates, checks equivalence, returns a verdict with evidence."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from veriloop.agents import autofix, eda, referee, tb_scaffold
from veriloop.agents.codeparse import extract_modules, split_modules
from veriloop.agents.deps import Turn, clip, deps_from
from veriloop.agents.rtl_generator import design_source
from veriloop.agents.state import DesignState, Plan, Verdict
from veriloop.errors import BudgetExhausted, MalformedReply
from veriloop.llm.caps import cut_off_note, cut_off_reason, is_cut_off
from veriloop.llm.contract import Message
from veriloop.tools import vsource
from veriloop.tools.screen import screen_design, trusted_names

SYSTEM = """You are the verifier agent of veriloop. You write self-checking Verilog testbenches from \
the SPECIFICATION (not from the implementation): compute every expected value with your own \
behavioural model of the spec, drive stimulus (reset first, then directed corner cases, then \
many random cycles), and compare the design's outputs to your expected values.
Conventions (mandatory): the testbench top module is named `tb`; count compared samples in \
`total` and mismatches in `errors`; for each of the first 5 mismatches print one line \
`MISMATCH time=%0t <signal> got=%h expected=%h`; at the end print exactly one line \
$display("Mismatches: %0d in %0d samples", errors, total); then call $finish.
Answer with the testbench in one ```verilog fenced block."""

TB_PROMPT = """Specification:
{spec}

Verification plan:
{vplan}

The design's top module interface (write the testbench against it):
```verilog
{header}
```
Write the self-checking testbench `tb`."""

MODEL_SYSTEM = """You are the verifier agent of veriloop. You write a behavioural REFERENCE MODEL of \
a specification: a Verilog module that computes what the design's outputs must be, written as \
literally and simply as the specification says it (no optimisation, no extra features). \
veriloop's own testbench drives the design and your model with the same inputs (same clock and \
reset) and compares every output after every change. Write from the SPECIFICATION only; keep the \
module name, port names and widths of the header you are given exactly.
Answer with the module in one ```verilog fenced block."""

MODEL_PROMPT = """Specification:
{spec}

Write the reference model with exactly this header (same name, ports and widths), then its body:
```verilog
{header}
```
{timing}"""
_COMBINATIONAL = "It has no clock input, so it is combinational: use `assign` or `always @(*)` and only \
the ports above (no clk, no reset, no posedge)."
_CLOCKED = "Use only the ports above; registers change on `posedge {clock}`."

_HINT = re.compile(
    r"Hint: Output '([^']+)' has (\d+) mismatch(?:es)?\. First mismatch occurred at time (\d+)"
)
_MISMATCH_LINE = re.compile(r"^.*\bMISMATCH\b.*$", re.M)


def module_header(source: str, top: str) -> str:
    """`module top ... ;` with its port list (no body): what a spec-level testbench may see."""
    body = split_modules(source).get(top, "")
    m = re.search(r"\bmodule\b.*?\)\s*;", body, re.S)
    if m:
        return m.group(0) + "\n  // ... implementation hidden ...\nendmodule"
    m = re.search(r"\bmodule\b[^;]*;", body, re.S)
    return (m.group(0) + "\n  // ... implementation hidden ...\nendmodule") if m else f"module {top}(...);"


_CATEGORY_ORDER = {
    "pass": 0, "mismatch": 1, "no_summary": 2, "timeout": 3, "syntax": 4, "illegal": 5, "tool_error": 6
}


def rank(grade: eda.Grade) -> tuple[int, float]:
    """Sort key of a graded candidate: passing first, then the fewest mismatches per sample."""
    ratio = (grade.mismatches or 0) / grade.samples if grade.samples else 1.0
    return _CATEGORY_ORDER.get(grade.category, 7), ratio


def _grade_ref(ref: str | None, rtl: dict[str, str]) -> str | None:
    """The reference joins the testbench compile only when its units do not clash with the design's
    (names read by the parser)."""
    if not ref:
        return None
    ours = set(rtl) | set(vsource.read(design_source(rtl)).unit_names)
    return None if set(vsource.read(ref, "ref.sv").unit_names) & ours else ref


def reference_as(ref: str, top: str) -> str:
    """The reference with its single module renamed to `top` (VerilogEval's RefModule -> TopModule)."""
    mods = [u.name for u in vsource.read(ref, "ref.sv").units if u.kind in ("module", "macromodule")]
    if top in mods or len(mods) != 1:
        return ref
    return vsource.rename_unit(ref, mods[0], top)


def _grade(source: str, tb: str, ref: str | None, rtl: dict[str, str], top: str) -> eda.Grade:
    """Grade with the reference compiled beside the design when it fits, and as the golden design."""
    return eda.grade(source, tb, _grade_ref(ref, rtl), golden=reference_as(ref, top) if ref else None)


_FILE_LINE = re.compile(r"\bdesign\.sv:(\d+)")
_ERROR = re.compile(r"\berror\b", re.I)


def user_log(log: str, rtl: dict[str, str] | None) -> str:
    """A grader log as the user reads it: `design.sv:N` (the grader's combined file) becomes the
    module's own file and line (`mux.sv:3`, as written to the out dir), repeated lines are dropped
    and error lines come before everything else (warnings, tool chatter)."""
    spans: list[tuple[int, int, str]] = []
    if rtl:
        line = 1
        for name, src in rtl.items():  # design_source joins the modules with one newline
            n = src.count("\n") + (0 if src.endswith("\n") else 1)
            spans.append((line, line + n - 1, name))
            line += n + (1 if src.endswith("\n") else 0)

    def where(m: re.Match[str]) -> str:
        at = int(m.group(1))
        for first, last, name in spans:
            if first <= at <= last:
                return f"{name}.sv:{at - first + 1}"
        return m.group(0)

    seen: set[str] = set()
    errors: list[str] = []
    rest: list[str] = []
    for raw in (log or "").splitlines():
        text = _FILE_LINE.sub(where, raw.rstrip())
        if not text.strip() or text in seen:
            continue
        seen.add(text)
        (errors if _ERROR.search(text) else rest).append(text)
    return "\n".join(errors + rest)


def _verdict_from_grade(
    iteration: int, mode: str, grade: eda.Grade, rtl: dict[str, str] | None = None
) -> Verdict:
    hints = grade.hints or [
        f"output '{m.group(1)}' has {m.group(2)} mismatches; first at time {m.group(3)}"
        for m in _HINT.finditer(grade.log)
    ]
    lines = _MISMATCH_LINE.findall(grade.log)
    first = lines[0].strip() if lines else (hints[0] if hints else "")
    if grade.first_mismatch_time is not None and not first:
        first = f"at time {grade.first_mismatch_time}"
    summary = {
        "pass": "The testbench reports no mismatches.",
        "syntax": "The design (with the testbench) does not compile.",
        "mismatch": "Simulation outputs differ from the expected values.",
        "timeout": "Simulation did not finish in time (a hang or missing $finish).",
        "tool_error": "A tool failed while checking the design.",
        "no_summary": "The testbench printed no trustworthy summary line.",
        "illegal": "The grader refused the design before simulating it (see the log for why).",
    }.get(grade.category, grade.category)
    return Verdict(
        iteration=iteration,
        passed=grade.passed,
        category=grade.category,
        mode=mode,  # type: ignore[arg-type]
        mismatches=grade.mismatches,
        samples=grade.samples,
        first_mismatch=first[:300],
        hints=hints[:8],
        log_excerpt=clip(user_log(grade.log_tail if grade.category != "syntax" else grade.log, rtl), 2500),
        trace=clip(grade.trace, 2500),
        summary=summary,
    )


MAX_CUT_OFF_RETRIES = 2
_TB_WHAT = "the complete self-checking testbench `tb` (a compact one: at most ~80 lines)"
def _offline(turn: Turn) -> bool:
    return turn.deps.settings.backend(turn.backend_name).kind == "offline"


def testbench_style(turn: Turn) -> str:
    """"scaffold" (veriloop's harness + the agent's reference model) or "llm" (the agent's whole tb).

    `agents.testbench = "auto"` scaffolds for model backends and keeps the design library's whole
    testbenches for the offline backend."""
    style = turn.deps.settings.agents.testbench
    if style != "auto":
        return style
    return "llm" if _offline(turn) else "scaffold"


@dataclass(frozen=True)
class _Reply:
    """What one verifier reply came to: an accepted testbench, or why not and what to tell the model."""

    tb: str = ""
    missing: bool = False  # the reply lacked the module asked for (if cut off: asked again, shorter)
    why: str = ""  # one line for the verdict: why this reply was not accepted
    feedback: str = ""  # the user message asking for the corrected version


async def _ask_until_accepted(
    turn: Turn,
    base: list[Message],
    *,
    task: str,
    context: dict[str, Any],
    max_steps: int,
    module: str,
    what: str,
    judge: Callable[[str], Awaitable[_Reply]],
) -> tuple[str, str]:
    """Ask for `module` until `judge` accepts a reply: (tb, "") or ("", why not) after at most three
    calls. `what` describes the module in the request sent after a cut-off reply.

    Each retry is warmer with another seed. A reply cut off before the module is complete is never
    sent back: the request is asked again, shorter. A rejected reply goes back once with its error
    (the prompt does not grow turn by turn); a reply identical to the rejected one does not get the
    same error again but is told to write a different version."""
    messages = list(base)
    why = f"no reply contained the module `{module}`"
    last_error = ""
    cut_offs = 0
    for step in range(max(1, min(max_steps, 3))):
        try:
            comp = await turn.complete(
                messages, task=task, context=context | {"step": step}, record_prompt=(step == 0), retry=step,
            )
        except MalformedReply as exc:
            turn.note("failure", f"backend reply unusable: {exc.message}")
            why = f"the backend's reply was unusable ({exc.message})"
            continue
        reply = await judge(comp.text or "")
        if reply.tb:
            return reply.tb, ""
        if reply.missing and is_cut_off(comp):
            cut_offs += 1
            why = (
                f"{cut_offs} repl{'y was' if cut_offs == 1 else 'ies were'} cut off before `endmodule` of "
                f"`{module}` (the last: {cut_off_reason(comp)}, after {comp.completion_tokens} tokens)"
            )
            turn.note("failure", f"reply {cut_off_reason(comp)} ({comp.completion_tokens} tokens); discarded")
            if cut_offs > MAX_CUT_OFF_RETRIES:
                break
            messages = [*base, Message(role="user", content=cut_off_note(comp.completion_tokens, what))]
            continue
        if reply.missing:
            turn.note("failure", reply.why)
        if last_error and turn.repeated(task, context) > 0:
            turn.note("failure", "the reply did not change; the same error is not fed back again")
            messages = [*base, Message(role="user", content=(
                "Your previous answer was rejected with this error:\n" + clip(last_error, 1500)
                + f"\nYou sent the same answer again. Write a DIFFERENT, corrected version of `{module}`."))]
            continue
        why, last_error = reply.why, reply.feedback
        messages = [*base, Message(role="assistant", content=comp.text or ""),
                    Message(role="user", content=reply.feedback)]
    return "", why


async def _write_reference_tb(
    turn: Turn, state: DesignState, source: str, top: str, max_steps: int, lesson: str = ""
) -> tuple[str, str] | None:
    """veriloop's scaffold testbench around a reference model the agent writes from the spec: (tb, "")
    or ("", why not) after a bounded number of tries; None when the scaffold does not suit the design
    (its ports cannot be elaborated, inout ports, no output): then the agent writes a whole testbench.
    `lesson` says why an earlier reference model for this spec was ruled wrong (see referee)."""
    ports = await asyncio.to_thread(tb_scaffold.elaborated_ports, source, top)
    # The signal table in the verdict is part of the referee's evidence; without a referee the
    # self-verified evidence stays as measured in bench/real_model/RESULT.md (MISMATCH lines only).
    harness = tb_scaffold.scaffold(top, ports, dump=turn.deps.settings.agents.referee) if ports else None
    if not ports or harness is None:
        return None
    want = tb_scaffold.expected_name(top)
    header = tb_scaffold.model_header(top, ports)
    clock = tb_scaffold.clock_of(ports)
    timing = _CLOCKED.format(clock=clock.name) if clock else _COMBINATIONAL
    base = [
        Message(role="system", content=MODEL_SYSTEM),
        Message(role="user", content=MODEL_PROMPT.format(spec=state["spec"], header=header, timing=timing)
                + (f"\n\n{lesson}" if lesson else "")),
    ]
    design_mods = split_modules(source)

    def compiles(models: dict[str, str]) -> eda.Check:
        return eda.compile_check({**design_mods, "tb": harness + "\n" + models[want]}, "tb")

    async def judge(text: str) -> _Reply:
        mods = {n: src for n, src in extract_modules(text).items() if n not in design_mods and n != "tb"}
        if want not in mods:
            return _Reply(missing=True, why=f"the reply contained no module `{want}`", feedback=(
                f"Answer with the complete module `{want}` (the header above) in a ```verilog block."))
        # The model runs inside the trusted testbench, so it gets the design's screening: it may name
        # only what it declares (no `tb.errors`), print, and call pure functions; nothing else.
        screened = await asyncio.to_thread(screen_design, "\n".join(mods.values()), trusted_names(harness))
        if not screened.ok:
            reasons = "; ".join(screened.reasons)
            turn.note("failure", "the reference model was refused: " + reasons[:300])
            return _Reply(why="the reference model was refused: " + reasons[:300], feedback=(
                f"Your reference model was refused: {reasons}\nWrite a plain behavioural module "
                f"`{want}`: no hierarchical names, no $finish, no files."))
        models, check, fixed = await asyncio.to_thread(
            autofix.check_with_repair, {want: screened.compiled_text}, compiles,
            {tb_scaffold.MODEL_INSTANCE: want}
        )
        if fixed:  # the model's outputs assigned in always blocks, declared as wires
            turn.note("tool", f"auto-fix: {fixed}")
        if check.ok:
            return _Reply(tb=harness + "\n" + models[want])
        turn.note("tool", f"reference model compile: {clip(check.text(), 1200)}")
        first = (check.text().strip().splitlines() or ["?"])[0][:200]
        return _Reply(
            why="the reference model did not compile: " + first,
            feedback="Your reference model does not compile in veriloop's testbench:\n"
            + clip(check.text(), 2000) + f"\nAnswer with the corrected complete module `{want}`.",
        )

    return await _ask_until_accepted(
        turn, base, task="design.reference_model",
        context={"spec": state["spec"], "top": top, "header": header}, max_steps=max_steps,
        module=want, what=f"the complete module `{want}` (compact: the spec, nothing more)", judge=judge,
    )


async def _write_testbench(
    turn: Turn, state: DesignState, source: str, top: str, max_steps: int
) -> tuple[str, str]:
    """The agents' testbench, or ("", why not) after a bounded number of tries."""
    plan = Plan.model_validate(state.get("plan") or {})
    vplan = (
        "\n".join(f"- {v}" for v in plan.verification_plan + plan.acceptance) or "- exercise every behaviour"
    )
    header = module_header(source, top)
    base = [
        Message(role="system", content=SYSTEM),
        Message(role="user", content=TB_PROMPT.format(spec=state["spec"], vplan=vplan, header=header)),
    ]
    design_mods = split_modules(source)

    async def judge(text: str) -> _Reply:
        mods = extract_modules(text)
        if "tb" not in mods:
            return _Reply(missing=True, why="the reply contained no testbench module `tb`", feedback=(
                "Answer with the complete testbench module named `tb` in a ```verilog block."))
        check = await asyncio.to_thread(eda.compile_check, {**design_mods, **mods}, "tb")
        if check.ok:
            return _Reply(tb="\n".join(src for name, src in mods.items() if name not in design_mods))
        turn.note("tool", f"testbench compile: {clip(check.text(), 1200)}")
        return _Reply(
            why="the testbench did not compile: " + (check.text().strip().splitlines() or ["?"])[0][:200],
            feedback="The testbench does not compile with the design:\n" + clip(check.text(), 2500)
            + "\nAnswer with the corrected complete testbench.",
        )

    context = {"spec": state["spec"], "top": top, "plan": plan.model_dump(mode="json"), "header": header}
    return await _ask_until_accepted(
        turn, base, task="design.testbench", context=context, max_steps=max_steps,
        module="tb", what=_TB_WHAT, judge=judge,
    )


async def verifier_node(state: DesignState, runtime: Any = None) -> dict[str, Any]:
    """Simulate against the testbench (the user's or its own), then equivalence against --ref if given."""
    deps = deps_from(runtime)
    turn = Turn(deps, state, "verifier")
    iteration = int(state.get("iteration", 0))
    mode = state.get("mode", "self-verified")
    rtl = dict(state.get("rtl") or {})
    top = state.get("top") or Plan.model_validate(state.get("plan") or {}).top
    out: dict[str, Any] = {}
    if state.get("decision") == "budget":
        return {}
    deps.say("verifier", iteration, "verifying")
    source = design_source(rtl)
    if top not in rtl:
        verdict = Verdict(
            iteration=iteration,
            passed=False,
            category="no_code",
            mode=mode,
            summary=f"No module `{top}` was produced, so nothing could be simulated."
            + _generator_failure(state),
        )
        return _finish(turn, state, verdict, out)
    tb = state.get("tb") or ""
    if not tb and mode == "self-verified":
        # A design that does not lint gets its own error back first: no testbench is written for it.
        lint = await asyncio.to_thread(eda.lint, rtl, top)
        if not lint.ok:
            verdict = Verdict(
                iteration=iteration,
                passed=False,
                category="syntax",
                mode=mode,
                summary="The design does not pass Verilator lint; no testbench was written for it yet.",
                log_excerpt=clip(lint.text(), 2500),
            )
            turn.note("tool", f"lint before the testbench: {clip(lint.text(), 1200)}")
            return _finish(turn, state, verdict, out)
        steps = int(state.get("max_steps", 4))
        tb_source = "design library" if _offline(turn) else "agents"
        try:
            scaffolded = (
                await _write_reference_tb(turn, state, source, top, steps)
                if testbench_style(turn) == "scaffold" else None
            )
            if scaffolded is not None:
                tb, why = scaffolded
                tb_source = tb_scaffold.REFERENCE_MODEL_SOURCE
            else:
                tb, why = await _write_testbench(turn, state, source, top, steps)
        except BudgetExhausted as exc:
            turn.note("decision", f"stop: {exc.message}")
            return {**turn.updates(), "decision": "budget", "reason": exc.message}
        if not tb:
            verdict = Verdict(
                iteration=iteration,
                passed=False,
                category="tb_error",
                mode=mode,
                summary="The verifier could not produce a compiling self-checking testbench "
                f"({why}). This is the verifier's failure, not evidence of a bug in the design.",
            )
            return _finish(turn, state, verdict, out)
        out.update(tb=tb, tb_source=tb_source)
        scaffolded_tb = tb_source == tb_scaffold.REFERENCE_MODEL_SOURCE
        turn.note("reply", "reference model written; veriloop's testbench `tb` compares the design with it"
                  if scaffolded_tb else "testbench written (top `tb`)")
    ref = state.get("ref") or None
    cands = [c for c in state.get("candidates") or [] if top in c]
    if len(cands) > 1:
        # Candidate samples are independent: grade them all at once and keep the best.
        grades = await asyncio.gather(
            *(asyncio.to_thread(_grade, design_source(c), tb, ref, c, top) for c in cands)
        )
        best = min(range(len(cands)), key=lambda i: rank(grades[i]))
        turn.note(
            "decision",
            "candidates: "
            + "; ".join(
                f"#{i}: {g.category} ({g.mismatches} mismatches in {g.samples})" for i, g in enumerate(grades)
            )
            + f" -> candidate #{best} kept",
        )
        rtl, grade = cands[best], grades[best]
        source = design_source(rtl)
        out["rtl"] = rtl
    else:
        grade = await asyncio.to_thread(_grade, source, tb, ref, rtl, top)
    out["candidates"] = []
    ruling: referee.Ruling | None = None
    graded_tb = tb
    if grade.category == "mismatch" and _refereed(turn, state, mode, out):
        try:
            ruling, tb, grade = await _referee(turn, state, out, source, rtl, top, tb, ref, grade)
        except BudgetExhausted as exc:
            turn.note("decision", f"stop: {exc.message}")
            return {**turn.updates(), **out, "decision": "budget", "reason": exc.message}
    verdict = _verdict_from_grade(iteration, mode, grade, rtl)
    why = (ruling.why if ruling else "") or "no reason given"
    if tb != graded_tb:
        verdict.summary += (
            " (Graded on a reference model rewritten after a referee ruled the previous one wrong: "
            f"{why}.)"
        )
    elif ruling is not None and ruling.wrong == "design":
        verdict.summary += (
            " A referee, asked whether the design or the reference model departs from the spec here, "
            f"ruled against the design: {why}."
        )
    turn.note("tool", f"simulation: {verdict.category}, mismatches {verdict.mismatches} in {verdict.samples}")
    if mode == "self-verified" and state.get("tb_source") != "user":
        if grade.category == "no_summary":
            out["tb"] = ""  # the agents' testbench printed no summary: write a new one next iteration
        elif grade.category == "syntax":
            alone = await asyncio.to_thread(eda.compile_check, rtl, top)
            if alone.ok:  # the design compiles alone: the agents' testbench no longer fits its interface
                out["tb"] = ""
                verdict.summary += " The design compiles alone; the agents' testbench will be rewritten."
    if ref and grade.category not in ("syntax", "tool_error"):
        eq = await asyncio.to_thread(eda.equivalence, source, reference_as(ref, top), top)
        verdict.equivalence = eq.status
        verdict.counterexample = clip(eq.detail, 2000)
        turn.note("tool", f"equivalence vs reference: {eq.status}")
        if eq.status == "refuted":
            verdict.passed = False
            verdict.category = "equivalence" if grade.passed else verdict.category
            verdict.summary = (
                verdict.summary + " Equivalence checking against the reference found a "
                "differing input sequence."
            ).strip()
        elif eq.status != "proved" and verdict.passed:
            verdict.summary += f" Equivalence against the reference is {eq.status}."
    verdict = _keep_best(turn, state, verdict, rtl, out)
    return _finish(turn, state, verdict, out)


def _refereed(turn: Turn, state: DesignState, mode: str, out: dict[str, Any]) -> bool:
    """Does this mismatch go to the referee first? Self-verified, a scaffolded testbench (the agents'
    reference model), `[agents] referee = true`, a model backend."""
    source = out.get("tb_source") or state.get("tb_source")
    return (
        mode == "self-verified"
        and source == tb_scaffold.REFERENCE_MODEL_SOURCE
        and turn.deps.settings.agents.referee
        and not _offline(turn)
    )


async def _referee(
    turn: Turn, state: DesignState, out: dict[str, Any], source: str, rtl: dict[str, str], top: str,
    tb: str, ref: str | None, grade: eda.Grade,
) -> tuple[referee.Ruling, str, eda.Grade]:
    """Ask the referee about a mismatch; if it rules the reference model wrong (at most
    referee.MAX_MODEL_REWRITES times a run), rewrite the model with the ruling and grade again.
    Returns the ruling and the testbench and grade the verdict is then made from."""
    model_name = tb_scaffold.expected_name(top)
    model = split_modules(tb).get(model_name, "")
    seen = _verdict_from_grade(turn.iteration, "self-verified", grade, rtl)
    ruling = await referee.rule(
        turn, spec=state["spec"], top=top, design=source, model_name=model_name, model=model,
        disagreement=referee.evidence(seen.first_mismatch, seen.trace, seen.hints),
    )
    turn.note("decision", f"referee: {'no ruling' if ruling.wrong is None else ruling.wrong + ' wrong'}"
              + (f" ({ruling.why})" if ruling.why else ""))
    rewrites = int(out.get("referee_rewrites", state.get("referee_rewrites", 0)) or 0)
    if ruling.wrong != "model":
        return ruling, tb, grade
    if rewrites >= referee.MAX_MODEL_REWRITES:
        turn.note("decision", f"the reference model was already rewritten {rewrites} times; it stays")
        return ruling, tb, grade
    out["referee_rewrites"] = rewrites + 1
    lesson = (
        "An earlier reference model for this specification was ruled wrong: "
        f"{ruling.why or 'it departs from the specification'}.\n"
        f"Where it disagreed with the design (its outputs are the \"expected\" values):\n"
        + clip(referee.evidence(seen.first_mismatch, seen.trace, []), 1500)
        + "\nWrite the reference model so it follows the specification exactly there."
    )
    written = await _write_reference_tb(turn, state, source, top, int(state.get("max_steps", 4)), lesson)
    if not written or not written[0]:
        turn.note("decision", "the rewritten reference model was not usable; the old one stays")
        return ruling, tb, grade
    new_tb = written[0]
    out.update(tb=new_tb, tb_source=tb_scaffold.REFERENCE_MODEL_SOURCE)
    turn.note("reply", "reference model rewritten after the referee's ruling")
    return ruling, new_tb, await asyncio.to_thread(_grade, source, new_tb, ref, rtl, top)


def verdict_rank(verdict: Verdict) -> tuple[int, float]:
    """Sort key of a verdict on one testbench: passing first, then the fewest mismatches per sample."""
    order = 1 if verdict.category == "equivalence" else _CATEGORY_ORDER.get(verdict.category, 7)
    ratio = (verdict.mismatches or 0) / verdict.samples if verdict.samples else 1.0
    return (0 if verdict.passed else max(order, 1)), ratio


def _keep_best(
    turn: Turn, state: DesignState, verdict: Verdict, rtl: dict[str, str], out: dict[str, Any]
) -> Verdict:
    """A fix that made the design worse on the same testbench is undone: the best design so far and its
    verdict stay (the next fix starts from them, and the run ends with them); else this one is the best."""
    tb_key = hashlib.sha256((out.get("tb") or state.get("tb") or "").encode()).hexdigest()[:16]
    best = state.get("best") or {}
    now = verdict_rank(verdict)
    if best.get("tb") == tb_key and tuple(best.get("rank") or ()) < now and best.get("rtl"):
        kept = Verdict.model_validate(best["verdict"])
        turn.note(
            "decision",
            f"iteration {verdict.iteration}'s design is worse ({verdict.category}, "
            f"{verdict.mismatches} mismatches in {verdict.samples}) than iteration {kept.iteration}'s: "
            "that design is kept and fixed again",
        )
        kept.summary = (
            f"{kept.summary} (The design of iteration {kept.iteration}: the change tried in iteration "
            f"{verdict.iteration} made it worse, {verdict.category}"
            + (f" with {verdict.mismatches} mismatches" if verdict.mismatches is not None else "")
            + ", and was undone.)"
        )
        kept.iteration = verdict.iteration
        out["rtl"] = dict(best["rtl"])
        return kept
    out["best"] = {
        "tb": tb_key,
        "rank": list(now),
        "rtl": dict(out.get("rtl") or rtl),
        "verdict": verdict.model_dump(mode="json"),
    }
    return verdict


def _generator_failure(state: DesignState) -> str:
    """The generator's last recorded failure this iteration (e.g. replies cut off at max_tokens), if any."""
    iteration = int(state.get("iteration", 0))
    for e in reversed(state.get("transcript") or []):
        if e.get("agent") == "generator" and e.get("kind") == "failure" and e.get("iteration") == iteration:
            return f" The generator's last failure: {str(e.get('text', ''))[:300]}."
    return ""


def _finish(turn: Turn, state: DesignState, verdict: Verdict, out: dict[str, Any]) -> dict[str, Any]:
    turn.note("decision", verdict.evidence()[:3000])
    turn.deps.say(
        "verifier", verdict.iteration, f"{'PASS' if verdict.passed else 'FAIL'} ({verdict.category})"
    )
    failures = 0 if verdict.passed else int(state.get("failures", 0)) + 1
    fixes: list[dict[str, Any]] = []
    prev = [Verdict.model_validate(v) for v in state.get("verdicts") or []]
    if verdict.passed and prev and not prev[-1].passed:
        fixes.append(
            {
                "error": prev[-1].evidence()[:1500],
                "spec": state["spec"][:500],
                "fix": design_source(state.get("rtl") or {})[:3000],
            }
        )
    return {
        **turn.updates(),
        **out,
        "verdicts": [verdict.model_dump(mode="json")],
        "failures": failures,
        "feedback": verdict.evidence(),
        "fixes": fixes,
    }
