"""Flows through the runtime: bundle_cli.load() and the real `bundle predict` command."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import IDENTITY_MODEL, flow_config
from typer.testing import Result

import bundle_cli
from bundle_cli.errors import ExitCode

FNS = """\
import bundle_cli


def count(data, files):
    store = bundle_cli.store()
    store["calls"] = store.get("calls", 0) + 1
    return {"data": data, "files": {f.name: f.read().decode() for f in files}}


def report(result, original, files):
    return {"calls": bundle_cli.store()["calls"], "result": result, "again": [f.read().decode() for f in files]}


def text(result):
    return "not a flow result"
"""


@pytest.fixture
def bundle(tree: Callable[..., Path]) -> Path:
    stages = [
        {"name": "a", "model": "model.py", "type": "python", "pre": "fns:count"},
        {"name": "b", "model": "model.py", "type": "python", "post": "fns:report"},
    ]
    return tree({"config.yaml": flow_config(stages), "model.py": IDENTITY_MODEL, "fns.py": FNS})


def test_load_runs_a_flow_with_files_and_one_store_per_loaded_bundle(
    bundle: Path, isolated_imports: None
) -> None:
    with bundle_cli.load(bundle) as loaded:
        first = loaded.predict([1], {"a.txt": b"A"})
        second = loaded.predict([2], {"a.txt": b"B"})
        assert loaded.store["calls"] == 2
    assert first == {"calls": 1, "result": {"data": [1], "files": {"a.txt": "A"}}, "again": ["A"]}
    assert second["calls"] == 2 and second["again"] == ["B"]
    with bundle_cli.load(bundle) as other:
        assert other.predict([3], {"a.txt": b""})["calls"] == 1


def test_a_single_model_bundle_gets_the_store_too(
    tree: Callable[..., Path], isolated_imports: None
) -> None:
    model = (
        "import bundle_cli\n\n"
        "class Model:\n"
        "    def __init__(self, store):\n        self.store = store\n\n"
        "    def predict(self, x):\n"
        "        assert bundle_cli.store() is self.store\n"
        "        self.store['n'] = self.store.get('n', 0) + x\n"
        "        return {'n': self.store['n']}\n"
    )
    bundle = tree(
        {"config.yaml": "model_name: m\n", "model/model.py": model, "model/__init__.py": ""}
    )
    with bundle_cli.load(bundle) as loaded:
        loaded.predict(2)
        assert loaded.predict(3) == {"n": 5}


def test_predict_cli_prints_the_flow_result(
    bundle: Path, cli: Callable[..., Result], tmp_path: Path
) -> None:
    (tmp_path / "f.bin").write_bytes(b"xyz")
    result = cli("predict", str(bundle), "-d", "[7]", "--file", f"f.bin=@{tmp_path / 'f.bin'}")
    assert result.exit_code == ExitCode.OK, result.output
    assert json.loads(result.stdout) == {
        "calls": 1,
        "result": {"data": [7], "files": {"f.bin": "xyz"}},
        "again": ["xyz"],
    }


def test_an_end_type_violation_exits_1_naming_the_stage(
    bundle: Path, run_bundle: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    config = (bundle / "config.yaml").read_text().replace("fns:report", "fns:text")
    (bundle / "config.yaml").write_text(config)
    done = run_bundle("predict", str(bundle), "-d", "[1]")
    assert done.returncode == ExitCode.USER_CODE and done.stdout == ""
    assert "error: flow stage 'b' (the last) returned str" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_framework_exits_2_naming_the_extra(
    tree: Callable[..., Path],
    run_bundle: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    # A sitecustomize that makes `import xgboost` fail, as if it were not installed.
    (blocker / "sitecustomize.py").write_text("import sys\nsys.modules['xgboost'] = None\n")
    stages = [{"name": "trees", "model": "m.json", "type": "xgboost"}]
    bundle = tree({"config.yaml": flow_config(stages), "m.json": "{}"})
    done = run_bundle("predict", str(bundle), "-d", "[[1.0]]", env={"PYTHONPATH": str(blocker)})
    assert done.returncode == ExitCode.USAGE and done.stdout == ""
    assert "flow stage 'trees' needs xgboost, which is not installed" in done.stderr
    assert "install it with: pip install xgboost" in done.stderr


def test_an_error_in_a_pickled_function_shows_its_saved_source_and_no_secret(
    tmp_path: Path, run_bundle: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    from bundle_cli import ModelType, build_flow

    (tmp_path / "model.py").write_text(IDENTITY_MODEL)

    def leak(data: Any) -> Any:
        import os

        raise RuntimeError("token is " + os.environ["BUNDLE_SECRET_API_TOKEN"])

    dest = build_flow(
        [(ModelType.PYTHON, tmp_path / "model.py", {"pre": leak})], "f", tmp_path / "out"
    )
    config = dest / "config.yaml"
    config.write_text(config.read_text() + "secrets:\n  API_TOKEN: null\n")
    done = run_bundle(
        "predict", str(dest), "-d", "1", env={"BUNDLE_SECRET_API_TOKEN": "s3cr3t-value"}
    )
    assert done.returncode == ExitCode.USER_CODE, done.stderr
    assert "s3cr3t-value" not in done.stderr + done.stdout
    assert f'File "{dest.resolve() / "functions/python_pre.py"}", line 5, in leak' in done.stderr
    assert (
        "error: flow stage 'python': pre function functions/python_pre.pkl raised RuntimeError"
        in done.stderr
    )
