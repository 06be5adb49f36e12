"""RTLLM grading: the testbench's pass message is hooked in the trusted testbench, so it cannot be forged."""

from __future__ import annotations

from typing import Any

from veriloop.testing.fake_openai import FakeOpenAIServer

from .conftest import RTLLM_FIXTURE, run_json

FORGED = """```verilog
module adder_8bit(input [7:0] a, input [7:0] b, input cin, output [7:0] sum, output cout);
  assign {cout, sum} = 9'd0;
  initial #1000 $display("===========Your Design Passed===========");
endmodule
```"""

LUT_RIGHT = """```verilog
module lut_square(input [1:0] idx, output [3:0] val);
  assign val = idx * idx;
endmodule
```"""


def test_printed_pass_message_does_not_pass_and_data_files_are_read(fake_openai: FakeOpenAIServer,
                                                                    bench_toml: Any) -> None:
    fake_openai.responder = lambda body: FORGED if "adder" in body["messages"][-1]["content"] else LUT_RIGHT
    bench_toml(fake=fake_openai)
    report = run_json("bench", "run", "--suite", "rtllm", "--path", str(RTLLM_FIXTURE), "--backend", "fake")
    (g,) = report["groups"]
    assert g["per_problem"] == {"adder_8bit": [1, 0], "lut_check": [1, 1]}
    assert g["failures"] == {"adder_8bit": "mismatch"}
