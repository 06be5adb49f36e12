"""Usage and cost accounting: per-run sums of calls, retries, tokens and dollars (exact, in Decimal)."""

from __future__ import annotations

import threading
from decimal import Decimal

from pydantic import BaseModel, Field

from veriloop.llm.contract import Completion

_MILLION = Decimal(1_000_000)


def cost_of(
    prompt_tokens: int, completion_tokens: int, price_in_per_mtok: float, price_out_per_mtok: float
) -> Decimal:
    """Exact dollar cost of one call: tokens x price per million tokens (prices read as decimals)."""
    return (
        Decimal(prompt_tokens) * Decimal(str(price_in_per_mtok))
        + Decimal(completion_tokens) * Decimal(str(price_out_per_mtok))
    ) / _MILLION


class UsageTotals(BaseModel):
    """Sums of LLM calls: counts, tokens, dollars (float and exact decimal) and latency."""

    calls: int = 0
    failures: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cost_usd_exact: str = "0"
    latency_s: float = 0.0


class UsageLine(UsageTotals):
    """Sums for one backend/model pair."""

    backend: str
    model: str


class UsageSnapshot(UsageTotals):
    """Totals of a run so far, and the same per backend/model."""

    by_backend: list[UsageLine] = Field(default_factory=list)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class _Acc:
    __slots__ = ("calls", "failures", "retries", "prompt", "completion", "cost", "latency")

    def __init__(self) -> None:
        self.calls = 0
        self.failures = 0
        self.retries = 0
        self.prompt = 0
        self.completion = 0
        self.cost = Decimal(0)
        self.latency = 0.0


class UsageLedger:
    """Thread- and async-safe sums of LLM usage for one run; share one across backends if you like."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._acc: dict[tuple[str, str], _Acc] = {}

    def _get(self, backend: str, model: str) -> _Acc:
        key = (backend, model)
        acc = self._acc.get(key)
        if acc is None:
            acc = self._acc[key] = _Acc()
        return acc

    def add(self, completion: Completion, cost: Decimal | None = None) -> None:
        """Count one successful call. `cost` (exact) wins over completion.cost_usd when given."""
        exact = cost if cost is not None else Decimal(repr(completion.cost_usd))
        with self._lock:
            acc = self._get(completion.backend, completion.model)
            acc.calls += 1
            acc.retries += completion.retries
            acc.prompt += completion.prompt_tokens
            acc.completion += completion.completion_tokens
            acc.cost += exact
            acc.latency += completion.latency_s

    def add_failure(self, backend: str, model: str, retries: int = 0) -> None:
        """Count one call that failed for good (after its retries)."""
        with self._lock:
            acc = self._get(backend, model)
            acc.failures += 1
            acc.retries += retries

    @property
    def cost(self) -> Decimal:
        """Exact dollars spent so far."""
        with self._lock:
            return sum((a.cost for a in self._acc.values()), Decimal(0))

    def snapshot(self) -> UsageSnapshot:
        with self._lock:
            items = sorted(self._acc.items())
            lines = [
                UsageLine(
                    backend=b,
                    model=m,
                    calls=a.calls,
                    failures=a.failures,
                    retries=a.retries,
                    prompt_tokens=a.prompt,
                    completion_tokens=a.completion,
                    cost_usd=float(a.cost),
                    cost_usd_exact=str(a.cost),
                    latency_s=a.latency,
                )
                for (b, m), a in items
            ]
            total = sum((a.cost for _, a in items), Decimal(0))
        return UsageSnapshot(
            calls=sum(x.calls for x in lines),
            failures=sum(x.failures for x in lines),
            retries=sum(x.retries for x in lines),
            prompt_tokens=sum(x.prompt_tokens for x in lines),
            completion_tokens=sum(x.completion_tokens for x in lines),
            cost_usd=float(total),
            cost_usd_exact=str(total),
            latency_s=sum(x.latency_s for x in lines),
            by_backend=lines,
        )
