"""The design StateGraph: planner -> architect -> generator -> verifier -> evaluator -> planner review."""

from __future__ import annotations

from collections.abc import AsyncIterator
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


def build_graph() -> StateGraph:
    """The uncompiled graph (nodes and edges only)."""
    g: StateGraph = StateGraph(DesignState, context_schema=Deps)  # type: ignore[arg-type]
    g.add_node("planner", plan_node)
    g.add_node("approve_plan", approve_plan_node)
    g.add_node("architect", architect_node)
    g.add_node("generator", generator_node)
    g.add_node("verifier", verifier_node)
    g.add_node("evaluator", evaluator_node)
    g.add_node("review", review_node)
    g.add_edge(START, "planner")
    g.add_conditional_edges("planner", _after_plan, ["approve_plan", "architect", END])
    g.add_conditional_edges("approve_plan", _after_approval, ["planner", "architect", END])
    g.add_conditional_edges("architect", _after_architect, ["generator", END])
    g.add_edge("generator", "verifier")
    g.add_edge("verifier", "evaluator")
    g.add_edge("evaluator", "review")
    g.add_conditional_edges("review", _after_review, ["generator", END])
    return g


def compile_graph(checkpointer: Any = None) -> CompiledStateGraph:
    return build_graph().compile(checkpointer=checkpointer, name="veriloop-design")


@asynccontextmanager
async def checkpointed_graph(run_dir: Path) -> AsyncIterator[Any]:
    """The graph with an async SQLite checkpointer at <run dir>/checkpoints.sqlite."""
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with AsyncSqliteSaver.from_conn_string(str(run_dir / CHECKPOINT_FILE)) as saver:
        yield compile_graph(saver)


def make_graph(config: Any = None) -> CompiledStateGraph:
    """LangGraph Studio / `langgraph dev` entry (the server supplies its own persistence)."""
    return compile_graph()


graph = compile_graph()
"""Module-level graph referenced by langgraph.json."""
