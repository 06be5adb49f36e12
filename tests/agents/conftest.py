"""Fixtures for the design-flow tests: a scripted 'LLM team' answering through the fake OpenAI server."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

GOOD_COUNTER = """module counter (
    input  wire       clk,
    input  wire       rst,
    input  wire       en,
    output reg  [3:0] q
);
    always @(posedge clk) begin
        if (rst) q <= 4'd0;
        else if (en) q <= q + 4'd1;
    end
endmodule
"""

# Counts by two: every enabled cycle after the first differs from the spec.
BUGGY_COUNTER = GOOD_COUNTER.replace("q + 4'd1", "q + 4'd2")

# Passes a short test (first 8 counts are right) but wraps wrongly at 12: only equivalence finds it.
SUBTLE_COUNTER = GOOD_COUNTER.replace(
    "else if (en) q <= q + 4'd1;", "else if (en) q <= (q == 4'd12) ? 4'd3 : q + 4'd1;"
)

COUNTER_TB = """`timescale 1ns/1ps
module tb;
    reg clk = 0, rst = 1, en = 0;
    wire [3:0] q;
    reg [3:0] expected = 0;
    integer errors = 0, total = 0, i;
    counter dut (.clk(clk), .rst(rst), .en(en), .q(q));
    always #5 clk = ~clk;
    initial begin
        @(negedge clk); @(negedge clk);
        rst = 0;
        for (i = 0; i < NCYCLES; i = i + 1) begin
            en = (i % 4) != 3;
            @(posedge clk);
            if (rst) expected = 0; else if (en) expected = expected + 1;
            #1;
            total = total + 1;
            if (q !== expected) begin
                errors = errors + 1;
                if (errors <= 5) $display("MISMATCH time=%0t q got=%h expected=%h", $time, q, expected);
            end
            @(negedge clk);
        end
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
"""

SPEC = "4-bit up counter `counter` with synchronous active-high reset rst and enable en, output q"


def tb(cycles: int = 60) -> str:
    return COUNTER_TB.replace("NCYCLES", str(cycles))


PLAN = {
    "feasible": True,
    "top": "counter",
    "summary": SPEC,
    "modules": [
        {
            "name": "counter",
            "purpose": "the counter",
            "ports": ["input clk", "input rst", "input en", "output [3:0] q"],
        }
    ],
    "verification_plan": ["reset, enable on/off, wrap-around"],
    "acceptance": ["testbench passes"],
}
ARCH = {"order": ["counter"], "choices": [{"decision": "binary counter", "reason": "smallest"}]}


def fenced(code: str) -> str:
    return f"Here is the code.\n```verilog\n{code}```\n"


def role(body: dict[str, Any]) -> str:
    system = next((m.get("content") or "" for m in body.get("messages", []) if m.get("role") == "system"), "")
    for name in ("planner", "architect", "RTL generator", "verifier"):
        if f"You are the {name} agent" in system:
            return name.split()[-1].lower()
    return "unknown"


def last_user(body: dict[str, Any]) -> str:
    return next(
        (m.get("content") or "" for m in reversed(body.get("messages", [])) if m.get("role") == "user"), ""
    )


@pytest.fixture(autouse=True)
def _whole_testbenches(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scripted Team writes whole testbenches (`agents.testbench = "llm"`); the scaffold around an
    agent-written reference model, the default for model backends, is tested in
    test_agents_reference_model.py, which sets its own style."""
    monkeypatch.setenv("VERILOOP_AGENTS__TESTBENCH", "llm")


def asks_for_reference_model(body: dict[str, Any]) -> bool:
    system = next((m.get("content") or "" for m in body.get("messages", []) if m.get("role") == "system"), "")
    return "REFERENCE MODEL" in system


def as_reference(design: str, top: str = "counter") -> str:
    """A design renamed to the reference model's name (`<top>_expected`)."""
    return design.replace(f"module {top} ", f"module {top}_expected ", 1)


@dataclass
class Team:
    """A scripted LLM team: answers each agent by the system prompt; generator replies come from a list,
    reference models (asked for by the scaffold) from `references` (the last one repeats)."""

    rtl: list[str]
    testbench: str = field(default_factory=tb)
    references: list[str] = field(default_factory=lambda: [as_reference(GOOD_COUNTER)])
    calls: dict[str, int] = field(default_factory=dict)

    def __call__(self, body: dict[str, Any]) -> str:
        r = role(body)
        if r == "verifier" and asks_for_reference_model(body):
            r = "reference"
        self.calls[r] = self.calls.get(r, 0) + 1
        if r == "planner":
            return "```json\n" + json.dumps(PLAN) + "\n```"
        if r == "architect":
            return "```json\n" + json.dumps(ARCH) + "\n```"
        if r == "reference":
            return fenced(self.references[min(self.calls[r] - 1, len(self.references) - 1)])
        if r == "verifier":
            return fenced(self.testbench)
        if r == "generator":
            n = self.calls[r] - 1
            return fenced(self.rtl[min(n, len(self.rtl) - 1)])
        return "I do not know this request."


def requests_of(server: Any, who: str) -> list[dict[str, Any]]:
    return [b for b in server.requests if role(b) == who]


@pytest.fixture
def kit() -> SimpleNamespace:
    """Everything the design tests share (pytest's importlib mode keeps test modules apart)."""
    return SimpleNamespace(
        GOOD=GOOD_COUNTER,
        BUGGY=BUGGY_COUNTER,
        SUBTLE=SUBTLE_COUNTER,
        SPEC=SPEC,
        tb=tb,
        Team=Team,
        role=role,
        last_user=last_user,
        fenced=fenced,
        requests_of=requests_of,
        as_reference=as_reference,
        asks_for_reference_model=asks_for_reference_model,
    )
