"""`materialize` and `is_archive`: archives where a bundle folder is expected."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from archive_kit import SCAFFOLD, tree_listing

from bundle_cli.archive.cache import cache_root, is_archive, materialize
from bundle_cli.archive.extract import extract_into
from bundle_cli.errors import UnsafeArchiveError


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BUNDLE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "archives"


@pytest.fixture
def archive(scaffold: Callable[..., Path], pack: Callable[..., Path]) -> Path:
    return pack(scaffold(), "model.tar.gz")


def test_materialize_unpacks_into_a_folder_named_by_digest(archive: Path, cache_dir: Path) -> None:
    folder = materialize(archive)
    assert folder == cache_dir / hashlib.sha256(archive.read_bytes()).hexdigest()
    assert (folder / "model/model.py").read_text() == SCAFFOLD["model/model.py"]
    assert (folder / "empty").is_dir()
    assert sorted(os.listdir(cache_dir)) == [folder.name, folder.name + ".json"], (
        "the folder and its record, no temp folder left beside them"
    )


def test_second_call_reuses_the_extraction(
    archive: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = materialize(archive)
    inode = folder.stat().st_ino

    def no_extraction(*args: object, **kwargs: object) -> None:
        raise AssertionError("extracted again")

    monkeypatch.setattr("bundle_cli.archive.cache.extract_into", no_extraction)
    assert materialize(archive) == folder
    assert folder.stat().st_ino == inode


def test_default_cache_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BUNDLE_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_root() == tmp_path / ".cache" / "bundle" / "archives"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "bundle" / "archives"


def test_corrupt_archive_is_refused_and_nothing_is_cached(
    archive: Path, cache_dir: Path, tmp_path: Path
) -> None:
    data = bytearray(archive.read_bytes())
    data[-20] ^= 0x01
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchiveError):
        materialize(bad)
    assert not cache_dir.exists() or os.listdir(cache_dir) == []


def test_archive_that_changes_during_extraction_is_refused(archive: Path, tmp_path: Path) -> None:
    with pytest.raises(UnsafeArchiveError, match="changed"):
        extract_into(archive, tmp_path / "dest", expect_sha256="0" * 64)
    assert sorted(os.listdir(tmp_path)) == ["bundle", "model.tar.gz"]


def test_concurrent_materialize_of_the_same_archive(
    tree: Callable[..., Path], tmp_path: Path, pack: Callable[..., Path]
) -> None:
    data = np.random.default_rng(5).bytes(24 * 1024 * 1024)
    bundle = tree({**SCAFFOLD, "data/big.bin": data}, name="big")
    archive = pack(bundle, "big.tar.gz")
    env = {**os.environ, "BUNDLE_CACHE_DIR": str(tmp_path / "cache")}
    code = "import sys; from pathlib import Path; from bundle_cli.archive import materialize; print(materialize(Path(sys.argv[1])))"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(archive)], stdout=subprocess.PIPE, text=True, env=env
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0]
    assert len(set(outputs)) == 1
    folder = Path(outputs[0])
    assert sorted(os.listdir(folder.parent)) == [folder.name, folder.name + ".json"], (
        "the losers cleaned up their temp folders"
    )
    assert (folder / "data/big.bin").read_bytes() == data
    assert tree_listing(folder) == sorted([*tree_listing(bundle), ".bundle-manifest.json"])


def test_is_archive(archive: Path, scaffold: Callable[..., Path], tmp_path: Path) -> None:
    assert is_archive(archive)
    assert not is_archive(archive.parent / "bundle")
    text = tmp_path / "input.json"
    text.write_text("{}")
    assert not is_archive(text)
    assert not is_archive(tmp_path / "missing.tar.gz")
    foreign = tmp_path / "foreign.tar.gz"
    subprocess.run(["tar", "-czf", str(foreign), "-C", str(tmp_path), "input.json"], check=True)
    assert is_archive(foreign), (
        "a foreign .tar.gz is an archive, refused later with a clear message"
    )


def test_archive_digest_is_complete_even_when_hashing_lags(
    tree: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pack: Callable[..., Path],
) -> None:
    """The archive's own sha256 runs behind the extraction; all of it must count."""
    import time

    from bundle_cli.archive import scan

    class Lagging(scan._Background):
        def call(self, fn: Callable[[bytes], None], data: bytes) -> None:
            def late(d: bytes) -> None:
                time.sleep(0.05)
                fn(d)

            super().call(late, data)

    original = scan.Scanner.__init__

    def init(self: scan.Scanner, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        self.archive_hasher = Lagging()

    monkeypatch.setattr(scan.Scanner, "__init__", init)
    data = np.random.default_rng(2).bytes(6 * 1024 * 1024)
    archive = pack(tree({**SCAFFOLD, "data/w.bin": data}, name="lag"), "lag.tar.gz")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    result = extract_into(archive, tmp_path / "dest", expect_sha256=digest)
    assert (result.path / "data/w.bin").read_bytes() == data
