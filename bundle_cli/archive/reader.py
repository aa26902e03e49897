"""Reading the compressed stream of a bundle archive, checking every framing byte.

Only the format `bundle package` writes is accepted: the fixed gzip header with its `BN`
checksum, one deflate stream, the gzip trailer and nothing after it. Decompression is bounded,
so a "zip bomb" costs at most a few chunks of memory at a time.

Inflating (ISA-L's, about twice zlib's speed on float weights) is the one step of checking an
archive that cannot be split across cores: after `read_ahead`, it runs on a thread of its own
(the decompressor releases the GIL) a few chunks in front of the reader, so that tar parsing and
hashing on the other threads overlap with it instead of waiting for it. Before that (the manifest,
`inspect`), only what is read is inflated.
"""

from __future__ import annotations

import queue
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import TYPE_CHECKING, BinaryIO

from isal import igzip_lib

from bundle_cli.archive import gzipfmt
from bundle_cli.archive.gzipfmt import DECODE_ERROR, corrupt
from bundle_cli.errors import UnsafeArchiveError

if TYPE_CHECKING:  # imported when switching to segments: `inspect` never does
    from bundle_cli.archive.restarts import Point
    from bundle_cli.archive.segments import Segments

CHUNK = 1024 * 1024
_KEEP = 64 * 1024 * 1024  # bytes inflated in turn that a switch to segments can compare


class InflateStream:
    """The uncompressed tar bytes of a bundle archive; checks both CRCs and the trailer at the end.

    After `read_ahead`, call `close` when done with it."""

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
        self.inflater = igzip_lib.IgzipDecompressor(igzip_lib.DECOMP_DEFLATE)
        self.outer = self.inner = self.size = 0
        self.max_size = 1 << 62  # lowered once the manifest says how much to expect
        self.finished = False
        self.current: bytes = b""
        self.offset = 0  # bytes of `current` already handed out
        self.ahead: _Ahead | Segments | None = None
        self.plain = observe is None  # no one watches the raw bytes go by in order
        self.kept: list[bytes] | None = []  # what was inflated before read_ahead

    def read(self, n: int) -> bytes:
        """Exactly n bytes, fewer only at the end of the stream."""
        parts, got = [], 0
        while got < n and (part := self.read_some(n - got)):
            parts.append(part)
            got += len(part)
        return b"".join(parts)

    def read_some(self, n: int) -> bytes | memoryview:
        """Between 1 and n bytes (none only at the end), without copying what was inflated."""
        if self.offset == len(self.current):
            if self.ahead is not None:
                self.current = next(self.ahead, b"")
            else:  # inflate only what is asked for: an error further on surfaces further on
                self.current = b"" if self.finished else self._inflate(min(n, CHUNK))
            self.offset = 0
        start = self.offset
        if start == 0 and n >= len(self.current):
            self.offset = len(self.current)
            return self.current
        self.offset = min(start + n, len(self.current))
        return memoryview(self.current)[start : self.offset]

    def read_ahead(self, depth: int, restarts: list[Point] | None = None) -> None:
        """From now on, inflate on a thread of its own, up to `depth` chunks of 1 MiB ahead; or,
        given the manifest's restart points, on every core (archive/segments.py)."""
        if self.ahead is not None:
            return
        kept, self.kept = self.kept, None
        if restarts and self.plain and kept is not None:
            from bundle_cli.archive.segments import Segments
            from bundle_cli.archive.shards import workers

            self.ahead = Segments(
                self.f.fileno(),
                restarts,
                head=b"".join(kept),
                expected_outer=self.expected_outer,
                max_size=self.max_size,
                workers=workers(),
            )
        else:
            self.ahead = _Ahead(self._chunks(), depth)

    def close(self) -> None:
        """Stop the read-ahead thread, if any."""
        if self.ahead is not None:
            self.ahead.close()

    def _chunks(self) -> Iterator[bytes]:
        while not self.finished:
            if data := self._inflate(CHUNK):
                yield data

    def _inflate(self, limit: int) -> bytes:
        """The next inflated bytes; b"" once the trailer is checked (on the call after the last
        data, so that a bad trailer is reported after every member was, as `gzip -d` reports it)."""
        while True:
            if self.inflater.eof:
                self._check_end(self.inflater.unused_data)
                return b""
            raw = self._read_raw() if self.inflater.needs_input else b""
            try:
                data = self.inflater.decompress(raw, limit)
            except DECODE_ERROR as exc:
                raise corrupt(f"bad compressed data ({exc})") from None
            self.inner = gzipfmt.crc32(data, self.inner)
            self.size += len(data)
            if self.size > self.max_size:
                raise corrupt("it expands to more than its manifest accounts for")
            if data:
                if self.kept is not None:  # the manifest, in practice; never more than _KEEP
                    self.kept.append(data)
                    if self.size > _KEEP:
                        self.kept = None
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


class _Ahead(Iterator[bytes]):
    """The items of an iterator, produced on a thread of their own at most `depth` ahead.

    An exception raised by the iterator is raised here at the point where it occurred."""

    _END = object()

    def __init__(self, items: Iterator[bytes], depth: int) -> None:
        self.queue: queue.Queue[object] = queue.Queue(depth)
        self.stop = threading.Event()
        self.done = False
        self.thread = threading.Thread(
            target=self._run, args=(items,), name="bundle-inflate", daemon=True
        )
        self.thread.start()

    def _run(self, items: Iterator[bytes]) -> None:
        try:
            for item in items:
                if self.stop.is_set():
                    return
                self.queue.put(item)
            self.queue.put(self._END)
        except BaseException as exc:  # handed to the reader, raised where it happened
            self.queue.put(exc)

    def __next__(self) -> bytes:
        if self.done:
            raise StopIteration
        item = self.queue.get()
        if isinstance(item, bytes):
            return item
        self.done = True
        if isinstance(item, BaseException):
            raise item
        raise StopIteration

    def close(self) -> None:
        """Stop the thread: it finishes the chunk it is inflating, if any, and exits."""
        self.stop.set()
        while self.thread.is_alive():
            with suppress(queue.Empty):
                self.queue.get(timeout=0.05)  # unblocks a put into a full queue
        self.done = True
