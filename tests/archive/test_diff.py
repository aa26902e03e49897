"""`bundle diff A B`: archives and folders in any mix; exit 0 identical, 1 different, 2/4 errors."""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any


class _System:
    def __reduce__(self) -> tuple[Any, ...]:
        return os.system, ("true",)


def changes(result: Any) -> set[tuple[str, str, str]]:
    return {(c["section"], c["kind"], c["name"]) for c in json.loads(result.stdout)["changes"]}


def test_an_archive_and_the_folder_it_was_packed_from_are_identical(
    scaffold: Callable[..., Path], pack: Callable[..., Path], run_bundle: Callable[..., Any]
) -> None:
    folder = scaffold()  # clutter that package leaves out is no difference
    archive = pack(folder)
    result = run_bundle("diff", str(archive), str(folder), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["identical"] is True
    assert run_bundle("diff", str(folder), str(folder)).returncode == 0


def test_files_config_keys_requirements_and_pickles_that_changed(
    scaffold: Callable[..., Path], pack: Callable[..., Path], run_bundle: Callable[..., Any]
) -> None:
    data = {"data/model.pkl": pickle.dumps({"weights": [1, 2]}), "data/old.txt": "old\n"}
    before = scaffold("before", clutter=False, extra=data)
    archive = pack(before)
    after = scaffold("after", clutter=False, extra=data)
    config = (after / "config.yaml").read_text()
    assert "version: 1.0.0" in config and "numpy>=1.24" in config and "resources" not in config
    config = config.replace("version: 1.0.0", "version: 1.1.0").replace("numpy>=1.24", "numpy>=2")
    (after / "config.yaml").write_text(config + "resources:\n  memory: 4Gi\n")
    (after / "data/model.pkl").write_bytes(pickle.dumps(_System()))
    (after / "data/old.txt").unlink()
    (after / "data/new.txt").write_text("new\n")
    result = run_bundle("diff", str(archive), str(after), "--json")
    assert result.returncode == 1, result.stderr
    assert changes(result) == {
        ("file", "changed", "config.yaml"),
        ("file", "changed", "data/model.pkl"),
        ("file", "removed", "data/old.txt"),
        ("file", "added", "data/new.txt"),
        ("config", "changed", "version"),
        ("config", "changed", "requirements[0]"),
        ("config", "added", "resources"),  # a whole new section, with its value
        ("requirement", "changed", "numpy"),
        ("pickle", "changed", "data/model.pkl"),
    }
    doc = json.loads(result.stdout)
    numpy = next(c for c in doc["changes"] if c["name"] == "numpy")
    assert (numpy["a"], numpy["b"]) == (">=1.24", ">=2")
    pickled = next(c for c in doc["changes"] if c["section"] == "pickle")
    assert "posix.system" in pickled["b"] and "posix.system" not in pickled["a"]
    plain = run_bundle("diff", str(archive), str(after))
    assert plain.returncode == 1
    assert "version" in plain.stdout and '"1.0.0" -> "1.1.0"' in plain.stdout


def test_what_cannot_be_compared(
    scaffold: Callable[..., Path],
    pack: Callable[..., Path],
    run_bundle: Callable[..., Any],
    tmp_path: Path,
) -> None:
    folder = scaffold(clutter=False)
    missing = run_bundle("diff", str(folder), str(tmp_path / "nothing"))
    assert missing.returncode == 2 and "nothing" in missing.stderr
    archive = pack(folder)
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    corrupt = run_bundle("diff", str(archive), str(folder))
    assert corrupt.returncode == 4, corrupt.stderr
    assert "Traceback" not in corrupt.stderr + missing.stderr
