"""ADRS-style evolution: problems, edits, program database, prompts, controller, executors."""

from __future__ import annotations

from typing import Any


def run_evolution(*args: Any, **kwargs: Any) -> Any:
    """Run (or resume) an evolution campaign; see veriloop.evolve.controller.run_evolution."""
    from veriloop.evolve.controller import run_evolution as _run

    return _run(*args, **kwargs)
