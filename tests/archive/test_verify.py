"""`bundle verify` and `bundle inspect`: every flipped byte caught, problems named by kind."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from archive_kit import (
    CONFIG,
    MINIMAL,
    SCAFFOLD,
    frame,
    manifest_member,
    member,
    tar_of,
    write_bytes,
)
from typer.testing import Result

from bundle_cli.archive.inspect import inspect
from bundle_cli.archive.verify import verify
from bundle_cli.errors import ExitCode, UnsafeArchiveError


@pytest.fixture
def small_archive(tree: Callable[..., Path], pack: Callable[..., Path]) -> Path:
    """A small archive with stored, ISA-L and zlib pieces, a folder and an executable."""
    rng = np.random.default_rng(3)
    bundle = tree(
        MINIMAL
        | {
            "data/random.bin": rng.bytes(70_000),
            "data/w.f32": rng.standard_normal(20_000).astype(np.float32).tobytes(),
            "run.sh": "#!/bin/sh\necho hi\n",
        }
    )
    (bundle / "run.sh").chmod(0o755)
    return pack(bundle, "small.tar.gz")


def detected(path: Path) -> bool:
    try:
        return not verify(path).ok
    except UnsafeArchiveError:
        return True


def test_a_good_archive_verifies(small_archive: Path) -> None:
    report = verify(small_archive)
    assert report.ok and report.problems == []
    assert report.files_checked == 5
    assert report.bytes_checked == sum(f.size for f in report.manifest.files)  # type: ignore[union-attr]


def test_every_flipped_byte_is_detected(small_archive: Path, tmp_path: Path) -> None:
    """Every byte of the framing (gzip header, manifest, first blocks, tail), a spread of the rest."""
    data = small_archive.read_bytes()
    n = len(data)
    positions = sorted(
        set(range(0, 200)) | set(range(n - 100, n)) | set(range(200, n - 100, n // 100))
    )
    flipped = tmp_path / "flipped.tar.gz"
    missed = []
    for pos in positions:
        for mask in (0x01, 0x80, 0xFF):  # low bit, high bit (deflate padding), whole byte
            corrupt = bytearray(data)
            corrupt[pos] ^= mask
            flipped.write_bytes(corrupt)
            if not detected(flipped):
                missed.append((pos, mask))
    assert len(positions) > 390
    assert missed == [], f"undetected flips out of {len(positions) * 3} tried"


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d[:-1],
        lambda d: d[: len(d) // 2],
        lambda d: d[:30],
        lambda d: d + b"\0",
        lambda d: d + d,
        lambda d: b"",
    ],
    ids=["last-byte-cut", "half", "header-only", "one-zero-appended", "doubled", "empty"],
)
def test_truncated_or_extended_archives_are_detected(
    small_archive: Path, tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    assert detected(write_bytes(tmp_path / "damaged.tar.gz", damage(small_archive.read_bytes())))


def _kinds(path: Path) -> list[tuple[str, str | None]]:
    return sorted((p.kind, p.path) for p in verify(path).problems)


def test_missing_extra_and_altered_members_are_each_reported(tmp_path: Path) -> None:
    listed = {"config.yaml": CONFIG.encode(), "a.txt": b"A", "gone.txt": b"G", "exec.sh": b"#!"}
    tar = tar_of(
        manifest_member(listed, dirs=["d"]),
        member("config.yaml", CONFIG.encode()),
        member("a.txt", b"B"),  # content differs
        member(
            "exec.sh", b"#!", mode=0o644
        ),  # lost its executable bit... which the manifest did not set
        member("surprise.txt", b"S"),
    )
    archive = write_bytes(tmp_path / "x.tar.gz", frame(tar))
    assert _kinds(archive) == [
        ("altered", "a.txt"),
        ("extra", "surprise.txt"),
        ("missing", "d"),
        ("missing", "gone.txt"),
    ]


def test_unsafe_members_are_reported_without_stopping(tmp_path: Path) -> None:
    import tarfile

    files = {"config.yaml": CONFIG.encode()}
    tar = tar_of(
        manifest_member(files),
        member("../escape.txt", b"E"),
        member("link", kind=tarfile.SYMTYPE, linkname="/etc/passwd"),
        member("config.yaml", CONFIG.encode()),
    )
    problems = verify(write_bytes(tmp_path / "u.tar.gz", frame(tar))).problems
    assert [(p.kind, p.path) for p in problems] == [("unsafe", "../escape.txt"), ("unsafe", "link")]
    assert "symbolic link" in problems[1].message


def test_altered_size_and_mode_are_reported(tmp_path: Path) -> None:
    files = {"config.yaml": b"x", "run.sh": b"#!"}
    tar = tar_of(
        manifest_member(files), member("config.yaml", b"xy"), member("run.sh", b"#!", mode=0o4755)
    )
    assert _kinds(write_bytes(tmp_path / "m.tar.gz", frame(tar))) == [
        ("altered", "config.yaml"),
        ("altered", "run.sh"),
    ]


def test_foreign_gzip_is_not_a_bundle_archive(tmp_path: Path) -> None:
    import subprocess

    (tmp_path / "f").mkdir()
    (tmp_path / "f/config.yaml").write_text("x")
    subprocess.run(
        ["tar", "-czf", str(tmp_path / "foreign.tar.gz"), "-C", str(tmp_path / "f"), "."],
        check=True,
    )
    with pytest.raises(UnsafeArchiveError, match="not a bundle archive"):
        verify(tmp_path / "foreign.tar.gz")


def test_cli_verify_exit_codes_and_json(
    small_archive: Path, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    ok = cli("verify", str(small_archive), "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["ok"] is True
    data = bytearray(small_archive.read_bytes())
    data[len(data) // 2] ^= 0x10
    bad = cli("verify", str(write_bytes(tmp_path / "bad.tar.gz", bytes(data))), "--json")
    assert bad.exit_code == ExitCode.UNSAFE
    report = json.loads(bad.stdout)
    assert report["ok"] is False and report["problems"]
    assert "FAILED" in bad.stderr
    missing = cli("verify", str(tmp_path / "nope.tar.gz"))
    assert missing.exit_code == ExitCode.USAGE


def test_verify_subprocess_reports_throughput(
    small_archive: Path, run_bundle: Callable[..., object]
) -> None:
    result = run_bundle("verify", str(small_archive))
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    assert "ok: 5 files" in result.stderr and "/s" in result.stderr  # type: ignore[attr-defined]
    assert result.stdout == ""  # type: ignore[attr-defined]


def test_inspect_reads_only_the_head(small_archive: Path, tmp_path: Path) -> None:
    data = bytearray(small_archive.read_bytes())
    data[-100] ^= 0xFF  # damage near the end: inspect does not read that far, verify does
    damaged = write_bytes(tmp_path / "tail-damaged.tar.gz", bytes(data))
    result = inspect(damaged)
    assert result.manifest.bundle["name"] == "Tiny Doubler"
    assert {f.path for f in result.manifest.files} == {
        "config.yaml",
        "model/model.py",
        "data/random.bin",
        "data/w.f32",
        "run.sh",
    }
    assert detected(damaged)


def test_cli_inspect_human_and_json(small_archive: Path, cli: Callable[..., Result]) -> None:
    human = cli("inspect", str(small_archive))
    assert human.exit_code == 0, human.output
    assert (
        "Tiny Doubler" in human.stdout
        and "numpy>=1.24" in human.stdout
        and "run.sh" in human.stdout
    )
    doc = json.loads(cli("inspect", str(small_archive), "--json").stdout)
    assert (
        doc["bundle"]["version"] == "1.0.0" and doc["file_count"] == 5 and doc["verified"] is False
    )
    sizes = {f["path"]: f["size"] for f in doc["files"]}
    assert sizes["data/random.bin"] == 70_000
    config_digest = hashlib.sha256(SCAFFOLD["config.yaml"].encode()).hexdigest()  # type: ignore[union-attr]
    assert doc["config_sha256"] == config_digest


def test_inspect_of_a_non_archive_exits_4(tmp_path: Path, cli: Callable[..., Result]) -> None:
    not_archive = write_bytes(tmp_path / "x.tar.gz", os.urandom(100))
    result = cli("inspect", str(not_archive))
    assert result.exit_code == ExitCode.UNSAFE
    assert "Traceback" not in result.output
