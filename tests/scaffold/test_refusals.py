"""Refusals happen before anything is written: unsafe names, unknown templates, busy targets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from scaffold_helpers import snapshot
from typer.testing import Result

from bundle_cli.errors import ExitCode, UsageError
from bundle_cli.scaffold import check_name, init

BAD_NAMES = [
    "",
    "../evil",
    "..",
    "a/b",
    "/abs",
    "a\\b",
    "with space",
    ".hidden",
    "-rf",
    "tab\tname",
    "new\nline",
    "caf\u00e9",
    "x" * 101,
]
GOOD_NAMES = ["m", "my-model", "my_model", "model.v2", "_private", "A1", "9lives", "x" * 100]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_safe_names_are_accepted(name: str) -> None:
    check_name(name)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_unsafe_name_is_refused_with_exit_2_and_nothing_written(
    name: str, workdir: Path, cli: Callable[..., Result]
) -> None:
    before = snapshot(workdir.parent)
    result = cli("init", "--", name)  # "--": a name such as -rf is not an option
    assert result.exit_code == ExitCode.USAGE, result.output
    assert f"error: {name!r} is not a valid bundle name" in result.stderr
    assert "hint: use letters, digits" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(workdir.parent) == before


@pytest.mark.parametrize("name", BAD_NAMES)
def test_unsafe_name_is_refused_even_with_an_explicit_folder(name: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a valid bundle name"):
        init(name, tmp_path / "fine-folder")
    assert list(tmp_path.iterdir()) == []


def test_unknown_template_is_refused_with_a_suggestion(
    workdir: Path, cli: Callable[..., Result]
) -> None:
    result = cli("init", "demo", "--template", "sklaern")
    assert result.exit_code == ExitCode.USAGE
    assert 'unknown template "sklaern"; available: numpy, sklearn, torch' in result.stderr
    assert "did you mean --template sklearn?" in result.stderr
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("template", ["common", "../numpy", ".", ""])
def test_template_names_that_are_not_flavours_are_refused(template: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown template"):
        init("demo", tmp_path / "demo", template=template)
    assert list(tmp_path.iterdir()) == []


def test_existing_non_empty_folder_is_refused_and_left_intact(
    workdir: Path, cli: Callable[..., Result]
) -> None:
    (workdir / "demo").mkdir()
    (workdir / "demo/notes.txt").write_text("mine")
    before = snapshot(workdir)
    result = cli("init", "demo")
    assert result.exit_code == ExitCode.USAGE
    assert "error: demo already exists and is not empty" in result.stderr
    assert "--force" in result.stderr
    assert snapshot(workdir) == before


def test_existing_file_is_refused_even_with_force(tmp_path: Path) -> None:
    (tmp_path / "demo").write_text("a file")
    with pytest.raises(UsageError, match="exists and is not a folder"):
        init("demo", tmp_path / "demo", force=True)
    assert (tmp_path / "demo").read_text() == "a file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_existing_empty_folder_is_filled(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    init("demo", tmp_path / "demo")
    assert (tmp_path / "demo/model/model.py").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_a_link_to_a_folder_fills_the_folder_it_points_at(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    init("demo", tmp_path / "link")
    assert (tmp_path / "link").is_symlink()
    assert (tmp_path / "real/config.yaml").is_file()


def test_broken_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    with pytest.raises(UsageError, match="broken symbolic link"):
        init("demo", tmp_path / "link")
    assert not (tmp_path / "nowhere").exists()


def test_missing_parent_folders_are_created(tmp_path: Path) -> None:
    init("demo", tmp_path / "a/b/demo")
    assert (tmp_path / "a/b/demo/config.yaml").is_file()
