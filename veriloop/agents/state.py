"""The design graph's typed state: a TypedDict of JSON values, validated by pydantic models."""

from __future__ import annotations

import json
import operator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator
from typing_extensions import TypedDict  # pydantic builds JSON schemas (Studio's forms) only from this one

Mode = Literal["self-verified", "oracle-tb"]
AGENTS = ("planner", "architect", "generator", "verifier", "evaluator")


def port_text(port: Any) -> Any:
    """A port given as an object ({direction, width|range|type, name}) as a declaration string;
    anything else unchanged (and validated as a string by the model)."""
    if not isinstance(port, dict):
        return port
    direction = str(port.get("direction") or port.get("dir") or "").strip().lower()
    name = str(port.get("name") or "").strip()
    if direction not in ("input", "output", "inout") or not name:
        return " ".join(str(v) for v in port.values())
    width = port.get("width")
    rng = ""
    if isinstance(width, int) and width > 1:
        rng = f" [{width - 1}:0]"
    elif isinstance(width, str) and width.strip().startswith("["):
        rng = " " + width.strip()
    elif isinstance(width, str) and width.strip().isdigit() and int(width) > 1:
        rng = f" [{int(width) - 1}:0]"
    return f"{direction}{rng} {name}"


class ModulePlan(BaseModel):
    """One module the design needs: its name, ports and what it does."""

    name: str
    purpose: str = ""
    ports: list[str] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)

    @field_validator("ports", mode="before")
    @classmethod
    def _port_objects(cls, value: Any) -> Any:
        """Small models write ports as objects ({"direction": "input", "width": 8, "name": "a"}):
        read as "input [7:0] a" rather than losing the whole plan."""
        return [port_text(p) for p in value] if isinstance(value, list) else value


class Plan(BaseModel):
    """The planner's plan: modules, interfaces, how to verify, what counts as done."""

    feasible: bool = True
    reason: str = ""
    top: str = "top"
    summary: str = ""
    modules: list[ModulePlan] = Field(default_factory=list)
    interfaces: list[str] = Field(default_factory=list)
    verification_plan: list[str] = Field(default_factory=list)
    acceptance: list[str] = Field(default_factory=list)

    @field_validator("interfaces", "verification_plan", "acceptance", mode="before")
    @classmethod
    def _texts(cls, value: Any) -> Any:
        """Objects where text is expected (ports as objects, steps as {"step": ...}) become text."""
        if not isinstance(value, list):
            return value
        out = [port_text(v) for v in value]
        return [v if isinstance(v, str) else json.dumps(v, sort_keys=True) for v in out]


class Choice(BaseModel):
    """A micro-architecture decision and the reason for it."""

    decision: str
    reason: str = ""


class Citation(BaseModel):
    """A retrieved snippet (similar design, doc or lesson) and where it came from."""

    source: str
    kind: str = "doc"
    score: float = 0.0
    text: str = ""


class Architecture(BaseModel):
    """The architect's decomposition in dependency order plus its choices and retrievals."""

    order: list[str] = Field(default_factory=list)
    levels: list[list[str]] = Field(default_factory=list)
    choices: list[Choice] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)


class Verdict(BaseModel):
    """The verifier's verdict for one iteration, always with evidence."""

    iteration: int
    passed: bool
    category: str
    """pass | syntax | mismatch | timeout | tool_error | no_summary | no_code | equivalence | tb_error"""
    mode: Mode = "self-verified"
    mismatches: int | None = None
    samples: int | None = None
    first_mismatch: str = ""
    hints: list[str] = Field(default_factory=list)
    log_excerpt: str = ""
    equivalence: str = ""
    """proved | refuted | unknown | "" (not run)"""
    counterexample: str = ""
    trace: str = ""
    """Per time step around the first mismatch: inputs, the design's outputs and the expected ones."""
    summary: str = ""

    def evidence(self) -> str:
        """The verdict as text a generator (or a human) can act on."""
        lines = [f"Verdict: {'PASS' if self.passed else 'FAIL'} ({self.category}). {self.summary}".strip()]
        if self.mismatches is not None and self.samples is not None:
            lines.append(f"Mismatches: {self.mismatches} in {self.samples} samples.")
        if self.first_mismatch:
            lines.append(f"First mismatch: {self.first_mismatch}")
        lines.extend(f"Hint: {h}" for h in self.hints)
        if self.equivalence:
            lines.append(f"Equivalence against the reference: {self.equivalence}.")
        if self.trace:
            lines.append(
                "Signal values around the first mismatch (hex; time, inputs | your output, expected):\n"
                + self.trace
            )
        if self.counterexample:
            lines.append("Counterexample:\n" + self.counterexample)
        if self.log_excerpt:
            lines.append("Log excerpt:\n" + self.log_excerpt)
        return "\n".join(lines)


