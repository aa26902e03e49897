"""Helpers for flow tests: flow bundles as file trees, running them, tiny trained models."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

IDENTITY_MODEL = """\
class Model:
    def predict(self, model_input):
        return model_input
"""


def flow_config(stages: list[dict[str, Any]], **top: Any) -> str:
    """config.yaml text of a flow bundle."""
    return yaml.safe_dump({"model_name": "flow-test", "flow": stages, **top}, sort_keys=False)


def request_files(**contents: bytes) -> list[io.BytesIO]:
    """Readable binary file objects with a .name, as a request's files are."""
    files = []
    for name, data in contents.items():
        f = io.BytesIO(data)
        f.name = name
        files.append(f)
    return files


@pytest.fixture
def isolated_imports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Forget the bundle modules a test imported (installed ones such as torch stay: they
    cannot be imported twice in one process) and restore sys.path."""
    saved_path, saved_modules = list(sys.path), set(sys.modules)
    temp_root = str(tmp_path_factory.getbasetemp())
    yield
    sys.path[:] = saved_path
    for name in set(sys.modules) - saved_modules:
        file = getattr(sys.modules[name], "__file__", None) or ""
        if file.startswith(temp_root):
            del sys.modules[name]


@pytest.fixture
def run_flow(isolated_imports: None) -> Callable[..., Any]:
    """`run_flow(bundle_dir, data, files=None)`: load the bundle as users do
    (`bundle_cli.load`) and run one request; the flow's own result, before JSON encoding."""
    import bundle_cli

    def run(bundle_dir: Path, data: Any, files: list[Any] | None = None) -> Any:
        with bundle_cli.load(bundle_dir) as loaded:
            return loaded.predict(data, files, raw=True)

    return run


@pytest.fixture
def load(isolated_imports: None) -> Iterator[Callable[..., Any]]:
    """`load(bundle_dir)`: the loaded bundle (`bundle_cli.load`), to call more than once."""
    import bundle_cli

    loaded: list[Any] = []

    def load(bundle_dir: Path) -> Any:
        loaded.append(bundle_cli.load(bundle_dir))
        return loaded[-1]

    yield load
    for bundle in loaded:
        bundle.close()
