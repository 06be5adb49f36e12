"""Lessons learned by a design run: (error evidence -> fix that worked) pairs kept in the knowledge store."""

from __future__ import annotations

from veriloop.agents.deps import Deps
from veriloop.agents.state import DesignState


def store_lessons(deps: Deps, state: DesignState) -> int:
    """Store each fix that turned a failing verdict into a passing one; 0 when no store is usable."""
    fixes = state.get("fixes") or []
    if not fixes:
        return 0
    store = deps.knowledge(create=True)
    if store is None:
        return 0
    stored = 0
    for fix in fixes:
        try:
            store.add_lesson(
                error_text=str(fix.get("error", "")),
                fix=str(fix.get("fix", "")),
                insight=f"design spec: {fix.get('spec', '')}",
                run_id=state.get("run_id"),
                tool="veriloop-design",
            )
            stored += 1
        except Exception:  # noqa: BLE001 - lessons are a bonus; a failing store must not fail the run
            continue
    return stored
