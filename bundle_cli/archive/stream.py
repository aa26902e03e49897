"""The output side of the writer: encodes pieces in parallel and writes them in order.

Reading happens in the caller's thread and hashing in archive/shards.py's pool; encoding runs
in a small thread pool (zlib, ISA-L and hashlib release the GIL); one writer thread appends
results to the file in order and keeps the two running CRCs. At most `depth` pieces are in
flight, so memory stays bounded whatever the size of the files. With `restarts`, the first piece
at or after every RESTART bytes is encoded with an empty window and its offsets are recorded
(archive/restarts.py).
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from bundle_cli.archive.encode import PIECE_SIZE, WINDOW, Encoded, Mode, encode
from bundle_cli.archive.gzipfmt import crc32_combine
from bundle_cli.archive.restarts import RESTART, Point

_IOV_MAX = 512
T = TypeVar("T")


class PieceWriter:
    """Collects (mode, bytes) runs into pieces and appends their encodings to `fd`."""

    def __init__(
        self, fd: int, workers: int, depth: int = 8, restarts: tuple[int, int] | None = None
    ) -> None:
        self.fd = fd
        self.pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="bundle-encode")
        self.out = ThreadPoolExecutor(1, thread_name_prefix="bundle-write")
        self.pending: deque[Future[None]] = deque()
        self.depth = depth
        self.mode: Mode | None = None
        self.buffer: list[bytes] = []
        self.buffered = 0
        self.tail = b""  # the last WINDOW bytes of uncompressed data handed out so far
        self.added = 0  # bytes handed to add(), read by the caller's thread
        self.raw_crc = self.raw_len = self.out_crc = self.out_len = 0  # kept by the writer thread
        # restarts: where this writer's output begins, in the tar stream and in the file
        self.base = restarts
        self.next_restart = RESTART  # tar-stream offset at or after which the next one starts
        self.flushed = 0  # bytes handed to the encoders so far
        self.points: list[Point] = []  # kept by the writer thread

    def add(self, mode: Mode, data: bytes) -> None:
        if not data:
            return
        self.added += len(data)
        if mode is not self.mode or self.buffered + len(data) > PIECE_SIZE:
            self.flush()
            self.mode = mode
        self.buffer.append(data)
        self.buffered += len(data)
        if self.buffered >= PIECE_SIZE:
            self.flush()

    def flush(self) -> None:
        """Hand the buffered run to the encoders as one piece."""
        if not self.buffer or self.mode is None:
            return
        piece = self.buffer[0] if len(self.buffer) == 1 else b"".join(self.buffer)
        self.buffer, self.buffered = [], 0
        restart = False
        if self.base is not None:
            start = self.base[0] + self.flushed
            restart = start >= self.next_restart
            if restart:
                self.next_restart = start + RESTART
        self.flushed += len(piece)
        if restart:  # nothing before a restart may be referred to after it
            self.tail = b""
        zdict = self.tail if self.mode is not Mode.STORE else b""
        self.tail = piece[-WINDOW:] if len(piece) >= WINDOW else (self.tail + piece)[-WINDOW:]
        encoded = self.pool.submit(encode, self.mode, piece, zdict)
        self.pending.append(self.out.submit(self._write, encoded, restart))
        while len(self.pending) > self.depth:
            self.pending.popleft().result()

    def _write(self, future: Future[Encoded], restart: bool) -> None:
        enc = future.result()
        if restart and self.base:
            self.points.append((self.base[0] + self.raw_len, self.base[1] + self.out_len))
        parts = enc.parts
        for start in range(0, len(parts), _IOV_MAX):
            _writev_all(self.fd, parts[start : start + _IOV_MAX])
        self.raw_crc = crc32_combine(self.raw_crc, enc.raw_crc, enc.raw_len)
        self.raw_len += enc.raw_len
        self.out_crc = crc32_combine(self.out_crc, enc.out_crc, enc.out_len)
        self.out_len += enc.out_len

    def finish(self) -> None:
        """Write everything still buffered and wait for it."""
        self.flush()
        while self.pending:
            self.pending.popleft().result()
        if self.base is not None:  # the end of the data closes the last segment
            self.points.append((self.base[0] + self.raw_len, self.base[1] + self.out_len))

    def close(self) -> None:
        """Stop the threads; pending work is dropped (used on errors and interrupts too)."""
        for future in self.pending:
            future.cancel()
        self.out.shutdown(wait=True, cancel_futures=True)
        self.pool.shutdown(wait=True, cancel_futures=True)


def _writev_all(fd: int, parts: list[bytes | memoryview]) -> None:
    views = [memoryview(p) for p in parts]
    while views:
        written = os.writev(fd, views)
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]
