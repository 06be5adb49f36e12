"""What a design may contain before it is compiled with trusted files: the grading rules, checked by a parser.

A design is refused (`illegal`, with the reasons) when its preprocessed text, as pyslang reads it
(`vsource.read`, with `__ICARUS__` defined as Icarus does):

- uses `include, or leaves an `ifdef/`ifndef open;
- calls a system task or function outside `ALLOWED_SYSTEM` (pure functions and printing): no
  `$finish`/`$stop`/`$fatal`, no file or process access (`$fopen`, `$readmemh`, `$dumpfile`,
  `$system`, `$value$plusargs`...), no format that prints a scope name (`%m`), no `$sformat(f)`
  with a format that is not a string literal;
- names anything outside itself: a dotted name whose head is not declared in the same unit
  (`good1.out`, `tb.stats1.errors`), `$root.`/`$unit::`, a `pkg::x` scope it does not define, an
  identifier the trusted files declare at compilation-unit level, or a `bind`;
- uses `force`/`release` or procedural `assign`/`deassign` (forcing an input port forces the
  testbench's net, which the reference also reads);
- instantiates a module of the trusted files (it would copy the reference);
- defines a unit, or a compilation-unit name, named like something the trusted files define or
  instantiate (other than the module(s) the testbench expects from the design), or a `config` or
  `program` (a program may end the simulation when its initial blocks finish).

A text the parser cannot read is `syntax` (the parser's messages are the evidence). What passes is
compiled as `compiled_text` (macros expanded, directives removed), after the trusted files.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from veriloop.tools import vsource

PURE_FUNCTIONS = frozenset(
    [
        "clog2", "bits", "signed", "unsigned", "size", "high", "low", "left", "right", "increment",
        "dimensions", "unpacked_dimensions", "countones", "onehot", "onehot0", "isunknown", "countbits",
        "isunbounded", "typename", "cast", "time", "stime", "realtime", "itor", "rtoi", "bitstoreal",
        "realtobits", "shortrealtobits",
        "bitstoshortreal", "ln", "log10", "exp", "sqrt", "pow", "floor", "ceil", "sin", "cos", "tan",
        "asin", "acos", "atan", "atan2", "hypot", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
        "sampled", "rose", "fell", "stable", "changed", "past",
    ]
)
PRINT_TASKS = frozenset(
    f"{base}{suffix}"
    for base in ("display", "write", "strobe", "monitor", "swrite")
    for suffix in ("", "b", "h", "o")
) | {"sformat", "sformatf", "info", "warning", "error"}
ALLOWED_SYSTEM = frozenset("$" + n for n in PURE_FUNCTIONS | PRINT_TASKS)
"""System tasks and functions a design may call: pure functions and printing. Everything else is refused.

Not even the random-number functions: `$random`/`$urandom` share one generator with the testbench
in Icarus, so a design calling them shifts (and, knowing the algorithm, steers) the testbench's
stimulus. `$monitoron/off` would switch the testbench's monitor."""

_SCOPE_HEADS = frozenset({"this", "super", "local"})
_FORBIDDEN_KINDS = {
    "config": "a config block (it rebinds cells)",
    "program": "a program block (it may end the simulation when its initial blocks finish)",
}


class TrustedNames(BaseModel):
    """What the trusted files (testbench, reference) define and name, read by the same parser."""

    units: list[str] = Field(default_factory=list)
    instantiated: list[str] = Field(default_factory=list)
    instance_names: list[str] = Field(default_factory=list)
    unit_level_names: list[str] = Field(default_factory=list)
    positional: list[str] = Field(default_factory=list)
    """Module types the trusted files connect by position."""

    @property
    def dut_types(self) -> list[str]:
        """Module types the trusted files instantiate but do not define: what the design must provide."""
        return [t for t in self.instantiated if t not in self.units]

    @property
    def reserved(self) -> set[str]:
        return (
            set(self.units) | set(self.instantiated) | set(self.instance_names) | set(self.unit_level_names)
        ) - set(self.dut_types)


class Screening(BaseModel):
    """The verdict on a design's text before anything runs."""

    ok: bool
    category: Literal["ok", "illegal", "syntax"] = "ok"
    reasons: list[str] = Field(default_factory=list)
    compiled_text: str = ""
    roots: list[str] = Field(default_factory=list)
    """The design's modules the testbench instantiates: each is also elaborated as a root of its own."""


def trusted_names(*texts: str | None) -> TrustedNames:
    out = TrustedNames()
    for i, text in enumerate(t for t in texts if t):
        src = vsource.read(text, f"trusted{i}.sv")
        out.units += src.unit_names
        out.instantiated += src.instantiated
        out.instance_names += src.instance_names
        out.unit_level_names += src.unit_level_names
        out.positional += src.positional
    out.units = list(dict.fromkeys(out.units))
    out.instantiated = list(dict.fromkeys(out.instantiated))
    return out


