"""Real environments built with uv, from small pure-Python packages pinned to old versions
(other versions than the test venv's, so that a test shows which environment ran).

One uv cache serves the whole session (packages are downloaded once); each test has its own
bundle cache, so the environments it builds are its own.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from envs_kit import build_tree, bundle_files, bundle_runner, isolated_env

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def uv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("uv-cache")


@pytest.fixture
def env_vars(tmp_path: Path, uv_cache: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return isolated_env(home) | {
        "BUNDLE_CACHE_DIR": str(tmp_path / "cache"),
        "UV_CACHE_DIR": str(uv_cache),
    }


@pytest.fixture
def bundle_cmd(tmp_path: Path, env_vars: dict[str, str]) -> Run:
    """The real `bundle` command with the test's caches."""
    return bundle_runner(tmp_path, env_vars)  # type: ignore[no-any-return]


@pytest.fixture
def make_bundle(tmp_path: Path) -> Callable[..., Path]:
    def make(requirements: list[str], name: str = "bundle", **kw: str) -> Path:
        return build_tree(tmp_path / name, bundle_files(requirements, **kw))

    return make
