"""Mechanical repairs of the one lint error small models make most: an output assigned in an always
block but declared as a wire. The fix (declare it `output reg`) changes no behaviour, so it is applied
by veriloop before the model is asked again (issue 14: the 1.5B model repeated such a module three
times unchanged with the error in front of it; in single-shot it was the most common syntax failure).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

_VERILATOR = re.compile(r"(?m)^(\w+)\.sv:\d+:\s*error \[PROCASSWIRE\]:[^\n]*'([A-Za-z_][A-Za-z0-9_]*)'")
"""veriloop's lint text: `mux.sv:11: error [PROCASSWIRE]: Procedural assignment to wire ...: 'y'`."""
_ICARUS = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*) is not a valid l-value in (?:[\w.]+\.)?(\w+)\.")
"""Icarus: `y is not a valid l-value in tb.model.` / `... in TopModule.` (signal, then module or instance)."""


class _Checked(Protocol):
    """What a check returns: eda.lint's report, eda.compile_check's result."""

    @property
    def ok(self) -> bool: ...

    def text(self) -> str: ...


R = TypeVar("R", bound=_Checked)


def check_with_repair(
    mods: dict[str, str], check: Callable[[dict[str, str]], R], instances: dict[str, str] | None = None
) -> tuple[dict[str, str], R, str]:
    """Run `check` on the modules; when it fails with an error `repair` can mend, repair and check
    again. Returns the (possibly repaired) modules, the last check's result and what was repaired."""
    result = check(mods)
    if result.ok:
        return mods, result, ""
    repaired, what = repair(mods, result.text(), instances)
    if not what:
        return mods, result, ""
    return repaired, check(repaired), what


def wires_assigned_procedurally(log: str) -> dict[str, set[str]]:
    """{module or instance name: output names} that a lint or compile log says are procedurally
    assigned wires."""
    out: dict[str, set[str]] = {}
    for module, name in _VERILATOR.findall(log or ""):
        out.setdefault(module, set()).add(name)
    for name, where in _ICARUS.findall(log or ""):
        out.setdefault(where, set()).add(name)
    return out


def declare_reg(source: str, names: Iterable[str]) -> tuple[str, list[str]]:
    """`output [wire] [signed] [range] NAME` -> `output reg [signed] [range] NAME` for each name
    declared that way (ANSI header or body declaration); returns the text and the names changed."""
    changed: list[str] = []
    for name in sorted(set(names)):
        typed = r"\boutput\s+(?:wire\s+)?((?:signed\s+)?(?:\[[^\]\n]*\]\s*)?)"
        pattern = re.compile(typed + re.escape(name) + r"\b")
        source, n = pattern.subn(rf"output reg \g<1>{name}", source, count=1)
        if n:
            changed.append(name)
    return source, changed


def repair(
    mods: dict[str, str], log: str, instances: dict[str, str] | None = None
) -> tuple[dict[str, str], str]:
    """The modules with the repair applied where the log names them (by module name, or by instance
    name through `instances`: {instance: module}), and a note of what changed ("" when nothing did)."""
    fixed = dict(mods)
    notes: list[str] = []
    for where, names in wires_assigned_procedurally(log).items():
        module = where if where in fixed else (instances or {}).get(where, "")
        if module not in fixed:
            continue
        fixed[module], changed = declare_reg(fixed[module], names)
        if changed:
            notes.append(f"{module}: " + ", ".join(f"`{n}`" for n in changed))
    if not notes:
        return mods, ""
    return fixed, "declared output reg (assigned in an always block, declared as a wire): " + "; ".join(notes)
