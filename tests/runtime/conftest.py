"""Fixture bundles of the runtime, copied into the test's temp folder before use."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runtime"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test has its own validation cache and no ambient BUNDLE_SECRET_* values.

    sys.path and sys.modules are deliberately not restored here: the runtime must leave them
    as they were, and the tests check that.
    """
    monkeypatch.setenv("BUNDLE_CACHE_DIR", str(tmp_path / "cache"))
    for key in [k for k in os.environ if k.startswith("BUNDLE_SECRET_")]:
        monkeypatch.delenv(key)


@pytest.fixture
def bundle_copy(tmp_path: Path) -> Callable[[str], Path]:
    """`bundle_copy("echo")`: a fresh copy of tests/fixtures/runtime/echo; returns its path."""

    def copy(name: str) -> Path:
        target = tmp_path / "bundles" / name
        shutil.copytree(FIXTURES / name, target)
        if name == "packages":  # its external_package_dirs entry is ../shared_code
            shutil.copytree(FIXTURES / "shared_code", tmp_path / "bundles" / "shared_code")
        return target

    return copy


def bundle_modules(root: Path) -> list[str]:
    """Names in sys.modules whose file lies under root."""
    prefix = str(root.resolve())
    found = []
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None) or ""
        if file.startswith(prefix):
            found.append(name)
    return found
