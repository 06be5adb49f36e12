"""Escalation: after enough failures on the primary backend, route the next call to a stronger one."""

from __future__ import annotations

import threading
from collections import Counter

from veriloop.config import Settings

AGENT_NAMES = ("planner", "architect", "generator", "verifier", "evaluator")


def pick_backend(primary: str, stronger: str | None, failures: int, threshold: int) -> str:
    """The backend for the next call: `stronger` once `failures` reached `threshold`, else `primary`."""
    if stronger and threshold >= 1 and failures >= threshold:
        return stronger
    return primary


class Escalator:
    """Counts failures per key (e.g. a module being generated) and picks the backend for its next call."""

    def __init__(self, primary: str, stronger: str | None = None, threshold: int = 2) -> None:
        if threshold < 1:
            raise ValueError("threshold must be >= 1")
        self.primary = primary
        self.stronger = stronger
        self.threshold = threshold
        self._failures: Counter[str] = Counter()
        self._lock = threading.Lock()

    @classmethod
    def for_agent(cls, settings: Settings, agent: str, default: str | None = None) -> Escalator:
        """From [agents]: the agent's backend (or the default backend), escalate_to, escalate_after."""
        if agent not in AGENT_NAMES:
            raise ValueError(f"unknown agent {agent!r}; expected one of {', '.join(AGENT_NAMES)}")
        cfg = settings.agents
        primary = getattr(cfg, agent) or default or settings.default_backend
        return cls(primary, cfg.escalate_to, cfg.escalate_after)

    def failures(self, key: str = "") -> int:
        with self._lock:
            return self._failures[key]

    def record_failure(self, key: str = "") -> None:
        with self._lock:
            self._failures[key] += 1

    def record_success(self, key: str = "") -> None:
        """A success resets the count: the next call goes back to the primary backend."""
        with self._lock:
            self._failures.pop(key, None)

    def choose(self, key: str = "") -> str:
        return pick_backend(self.primary, self.stronger, self.failures(key), self.threshold)

    def escalated(self, key: str = "") -> bool:
        return self.choose(key) != self.primary
