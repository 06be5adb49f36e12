"""The single-shot prompt: the problem's own text plus a fixed instruction on how to answer."""

from __future__ import annotations

from veriloop.bench.problem import BenchProblem
from veriloop.llm.contract import Message

SYSTEM = (
    "You are an expert digital designer. You write correct, synthesizable Verilog "
    "(SystemVerilog is accepted) that compiles with Icarus Verilog."
)


def user_prompt(problem: BenchProblem) -> str:
    """The task text: spec, the header to complete if any, and the answer format."""
    parts = [problem.spec.strip()]
    if problem.interface:
        parts.append("Complete the module whose interface is:\n\n" + problem.interface.strip())
    parts.append(
        f"Answer with the complete code of module {problem.top} (and any helper modules it uses) "
        "in a single ```verilog code block. Do not write a testbench."
    )
    return "\n\n".join(parts)


def messages(problem: BenchProblem) -> list[Message]:
    return [Message(role="system", content=SYSTEM), Message(role="user", content=user_prompt(problem))]
