"""Tar members of the uncompressed stream, parsed strictly.

Headers are parsed here rather than by `tarfile`'s iterator, which silently stops at a damaged
header; `tarfile` only decodes single header blocks. Extended (pax) headers are applied for
`path` and `size`; sparse files and every entry type other than files and folders are passed
on with their kind, for the caller to refuse.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from dataclasses import dataclass

from bundle_cli.archive.gzipfmt import corrupt
from bundle_cli.archive.reader import CHUNK, InflateStream

BLOCK = tarfile.BLOCKSIZE
MAX_PAX = 1024 * 1024
_MAX_SIZE_DIGITS = 20  # more than any real size; int() of more digits is slow, then an error
_MAX_HEADERS = 4  # an extended header, then its member: a longer chain is not ours
_KINDS = {
    tarfile.SYMTYPE: "a symbolic link",
    tarfile.LNKTYPE: "a hard link",
    tarfile.CHRTYPE: "a character device",
    tarfile.BLKTYPE: "a block device",
    tarfile.FIFOTYPE: "a FIFO",
    tarfile.CONTTYPE: "a contiguous file",
    tarfile.GNUTYPE_SPARSE: "a sparse file",
}

# Entry types whose size field is not followed by data (as tarfile and GNU tar read them).
_NO_DATA = {
    tarfile.DIRTYPE,
    tarfile.SYMTYPE,
    tarfile.LNKTYPE,
    tarfile.CHRTYPE,
    tarfile.BLKTYPE,
    tarfile.FIFOTYPE,
}


@dataclass
class Member:
    """One tar member as the archive declares it."""

    name: str
    kind: bytes
    size: int
    mode: int

    @property
    def is_file(self) -> bool:
        return self.kind in (tarfile.REGTYPE, tarfile.AREGTYPE)

    @property
    def is_dir(self) -> bool:
        return self.kind == tarfile.DIRTYPE

    def kind_name(self) -> str:
        return _KINDS.get(self.kind, f"an entry of tar type {self.kind!r}")


class TarReader:
    """Iterates members of the tar stream; read each member's data before asking for the next."""

    def __init__(self, stream: InflateStream) -> None:
        self.stream = stream
        self.left = 0  # data bytes (with padding) of the current member not yet consumed

    def members(self) -> Iterator[Member]:
        while True:
            self.skip()
            member = self._next()
            if member is None:
                return
            yield member

    def data(self, member: Member) -> Iterator[bytes | memoryview]:
        """The member's data in chunks of at most 1 MiB, as they were inflated (no copies)."""
        remaining = member.size
        while remaining:
            chunk = self.stream.read_some(min(remaining, CHUNK))
            if not chunk:
                raise corrupt("a member is cut short")
            remaining -= len(chunk)
            self.left -= len(chunk)
            yield chunk

    def skip(self) -> None:
        while self.left:
            chunk = self.stream.read_some(min(self.left, CHUNK))
            if not chunk:
                raise corrupt("a member is cut short")
            self.left -= len(chunk)

    def _next(self) -> Member | None:
        pax: dict[str, str] = {}
        for _ in range(_MAX_HEADERS):
            block = self._block()
            if block is None:
                if pax:
                    raise corrupt("an extended header with no member after it")
                return None
            info = _decode(block)
            if info.type == tarfile.XHDTYPE:
                pax = _pax_records(self._take_exact(info.size))
                continue
            member = Member(pax.get("path", info.name), info.type, info.size, info.mode)
            if "size" in pax:
                member.size = _pax_int(pax["size"])
            if any(key.startswith("GNU.sparse") for key in pax):
                member.kind = tarfile.GNUTYPE_SPARSE
            if member.kind not in _NO_DATA:
                self.left = member.size + (-member.size % BLOCK)
            return member
        raise corrupt("a chain of extended headers without a member")

    def _take_exact(self, size: int) -> bytes:
        if size > MAX_PAX:
            raise corrupt("oversized extended header")
        data = self.stream.read(size + (-size % BLOCK))
        if len(data) != size + (-size % BLOCK):
            raise corrupt("an extended header is cut short")
        return data[:size]

    def _block(self) -> bytes | None:
        block = self.stream.read(BLOCK)
        if len(block) != BLOCK:
            raise corrupt("the tar stream ends without its end-of-archive blocks")
        if block != bytes(BLOCK):
            return block
        while chunk := self.stream.read(CHUNK):  # end of archive: only zeros may follow
            if chunk.count(0) != len(chunk):
                raise corrupt("data after the end-of-archive marker")
        return None


def _decode(block: bytes) -> tarfile.TarInfo:
    try:
        return tarfile.TarInfo.frombuf(block, "utf-8", "strict")
    except (tarfile.HeaderError, UnicodeDecodeError, ValueError) as exc:
        raise corrupt(f"bad tar header ({exc})") from None


def _pax_records(data: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    try:
        while pos < len(data):
            length = int(data[pos : data.index(b" ", pos)])
            record = data[pos : pos + length]
            if length <= 0 or len(record) != length or not record.endswith(b"\n"):
                raise ValueError("bad record")
            key, _, value = record[record.index(b" ") + 1 : -1].partition(b"=")
            records[key.decode("utf-8")] = value.decode("utf-8")
            pos += length
    except ValueError as exc:
        raise corrupt(f"bad extended header ({exc})") from None
    return records


def _pax_int(value: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > _MAX_SIZE_DIGITS:
        raise corrupt(f"bad size {value[:40]!r} in an extended header")
    return int(value)
