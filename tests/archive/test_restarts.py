"""Restart points: a large archive is inflated on every core, and a manifest that lies about
where the compressed stream may be entered is a corrupt archive, never other content."""

from __future__ import annotations

import hashlib
import random
import re
import struct
import subprocess
import tarfile
import zlib
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from archive_kit import MINIMAL

from bundle_cli.archive import gzipfmt, restarts, segments
from bundle_cli.archive.extract import unpack
from bundle_cli.archive.manifest import parse
from bundle_cli.archive.restarts import RESTART, Point
from bundle_cli.archive.verify import verify
from bundle_cli.errors import UnsafeArchiveError

MIB = 1024 * 1024
_FIELD = re.compile(rb'"restarts": "([0-9a-f]+)"')


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    """Three segments and more, each kind of encoding among them: stored random bytes, float
    weights (ISA-L) and text with long repeats (zlib, back-references everywhere)."""
    rng = np.random.default_rng(11)
    words = [f"word{i}" for i in range(3000)]
    text = " ".join([words[i] for i in rng.integers(0, len(words), 1_200_000)]).encode()
    return {k: v.encode() if isinstance(v, str) else v for k, v in MINIMAL.items()} | {
        "data/a-random.bin": rng.bytes(9 * MIB + 77),
        "data/b-weights.f32": rng.standard_normal(2 * MIB).astype(np.float32).tobytes(),
        "data/c-text.txt": text,
    }


@pytest.fixture
def archive(tree: Callable[..., Path], pack: Callable[..., Path], files: dict[str, bytes]) -> Path:
    return pack(tree(files), "big.tar.gz")


def _points(archive: Path) -> tuple[list[Point], int]:
    found = _FIELD.search(archive.read_bytes())
    assert found is not None, "no restart points in the manifest"
    text = found.group(1).decode()
    points = restarts.parse(text)
    assert points is not None
    return points, len(text) // 32


def _rewritten(archive: Path, points: list[Point], out: Path) -> Path:
    """The archive with other restart points, every checksum made to fit again (as an attacker
    would): the manifest is stored, so the field is edited in place."""
    data = bytearray(archive.read_bytes())
    found = _FIELD.search(data)
    assert found is not None
    slots = (found.end(1) - found.start(1)) // 32
    data[found.start(1) : found.end(1)] = restarts.encode(points, slots).encode()
    raw = zlib.decompressobj(-15).decompress(bytes(data[gzipfmt.HEADER_SIZE :]))
    data[-8:] = struct.pack("<II", zlib.crc32(raw), len(raw) & 0xFFFFFFFF)
    data[: gzipfmt.HEADER_SIZE] = gzipfmt.header(zlib.crc32(data[gzipfmt.HEADER_SIZE :]))
    out.write_bytes(bytes(data))
    return out


def _serially(archive: Path) -> dict[str, bytes]:
    """What tar and gzip read from the archive: one decoder from the start."""
    with tarfile.open(archive, "r:gz") as tf:
        found = {m.name: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}  # type: ignore[union-attr]
    del found[".bundle-manifest.json"]
    return found


