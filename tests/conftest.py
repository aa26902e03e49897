"""Shared test helpers: file trees, an isolated CLI runner, the real `bundle` subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def build_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write `{relative path: content}` under root; a path ending in "/" is an empty folder."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        if rel.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Callable[..., Path]:
    """`tree({path: text}, name="bundle")` builds a file tree in the test's temp folder."""

    def make(files: dict[str, str | bytes], name: str = "bundle") -> Path:
        return build_tree(tmp_path / name, files)

    return make


def isolated_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUNDLE_")}
    env.update(
        {"NO_COLOR": "1", "COLUMNS": "100", "HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"}
    )
    return env


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Invoke the typer app in-process: `cli("validate", str(path))`.

    Modules imported during the call are forgotten afterwards unless they are process-wide
    (see `is_process_wide`), so each call imports a bundle's own code afresh."""
    from bundle_cli.cli.commands import app

    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None) -> Result:
        saved_path, saved_modules = list(sys.path), dict(sys.modules)
        try:
            return runner.invoke(
                app, list(args), input=input, env=isolated_env(home), catch_exceptions=False
            )
        finally:
            sys.path[:] = saved_path
            for name in set(sys.modules) - set(saved_modules):
                if not is_process_wide(sys.modules[name]):
                    del sys.modules[name]

    return invoke


def _process_wide_dirs() -> tuple[str, ...]:
    import sysconfig

    import bundle_cli

    paths = sysconfig.get_paths()
    dirs = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    dirs.add(os.path.dirname(bundle_cli.__file__))
    return tuple(os.path.join(os.path.realpath(d), "") for d in dirs)


_PROCESS_WIDE_DIRS = _process_wide_dirs()


def is_process_wide(module: object) -> bool:
    """Whether a module comes from the stdlib, site-packages or bundle_cli (or is built in).

    Such modules stay imported after a `cli` call, as they would in any process: torch, numpy
    and other C extensions cannot be imported a second time once removed. Everything else
    imported during the call (a bundle's own modules, from temp folders) is forgotten.
    """
    if module is None:  # an import blocker the call left behind
        return False
    file = getattr(module, "__file__", None)
    try:
        places = [file] if isinstance(file, str) else list(getattr(module, "__path__", None) or [])
    except TypeError:
        places = []
    return all(os.path.realpath(p).startswith(_PROCESS_WIDE_DIRS) for p in places)


def bundle_executable() -> str:
    """The installed `bundle` console script of the interpreter running the tests."""
    script = Path(sys.executable).parent / "bundle"
    assert script.exists(), f"console script not installed next to {sys.executable}"
    return str(script)


@pytest.fixture
def run_bundle(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real installed `bundle` entry point in a subprocess."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)

    def run(
        *args: str,
        cwd: Path | None = None,
        input: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        full_env = isolated_env(home) | (env or {})
        return subprocess.run(
            [bundle_executable(), *args],
            cwd=cwd or tmp_path,
            input=input,
            capture_output=True,
            text=True,
            env=full_env,
            timeout=300,
        )

    return run