def _port_rules(
    src: vsource.VerilogSource, trusted: TrustedNames, golden: vsource.VerilogSource | None
) -> list[str]:
    out: list[str] = []
    for unit in src.units:
        if unit.name not in trusted.dut_types:
            continue
        want = golden.unit(unit.name) if golden is not None else None
        if want is not None and want.ports and unit.ports:
            # Only what lets the design drive a signal the testbench drives counts here; other
            # interface differences are left to the compiler (a `syntax` failure, as upstream).
            theirs = list(want.ports.items())
            differ = []
            for pos, (name, direction) in enumerate(unit.ports.items()):
                # By name; by position too where the testbench connects this module by position.
                if name in want.ports:
                    expected = want.ports[name]
                elif unit.name in trusted.positional and pos < len(theirs):
                    expected = theirs[pos][1]
                else:
                    continue
                if direction != "input" and direction != expected:
                    differ.append(f"{name}: {direction} (golden: {expected})")
            if differ:
                out.append(
                    f"ports of {unit.name} that could drive the testbench's signals differ from the "
                    f"golden design's: {_limit(differ)}"
                )
        elif want is None:
            inout = [p for p, d in unit.ports.items() if d == "inout"]
            if inout:
                out.append(
                    f"{unit.name} has inout port(s) {_limit(inout)}: without a golden design to compare, "
                    "a bidirectional port could drive the testbench's signals"
                )
    return out


def _limit(items: list[str], n: int = 8) -> str:
    shown = ", ".join(items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")


def screen_design(design_sv: str, trusted: TrustedNames, golden_sv: str | None = None) -> Screening:
    """Check a design against the rules above; `ok` designs come with the text to compile.

    With a golden design, the modules the testbench expects must have the golden's port names and
    directions; without one, they may not have `inout` ports (nothing says the testbench drives
    them only from one side). When preprocessing changed the text (macros, directives), the text to
    compile is read and checked a second time, so what the compiler gets is itself what was checked."""
    golden = vsource.read(golden_sv, "golden.sv") if golden_sv else None
    first = _screen(vsource.read(design_sv, "design.sv"), trusted, golden)
    if not first.ok or first.compiled_text == design_sv:
        return first
    again = _screen(vsource.read(first.compiled_text, "design.sv"), trusted, golden)
    if not again.ok:
        return again.model_copy(update={"reasons": [f"after preprocessing: {r}" for r in again.reasons]})
    return first


def _screen(
    src: vsource.VerilogSource, trusted: TrustedNames, golden: vsource.VerilogSource | None
) -> Screening:
    illegal: list[str] = []
    includes = [d.line for d in src.directives if d.kind == "include"]
    if includes:
        illegal.append(f"`include is not allowed (line {includes[0]})")
    if src.unterminated_conditional:
        illegal.append("a conditional directive (`ifdef/`ifndef) is never closed with `endif")
    if illegal:
        return Screening(ok=False, category="illegal", reasons=illegal)
    if src.errors:
        return Screening(ok=False, category="syntax", reasons=src.errors[:20])
    bad_calls = [c for c in src.system_calls if c not in ALLOWED_SYSTEM]
    if bad_calls:
        illegal.append(
            f"system task/function not allowed in a graded design: {_limit(bad_calls)} "
            "(allowed: pure functions such as $clog2/$signed and printing such as $display)"
        )
    if src.scope_formats:
        illegal.append(f"a %m (scope name) format is not allowed (line {src.scope_formats[0]})")
    if src.dynamic_formats:
        illegal.append(f"$sformat/$sformatf need a string-literal format (line {src.dynamic_formats[0]})")
    if src.binds:
        illegal.append(f"bind is not allowed (line {src.binds[0]})")
    if src.resolution:
        illegal.append(
            "drive strengths, supply/wired nets, switches, pullup/pulldown and alias are not allowed "
            f"(they change how the testbench's nets resolve): {_limit(src.resolution)}"
        )
    if src.input_drives:
        illegal.append(
            f"drives its own input ports (their nets are the testbench's): {_limit(src.input_drives)}"
        )
    illegal += _port_rules(src, trusted, golden)
    if src.overrides:
        illegal.append(
            f"force/release and procedural assign/deassign are not allowed (line {src.overrides[0]}): "
            "a force on an input port would also force the testbench's signal"
        )
    for unit in src.units:
        why = _FORBIDDEN_KINDS.get(unit.kind)
        if why:
            illegal.append(f"{unit.kind} {unit.name}: {why} is not allowed")
    own_units = set(src.unit_names)
    outside: list[str] = []
    for ref in src.names:
        rooted = ref.head in ("$root", "$unit")
        dotted = ref.separator == "." and ref.head not in _SCOPE_HEADS
        scoped = ref.separator == "::" and ref.head not in own_units
        if rooted or (not ref.local and (dotted or scoped)):
            outside.append(f"{ref.text} (line {ref.line})")
    foreign = sorted(set(src.imports) - own_units)
    if foreign:
        outside += [f"import {name}::" for name in foreign]
    if outside:
        illegal.append(
            "names that leave the design (a design may refer only to what it declares): " + _limit(outside)
        )
    reserved = trusted.reserved
    clashes = sorted((set(src.unit_names) | set(src.unit_level_names)) & reserved)
    if clashes:
        illegal.append(f"defines names the testbench/reference use: {_limit(clashes)}")
    borrowed = sorted(set(src.instantiated) & reserved - set(src.unit_names))
    if borrowed:
        illegal.append(f"instantiates modules of the testbench/reference: {_limit(borrowed)}")
    declared = set(src.unit_names) | set(src.unit_level_names)
    unit_level = sorted(set(src.identifiers) & set(trusted.unit_level_names) - declared - set(clashes))
    if unit_level:
        illegal.append(f"uses names the testbench declares outside its modules: {_limit(unit_level)}")
    if illegal:
        return Screening(ok=False, category="illegal", reasons=illegal)
    dut = set(trusted.dut_types)
    roots = [u.name for u in src.units if u.kind in ("module", "macromodule") and u.name in dut]
    return Screening(ok=True, compiled_text=src.compiled_text, roots=roots)
