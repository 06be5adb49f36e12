"""The report data of a run: its spec, per-group metrics, failures and provenance."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from veriloop import runstore
from veriloop.bench.metrics import GroupMetrics, group_metrics
from veriloop.bench.store import ResultStore, SampleRecord


class BenchReport(BaseModel):
    """Everything a report shows; the JSON format is this model."""

    run_id: str
    title: str = ""
    status: str = ""
    created: str = ""
    spec: dict[str, Any] = Field(default_factory=dict)
    groups: list[GroupMetrics] = Field(default_factory=list)
    tool_versions: dict[str, str | None] = Field(default_factory=dict)
    samples: int = 0
    evolve: list[dict[str, Any]] = Field(default_factory=list)
    """Evolve suite: one row per (problem, backend, config, sample) with the score reached and spend."""

    def sampling(self) -> str:
        """One line: suite, n, effective temperature and seed of the run."""
        if not self.spec:
            return ""
        from veriloop.bench.spec import RunSpec

        spec = RunSpec.model_validate(self.spec)
        return (f"suite {spec.suite} · n = {spec.n} · temperature {spec.effective_temperature():g} "
                f"(single-shot) · seeds {spec.seed}..{spec.seed + spec.n - 1} · "
                f"sim timeout {spec.timeout_s:g} s")

    def evolve_summary(self) -> list[dict[str, Any]]:
        """Per (problem, backend, config): samples, mean and best score reached, mean spend."""
        cells: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for e in self.evolve:
            cells.setdefault((e["problem"], e["backend"], e["config"]), []).append(e)
        out = []
        for (problem, backend, config), es in sorted(cells.items()):
            scores = [float(e["score"]) for e in es if e["score"] is not None]
            out.append({"problem": problem, "backend": backend, "config": config, "samples": len(es),
                        "mean_score": sum(scores) / len(scores) if scores else None,
                        "best_score": max(scores) if scores else None,
                        "mean_cost_usd": sum(float(e["cost_usd"]) for e in es) / len(es)})
        return out

    def group(self, backend: str, config: str) -> GroupMetrics | None:
        return next((g for g in self.groups if g.backend == backend and g.config == config), None)


def build_report(record: runstore.RunRecord, records: list[SampleRecord]) -> BenchReport:
    rows = [r.model_dump() for r in records]
    versions: dict[str, str | None] = {}
    for r in records:
        versions.update({k: v for k, v in r.tool_versions.items() if v})
    evolve = [
        {"problem": r.problem, "backend": r.backend, "config": r.config, "idx": r.idx, "score": r.score,
         "cost_usd": r.cost_usd, "calls": r.calls, "detail": r.detail}
        for r in records if r.category == "score"
    ]
    return BenchReport(
        run_id=record.id, title=record.title, status=record.status, created=record.created,
        spec=dict(record.meta.get("spec", {})),
        groups=group_metrics([r for r in rows if r["category"] != "score"]),
        tool_versions=versions, samples=len(records), evolve=evolve,
    )


def load_report(record: runstore.RunRecord) -> BenchReport:
    """Read a run's results store and compute its report."""
    with ResultStore.open(record.dir) as store:
        return build_report(record, store.records())
