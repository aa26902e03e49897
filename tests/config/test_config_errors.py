"""One config.yaml per failure mode: the code, the message, the position and the key path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bundle_cli.config import load_config, read_config
from bundle_cli.errors import InvalidBundleError

CASES = [
    # (name, config text, code, key path, line, column, words the message must contain)
    (
        "typo-top",
        "model_name: m\nrequirments: [numpy]\n",
        "unknown-key",
        "requirments",
        2,
        1,
        ['did you mean "requirements"'],
    ),
    (
        "typo-nested",
        "model_name: m\nruntime:\n  predict_concurency: 2\n",
        "unknown-key",
        "runtime.predict_concurency",
        3,
        3,
        ['did you mean "predict_concurrency"'],
    ),
    ("unknown-no-match", "model_name: m\nzzz: 1\n", "unknown-key", "zzz", 2, 1, ["bundle schema"]),
    (
        "memory",
        "model_name: m\nresources:\n  memory: 2GB\n",
        "invalid-value",
        "resources.memory",
        3,
        3,
        ['"2GB"', "use 2Gi"],
    ),
    (
        "cpu",
        "model_name: m\nresources:\n  cpu: two\n",
        "invalid-value",
        "resources.cpu",
        3,
        3,
        ['"two"', "500m"],
    ),
    (
        "accelerator",
        "model_name: m\nresources:\n  accelerator: 'H100:0'\n",
        "invalid-value",
        "resources.accelerator",
        3,
        3,
        ["H100:2"],
    ),
    (
        "python",
        "model_name: m\npython_version: py36\n",
        "invalid-value",
        "python_version",
        2,
        1,
        ['"py36"', '"3.9"'],
    ),
    (
        "requirements-string",
        "model_name: m\nrequirements: numpy\n",
        "invalid-value",
        "requirements",
        2,
        1,
        ["[numpy]"],
    ),
    (
        "requirement-pep508",
        "model_name: m\nrequirements:\n  - numpy>>=1\n",
        "requirement-invalid",
        "requirements.0",
        3,
        5,
        ['"numpy>>=1"', "not a requirement pip accepts"],
    ),
    (
        "both-requirements",
        "model_name: m\nrequirements: [numpy]\nrequirements_file: requirements.txt\n",
        "invalid-value",
        "requirements_file",
        3,
        1,
        ["keep one"],
    ),
    (
        "env-not-string",
        "model_name: m\nenvironment_variables:\n  DEBUG: [1]\n",
        "invalid-value",
        "environment_variables",
        2,
        1,
        ["DEBUG: a list is not an environment value"],
    ),
    (
        "duplicate",
        "model_name: m\ndescription: a\ndescription: b\n",
        "duplicate-key",
        "description",
        3,
        1,
        ["twice", "line 2"],
    ),
    (
        "object-tag",
        "model_name: m\nmodel_metadata: !!python/object/apply:os.system ['true']\n",
        "yaml-unsafe-tag",
        "model_metadata",
        2,
        17,
        ["!!python/object/apply:os.system"],
    ),
    (
        "yaml-syntax",
        "model_name: m\nresources: [\n",
        "yaml-syntax",
        None,
        3,
        1,
        ["YAML syntax error"],
    ),
    ("not-mapping", "- a\n- b\n", "not-a-mapping", None, 1, 1, ["mapping"]),
    (
        "wrong-type",
        "model_name: m\nexternal_package_dirs: 3\n",
        "invalid-value",
        "external_package_dirs",
        2,
        1,
        ["list", "got 3"],
    ),
    (
        "concurrency",
        "model_name: m\nruntime:\n  predict_concurrency: 0\n",
        "invalid-value",
        "runtime.predict_concurrency",
        3,
        3,
        ["greater than or equal to 1"],
    ),
    (
        "bundle-version",
        "model_name: m\nversion: '1.0/../x'\n",
        "invalid-value",
        "version",
        2,
        1,
        ['"1.0/../x"'],
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "code", "key", "line", "col", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_each_failure_is_reported_with_its_place(
    tree: Callable[..., Path],
    name: str,
    text: str,
    code: str,
    key: str | None,
    line: int | None,
    col: int | None,
    words: list[str],
) -> None:
    bundle = tree({"config.yaml": text})
    result = load_config(bundle)
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert [d.code for d in errors] == [code], [d.format() for d in errors]
    (d,) = errors
    assert (d.key_path, d.line, d.column) == (key, line, col), d.format()
    assert d.file == str(bundle / "config.yaml")
    for word in words:
        assert word in d.message, d.message
    with pytest.raises(InvalidBundleError):
        read_config(bundle)


def test_every_error_of_a_file_is_reported_in_one_run(tree: Callable[..., Path]) -> None:
    text = "model_name: m\nrequirments: []\nresources:\n  memory: 2GB\n  cpu: two\npython_version: py36\n"
    result = load_config(tree({"config.yaml": text}))
    assert [(d.code, d.line) for d in result.diagnostics] == [
        ("unknown-key", 2),
        ("invalid-value", 4),
        ("invalid-value", 5),
        ("invalid-value", 6),
    ]


def test_object_tag_is_never_constructed(tree: Callable[..., Path], tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"model_name: m\nmodel_metadata: !!python/object/apply:os.system ['touch {marker}']\n"
    load_config(tree({"config.yaml": text}))
    assert not marker.exists()
