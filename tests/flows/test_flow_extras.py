"""A stage whose framework is not installed: an error naming the extra, before anything runs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import flow_config

from bundle_cli.errors import ExitCode, MissingDependencyError


@pytest.mark.parametrize(
    ("stage_type", "module", "extra"),
    [
        ("torch", "torch", "torch"),
        ("sklearn", "sklearn", "scikit-learn"),
        ("xgboost", "xgboost", "xgboost"),
        ("xgboost_classifier", "xgboost", "xgboost"),
        ("onnx", "onnxruntime", "onnxruntime"),
    ],
)
def test_a_missing_framework_names_the_package_to_install(
    tree: Callable[..., Path],
    run_flow: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    stage_type: str,
    module: str,
    extra: str,
) -> None:
    marker = "packages/fns.py"
    stages = [{"name": "net", "model": "model.bin", "type": stage_type, "pre": "fns:pre"}]
    bundle = tree(
        {
            "config.yaml": flow_config(stages),
            "model.bin": b"\0",
            marker: "import pathlib\npathlib.Path(__file__).with_name('ran').touch()\ndef pre(x):\n    return x\n",
        }
    )
    monkeypatch.setitem(sys.modules, module, None)  # what an absent package looks like to import
    with pytest.raises(MissingDependencyError) as caught:
        run_flow(bundle, [[1.0]])
    assert caught.value.exit_code == ExitCode.USAGE
    assert str(caught.value) == (
        f"flow stage 'net' needs {module}, which is not installed; "
        f"install it with: pip install {extra}"  # bundle-cli is on no index: not its extra
    )
    assert not (bundle / "packages/ran").exists()  # the stage's functions were never imported


def test_a_framework_that_fails_inside_its_import_says_so(
    tree: Callable[..., Path],
    run_flow: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = tmp_path / "site" / "xgboost"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text(
        "raise ImportError('libxgboost.so: cannot open shared object file')\n"
    )
    monkeypatch.delitem(sys.modules, "xgboost", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    bundle = tree(
        {
            "config.yaml": flow_config([{"name": "x", "model": "m.json", "type": "xgboost"}]),
            "m.json": "{}",
        }
    )
    with pytest.raises(
        MissingDependencyError, match=r"needs xgboost, which failed to import: libxgboost\.so"
    ):
        run_flow(bundle, [[1.0]])
