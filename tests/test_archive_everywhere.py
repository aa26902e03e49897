"""An archive goes wherever a directory goes: validate and predict give the directory's results."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path


def test_package_then_validate_and_predict_the_archive(
    tmp_path: Path, run_bundle: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    env = {"BUNDLE_CACHE_DIR": str(tmp_path / "cache")}
    assert run_bundle("init", "demo", env=env).returncode == 0
    demo = tmp_path / "demo"
    packed = run_bundle("package", str(demo), "-o", f"{tmp_path / 'out'}/", "--json", env=env)
    assert packed.returncode == 0, packed.stderr
    archive = json.loads(packed.stdout)["path"]
    assert run_bundle("validate", archive, env=env).returncode == 0
    inputs = str(demo / "input.json")
    from_dir = run_bundle("predict", str(demo), "-i", inputs, env=env)
    from_archive = run_bundle("predict", archive, "-i", inputs, env=env)
    assert from_dir.returncode == from_archive.returncode == 0, from_archive.stderr
    assert json.loads(from_archive.stdout) == json.loads(from_dir.stdout)


def test_a_file_that_is_not_a_bundle_archive_is_refused(
    tmp_path: Path, run_bundle: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    fake = tmp_path / "fake.tar.gz"
    fake.write_bytes(b"not an archive at all")
    env = {"BUNDLE_CACHE_DIR": str(tmp_path / "cache")}
    for command in (["validate", str(fake)], ["predict", str(fake), "-d", "{}"]):
        result = run_bundle(*command, env=env)
        assert result.returncode == 4, result.stderr
        assert "Traceback" not in result.stderr
