"""A connection pool that serves the requests waiting for a connection in the order they came.

SQLAlchemy's asyncio pool keeps its idle connections in an ``asyncio.Queue`` and takes one
without waiting whenever one is there (``AsyncAdaptedQueue.get``). Under load, when every
connection is busy, that lets a request that has just arrived take the connection another one
released for the request that has waited longest; the robbed waiter goes back to the end of the
line (``asyncio.Queue.get`` in Python 3.11) and can lose again, and again. Measured at 64
connections against a pool of 20 (bench/RESULTS.md, issue 16): the median answer came in
20 ms, but a few requests waited more than 5 seconds, and the smaller the pool, the more.

Here a released connection goes straight to the longest-waiting request, and a new request
queues behind the waiting ones instead of taking an idle connection ahead of them. The rest of
the pool (sizes, overflow, recycling, the checkout check) is SQLAlchemy's own.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty


class FairQueue(AsyncAdaptedQueue[Any]):
    """``AsyncAdaptedQueue`` without overtaking: waiters are served first come, first served."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._waiters: deque[asyncio.Future[Any]] = deque()

    def _waiting(self) -> bool:
        while self._waiters and self._waiters[0].done():  # timed out or cancelled
            self._waiters.popleft()
        return bool(self._waiters)

    def put_nowait(self, item: Any) -> None:
        # Handed over, never queued, while someone waits: nobody can overtake the waiter.
        if self._waiting():
            self._waiters.popleft().set_result(item)
            return
        super().put_nowait(item)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)  # the pool never holds more than its size: putting never waits

    def get_nowait(self) -> Any:
        if self._waiting():
            raise Empty()  # others came first
        return super().get_nowait()

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if not self._waiting():
            try:
                return super().get_nowait()
            except Empty:
                if not block:
                    raise
        elif not block:
            raise Empty()
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await_(asyncio.wait_for(waiter, timeout))
        except TimeoutError as error:
            raise Empty() from error
        except BaseException:
            # Cancelled (the client went away) after a connection was handed over: give it to
            # the next waiter or back to the pool, rather than lose it.
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())
            raise


class FairAsyncPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio pool with :class:`FairQueue` (its ``_queue_class``)."""

    _queue_class = FairQueue
