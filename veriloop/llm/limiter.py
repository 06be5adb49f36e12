"""A concurrency limit for async callers that holds across event loops and threads (FIFO)."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from types import TracebackType


class Limiter:
    """At most `limit` holders at once, whatever loop or thread they await from.

    asyncio.Semaphore binds to one event loop; a backend may be used from several (e.g. one
    asyncio.run per CLI step, or worker threads), so the count lives under a threading lock and
    waiters are woken on their own loop.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be >= 1")
        self.limit = limit
        self._used = 0
        self._lock = threading.Lock()
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()

    @property
    def in_use(self) -> int:
        with self._lock:
            return self._used

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._used < self.limit and not self._waiters:
                self._used += 1
                return
            fut: asyncio.Future[None] = loop.create_future()
            entry = (loop, fut)
            self._waiters.append(entry)
        try:
            await fut
        except asyncio.CancelledError:
            with self._lock:
                if entry in self._waiters:
                    self._waiters.remove(entry)
                    raise
            # The slot was already handed to us: pass it on (a pending grant passes it on itself).
            if fut.done() and not fut.cancelled():
                self.release()
            raise

    def release(self) -> None:
        """Give the slot to the oldest waiter, or free it."""
        with self._lock:
            while self._waiters:
                loop, fut = self._waiters.popleft()
                if loop.is_closed():
                    continue
                loop.call_soon_threadsafe(self._grant, fut)
                return
            self._used -= 1

    def _grant(self, fut: asyncio.Future[None]) -> None:
        if fut.cancelled():
            self.release()
        else:
            fut.set_result(None)

    async def __aenter__(self) -> Limiter:
        await self.acquire()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


_shared: dict[tuple[str, ...], Limiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(key: tuple[str, ...], limit: int) -> Limiter:
    """The one Limiter of this process for `key` + `limit` (e.g. a backend's name, URL and model).

    Two backend objects built from the same config share one bound, so creating a backend per
    agent or per sample never multiplies the requests in flight.
    """
    full = (*key, str(limit))
    with _shared_lock:
        found = _shared.get(full)
        if found is None:
            found = _shared[full] = Limiter(limit)
        return found
