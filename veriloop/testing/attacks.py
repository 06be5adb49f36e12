"""Wrong designs that try to forge a pass (issue 13), built from a VerilogEval-style reference.

Each attack is a function `reference text -> design text`; every output of the design is tied to 0
(or copied from somewhere it must not be), so a pass can only come from a hole in the grader.
`CLASSES` groups them: early_finish, preprocessor, nonce, upward. Used by the grading tests through
the Python API and through each CLI path.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from veriloop.tools.vsource import read


def ports(ref: str) -> tuple[str, list[str]]:
    """(TopModule header with every output a `logic`, output names) from the reference, by the parser."""
    (unit,) = read(ref).units
    header = unit.header.replace("RefModule", "TopModule", 1)
    header = re.sub(r"\boutput\s+(?:reg\s+|wire\s+|logic\s+)?", "output logic ", header)
    return header, [n for n, d in unit.ports.items() if d == "output"]


def tied(ref: str, extra: str = "", head: str = "", tail: str = "", keyword: str = "module") -> str:
    """A wrong design: every output tied to 0, plus the attack's `extra` lines inside the module."""
    header, outs = ports(ref)
    header = header.replace("module", keyword, 1)
    body = "\n".join(f"  assign {o} = '0;" for o in outs)
    return f"`timescale 1ps/1ps\n{head}{header}\n{body}\n{extra}\nendmodule\n{tail}"


def copy_ref(ref: str, keyword: str = "module", via: str = "good1") -> str:
    header, outs = ports(ref)
    header = header.replace("module", keyword, 1)
    body = "\n".join(f"  assign {o} = {via}.{o};" for o in outs)
    return f"{header}\n{body}\nendmodule\n"


# Each attack: ref -> design text. All must be refused before anything runs (`illegal`).
Attack = Callable[[str], str]
EARLY_FINISH: dict[str, Attack] = {
    "finish_after_first_sample": lambda r: tied(r, "  initial begin #6; $finish; end"),
    "stop": lambda r: tied(r, "  initial #6 $stop;"),
    "finish_in_always": lambda r: tied(r, "  always @(*) if ($time > 5) $finish(0);"),
    "fatal": lambda r: tied(r, '  initial #6 $fatal(0, "bye");'),
    "finish_from_macro": lambda r: tied(r, "  `BYE(6)", head="`define BYE(t) initial #t $finish;\n"),
    "finish_pasted": lambda r: tied(r, "  initial #6 `F(fin, ish);", head="`define F(a, b) $``a``b\n"),
    "program_block": lambda r: tied(r, "  p0 p();", tail="program p0; initial #6; endprogram\n"),
    "exit": lambda r: tied(r, "  initial #6 $exit;"),
}


def own_ref(ref: str) -> str:
    """A RefModule with every output tied to 0, declared under a macro-made name."""
    return "`define NM(x) Ref``x\n" + tied(ref).replace("module TopModule", "module `NM(Module)", 1)


PREPROCESSOR: dict[str, Attack] = {
    # The attack: pull in the testbench, bring an own reference, swallow the trusted files.
    "include_tb_own_ref_open_ifdef": lambda r: '`include "tb.sv"\n' + own_ref(r) + tied(r) + "`ifdef NO\n",
    "include_abs_open_ifndef": lambda r: (
        '`include "/proc/self/cwd/tb.sv"\n' + own_ref(r) + tied(r) + "`ifndef __ICARUS__\n"
    ),
    "include_from_macro_open_else": lambda r: (
        '`define F "tb.sv"\n`include `F\n' + own_ref(r) + tied(r) + "`ifdef __ICARUS__\n`else\n"
    ),
    "include_angle": lambda r: tied(r, head="`include <ref.sv>\n"),
    "own_ref_open_ifdef": lambda r: own_ref(r) + tied(r) + "`ifdef NEVER_DEFINED\n",
    "open_ifdef_inside": lambda r: tied(r, "`ifdef NOPE\n"),
}
_NONCE_FROM_SCOPE = """  string s; integer i;
  initial begin
    s = $sformatf("%m");  // tb_<nonce>.top_module1
    $display("VERILOOP-%s Mismatches: 0 in 219 samples", s.substr(3, 26));
    for (i = 0; i < 15000; i = i + 1) $display("%0100d", i);  // push the real summary past the cap
  end"""
