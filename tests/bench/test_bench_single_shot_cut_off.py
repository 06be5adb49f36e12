"""Single-shot bench samples say when the reply was cut off or stopped as a runaway (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

from veriloop.bench.generate import single_shot
from veriloop.bench.problem import BenchProblem
from veriloop.testing.fake_openai import FakeOpenAIServer, Reply
from veriloop.testing.llm import fake_backend

_DATA = Path(__file__).parents[1] / "llm" / "data" / "issue14_replies.json"
# A real reply of the small model to a VerilogEval prompt (bench single-shot cassette).
_COMPLETE = json.loads(_DATA.read_text(encoding="utf-8"))["complete"]
REAL = _COMPLETE["bench-verilogeval-prob001-012-single-shot:1"]["text"]
PROBLEM = BenchProblem(id="Prob001_zero", suite="verilog-eval", spec="Output zero.", top="TopModule")


async def test_cut_off_reply_is_labelled_with_its_cap(fake_openai: FakeOpenAIServer) -> None:
    cut = REAL[: len(REAL) // 2]
    assert "endmodule" not in cut
    fake_openai.enqueue(Reply(content=cut, finish_reason="length"))
    backend = fake_backend(fake_openai, retries=0, max_tokens={"generator": 300})
    cand = await single_shot(PROBLEM, backend, 0.0, 1)
    assert cand.category == "no_code"
    assert cand.detail == "reply cut off at max_tokens 300 (reply holds no complete Verilog module)"
    assert cand.calls == 1 and cand.completion_tokens > 0 and cand.prompt_tokens > 0


async def test_runaway_reply_is_labelled_with_the_stop_reason(fake_openai: FakeOpenAIServer) -> None:
    head = REAL.split("always", 1)[0]
    fake_openai.enqueue(Reply(content=head + "    assign zero = 1'b0;\n" * 300))
    cand = await single_shot(PROBLEM, fake_backend(fake_openai, retries=0), 0.0, 1)
    assert cand.category == "no_code" and cand.completion_tokens < 300
    assert cand.detail.startswith("stopped: the reply repeated the same line 24 times (")


async def test_a_whole_module_before_the_cut_is_still_graded(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(Reply(content=REAL + "\nThis module sets zero to", finish_reason="length"))
    cand = await single_shot(PROBLEM, fake_backend(fake_openai, retries=0), 0.0, 1)
    assert cand.category is None and "module TopModule" in cand.code
    assert cand.detail == "reply cut off at max_tokens 2048; the module before the cut was graded"
