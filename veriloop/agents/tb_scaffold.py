"""A self-checking testbench veriloop writes itself, around a reference model the verifier agent writes.

Writing a whole testbench (clock, reset, stimulus, expected values, counting, the summary line) is
where a small model fails most: every testbench reply of the 1.5B model in issue 14 ran to its cap.
Here the model writes only a *reference model*: a module `<top>_expected` with the design's exact
ports, describing the spec as literally as it can. The harness around it is ours, built from the
design's elaborated ports (pyslang): a clock when there is a clock input, reset asserted first and
now and then later, random stimulus (exhaustive when the inputs have at most EXHAUSTIVE_BITS bits),
every output compared after each input change and each clock edge, `MISMATCH` lines for the first
five differences, and the one `Mismatches: N in M samples` summary the grader reads.

A pass then means: the design and an independently written model of the spec agree on every sample.
Both come from the same model, so a shared misreading of the spec passes; the report says which
testbench was used (`testbench_source`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CYCLES = 300
"""Random vectors of a combinational design too wide for every combination."""
CLOCKED_CYCLES = 1200
"""Clock cycles of a sequential design: long enough for an 8-bit counter enabled half the time to wrap."""
RESET_PHASE = 200
"""Sequential designs get resets now and then (one cycle in 16) only in the first RESET_PHASE cycles:
later ones run free, so state that needs many cycles (wrap-around, long sequences) is reached."""
EXHAUSTIVE_BITS = 12
"""Combinational designs with at most this many input bits get every input combination."""
_CLOCK = re.compile(r"^(clk|clock|i_clk|clk_i|aclk|sys_clk)$", re.I)
_RESET = re.compile(r"^(rst|reset|areset|arst|srst|i_rst|rst_i|sreset|clear|clr)$", re.I)
_RESET_N = re.compile(r"^(rst_?n|reset_?n|n_?rst|n_?reset|areset_?n|aresetn|arst_?n|resetb|rstb)$", re.I)


@dataclass(frozen=True)
class Port:
    name: str
    direction: str
    """"in", "out" or "inout"."""
    width: int
    signed: bool = False


MODEL_INSTANCE = "vl_model"
"""The reference model's instance name in the harness (compile errors name it: `tb.vl_model`)."""
DESIGN_INSTANCE = "vl_dut"
"""The design's instance name in the harness."""

REFERENCE_MODEL_SOURCE = "agents' reference model"
"""The design state's tb_source for a testbench scaffolded here around the verifier agent's model."""


def clock_of(ports: list[Port]) -> Port | None:
    """The clock input the scaffold drives, if the design has one."""
    return next((p for p in ports if p.direction == "in" and p.width == 1 and _CLOCK.match(p.name)), None)


def expected_name(top: str) -> str:
    """The reference model's module name."""
    return f"{top}_expected"


def elaborated_ports(source: str, top: str) -> list[Port] | None:
    """`top`'s ports with their elaborated widths (parameters applied), or None if it cannot be read."""
    try:
        from pyslang import ast, syntax

        comp = ast.Compilation()
        comp.addSyntaxTree(syntax.SyntaxTree.fromText(source))
        inst = next((i for i in comp.getRoot().topInstances if i.name == top), None)
        if inst is None:
            return None
        out: list[Port] = []
        for p in inst.body.portList:
            direction = str(p.direction).rsplit(".", 1)[-1].lower()
            width = int(p.type.bitWidth or 0)
            if direction not in ("in", "out", "inout") or width <= 0:
                return None
            out.append(Port(p.name, direction, width, bool(p.type.isSigned)))
        return out
    except Exception:  # noqa: BLE001 - an unreadable design keeps the model-written testbench path
        return None


def _clashes(ports: list[Port]) -> bool:
    """Whether a port's name collides with a name the harness declares (`<out>_dut`, `<out>_ref`, its
    `vl_` internals): such a design gets the agent's whole testbench, not a harness that cannot compile."""
    names = {p.name for p in ports}
    made = {f"{p.name}_{side}" for p in ports if p.direction == "out" for side in ("dut", "ref")}
    return bool(names & made) or any(n.startswith("vl_") for n in names)


def _decl(kind: str, p: Port, name: str) -> str:
    rng = f" [{p.width - 1}:0]" if p.width > 1 else ""
    return f"    {kind}{' signed' if p.signed else ''}{rng} {name};"


def _random(p: Port) -> str:
    words = (p.width + 31) // 32
    value = "$random(vl_seed)" if words == 1 else "{" + ", ".join(["$random(vl_seed)"] * words) + "}"
    return f"{p.name} = {value};"


