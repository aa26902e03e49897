"""Masking secret values in any text before it is shown."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TextIO

MIN_SCRUBBED = 4  # shorter values would blank out ordinary text


class Scrubber:
    """Replaces secret values in text with `***`."""

    def __init__(self, values: Iterable[str]) -> None:
        self.values = sorted({v for v in values if len(v) >= MIN_SCRUBBED}, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self.values)

    def __call__(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, "***")
        return text

    def wrap(self, stream: TextIO) -> TextIO:
        """A line-buffered writer to `stream` that scrubs each line first."""
        return _ScrubbingWriter(stream, self)  # type: ignore[return-value]


class _ScrubbingWriter:
    def __init__(self, target: TextIO, scrub: Scrubber) -> None:
        self._target, self._scrub, self._pending = target, scrub, ""

    def write(self, text: str) -> int:
        head, sep, rest = (self._pending + text).rpartition("\n")
        self._pending = rest
        if sep:
            self._target.write(self._scrub(head + sep))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._target.write(self._scrub(self._pending))
            self._pending = ""
        self._target.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)
