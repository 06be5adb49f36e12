"""Runaway replies: stop a streamed reply that has stopped making progress, long before its cap.

A small model at temperature 0 can fall into a loop (`#1 clk = 1;` / `#1 clk = 0;` for 9,399
tokens, or the same eight-line check with only its number changing). Streaming lets the client
see that and hang up::

    watch = RunawayWatch(cap=2048)
    for piece in stream:
        reason = watch.feed(piece)
        if reason:                     # "stopped: the reply repeated the same 2 lines 12 times"
            ...                        # close the stream; report it like a reply cut at max_tokens

Signs, checked each time a line is complete (blank lines and indentation are ignored):

- the same block of 1..MAX_BLOCK lines back to back at the end of the reply, at least
  REPEATS times and SPAN lines in all;
- the last WINDOW lines hold at most FEW different lines: the reply cycles through a handful of
  lines, only some of them changing (the same eight-line check with `expected = 2;`, then 3...);
- more pieces received than the reply's cap (a server that ignores max_tokens).

Numbers are not ignored: a lookup table or a list of test vectors is repetitive in shape but says
something new on every line. The thresholds were chosen on the issue 14 cassettes (each looping
testbench reply stops, three of four within their first 40 %) and checked against the 1,400
Verilog files on the machine (yosys cell libraries, iverilog examples), none of which trips them.
"""

from __future__ import annotations

import math

MAX_BLOCK = 20
REPEATS, SPAN = 8, 24
WINDOW, FEW = 80, 20


def _repeated_block(lines: list[str]) -> tuple[int, int] | None:
    """(block length, repeats) when the end of `lines` is one block repeated back to back."""
    n = len(lines)
    for k in range(1, MAX_BLOCK + 1):
        need = max(REPEATS, math.ceil(SPAN / k))
        if n < need * k:
            continue
        tail = lines[n - k :]
        if all(lines[n - (r + 1) * k : n - r * k] == tail for r in range(1, need)):
            return k, need
    return None


def _lines_word(k: int) -> str:
    return "line" if k == 1 else f"{k} lines"


class RunawayWatch:
    """Feed it the pieces of one streamed reply; it says when (and why) the reply should stop."""

    def __init__(self, cap: int | None = None) -> None:
        self.cap = cap
        self.pieces = 0
        self.chars = 0
        self._partial = ""
        self._lines: list[str] = []
        self.reason: str | None = None

    def feed(self, piece: str) -> str | None:
        """Take one piece of text (one streamed chunk); the stop reason once there is one."""
        if self.reason is not None or not piece:
            return self.reason
        self.pieces += 1
        self.chars += len(piece)
        text = self._partial + piece
        *done, self._partial = text.split("\n")
        for raw in done:
            line = raw.strip()
            if not line:
                continue
            self._lines.append(line)
            self.reason = self._check()
            if self.reason is not None:
                return self.reason
        if self.cap is not None and self.pieces > self.cap:
            self.reason = (
                f"stopped: the reply passed its max_tokens cap ({self.cap}) without ending "
                "(the server did not stop it)"
            )
        return self.reason

    def _check(self) -> str | None:
        block = _repeated_block(self._lines)
        if block is not None:
            k, r = block
            return f"stopped: the reply repeated the same {_lines_word(k)} {r} times"
        if len(self._lines) >= WINDOW:
            distinct = len(set(self._lines[-WINDOW:]))
            if distinct <= FEW:
                return f"stopped: the last {WINDOW} lines of the reply hold only {distinct} different lines"
        return None


def runaway_reason(text: str, cap: int | None = None) -> str | None:
    """The stop reason for a whole reply, as if it had been streamed line by line (None: fine)."""
    watch = RunawayWatch(cap)
    for line in text.splitlines(keepends=True):
        if watch.feed(line):
            break
    return watch.reason
