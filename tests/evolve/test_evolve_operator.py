"""The offline operator: deterministic seeded mutations, valid SEARCH/REPLACE for Python and Verilog."""

from __future__ import annotations

import asyncio

from veriloop.config import load_settings
from veriloop.evolve.edits import apply_reply
from veriloop.evolve.offline_operator import answer, propose
from veriloop.llm import get_backend
from veriloop.llm.contract import CompletionRequest, Message

from .helpers_evolve import FIXTURE

VERILOG = """module acc(input clk, input [7:0] a, output reg [7:0] q);
// EVOLVE-BLOCK-START
  wire [7:0] s = a + 8'd3;
  always @(posedge clk) begin
    q <= s ^ 7;
    if (a == 5) q <= 0;
  end
// EVOLVE-BLOCK-END
endmodule
"""


def test_python_mutations_apply_and_are_deterministic() -> None:
    code = (FIXTURE / "initial_program.py").read_text()
    insp = code.replace("b = 0.5", "b = 1.35")
    replies = [propose(code, seed=s, inspirations=[insp]) for s in range(40)]
    assert replies == [propose(code, seed=s, inspirations=[insp]) for s in range(40)]
    applied = [apply_reply(code, r) for r in replies]
    assert sum(1 for a in applied if a.code is not None) >= 38
    assert all(a.outside == 0 and a.failed == 0 for a in applied)
    assert any("crossover" in r for r in replies) and any("constant" in r for r in replies)
    assert len({a.code for a in applied}) > 10


def test_verilog_mutations_stay_in_block() -> None:
    for s in range(30):
        res = apply_reply(VERILOG, propose(VERILOG, seed=s, language="verilog"))
        assert res.outside == 0 and res.failed == 0
        if res.code is not None:
            assert res.code.startswith("module acc(input clk, input [7:0] a, output reg [7:0] q);")
            assert res.code.endswith("endmodule\n")
            assert "q <=" in res.code  # non-blocking assignments are never turned into comparisons


def test_offline_backend_dispatches_to_the_operator() -> None:
    code = (FIXTURE / "initial_program.py").read_text()
    req = CompletionRequest(
        messages=[Message(role="user", content="improve")],
        task="evolve.edit",
        seed=4,
        context={"parent_code": code, "language": "python", "inspirations": []},
    )
    backend = get_backend(load_settings(), "offline")
    completion = asyncio.run(backend.complete(req))
    assert completion.text == answer(req)
    assert apply_reply(code, completion.text).code is not None


def test_line_scripts_get_line_mutations() -> None:
    script = "# recipe\n# EVOLVE-BLOCK-START\nstrash\nbalance\nrewrite -z\n# EVOLVE-BLOCK-END\n"
    results = [apply_reply(script, propose(script, seed=s, language="abc")) for s in range(20)]
    changed = [r.code for r in results if r.code is not None]
    assert len(changed) >= 15 and all(c.startswith("# recipe\n# EVOLVE-BLOCK-START\n") for c in changed)
