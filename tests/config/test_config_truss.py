"""Existing Truss directories validate: free-text names, Truss-only keys, legacy keys."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from bundle_cli.config import json_schema, load_config, read_config

TRUSS_CONFIG = """\
apply_library_patches: true
base_image:
  image: nvcr.io/nvidia/pytorch:23.10-py3
build_commands: []
environment_variables: {}
external_package_dirs: []
input_type: Any
live_reload: false
model_class_filename: model.py
model_class_name: Model
model_framework: custom
model_metadata: {}
model_module_dir: model
model_name: Test Annotated Types
model_type: Model
python_version: py39
requirements:
  - torch==2.0.1
  - transformers[torch]>=4.33 ; python_version >= "3.9"
resources:
  accelerator: A10G
  cpu: 500m
  memory: 512Mi
  use_gpu: true
runtime:
  predict_concurrency: 4
secrets:
  hf_access_token: null
spec_version: '2.0'
system_packages: []
"""


def test_a_truss_config_validates_with_one_warning_naming_truss_only_keys(
    tree: Callable[..., Path],
) -> None:
    result = load_config(tree({"config.yaml": TRUSS_CONFIG}))
    assert result.ok, [d.format() for d in result.diagnostics]
    (warning,) = result.diagnostics
    assert warning.code == "truss-only-key"
    for key in ("apply_library_patches", "base_image", "build_commands", "live_reload"):
        assert key in warning.message
    config = result.config
    assert config.model_name == "Test Annotated Types"
    assert config.slug == "test-annotated-types"
    assert config.python_version == "py39"
    assert config.resources.use_gpu is True
    assert config.secrets == {"hf_access_token": None}


def test_missing_model_name_falls_back_to_the_folder_with_a_warning(
    tree: Callable[..., Path],
) -> None:
    result = load_config(tree({"config.yaml": "model_name: null\n"}, name="basic truss"))
    assert result.ok
    assert [d.code for d in result.diagnostics] == ["missing-model-name"]
    assert result.config.model_name == "basic truss"
    assert result.config.slug == "basic-truss"


def test_empty_config_is_valid_with_defaults(tree: Callable[..., Path]) -> None:
    config = read_config(tree({"config.yaml": "model_name: m\n"}))
    assert (config.model_module_dir, config.model_class_filename, config.model_class_name) == (
        "model",
        "model.py",
        "Model",
    )
    assert config.python_version == "py311"


def test_python_version_accepts_both_spellings(tree: Callable[..., Path]) -> None:
    for given in ("3.11", "py311"):
        config = read_config(
            tree({"config.yaml": f"model_name: m\npython_version: '{given}'\n"}, name=given)
        )
        assert config.python_version == "py311"


def test_secrets_may_be_listed_by_name(tree: Callable[..., Path]) -> None:
    config = read_config(tree({"config.yaml": "model_name: m\nsecrets: [api_key]\n"}))
    assert config.secrets == {"api_key": None}


def test_json_schema_forbids_unknown_keys_and_lists_every_field() -> None:
    schema = json_schema()
    assert schema["additionalProperties"] is False
    assert {"model_name", "requirements", "secrets", "resources", "runtime"} <= set(
        schema["properties"]
    )


def test_flow_stage_type_must_be_known(tree: Callable[..., Path]) -> None:
    text = "model_name: m\nflow:\n  - {name: a, model: a.pt, type: torch}\n  - {name: c, model: c.bin, type: tensorflow}\n"
    (d,) = load_config(tree({"config.yaml": text})).diagnostics
    assert (d.key_path, d.line, d.column) == ("flow.1.type", 4, 29)
    assert "'tensorflow'" in d.message and "'xgboost_classifier'" in d.message


def test_flow_stage_names_are_unique(tree: Callable[..., Path]) -> None:
    text = "model_name: m\nflow:\n  - {name: a, model: a.pt, type: torch}\n  - {name: a, model: b.json, type: xgboost_classifier, post: 'funcs:post'}\n"
    (d,) = load_config(tree({"config.yaml": text})).diagnostics
    assert (d.key_path, d.line) == ("flow", 2)
    assert "repeated: a" in d.message


TRUSS_MODEL = """\
from typing import Any


class Model:
    def __init__(self, **kwargs) -> None:
        self._data_dir = kwargs["data_dir"]
        self._config = kwargs["config"]
        self._secrets = kwargs["secrets"]
        self._model = None

    def load(self):
        self._model = (self._data_dir / "scale.txt").read_text().strip()

    def predict(self, model_input: Any) -> Any:
        factor = float(self._model)
        return {"scaled": [x * factor for x in model_input["values"]]}
"""


def test_a_truss_directory_validates_runs_tests_and_packages_as_it_is(
    tree: Callable[..., Path], run_bundle: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """The README's claim for Truss users, through the real command on a Truss-shaped folder."""
    config = TRUSS_CONFIG.replace(
        'requirements:\n  - torch==2.0.1\n  - transformers[torch]>=4.33 ; python_version >= "3.9"\n',
        "requirements: []\n",
    ).replace("base_image:\n  image: nvcr.io/nvidia/pytorch:23.10-py3\n", "")
    bundle = tree(
        {
            "config.yaml": config,
            "model/__init__.py": "",
            "model/model.py": TRUSS_MODEL,
            "data/scale.txt": "2.5\n",
            "packages/.gitkeep": "",
            "examples.yaml": "- name: two\n  input: {values: [1, 2]}\n",
        },
        name="truss-dir",
    )
    validated = run_bundle("validate", str(bundle))
    assert validated.returncode == 0, validated.stderr
    assert "truss-only-key" in validated.stderr
    answer = run_bundle("predict", str(bundle), "-d", '{"values": [1, 2]}')
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout) == {"scaled": [2.5, 5.0]}
    tested = run_bundle("test", str(bundle), "--json")
    assert tested.returncode == 0, tested.stderr
    assert json.loads(tested.stdout)["counts"]["ran"] == 1
    packed = run_bundle("package", str(bundle), "-o", f"{bundle.parent / 'dist'}/")
    assert packed.returncode == 0, packed.stderr
