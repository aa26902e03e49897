"""Hostile YAML in config.yaml and examples.yaml: a clear diagnostic, bounded time and memory.

Each case runs the real `bundle validate` (and `bundle test` for examples.yaml) in a process whose
address space is capped, so an alias bomb that escaped the bound would fail the test by memory.
"""

from __future__ import annotations

import json
import resource
import subprocess
from pathlib import Path

import pytest

from tests.conftest import bundle_executable, isolated_env


def _indent(text: str) -> str:
    return "".join("  " + line + "\n" for line in text.splitlines())


MODEL = "class Model:\n    def predict(self, model_input):\n        return model_input\n"
_BOMB = 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 10) + "]\n"
    for i in range(9)
)
_DOUBLING = "a0: &a0 [x, x]\n" + "".join(
    f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" for i in range(1, 30)
)

CONFIG_CASES = [
    ("alias-bomb", "model_name: m\nmodel_metadata:\n" + _indent(_BOMB), "yaml-too-large"),
    ("doubling-chain", "model_name: m\nmodel_metadata:\n" + _indent(_DOUBLING), "yaml-too-large"),
    ("bell", 'model_name: m\ndescription: "a\x07"\n', "yaml-bad-character"),
    ("nul", 'model_name: m\ndescription: "a\x00"\n', "yaml-bad-character"),
    ("esc", "model_name: m\ndescription: a\x1b[2J\n", "yaml-bad-character"),
    ("u+fffe", 'model_name: m\ndescription: "a\ufffe"\n', "yaml-bad-character"),
    ("bad-int-tag", "model_name: m\ndescription: !!int abc\n", "yaml-bad-value"),
    ("bad-float-tag", "model_name: m\ndescription: !!float abc\n", "yaml-bad-value"),
    ("bad-bool-tag", "model_name: m\ndescription: !!bool abc\n", "yaml-bad-value"),
    ("bad-timestamp-tag", "model_name: m\ndescription: !!timestamp abc\n", "yaml-bad-value"),
    ("implicit-bad-date", "model_name: m\nversion: 2024-13-45\n", "yaml-bad-value"),
    ("huge-int", "model_name: m\nversion: " + "1" * 5000 + "\n", "yaml-bad-value"),
    ("merge-of-a-scalar", "model_name: m\nruntime: {<<: 1}\n", "yaml-bad-merge"),
    ("recursive-alias", "model_name: m\nmodel_metadata: &a [*a]\n", "yaml-recursive-alias"),
    (
        "deep-nesting",
        "model_name: m\nmodel_metadata: " + "[" * 500 + "]" * 500 + "\n",
        "yaml-too-deep",
    ),
]


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024**2, 1536 * 1024**2))


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = isolated_env(tmp_path) | {"BUNDLE_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run(
        [bundle_executable(), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        preexec_fn=_capped,
    )


def _bundle(tmp_path: Path, config: str, examples: str | None = None) -> Path:
    root = tmp_path / "b"
    (root / "model").mkdir(parents=True)
    (root / "model" / "model.py").write_text(MODEL)
    (root / "config.yaml").write_text(config, encoding="utf-8")
    if examples is not None:
        (root / "examples.yaml").write_text(examples, encoding="utf-8")
    return root


@pytest.mark.parametrize(("name", "config", "code"), CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_hostile_config_yaml_is_a_diagnostic(
    name: str, config: str, code: str, tmp_path: Path
) -> None:
    bundle = _bundle(tmp_path, config)
    result = _run(tmp_path, "validate", str(bundle), "--json")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    codes = [d["code"] for d in json.loads(result.stdout)["diagnostics"]]
    assert code in codes, codes
    if name in ("alias-bomb", "recursive-alias", "huge-int"):  # the run path reads it too
        shown = _run(tmp_path, "predict", str(bundle), "-d", "{}")
        assert shown.returncode == 2 and "Traceback" not in shown.stderr, shown.stderr


@pytest.mark.parametrize("body", [_BOMB, "- " + "[" * 500 + "]" * 500 + "\n", "- &a [*a]\n"])
def test_hostile_examples_yaml_is_a_diagnostic(body: str, tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, "model_name: m\n", body)
    checked = _run(tmp_path, "validate", str(bundle))
    assert checked.returncode == 2 and "examples.yaml" in checked.stderr, checked.stderr
    tested = _run(tmp_path, "test", str(bundle))
    assert tested.returncode == 2 and "Traceback" not in tested.stderr, tested.stderr


def test_a_yaml_file_over_the_size_bound(tmp_path: Path) -> None:
    from bundle_cli.config.yamlpos import MAX_BYTES

    config = "model_name: m\nmodel_metadata:\n  blob: " + "x" * MAX_BYTES + "\n"
    result = _run(tmp_path, "validate", str(_bundle(tmp_path, config)))
    assert result.returncode == 2 and "MiB" in result.stderr, result.stderr


def test_a_stage_model_that_is_a_folder(tmp_path: Path) -> None:
    config = "model_name: f\nflow:\n- name: a\n  model: models/m\n  type: python\n"
    bundle = _bundle(tmp_path, config)
    (bundle / "models" / "m").mkdir(parents=True)
    result = _run(tmp_path, "validate", str(bundle))
    assert result.returncode == 2 and "is a folder, not a model file" in result.stderr, (
        result.stderr
    )
    assert "Traceback" not in result.stderr
