"""The benchmark harness: suites, agent configurations, a resumable runner, pass@k metrics and reports."""

from veriloop.bench.metrics import pass_at_k
from veriloop.bench.spec import RunSpec

__all__ = ["RunSpec", "pass_at_k"]
