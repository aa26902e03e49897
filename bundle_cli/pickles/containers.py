"""Where pickles hide in a file: plain, gzip'd, in zip archives (torch, npz), after a numpy
header (arrays of objects), in joblib's compressed files; each stream is scanned by opcodes.

A file is sniffed by its first bytes, whatever its name; names only add the formats that have no
magic of their own (protocol 0 and 1 pickles, joblib's zlib, bz2 and xz files).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bundle_cli.pickles.opcodes import Findings, scan_stream
from bundle_cli.pickles.sniff import NPY as _NPY
from bundle_cli.pickles.sniff import ZIP as _ZIP
from bundle_cli.pickles.sniff import kind as _kind
from bundle_cli.pickles.sniff import looks_pickle as _looks_pickle

_LEGACY_TORCH = (".pt", ".pth", ".bin", ".ckpt")  # torch.save before 1.6: pickles, then raw data


@dataclass
class Stream:
    """One pickle stream: where (a zip member, `gzip`, `npy`), what it imports and calls."""

    where: str
    findings: Findings = field(default_factory=Findings)
    error: str | None = None


def pickle_streams(path: Path) -> list[Stream] | None:
    """Every pickle stream in the file, scanned; None when the file holds no pickle at all."""
    with open(path, "rb") as f:
        head = f.read(8)
        f.seek(0)
        if head.startswith(_ZIP):
            return _zip_streams(path)
        name = path.name.lower()
        kind = _kind(head, name)
        stream = _scan(f, kind, strict=not name.endswith(_LEGACY_TORCH)) if kind else None
    return [stream] if stream and stream.where else None


def _peek(f: IO[bytes]) -> bytes:
    """The next two bytes without consuming them ("" at the end)."""
    return bytes(f.peek(2)[:2])  # type: ignore[attr-defined]


def _scan(f: IO[bytes], kind: str, where: str = "", strict: bool = True) -> Stream:
    """Scan the pickles of one stream: the first, and every one after it (a second
    `pickle.load` reads on where the first stopped). With `strict`, whatever follows must be
    pickles; otherwise (torch's legacy files end in raw storage) only what looks like one."""
    stream = Stream(where or kind)
    try:
        with _opened(f, kind) as inner:
            if kind == "npy" and not _npy_has_objects(inner):
                stream.where = ""  # a plain array: no pickle in it
                return stream
            if kind == "gzip" and not _looks_pickle(_peek(inner)):
                stream.where = ""
                return stream
            scan_stream(inner, stream.findings)
            while kind != "npy" and (rest := _peek(inner)) and (strict or _looks_pickle(rest)):
                scan_stream(inner, stream.findings)
    except (ValueError, EOFError, OSError, zlib.error, lzma.LZMAError, IndexError) as exc:
        stream.error = str(exc) or type(exc).__name__
    return stream


class _opened:
    """The decompressed view of a stream of the given kind (the stream itself for most)."""

    def __init__(self, f: IO[bytes], kind: str) -> None:
        self.f, self.kind = f, kind
        self.inner: IO[bytes] = f

    def __enter__(self) -> IO[bytes]:
        if self.kind == "gzip":
            self.inner = gzip.GzipFile(fileobj=self.f)  # type: ignore[assignment]
        elif self.kind == "bz2":
            self.inner = bz2.BZ2File(self.f)
        elif self.kind == "xz":
            self.inner = lzma.LZMAFile(self.f)
        elif self.kind == "zlib":
            self.inner = _ZlibReader(self.f)  # type: ignore[assignment]
        return self.inner

    def __exit__(self, *exc: object) -> None:
        if self.inner is not self.f:
            self.inner.close()


class _ZlibReader:
    """A readable file over a raw zlib stream (joblib's `.z` compression)."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f, self.z, self.buffer = f, zlib.decompressobj(), bytearray()
        self.offset = 0

    def tell(self) -> int:
        return self.offset

    def peek(self, n: int) -> bytes:
        while len(self.buffer) < n and self._fill():
            pass
        return bytes(self.buffer[:n])

    def _fill(self) -> bool:
        raw = self.f.read(1 << 20)
        more = self.z.decompress(raw) if raw else self.z.flush()
        self.buffer += more
        return bool(raw or more)

    def read(self, n: int = -1) -> bytes:
        while (n < 0 or len(self.buffer) < n) and self._fill():
            pass
        size = len(self.buffer) if n < 0 else min(n, len(self.buffer))
        out = bytes(self.buffer[:size])
        del self.buffer[:size]
        self.offset += size
        return out

    def readline(self) -> bytes:
        while b"\n" not in self.buffer and self._fill():
            pass
        end = self.buffer.find(b"\n") + 1 or len(self.buffer)
        return self.read(end)

    def close(self) -> None:
        pass


def _npy_has_objects(f: IO[bytes]) -> bool:
    """Read a .npy header (numpy parses it as a literal, never as code): objects follow pickled."""
    from numpy.lib import format as npy

    version = npy.read_magic(f)
    read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
    _, _, dtype = read_header(f)
    return bool(dtype.hasobject)


def _zip_streams(path: Path) -> list[Stream] | None:
    """The pickles inside a zip: torch's `*/data.pkl` (and any other .pkl), npz members."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return None
    found: list[Stream] = []
    with archive:
        for info in _members(archive):
            with archive.open(info) as member:
                head = member.read(8)
            kind = "npy" if head.startswith(_NPY) else "pickle"
            with archive.open(info) as member:
                stream = _scan(member, kind, info.filename)
            if stream.where:
                found.append(stream)
    return found or None


def _members(archive: zipfile.ZipFile) -> Iterator[zipfile.ZipInfo]:
    for info in archive.infolist():
        if info.filename.endswith((".pkl", ".npy")) and not info.is_dir():
            yield info
