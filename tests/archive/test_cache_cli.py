"""Cached archives are the archive: read-only, checked before each run, named in messages, capped.

Every test runs the real `bundle` command on a real archive, with its own cache folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from archive_kit import SCAFFOLD

Run = Callable[..., subprocess.CompletedProcess[str]]

BROKEN_MODEL = SCAFFOLD["model/model.py"].replace(  # type: ignore[union-attr]
    "        return {", "        raise ValueError('boom')\n        return {"
)


@pytest.fixture
def archive(scaffold: Callable[..., Path], pack: Callable[..., Path]) -> Path:
    examples = "- name: two\n  input: {values: [1, 2]}\n  expected: {doubled: [2, 4]}\n"
    return pack(scaffold(clutter=False, extra={"examples.yaml": examples}), "tiny-1.0.0.tar.gz")


def _predict(
    run_bundle: Run, archive: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return run_bundle("predict", str(archive), "-d", '{"values": [1, 2]}', env=env)


def _only_folder(cache: Path) -> Path:
    [folder] = [p for p in (cache / "archives").iterdir() if p.is_dir()]
    return folder


def test_the_unpacked_folder_is_read_only_and_reused(
    archive: Path, tmp_path: Path, run_bundle: Run
) -> None:
    env = {"BUNDLE_CACHE_DIR": str(tmp_path / "cache")}
    first = _predict(run_bundle, archive, env)
    assert first.returncode == 0, first.stderr
    folder = _only_folder(tmp_path / "cache")
    modes = {p.relative_to(folder): p.stat().st_mode & 0o777 for p in [folder, *folder.rglob("*")]}
    assert all(mode & 0o222 == 0 for mode in modes.values()), modes
    inode = folder.stat().st_ino
    env_pyc = env | {"PYTHONDONTWRITEBYTECODE": ""}  # as a user's shell: bytecode is written
    second = _predict(run_bundle, archive, env_pyc)
    assert second.returncode == 0 and second.stdout == first.stdout
    assert "warning" not in second.stderr
    assert folder.stat().st_ino == inode, "reused, not unpacked again"
    assert not list(folder.rglob("__pycache__")), "nothing written into the archive's folder"


@pytest.mark.parametrize("tamper", ["edit", "add", "remove", "chmod"])
def test_a_tampered_cache_folder_is_unpacked_again(
    archive: Path, tmp_path: Path, run_bundle: Run, tamper: str
) -> None:
    env = {"BUNDLE_CACHE_DIR": str(tmp_path / "cache")}
    first = _predict(run_bundle, archive, env)
    assert first.returncode == 0, first.stderr
    folder = _only_folder(tmp_path / "cache")
    model = folder / "model" / "model.py"
    os.chmod(model.parent, 0o755)
    if tamper == "edit":
        os.chmod(model, 0o644)
        model.write_text(BROKEN_MODEL)
    elif tamper == "add":
        (folder / "model" / "extra.py").write_text("")
    elif tamper == "remove":
        (folder / "data" / "vocab.txt").chmod(0o644)
        os.chmod(folder / "data", 0o755)
        (folder / "data" / "vocab.txt").unlink()
    else:
        os.chmod(model, 0o644)
    again = _predict(run_bundle, archive, env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    assert "unpacking it again" in again.stderr and str(archive) in again.stderr
    folder = _only_folder(tmp_path / "cache")
    assert (folder / "model" / "model.py").read_text() == SCAFFOLD["model/model.py"]
    assert not (folder / "model" / "extra.py").exists()
    quiet = _predict(run_bundle, archive, env)
    assert quiet.returncode == 0 and "warning" not in quiet.stderr


def _chattr(flag: str, path: Path) -> bool:
    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


@pytest.fixture
def unusable_cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A cache folder of the kind named by the test's parameter, which cannot be written."""
    kind = request.param
    cache = tmp_path / "cache"
    if kind == "a file":
        cache.write_text("not a folder")
        yield cache
    elif kind == "under /proc":
        yield Path("/proc/bundle-no-such-folder")
    elif kind == "immutable":
        cache.mkdir()
        if os.geteuid() != 0 or not _chattr("+i", cache):
            pytest.skip("chattr +i needs root and a file system with attributes (ext4, xfs)")
        try:
            yield cache
        finally:
            _chattr("-i", cache)
    else:  # a read-only mount, as a container's read-only home, or a full one
        cache.mkdir()
        options = "ro,size=1m" if kind == "read-only mount" else "size=16k"
        made = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(cache)], capture_output=True
        )
        if made.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
        try:
            yield cache
        finally:
            subprocess.run(["umount", str(cache)], check=True)


