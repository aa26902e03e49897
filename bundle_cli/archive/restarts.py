"""Restart points: places in the compressed stream where inflating may start afresh, so that
checking an archive inflates it on every core.

A deflate stream is one chain: a decoder must have read everything before a byte to decode it.
The writer therefore cuts the tar stream into segments of about RESTART bytes: the first piece
at or after every RESTART bytes is encoded without the 32 KiB before it as dictionary (the
pieces already end byte-aligned, on a sync flush), so that a decoder started there with an
empty window decodes what one running from the start would. The manifest's `restarts` field
lists, for each of those pieces and for the end of the data, its offset in the tar stream and in
the archive file. It is the same single deflate stream either way: gzip, tar and older versions
of bundle read it from the start and never look at the field.

Its length is fixed before any file is read (the manifest is patched in place once everything is
written): a hex string of `slots` entries of two 16-digit offsets each, unused entries all
zeros. A reader trusts none of it: archive/segments.py checks that each segment ends where a
decoder from the start would be at a block boundary, so a wrong entry is a corrupt archive,
never other content.
"""

from __future__ import annotations

import re
from itertools import pairwise

RESTART = 4 * 1024 * 1024  # tar-stream bytes per segment: 4 MiB in memory per inflating thread
MIN_STREAM = 2 * RESTART  # smaller archives have no field: one thread inflates them as fast
_DIGITS = 16
_ENTRY = 2 * _DIGITS
_HEX = re.compile(r"^[0-9a-f]*$")
_BLANK = "0" * _ENTRY

Point = tuple[int, int]  # (offset in the tar stream, offset in the archive file)


def slots(stream_bound: int) -> int | None:
    """Entries to reserve for a tar stream of at most `stream_bound` bytes (None: no field).

    Segments start at least RESTART bytes apart, so there are at most stream_bound // RESTART
    of them, and one entry marks the end."""
    if stream_bound < MIN_STREAM:
        return None
    return stream_bound // RESTART + 2


def stream_bound(total_size: int, names: list[str], head_size: int) -> int:
    """An upper bound on the tar stream's length: each member's data, padding and headers
    (a pax header carries a long name twice at most), the manifest and the end blocks."""
    per_member = sum(3 * 512 + 511 + 2 * len(name.encode()) for name in names)
    return total_size + per_member + head_size + 2 * 512 + 10 * 1024


def blank(count: int) -> str:
    return _BLANK * count


def encode(points: list[Point], count: int) -> str:
    """The field's text: `points` then blank entries, `count` entries in all."""
    if len(points) > count:
        raise AssertionError("more restart points than reserved entries")
    text = "".join(f"{raw:0{_DIGITS}x}{comp:0{_DIGITS}x}" for raw, comp in points)
    return text + blank(count - len(points))


def parse(text: object) -> list[Point] | None:
    """The points a manifest lists (the last one being the end of the data), or None when the
    field is malformed. Offsets must grow strictly; blank entries may only follow the points."""
    if not isinstance(text, str) or len(text) % _ENTRY or not _HEX.match(text):
        return None
    entries = [text[i : i + _ENTRY] for i in range(0, len(text), _ENTRY)]
    used = [e for e in entries if e != _BLANK]
    if not used or entries[: len(used)] != used:
        return None
    points = [(int(e[:_DIGITS], 16), int(e[_DIGITS:], 16)) for e in used]
    grows = all(a[0] < b[0] and a[1] < b[1] for a, b in pairwise(points))
    return points if grows and points[0][0] > 0 else None
