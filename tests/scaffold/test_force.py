"""--force writes into a non-empty folder: nothing of the user's is deleted, nothing is lost."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from scaffold_helpers import entries, snapshot
from typer.testing import Result

from bundle_cli.errors import ExitCode, UnsafePathError, UsageError
from bundle_cli.scaffold import init, scaffold


@pytest.fixture
def edited(tmp_path: Path) -> Path:
    """A scaffold the user has worked on: edited model, own weights, own notes."""
    bundle = init("demo", tmp_path / "demo")
    (bundle / "model/model.py").write_text("# my model\n")
    (bundle / "data/big.bin").write_bytes(b"\x00" * 1000)
    (bundle / "notes.txt").write_text("mine")
    (bundle / ".bundle/config.schema.json").write_text("{}")
    return bundle


def test_force_keeps_other_files_and_backs_up_replaced_ones(edited: Path, tmp_path: Path) -> None:
    fresh = init("demo", tmp_path / "fresh")
    result = scaffold("demo", edited, force=True)
    backup = ".bundle/backup/model/model.py.bak"
    assert result.merged and result.backups == [("model/model.py", backup)]
    assert (edited / backup).read_text() == "# my model\n"
    assert not list((edited / "model").glob("*.bak*")), "no backup where the model code lives"
    assert (edited / "model/model.py").read_bytes() == (fresh / "model/model.py").read_bytes()
    assert (edited / "data/big.bin").read_bytes() == b"\x00" * 1000
    assert (edited / "notes.txt").read_text() == "mine"
    # the tool's own schema copy is simply brought up to date
    schema = edited / ".bundle/config.schema.json"
    assert schema.read_bytes() == (fresh / ".bundle/config.schema.json").read_bytes()
    added = {"data/big.bin", "notes.txt", ".bundle/backup/", ".bundle/backup/model/", backup}
    assert entries(edited) == entries(fresh) | added


def test_force_again_never_overwrites_an_earlier_backup(edited: Path) -> None:
    scaffold("demo", edited, force=True)
    (edited / "model/model.py").write_text("# second edit\n")
    result = scaffold("demo", edited, force=True)
    assert result.backups == [("model/model.py", ".bundle/backup/model/model.py.bak2")]
    assert (edited / ".bundle/backup/model/model.py.bak").read_text() == "# my model\n"
    assert (edited / ".bundle/backup/model/model.py.bak2").read_text() == "# second edit\n"


def test_force_on_an_unchanged_scaffold_changes_nothing(tmp_path: Path) -> None:
    bundle = init("demo", tmp_path / "demo")
    before = snapshot(bundle)
    assert scaffold("demo", bundle, force=True).backups == []
    assert snapshot(bundle) == before


def test_force_refuses_a_file_where_the_template_puts_a_folder(tmp_path: Path) -> None:
    bundle = tmp_path / "demo"
    bundle.mkdir()
    (bundle / "model").write_text("a file named model")
    (bundle / "config.yaml").write_text("mine\n")
    before = snapshot(tmp_path)
    with pytest.raises(UsageError, match="model is a file, but the template puts a folder there"):
        init("demo", bundle, force=True)
    assert snapshot(tmp_path) == before  # no backup made, no staging folder left


def test_force_refuses_a_folder_where_the_template_puts_a_file(tmp_path: Path) -> None:
    bundle = tmp_path / "demo"
    (bundle / "config.yaml").mkdir(parents=True)
    before = snapshot(tmp_path)
    with pytest.raises(UsageError, match=r"config\.yaml is a folder, but the template puts a file"):
        init("demo", bundle, force=True)
    assert snapshot(tmp_path) == before


def test_force_refuses_to_write_through_a_link_that_leaves_the_target(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    bundle = tmp_path / "demo"
    bundle.mkdir()
    (bundle / "model").symlink_to(outside)
    before = snapshot(tmp_path)
    with pytest.raises(UnsafePathError, match="outside"):
        init("demo", bundle, force=True)
    assert snapshot(tmp_path) == before
    assert list(outside.iterdir()) == []


def test_force_through_the_cli_reports_each_backup(
    edited: Path, cli: Callable[..., Result]
) -> None:
    result = cli("init", "demo", str(edited), "--force")
    assert result.exit_code == ExitCode.OK, result.output
    assert f"wrote {edited}/ from the numpy template" in result.stderr
    assert "kept the previous model/model.py as .bundle/backup/model/model.py.bak" in result.stderr
    assert result.stdout == ""