@pytest.mark.parametrize(
    "unusable_cache",
    ["a file", "under /proc", "immutable", "read-only mount", "full disk"],
    indirect=True,
)
def test_without_a_usable_cache_the_archive_runs_from_a_private_temp_folder(
    archive: Path, tmp_path: Path, run_bundle: Run, unusable_cache: Path
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {"BUNDLE_CACHE_DIR": str(unusable_cache), "TMPDIR": str(temp)}
    for command in (
        ["predict", str(archive), "-d", '{"values": [1, 2]}'],
        ["validate", str(archive)],
        ["test", str(archive)],
    ):
        result = run_bundle(*command, env=env)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        assert "warning:" in result.stderr and "for this run only" in result.stderr
        assert os.listdir(temp) == [], "the private folder is removed after the run"
    assert json.loads(_predict(run_bundle, archive, env).stdout) == {"doubled": [2, 4]}


def test_messages_and_tracebacks_name_the_archive_member(
    scaffold: Callable[..., Path], pack: Callable[..., Path], tmp_path: Path, run_bundle: Run
) -> None:
    config = SCAFFOLD["config.yaml"] + "base_image: python:3.11\n"  # type: ignore[operator]
    bundle = scaffold(clutter=False, extra={"model/model.py": BROKEN_MODEL, "config.yaml": config})
    archive = pack(bundle, "broken-1.0.0.tar.gz")
    env = {"BUNDLE_CACHE_DIR": str(tmp_path / "cache")}
    failed = _predict(run_bundle, archive, env)
    assert failed.returncode == 1
    line = BROKEN_MODEL.splitlines().index("        raise ValueError('boom')") + 1
    assert f'File "{archive}:model/model.py", line {line}, in predict' in failed.stderr
    assert "cache" not in failed.stderr
    checked = run_bundle("validate", str(archive), "--json", env=env)
    [warning] = json.loads(checked.stdout)["diagnostics"]
    assert warning["file"] == f"{archive}:config.yaml"
    shown = run_bundle("validate", str(archive), env=env)
    assert f"{archive}:config.yaml:{len(config.splitlines())}:1: warning" in shown.stderr


def test_cache_lists_cleans_and_keeps_under_its_cap(
    scaffold: Callable[..., Path], pack: Callable[..., Path], tmp_path: Path, run_bundle: Run
) -> None:
    cache = tmp_path / "cache"
    archives = []
    for n in range(3):
        bundle = scaffold(name=f"b{n}", clutter=False, extra={"data/n.txt": str(n) * 40_000})
        archives.append(pack(bundle, f"b{n}.tar.gz"))
    env = {"BUNDLE_CACHE_DIR": str(cache), "BUNDLE_CACHE_MAX": "150Ki"}  # two fit, not three
    for archive in archives[:2]:
        assert _predict(run_bundle, archive, env).returncode == 0
    os.utime(cache / "archives" / (_digest(archives[0]) + ".json"), (1, 1))  # used long ago
    listed = json.loads(run_bundle("cache", "--json", env=env).stdout)
    assert [e["archive"] for e in listed] == [str(a) for a in archives[:2]]
    assert all(e["size"] > 40_000 for e in listed)
    assert _predict(run_bundle, archives[0], env).returncode == 0  # now the most recent
    assert _predict(run_bundle, archives[2], env).returncode == 0
    listed = json.loads(run_bundle("cache", "--json", env=env).stdout)
    assert [e["archive"] for e in listed] == [str(archives[0]), str(archives[2])], (
        "the least recently used archive was evicted"
    )
    text = run_bundle("cache", env=env)
    assert text.returncode == 0 and str(archives[2]) in text.stdout
    os.utime(cache / "archives" / (_digest(archives[0]) + ".json"), (1, 1))
    old = run_bundle("cache", "clean", "--older-than", "1", env=env)
    assert old.returncode == 0 and "removed 1 archives" in old.stderr
    assert [e["archive"] for e in json.loads(run_bundle("cache", "--json", env=env).stdout)] == [
        str(archives[2])
    ]
    assert run_bundle("cache", "clean", env=env).returncode == 0
    assert json.loads(run_bundle("cache", "--json", env=env).stdout) == []
    assert sorted(os.listdir(cache / "archives")) == []
    bad = run_bundle("cache", env={**env, "BUNDLE_CACHE_MAX": "9" * 5000})
    assert (
        bad.returncode == 2 and "BUNDLE_CACHE_MAX" in bad.stderr and "Traceback" not in bad.stderr
    )


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
