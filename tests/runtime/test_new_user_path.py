"""A new user's path: `bundle init demo && bundle predict demo -i demo/input.json`, per template."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.mark.parametrize("template", ["numpy", "sklearn", "torch"])
def test_init_then_predict_prints_the_documented_output(
    run_bundle: Run, tmp_path: Path, template: str
) -> None:
    created = run_bundle("init", "demo", "--template", template, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    result = run_bundle("predict", "demo", "-i", "demo/input.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    sample = json.loads((tmp_path / "demo" / "input.json").read_text())
    examples = yaml.safe_load((tmp_path / "demo" / "examples.yaml").read_text())
    (documented,) = [e["expected"] for e in examples if e["input"] == sample]
    assert json.loads(result.stdout) == documented
