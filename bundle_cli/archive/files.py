"""Reading the files to pack: exactly the size selected, refused if they change meanwhile, and
their sha256 taken from the digest cache when the CRC of the bytes just packed confirms it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from bundle_cli.archive.digests import DigestCache, Known, hash_file
from bundle_cli.archive.encode import PIECE_SIZE
from bundle_cli.archive.select import Entry
from bundle_cli.archive.shards import FileDigest
from bundle_cli.errors import UsageError


def changed(entry: Entry) -> UsageError:
    return UsageError(f"{entry.source}: changed while being packaged; run the command again")


def open_entry(entry: Entry) -> tuple[int, os.stat_result]:
    """A descriptor on the file and its status, checked against what was selected."""
    try:
        fd = os.open(entry.source, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise UsageError(f"{entry.source}: cannot read: {exc.strerror}") from None
    st = os.fstat(fd)
    if st.st_size != entry.size:
        os.close(fd)
        raise changed(entry)
    return fd, st


def read_chunks(fd: int, entry: Entry, before: os.stat_result) -> Iterator[bytes]:
    """Exactly entry.size bytes in chunks of at most 1 MiB; raises if the file changed."""
    left = entry.size
    while left:
        chunk = os.read(fd, min(left, PIECE_SIZE))
        if not chunk:
            raise changed(entry)
        left -= len(chunk)
        yield chunk
    after = os.fstat(fd)
    moved = (after.st_size, after.st_mtime_ns, after.st_ctime_ns) != (
        before.st_size,
        before.st_mtime_ns,
        before.st_ctime_ns,
    )
    if moved or os.read(fd, 1):
        raise changed(entry)


@dataclass
class PendingDigest:
    """A file's digest as it is being computed, with what is needed to settle it."""

    entry: Entry
    st: os.stat_result
    read_started_ns: int
    known: Known | None
    digest: FileDigest
    shard_size: int | None

    def settle(self, cache: DigestCache) -> str | list[str]:
        """The sha256 (or shard digests) of the bytes packed: computed, or cached and confirmed
        by their CRC."""
        sha, crc = self.digest.result()
        if self.known is None:
            assert sha is not None  # hashed on its lane because nothing was known
            cache.put(self.entry.source, self.st, Known(sha, crc), self.read_started_ns)
            return sha
        if crc == self.known.crc32:
            return self.known.sha256
        fresh = hash_file(self.entry.source, self.shard_size)  # a stale entry: hash it again
        if fresh.crc32 != crc:
            raise changed(self.entry)
        cache.put(self.entry.source, self.st, fresh, self.read_started_ns)
        return fresh.sha256
