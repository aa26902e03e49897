"""Reading a bundle archive as a stream of tar members, checking every framing byte.

The reader accepts only the format `bundle package` writes: the fixed gzip header with its
`BN` checksum, one deflate stream, the gzip trailer and nothing after it. Tar headers are
parsed here rather than by `tarfile`'s iterator, which silently stops at a damaged header;
`tarfile` is used only to decode single header blocks. Decompression is bounded, so a
"zip bomb" costs at most one chunk of memory at a time.
"""

from __future__ import annotations

import struct
import tarfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from bundle_cli.archive import gzipfmt
from bundle_cli.errors import UnsafeArchiveError

CHUNK = 1024 * 1024
BLOCK = tarfile.BLOCKSIZE
MAX_PAX = 1024 * 1024
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

    def data(self, member: Member) -> Iterator[bytes]:
        """The member's data in chunks of at most 1 MiB."""
        remaining = member.size
        while remaining:
            chunk = self._take(min(remaining, CHUNK))
            remaining -= len(chunk)
            yield chunk

    def skip(self) -> None:
        while self.left:
            self._take(min(self.left, CHUNK))

    def _take(self, n: int) -> bytes:
        data = self.stream.read(n)
        if len(data) != n:
            raise corrupt("a member is cut short")
        self.left -= n
        return data

    def _next(self) -> Member | None:
        pax: dict[str, str] = {}
        while True:
            block = self._block()
            if block is None:
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
    if not value.isascii() or not value.isdigit():
        raise corrupt(f"bad size {value!r} in an extended header")
    return int(value)
