"""Worker threads for the model's sync code, handed jobs from the event loop.

Not concurrent.futures: its executor costs about four times as much per job here (a lock and a
condition per future, a chained asyncio future), which at thousands of requests a second is
most of what a request costs. Jobs go through one C-level SimpleQueue, results come back with
one `call_soon_threadsafe` each. The threads are daemons: a second Ctrl-C exits at once even
while model code still runs in one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any

NAME = "bundle-serve"


class Workers:
    """`size` threads (grown with `resize`) running submitted calls in order of submission."""

    def __init__(self, size: int) -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self.resize(size)

    def resize(self, size: int) -> None:
        while len(self._threads) < size:
            thread = threading.Thread(
                target=self._work, name=f"{NAME}-{len(self._threads)}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Run fn(*args) in a worker thread; its result or exception in the returned future."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._jobs.put((loop, future, fn, args))
        return future

    def busy(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def close(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, fn, args = job
            try:
                result = fn(*args)
            except BaseException as exc:
                _deliver(loop, future, None, exc)
            else:
                _deliver(loop, future, result, None)


def _deliver(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], result: Any, exc: Any
) -> None:
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for the result
        loop.call_soon_threadsafe(_settle, future, result, exc)


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.cancelled():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
