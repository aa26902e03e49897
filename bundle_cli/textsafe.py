"""Untrusted text made safe to show on a terminal.

Names and values from archives, configs and requests can hold terminal control sequences
(`ESC]0;title BEL`, `ESC[2J`) or bidirectional overrides that make text read differently than it
is. Everything the tool writes for a person goes through `printable`, which shows each such
character as a visible escape instead (`\\x1b`, `\\u202e`).
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, line and paragraph separators, bidi embeddings, overrides, isolates.
# Every one of them is in a category str.isprintable() refuses (Cc, Cf, Zl, Zp), so text it
# accepts needs no escapes, and the patterns are compiled only for text that may (most of what
# the tool prints needs none: compiling both costs a fast command ~0.5 ms).
_UNSAFE = "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
_UNSAFE_KEEP_LINES = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str, *, keep_lines: bool = False) -> str:
    """`text` with every control character shown as an escape; `keep_lines` keeps newlines and tabs."""
    if text.isprintable():
        return text
    return re.sub(_UNSAFE_KEEP_LINES if keep_lines else _UNSAFE, _escape, text)
