"""--timeout: a time budget per request, enforced with SIGALRM while the model's code runs.

The alarm raises inside the model's code, so the traceback shows where it was. The budget only
runs while model code runs: time spent writing a streamed chunk does not count. A computation
that never returns to Python (one long C call) is interrupted when it returns.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bundle_cli.errors import UsageError


class DeadlineExceeded(BaseException):
    """Raised inside the model's code when the budget is spent."""


class Deadline:
    """The remaining budget of one request; `with deadline.running():` around model code."""

    def __init__(self, seconds: float | None) -> None:
        if seconds is not None and seconds <= 0:
            raise UsageError(f"--timeout must be more than 0 seconds, not {seconds:g}")
        if seconds is not None and (
            not hasattr(signal, "SIGALRM")
            or threading.current_thread() is not threading.main_thread()
        ):
            raise UsageError("a timeout works only in the main thread, on POSIX (it uses SIGALRM)")
        self.seconds = seconds
        self.remaining = seconds

    @contextmanager
    def running(self) -> Iterator[None]:
        if self.remaining is None:
            yield
            return
        if self.remaining <= 0:
            raise DeadlineExceeded()
        previous = signal.signal(signal.SIGALRM, _alarm)
        start = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, self.remaining)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            self.remaining -= time.perf_counter() - start


def _alarm(signum: int, frame: object) -> None:
    raise DeadlineExceeded()
