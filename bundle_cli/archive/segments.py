"""Inflating an archive on every core, segment by segment, from the restart points its manifest
lists (archive/restarts.py), and yielding the bytes in order.

Nothing in the manifest is trusted. The checks that make a wrong restart point a corrupt archive,
never other content than a decoder reading from the start would see:
- the points grow, no segment is larger than MAX_SEGMENT on either side, and the data ends
  within the size the manifest accounts for;
- segment k, fed exactly the file bytes [comp_k, comp_k+1) by a fresh decoder, yields exactly
  raw_k+1 - raw_k bytes, takes all of its input, refers to nothing before its start (a fresh
  decoder refuses a distance that reaches back past what it wrote), and ends on a block
  boundary that is also a byte boundary: given the two bytes of a final, empty fixed-Huffman
  block (03 00) after it, the decoder ends there with nothing written and nothing left over.
  Inside a block, a block header or a stored block, or at a boundary inside a byte, those bits
  instead write bytes, ask for more or fail. A decoder from the start reaches comp_k at the
  same boundary (by induction from the first segment, which starts right after the gzip header
  as every decoder does), so it decodes each segment as the fresh one did;
- the first segment's first bytes are the manifest's, already read in turn, and are compared;
- after the last segment come exactly the final empty stored block and the gzip trailer, with
  the CRC and length of the bytes yielded; the header's CRC of every byte after it is combined
  from the segments'.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import pairwise

from isal import igzip_lib

from bundle_cli.archive import gzipfmt
from bundle_cli.archive.gzipfmt import DECODE_ERROR, corrupt
from bundle_cli.archive.restarts import Point

# bytes of one segment, inflated or not: what a thread holds at most (the writer's segments are
# RESTART plus at most one piece), so that a hostile manifest costs at most a few of them
MAX_SEGMENT = 16 * 1024 * 1024
_PROBE = b"\x03\x00"  # a final fixed-Huffman block holding only its end code
_TAIL = len(gzipfmt.FINAL_BLOCK) + 8
CHUNK = 1024 * 1024


def _misplaced() -> Exception:
    return corrupt("a restart point in its manifest is not where the compressed data has one")


class Segments(Iterator[bytes]):
    """The tar stream after `head`, inflated on `workers` threads a few segments ahead."""

    def __init__(
        self,
        fd: int,
        points: list[Point],
        *,
        head: bytes,
        expected_outer: int,
        max_size: int,
        workers: int,
    ) -> None:
        bounds = [(0, gzipfmt.HEADER_SIZE), *points]
        pairs = list(pairwise(bounds))
        for (raw0, comp0), (raw1, comp1) in pairs:
            if not (0 < raw1 - raw0 <= MAX_SEGMENT and 0 < comp1 - comp0 <= MAX_SEGMENT):
                raise _misplaced()
        if points[-1][0] > max_size:
            raise corrupt("it expands to more than its manifest accounts for")
        if len(head) > pairs[0][1][0]:
            raise _misplaced()
        self.fd, self.head, self.expected_outer = fd, head, expected_outer
        self.end = points[-1]
        self.todo = deque(pairs)
        self.pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="bundle-inflate")
        self.running: deque[Future[tuple[list[bytes], int, int, int]]] = deque()
        self.ready: deque[bytes] = deque()  # chunks of the segment being handed out
        self.depth = max(1, workers)
        self.inner = self.outer = self.size = 0
        self.first, self.done = True, False
        while len(self.running) < self.depth and self.todo:
            self._submit()

    def _submit(self) -> None:
        (raw0, comp0), (raw1, comp1) = self.todo.popleft()
        self.running.append(self.pool.submit(_inflate, self.fd, comp0, comp1, raw1 - raw0))

    def __next__(self) -> bytes:
        while not self.ready and self.running:
            chunks, raw_crc, comp_crc, comp_len = self.running.popleft().result()
            if self.todo:
                self._submit()
            size = sum(len(c) for c in chunks)
            self.inner = gzipfmt.crc32_combine(self.inner, raw_crc, size)
            self.outer = gzipfmt.crc32_combine(self.outer, comp_crc, comp_len)
            self.size += size
            if self.first:
                self.first = False
                chunks = self._after_head(chunks)
            self.ready.extend(chunks)
        if self.ready:
            return self.ready.popleft()
        if not self.done:
            self.done = True
            self._check_end()
        raise StopIteration

    def _after_head(self, chunks: list[bytes]) -> list[bytes]:
        """The first segment's chunks past the bytes already read in turn, which must match."""
        first = b"".join(chunks)
        if first[: len(self.head)] != self.head:
            raise _misplaced()
        rest = first[len(self.head) :]
        return [rest[i : i + CHUNK] for i in range(0, len(rest), CHUNK)]

    def _check_end(self) -> None:
        tail = os.pread(self.fd, _TAIL + 1, self.end[1])
        if not tail.startswith(gzipfmt.FINAL_BLOCK[: len(tail)]):
            raise corrupt("bad compressed data (it goes on past the end its manifest gives)")
        if len(tail) > _TAIL:
            raise corrupt("data after the end of the compressed stream")
        if len(tail) < _TAIL:
            raise corrupt("truncated trailer")
        outer = gzipfmt.crc32_combine(self.outer, gzipfmt.crc32(tail), len(tail))
        if outer != self.expected_outer:
            raise corrupt("checksum of the archive bytes does not match")
        if tail[len(gzipfmt.FINAL_BLOCK) :] != gzipfmt.trailer(self.inner, self.size):
            raise corrupt("checksum of the uncompressed data does not match")

    def close(self) -> None:
        """Stop inflating: segments not started are dropped, running ones finish (one each)."""
        self.todo.clear()
        self.ready.clear()
        for future in self.running:
            future.cancel()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.done = True


def _inflate(fd: int, start: int, end: int, size: int) -> tuple[list[bytes], int, int, int]:
    """One segment: (its bytes in chunks, their CRC, the CRC and length of its compressed bytes).

    Read and inflated a chunk at a time, so that what is inflated is still in the CPU's cache."""
    decoder = igzip_lib.IgzipDecompressor(igzip_lib.DECOMP_DEFLATE)
    chunks: list[bytes] = []
    got = raw_crc = comp_crc = 0
    pos = start
    try:
        while not decoder.eof:
            comp = b""
            if decoder.needs_input:
                if pos == end:
                    break
                comp = os.pread(fd, min(CHUNK, end - pos), pos)
                if not comp:
                    raise corrupt("it ends too early (truncated)")
                pos += len(comp)
                comp_crc = gzipfmt.crc32(comp, comp_crc)
            data = decoder.decompress(comp, min(CHUNK, size + 1 - got))
            if data:
                chunks.append(data)
                got += len(data)
                raw_crc = gzipfmt.crc32(data, raw_crc)
                if got > size:
                    raise _misplaced()
            elif not comp:
                break  # neither input taken nor output made: nothing more will come
        whole = got == size and pos == end and decoder.needs_input and not decoder.eof
        if whole:  # at a block boundary on a byte boundary, the probe ends the stream there
            whole = not decoder.decompress(_PROBE, 1) and decoder.eof and not decoder.unused_data
    except DECODE_ERROR as exc:
        raise corrupt(f"bad compressed data ({exc})") from None
    if not whole:
        raise _misplaced()
    return chunks, raw_crc, comp_crc, end - start
