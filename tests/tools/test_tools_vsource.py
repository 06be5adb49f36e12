"""Verilog structure read by the parser: comments, strings and macros neither add nor hide anything."""

from __future__ import annotations

from veriloop.tools.vsource import read, rename_unit

SRC = """// module using a comment; module module
/* module to */
`define NAME(x) Hel``x
module `NAME(per) (input a, output y);  // module named by a macro
  assign y = a;
endmodule
macromodule TopModule(input a, output out);
  wire w; `NAME(per) u1(.a(a), .y(w));
  initial $display("module fake; %d", $clog2(8));
  assign out = u1.y | good1.out;
endmodule
primitive p1(output o, input i); table 0 : 1; 1 : 0; endtable endprimitive
interface bus_if; logic v; endinterface
package pk; localparam int W = 3; endpackage
class C; endclass
program pr; endprogram
"""


def test_units_of_every_kind_and_no_words_from_comments_or_strings() -> None:
    src = read(SRC)
    assert [(u.name, u.kind) for u in src.units] == [
        ("Helper", "module"), ("TopModule", "macromodule"), ("p1", "primitive"), ("bus_if", "interface"),
        ("pk", "package"), ("C", "class"), ("pr", "program"),
    ]
    assert src.units[1].ports == {"a": "input", "out": "output"}
    assert src.instantiated == ["Helper"] and src.instance_names == ["u1"]
    assert src.system_calls == ["$display", "$clog2"]
    assert not src.errors


def test_dotted_names_know_whether_their_head_is_local() -> None:
    names = {n.text: n.local for n in read(SRC).names}
    assert names == {"u1.y": True, "good1.out": False}


def test_compiled_text_is_expanded_and_directive_free() -> None:
    src = read(SRC)
    assert "`" not in src.compiled_text and "module Helper" in src.compiled_text
    assert read("module m; endmodule\n").compiled_text == "module m; endmodule\n"  # untouched


def test_directives_scope_formats_and_unterminated_conditionals() -> None:
    src = read('`include "x.sv"\nmodule m; initial $display("%0m"); endmodule\n`ifdef A\n')
    kinds = [d.kind for d in src.directives]
    assert "include" in kinds and "ifdef" in kinds and src.unterminated_conditional
    assert src.scope_formats == [2]
    assert read('module m; initial $display("100%%m"); endmodule').scope_formats == []


def test_icarus_is_defined_and_the_taken_branch_is_read() -> None:
    src = read("`ifdef __ICARUS__\nmodule yes; endmodule\n`else\nmodule no; endmodule\n`endif\n")
    assert src.unit_names == ["yes"]


def test_rename_unit_renames_only_the_declaration() -> None:
    text = "// RefModule here\nmodule RefModule(input a); endmodule\n"
    assert rename_unit(text, "RefModule", "TopModule") == (
        "// RefModule here\nmodule TopModule(input a); endmodule\n"
    )
