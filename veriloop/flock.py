"""Waiting for an exclusive flock with a deadline (the knowledge store and the corpus cache use it)."""

from __future__ import annotations

import fcntl
import time


def wait_exclusive(fd: int, wait_s: float, poll_s: float) -> bool:
    """Take an exclusive flock on `fd`, retrying every `poll_s` seconds; False if `wait_s` ran out."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll_s)
