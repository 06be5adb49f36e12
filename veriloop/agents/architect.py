"""The architect agent: module decomposition in dependency order, micro-architecture choices, retrieval."""

from __future__ import annotations

import re
from typing import Any

from veriloop.agents.codeparse import extract_json
from veriloop.agents.deps import Deps, Turn, deps_from
from veriloop.agents.state import Architecture, Choice, Citation, DesignState, Plan
from veriloop.errors import BudgetExhausted
from veriloop.llm.contract import Message

SYSTEM = """You are the architect agent of veriloop. Given a specification and the planner's plan, \
choose the micro-architecture. Answer with ONE JSON object in a ```json fenced block:
  "order": module names in dependency order (leaves first, the top last),
  "choices": [{"decision": "...", "reason": "..."}] (state encoding, reset style, pipelining, \
counter width, handshakes...).
Retrieved designs are examples from OTHER designs: use an idea from one only when it applies, say so \
in a reason, and never take its module name or port names: the specification's names win."""

PROMPT = """Specification:
{spec}

Plan:
{plan}

Retrieved material (examples from other designs, not this one; cite by [n]):
{retrieved}
Answer with the JSON object."""


def dependency_levels(plan: Plan, order: list[str] | None = None) -> list[list[str]]:
    """Modules grouped into levels: each level depends only on earlier levels (parallel within a level)."""
    names = [m.name for m in plan.modules]
    if order:
        names = [n for n in order if n in names] + [n for n in names if n not in order]
    deps = {m.name: [d for d in m.depends_on if d in names and d != m.name] for m in plan.modules}
    levels: list[list[str]] = []
    placed: set[str] = set()
    remaining = list(names)
    while remaining:
        level = [n for n in remaining if all(d in placed for d in deps.get(n, []))]
        if not level:  # a cycle: break it in the given order
            level = [remaining[0]]
        levels.append(level)
        placed.update(level)
        remaining = [n for n in remaining if n not in placed]
    top = plan.top
    if top in placed and levels and top not in levels[-1]:
        for lv in levels:
            if top in lv:
                lv.remove(top)
        levels = [lv for lv in levels if lv] + [[top]]
    return levels


def similar_library_design(spec: str) -> Citation | None:
    """The closest design of veriloop's own verified library, as a reference snippet (None if none fits)."""
    try:
        from veriloop.designlib.match import match_spec
        from veriloop.designlib.render import render

        match = match_spec(spec)
        if match is None:
            return None
        rd = render(match.entry, dict(match.params))
    except Exception:  # noqa: BLE001 - the library is a helper, never a reason to fail
        return None
    return Citation(
        source=f"designlib/{match.entry.name}",
        kind="design",
        score=float(match.score),
        text=clip_lines(rd.rtl, 1500),
    )


