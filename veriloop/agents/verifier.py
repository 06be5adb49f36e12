"""The verifier agent: gets a testbench, simulates, checks equivalence, returns a verdict with evidence."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from veriloop.agents import eda
from veriloop.agents.codeparse import extract_modules, split_modules
from veriloop.agents.deps import Turn, clip, deps_from
from veriloop.agents.rtl_generator import design_source
from veriloop.agents.state import DesignState, Plan, Verdict
from veriloop.errors import BudgetExhausted, MalformedReply
from veriloop.llm.caps import cut_off_note, is_cut_off
from veriloop.llm.contract import Message
from veriloop.tools import vsource

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
        summary=summary,
    )


MAX_CUT_OFF_RETRIES = 2
_TB_WHAT = "the complete self-checking testbench `tb` (a compact one: at most ~80 lines)"


async def _write_testbench(
    turn: Turn, state: DesignState, source: str, top: str, max_steps: int
) -> tuple[str, str]:
    """The agents' testbench, or ("", why not) after a bounded number of tries."""
    plan = Plan.model_validate(state.get("plan") or {})
    vplan = (
        "\n".join(f"- {v}" for v in plan.verification_plan + plan.acceptance) or "- exercise every behaviour"
    )
    messages = [
        Message(role="system", content=SYSTEM),
        Message(
            role="user",
            content=TB_PROMPT.format(spec=state["spec"], vplan=vplan, header=module_header(source, top)),
        ),
    ]
    context = {
        "spec": state["spec"],
        "top": top,
        "plan": plan.model_dump(mode="json"),
        "header": module_header(source, top),
    }
    base = list(messages)
    retry = 0
    cut_offs = 0
    last_error = ""
    why = "no reply contained a testbench module `tb`"
    for step in range(max(1, min(max_steps, 3))):
        try:
            comp = await turn.complete(
                messages,
                task="design.testbench",
                context=context | {"step": step},
                record_prompt=(step == 0),
                retry=retry,
            )
        except MalformedReply as exc:
            turn.note("failure", f"backend reply unusable: {exc.message}")
            why = f"the backend's reply was unusable ({exc.message})"
            retry += 1
            continue
        retry += 1
        mods = extract_modules(comp.text)
        if is_cut_off(comp) and "tb" not in mods:
            # A prefix of a testbench is not "a reply without `tb`", and it is never sent back whole.
            cut_offs += 1
            why = (
                f"{cut_offs} testbench repl{'y was' if cut_offs == 1 else 'ies were'} cut off at the "
                f"max_tokens cap ({comp.completion_tokens} tokens) before `endmodule`"
            )
            turn.note("failure", f"testbench reply cut off at max_tokens ({comp.completion_tokens} tokens)")
            if cut_offs > MAX_CUT_OFF_RETRIES:
                break
            messages = [*base, Message(role="user", content=cut_off_note(comp.completion_tokens, _TB_WHAT))]
            continue
        if last_error and turn.repeated("design.testbench", context) > 0:
            turn.note("failure", "the testbench reply did not change; the same error is not fed back again")
            messages = [
                *base,
                Message(
                    role="user",
                    content="Your previous testbench was rejected with this error:\n"
                    + clip(last_error, 1500)
                    + "\nYou sent the same testbench again. Write a DIFFERENT, corrected one.",
                ),
            ]
            continue
        messages.append(Message(role="assistant", content=comp.text or ""))
        if "tb" not in mods:
            turn.note("failure", "reply contained no testbench module `tb`")
            last_error = why = "the reply contained no testbench module `tb`"
            messages.append(
                Message(
                    role="user",
                    content="Answer with the complete testbench module named `tb` in a ```verilog block.",
                )
            )
            continue
        tb = "\n".join(src for name, src in mods.items() if name not in split_modules(source))
        check = await asyncio.to_thread(eda.compile_check, {**split_modules(source), **mods}, "tb")
        if check.ok:
            return tb, ""
        turn.note("tool", f"testbench compile: {clip(check.text(), 1200)}")
        last_error = "The testbench does not compile with the design:\n" + clip(check.text(), 2500)
        why = "the testbench did not compile: " + (check.text().strip().splitlines() or ["?"])[0][:200]
        messages.append(
            Message(role="user", content=last_error + "\nAnswer with the corrected complete testbench.")
        )
    return "", why


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
        try:
            tb, why = await _write_testbench(turn, state, source, top, int(state.get("max_steps", 4)))
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
        offline = turn.deps.settings.backend(turn.backend_name).kind == "offline"
        out.update(tb=tb, tb_source="design library" if offline else "agents")
        turn.note("reply", "testbench written (top `tb`)")
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
    verdict = _verdict_from_grade(iteration, mode, grade, rtl)
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
    return _finish(turn, state, verdict, out)


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
