"""Fixtures for archive tests: a scaffold-like bundle with the clutter real folders hold."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from archive_kit import CLUTTER, SCAFFOLD

from bundle_cli.packaging import package


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process calls never touch the real ~/.cache (digest cache, materialized archives)."""
    monkeypatch.setenv("BUNDLE_CACHE_DIR", str(tmp_path / "bundle-cache"))


@pytest.fixture
def scaffold(tree: Callable[..., Path]) -> Callable[..., Path]:
    """`scaffold(name="bundle", clutter=True, extra={...})` writes a valid bundle folder."""

    def make(
        name: str = "bundle", clutter: bool = True, extra: dict[str, str | bytes] | None = None
    ) -> Path:
        return tree(dict(SCAFFOLD) | (CLUTTER if clutter else {}) | (extra or {}), name=name)

    return make


@pytest.fixture
def pack(tmp_path: Path) -> Callable[..., Path]:
    """`pack(bundle, name="a.tar.gz", **options)` packages a folder into the test's temp folder
    and returns the archive's path; options go to `package()` (e.g. rehash=True)."""

    def make(bundle: Path, name: str = "a.tar.gz", **options: Any) -> Path:
        return package(bundle, tmp_path / name, **options).path

    return make
