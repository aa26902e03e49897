"""Checking a large archive: inflating on its own thread, with the same findings as reading in turn.

The archives here are larger than the read-ahead window (archive/scan.py's _AHEAD chunks of
1 MiB), so that the inflating thread runs ahead of the checks, meets damage before they do, and is
stopped while it still has data to inflate.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from archive_kit import MINIMAL, write_bytes

from bundle_cli.archive import reader
from bundle_cli.archive.extract import unpack
from bundle_cli.archive.verify import verify
from bundle_cli.errors import UnsafeArchiveError

MIB = 1024 * 1024


@pytest.fixture
def big_archive(tree: Callable[..., Path], pack: Callable[..., Path]) -> Path:
    """12 MiB stored (random) then 12 MiB of ISA-L pieces (float32): 24 chunks to inflate."""
    rng = np.random.default_rng(5)
    bundle = tree(
        MINIMAL
        | {
            "data/a-random.bin": rng.bytes(12 * MIB),
            "data/b-weights.f32": rng.standard_normal(3 * MIB).astype(np.float32).tobytes(),
        }
    )
    return pack(bundle, "big.tar.gz")


def _inflating_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "bundle-inflate"]


def _offset_in(archive: Path, name: str) -> int:
    """Where in the archive file the packed bytes of a member lie (the middle of them)."""
    data = (archive.parent / "unpacked").joinpath(name).read_bytes()
    sample = data[len(data) // 2 : len(data) // 2 + 64]
    position = archive.read_bytes().find(sample)
    assert position > 0  # stored data appear as they are
    return position


def test_read_ahead_yields_the_bytes_gzip_does(big_archive: Path) -> None:
    """The tar stream through the thread equals the one the standard library's gzip decodes."""
    with open(big_archive, "rb") as f:
        stream = reader.InflateStream(f)
        head = stream.read(512)
        stream.read_ahead(3)
        digest = hashlib.sha256(head)
        while chunk := stream.read_some(reader.CHUNK):
            digest.update(chunk)
        stream.close()
    assert stream.finished
    assert (
        digest.hexdigest() == hashlib.sha256(gzip.decompress(big_archive.read_bytes())).hexdigest()
    )
    assert _inflating_threads() == []


def test_damage_found_ahead_is_reported_where_the_checks_reach_it(
    big_archive: Path, tmp_path: Path
) -> None:
    unpack(big_archive, big_archive.parent / "unpacked")
    data = bytearray(big_archive.read_bytes())
    # a bad trailer CRC: the thread may meet it before the checks are done with the members; it
    # is reported after all of them were checked, as when reading in turn
    data[-5] ^= 0x01
    damaged = write_bytes(tmp_path / "damaged.tar.gz", bytes(data))
    report = verify(damaged)
    assert [p.kind for p in report.problems] == ["corrupt"]
    assert "checksum" in report.problems[0].message
    assert report.files_checked == len(report.manifest.files)  # type: ignore[union-attr]
    assert _inflating_threads() == []


def test_a_truncated_large_archive_is_corrupt_after_the_members_before_the_cut(
    big_archive: Path, tmp_path: Path
) -> None:
    data = big_archive.read_bytes()
    cut = write_bytes(tmp_path / "cut.tar.gz", data[: len(data) * 3 // 4])
    report = verify(cut)
    assert not report.ok
    assert [p.kind for p in report.problems] == ["corrupt"]
    assert "truncated" in report.problems[0].message
    assert report.manifest is not None and report.files_checked >= 1
    assert _inflating_threads() == []


def test_unpack_stops_the_thread_at_an_early_altered_member(
    big_archive: Path, tmp_path: Path
) -> None:
    unpack(big_archive, big_archive.parent / "unpacked")
    position = _offset_in(big_archive, "data/a-random.bin")
    data = bytearray(big_archive.read_bytes())
    data[position] ^= 0xFF  # in the first large member: the rest is still to be inflated
    damaged = write_bytes(tmp_path / "damaged.tar.gz", bytes(data))
    with pytest.raises(UnsafeArchiveError):
        unpack(damaged, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert _inflating_threads() == []
    assert any(p.kind == "corrupt" for p in verify(damaged).problems)