class PPA(BaseModel):
    """The evaluator's measurement of a design."""

    synthesized: bool = False
    cells: int | None = None
    cell_types: dict[str, int] = Field(default_factory=dict)
    area: float | None = None
    depth: int | None = None
    lint_warnings: int = 0
    lint_errors: int = 0
    score: float = 0.0
    note: str = ""


class Spend(BaseModel):
    """Calls, tokens and dollars spent so far (kept in state so a resumed run keeps counting)."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usd: float = 0.0
    models: dict[str, str] = Field(default_factory=dict)

    def add(self, backend: str, model: str, prompt: int, completion: int, usd: float) -> Spend:
        models = dict(self.models)
        models[backend] = model
        return Spend(
            calls=self.calls + 1,
            prompt_tokens=self.prompt_tokens + prompt,
            completion_tokens=self.completion_tokens + completion,
            usd=self.usd + usd,
            models=models,
        )


EntryKind = Literal["prompt", "reply", "tool", "decision", "retrieval", "failure", "human"]


class TranscriptEntry(BaseModel):
    """One agent message, tool call, retrieval or decision."""

    agent: str
    kind: EntryKind = "reply"
    iteration: int = 0
    text: str = ""
    backend: str = ""
    model: str = ""
    tokens: int = 0
    usd: float = 0.0
    citations: list[str] = Field(default_factory=list)
    ts: float = 0.0


Decision = Literal["", "iterate", "escalate", "done", "budget", "infeasible", "human_stop", "replan"]


class DesignState(TypedDict, total=False):
    """What the graph carries between agents; every value is plain JSON (checkpoint-friendly)."""

    run_id: str
    spec: str
    mode: Mode
    top: str
    tb: str
    """The user's testbench (oracle-tb mode) or the verifier's own (self-verified)."""
    tb_rederived: bool
    tb_source: str
    """"user" or "agents"."""
    ref: str
    interactive: bool
    max_iters: int
    budget_usd: float | None
    max_steps: int
    seed: int
    backends: dict[str, str]
    escalated: bool
    plan: dict[str, Any]
    plan_source: str
    """"spec" when the plan was read from the spec's own port list (no planner call), else "planner"."""
    architecture: dict[str, Any]
    rtl: dict[str, str]
    """module name -> source, in dependency order."""
    samples: int
    """How many candidate designs the generator writes in parallel on its first pass."""
    candidates: list[dict[str, str]]
    """The first pass's distinct candidates (empty unless samples > 1); the verifier picks one."""
    iteration: int
    failures: int
    verdicts: Annotated[list[dict[str, Any]], operator.add]
    feedback: str
    best: dict[str, Any]
    """The best design so far on the current testbench: {"tb": key, "rank", "rtl", "verdict"}."""
    ppa: dict[str, Any]
    spend: dict[str, Any]
    transcript: Annotated[list[dict[str, Any]], operator.add]
    decision: Decision
    reason: str
    referee_rewrites: int
    """Reference models rewritten this run because the referee ruled them wrong (self-verified)."""
    fixes: Annotated[list[dict[str, Any]], operator.add]
    """(error evidence -> what fixed it) pairs, stored as lessons after the run."""
