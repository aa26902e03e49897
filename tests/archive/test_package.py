"""`bundle package`: contents, manifest, reproducibility, framing, encodings, output paths."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import struct
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from archive_kit import GOLDEN_MEMBERS, MINIMAL, SCAFFOLD, assert_holds_scaffold, scaffold_files
from typer.testing import Result

from bundle_cli._version import __version__
from bundle_cli.archive.encode import PIECE_SIZE
from bundle_cli.errors import ExitCode, FileSystemError, UsageError
from bundle_cli.packaging import DEFAULT_EPOCH, package


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run each test from its temp folder (the default output is ./dist) with no epoch set."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    yield


def members(archive: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(archive, "r:gz") as tf:
        return tf.getmembers()


def _member(archive: Path, name: str) -> bytes:
    with tarfile.open(archive, "r:gz") as tf:
        f = tf.extractfile(name)
        assert f is not None
        return f.read()


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tf:
        f = tf.extractfile(".bundle-manifest.json")
        assert f is not None
        return json.loads(f.read())


def test_archive_holds_exactly_the_golden_members(scaffold: Callable[..., Path]) -> None:
    result = package(scaffold())
    assert result.path == Path.cwd() / "dist" / "tiny-doubler-1.0.0.tar.gz"
    got = [m.name for m in members(result.path)]
    assert sorted(set(GOLDEN_MEMBERS) - set(got)) == [], "missing"
    assert sorted(set(got) - set(GOLDEN_MEMBERS)) == [], "extra"
    assert got[0] == ".bundle-manifest.json", "the manifest comes first"


def test_manifest_lists_every_file_with_its_digest(scaffold: Callable[..., Path]) -> None:
    bundle = scaffold()
    (bundle / "packages/helpers/__init__.py").chmod(0o755)
    doc = manifest_of(package(bundle).path)
    files = {f["path"]: f for f in doc["files"]}
    on_disk = set(scaffold_files())
    assert set(files) == on_disk
    for path, record in files.items():
        data = (bundle / path).read_bytes()
        assert record["size"] == len(data)
        assert record["sha256"] == hashlib.sha256(data).hexdigest()
        assert record["executable"] is (path == "packages/helpers/__init__.py")
    assert doc["tool"] == {"name": "bundle", "version": __version__}
    assert doc["config_sha256"] == hashlib.sha256((bundle / "config.yaml").read_bytes()).hexdigest()
    assert doc["total_size"] == sum(f["size"] for f in doc["files"])
    assert doc["file_count"] == len(on_disk)
    assert doc["bundle"]["requirements"] == ["numpy>=1.24"]
    assert doc["bundle"]["python_version"] == "py311"
    assert "spec_version" in doc


def test_members_are_canonical(scaffold: Callable[..., Path]) -> None:
    bundle = scaffold(clutter=False)
    (bundle / "model/model.py").chmod(0o700)
    (bundle / "README.md").chmod(0o600)
    for m in members(package(bundle).path):
        assert (m.uid, m.gid, m.uname, m.gname, m.mtime) == (0, 0, "", "", DEFAULT_EPOCH)
        assert m.isdir() or m.isreg()
        expected = 0o755 if m.isdir() or m.name == "model/model.py" else 0o644
        assert m.mode == expected, m.name


def test_gzip_header_has_no_time_no_name(scaffold: Callable[..., Path]) -> None:
    head = package(scaffold()).path.read_bytes()[:10]
    magic, method, flags, mtime, _xfl, os_byte = struct.unpack("<2sBBIBB", head)
    assert (magic, method, mtime, os_byte) == (b"\x1f\x8b", 8, 0, 255)
    assert flags == 0x04, "only FEXTRA: no file name, no comment"


def test_opens_with_stock_tar_and_tarfile(scaffold: Callable[..., Path], tmp_path: Path) -> None:
    bundle = scaffold(clutter=False)
    archive = package(bundle).path
    out = tmp_path / "by-tar"
    out.mkdir()
    subprocess.run(["tar", "-xzf", str(archive), "-C", str(out)], check=True)
    subprocess.run(["gzip", "-t", str(archive)], check=True)
    with tarfile.open(archive, "r:gz") as tf:
        by_tarfile = {m.name: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}  # type: ignore[union-attr]
    assert_holds_scaffold(out)
    for rel, data in scaffold_files().items():
        assert by_tarfile[rel] == data


def _copy_with_new_times_and_order(src: Path, dst: Path, seed: int) -> None:
    """Recreate the tree in a shuffled order with random file times (a new walk order on disk)."""
    rng = random.Random(seed)
    files = [p for p in src.rglob("*") if p.is_file()]
    rng.shuffle(files)
    for d in sorted((p for p in src.rglob("*") if p.is_dir()), reverse=bool(seed % 2)):
        (dst / d.relative_to(src)).mkdir(parents=True, exist_ok=True)
    for f in files:
        target = dst / f.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)
        t = rng.randint(10**8, 2 * 10**9)
        os.utime(target, (t, t))


def test_byte_identical_across_times_umask_folder_and_output_name(
    scaffold: Callable[..., Path], tmp_path: Path, pack: Callable[..., Path]
) -> None:
    first = pack(scaffold(name="one")).read_bytes()
    old = os.umask(0o077)
    try:
        moved = tmp_path / "elsewhere" / "renamed-folder"
        moved.mkdir(parents=True)
        _copy_with_new_times_and_order(tmp_path / "one", moved, seed=7)
        second = pack(moved, "other-name.tar.gz").read_bytes()
    finally:
        os.umask(old)
    assert (moved / "config.yaml").stat().st_mode & 0o777 == 0o600, "the umask really changed"
    assert first == second


def test_source_date_epoch_sets_every_member_time(
    scaffold: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = scaffold()
    default = package(bundle).path.read_bytes()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    archive = package(bundle).path
    assert {m.mtime for m in members(archive)} == {1700000000}
    assert archive.read_bytes() != default


@pytest.mark.parametrize("value", ["abc", "-5", "1.5", "1e9", "１２３", "99999999999999"])
def test_malformed_source_date_epoch_is_refused_before_writing(
    scaffold: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH"):
        package(scaffold())
    assert not (Path.cwd() / "dist").exists()


def test_output_option_names_a_file_or_a_folder(
    scaffold: Callable[..., Path], tmp_path: Path
) -> None:
    bundle = scaffold()
    assert package(bundle, tmp_path / "x" / "named.tar.gz").path == tmp_path / "x" / "named.tar.gz"
    assert (
        package(bundle, f"{tmp_path}/outdir/").path
        == tmp_path / "outdir" / "tiny-doubler-1.0.0.tar.gz"
    )
    assert package(bundle, tmp_path / "outdir").path.parent == tmp_path / "outdir"  # exists now
    assert package(bundle, tmp_path / "short.tgz").path == tmp_path / "short.tgz"
    for other in ("z.tar.zst", "z.zip", "missing-folder"):
        with pytest.raises(UsageError, match=r"ends in \.tar\.gz or \.tgz"):
            package(bundle, tmp_path / other)


def test_archive_written_inside_the_bundle_is_never_packed_again(
    scaffold: Callable[..., Path],
) -> None:
    bundle = scaffold(extra={"models/": ""})
    first = package(bundle, bundle).path
    before = first.read_bytes()
    shutil.copy(first, bundle / "models" / "renamed-copy.tar.gz")  # recognised by its header
    second = package(bundle, bundle).path
    assert second == first and second.read_bytes() == before


def _gzip_size(folder: Path, tmp_path: Path) -> int:
    out = tmp_path / "reference.tar.gz"
    subprocess.run(["tar", "-czf", str(out), "-C", str(folder), "."], check=True)
    return out.stat().st_size


def test_size_is_within_one_percent_of_tar_czf(
    tree: Callable[..., Path], tmp_path: Path, pack: Callable[..., Path]
) -> None:
    rng = np.random.default_rng(0)
    text = "\n".join(f"{i},{i * i},label_{i % 17}" for i in range(150_000)).encode()
    bundle = tree(
        MINIMAL
        | {
            "data/random.bin": rng.bytes(3 * PIECE_SIZE + 123),
            "data/weights.f32": rng.standard_normal(700_000).astype(np.float32).tobytes(),
            "data/table.csv": text,
            "data/zeros.bin": bytes(2 * PIECE_SIZE),
        },
    )
    ours = pack(bundle, "ours.tar.gz").stat().st_size
    assert ours <= 1.01 * _gzip_size(bundle, tmp_path)


def test_each_kind_of_data_gets_the_encoding_it_deserves(
    tree: Callable[..., Path], pack: Callable[..., Path]
) -> None:
    rng = np.random.default_rng(1)
    sizes = {}
    for name, data in {
        "random": rng.bytes(4 * PIECE_SIZE),
        "floats": rng.standard_normal(PIECE_SIZE).astype(np.float32).tobytes(),
        "text": ("the quick brown fox jumps over the lazy dog\n" * 100_000).encode(),
    }.items():
        bundle = tree(MINIMAL | {f"data/{name}": data}, name=name)
        sizes[name] = pack(bundle, f"{name}.tar.gz").stat().st_size / len(data)
    assert 1.0 < sizes["random"] < 1.001, "stored, not expanded"
    assert sizes["floats"] < 0.95, "float weights are compressed"
    assert sizes["text"] < 0.01, "text is deflated with back-references across pieces"


def test_blocks_reserved_up_front_are_given_back(
    tree: Callable[..., Path], pack: Callable[..., Path]
) -> None:
    """The writer reserves the unpacked size on disk before writing; an archive that compresses
    well keeps only the blocks it fills, and its length is the one reported."""
    text = ("the quick brown fox jumps over the lazy dog\n" * 200_000).encode()  # 8.8 MB
    bundle = tree(MINIMAL | {"data/text.txt": text})
    result = package(bundle, bundle.parent / "text.tar.gz")
    st = result.path.stat()
    assert st.st_size == result.size < len(text) // 50
    assert st.st_blocks * 512 < len(text) // 10, "the reserved blocks past the end were kept"
    assert _member(result.path, "data/text.txt") == text


def test_a_disk_that_cannot_reserve_still_gets_the_archive(
    tree: Callable[..., Path], pack: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int, offset: int, length: int) -> None:
        os.ftruncate(fd, length // 2)  # a reservation cut short, as on a nearly full disk
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    data = np.random.default_rng(3).bytes(3 * PIECE_SIZE)
    archive = pack(tree(MINIMAL | {"data/random.bin": data}))
    assert _member(archive, "data/random.bin") == data
    from bundle_cli.archive.verify import verify

    assert verify(archive).ok


@pytest.mark.parametrize(
    "size", [0, 1, 511, 512, 513, PIECE_SIZE - 1, PIECE_SIZE, PIECE_SIZE + 1, 0xFFFF * 3]
)
def test_odd_file_sizes_round_trip(
    tree: Callable[..., Path], pack: Callable[..., Path], size: int
) -> None:
    data = np.random.default_rng(size).bytes(size)
    bundle = tree(MINIMAL | {"data/blob": data, "data/text": b"abc" * size})
    archive = pack(bundle, "odd.tar.gz")
    with tarfile.open(archive, "r:gz") as tf:
        assert tf.extractfile("data/blob").read() == data  # type: ignore[union-attr]
        assert tf.extractfile("data/text").read() == b"abc" * size  # type: ignore[union-attr]


def test_long_and_non_ascii_names_round_trip_through_tar(
    tree: Callable[..., Path], tmp_path: Path, pack: Callable[..., Path]
) -> None:
    long_name = "data/" + "/".join(["deeply-nested-folder-name"] * 6) + "/w.bin"
    bundle = tree(MINIMAL | {long_name: b"1", "data/poids-é-日本.bin": b"2"})
    archive = pack(bundle, "names.tar.gz")
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(["tar", "-xzf", str(archive), "-C", str(out)], check=True)
    assert (out / long_name).read_bytes() == b"1"
    assert (out / "data/poids-é-日本.bin").read_bytes() == b"2"


def test_failure_midway_leaves_previous_archive_and_no_temp(
    scaffold: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = scaffold()
    target = package(bundle).path
    before = target.read_bytes()
    (bundle / "data/weights.bin").write_bytes(b"changed" * 100_000)

    def boom(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("bundle_cli.archive.stream._writev_all", boom)
    with pytest.raises(FileSystemError, match=f"cannot write {target}: no space left"):
        package(bundle)
    assert target.read_bytes() == before
    assert os.listdir(target.parent) == [target.name]


def test_invalid_bundle_is_refused_with_exit_2_and_nothing_written(
    tree: Callable[..., Path], cli: Callable[..., Result], tmp_path: Path
) -> None:
    bundle = tree(
        {
            "config.yaml": "model_name: x\nmodel_nmae: y\n",
            "model/model.py": SCAFFOLD["model/model.py"],
        }
    )
    result = cli("package", str(bundle), "-o", str(tmp_path / "out"))
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "model_nmae" in result.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "dist").exists()


def test_cli_list_prints_largest_first_and_writes_nothing(
    scaffold: Callable[..., Path], cli: Callable[..., Result], tmp_path: Path
) -> None:
    result = cli("package", str(scaffold()), "--list", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    sizes = [f["size"] for f in listed]
    assert sizes == sorted(sizes, reverse=True)
    assert {f["path"] for f in listed} == set(scaffold_files())
    assert not (tmp_path / "dist").exists()


def test_cli_json_summary_matches_the_file(
    scaffold: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    result = cli("package", str(scaffold()), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    archive = Path(summary["path"])
    assert summary["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert summary["size"] == archive.stat().st_size
    assert summary["file_count"] == len(scaffold_files())
    assert "wrote" in result.stderr and "█" not in result.stderr


def test_cli_malformed_epoch_exits_2(
    scaffold: Callable[..., Path],
    run_bundle: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path: Path,
) -> None:
    result = run_bundle("package", str(scaffold()), env={"SOURCE_DATE_EPOCH": "yesterday"})
    assert result.returncode == ExitCode.USAGE
    assert "SOURCE_DATE_EPOCH" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "dist").exists()


def test_a_bundleignore_that_drops_config_yaml_is_refused(scaffold: Callable[..., Path]) -> None:
    from bundle_cli.errors import InvalidBundleError

    bundle = scaffold(extra={".bundleignore": "config.yaml\n"})
    with pytest.raises(InvalidBundleError) as exc:
        package(bundle)
    assert [d.code for d in exc.value.diagnostics] == ["config-excluded"]
    assert not (Path.cwd() / "dist").exists()
