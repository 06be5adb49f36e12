"""Self-verified mode's referee: at a mismatch, is the design or the agents' reference model off-spec?

In `self-verified` mode the expected values come from a reference model the verifier agent wrote
from the same spec, so a mismatch may be the model's mistake rather than the design's. Sent to the
generator as a design bug, such a mismatch makes it "fix" a correct design towards a wrong model.
The referee shows the model the spec, both modules and the signals around the first mismatch and
asks which one departs from the spec there. A ruling against the reference model gets the model
rewritten (with the ruling's reason) before any design fix; a ruling against the design, or no
clear ruling, leaves the verdict as it was (the design is fixed, as without a referee).

Off unless `[agents] referee = true`: it costs a call per mismatch and a small model's rulings are
noisy (bench/real_model/RESULT.md has what it measured).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from veriloop.agents.deps import Turn, clip
from veriloop.errors import MalformedReply
from veriloop.llm.caps import is_cut_off
from veriloop.llm.contract import Message

SYSTEM = """You are the referee of veriloop's verification. Two Verilog modules were written \
independently from the same specification: the design and a reference model. A testbench drives \
both with the same inputs and they disagree. Decide, strictly by the specification, which module \
computes the wrong output at the first disagreement.
Answer with exactly one first line, `WRONG: design` or `WRONG: model`, then one sentence why."""

PROMPT = """Specification:
{spec}

The design `{top}`:
```verilog
{design}
```

The reference model `{model_name}` (its outputs are the "expected" values):
```verilog
{model}
```

Where they disagree:
{evidence}

Which module's output is wrong there, according to the specification?"""

_RULING = re.compile(r"\bWRONG\s*[:=-]?\s*\**\s*(design|model|reference)\b", re.I)
MAX_MODEL_REWRITES = 2
"""Rulings against the reference model that get it rewritten, per run (each costs up to 3 calls)."""

Wrong = Literal["design", "model"]


@dataclass(frozen=True)
class Ruling:
    """Who the referee found wrong ("design", "model", or None: no clear answer) and its reason."""

    wrong: Wrong | None
    why: str


def parse_ruling(text: str) -> Ruling:
    """The ruling in a reply: its `WRONG: design|model` line; none, or lines naming both, is no ruling."""
    found = list(_RULING.finditer(text or ""))
    named = {"design" if m.group(1).lower() == "design" else "model" for m in found}
    if len(named) != 1:
        return Ruling(None, "")
    m = found[0]
    wrong: Wrong = "design" if m.group(1).lower() == "design" else "model"
    rest = (text[m.end():].strip().splitlines() or [""])[0].strip(" .:-*")
    return Ruling(wrong, rest[:300])


def evidence(first_mismatch: str, trace: str, hints: list[str]) -> str:
    """The disagreement as the referee sees it: the first MISMATCH line, the signal table, hints."""
    parts = [f"First mismatch: {first_mismatch}" if first_mismatch else ""]
    if trace:
        parts.append("Signals around it (hex; time, inputs | the design's output, the reference model's):\n"
                     + trace)
    parts += [f"Hint: {h}" for h in hints[:4]]
    return "\n".join(p for p in parts if p)


async def rule(turn: Turn, *, spec: str, top: str, design: str, model_name: str, model: str,
               disagreement: str) -> Ruling:
    """One call: which module departs from the spec at the disagreement (no clear answer: None)."""
    messages = [
        Message(role="system", content=SYSTEM),
        Message(role="user", content=PROMPT.format(
            spec=spec, top=top, design=clip(design, 6000), model_name=model_name, model=clip(model, 6000),
            evidence=clip(disagreement, 3000))),
    ]
    try:
        comp = await turn.complete(messages, task="design.referee", context={"spec": spec, "top": top})
    except MalformedReply as exc:
        turn.note("failure", f"referee reply unusable: {exc.message}")
        return Ruling(None, "")
    ruling = parse_ruling(comp.text or "")
    if ruling.wrong is None:
        cut = " (cut off)" if is_cut_off(comp) else ""
        turn.note("failure", f"the referee gave no ruling{cut}: {clip(comp.text or '', 200)}")
    return ruling
