"""The offline (no-LLM) answers to "design.*" tasks: retrieve and parameterise a built-in library design."""

from __future__ import annotations

import json
import re
from typing import Any

from veriloop.llm.contract import CompletionRequest

BANNER = "Offline backend (no LLM): answering from veriloop's built-in design library."
NO_MATCH = (
    "offline backend has no matching design; configure an LLM backend "
    "(add [backends.NAME] to veriloop.toml and pass --backend NAME)"
)


def _match(spec: str) -> Any:
    from veriloop.designlib.match import match_spec

    return match_spec(spec)


def _why_not(spec: str) -> str:
    try:
        from veriloop.designlib.match import explain_no_match

        return str(explain_no_match(spec))
    except Exception:  # noqa: BLE001 - the explanation is a courtesy
        return "no library design matches this specification"


def _rename(text: str, old: str, new: str | None) -> str:
    if not new or new == old:
        return text
    return re.sub(rf"\b{re.escape(old)}\b", new, text)


def _rendered(spec: str, top: str | None) -> tuple[Any, Any] | None:
    from veriloop.designlib.render import render

    match = _match(spec)
    if match is None:
        return None
    rd = render(match.entry, dict(match.params))
    return match, rd


def _fenced(lang: str, body: str) -> str:
    return f"```{lang}\n{body.rstrip()}\n```\n"


def answer(request: CompletionRequest) -> str:
    """Answer one design.* request from the library; say plainly when the spec is beyond it."""
    ctx: dict[str, Any] = request.context or {}
    spec = str(ctx.get("spec") or "")
    top = ctx.get("top") or None
    task = request.task
    found = _rendered(spec, top) if spec.strip() else None
    if found is None:
        reason = _why_not(spec)
        if task == "design.plan":
            return (
                BANNER
                + "\n"
                + _fenced(
                    "json",
                    json.dumps({"feasible": False, "reason": f"{NO_MATCH}. Library: {reason}"}, indent=1),
                )
            )
        return f"{BANNER}\nI cannot do this: {reason}. {NO_MATCH}."
    match, rd = found
    entry = match.entry
    name = top or rd.top
    params = ", ".join(f"{k}={v}" for k, v in rd.params.items()) or "defaults"
    if task == "design.plan":
        ports = [
            f"{p.dir} {p.name}" + (f" [{p.width}]" if p.width not in ("1", "") else "") for p in entry.ports
        ]
        plan = {
            "feasible": True,
            "reason": "",
            "top": name,
            "summary": f"{entry.title}: {entry.description} (library design `{entry.name}`, {params})",
            "modules": [{"name": name, "purpose": entry.description, "ports": ports, "depends_on": []}],
            "interfaces": ports,
            "verification_plan": [f"the library's self-checking testbench for `{entry.name}`"],
            "acceptance": ["lint clean", "testbench passes", "synthesizes"],
        }
        return f"{BANNER}\nMatched `{entry.name}` (score {match.score:.2f}).\n" + _fenced(
            "json", json.dumps(plan, indent=1)
        )
    if task == "design.architect":
        choices = [
            {
                "decision": f"library design `{entry.name}` with {params}",
                "reason": "; ".join(match.reasons) or "best keyword match",
            }
        ]
        if match.unmatched:
            choices.append(
                {
                    "decision": "not honoured: " + "; ".join(match.unmatched),
                    "reason": "the library design has no parameter for it",
                }
            )
        return BANNER + "\n" + _fenced("json", json.dumps({"order": [name], "choices": choices}, indent=1))
    if task in ("design.rtl", "design.fix"):
        note = (
            ""
            if task == "design.rtl"
            else ("The offline backend cannot reason about evidence; this is the library design again.\n")
        )
        return f"{BANNER}\n{note}" + _fenced("verilog", _rename(rd.rtl, rd.top, name))
    if task == "design.testbench":
        return BANNER + "\n" + _fenced("verilog", _rename(rd.testbench, rd.top, name))
    return f"{BANNER}\nThe offline backend does not handle task {task!r}."
