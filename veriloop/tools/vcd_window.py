"""A window of a simulation's waveform around the first mismatch, as a table a model can read.

The testbench dumps a VCD (VerilogEval's testbenches dump `wave.vcd` with the inputs and each output
twice: `<out>_ref` from the reference and `<out>_dut` from the design). This module reads that text
(untrusted: written by a simulation that ran the design, so every line is parsed defensively and the
size is capped) and renders, for the cycles just before and at the first mismatch, one row per time
step: the inputs, then for each compared output the design's value and the expected one::

    time  | load ena  data        | q (yours)  q (expected)
    40    | 0    01   0000000003  | 0000000001 0000000001
    60    | 0    01   0000000003  | 0000000002 8000000001   <- mismatch

MAGE and VerilogCoder feed such signal-level windows back to the model instead of a mismatch count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_VCD_CHARS = 8 << 20
"""Longer dumps are read up to here (the window lies near the first mismatch, usually early)."""
_PAIR = re.compile(r"^(?P<base>.+?)_(?P<side>ref|dut)$")
_SKIP = re.compile(r"^(tb_match|tb_mismatch|wavedrom_\w*|strobe)$")


@dataclass
class Trace:
    """Signals by name (width), and per time the values that changed at that time."""

    widths: dict[str, int] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    changes: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def parse_vcd(text: str) -> Trace:
    """The top scope's signals (the first scope's, e.g. `tb`) and their value changes; never raises."""
    trace = Trace()
    ids: dict[str, str] = {}
    text = text[:MAX_VCD_CHARS]
    head, sep, body = text.partition("$enddefinitions")
    depth = 0
    for m in re.finditer(r"\$(scope|upscope|var)\b(.*?)\$end", head, re.S):
        kind, rest = m.group(1), m.group(2).split()
        if kind == "scope":
            depth += 1
        elif kind == "upscope":
            depth -= 1
        elif depth == 1 and len(rest) >= 4 and rest[1].isdigit():
            code, name = rest[2], rest[3]
            if name in trace.widths or _SKIP.match(name):
                continue
            ids[code] = name
            trace.widths[name] = int(rest[1])
            trace.order.append(name)
    if not sep:
        return trace
    now = 0
    current: dict[str, str] = {}
    pending: str | None = None
    for tok in body.split():
        if pending is not None and tok in ids:  # an id code may itself start with '#'
            current[ids[tok]] = pending
            pending = None
        elif tok.startswith("#"):
            if current:
                trace.changes.append((now, current))
                current = {}
            try:
                now = int(tok[1:])
            except ValueError:
                return trace
        elif tok[0] in "01xzXZ" and len(tok) > 1 and tok[1:] in ids:
            current[ids[tok[1:]]] = tok[0].lower()
        elif tok[0] in "bBrR":
            pending = tok[1:].lower() if tok[0] in "bB" else "x"
    if current:
        trace.changes.append((now, current))
    return trace


def _hex(bits: str, width: int) -> str:
    """A binary value as hex (x/z kept as x/z digits), padded to the signal's width."""
    if width <= 1:
        return bits[-1:] or "x"
    bits = bits.rjust(width, bits[0] if bits[0] in "xz" else "0")[-width:]
    out = []
    pad = (-len(bits)) % 4
    bits = "0" * pad + bits
    for i in range(0, len(bits), 4):
        nib = bits[i : i + 4]
        if "x" in nib:
            out.append("x")
        elif "z" in nib:
            out.append("z")
        else:
            out.append(f"{int(nib, 2):x}")
    return "".join(out)


def _differs(values: dict[str, str], pairs: dict[str, dict[str, str]], outputs: list[str]) -> bool:
    return any(values.get(pairs[b]["ref"]) != values.get(pairs[b]["dut"]) for b in outputs)


def mismatch_window(vcd_text: str, first_time: int | None, before: int = 6, after: int = 2) -> str:
    """The table around the first time a dumped output differs from its expected twin (else around
    `first_time`, the testbench's report), or "" when it cannot be built."""
    try:
        trace = parse_vcd(vcd_text)
    except Exception:  # noqa: BLE001 - an odd dump gives no table, never an error
        return ""
    pairs: dict[str, dict[str, str]] = {}
    for name in trace.order:
        m = _PAIR.match(name)
        if m:
            pairs.setdefault(m.group("base"), {})[m.group("side")] = name
    outputs = [b for b, sides in pairs.items() if {"ref", "dut"} <= set(sides)]
    if not outputs or not trace.changes:
        return ""
    paired = {pairs[b][s] for b in outputs for s in ("ref", "dut")}
    inputs = [n for n in trace.order if n not in paired and n not in ("clk",) and not n.endswith(".clk")]
    has_clk = "clk" in trace.widths
    state: dict[str, str] = {}
    rows: list[tuple[int, dict[str, str]]] = []
    for t, changed in trace.changes:
        state.update(changed)
        rows.append((t, dict(state)))
    first = next((i for i, (_, s) in enumerate(rows) if _differs(s, pairs, outputs)), None)
    if first is None and first_time is not None:  # the difference is not in the dump: show the time
        first = next((i for i, (t, _) in enumerate(rows) if t >= first_time), None)
    if first is None:
        return ""
    window = rows[max(0, first - before) : first + after + 1]
    cols = (["clk"] if has_clk else []) + inputs
    header = ["time", *cols, "|"]
    for b in outputs:
        header += [f"{b} (yours)", f"{b} (expected)"]
    table = [header]
    for t, s in window:
        row = [str(t), *(_hex(s.get(c, "x"), trace.widths.get(c, 1)) for c in cols), "|"]
        bad = False
        for b in outputs:
            got = _hex(s.get(pairs[b]["dut"], "x"), trace.widths[pairs[b]["dut"]])
            want = _hex(s.get(pairs[b]["ref"], "x"), trace.widths[pairs[b]["ref"]])
            bad = bad or got != want
            row += [got, want]
        table.append(row + (["<- differs"] if bad else []))
    widths = [max(len(r[i]) for r in table if i < len(r)) for i in range(max(map(len, table)))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in table]
    return "\n".join(lines)
