"""The gzip framing of a bundle archive.

One gzip member whose header is fixed (no time, no file name, OS "unknown") apart from one
"extra" field, `BN`, that carries a CRC-32 of every byte after the header. The gzip trailer's
CRC covers the uncompressed data only; deflate ignores the padding bits of its block headers and
gzip readers ignore header fields, so without this second checksum some flipped bytes would
decode to the same content and go unnoticed. With it, any change to any byte is detected.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import cast

from isal import igzip_lib
from isal.isal_zlib import crc32, crc32_combine

from bundle_cli.errors import UnsafeArchiveError

FORMAT_VERSION = 1
_EXTRA_ID = b"BN"
_EXTRA_DATA_LEN = 8  # version byte, 3 reserved zero bytes, CRC-32 of the rest of the file
# magic, deflate, FEXTRA flag, mtime 0, no extra flags, OS 255 (unknown)
_FIXED = b"\x1f\x8b\x08\x04" + b"\x00\x00\x00\x00" + b"\x00\xff"
_EXTRA_HEAD = struct.pack("<H2sH", 4 + _EXTRA_DATA_LEN, _EXTRA_ID, _EXTRA_DATA_LEN)
PREFIX = _FIXED + _EXTRA_HEAD + bytes([FORMAT_VERSION, 0, 0, 0])
HEADER_SIZE = len(PREFIX) + 4
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# A final, empty stored deflate block: ends a stream that is byte-aligned after a sync flush.
FINAL_BLOCK = b"\x01\x00\x00\xff\xff"
STORED_MAX = 0xFFFF

__all__ = ["crc32", "crc32_combine"]
# isal's stubs declare its exception as an instance; it is the class of every decoding error
DECODE_ERROR = cast("type[Exception]", igzip_lib.IsalError)


def corrupt(what: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(
        f"the archive is corrupt: {what}", hint="package it again or fetch a good copy"
    )


def header(outer_crc: int) -> bytes:
    """The 24-byte gzip header carrying the CRC of everything after it."""
    return PREFIX + struct.pack("<I", outer_crc)


def parse_header(data: bytes) -> int | None:
    """The outer CRC stored in a bundle archive header, or None when it is not one."""
    if len(data) < HEADER_SIZE or not data.startswith(PREFIX):
        return None
    return int(struct.unpack_from("<I", data, len(PREFIX))[0])


def trailer(inner_crc: int, size: int) -> bytes:
    """gzip trailer: CRC-32 and length (mod 2**32) of the uncompressed data."""
    return struct.pack("<II", inner_crc, size & 0xFFFFFFFF)


def stored_blocks(data: bytes | memoryview) -> list[bytes | memoryview]:
    """`data` as non-final stored deflate blocks (the stream must be byte-aligned here)."""
    view = memoryview(data)
    pieces: list[bytes | memoryview] = []
    for start in range(0, len(view), STORED_MAX):
        block = view[start : start + STORED_MAX]
        n = len(block)
        pieces.append(struct.pack("<BHH", 0, n, n ^ 0xFFFF))
        pieces.append(block)
    return pieces


def is_bundle_archive(path: Path) -> bool:
    """Whether the file starts with the header `bundle package` writes."""
    try:
        with open(path, "rb") as f:
            return parse_header(f.read(HEADER_SIZE)) is not None
    except OSError:
        return False


def looks_compressed_tar(path: Path) -> bool:
    """A gzip or zstd file: something to treat as an archive rather than a bundle folder."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return head.startswith(GZIP_MAGIC) or head == ZSTD_MAGIC
