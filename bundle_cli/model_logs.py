"""What the model reports while it runs: its `logging` records on stderr, and a spinner while a
slow load runs on a terminal. Used by `bundle predict`, `bundle test` and the child of an isolated
run: a module of its own, in neither the CLI nor the runtime package, whose imports the child and
`--isolated` avoid."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Iterator
from typing import IO

LEVELS = ("debug", "info", "warning", "error")
SPIN_AFTER = 1.0  # seconds: a load quicker than this shows nothing


def level_of(name: str | None, *, quiet: bool) -> int:
    """--log-level NAME (default info; --quiet: warning) as a logging level."""
    from bundle_cli.errors import UsageError

    if name is None:
        return logging.WARNING if quiet else logging.INFO
    if name.lower() not in LEVELS:
        raise UsageError(f"--log-level {name}: not a level; use one of {', '.join(LEVELS)}")
    return int(getattr(logging, name.upper()))


@contextlib.contextmanager
def model_logging(level: int) -> Iterator[None]:
    """Records of the model's loggers at `level` and above go to stderr as `LEVEL name: text`,
    unless the model configured logging itself (then its handlers decide)."""
    root = logging.getLogger()
    if root.handlers:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)  # bound now: the masked stderr, when masking
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    saved = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)
        with contextlib.suppress(Exception):
            handler.flush()


@contextlib.contextmanager
def spinner(label: str, stream: IO[str]) -> Iterator[None]:
    """`⠋ label` on `stream` while the block runs longer than SPIN_AFTER, on a terminal only."""
    if not stream.isatty():
        yield
        return
    done = threading.Event()

    def spin() -> None:
        if done.wait(SPIN_AFTER):
            return
        frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
        count = 0
        while not done.wait(0.1):
            stream.write(f"\r{frames[count % len(frames)]} {label}")
            stream.flush()
            count += 1
        stream.write("\r\x1b[K")
        stream.flush()

    thread = threading.Thread(target=spin, name="bundle-spinner", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
