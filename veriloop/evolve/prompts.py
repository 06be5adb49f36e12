"""Prompt building for evolve: file templates (overridable per problem) filled from the database."""

from __future__ import annotations

import json
from pathlib import Path
from string import Template
from typing import Any

from veriloop.evolve import problem_files
from veriloop.evolve.database import ProgramRow
from veriloop.evolve.problem import Problem
from veriloop.llm.contract import CompletionRequest, Droppable, Message

TEMPLATE_DIR = Path(__file__).with_name("templates")
TEMPLATE_NAMES = ("system.tmpl", "diff_user.tmpl", "rewrite_user.tmpl")
ARTIFACT_CHARS = 3000


class Templates:
    """The three prompt templates; a problem's templates/ dir, then an explicit dir, override by name.

    The problem's own templates are read through `problem_files` (no link out of the problem
    directory is followed); `override_dirs` are the user's own (`--templates`).
    """

    def __init__(self, override_dirs: list[Path] | None = None, problem: Problem | None = None) -> None:
        self.text: dict[str, Template] = {}
        for name in TEMPLATE_NAMES:
            text = (TEMPLATE_DIR / name).read_text(encoding="utf-8")
            if problem is not None and problem.templates_dir is not None:
                rel = f"{problem.templates_dir.name}/{name}"
                if problem_files.exists(problem.path, rel):
                    text = problem_files.read_text(problem.path, rel, problem.name)
            for d in override_dirs or []:
                if d is not None and (Path(d) / name).is_file():
                    text = (Path(d) / name).read_text(encoding="utf-8")
            self.text[name] = Template(text)

    def render(self, name: str, values: dict[str, Any]) -> str:
        return self.text[name].safe_substitute(values)


def _metrics_text(p: ProgramRow) -> str:
    if not p.metrics:
        return "(none: " + (p.error or "not evaluated") + ")"
    return "\n".join(f"- {k}: {v:.6g}" for k, v in sorted(p.metrics.items()))


def _artifacts_text(p: ProgramRow) -> str:
    parts = []
    if p.error:
        parts.append(f"error: {p.error}")
    for k, v in sorted(p.artifacts.items()):
        parts.append(f"{k}:\n{v}")
    text = "\n".join(parts) or "(none)"
    return text if len(text) <= ARTIFACT_CHARS else text[:ARTIFACT_CHARS] + "\n...[truncated]"


def _inspirations_text(problem: Problem, insps: list[ProgramRow]) -> str:
    if not insps:
        return "(none yet)"
    out = []
    for i, p in enumerate(insps, 1):
        score = f"{p.combined_score:.6g}" if p.combined_score is not None else "n/a"
        out.append(f"## Inspiration {i} (score {score})\n```{problem.language}\n{p.code}\n```")
    return "\n\n".join(out)


def build_request(
    problem: Problem,
    templates: Templates,
    parent: ProgramRow,
    inspirations: list[ProgramRow],
    *,
    iteration: int,
    seed: int,
    lessons: list[str],
    diff_based: bool,
    temperature: float = 0.7,
    notes: list[str] | None = None,
) -> CompletionRequest:
    """One evolve request: messages for network models, the same data in `context` for offline."""
    score = f"{parent.combined_score:.6g}" if parent.combined_score is not None else "n/a"
    values = {
        "language": problem.language,
        "system_message": "",
        "description": problem.description or f"Improve the program of problem '{problem.name}'.",
        "workload": f"\nWorkload: {problem.workload}\n" if problem.workload else "",
        "parent_code": parent.code,
        "parent_score": score,
        "parent_metrics": _metrics_text(parent),
        "parent_artifacts": _artifacts_text(parent),
        "edit_feedback": str(parent.edit.get("feedback") or "(this is the initial program)"),
        "inspirations": _inspirations_text(problem, inspirations),
        "lessons": "\n".join(f"- {x}" for x in lessons) if lessons else "(none)",
    }
    user = templates.render("diff_user.tmpl" if diff_based else "rewrite_user.tmpl", values)
    if notes:  # steering notes typed into `veriloop ui` by the person watching the run
        user += "\n\n## Notes from the person steering this run\n" + "\n".join(f"- {n}" for n in notes)
    system = templates.render("system.tmpl", values)
    # On a small context window the inspiration programs go first, then the retrieved lessons.
    gone = "(left out: too long for the model's context window)"
    droppable = []
    if inspirations:
        droppable.append(Droppable(text=values["inspirations"], kind="example", replacement=gone))
    if lessons:
        droppable.append(Droppable(text=values["lessons"], kind="lesson", replacement=gone))
    return CompletionRequest(
        messages=[Message(role="system", content=system), Message(role="user", content=user)],
        droppable=droppable,
        temperature=temperature,
        seed=seed,
        task="evolve.edit" if diff_based else "evolve.rewrite",
        context={
            "parent_code": parent.code,
            "inspirations": [p.code for p in inspirations],
            "language": problem.language,
            "seed": seed,
            "iteration": iteration,
            "parent_metrics": json.loads(json.dumps(parent.metrics)),
            "max_edits": 2,
            "notes": list(notes or []),
        },
    )


def load_lessons(settings: Any, problem: Problem, k: int = 3) -> list[str]:
    """Lessons from the knowledge store when it exists; never fails the run."""
    try:
        if not getattr(settings, "knowledge", None) or not settings.knowledge.enabled:
            return []
        if not settings.knowledge_path.exists():
            return []
        from veriloop.knowledge import open_store

        store = open_store(settings, create=False)
        hits = store.find_lessons(f"{problem.name}: {problem.description}", k)
        out = []
        for h in hits or []:
            lesson = getattr(h, "lesson", None)
            if lesson is not None:
                text = lesson.insight or f"{lesson.error_text[:200]} -> fix: {lesson.fix[:300]}"
            else:
                text = getattr(h, "text", None) or str(h)
            out.append(str(text)[:500])
        return out
    except Exception:  # noqa: BLE001 - retrieval is optional
        return []
