"""The model, file and example checks as `validate()` runs them on a real bundle."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import bundle_cli.config.load
from bundle_cli.errors import InvalidBundleError
from bundle_cli.validation import ensure_valid, validate

MODEL = """\
class Model:
    def __init__(self, **kwargs):
        pass

    def load(self):
        pass

    def predict(self, model_input):
        return model_input
"""


def test_problems_of_every_check_in_one_report(tree: Callable[..., Path]) -> None:
    bundle = tree(
        {
            "config.yaml": "model_name: m\nrequirements_file: requirements.txt\n"
            "data_dir: weights\nexternal_package_dirs:\n  - ../shared\n",
            "model/model.py": MODEL + "\n    def postporcess(self, out):\n        return out\n",
            "requirements.txt": "numpy\nscipy>>=1\n",
            "examples.yaml": "- name: one\n  inptu: 1\n",
            "../shared/": "",
        }
    )
    report = validate(bundle)
    found = {(d.code, d.file, d.line, d.column, d.key_path) for d in report.diagnostics}
    assert found == {
        ("hook-misspelt", str(bundle / "model/model.py"), 11, 5, None),
        ("requirements-invalid", str(bundle / "requirements.txt"), 2, 6, None),
        ("data-dir-missing", str(bundle / "config.yaml"), 3, 1, "data_dir"),
        ("external-dir-outside", str(bundle / "config.yaml"), 5, 5, "external_package_dirs.0"),
        ("example-missing-input", str(bundle / "examples.yaml"), 1, 3, None),
        ("example-unknown-key", str(bundle / "examples.yaml"), 2, 3, None),
    }
    assert len(report.errors) == 4 and len(report.warnings) == 2


def test_a_complete_bundle_is_valid(tree: Callable[..., Path]) -> None:
    bundle = tree(
        {
            "config.yaml": "model_name: m\nrequirements_file: requirements.txt\n",
            "model/__init__.py": "",
            "model/model.py": MODEL,
            "requirements.txt": "numpy>=1.26\n",
            "examples.yaml": "- name: one\n  input: 1\n  expected: 1\n",
            "data/": "",
            "packages/": "",
        }
    )
    report = validate(bundle)
    assert report.diagnostics == []
    assert report.ok(strict=True)


@pytest.fixture
def config_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text of every config.yaml that load_config parses."""
    texts: list[str] = []
    real = bundle_cli.config.load.load_yaml_file

    def counting(path: Path) -> object:
        texts.append(path.read_text())
        return real(path)

    monkeypatch.setattr(bundle_cli.config.load, "load_yaml_file", counting)
    return texts


def test_ensure_valid_parses_config_once(
    tree: Callable[..., Path], config_parses: list[str]
) -> None:
    config = "model_name: once\n"
    bundle = tree({"config.yaml": config, "model/model.py": MODEL, "data/": "", "packages/": ""})
    assert ensure_valid(bundle).model_name == "once"
    assert config_parses == [config]


def test_ensure_valid_on_an_invalid_bundle_parses_config_once(
    tree: Callable[..., Path], config_parses: list[str]
) -> None:
    bundle = tree({"config.yaml": "model_name: m\n", "model/model.py": "class Other: pass\n"})
    with pytest.raises(InvalidBundleError) as caught:
        ensure_valid(bundle)
    assert caught.value.diagnostics and len(config_parses) == 1
