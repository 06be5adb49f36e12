"""The multi-agent design flow (planner, architect, generator, verifier, evaluator) on LangGraph.

`run_design(...)` is the entry point; heavy imports (langgraph) happen on first use, so that the
offline LLM backend can import `veriloop.agents.offline_designer` cheaply.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DesignResult", "arun_design", "run_design"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from veriloop.agents import run

        return getattr(run, name)
    raise AttributeError(f"module 'veriloop.agents' has no attribute {name!r}")
