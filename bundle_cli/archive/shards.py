"""Digests of large files per fixed-size shard, so that one big file hashes on every core.

One sha256 over a 1 GiB file runs on one core whatever the machine has. A file larger than
SHARD_SIZE is therefore recorded in the manifest by the sha256 of each SHARD_SIZE piece
(the last one shorter), as model-signing's shard serialization cuts files; smaller files keep
one sha256 each, which is also their only shard's digest.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from bundle_cli.archive.gzipfmt import crc32, crc32_combine
from bundle_cli.archive.manifest import PLACEHOLDER, FileRecord
from bundle_cli.archive.select import Entry

SHARD_SIZE = 16 * 1024 * 1024
_READ = 1024 * 1024


def shard_size_for(sizes: Iterable[int]) -> int | None:
    """The manifest's shard size: SHARD_SIZE when some file is larger, else None (no shards)."""
    return SHARD_SIZE if any(size > SHARD_SIZE for size in sizes) else None


def bounds(size: int, shard_size: int) -> list[tuple[int, int]]:
    """(start, end) of each shard of a file of `size` bytes; none for an empty file."""
    return [(start, min(start + shard_size, size)) for start in range(0, size, shard_size)]


def sharded(size: int, shard_size: int | None) -> bool:
    """Whether a file of `size` bytes is recorded by shards."""
    return shard_size is not None and size > shard_size


def cuts(size: int, shard_size: int | None) -> list[tuple[int, int]]:
    """The pieces a file is hashed in: its shards, or the whole file."""
    if shard_size is None or size <= shard_size:
        return [(0, size)]
    return bounds(size, shard_size)


def placeholder(name: str, size: int, executable: bool, shard_size: int | None) -> FileRecord:
    """A manifest record whose digests (one, or one per shard) are still to be filled in."""
    if not sharded(size, shard_size):
        return FileRecord(name, size, executable=executable)
    assert shard_size is not None
    shards = [PLACEHOLDER] * len(bounds(size, shard_size))
    return FileRecord(name, size, None, executable, shards)


def hash_range(path: os.PathLike[str] | str, start: int, end: int) -> str:
    """sha256 of bytes [start, end) of a file, read with pread (threads may share the file)."""
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY)
    try:
        offset = start
        while offset < end:
            chunk = os.pread(fd, min(_READ, end - offset), offset)
            if not chunk:
                raise OSError(f"{path}: shorter than expected")
            h.update(chunk)
            offset += len(chunk)
    finally:
        os.close(fd)
    return h.hexdigest()


def hash_entry(entry: Entry, shard_size: int | None) -> FileRecord:
    """The manifest record of a selected file, hashed as `package` records it."""
    record = FileRecord(entry.name, entry.size, executable=entry.executable)
    if sharded(entry.size, shard_size):
        assert shard_size is not None
        record.shards = [hash_range(entry.source, a, b) for a, b in bounds(entry.size, shard_size)]
        record.sha256 = None
    else:
        record.sha256 = hash_range(entry.source, 0, entry.size)
    return record


class DigestPool:
    """sha256 (and CRC-32) of pieces of files on every core, with bounded memory.

    A file's bytes are handed over in order; they are cut at shard boundaries and each shard
    (or a whole small file) is hashed by one worker, so that shards of one big file, or several
    small files, hash at once. At most `budget` bytes wait or hash at a time.
    """

    def __init__(self, workers: int, *, crc: bool = True) -> None:
        self.pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="bundle-hash")
        self.budget = (max(1, workers) + 1) * SHARD_SIZE
        self.crc = crc
        self.inflight: deque[tuple[Future[Any], int]] = deque()
        self.held = 0

    def file(self, size: int, shard_size: int | None, *, sha256: bool = True) -> FileDigest:
        return FileDigest(self, size, shard_size, sha256)

    def submit(self, chunks: list[bytes | memoryview], nbytes: int, sha256: bool) -> Future[Any]:
        while self.inflight and self.held + nbytes > self.budget:
            done, held = self.inflight.popleft()
            done.result()
            self.held -= held
        future = self.pool.submit(_digest, chunks, sha256, self.crc)
        self.inflight.append((future, nbytes))
        self.held += nbytes
        return future

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _digest(chunks: list[bytes | memoryview], sha256: bool, crc: bool) -> tuple[str | None, int]:
    h = hashlib.sha256() if sha256 else None
    value = 0
    for chunk in chunks:
        if h is not None:
            h.update(chunk)
        if crc:
            value = crc32(chunk, value)
    return (h.hexdigest() if h is not None else None), value


class FileDigest:
    """One file's digest as its bytes arrive: one sha256, or one per shard."""

    def __init__(self, pool: DigestPool, size: int, shard_size: int | None, sha256: bool) -> None:
        self.pool, self.sha256 = pool, sha256
        self.sharded = sharded(size, shard_size)
        self.limit = shard_size if self.sharded and shard_size else max(size, 1)
        self.parts: list[bytes | memoryview] = []
        self.filled = 0
        self.jobs: list[tuple[Future[Any], int]] = []

    def update(self, chunk: bytes | memoryview) -> None:
        view = memoryview(chunk)
        while len(view):
            take = min(len(view), self.limit - self.filled)
            self.parts.append(view[:take] if take < len(view) else chunk)
            self.filled += take
            view = view[take:]
            chunk = view
            if self.filled == self.limit:
                self._submit()

    def _submit(self) -> None:
        self.jobs.append((self.pool.submit(self.parts, self.filled, self.sha256), self.filled))
        self.parts, self.filled = [], 0

    def result(self) -> tuple[str | list[str] | None, int]:
        """(sha256, or the shard digests, or None when not asked for; CRC-32 of all bytes)."""
        if self.parts or not self.jobs:
            self._submit()
        digests, crc = [], 0
        for future, length in self.jobs:
            digest, part_crc = future.result()
            digests.append(digest)
            crc = crc32_combine(crc, part_crc, length)
        if not self.sha256:
            return None, crc
        return (digests if self.sharded else digests[0]), crc
