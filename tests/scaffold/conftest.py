"""Fixtures for the scaffold tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current folder inside tmp_path, so `./NAME` lands in a known place."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work
