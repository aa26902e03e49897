"""`bundle init` on the command line: in-process and through the installed entry point."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from scaffold_helpers import FLAVOURS, entries
from typer.testing import Result

from bundle_cli.errors import ExitCode
from bundle_cli.scaffold import init


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_init_creates_the_flavour_and_prints_next_steps_on_stderr(
    flavour: str, workdir: Path, cli: Callable[..., Result], tmp_path: Path
) -> None:
    result = cli("init", "demo", "--template", flavour)
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout == ""
    assert f"created demo/ from the {flavour} template" in result.stderr
    assert "next steps:\n  cd demo\n" in result.stderr
    assert "  bundle predict -i input.json" in result.stderr
    assert "pip install" not in result.stderr  # the test environment has every framework
    assert entries(workdir / "demo") == entries(init("demo", tmp_path / "ref", template=flavour))


def test_dir_argument_chooses_the_folder(workdir: Path, cli: Callable[..., Result]) -> None:
    result = cli("init", "demo", "elsewhere/my dir", "-t", "torch")
    assert result.exit_code == ExitCode.OK, result.output
    assert "cd 'elsewhere/my dir'" in result.stderr  # quoted so it can be pasted
    assert (workdir / "elsewhere/my dir/config.yaml").read_text().count('model_name: "demo"') == 1
    assert sorted(p.name for p in workdir.iterdir()) == ["elsewhere"]


def test_real_entry_point_creates_a_bundle(
    tmp_path: Path, run_bundle: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    proc = run_bundle("init", "demo", "--template", "sklearn", cwd=tmp_path)
    assert proc.returncode == ExitCode.OK, proc.stderr
    assert proc.stdout == ""
    assert "created demo/ from the sklearn template" in proc.stderr
    assert (tmp_path / "demo/model/model.py").is_file()


def test_real_entry_point_refuses_an_unsafe_name_without_a_traceback(
    workdir: Path, run_bundle: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    proc = run_bundle("init", "../evil", cwd=workdir)
    assert proc.returncode == ExitCode.USAGE
    assert proc.stderr.startswith("error: '../evil' is not a valid bundle name\n")
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in workdir.parent.iterdir()) == ["home", "work"]
    assert list(workdir.iterdir()) == []


def test_real_entry_point_refuses_an_existing_folder(
    tmp_path: Path, run_bundle: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo/keep.txt").write_text("keep")
    proc = run_bundle("init", "demo", cwd=tmp_path)
    assert proc.returncode == ExitCode.USAGE
    assert "demo already exists and is not empty" in proc.stderr
    assert [p.name for p in (tmp_path / "demo").iterdir()] == ["keep.txt"]


def test_init_help_lists_the_templates_and_force(cli: Callable[..., Result]) -> None:
    result = cli("init", "--help")
    assert result.exit_code == 0
    for text in ("NAME", "[DIR]", "--template", "numpy", "sklearn", "torch", "--force"):
        assert text in result.stdout
