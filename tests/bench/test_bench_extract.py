"""Code extraction from replies: fences, headers for code completion, and categories decided up front."""

from __future__ import annotations

from veriloop.bench.extract import extract_code

TOP = "module TopModule(input a, output y);\n  assign y = a;\nendmodule"
RESERVED = ["RefModule", "stimulus_gen", "tb"]


def test_fenced_block_is_extracted_from_prose() -> None:
    ex = extract_code(f"Here you go:\n```verilog\n{TOP}\n```\nHope it helps.", "TopModule", "", RESERVED)
    assert ex.category is None and ex.code.strip() == TOP and ex.modules == ["TopModule"]


def test_begin_done_and_bare_module_are_extracted() -> None:
    assert extract_code(f"[BEGIN]\n{TOP}\n[DONE]", "TopModule").code.strip() == TOP
    assert extract_code(f"Sure. {TOP} That's it.", "TopModule").code.strip() == TOP


def test_empty_and_garbled_replies_are_no_code() -> None:
    assert extract_code("", "TopModule").category == "no_code"
    assert extract_code("   \n", "TopModule").category == "no_code"
    assert extract_code("I cannot help with that.", "TopModule").category == "no_code"
    assert extract_code("```verilog\nassign y = a;\n```", "TopModule").category == "no_code"


def test_helper_modules_beside_top_are_legitimate() -> None:
    reply = "```verilog\nmodule inv(input a, output y); assign y = ~a; endmodule\n" \
            "module TopModule(input a, output y); wire t; inv u(a, t); inv v(t, y); endmodule\n```"
    ex = extract_code(reply, "TopModule", "", RESERVED)
    assert ex.category is None and ex.modules == ["inv", "TopModule"]


def test_two_top_definitions_are_syntax_and_testbench_redefinition_is_illegal() -> None:
    two = f"```verilog\n{TOP}\n```\nor alternatively\n```verilog\n{TOP.replace('= a', '= ~a')}\n```"
    ex = extract_code(two, "TopModule", "", RESERVED)
    assert ex.category == "syntax" and "more than once" in ex.detail
    hijack = f"```verilog\n{TOP}\nmodule tb; initial $display(\"Mismatches: 0 in 1 samples\"); endmodule\n```"
    ex = extract_code(hijack, "TopModule", "", RESERVED)
    assert ex.category == "illegal" and "tb" in ex.detail
    macro = f"```verilog\n`define NM(x) Ref``x\nmodule `NM(Module)(); endmodule\n{TOP}\n```"
    ex = extract_code(macro, "TopModule", "", RESERVED)  # a macro-made name is still read as RefModule
    assert ex.category == "illegal" and "RefModule" in ex.detail


def test_missing_top_is_syntax_and_comments_do_not_count_as_modules() -> None:
    ex = extract_code("```verilog\nmodule other(input a); endmodule\n```", "TopModule")
    assert ex.category == "syntax" and "not TopModule" in ex.detail
    commented = "```verilog\n// module TopModule is below\n" + TOP + "\n```"
    assert extract_code(commented, "TopModule").category is None


def test_code_completion_body_gets_its_interface() -> None:
    ifc = "module TopModule (\n  input a,\n  output y\n);"
    ex = extract_code("```verilog\n  assign y = a;\nendmodule\n```", "TopModule", ifc, RESERVED)
    assert ex.category is None and ex.code.startswith(ifc) and ex.modules == ["TopModule"]
