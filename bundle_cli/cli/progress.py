"""A one-line progress bar on stderr, shown only for big jobs on a terminal."""

from __future__ import annotations

import sys
import time

MIB = 1024 * 1024
SHOW_ABOVE = 100 * MIB


def human(size: float) -> str:
    """1536 -> "1.5 KiB"."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover - loop always returns


class ProgressBar:
    """Callable as progress(done, total); draws at most ten times a second."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.start = time.monotonic()
        self.last = 0.0
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        if total <= SHOW_ABOVE or not sys.stderr.isatty():
            return
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        width = 30
        filled = int(width * done / total)
        rate = done / max(now - self.start, 1e-6)
        bar = "#" * filled + "." * (width - filled)
        line = f"{self.label} [{bar}] {100 * done // total:3d}% {human(done)}/{human(total)} {human(rate)}/s"
        sys.stderr.write("\r" + line)
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
