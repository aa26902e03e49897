"""The archive of the real scaffold (`bundle init`): golden members, and it round-trips."""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from bundle_cli.archive.cache import materialize
from bundle_cli.validation import validate

GOLDEN = [
    ".bundle-manifest.json",
    ".bundleignore",
    "README.md",
    "config.yaml",
    "data",
    "data/weights.json",
    "examples.yaml",
    "input.json",
    "model",
    "model/__init__.py",
    "model/model.py",
    "packages",
    "packages/.gitkeep",
]


def test_scaffold_archive_has_the_golden_members(
    cli: Callable[..., Result], tmp_path: Path, pack: Callable[..., Path]
) -> None:
    bundle = tmp_path / "demo"
    made = cli("init", "demo", str(bundle))
    assert made.exit_code == 0, made.output
    (bundle / "model/__pycache__").mkdir()
    (bundle / "model/__pycache__/model.cpython-311.pyc").write_bytes(b"\0")
    (bundle / ".env").write_text("TOKEN=x\n")
    archive = pack(bundle, "demo.tar.gz")
    with tarfile.open(archive, "r:gz") as tf:
        names = tf.getnames()
    assert sorted(set(GOLDEN) - set(names)) == [], "missing"
    assert sorted(set(names) - set(GOLDEN)) == [], "extra"
    assert names == GOLDEN, "sorted, manifest first"


def test_materialized_scaffold_validates_like_the_folder(
    cli: Callable[..., Result],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pack: Callable[..., Path],
) -> None:
    monkeypatch.setenv("BUNDLE_CACHE_DIR", str(tmp_path / "cache"))
    bundle = tmp_path / "demo"
    assert cli("init", "demo", str(bundle)).exit_code == 0
    archive = pack(bundle, "demo.tar.gz")
    folder = materialize(archive)
    direct, unpacked = validate(bundle), validate(folder)
    assert direct.ok() and unpacked.ok()
    assert [d.code for d in unpacked.diagnostics] == [d.code for d in direct.diagnostics]
