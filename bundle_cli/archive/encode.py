"""Deflate encoding of the tar stream, piece by piece, so that it runs near disk speed.

The stream is cut into pieces of about 1 MiB. Each piece is encoded on its own, in one of three
ways chosen per file by probing samples of it:
- STORE: stored deflate blocks, for data that does not compress (random-looking weights,
  images, already compressed files): a copy, no compressor at all;
- FAST: ISA-L's level 1, for data with byte-level redundancy but no long repeats (float weights:
  about the ratio of `gzip -6`, many times faster);
- TEXT: zlib level 6, what `gzip` does, for code, text and anything with real repeats.
Every compressed piece ends with a sync flush, so pieces concatenate into one valid deflate
stream and can be encoded in parallel; each is primed with the 32 KiB that precede it, so
back-references across piece boundaries stay as good as in one long stream.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from enum import Enum
from typing import Any

from isal import isal_zlib

from bundle_cli.archive.gzipfmt import crc32, stored_blocks

PIECE_SIZE = 1024 * 1024
WINDOW = 32 * 1024
PROBE_MIN = 64 * 1024  # smaller files join the TEXT stream unprobed
_PROBE_SAMPLE = 64 * 1024
_STORE_ABOVE = 0.99  # keep compressing only when it saves at least 1 %
_TEXT_GAIN = 0.99  # zlib must make the output 1 % smaller than ISA-L level 1 to be worth its time


class Mode(Enum):
    STORE = "store"
    FAST = "fast"
    TEXT = "text"


@dataclass
class Encoded:
    """One encoded piece and the checksums needed to stitch it into the stream."""

    parts: list[bytes | memoryview]
    raw_crc: int
    raw_len: int
    out_crc: int
    out_len: int


def encode(mode: Mode, data: bytes, zdict: bytes) -> Encoded:
    """Encode one piece; the output starts and ends byte-aligned and is never final."""
    parts: list[bytes | memoryview]
    if mode is Mode.STORE:
        parts = stored_blocks(data)
    elif mode is Mode.FAST:
        c = (
            isal_zlib.compressobj(1, isal_zlib.DEFLATED, -15, zdict=zdict)
            if zdict
            else (isal_zlib.compressobj(1, isal_zlib.DEFLATED, -15))
        )
        parts = [c.compress(data) + c.flush(isal_zlib.Z_SYNC_FLUSH)]
    else:
        z = (
            zlib.compressobj(6, zlib.DEFLATED, -15, 9, zdict=zdict)
            if zdict
            else (zlib.compressobj(6, zlib.DEFLATED, -15, 9))
        )
        parts = [z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH)]
    out_crc, out_len = 0, 0
    for part in parts:
        out_crc = crc32(part, out_crc)
        out_len += len(part)
    return Encoded(parts, crc32(data), len(data), out_crc, out_len)


def probe(path: str, size: int) -> Mode:
    """How to encode a file, judged from up to four samples spread over it."""
    if size < PROBE_MIN:
        return Mode.TEXT
    fd = os.open(path, os.O_RDONLY)
    try:
        last = max(size - _PROBE_SAMPLE, 0)
        offsets = sorted({0, last // 3, 2 * last // 3, last})
        sample = b"".join(os.pread(fd, _PROBE_SAMPLE, off) for off in offsets)
    finally:
        os.close(fd)
    if not sample:
        return Mode.TEXT
    fast = _ratio(isal_zlib.compressobj(1, isal_zlib.DEFLATED, -15), sample)
    text = _ratio(zlib.compressobj(6, zlib.DEFLATED, -15, 9), sample)
    if min(fast, text) > _STORE_ABOVE:
        return Mode.STORE
    return Mode.TEXT if text < fast * _TEXT_GAIN else Mode.FAST


def _ratio(compressor: Any, sample: bytes) -> float:
    return len(compressor.compress(sample) + compressor.flush()) / len(sample)
