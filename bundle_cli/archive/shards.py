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


def workers() -> int:
    """The cores this process may run on: threads to hash, encode or inflate on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


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
    """sha256 (and CRC-32) of files and shards on every core, with bounded memory.

    A file's bytes are handed over in order and cut at shard boundaries; each shard (or whole
    small file) is hashed chunk by chunk on one lane (a thread of its own), the next shard or
    file on the next lane. A chunk is hashed as soon as its lane is free, while it is still in
    the CPU's cache; when hashing is slower than reading, the reader runs up to `depth` chunks
    (two shards) ahead, so that consecutive shards hash at once on different lanes.
    """

    def __init__(self, workers: int, *, crc: bool = True) -> None:
        count = max(1, workers)
        self.lanes = [ThreadPoolExecutor(1, thread_name_prefix="bundle-hash") for _ in range(count)]
        self.turn = 0
        self.crc = crc
        self.depth = 2 * SHARD_SIZE // _READ
        self.pending: deque[Future[Any]] = deque()

    def file(self, size: int, shard_size: int | None, *, sha256: bool = True) -> FileDigest:
        return FileDigest(self, size, shard_size, sha256)

    def lane(self) -> ThreadPoolExecutor:
        lane = self.lanes[self.turn % len(self.lanes)]
        self.turn += 1
        return lane

    def submit(self, lane: ThreadPoolExecutor, fn: Any, *args: Any) -> Future[Any]:
        future = lane.submit(fn, *args)
        self.pending.append(future)
        while len(self.pending) > self.depth:
            self.pending.popleft().result()
        return future

    def close(self) -> None:
        for lane in self.lanes:
            lane.shutdown(wait=True, cancel_futures=True)


class _Running:
    """The digest of one shard or small file, updated in order on its lane."""

    def __init__(self, sha256: bool, crc: bool) -> None:
        self.h = hashlib.sha256() if sha256 else None
        self.crc, self.value = crc, 0

    def update(self, chunk: bytes | memoryview) -> None:
        if self.h is not None:
            self.h.update(chunk)
        if self.crc:
            self.value = crc32(chunk, self.value)

    def result(self) -> tuple[str | None, int]:
        return (self.h.hexdigest() if self.h is not None else None), self.value


class FileDigest:
    """One file's digest as its bytes arrive: one sha256, or one per shard."""

    def __init__(self, pool: DigestPool, size: int, shard_size: int | None, sha256: bool) -> None:
        self.pool, self.sha256 = pool, sha256
        self.sharded = sharded(size, shard_size)
        self.limit = shard_size if self.sharded and shard_size else max(size, 1)
        self.current: tuple[_Running, ThreadPoolExecutor] | None = None
        self.filled = 0
        self.jobs: list[tuple[Future[Any], int]] = []
        self.crc = 0  # without sha256: the CRC-32, kept here

    def update(self, chunk: bytes | memoryview) -> None:
        if not self.sha256:
            # a CRC alone runs at memory speed: handing the chunk to a lane would cost more
            self.crc = crc32(chunk, self.crc)
            return
        view = memoryview(chunk)
        while len(view):
            running, lane = self._current()
            take = min(len(view), self.limit - self.filled)
            self.pool.submit(lane, running.update, view[:take] if take < len(view) else chunk)
            self.filled += take
            view = view[take:]
            chunk = view
            if self.filled == self.limit:
                self._close()

    def _current(self) -> tuple[_Running, ThreadPoolExecutor]:
        if self.current is None:
            self.current = (_Running(self.sha256, self.pool.crc), self.pool.lane())
        return self.current

    def _close(self) -> None:
        running, lane = self._current()
        self.jobs.append((self.pool.submit(lane, running.result), self.filled))
        self.current, self.filled = None, 0

    def result(self) -> tuple[str | list[str] | None, int]:
        """(sha256, or the shard digests, or None when not asked for; CRC-32 of all bytes)."""
        if not self.sha256:
            return None, self.crc
        if self.current is not None or not self.jobs:
            self._close()
        digests, crc = [], 0
        for future, length in self.jobs:
            digest, part_crc = future.result()
            digests.append(digest)
            crc = crc32_combine(crc, part_crc, length)
        return (digests if self.sharded else digests[0]), crc
