"""What a bench run is asked to do (suite, backends, configurations, sampling) — stored with the run."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ConfigName = Literal["single-shot", "oracle-tb", "self-verified", "reference"]
CONFIGS: tuple[str, ...] = ("single-shot", "oracle-tb", "self-verified")
REFERENCE = "reference"
IMPORTED = "imported"
"""The configuration of samples made elsewhere and graded with `veriloop bench grade`."""


class RunSpec(BaseModel):
    """The full, resumable description of a bench run."""

    suite: str
    path: str | None = None
    backends: list[str]
    configs: list[str] = Field(default_factory=lambda: ["single-shot"])
    n: int = Field(default=1, ge=1, le=1000)
    problems: str | None = None
    """Comma-separated globs over problem ids (`--problems @FILE` stores the file's ids this way)."""
    limit: int | None = Field(default=None, ge=1)
    temperature: float | None = None
    """None: 0.0 for n == 1, 0.8 otherwise."""
    seed: int = 0
    """Sample i of a problem asks the backend for seed `seed + i`."""
    timeout_s: float = Field(default=30.0, gt=0)
    max_iters: int = Field(default=4, ge=1)
    design_samples: int = Field(default=1, ge=1, le=16)
    """Design graph configurations: candidate designs written on the first pass, ranked by the verifier."""
    budget_usd: float | None = None
    """Per-sample dollar budget for the design graph configurations."""
    evolve_budget: int = Field(default=20, ge=1)
    """Evolve suite: candidate evaluations per (problem, sample)."""
    executor: Literal["local", "ray"] = "local"
    """Where samples are graded: this machine's sandbox, or Ray tasks on the cluster at `address`."""
    address: str | None = None
    imported: dict[str, int] | None = None
    """`bench grade`: problem id -> number of samples given (their texts live in the results store);
    the one backend is then only a label for where the samples came from."""
    samples_from: str | None = None
    """`bench grade`: the trial directory or JSONL file the samples were read from."""

    def effective_temperature(self) -> float:
        if self.temperature is not None:
            return self.temperature
        return 0.0 if self.n == 1 else 0.8

    def pairs(self) -> list[tuple[str, str]]:
        """(backend, config) groups; the reference runs in its own config, evolve campaigns in "evolve"."""
        out: list[tuple[str, str]] = []
        if self.imported is not None:
            return [(b, IMPORTED) for b in self.backends]
        for b in self.backends:
            if b == REFERENCE:
                out.append((b, REFERENCE))
            elif self.suite == "evolve":
                out.append((b, "evolve"))
            else:
                out.extend((b, c) for c in self.configs)
        return out

    def samples_for(self, backend: str, problem: str | None = None) -> int:
        """The reference is deterministic: one sample per problem is enough; imported samples are as
        many as were given for the problem."""
        if self.imported is not None:
            return self.imported.get(problem or "", 0) if problem is not None else max(self.imported.values())
        return 1 if backend == REFERENCE else self.n
