"""The digest cache: used when the packed bytes' CRC confirms it, ignored when stale or asked to."""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from archive_kit import MINIMAL

from bundle_cli.archive.digests import MIN_SIZE, DigestCache, Known, identity
from bundle_cli.archive.manifest import Manifest
from bundle_cli.archive.verify import verify
from bundle_cli.archive.writer import write_archive
from bundle_cli.errors import UsageError
from bundle_cli.packaging import build_manifest, plan

WEIGHTS = np.random.default_rng(9).bytes(MIN_SIZE + 12345)
TRUE_SHA = hashlib.sha256(WEIGHTS).hexdigest()


@pytest.fixture
def bundle(tree: Callable[..., Path]) -> Path:
    return tree(MINIMAL | {"data/w.bin": WEIGHTS})


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DigestCache:
    # Files written by the test are younger than the two-second guard; lift it for these tests.
    monkeypatch.setattr("bundle_cli.archive.digests._RACY_NS", 0)
    return DigestCache.default()


def digest_in_manifest(archive: Path) -> str:
    from bundle_cli.archive.inspect import inspect

    record = next(f for f in inspect(archive).manifest.files if f.path == "data/w.bin")
    return record.sha256


def plant(cache: DigestCache, path: Path, known: Known) -> None:
    cache.put(path, os.stat(path), known, read_started_ns=10**30)


def test_first_package_fills_the_cache(
    bundle: Path, cache: DigestCache, pack: Callable[..., Path]
) -> None:
    pack(bundle)
    known = cache.get(bundle / "data/w.bin", os.stat(bundle / "data/w.bin"))
    assert known == Known(TRUE_SHA, zlib.crc32(WEIGHTS))


def test_a_confirmed_entry_is_used_instead_of_hashing(
    bundle: Path, cache: DigestCache, pack: Callable[..., Path]
) -> None:
    # An entry whose CRC matches but whose sha256 is made up: its use shows up in the manifest.
    plant(cache, bundle / "data/w.bin", Known("ab" * 32, zlib.crc32(WEIGHTS)))
    assert digest_in_manifest(pack(bundle)) == "ab" * 32
    assert digest_in_manifest(pack(bundle, "b.tar.gz", rehash=True)) == TRUE_SHA
    assert digest_in_manifest(pack(bundle, "c.tar.gz")) == TRUE_SHA, "refreshed"


def test_a_stale_entry_is_caught_by_the_crc_and_replaced(
    bundle: Path, cache: DigestCache, pack: Callable[..., Path]
) -> None:
    plant(cache, bundle / "data/w.bin", Known("cd" * 32, zlib.crc32(b"other content")))
    archive = pack(bundle)
    assert digest_in_manifest(archive) == TRUE_SHA
    assert verify(archive).ok
    assert cache.get(bundle / "data/w.bin", os.stat(bundle / "data/w.bin")) == Known(
        TRUE_SHA, zlib.crc32(WEIGHTS)
    )


def test_a_touched_file_has_a_new_identity(bundle: Path, cache: DigestCache) -> None:
    path = bundle / "data/w.bin"
    before = identity(path, os.stat(path))
    os.utime(path, (1, 1))
    assert identity(path, os.stat(path)) != before


def test_young_files_are_not_cached(bundle: Path, pack: Callable[..., Path]) -> None:
    pack(bundle)
    assert DigestCache.default().get(bundle / "data/w.bin", os.stat(bundle / "data/w.bin")) is None


def test_cache_can_be_switched_off_by_environment(
    bundle: Path, cache: DigestCache, pack: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    plant(cache, bundle / "data/w.bin", Known("ab" * 32, zlib.crc32(WEIGHTS)))
    monkeypatch.setenv("BUNDLE_DIGEST_CACHE", "0")
    assert digest_in_manifest(pack(bundle)) == TRUE_SHA


def test_a_file_changed_between_selection_and_reading_is_refused(
    bundle: Path, tmp_path: Path
) -> None:
    config, selection, _ = plan(bundle)
    manifest: Manifest = build_manifest(config, selection)
    with open(bundle / "data/w.bin", "ab") as f:
        f.write(b"grown")
    target = tmp_path / "out" / "a.tar.gz"
    target.parent.mkdir()
    with pytest.raises(UsageError, match="changed while being packaged"):
        write_archive(target, selection, manifest, mtime=0)
    assert os.listdir(target.parent) == []
