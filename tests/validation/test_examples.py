"""examples.yaml: one tiny file per failure mode, with the code, message and position."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bundle_cli.config.schema import BundleConfig
from bundle_cli.diagnostics import Diagnostic
from bundle_cli.validation.examples import check_examples

Tree = Callable[..., Path]


def run(tree: Tree, files: dict[str, str | bytes], **config: Any) -> tuple[Path, list[Diagnostic]]:
    bundle = tree({"config.yaml": "model_name: m\n", **files})
    return bundle, check_examples(bundle, BundleConfig(**config))


CASES = [
    # (case, examples.yaml, code, line, column, words)
    (
        "yaml-syntax",
        "- name: a\n  input: [1, 2\n- name: b\n",
        "yaml-syntax",
        3,
        7,
        ["YAML syntax error", "expected ',' or ']'"],
    ),
    (
        "duplicate-key",
        "- name: a\n  input: 1\n  input: 2\n",
        "duplicate-key",
        3,
        3,
        ['"input" is given twice (first on line 2)'],
    ),
    (
        "object-tag",
        "- name: a\n  input: !!python/object/apply:os.system [ls]\n",
        "yaml-unsafe-tag",
        2,
        10,
        ["!!python/object/apply:os.system is refused"],
    ),
    (
        "not-a-list",
        "name: a\ninput: 1\n",
        "examples-not-a-list",
        1,
        1,
        ["must be a list of examples", "- name: ..."],
    ),
    (
        "entry-not-a-mapping",
        "- name: a\n  input: 1\n- just text\n",
        "example-not-a-mapping",
        3,
        3,
        ["example 2 is text, not a mapping"],
    ),
    (
        "missing-name",
        "- input: 1\n",
        "example-missing-name",
        1,
        3,
        ["example 1 has no `name`"],
    ),
    (
        "name-not-text",
        "- name: 42\n  input: 1\n",
        "example-invalid-name",
        1,
        3,
        ["`name` must be non-empty text, not a number"],
    ),
    (
        "duplicate-name",
        "- name: cat\n  input: 1\n- name: dog\n  input: 2\n- name: cat\n  input: 3\n",
        "example-duplicate-name",
        5,
        3,
        ['example "cat" is named twice (first on line 1)'],
    ),
    (
        "missing-input",
        "- name: cat\n  expected: 1\n",
        "example-missing-input",
        1,
        3,
        ['example "cat" has no `input`'],
    ),
    (
        "unknown-key",
        "- name: cat\n  input: 1\n  expcted: 2\n",
        "example-unknown-key",
        3,
        3,
        ['unknown key "expcted"', 'did you mean "expected"?'],
    ),
    (
        "unknown-key-no-match",
        "- name: cat\n  input: 1\n  zzz: 2\n",
        "example-unknown-key",
        3,
        3,
        ["the keys are name, input, expected, expect_error, tolerance, files"],
    ),
    (
        "negative-tolerance",
        "- name: cat\n  input: 1\n  expected: 1.0\n  tolerance: -0.1\n",
        "example-invalid-tolerance",
        4,
        3,
        ["tolerance -0.1 is not a non-negative number"],
    ),
    (
        "text-tolerance",
        "- name: cat\n  input: 1\n  expected: 1.0\n  tolerance: small\n",
        "example-invalid-tolerance",
        4,
        3,
        ["tolerance 'small'"],
    ),
    (
        "nan-tolerance",
        "- name: cat\n  input: 1\n  expected: 1.0\n  tolerance: .nan\n",
        "example-invalid-tolerance",
        4,
        3,
        ["tolerance nan"],
    ),
    (
        "date-input",
        "- name: day\n  input: {when: 2024-01-31}\n",
        "example-not-json",
        2,
        3,
        ["`input` holds date datetime.date(2024, 1, 31)", "quote it"],
    ),
    (
        "non-text-key-in-expected",
        "- name: k\n  input: 1\n  expected:\n    - {1: one}\n",
        "example-not-json",
        3,
        3,
        ["`expected` holds the non-text key 1"],
    ),
    (
        "files-not-a-mapping",
        "- name: cat\n  input: 1\n  files: [data/cat.png]\n",
        "example-invalid-files",
        3,
        3,
        ["`files` must map a file name to a path"],
    ),
    (
        "file-not-a-path",
        "- name: cat\n  input: 1\n  files:\n    image: 5\n",
        "example-invalid-files",
        4,
        5,
        ["file image must be a path in the bundle, not a number"],
    ),
    (
        "file-missing",
        "- name: cat\n  input: 1\n  files:\n    image: data/cat.png\n",
        "example-file-missing",
        4,
        5,
        ['file image "data/cat.png" is not a file in the bundle'],
    ),
    (
        "file-outside",
        "- name: cat\n  input: 1\n  files:\n    image: ../secret.key\n",
        "example-file-outside",
        4,
        5,
        ['file image "../secret.key" is outside the bundle'],
    ),
]


@pytest.mark.parametrize(
    ("text", "code", "line", "column", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_failure_mode(
    tree: Tree, text: str, code: str, line: int, column: int, words: list[str]
) -> None:
    bundle, found = run(tree, {"examples.yaml": text, "../secret.key": "x"})
    assert [d.code for d in found] == [code], [d.format() for d in found]
    diag = found[0]
    assert diag.severity == "error"
    assert (diag.file, diag.line, diag.column) == (str(bundle / "examples.yaml"), line, column)
    for word in words:
        assert word in diag.message


def test_tolerance_without_expected_is_a_warning(tree: Tree) -> None:
    _, found = run(tree, {"examples.yaml": "- name: a\n  input: 1\n  tolerance: 0.01\n"})
    assert [(d.code, d.severity, d.line, d.column) for d in found] == [
        ("example-tolerance-unused", "warning", 3, 3)
    ]


def test_every_problem_is_reported_in_file_order(tree: Tree) -> None:
    text = "- name: a\n  inptu: 1\n- input: 2\n- name: a\n"
    _, found = run(tree, {"examples.yaml": text})
    assert [(d.code, d.line) for d in found] == [
        ("example-missing-input", 1),
        ("example-unknown-key", 2),
        ("example-missing-name", 3),
        ("example-duplicate-name", 4),
        ("example-missing-input", 4),
    ]


def test_refused_entry_does_not_shift_other_positions(tree: Tree) -> None:
    text = "- !!python/object:os.Foo {}\n- name: b\n"
    _, found = run(tree, {"examples.yaml": text})
    assert [(d.code, d.line) for d in found] == [("yaml-unsafe-tag", 1)]


def test_examples_path_that_is_a_folder(tree: Tree) -> None:
    bundle, found = run(tree, {"examples.yaml/": ""})
    assert [(d.code, d.file) for d in found] == [
        ("examples-not-a-file", str(bundle / "examples.yaml"))
    ]


def test_examples_not_utf8(tree: Tree) -> None:
    _, found = run(tree, {"examples.yaml": b"- name: caf\xe9\n"})
    assert [d.code for d in found] == ["examples-unreadable"]
    assert "byte 11" in found[0].message


def test_complete_examples_file_passes(tree: Tree) -> None:
    text = (
        "# inputs and what to expect\n"
        "- name: two floats\n"
        "  input: {x: [1.0, 2.0]}\n"
        "  expected: {y: 3.0}\n"
        "  tolerance: 1.0e-6\n"
        "- name: with an image\n"
        "  input: [cat]\n"
        "  files:\n"
        "    image: data/cat.png\n"
        "- name: null input\n"
        "  input: null\n"
        "  tolerance: 0\n"
        "  expected: null\n"
    )
    _, found = run(tree, {"examples.yaml": text, "data/cat.png": b"\x89PNG"})
    assert found == []


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "[]\n"])
def test_empty_examples_file_passes(tree: Tree, text: str) -> None:
    assert run(tree, {"examples.yaml": text})[1] == []


def test_examples_file_is_optional(tree: Tree) -> None:
    assert run(tree, {})[1] == []


def test_custom_examples_filename(tree: Tree) -> None:
    bundle, found = run(tree, {"cases.yml": "- name: a\n"}, examples_filename="cases.yml")
    assert [(d.code, d.file) for d in found] == [
        ("example-missing-input", str(bundle / "cases.yml"))
    ]


def test_examples_outside_the_bundle_are_not_read(tree: Tree) -> None:
    _, found = run(tree, {"../ex.yaml": "not: [valid"}, examples_filename="../ex.yaml")
    assert found == []  # check_files reports the escape
