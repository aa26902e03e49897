"""--timeout: a time budget per request, spent only while the model's code runs.

How the budget is enforced depends on where the model's code runs, and each way raises
DeadlineExceeded inside that code, so the traceback shows where the model was:

- sync code on the main thread (`bundle predict`): SIGALRM, as before. The alarm interrupts
  Python code, and also a blocking call that the signal interrupts (`time.sleep`, most I/O).
- sync code on any other thread (a server's worker, `asyncio.to_thread`, a thread pool): a
  watchdog thread schedules the exception into the running thread with
  `PyThreadState_SetAsyncExc`. Limit: it is raised at the thread's next Python instruction, so
  a call that blocks in C (`time.sleep(60)`, a lock, one long numpy or torch call) is
  interrupted only when it returns.
- async hooks (coroutines, async generators) on an event loop: `asyncio.timeout`, which cancels
  the hook at its current `await`. Limit: a coroutine that blocks the loop without awaiting is
  interrupted only at its next `await`, except where the sync API runs the bundle's loop on
  the main thread (`bundle predict`): there SIGALRM follows 0.1 s later as a backstop.

The budget is one per request: time spent between hooks, writing a streamed chunk or waiting
for a free predict slot (`runtime.predict_concurrency`) does not count.
"""

from __future__ import annotations

import heapq
import itertools
import signal
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from bundle_cli.errors import UsageError

_HAS_ALARM = hasattr(signal, "SIGALRM")


class DeadlineExceeded(BaseException):
    """Raised inside the model's code when the budget is spent."""


class Deadline:
    """The remaining budget of one request; `with deadline.running():` around sync model code,
    `async with deadline.arunning():` around awaiting an async hook."""

    def __init__(self, seconds: float | None) -> None:
        if seconds is not None and not seconds > 0:
            raise UsageError(f"--timeout must be more than 0 seconds, not {seconds:g}")
        self.seconds = seconds
        self.remaining = seconds

    @contextmanager
    def running(self) -> Iterator[None]:
        if self.remaining is None:
            yield
            return
        if self.remaining <= 0:
            raise DeadlineExceeded()
        start = time.perf_counter()
        try:
            if _HAS_ALARM and threading.current_thread() is threading.main_thread():
                with _alarm(self.remaining):
                    yield
            else:
                with _WATCHDOG.armed(self.remaining):
                    yield
        finally:
            self.remaining -= time.perf_counter() - start

    @asynccontextmanager
    async def arunning(self) -> AsyncIterator[None]:
        if self.remaining is None:
            yield
            return
        if self.remaining <= 0:
            raise DeadlineExceeded()
        import asyncio

        start = time.perf_counter()
        budget = asyncio.timeout(self.remaining)
        try:
            async with budget:
                yield
        except TimeoutError as exc:
            if not budget.expired():  # the model's own TimeoutError
                raise
            # The frames the cancellation went through: where the model was awaiting.
            cancelled = exc.__context__ if exc.__context__ is not None else exc
            raise DeadlineExceeded().with_traceback(cancelled.__traceback__) from None
        finally:
            self.remaining -= time.perf_counter() - start

    @contextmanager
    def backstop(self) -> Iterator[None]:
        """SIGALRM shortly after the budget, on the main thread only, without spending it: for
        an event loop run there whose hook blocks it (asyncio.timeout cannot fire then)."""
        main = threading.current_thread() is threading.main_thread()
        if self.remaining is None or not (_HAS_ALARM and main):
            yield
            return
        with _alarm(max(self.remaining, 0) + BACKSTOP):
            yield


BACKSTOP = 0.1  # seconds after asyncio.timeout was due


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _on_alarm(signum: int, frame: object) -> None:
    raise DeadlineExceeded()


class _Watchdog:
    """One daemon thread that raises DeadlineExceeded in threads whose budget ran out."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Alarm]] = []
        self._count = itertools.count()
        self._thread: threading.Thread | None = None

    @contextmanager
    def armed(self, seconds: float) -> Iterator[None]:
        alarm = _Alarm(threading.get_ident())
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + seconds, next(self._count), alarm))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, name="bundle-deadline", daemon=True
                )
                self._thread.start()
            self._cond.notify()
        try:
            yield
        finally:
            alarm.disarm()

    def _watch(self) -> None:
        while True:
            with self._cond:
                while self._heap and not self._heap[0][2].armed:
                    heapq.heappop(self._heap)  # finished in time: forget it
                if not self._heap:
                    self._cond.wait()
                    continue
                due = self._heap[0][0] - time.monotonic()
                if due > 0:
                    self._cond.wait(due)
                    continue
                alarm = heapq.heappop(self._heap)[2]
            alarm.fire()


class _Alarm:
    def __init__(self, thread_id: int) -> None:
        self.thread_id = thread_id
        self.armed = True
        self.fired = False
        self._lock = threading.Lock()

    def fire(self) -> None:
        with self._lock:
            if self.armed:
                self.fired = True
                _async_raise(self.thread_id, DeadlineExceeded)

    def disarm(self) -> None:
        with self._lock:
            self.armed = False
            if self.fired:  # fired as the code finished: take back what was not raised yet
                _async_raise(self.thread_id, None)


def _async_raise(thread_id: int, exc: Any) -> None:
    import ctypes

    # None clears an exception set before and not raised yet (ctypes passes it as NULL).
    given = None if exc is None else ctypes.py_object(exc)
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), given)


_WATCHDOG = _Watchdog()
