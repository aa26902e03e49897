"""Paths named in config.yaml and the requirements file: one tiny bundle per failure mode."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bundle_cli.config.schema import BundleConfig
from bundle_cli.config.yamlpos import load_yaml
from bundle_cli.diagnostics import Diagnostic
from bundle_cli.validation.files import check_files

Tree = Callable[..., Path]


def run(
    tree: Tree, config_text: str, files: dict[str, str | bytes] | None = None
) -> tuple[Path, list[Diagnostic]]:
    """A bundle with this config.yaml; positions come from parsing it, as the loader does."""
    bundle = tree({"config.yaml": config_text, **(files or {})})
    doc = load_yaml(config_text)
    assert not doc.problems
    return bundle, check_files(bundle, BundleConfig(**doc.data), doc.positions)


def single(found: list[Diagnostic]) -> Diagnostic:
    assert len(found) == 1, [d.format() for d in found]
    return found[0]


CONFIG_CASES = [
    # (case, config.yaml, files, code, severity, key path, line, column, words)
    (
        "requirements-file-missing",
        "model_name: m\nrequirements_file: reqs.txt\n",
        {},
        "requirements-file-missing",
        "error",
        "requirements_file",
        2,
        1,
        ['"reqs.txt" does not exist'],
    ),
    (
        "requirements-file-is-folder",
        "model_name: m\nrequirements_file: reqs\n",
        {"reqs/": ""},
        "requirements-file-missing",
        "error",
        "requirements_file",
        2,
        1,
        ["is a folder, not a file"],
    ),
    (
        "requirements-not-utf8",
        "model_name: m\nrequirements_file: reqs.txt\n",
        {"reqs.txt": b"numpy\n\xff\xfe\n"},
        "requirements-file-unreadable",
        "error",
        "requirements_file",
        2,
        1,
        ["not UTF-8", "byte 6"],
    ),
    (
        "data-dir-named-missing",
        "model_name: m\ndata_dir: weights\n",
        {},
        "data-dir-missing",
        "error",
        "data_dir",
        2,
        1,
        ['"weights" does not exist', "remove data_dir to use the default"],
    ),
    (
        "data-dir-is-file",
        "model_name: m\ndata_dir: weights\n",
        {"weights": "not a folder"},
        "data-dir-missing",
        "error",
        "data_dir",
        2,
        1,
        ["is a file, not a folder"],
    ),
    (
        "packages-dir-named-missing",
        "model_name: m\nbundled_packages_dir: vendor\n",
        {},
        "packages-dir-missing",
        "error",
        "bundled_packages_dir",
        2,
        1,
        ['"vendor" does not exist'],
    ),
    (
        "external-dir-missing",
        "model_name: m\nexternal_package_dirs:\n  - shared\n  - libs/gone\n",
        {"shared/": ""},
        "external-dir-missing",
        "error",
        "external_package_dirs.1",
        4,
        5,
        ['"libs/gone" does not exist', "relative to the bundle"],
    ),
    (
        "data-dir-climbs-out",
        "model_name: m\ndata_dir: ../weights\n",
        {"../weights/": ""},
        "path-outside-bundle",
        "error",
        "data_dir",
        2,
        1,
        ['"../weights" climbs out with ..', "would not be in its archive"],
    ),
    (
        "requirements-file-absolute",
        "model_name: m\nrequirements_file: /etc/hostname\n",
        {},
        "path-outside-bundle",
        "error",
        "requirements_file",
        2,
        1,
        ['"/etc/hostname" is an absolute path'],
    ),
    (
        "model-dir-climbs-out",
        "model_name: m\nmodel_module_dir: model/../../elsewhere\n",
        {},
        "path-outside-bundle",
        "error",
        "model_module_dir",
        2,
        1,
        ["climbs out"],
    ),
    (
        "model-filename-climbs-out",
        "model_name: m\nmodel_class_filename: ../../x.py\n",
        {},
        "path-outside-bundle",
        "error",
        "model_class_filename",
        2,
        1,
        ['"../../x.py"'],
    ),
]


@pytest.mark.parametrize(
    ("config_text", "files", "code", "severity", "key_path", "line", "column", "words"),
    [case[1:] for case in CONFIG_CASES],
    ids=[case[0] for case in CONFIG_CASES],
)
def test_config_path_failure(
    tree: Tree,
    config_text: str,
    files: dict[str, str | bytes],
    code: str,
    severity: str,
    key_path: str,
    line: int,
    column: int,
    words: list[str],
) -> None:
    bundle, found = run(tree, config_text, files)
    diag = single(found)
    assert (diag.code, diag.severity, diag.key_path) == (code, severity, key_path)
    assert (diag.file, diag.line, diag.column) == (str(bundle / "config.yaml"), line, column)
    for word in words:
        assert word in diag.message


def test_external_dir_outside_bundle_is_a_warning(tree: Tree) -> None:
    text = "model_name: m\nexternal_package_dirs: [../shared]\n"
    _, found = run(tree, text, {"../shared/": ""})
    diag = single(found)
    assert (diag.code, diag.severity, diag.key_path) == (
        "external-dir-outside",
        "warning",
        "external_package_dirs.0",
    )
    assert (diag.line, diag.column) == (2, 25)
    assert "will not contain it" in diag.message


def test_default_folders_may_be_absent(tree: Tree) -> None:
    _, found = run(tree, "model_name: m\n")
    assert found == []


def test_named_folders_that_exist_pass(tree: Tree) -> None:
    text = (
        "model_name: m\ndata_dir: weights\nbundled_packages_dir: vendor\n"
        "external_package_dirs: [libs]\nrequirements_file: requirements.txt\n"
    )
    files = {"weights/": "", "vendor/": "", "libs/": "", "requirements.txt": "numpy>=1.26\n"}
    assert run(tree, text, files)[1] == []


def test_an_escaping_path_is_not_also_reported_missing(tree: Tree) -> None:
    _, found = run(tree, "model_name: m\nrequirements_file: ../reqs.txt\ndata_dir: ../nowhere\n")
    assert sorted(d.code for d in found) == ["path-outside-bundle", "path-outside-bundle"]


def test_config_built_without_positions_still_names_the_key(tree: Tree) -> None:
    bundle = tree({"config.yaml": "model_name: m\n"})
    found = check_files(bundle, BundleConfig(requirements_file="missing.txt"), {})
    diag = single(found)
    assert (diag.code, diag.key_path, diag.line, diag.column) == (
        "requirements-file-missing",
        "requirements_file",
        None,
        None,
    )


REQUIREMENT_CASES = [
    # (case, requirements.txt, code, severity, line, column, words)
    (
        "not-pep508",
        "numpy>=1.26\n# a comment\n\nscipy>>=1\n",
        "requirements-invalid",
        "error",
        4,
        6,
        ['"scipy>>=1" is not a requirement pip accepts', "such as numpy>=1.26"],
    ),
    (
        "unclosed-extras-indented",
        "  torch[cpu\n",
        "requirements-invalid",
        "error",
        1,
        12,
        ["RIGHT_BRACKET"],
    ),
    (
        "single-equals",
        "numpy\ndiffusers=0.21.4\n",
        "requirements-invalid",
        "error",
        2,
        10,
        ["did you mean `diffusers==0.21.4`?"],
    ),
    (
        "include-missing",
        "numpy\n-r base.txt\n",
        "requirements-invalid",
        "error",
        2,
        1,
        ["`-r base.txt`: base.txt does not exist"],
    ),
    (
        "unknown-option",
        "--frobnicate yes\n",
        "requirements-invalid",
        "error",
        1,
        1,
        ["`--frobnicate` is not an option pip accepts"],
    ),
]


@pytest.mark.parametrize(
    ("text", "code", "severity", "line", "column", "words"),
    [case[1:] for case in REQUIREMENT_CASES],
    ids=[case[0] for case in REQUIREMENT_CASES],
)
def test_requirements_line_failure(
    tree: Tree, text: str, code: str, severity: str, line: int, column: int, words: list[str]
) -> None:
    config_text = "model_name: m\nrequirements_file: requirements.txt\n"
    bundle, found = run(tree, config_text, {"requirements.txt": text})
    diag = single(found)
    assert (diag.code, diag.severity, diag.key_path) == (code, severity, None)
    assert (diag.file, diag.line, diag.column) == (str(bundle / "requirements.txt"), line, column)
    for word in words:
        assert word in diag.message


def test_every_bad_line_is_reported(tree: Tree) -> None:
    text = "numpy>>=1\n-e .\nok==1\nbad name\n"
    _, found = run(tree, "requirements_file: r.txt\n", {"r.txt": text})
    assert [(d.code, d.line) for d in found] == [
        ("requirements-invalid", 1),
        ("requirements-invalid", 4),
    ]


def test_every_form_pip_reads_passes(tree: Tree) -> None:
    """The line kinds found in real Truss bundles' requirements files."""
    text = (
        "--extra-index-url https://download.pytorch.org/whl/cpu\n"
        "--find-links ./wheels\n--pre\n"
        "-r base.txt\n-c constraints.txt\n-e ./vendored\n"
        "git+https://github.com/huggingface/diffusers.git@v0.21.4\n"
        "git+https://github.com/openai/whisper.git\n"
        "https://example.com/wheels/flash_attn-2.5.8-cp311-linux_x86_64.whl\n"
        "bar==1 --config-settings=x=y\n"
    )
    files = {"r.txt": text, "base.txt": "numpy==1.26.4\n", "constraints.txt": "numpy<2\n"}
    _, found = run(tree, "requirements_file: r.txt\n", files)
    assert found == []


def test_real_world_requirements_file_passes(tree: Tree) -> None:
    text = (
        "# pinned by pip-compile\n"
        "numpy==1.26.4 \\\n    --hash=sha256:0123abcd \\\n    --hash=sha256:4567ef\n"
        'pandas>=2.0 ; python_version >= "3.9"  # inline comment\n'
        "torch[cpu]>=2.0,<3\n"
        "foo @ https://example.com/foo-1.0.tar.gz#sha256=abc\n"
        "\n   \n"
    )
    _, found = run(tree, "requirements_file: r.txt\n", {"r.txt": text})
    assert found == []
