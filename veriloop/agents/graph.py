"""The design StateGraph: planner -> architect -> generator -> verifier -> evaluator -> planner review."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from veriloop.agents.architect import architect_node
from veriloop.agents.deps import Deps
from veriloop.agents.evaluator import evaluator_node
from veriloop.agents.planner import approve_plan_node, plan_node, review_node
from veriloop.agents.rtl_generator import generator_node
from veriloop.agents.state import DesignState
from veriloop.agents.verifier import verifier_node

CHECKPOINT_FILE = "checkpoints.sqlite"
STOPS = ("done", "budget", "infeasible", "human_stop")


def _after_plan(state: DesignState) -> str:
    if state.get("decision") in STOPS:
        return END
    return "approve_plan" if state.get("interactive") else "architect"


def _after_approval(state: DesignState) -> str:
    decision = state.get("decision")
    if decision in STOPS:
        return END
    return "planner" if decision == "replan" else "architect"


def _after_architect(state: DesignState) -> str:
    return END if state.get("decision") in STOPS else "generator"


def _after_review(state: DesignState) -> str:
    return "generator" if state.get("decision") in ("iterate", "escalate") else END


NODES: dict[str, Any] = {
    "planner": plan_node,
    "approve_plan": approve_plan_node,
    "architect": architect_node,
    "generator": generator_node,
    "verifier": verifier_node,
    "evaluator": evaluator_node,
    "review": review_node,
}
"""The agent nodes by name; each takes (state, runtime) and reads its Deps from runtime.context."""


def build_graph(
    *,
    state_schema: Any = DesignState,
    input_schema: Any = None,
    context_schema: Any = Deps,
    bind: Callable[[Any], Any] | None = None,
    intake: Any = None,
    finish: Any = None,
) -> StateGraph:
    """The uncompiled graph (nodes and edges only).

    The CLI uses the defaults: its Deps arrive as the run's context. The LangGraph server entry
    (`veriloop.agents.server`) passes `bind` (gives every agent node the run's Deps), an `intake`
    node that turns the request into the initial state, and a `finish` node that writes the report.
    """
    g: StateGraph = StateGraph(
        state_schema, context_schema=context_schema, input_schema=input_schema  # type: ignore[arg-type]
    )
    for name, fn in NODES.items():
        g.add_node(name, bind(fn) if bind is not None else fn)
    end = END
    if finish is not None:
        g.add_node("finish", finish)
        g.add_edge("finish", END)
        end = "finish"
    if intake is not None:
        g.add_node("intake", intake)
        g.add_edge(START, "intake")
        g.add_edge("intake", "planner")
    else:
        g.add_edge(START, "planner")
    g.add_conditional_edges(
        "planner", _after_plan, {"approve_plan": "approve_plan", "architect": "architect", END: end}
    )
    g.add_conditional_edges(
        "approve_plan", _after_approval, {"planner": "planner", "architect": "architect", END: end}
    )
    g.add_conditional_edges("architect", _after_architect, {"generator": "generator", END: end})
    g.add_edge("generator", "verifier")
    g.add_edge("verifier", "evaluator")
    g.add_edge("evaluator", "review")
    g.add_conditional_edges("review", _after_review, {"generator": "generator", END: end})
    return g


def compile_graph(checkpointer: Any = None) -> CompiledStateGraph:
    return build_graph().compile(checkpointer=checkpointer, name="veriloop-design")


@asynccontextmanager
async def checkpointed_graph(run_dir: Path) -> AsyncIterator[Any]:
    """The graph with an async SQLite checkpointer at <run dir>/checkpoints.sqlite."""
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with AsyncSqliteSaver.from_conn_string(str(run_dir / CHECKPOINT_FILE)) as saver:
        yield compile_graph(saver)


