"""The top module's ports when the specification itself lists them (a header or a port list).

Two forms are read, nothing is guessed:

- a Verilog header in the text: ``module TopModule (input clk, input [7:0] d, output reg q);``
- a port list, one per line: ``- input  in (8 bits)``, ``- output q`` (VerilogEval's wording).

A short spec that names exactly one module and describes its ports in prose is planned as that one
module too (the generator reads the ports from the spec itself).

When the spec fixes the interface this way, the planner and the architect have nothing to decide
for a single-module design: the plan is read from the spec (no LLM call), the ports keep the spec's
names and widths, and no retrieved design can replace them (issue 14: a small model copied example
ports and retrieved module names into its plans).
"""

from __future__ import annotations

import re

from veriloop.agents.state import ModulePlan, Plan

_LIST_PORT = re.compile(
    r"^\s*[-*]\s*(input|output|inout)\s+(?:(?:wire|reg|logic)\s+)?([A-Za-z_][A-Za-z0-9_]*)"
    r"(?:\s*\(\s*(\d+)\s*bits?\s*\))?\s*,?\s*$",
    re.M,
)
_HEADER = re.compile(r"\bmodule\s+([A-Za-z_][A-Za-z0-9_]*)\s*(?:#\s*\([^;]*?\)\s*)?\(([^;]*?)\)\s*;", re.S)
_DIRECTION = re.compile(r"^\s*(input|output|inout)\b")
_NAMED_MODULE = re.compile(r"\bmodule\s+named\s+`?([A-Za-z_][A-Za-z0-9_]*)")

SHORT_SPEC_CHARS = 6000
"""Longer specs describe more than one module's worth of behaviour: the planner reads those."""
SHORT_PROSE_SPEC_CHARS = 1500
"""A spec this short that names its one module ("a module named counter8 with inputs clk, rst ...")
is planned as that one module, its ports as the prose gives them, without a planner call."""


def spec_ports(spec: str, top: str | None) -> list[str]:
    """Port declarations of `top` as the spec gives them (empty when the spec gives none, or is ambiguous)."""
    for m in _HEADER.finditer(spec):
        if top and m.group(1) != top:
            continue
        decls = _header_ports(m.group(2))
        if decls:
            return decls
    named = _NAMED_MODULE.findall(spec)
    if top and named and any(n != top for n in named):
        return []  # the list may belong to another module
    ports: list[str] = []
    seen: set[str] = set()
    for direction, name, bits in _LIST_PORT.findall(spec):
        if name in seen:
            return []
        seen.add(name)
        width = f" [{int(bits) - 1}:0]" if bits and int(bits) > 1 else ""
        ports.append(f"{direction}{width} {name}")
    return ports


def _header_ports(body: str) -> list[str]:
    """ANSI port declarations of a header, with the direction carried to ports that omit it."""
    out: list[str] = []
    prefix = ""
    for raw in re.sub(r"//[^\n]*|/\*.*?\*/", " ", body, flags=re.S).split(","):
        decl = " ".join(raw.split())
        if not decl:
            continue
        if _DIRECTION.match(decl):
            prefix = decl.rsplit(" ", 1)[0]  # direction, type and width carry to the names after it
        elif prefix and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", decl):
            decl = f"{prefix} {decl}"
        else:
            return []  # a non-ANSI header (names only) or something unusual: the planner reads it
        out.append(decl)
    return out


def spec_top(spec: str) -> str | None:
    """The module name the spec asks for ("a module named TopModule"), when it names exactly one."""
    names = set(_NAMED_MODULE.findall(spec))
    return names.pop() if len(names) == 1 else None


def plan_from_spec(spec: str, top: str | None) -> Plan | None:
    """A one-module plan read from the spec when it names the top and lists its ports; else None."""
    if not top or len(spec) > SHORT_SPEC_CHARS:
        return None
    ports = spec_ports(spec, top)
    prose = not ports and len(spec) <= SHORT_PROSE_SPEC_CHARS and spec_top(spec) == top
    if prose and (_HEADER.search(spec) or _LIST_PORT.search(spec)):
        return None  # a header or port list that was not read: the planner reads it
    if not prose and (not ports or not any(p.startswith("output") for p in ports)):
        return None
    return Plan(
        top=top,
        summary="one module, exactly as the specification describes"
        + (" (its ports: the names and widths the specification gives)" if prose
           else " (its interface is read from it)"),
        modules=[ModulePlan(name=top, purpose="the behaviour the specification describes", ports=ports)],
        interfaces=ports,
        verification_plan=[
            "reset (if any) first, then directed corner cases of every behaviour the spec names",
            "then many random input cycles, comparing every output on every cycle",
        ],
        acceptance=["lint clean", "testbench passes", "synthesizes"],
    )
