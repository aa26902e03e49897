"""Sizes as people write them (`500Mi`, `10Gi`, `2G`, `123`), for options and settings."""

from __future__ import annotations

from bundle_cli.errors import UsageError

_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4}
_UNITS |= {"ki": 1024, "mi": 1024**2, "gi": 1024**3, "ti": 1024**4}
_MAX_DIGITS = 20  # more than any disk; int() of thousands of digits is slow, then refused


def parse_size(text: str, what: str) -> int:
    """The number of bytes `text` stands for; `what` names the option or variable in the error."""
    number = text.rstrip("KMGTkmgtiB")
    unit = text[len(number) :].removesuffix("B").lower()
    ok = number.isascii() and number.isdigit() and len(number) <= _MAX_DIGITS
    if not ok or unit not in _UNITS:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise UsageError(f"{what} {shown!r} is not a size; use e.g. 500Mi or 10Gi")
    return int(number) * _UNITS[unit]
