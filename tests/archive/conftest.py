"""Fixtures for archive tests: a scaffold-like bundle with the clutter real folders hold."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from archive_kit import CLUTTER, SCAFFOLD


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
