"""What a bench run is asked to do (suite, backends, configurations, sampling) — stored with the run."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ConfigName = Literal["single-shot", "oracle-tb", "self-verified", "reference"]
CONFIGS: tuple[str, ...] = ("single-shot", "oracle-tb", "self-verified")
REFERENCE = "reference"


class RunSpec(BaseModel):
    """The full, resumable description of a bench run."""

    suite: str
    path: str | None = None
    backends: list[str]
    configs: list[str] = Field(default_factory=lambda: ["single-shot"])
    n: int = Field(default=1, ge=1, le=1000)
    problems: str | None = None
    """A glob over problem ids."""
    limit: int | None = Field(default=None, ge=1)
    temperature: float | None = None
    """None: 0.0 for n == 1, 0.8 otherwise."""
    seed: int = 0
    """Sample i of a problem asks the backend for seed `seed + i`."""
    timeout_s: float = Field(default=30.0, gt=0)
    max_iters: int = Field(default=4, ge=1)
    budget_usd: float | None = None
    """Per-sample dollar budget for the design graph configurations."""
    evolve_budget: int = Field(default=20, ge=1)
    """Evolve suite: candidate evaluations per (problem, sample)."""

    def effective_temperature(self) -> float:
        if self.temperature is not None:
            return self.temperature
        return 0.0 if self.n == 1 else 0.8

    def pairs(self) -> list[tuple[str, str]]:
        """(backend, config) groups; the reference runs in its own config, evolve campaigns in "evolve"."""
        out: list[tuple[str, str]] = []
        for b in self.backends:
            if b == REFERENCE:
                out.append((b, REFERENCE))
            elif self.suite == "evolve":
                out.append((b, "evolve"))
            else:
                out.extend((b, c) for c in self.configs)
        return out

    def samples_for(self, backend: str) -> int:
        """The reference is deterministic: one sample per problem is enough."""
        return 1 if backend == REFERENCE else self.n
