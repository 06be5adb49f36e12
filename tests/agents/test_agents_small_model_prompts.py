"""Prompts that misled a small model (issue 14): copied example ports, unrelated library entries,
a copyable diff placeholder. Real reply texts from the recorded Qwen2.5-Coder-1.5B runs."""

from __future__ import annotations

import json
from pathlib import Path

from veriloop.agents.architect import clip_lines, related_to_spec
from veriloop.agents.codeparse import extract_json
from veriloop.agents.planner import SYSTEM as PLANNER_SYSTEM
from veriloop.agents.planner import _normalise, drop_unasked_clock
from veriloop.agents.state import Citation, Plan
from veriloop.evolve.edits import apply_diff

REAL = json.loads((Path(__file__).parent / "data" / "real_replies_mux.json").read_text(encoding="utf-8"))
MUX_SPEC = (
    "A 2-to-1 multiplexer: 8-bit inputs a and b, 1-bit select sel, 8-bit output y; "
    "y = b when sel is 1, else a. Purely combinational."
)
ALU = REAL["rtl_alu_2"].split("```verilog\n", 1)[1].split("```", 1)[0]


def test_planner_example_has_no_ports_to_copy() -> None:
    assert "input clk" not in PLANNER_SYSTEM and "[7:0] d" not in PLANNER_SYSTEM


def test_clock_copied_into_a_combinational_plan_is_dropped() -> None:
    # The real plan for the mux listed "input clk" (copied from the old example).
    data = extract_json(
        '{"top": "mux", "modules": [{"name": "mux", "ports": '
        '["input clk", "input [7:0] a", "input [7:0] b", "input [0:0] sel", "output [7:0] y"]}]}'
    )
    plan = drop_unasked_clock(_normalise(Plan.model_validate(data), None), MUX_SPEC)
    assert plan.modules[0].ports == ["input [7:0] a", "input [7:0] b", "input [0:0] sel", "output [7:0] y"]
    counter = "8-bit up counter with synchronous reset and enable, combinational next-state logic, clk input"
    kept = drop_unasked_clock(Plan.model_validate(data), counter)
    assert "input clk" in kept.modules[0].ports


def test_unrelated_library_entry_is_left_out() -> None:
    plan = Plan.model_validate(
        {"top": "mux", "modules": [{"name": "mux", "ports": ["input [7:0] a", "input [7:0] b",
                                                             "input sel", "output [7:0] y"]}]}
    )
    alu = Citation(source="designlib/alu", kind="design", score=1.0, text=ALU)
    assert not related_to_spec(alu, MUX_SPEC, plan)
    same = Citation(source="designlib/mux2", kind="design", score=1.0,
                    text="module mux2(input [7:0] a, input [7:0] b, input sel, output [7:0] y);\nendmodule\n")
    assert related_to_spec(same, MUX_SPEC, plan)
    doc = Citation(source="docs/idioms.md", kind="doc", score=1.0, text="Use always @* for muxes.")
    assert related_to_spec(doc, MUX_SPEC, plan)


def test_retrieved_text_is_cut_at_a_line_end() -> None:
    cut = clip_lines(ALU, 200)
    body = cut.split("\n// ...")[0]
    assert len(body) <= 200 and ALU.startswith(body) and ALU[len(body)] == "\n"
    assert "left out" in cut


PROGRAM = """x = 1
# EVOLVE-BLOCK-START
GROUP = 12
# EVOLVE-BLOCK-END
"""


def test_search_block_equal_to_the_placeholder_is_a_clear_fault() -> None:
    reply = (
        "<<<<<<< SEARCH\n(lines copied exactly from the current program, inside the EVOLVE block)\n"
        "=======\n(the new lines)\n>>>>>>> REPLACE\n"
    )
    res = apply_diff(PROGRAM, reply)
    assert res.failed == 1 and "placeholder" in " ".join(res.messages)
    # The real reply (evolve-rtl_ppa cassette) copied the placeholder's parenthesis in front of the line.
    res = apply_diff(PROGRAM, "<<<<<<< SEARCH\n(GROUP = 12\n=======\n(GROUP = 8\n>>>>>>> REPLACE\n")
    assert res.failed == 1 and "without a '('" in " ".join(res.messages)


def test_diff_template_has_no_copyable_placeholder() -> None:
    import veriloop.evolve as ev

    tmpl = (Path(ev.__file__).parent / "templates" / "diff_user.tmpl").read_text(encoding="utf-8")
    assert "(lines copied" not in tmpl and "(the new lines)" not in tmpl
