"""Helpers of the environment tests (the fixtures are in conftest.py beside this file)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path
from typing import Any

MODEL = """\
import sys


class Model:
    def predict(self, model_input):
        import idna

        return {"idna": idna.__version__, "python": sys.version.split()[0]}
"""


def bundle_files(requirements: list[str], *, extra: str = "") -> dict[str, str | bytes]:
    reqs = "".join(f"  - {r}\n" for r in requirements)
    config = f"model_name: env-test\nrequirements:\n{reqs}" if requirements else "model_name: t\n"
    return {
        "config.yaml": config + extra,
        "model/__init__.py": "",
        "model/model.py": MODEL,
    }


def bundle_runner(cwd: Path, base_env: dict[str, str]) -> Any:
    """`run(*args, env=...)`: the real `bundle` command with `base_env` (and `env` on top)."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [bundle_executable(), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            env=base_env | (env or {}),
            timeout=300,
        )

    return run


def start_build_and_wait(bundle: Path, env: dict[str, str], cache: Path) -> Any:
    """A `bundle env build` process, once its temporary folder exists (uv is running)."""
    import time

    root = cache / "envs"
    proc = subprocess.Popen(
        [bundle_executable(), "env", "build", str(bundle)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 60
    while not (root.is_dir() and any(n.endswith(".building") for n in os.listdir(root))):
        assert proc.poll() is None and time.monotonic() < deadline, "the build never started"
        time.sleep(0.002)
    return proc


def envs_of(cache: Path) -> list[Path]:
    root = cache / "envs"
    found = root.iterdir() if root.is_dir() else ()
    return sorted(p for p in found if p.is_dir() and not p.name.startswith("."))


def leftovers(cache: Path) -> list[str]:
    root = cache / "envs"
    return sorted(n for n in os.listdir(root) if n.endswith(".building")) if root.is_dir() else []


def env_python(folder: Path, code: str) -> str:
    out = subprocess.run(
        [str(folder / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def _root_conftest() -> Any:
    """tests/conftest.py's helpers (a second conftest cannot import the first by name)."""
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("_tests_root_conftest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_ROOT = _root_conftest()
bundle_executable = _ROOT.bundle_executable
build_tree = _ROOT.build_tree
isolated_env = _ROOT.isolated_env


_SHARED: dict[str, str] = {}


def open_isolated_for_contract(path: Path) -> Any:
    """The pipe runner on a contract-test bundle: its environment holds pydantic (what the
    in-process runner finds in the tool's environment), and every such environment is built
    once per test session, in one bundle cache and one uv cache of the session's own."""
    import atexit
    import shutil
    import tempfile

    import bundle_cli

    config = path / "config.yaml"
    text = config.read_text(encoding="utf-8")
    if "requirements" not in text:
        config.write_text(text + 'requirements: ["pydantic>=2.10,<3"]\n', encoding="utf-8")
    if not _SHARED:
        folder = tempfile.mkdtemp(prefix="bundle-contract-")
        atexit.register(shutil.rmtree, folder, True)
        _SHARED.update(BUNDLE_CACHE_DIR=f"{folder}/cache", UV_CACHE_DIR=f"{folder}/uv")
    saved = {k: os.environ.get(k) for k in _SHARED}
    os.environ.update(_SHARED)
    try:
        return bundle_cli.load(path, isolated=True)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
