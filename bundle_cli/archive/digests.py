"""A cache of file digests, so that packaging unchanged weights again does not re-hash them.

sha256 is the slowest step of packaging (about 300 MB/s on a core without SHA extensions). The
digest of a big file is remembered under its identity and change times (device, inode, size,
mtime and ctime in ns), as git's index does. A cached digest is never trusted alone: the writer
still computes the CRC-32 of the bytes it packs (ten times cheaper) and uses the cached sha256 only
when that CRC matches the cached one; otherwise it hashes the file again. Entries are written only
for files whose times are at least two seconds older than the read, so a change within the same
clock tick cannot hide behind equal times.

Location: the `digests` folder of the user cache (`bundle_cli/cachedir.py`). `bundle package --rehash` hashes every file (and refreshes the
entries); BUNDLE_DIGEST_CACHE=0 turns the cache off.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from bundle_cli.archive.gzipfmt import crc32
from bundle_cli.archive.shards import cuts, sharded
from bundle_cli.atomic import replace_file

MIN_SIZE = 4 * 1024 * 1024  # smaller files are cheaper to hash than to look up
_RACY_NS = 2_000_000_000


@dataclass(frozen=True)
class Known:
    sha256: str | list[str]  # a list: the digest of each shard (see archive/shards.py)
    crc32: int


def identity(path: Path, st: os.stat_result) -> str:
    """What must stay equal for a cached digest to apply."""
    key = f"{os.path.realpath(path)}\0{st.st_dev}\0{st.st_ino}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}"
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


class DigestCache:
    """Lookups and stores; every failure to read or write the cache is silently a miss."""

    def __init__(self, root: Path | None, *, read: bool = True) -> None:
        self.root = root
        self.read = read

    @classmethod
    def default(cls, *, read: bool = True) -> DigestCache:
        """The user's cache; `read=False` hashes everything but still records the digests."""
        if os.environ.get("BUNDLE_DIGEST_CACHE") == "0":
            return cls(None)
        from bundle_cli.cachedir import cache_path

        return cls(cache_path("digests"), read=read)

    def _file(self, key: str) -> Path:
        assert self.root is not None
        return self.root / key[:2] / key

    def get(self, path: Path, st: os.stat_result, shard_size: int | None = None) -> Known | None:
        """The cached digest, in the form a manifest cut in `shard_size` shards needs."""
        if self.root is None or not self.read or st.st_size < MIN_SIZE:
            return None
        try:
            sha, crc = self._file(identity(path, st)).read_text(encoding="ascii").split()
        except (OSError, ValueError):
            return None
        wanted = len(cuts(st.st_size, shard_size)) if sharded(st.st_size, shard_size) else 0
        if wanted != (sha.count(",") + 1 if "," in sha else 0):
            return None  # cut otherwise (or not at all) when it was cached
        return Known(sha.split(",") if wanted else sha, int(crc)) if crc.isdigit() else None

    def put(self, path: Path, st: os.stat_result, known: Known, read_started_ns: int) -> None:
        if self.root is None or st.st_size < MIN_SIZE:
            return
        if max(st.st_mtime_ns, st.st_ctime_ns) > read_started_ns - _RACY_NS:
            return
        target = self._file(identity(path, st))
        sha = ",".join(known.sha256) if isinstance(known.sha256, list) else known.sha256
        with suppress(OSError):
            replace_file(target, f"{sha} {known.crc32}\n")


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def hash_file(path: Path, shard_size: int | None = None) -> Known:
    """sha256 (or one per shard, for a file larger than shard_size) and CRC-32 of a file."""
    size = os.stat(path).st_size
    digests, crc = [], 0
    with open(path, "rb", buffering=0) as f:
        for start, end in cuts(size, shard_size):
            h = hashlib.sha256()
            left = end - start
            while left and (chunk := f.read(min(left, 1024 * 1024))):
                h.update(chunk)
                crc = crc32(chunk, crc)
                left -= len(chunk)
            digests.append(h.hexdigest())
    return Known(digests if sharded(size, shard_size) else digests[0], crc)