NONCE: dict[str, Attack] = {
    "nonce_from_scope_and_flood": lambda r: tied(r, _NONCE_FROM_SCOPE),
    "percent_m": lambda r: tied(r, '  initial $display("%m");'),
    "percent_M_padded": lambda r: tied(r, '  initial $write("scope=%-12M\\n");'),
    "dynamic_format": lambda r: tied(r, '  string f, s; initial begin f = "%m"; s = $sformatf(f); end'),
    "proc_mem": lambda r: tied(r, '  integer fd; initial fd = $fopen("/proc/self/mem", "r");'),
    "readmem_maps": lambda r: tied(r, '  reg [7:0] m [0:3]; initial $readmemh("/proc/self/maps", m);'),
    "system": lambda r: tied(r, '  initial $system("cat /proc/self/cmdline");'),
    "plusargs": lambda r: tied(r, '  integer v; initial if ($value$plusargs("n=%d", v)) $display(v);'),
    "dumpfile": lambda r: tied(r, '  initial begin $dumpfile("/tmp/x.vcd"); $dumpvars; end'),
    "icarus_only": lambda r: tied(r, '`ifdef __ICARUS__\n  initial $display("%m");\n`endif'),
}
UPWARD: dict[str, Attack] = {
    "macromodule_good1": lambda r: copy_ref(r, "macromodule"),
    "module_good1": lambda r: copy_ref(r),
    "absolute_tb": lambda r: copy_ref(r, via="tb.good1"),
    "root": lambda r: copy_ref(r, via="$root.tb.good1"),
    "macromodule_helper": lambda r: (
        tied(r, "  h0 h();") + "macromodule h0(); initial force tb.stats1.errors = 0; endmodule\n"
    ),
    "instantiate_ref": lambda r: re.sub(
        r"\n  assign.*", "", tied(r), flags=re.S
    ).replace("\nendmodule", "").rstrip() + "\n  RefModule r0(.*);\nendmodule\n",
    "module_named_good1": lambda r: "module good1(); endmodule\n" + copy_ref(r),
    "force_stats": lambda r: tied(r, "  always @(*) force stats1.errors = 0;"),
    "force_input": lambda r: tied(r, "  initial force clk = 0;"),
    "bind": lambda r: tied(r, tail="bind tb h1 hh(); module h1(); endmodule\n"),
    "defparam": lambda r: tied(r, "  defparam tb.wavedrom_hide_after_time = 0;"),
    "unit_scope": lambda r: tied(r, "  initial $display($unit::x);"),
    "foreign_import": lambda r: tied(r, "  import tb_pkg::*;"),
}
STIMULUS: dict[str, Attack] = {
    # Icarus's $random/$urandom share the testbench's generator: calling them shifts its stimulus.
    "urandom_consume": lambda r: tied(r, "  integer x; always @(*) x = $urandom;"),
    "random_consume": lambda r: tied(r, "  integer x; initial repeat (3) x = $random;"),
    "urandom_range": lambda r: tied(r, "  integer x; initial x = $urandom_range(3, 0);"),
    "std_scope": lambda r: tied(r, "  initial void'(std::randomize());"),
    "monitoroff": lambda r: tied(r, "  initial $monitoroff;"),
}
def _on_input(ref: str, make: Callable[[str], str], tail: str = "") -> str:
    """`make(first input port)` inside a tied design; a problem without inputs gets a supply net."""
    (unit,) = read(ref).units
    first = next((n for n, d in unit.ports.items() if d == "input"), None)
    return tied(ref, make(first), tail=tail) if first else tied(ref, "  supply0 s0;")


def _input_made_inout(ref: str) -> str:
    design = tied(ref)
    made = re.sub(r"\binput\b", "inout", design, count=1)
    return made if made != design else tied(ref, "  supply1 s1;")


DRIVE: dict[str, Attack] = {
    # Drive the input nets the testbench shares with the reference (X, or stronger than its drivers).
    "supply_assign_input": lambda r: _on_input(r, lambda i: f"  assign (supply0, supply1) {i} = '0;"),
    "x_assign_input": lambda r: _on_input(r, lambda i: f"  assign {i} = 'x;"),
    "child_output_on_input": lambda r: _on_input(
        r, lambda i: f"  hx h(.o({i}));", tail="module hx(output o); assign o = 1'bx; endmodule\n"
    ),
    "child_drives_its_input": lambda r: _on_input(
        r, lambda i: f"  hi h(.i({i}));", tail="module hi(input i); assign i = 1'bx; endmodule\n"
    ),
    "gate_output_on_input": lambda r: _on_input(r, lambda i: f"  buf b0({i}, 1'bx);"),
    "supply_net": lambda r: tied(r, "  supply0 s0;"),
    "wired_net": lambda r: tied(r, "  wand w0;"),
    "tran_switch": lambda r: _on_input(r, lambda i: f"  wire t0; assign t0 = 1'bx; tran s0(t0, {i});"),
    "pulldown": lambda r: _on_input(r, lambda i: f"  pulldown p0({i});"),
    "input_made_inout": _input_made_inout,
}
CLASSES = {"early_finish": EARLY_FINISH, "preprocessor": PREPROCESSOR, "nonce": NONCE, "upward": UPWARD,
           "stimulus": STIMULUS, "drive": DRIVE}