def scaffold(top: str, ports: list[Port], cycles: int | None = None, dump: bool = False) -> str | None:
    """The testbench `tb` comparing `top` with `<top>_expected`, or None when the ports do not suit
    (inout ports, no output, a port named like one of the harness's own signals). `dump`: write the
    ports to wave.vcd, from which a mismatch's verdict gets its signal table."""
    if any(p.direction == "inout" for p in ports) or not any(p.direction == "out" for p in ports):
        return None
    ins = [p for p in ports if p.direction == "in"]
    outs = [p for p in ports if p.direction == "out"]
    clock = clock_of(ports)
    reset = next((p for p in ins if p.width == 1 and (_RESET.match(p.name) or _RESET_N.match(p.name))), None)
    active = "1'b0" if reset is not None and _RESET_N.match(reset.name) else "1'b1"
    idle = "1'b1" if active == "1'b0" else "1'b0"
    data = [p for p in ins if p is not clock and p is not reset]
    if _clashes(ports):
        return None
    lines = ["`timescale 1ns/1ps", "module tb;"]
    lines += [_decl("reg", p, p.name) for p in ins]
    for p in outs:
        lines += [_decl("wire", p, f"{p.name}_dut"), _decl("wire", p, f"{p.name}_ref")]
    lines += ["    integer vl_errors = 0, vl_total = 0, vl_i = 0, vl_seed = 1;"]
    conn = [f".{p.name}({p.name})" for p in ins]
    sides = ((top, DESIGN_INSTANCE, "dut"), (expected_name(top), MODEL_INSTANCE, "ref"))
    for module, instance, side in sides:
        wiring = ", ".join(conn + [f".{p.name}({p.name}_{side})" for p in outs])
        lines.append(f"    {module} {instance} ({wiring});")
    # The ports only, `<out>_dut` beside `<out>_ref`: the verdict's signal table around the first
    # mismatch (veriloop.tools.vcd_window) is built from this dump, as for VerilogEval's testbenches.
    if dump:
        dumped = [p.name for p in ins] + [f"{p.name}_{side}" for p in outs for side in ("dut", "ref")]
        lines.append(f'    initial begin $dumpfile("wave.vcd"); $dumpvars(1, {", ".join(dumped)}); end')
    lines.append("    task vl_check;")
    lines.append("        begin")
    lines.append("            vl_total = vl_total + 1;")
    lines.append(
        "            if ({" + ", ".join(f"{p.name}_dut" for p in outs) + "} !== {"
        + ", ".join(f"{p.name}_ref" for p in outs) + "}) begin"
    )
    lines.append("                vl_errors = vl_errors + 1;")
    lines.append("                if (vl_errors <= 5) begin")
    for p in outs:
        lines.append(
            f"                    if ({p.name}_dut !== {p.name}_ref) $display(\"MISMATCH time=%0t "
            f"{p.name} got=%h expected=%h\", $time, {p.name}_dut, {p.name}_ref);"
        )
    lines += ["                end", "            end", "        end", "    endtask"]
    drive = [_random(p) for p in data]
    if clock is not None:
        lines.append(f"    initial {clock.name} = 1'b0;")
        lines.append(f"    always #5 {clock.name} = ~{clock.name};")
        lines.append("    initial begin")
        lines += [f"        {d}" for d in drive]
        if reset is not None:
            lines.append(f"        {reset.name} = {active};")
            twice = f"@(posedge {clock.name}); @(posedge {clock.name});"
            lines.append(f"        {twice} #1 {reset.name} = {idle};")
        else:
            lines.append(f"        @(posedge {clock.name}); #1;")
        lines.append(f"        for (vl_i = 0; vl_i < {cycles or CLOCKED_CYCLES}; vl_i = vl_i + 1) begin")
        lines.append(f"            @(negedge {clock.name});")
        lines += [f"            {d}" for d in drive]
        if reset is not None:
            now_and_then = f"(vl_i < {RESET_PHASE} && $random(vl_seed) % 16 == 0)"
            lines.append(f"            {reset.name} = {now_and_then} ? {active} : {idle};")
        lines.append("            #1 vl_check;")
        lines.append(f"            @(posedge {clock.name}); #1 vl_check;")
        lines.append("        end")
    else:
        bits = sum(p.width for p in data)
        lines.append("    initial begin")
        if data and bits <= EXHAUSTIVE_BITS:
            lines.append(f"        for (vl_i = 0; vl_i < {1 << bits}; vl_i = vl_i + 1) begin")
            lines.append("            {" + ", ".join(p.name for p in data) + "} = vl_i;")
        else:
            lines.append(f"        for (vl_i = 0; vl_i < {cycles or CYCLES}; vl_i = vl_i + 1) begin")
            lines += [f"            {d}" for d in drive]
        lines.append("            #5 vl_check;")
        lines.append("            #5;")
        lines.append("        end")
    lines.append('        $display("Mismatches: %0d in %0d samples", vl_errors, vl_total);')
    lines.append("        $finish;")
    lines.append("    end")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def model_header(top: str, ports: list[Port]) -> str:
    """`module <top>_expected (...)` with the design's ports, for the reference model prompt."""
    decls = []
    for p in ports:
        kind = {"in": "input", "out": "output", "inout": "inout"}[p.direction]
        rng = f" [{p.width - 1}:0]" if p.width > 1 else ""
        decls.append(f"    {kind}{' signed' if p.signed else ''}{rng} {p.name}")
    return f"module {expected_name(top)} (\n" + ",\n".join(decls) + "\n);"
