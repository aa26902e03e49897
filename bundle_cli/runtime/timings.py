"""Seconds per stage of a loaded bundle, for `bundle predict --profile`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

STAGES = ("validate", "import", "init", "load", "preprocess", "predict", "postprocess", "serialise")


class Timings:
    """Seconds spent per stage and how many calls, for --profile."""

    def __init__(self) -> None:
        self.total = dict.fromkeys(STAGES, 0.0)
        self.calls = dict.fromkeys(STAGES, 0)

    def add(self, stage: str, seconds: float, calls: int = 1) -> None:
        self.total[stage] += seconds
        self.calls[stage] += calls

    @contextmanager
    def measure(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - start)
