"""The rich live view of a design run: current agent, iteration, last verdict, elapsed time."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.prompt import Prompt
from rich.table import Table

from veriloop.runstore import RunRecord


class LiveView:
    """A context manager; `update` is the run's progress callback. Disabled: does nothing."""

    def __init__(self, console: Console, enabled: bool = True) -> None:
        self.console = console
        self.enabled = enabled
        self.agent = "starting"
        self.iteration = 0
        self.message = ""
        self.verdict = "none yet"
        self.run_id = ""
        self.start = time.monotonic()
        self._live: Live | None = None

    def _table(self) -> Table:
        t = Table.grid(padding=(0, 2))
        t.add_row("[bold]veriloop design[/]", f"run {self.run_id}" if self.run_id else "")
        t.add_row("agent", f"[cyan]{escape(self.agent)}[/]  {escape(self.message)}")
        t.add_row("iteration", str(self.iteration))
        t.add_row("last verdict", self.verdict)
        t.add_row("elapsed", f"{time.monotonic() - self.start:.0f}s")
        return t

    def __enter__(self) -> LiveView:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.__exit__(None, None, None)
            self._live = None

    def started(self, record: RunRecord) -> None:
        """The run exists (inputs were valid): only now does the live display appear."""
        self.run_id = record.id
        self.start = time.monotonic()
        if self.enabled and self._live is None and self.console.is_terminal:
            self._live = Live(self._table(), console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        elif self.enabled and not self.console.is_terminal:
            self.console.print(f"veriloop design: run {record.id}", highlight=False)
        self._refresh()

    def update(self, agent: str, iteration: int, message: str) -> None:
        self.agent, self.iteration, self.message = agent, iteration, message
        if agent == "verifier" and (message.startswith("PASS") or message.startswith("FAIL")):
            colour = "green" if message.startswith("PASS") else "red"
            self.verdict = f"[{colour}]{message}[/] (iteration {iteration})"
        if self.enabled and self._live is None:  # not a terminal: one plain line per step
            self.console.print(f"[{iteration}] {agent}: {message}", highlight=False, markup=False)
        self._refresh()

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._table())

    def ask(self, payload: dict[str, Any], asker: Callable[[dict[str, Any], Console], str]) -> str:
        """Pause the live display while a human answers."""
        live = self._live
        if live is not None:
            live.stop()
        try:
            return asker(payload, self.console)
        finally:
            if live is not None:
                live.start()


def ask_human(payload: dict[str, Any], console: Console) -> str:
    """Show what the graph waits on and read one answer from the terminal."""
    kind = payload.get("kind", "question")
    console.rule(f"[bold]human input: {kind}")
    for key in ("plan", "verdict", "ppa", "evidence"):
        if payload.get(key):
            value = payload[key]
            console.print(
                json.dumps(value, indent=1) if not isinstance(value, str) else value,
                highlight=False,
                markup=False,
            )
    return Prompt.ask(str(payload.get("question", "Continue?")), console=console, default="yes")