def clip_lines(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a line end (never mid-word), marked when cut."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    if cut <= 0:
        cut = text.rfind(" ", 0, limit)
    return text[: max(cut, 0)].rstrip() + "\n// ... (rest of this example left out)\n"


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _port_names(ports: list[str]) -> set[str]:
    """Names of port declarations such as "input [7:0] d" (the last identifier of each)."""
    out: set[str] = set()
    for p in ports:
        words = [w for w in _WORD.findall(re.sub(r"\[[^\]]*\]", " ", p)) if w not in _DECL_WORDS]
        if words:
            out.add(words[-1])
    return out


_DECL_WORDS = {"input", "output", "inout", "wire", "reg", "logic", "signed", "unsigned", "var"}


def related_to_spec(c: Citation, spec: str, plan: Plan | None = None) -> bool:
    """Does a retrieved design fit this spec? Its module name is named in the spec, or at least
    3/4 of its port names are the spec's own (the plan's top ports when it has them, else the spec's
    words). Citations without a module (docs, lessons) always fit."""
    if c.kind == "lesson":
        return True
    try:
        from veriloop.tools import vsource

        units = [u for u in vsource.read(c.text, "example.sv").units if u.kind in ("module", "macromodule")]
    except Exception:  # noqa: BLE001 - an unreadable example is judged by its text alone
        units = []
    if not units:
        return True
    unit = units[0]
    words = set(_WORD.findall(spec))
    if unit.name in words:
        return True
    ports = set(unit.ports)
    if not ports:
        return True
    top = next((m for m in (plan.modules if plan else []) if m.name == plan.top), None) if plan else None
    ours = _port_names(top.ports) if top is not None and top.ports else words
    return len(ports & ours) * 4 >= 3 * len(ports)


def retrieve(deps: Deps, spec: str, k: int = 2) -> list[Citation]:
    """Similar designs (built-in library, knowledge store), docs and lessons; empty when none is available."""
    out: list[Citation] = []
    lib = similar_library_design(spec)
    if lib is not None:
        out.append(lib)
    store = deps.knowledge()
    if store is None:
        return out
    try:
        # Both kinds of knowledge, k of each at most: engineering know-how from the built-in corpus
        # docs (idioms, pitfalls, tool errors) and similar designs/code (design library, user docs).
        from veriloop.knowledge.corpus import corpus_files

        corpus = sorted(corpus_files().values())
        know_how = store.search(spec, k=k, where={"source": corpus}) if corpus else []
        have = {c.source for c in out} | {h.source for h in know_how}
        designs = [
            h
            for h in store.search(spec, k=3 * k + 2)
            if h.kind != "lesson" and h.source not in have and h.source.removesuffix(".v") not in have
        ][: max(0, k - 1) if lib is not None else k]
        out.extend(_citation(h, "doc") for h in [*know_how, *designs])
        for hit in store.find_lessons(spec, k=2):
            out.append(_citation(hit, "lesson"))
    except Exception as exc:  # noqa: BLE001 - retrieval is optional; the flow works without it
        from veriloop.agents.deps import _one_line

        deps.knowledge_note = "knowledge-base search failed: " + _one_line(exc)
    return out


def _citation(hit: Any, kind: str) -> Citation:
    lesson = getattr(hit, "lesson", None)
    if lesson is not None:
        prov = getattr(lesson, "provenance", None)
        source = f"lesson/{getattr(prov, 'run_id', None) or 'manual'}"
        text = f"error: {getattr(lesson, 'error_text', '')}\nfix: {getattr(lesson, 'fix', '')}"
        return Citation(
            source=source,
            kind="lesson",
            score=float(getattr(hit, "score", 0.0) or 0.0),
            text=clip_lines(text, 800),
        )
    get = (
        (lambda k, d=None: hit.get(k, d)) if isinstance(hit, dict) else (lambda k, d=None: getattr(hit, k, d))
    )
    source = get("source") or get("citation") or get("id") or get("path") or kind
    text = get("text") or get("content") or get("error") or ""
    if kind == "lesson" and get("fix"):
        text = f"error: {get('error') or ''}\nfix: {get('fix')}"
    score = get("score") or 0.0
    return Citation(
        source=str(source), kind=str(get("kind") or kind), score=float(score), text=clip_lines(str(text), 800)
    )


async def architect_node(state: DesignState, runtime: Any = None) -> dict[str, Any]:
    """Decompose the plan, retrieve similar designs and lessons, and record choices with reasons."""
    deps = deps_from(runtime)
    turn = Turn(deps, state, "architect")
    deps.say("architect", 0, "choosing the micro-architecture")
    plan = Plan.model_validate(state.get("plan") or {})
    if state.get("plan_source") == "spec" and len(plan.modules) == 1:
        # The spec fixed the one module and its ports: nothing to decompose, and no retrieved design
        # may stand beside the spec's own names.
        arch = Architecture(order=[plan.top], levels=[[plan.top]])
        turn.note("decision", f"one module `{plan.top}` with the spec's ports: no architect call")
        return {**turn.updates(), "architecture": arch.model_dump(mode="json")}
    citations = retrieve(deps, state["spec"])
    unrelated = [c for c in citations if not related_to_spec(c, state["spec"], plan)]
    if unrelated:
        turn.note(
            "retrieval",
            "left out (their module/port names do not match the spec): "
            + ", ".join(c.source for c in unrelated),
        )
        citations = [c for c in citations if c not in unrelated]
    if citations:
        turn.note(
            "retrieval",
            "\n".join(
                f"[{i + 1}] {c.kind} {c.source} (score {c.score:.2f})" for i, c in enumerate(citations)
            ),
            citations=[c.source for c in citations],
        )
    if deps.knowledge_note:
        turn.note("retrieval", f"no knowledge-base retrieval: {deps.knowledge_note}")
    elif not citations:
        turn.note("retrieval", "nothing relevant found in the knowledge base")
    retrieved = (
        "\n".join(f"[{i + 1}] ({c.kind}, {c.source})\n{c.text}\n" for i, c in enumerate(citations))
        or "(none)\n"
    )
    messages = [
        Message(role="system", content=SYSTEM),
        Message(
            role="user",
            content=PROMPT.format(
                spec=state["spec"], plan=plan.model_dump_json(indent=1), retrieved=retrieved
            ),
        ),
    ]
    context = {
        "spec": state["spec"],
        "plan": plan.model_dump(mode="json"),
        "top": plan.top,
        "citations": [c.model_dump(mode="json") for c in citations],
    }
    choices: list[Choice] = []
    order: list[str] = []
    extra: dict[str, Any] = {}
    try:
        comp = await turn.complete(messages, task="design.architect", context=context)
        data = extract_json(comp.text) or {}
        order = [str(x) for x in data.get("order") or [] if isinstance(x, str)]
        for c in data.get("choices") or []:
            if isinstance(c, dict) and c.get("decision"):
                choices.append(Choice(decision=str(c["decision"]), reason=str(c.get("reason", ""))))
        if not data:
            turn.note("failure", "architect reply had no JSON; keeping the planner's module order")
    except BudgetExhausted as exc:
        extra = {"decision": "budget", "reason": exc.message}
    arch = Architecture(
        order=order, levels=dependency_levels(plan, order), choices=choices, citations=citations
    )
    turn.note(
        "decision",
        "levels: "
        + " -> ".join("[" + ", ".join(lv) + "]" for lv in arch.levels)
        + "".join(f"\n- {c.decision}: {c.reason}" for c in choices),
    )
    return {**turn.updates(), **extra, "architecture": arch.model_dump(mode="json")}