def test_a_large_archive_is_inflated_segment_by_segment(
    archive: Path, files: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    points, slots = _points(archive)
    stream = sum(len(v) for v in files.values())
    assert len(points) - 1 >= stream // RESTART - 1 >= 2, "a segment every RESTART bytes"
    assert len(points) <= slots
    inflated: list[tuple[int, int]] = []
    real = segments._inflate

    def spy(fd: int, start: int, end: int, size: int) -> tuple[list[bytes], int, int, int]:
        inflated.append((start, end))
        return real(fd, start, end, size)

    monkeypatch.setattr(segments, "_inflate", spy)
    report = verify(archive)
    assert report.ok, report.problems
    assert sorted(inflated) == list(
        zip(
            [gzipfmt.HEADER_SIZE] + [c for _, c in points[:-1]], [c for _, c in points], strict=True
        )
    )
    unpack(archive, tmp_path / "out")
    for name, data in files.items():
        assert (tmp_path / "out" / name).read_bytes() == data, name
    assert _serially(archive) == files
    subprocess.run(["gzip", "-t", str(archive)], check=True)


def test_segments_start_without_the_window_before_them(archive: Path) -> None:
    """A decoder started with nothing before it decodes each segment: what gzip reads there."""
    points, _ = _points(archive)
    data = archive.read_bytes()
    whole = zlib.decompressobj(-15).decompress(data[gzipfmt.HEADER_SIZE :])
    bounds = [(0, gzipfmt.HEADER_SIZE), *points]
    for (raw0, comp0), (raw1, comp1) in pairwise(bounds):
        fresh = zlib.decompressobj(-15).decompress(data[comp0:comp1])
        assert fresh == whole[raw0:raw1]


def test_the_same_files_give_the_same_bytes(
    tree: Callable[..., Path], pack: Callable[..., Path], files: dict[str, bytes], archive: Path
) -> None:
    again = pack(tree(files, name="again"), "again.tar.gz")
    assert (
        hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(archive.read_bytes()).digest()
    )


def test_small_archives_have_no_restart_points(
    tree: Callable[..., Path], pack: Callable[..., Path]
) -> None:
    small = pack(tree(MINIMAL | {"data/x.bin": bytes(MIB)}))
    assert _FIELD.search(small.read_bytes()) is None
    assert b'"restarts"' not in small.read_bytes()
    assert verify(small).ok


def test_the_rewriting_helper_keeps_a_good_archive_good(archive: Path, tmp_path: Path) -> None:
    points, _ = _points(archive)
    same = _rewritten(archive, points, tmp_path / "same.tar.gz")
    assert same.read_bytes() == archive.read_bytes()


def _refused(bad: Path, tmp_path: Path) -> str:
    report = verify(bad)
    assert not report.ok
    assert [p.kind for p in report.problems] == ["corrupt"], report.problems
    with pytest.raises(UnsafeArchiveError):
        unpack(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    return report.problems[0].message


@pytest.mark.parametrize("shift", [-1, 1, 2, 5, 4096])
def test_a_restart_point_off_its_boundary_is_corrupt(
    archive: Path, tmp_path: Path, shift: int
) -> None:
    points, _ = _points(archive)
    for k in range(len(points) - 1):
        moved = list(points)
        moved[k] = (points[k][0], points[k][1] + shift)
        bad = _rewritten(archive, moved, tmp_path / f"bad{k}.tar.gz")
        message = _refused(bad, tmp_path)
        assert "restart point" in message or "bad compressed data" in message, message


@pytest.mark.parametrize("shift", [-512, -1, 1, 512])
def test_a_restart_point_with_the_wrong_tar_offset_is_corrupt(
    archive: Path, tmp_path: Path, shift: int
) -> None:
    points, _ = _points(archive)
    moved = list(points)
    moved[1] = (points[1][0] + shift, points[1][1])
    message = _refused(_rewritten(archive, moved, tmp_path / "bad.tar.gz"), tmp_path)
    assert "restart point" in message, message


def test_an_end_past_the_data_is_corrupt(archive: Path, tmp_path: Path) -> None:
    points, _ = _points(archive)
    for end in [(points[-1][0] + 512, points[-1][1] + 5), (points[-1][0], points[-1][1] - 3)]:
        bad = _rewritten(archive, [*points[:-1], end], tmp_path / "bad.tar.gz")
        _refused(bad, tmp_path)


def test_fewer_restart_points_still_read_the_same(archive: Path, tmp_path: Path) -> None:
    """Two segments merged are still a stretch of the one stream: nothing wrong, nothing else."""
    points, _ = _points(archive)
    merged = _rewritten(archive, [points[0], *points[2:]], tmp_path / "merged.tar.gz")
    assert verify(merged).ok
    assert _serially(merged) == _serially(archive)


def test_whatever_points_are_claimed_verify_never_accepts_other_content(
    archive: Path, tmp_path: Path
) -> None:
    """Random lies about the points: verify refuses them, or what it checked is what gzip reads."""
    points, _ = _points(archive)
    size = archive.stat().st_size
    rng = random.Random(7)
    expected = _serially(archive)
    for i in range(25):
        lied = [(p[0] + rng.randint(-3, 3) * 512, p[1] + rng.randint(-40, 40)) for p in points]
        lied[rng.randrange(len(lied))] = (rng.randrange(1, points[-1][0]), rng.randrange(30, size))
        lied.sort()
        if restarts.parse(restarts.encode(lied, len(lied))) is None:
            continue  # not a growing list: the manifest itself is refused
        bad = _rewritten(archive, lied, tmp_path / f"lie{i}.tar.gz")
        if verify(bad).ok:
            assert _serially(bad) == expected


def test_a_malformed_field_is_an_invalid_manifest(archive: Path, tmp_path: Path) -> None:
    data = bytearray(archive.read_bytes())
    found = _FIELD.search(data)
    assert found is not None
    data[found.start(1)] = ord("g")
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchiveError, match="invalid"):
        verify(bad)
    doc = _FIELD.search(archive.read_bytes())
    assert doc is not None
    for text in ["", "0" * 32, "1" * 31, "00000000000000010000000000000002" * 2]:
        assert restarts.parse(text) is None, text
    assert parse(_manifest_bytes(archive)).restarts is not None


def _manifest_bytes(archive: Path) -> bytes:
    with tarfile.open(archive, "r:gz") as tf:
        f = tf.extractfile(".bundle-manifest.json")
        assert f is not None
        return f.read()


def test_a_point_inside_a_stored_block_is_caught_by_the_boundary_probe(tmp_path: Path) -> None:
    """The attack the end-of-segment probe exists for: a stored block whose bytes are themselves
    deflate data. gzip reads them as they are; a decoder started inside the block would decode
    them into other bytes. Every other check passes (lengths, input used up, checksums refitted)."""
    evil = zlib.compressobj(6, zlib.DEFLATED, -15)
    inner = evil.compress(b"other content " * 100) + evil.flush(zlib.Z_SYNC_FLUSH)
    first = b"".join(gzipfmt.stored_blocks(b"HEAD" * 2))
    opening = struct.pack("<BHH", 0, len(inner), len(inner) ^ 0xFFFF)  # a stored block of `inner`
    stream = first + opening + inner
    start = gzipfmt.HEADER_SIZE
    gunzip_reads = b"HEAD" * 2 + inner
    lie = b"HEAD" * 2 + b"other content " * 100
    tail = gzipfmt.FINAL_BLOCK + gzipfmt.trailer(zlib.crc32(lie), len(lie))
    body = stream + tail
    path = tmp_path / "crafted.gz"
    path.write_bytes(gzipfmt.header(zlib.crc32(body)) + body)
    assert zlib.decompressobj(-15).decompress(body) == gunzip_reads
    points = [(8, start + len(first) + len(opening)), (len(lie), start + len(stream))]
    with open(path, "rb") as f:
        found = segments.Segments(
            f.fileno(),
            points,
            head=b"",
            expected_outer=zlib.crc32(body),
            max_size=1 << 20,
            workers=2,
        )
        try:
            with pytest.raises(UnsafeArchiveError, match="restart point"):
                b"".join(found)
        finally:
            found.close()


def test_a_segment_larger_than_a_thread_may_hold_is_refused(archive: Path, tmp_path: Path) -> None:
    """Memory stays bounded whatever a manifest claims: one segment of the whole stream (more
    than MAX_SEGMENT) is refused before anything is inflated."""
    points, _ = _points(archive)
    assert points[-1][0] > segments.MAX_SEGMENT
    message = _refused(_rewritten(archive, [points[-1]], tmp_path / "one.tar.gz"), tmp_path)
    assert "restart point" in message
