"""`bundle init` never replaces a folder: `.` and empty folders are written into, in place."""

from __future__ import annotations

import os
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

from tests.conftest import bundle_executable

Run = Callable[..., subprocess.CompletedProcess[str]]


def test_init_into_dot_keeps_the_folder_and_the_shell_in_it(tmp_path: Path) -> None:
    here = tmp_path / "here"
    here.mkdir()
    os.chmod(here, 0o750)
    if os.geteuid() == 0:  # an owner other than the one running the tool
        os.chown(here, 1234, 4321)
    before = os.stat(here)
    script = f'cd "{here}" && "{bundle_executable()}" init demo . && ls config.yaml model/model.py'
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["config.yaml", "model/model.py"], (
        "the shell still sees the files"
    )
    after = os.stat(here)
    assert (after.st_ino, after.st_dev) == (before.st_ino, before.st_dev), "the same folder"
    assert (after.st_mode, after.st_uid, after.st_gid) == (
        before.st_mode,
        before.st_uid,
        before.st_gid,
    )
    assert not [p for p in tmp_path.iterdir() if p != here], "nothing made beside it"
    assert not list(here.glob(".*bundle-init*")), "no staging folder left inside"


def test_init_into_an_existing_empty_folder_writes_into_it(tmp_path: Path, run_bundle: Run) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    inode = empty.stat().st_ino
    result = run_bundle("init", "demo", str(empty))
    assert result.returncode == 0, result.stderr
    assert empty.stat().st_ino == inode
    assert (empty / "config.yaml").is_file()
    assert run_bundle("validate", str(empty)).returncode == 0


def test_force_deletes_nothing_and_its_backups_are_never_packaged(
    tmp_path: Path, run_bundle: Run
) -> None:
    bundle = tmp_path / "demo"
    assert run_bundle("init", "demo", str(bundle)).returncode == 0
    mine = {
        "model/model.py": "class Model:\n    def predict(self, model_input):\n        return 1\n",
        "model/helpers.py": "x = 1\n",
        "data/weights.json": '{"mine": true}\n',
        "README.md": "my notes\n",
        "notes/todo.txt": "later\n",
    }
    for rel, text in mine.items():
        (bundle / rel).parent.mkdir(parents=True, exist_ok=True)
        (bundle / rel).write_text(text)
    before = {
        p.relative_to(bundle).as_posix(): p.read_bytes() for p in bundle.rglob("*") if p.is_file()
    }
    result = run_bundle("init", "demo", str(bundle), "--force")
    assert result.returncode == 0, result.stderr
    after = {
        p.relative_to(bundle).as_posix(): p.read_bytes() for p in bundle.rglob("*") if p.is_file()
    }
    kept = set(after.values())
    for rel, data in before.items():
        assert data in kept or rel.startswith(".bundle/config.schema"), f"{rel} was lost"
    backups = [rel for rel in after if rel.startswith(".bundle/backup/")]
    assert sorted(backups) == sorted(
        f".bundle/backup/{rel}.bak" for rel in ("model/model.py", "data/weights.json", "README.md")
    )
    assert not [rel for rel in after if rel.startswith("model/") and ".bak" in rel]
    packed = run_bundle("package", str(bundle), "-o", str(tmp_path / "out") + "/")
    assert packed.returncode == 0, packed.stderr
    [archive] = (tmp_path / "out").iterdir()
    with tarfile.open(archive) as tf:
        names = tf.getnames()
    assert not [n for n in names if n.startswith(".bundle/") or ".bak" in n], names
    assert "notes/todo.txt" in names and "model/helpers.py" in names
