"""Reading the compressed stream of a bundle archive, checking every framing byte.

Only the format `bundle package` writes is accepted: the fixed gzip header with its `BN`
checksum, one deflate stream, the gzip trailer and nothing after it. Decompression is bounded,
so a "zip bomb" costs at most one chunk of memory at a time.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from typing import BinaryIO

from bundle_cli.archive import gzipfmt
from bundle_cli.errors import UnsafeArchiveError

CHUNK = 1024 * 1024


def corrupt(what: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(
        f"the archive is corrupt: {what}", hint="package it again or fetch a good copy"
    )


class InflateStream:
    """The uncompressed tar bytes of a bundle archive; checks both CRCs and the trailer at the end."""

    def __init__(self, f: BinaryIO, observe: Callable[[bytes], None] | None = None) -> None:
        self.f = f
        self.observe = observe or (lambda raw: None)
        head = f.read(gzipfmt.HEADER_SIZE)
        self.observe(head)
        expected = gzipfmt.parse_header(head)
        if expected is None:
            raise UnsafeArchiveError(
                "not a bundle archive (its gzip header is not the one `bundle package` writes)",
                hint="only archives made by `bundle package` are accepted",
            )
        self.expected_outer = expected
        self.inflater = zlib.decompressobj(-15)
        self.pending = b""
        self.outer = self.inner = self.size = 0
        self.max_size = 1 << 62  # lowered once the manifest says how much to expect
        self.finished = False

    def read(self, n: int) -> bytes:
        """Up to n bytes (fewer only at the end of the stream)."""
        parts, got = [], 0
        while got < n and not self.finished:
            data = self._inflate(min(n - got, CHUNK))
            parts.append(data)
            got += len(data)
        return b"".join(parts)

    def _inflate(self, limit: int) -> bytes:
        while True:
            if not self.pending:
                self.pending = self._read_raw()
            try:
                data = self.inflater.decompress(self.pending, limit)
            except zlib.error as exc:
                raise corrupt(f"bad compressed data ({exc})") from None
            self.pending = self.inflater.unconsumed_tail
            self.inner = gzipfmt.crc32(data, self.inner)
            self.size += len(data)
            if self.size > self.max_size:
                raise corrupt("it expands to more than its manifest accounts for")
            if self.inflater.eof:
                self._check_end(self.inflater.unused_data)
            if data or self.finished:
                return data

    def _read_raw(self) -> bytes:
        raw = self.f.read(CHUNK)
        if not raw:
            raise corrupt("it ends too early (truncated)")
        self.outer = gzipfmt.crc32(raw, self.outer)
        self.observe(raw)
        return raw

    def _check_end(self, rest: bytes) -> None:
        while len(rest) <= 8 and (more := self.f.read(CHUNK)):
            self.outer = gzipfmt.crc32(more, self.outer)
            self.observe(more)
            rest += more
        if len(rest) != 8:
            raise corrupt(
                "data after the end of the compressed stream"
                if len(rest) > 8
                else "truncated trailer"
            )
        crc, isize = struct.unpack("<II", rest)
        if self.outer != self.expected_outer:
            raise corrupt("checksum of the archive bytes does not match")
        if crc != self.inner or isize != self.size & 0xFFFFFFFF:
            raise corrupt("checksum of the uncompressed data does not match")
        self.finished = True
