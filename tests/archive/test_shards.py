"""Large files are recorded by fixed-size shard digests; archives stay reproducible and checked."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bundle_cli.archive.inspect import inspect
from bundle_cli.archive.shards import SHARD_SIZE
from bundle_cli.archive.verify import verify


def test_a_large_file_carries_one_digest_per_shard(
    scaffold: Callable[..., Path], pack: Callable[..., Path], tmp_path: Path
) -> None:
    big = os.urandom(2 * SHARD_SIZE + 12345)
    folder = scaffold(clutter=False, extra={"data/big.bin": big, "data/small.bin": b"x" * 100})
    first = pack(folder, "a.tar.gz", rehash=True)
    manifest = inspect(first).manifest
    assert manifest.shard_size == SHARD_SIZE
    records = {f.path: f for f in manifest.files}
    pieces = [big[i : i + SHARD_SIZE] for i in range(0, len(big), SHARD_SIZE)]
    assert records["data/big.bin"].shards == [hashlib.sha256(p).hexdigest() for p in pieces]
    assert records["data/big.bin"].sha256 is None
    assert records["data/small.bin"].sha256 == hashlib.sha256(b"x" * 100).hexdigest()
    assert records["data/small.bin"].shards is None
    assert verify(first).ok
    # the digest cache gives the same shards (and bytes) as hashing everything again
    again = pack(folder, "b.tar.gz")
    assert again.read_bytes() == first.read_bytes()


def test_a_manifest_whose_shards_lie_is_caught(
    scaffold: Callable[..., Path], pack: Callable[..., Path], run_bundle: Callable[..., Any]
) -> None:
    folder = scaffold(clutter=False, extra={"data/big.bin": os.urandom(SHARD_SIZE + 1)})
    archive = pack(folder)
    report = run_bundle("verify", str(archive), "--json")
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["files_checked"] == len(inspect(archive).manifest.files)
    # a manifest listing another digest for the second shard is refused (exit 4)
    data = archive.read_bytes()
    shards = inspect(archive).manifest.files
    second = next(f for f in shards if f.shards)
    assert second.shards is not None
    forged = data.replace(second.shards[1].encode(), b"0" * 64)
    assert forged != data
    archive.write_bytes(forged)
    bad = run_bundle("verify", str(archive))
    assert bad.returncode == 4, bad.stderr
