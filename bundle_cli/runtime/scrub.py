"""Masking secret values in any text before it is shown.

A value is masked in every form the tool itself may print it in: as it is, JSON-escaped (with
and without `\\uXXXX` escapes, as `bundle predict` and `--json` write strings), inside a Python
repr (tracebacks, messages) and XML-escaped (JUnit reports). `wrap` masks a whole stream rather
than each write: a value split across writes, across flushes or across lines is still masked,
because the end of what was written is held back while it could be the start of a value.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable
from typing import Any, TextIO

MIN_SCRUBBED = 4  # shorter values would blank out ordinary text
MASK = "***"


def _forms(value: str) -> set[str]:
    """The value as it is and as a repr, each also JSON-escaped (a repr in a JSON output)."""
    plain = {value, repr(value)[1:-1]}
    escaped = {json.dumps(v, ensure_ascii=ascii)[1:-1] for v in plain for ascii in (True, False)}
    return plain | escaped | {_xml(value)}


def _xml(value: str) -> str:
    # By hand: xml.sax.saxutils imports urllib.request, too slow for every predict.
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        value = value.replace(char, entity)
    return value


class Scrubber:
    """Replaces secret values (in each printed form) in text with `***`."""

    def __init__(self, values: Iterable[str]) -> None:
        secrets = {v for v in values if len(v) >= MIN_SCRUBBED}
        forms = {form for v in secrets for form in _forms(v)}
        self.values = sorted(forms, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self.values)

    def __call__(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def held(self, text: str) -> int:
        """How many characters at the end of `text` could begin a secret value."""
        longest = 0
        for value in self.values:
            for size in range(min(len(value) - 1, len(text)), longest, -1):
                if text.endswith(value[:size]):
                    longest = size
                    break
        return longest

    def wrap(self, stream: TextIO) -> TextIO:
        """A writer to `stream` that masks everything written through it (text or bytes)."""
        return MaskingStream(stream, self)  # type: ignore[return-value]


class MaskingStream:
    """A text stream that writes to `target` with secret values masked; `close_mask()` writes
    what it still holds back. `.buffer` takes bytes (decoded as UTF-8) through the same mask."""

    def __init__(self, target: TextIO, scrub: Scrubber) -> None:
        self._target, self._scrub, self._pending = target, scrub, ""
        self.buffer = _MaskingBuffer(self)

    def write(self, text: str) -> int:
        self._pending += text
        clean = self._scrub(self._pending)
        keep = self._scrub.held(clean)
        ready, self._pending = clean[: len(clean) - keep], clean[len(clean) - keep :]
        if ready:
            self._target.write(ready)
        return len(text)

    def flush(self) -> None:
        self._target.flush()  # what could begin a value stays held back until close_mask

    def close_mask(self) -> None:
        if self._pending:
            self._target.write(self._pending)
            self._pending = ""
        self._target.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


class _MaskingBuffer:
    def __init__(self, text: MaskingStream) -> None:
        self._text = text
        self._decode = codecs.getincrementaldecoder("utf-8")("replace").decode

    def write(self, data: bytes) -> int:
        self._text.write(self._decode(bytes(data)))
        return len(data)

    def flush(self) -> None:
        self._text.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._text, name)
