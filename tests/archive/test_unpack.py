"""`bundle unpack`: the allow-list against a corpus of hostile archives, and clean round trips.

Every hostile archive below has valid framing (both checksums right), so only the member checks
stand between it and the disk. Each case asserts that unpack refused it (exit 4), that the
target was not created, that no temporary folder was left and that nothing was written anywhere
else, including the places the archive tried to reach.
"""

from __future__ import annotations

import os
import stat
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from archive_kit import CONFIG as KIT_CONFIG
from archive_kit import (
    assert_holds_scaffold,
    frame,
    manifest_member,
    member,
    scaffold_files,
    snapshot,
    tar_of,
    tree_listing,
    write_bytes,
)
from typer.testing import Result

from bundle_cli.archive.extract import unpack
from bundle_cli.archive.findings import Limits
from bundle_cli.errors import ExitCode, UnsafeArchiveError, UsageError

CONFIG = {"config.yaml": KIT_CONFIG.encode()}  # a real config: the manifest is checked against it
ESCAPE = "escaped.txt"  # hostile members aim at tmp_path/ESCAPE (absolute) or ../ESCAPE (relative)


def pax(name: str, data: bytes, **headers: str) -> tuple[tarfile.TarInfo, bytes | None]:
    info, payload = member(name, data)
    info.pax_headers = headers
    return info, payload


def hostile_cases(tmp_path: Path) -> dict[str, bytes]:
    """name -> tar stream; each has a valid manifest for the files it honestly lists."""
    absolute = str(tmp_path / ESCAPE)
    ok = member("config.yaml", CONFIG["config.yaml"])
    m = manifest_member(CONFIG)
    cases = {
        "absolute-name": tar_of(m, ok, member(absolute, b"pwned")),
        "dotdot": tar_of(m, ok, member(f"../{ESCAPE}", b"pwned")),
        "dotdot-inside": tar_of(m, ok, member(f"data/../../{ESCAPE}", b"pwned")),
        "drive-letter": tar_of(m, ok, member(f"C:/{ESCAPE}", b"pwned")),
        "drive-relative": tar_of(m, ok, member(f"c:{ESCAPE}", b"pwned")),
        "nul-in-name": tar_of(m, ok, pax("x", b"pwned", path=f"ok.txt\x00/../../{ESCAPE}")),
        "backslash": tar_of(m, ok, member(f"..\\{ESCAPE}", b"pwned")),
        "symlink": tar_of(m, ok, member("link", kind=tarfile.SYMTYPE, linkname=str(tmp_path))),
        "symlink-then-write-through": tar_of(
            m,
            member("d", kind=tarfile.SYMTYPE, linkname=str(tmp_path)),
            member(f"d/{ESCAPE}", b"pwned"),
            ok,
        ),
        "hardlink": tar_of(m, ok, member("hard", kind=tarfile.LNKTYPE, linkname="/etc/passwd")),
        "char-device": tar_of(m, ok, member("null", kind=tarfile.CHRTYPE, devmajor=1, devminor=3)),
        "block-device": tar_of(m, ok, member("sda", kind=tarfile.BLKTYPE, devmajor=8, devminor=0)),
        "fifo": tar_of(m, ok, member("pipe", kind=tarfile.FIFOTYPE)),
        "duplicate": tar_of(m, ok, member("config.yaml", b"model_name: evil\n")),
        "duplicate-manifest": tar_of(m, ok, manifest_member(CONFIG)),
        "case-collision": tar_of(
            manifest_member({"Config.yaml": b"a", **CONFIG}), member("Config.yaml", b"a"), ok
        ),
        "file-then-folder-inside-it": tar_of(
            manifest_member({"a": b"1", "a/b": b"2", **CONFIG}),
            member("a", b"1"),
            member("a/b", b"2"),
            ok,
        ),
        "gnu-longname": tar_of(
            m, ok, member("L" * 150 + "/" + ESCAPE, b"pwned"), fmt=tarfile.GNU_FORMAT
        ),
        "sparse": tar_of(
            m, ok, pax("sparse.bin", b"data", **{"GNU.sparse.major": "1", "GNU.sparse.minor": "0"})
        ),
        "setuid": tar_of(
            manifest_member({"run": b"#!", **CONFIG}), member("run", b"#!", mode=0o4755), ok
        ),
        "altered-content": tar_of(m, member("config.yaml", b"model_name: y\n")),
        "unlisted-file": tar_of(m, ok, member("extra.py", b"import os")),
        "missing-file": tar_of(manifest_member({"gone": b"g", **CONFIG}), ok),
        "no-manifest": tar_of(ok),
        "manifest-not-first": tar_of(ok, m),
        "manifest-not-json": tar_of(member(".bundle-manifest.json", b"{not json"), ok),
        "manifest-lists-escape": tar_of(manifest_member({f"../{ESCAPE}": b"x", **CONFIG}), ok),
    }
    # a pax global header applies its records (here a path) to every later member
    records = f"20 path={ESCAPE}\n".encode()
    cases["global-pax-header"] = tar_of(
        m, member("pax_global_header", records, kind=tarfile.XGLTYPE), ok
    )
    return cases


CASE_NAMES = sorted(hostile_cases(Path("/placeholder")))


@pytest.mark.parametrize("case", CASE_NAMES)
def test_hostile_archive_is_refused_and_leaves_nothing(tmp_path: Path, case: str) -> None:
    archive = write_bytes(tmp_path / "hostile.tar.gz", frame(hostile_cases(tmp_path)[case]))
    parent = tmp_path / "unpack-here"
    parent.mkdir()
    target = parent / "out"
    before = snapshot(tmp_path)
    with pytest.raises(UnsafeArchiveError):
        unpack(archive, target)
    assert not os.path.lexists(target), "target was not created"
    assert snapshot(tmp_path) == before, "no temp folder, nothing written anywhere"
    assert not os.path.lexists(tmp_path / ESCAPE)
    assert not os.path.lexists(tmp_path.parent / ESCAPE)


@pytest.mark.parametrize(
    ("limits", "files"),
    [
        (Limits(max_members=5), {f"f{i}": b"x" for i in range(10)}),
        (Limits(max_total_size=1000), {"big.bin": b"x" * 2000}),
    ],
    ids=["too-many-members", "too-large-total"],
)
def test_caps_refuse_before_writing(
    tmp_path: Path, limits: Limits, files: dict[str, bytes]
) -> None:
    files = {**CONFIG, **files}
    tar = tar_of(manifest_member(files), *(member(n, d) for n, d in files.items()))
    archive = write_bytes(tmp_path / "big.tar.gz", frame(tar))
    before = snapshot(tmp_path)
    with pytest.raises(UnsafeArchiveError, match="limit"):
        unpack(archive, tmp_path / "out", limits=limits)
    assert snapshot(tmp_path) == before


def test_verify_stops_at_the_member_cap_even_when_the_manifest_is_small(tmp_path: Path) -> None:
    from bundle_cli.archive.verify import verify

    extras = [member(f"x{i}", b"") for i in range(1000)]
    tar = tar_of(manifest_member(CONFIG), member("config.yaml", CONFIG["config.yaml"]), *extras)
    report = verify(write_bytes(tmp_path / "many.tar.gz", frame(tar)), limits=Limits(max_members=5))
    assert [p.kind for p in report.problems] == ["extra"] * 4 + ["corrupt"]
    assert "more than 5 members" in report.problems[-1].message


def test_cli_refuses_a_hostile_archive_with_exit_4(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    archive = write_bytes(tmp_path / "h.tar.gz", frame(hostile_cases(tmp_path)["dotdot"]))
    result = cli("unpack", str(archive), str(tmp_path / "out"))
    assert result.exit_code == ExitCode.UNSAFE
    assert "../escaped.txt" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_cli_caps_are_options(tmp_path: Path, cli: Callable[..., Result]) -> None:
    files = {**CONFIG, "w.bin": b"x" * 5000}
    archive = write_bytes(
        tmp_path / "c.tar.gz",
        frame(tar_of(manifest_member(files), *(member(n, d) for n, d in files.items()))),
    )
    assert (
        cli("unpack", str(archive), str(tmp_path / "o1"), "--max-size", "4k").exit_code
        == ExitCode.UNSAFE
    )
    assert (
        cli("unpack", str(archive), str(tmp_path / "o2"), "--max-files", "1").exit_code
        == ExitCode.UNSAFE
    )
    assert (
        cli("unpack", str(archive), str(tmp_path / "o3"), "--max-size", "lots").exit_code
        == ExitCode.USAGE
    )
    assert cli("unpack", str(archive), str(tmp_path / "o4"), "--max-size", "1Mi").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("o")) == ["o4"]


def test_round_trip_restores_files_modes_and_folders(
    scaffold: Callable[..., Path], tmp_path: Path, pack: Callable[..., Path]
) -> None:
    bundle = scaffold()
    (bundle / "model/model.py").chmod(0o755)
    archive = pack(bundle)
    result = unpack(archive, tmp_path / "restored")
    out = result.path
    assert result.file_count == len(scaffold_files())
    assert_holds_scaffold(out)
    mode = stat.S_IMODE((out / "model/model.py").stat().st_mode)
    assert mode & 0o111 and not stat.S_IMODE((out / "README.md").stat().st_mode) & 0o111
    assert (out / ".bundle-manifest.json").is_file()
    assert set(os.listdir(tmp_path)) == {"a.tar.gz", "bundle", "restored"}, "no temp folder left"


def test_unpacked_bundle_packages_to_the_same_bytes(
    scaffold: Callable[..., Path], tmp_path: Path, pack: Callable[..., Path]
) -> None:
    first = pack(scaffold(), "first.tar.gz")
    restored = unpack(first, tmp_path / "restored").path
    second = pack(restored, "second.tar.gz")
    assert first.read_bytes() == second.read_bytes()
    assert ".bundle-manifest.json" in tree_listing(restored)


def test_stock_tar_and_unpack_agree(
    scaffold: Callable[..., Path], tmp_path: Path, pack: Callable[..., Path]
) -> None:
    archive = pack(scaffold())
    (tmp_path / "by-tar").mkdir()
    subprocess.run(["tar", "-xzf", str(archive), "-C", str(tmp_path / "by-tar")], check=True)
    ours = unpack(archive, tmp_path / "by-us").path
    assert tree_listing(ours) == tree_listing(tmp_path / "by-tar")
    for rel in tree_listing(ours):
        if (ours / rel).is_file():
            assert (ours / rel).read_bytes() == (tmp_path / "by-tar" / rel).read_bytes()


def test_existing_target_is_refused_even_when_empty(
    scaffold: Callable[..., Path],
    tmp_path: Path,
    cli: Callable[..., Result],
    pack: Callable[..., Path],
) -> None:
    archive = pack(scaffold())
    (tmp_path / "exists").mkdir()
    with pytest.raises(UsageError, match="already exists"):
        unpack(archive, tmp_path / "exists")
    assert list((tmp_path / "exists").iterdir()) == []
    result = cli("unpack", str(archive), str(tmp_path / "exists"))
    assert result.exit_code == ExitCode.USAGE
    assert cli("unpack", str(archive), str(tmp_path / "no" / "parent")).exit_code == ExitCode.USAGE
    assert not (tmp_path / "no").exists()


FIRST_PROBLEM = {
    "setuid": "altered",
    "altered-content": "altered",
    "unlisted-file": "extra",
    "missing-file": "missing",
}
NOT_A_BUNDLE_ARCHIVE = {
    "no-manifest",
    "manifest-not-first",
    "manifest-not-json",
    "manifest-lists-escape",
}


@pytest.mark.parametrize("case", CASE_NAMES)
def test_verify_names_the_kind_of_each_hostile_member(tmp_path: Path, case: str) -> None:
    """Each check works on its own: the first problem verify reports is the one the case plants."""
    from bundle_cli.archive.verify import verify

    archive = write_bytes(tmp_path / "hostile.tar.gz", frame(hostile_cases(tmp_path)[case]))
    if case in NOT_A_BUNDLE_ARCHIVE:
        with pytest.raises(UnsafeArchiveError, match="manifest"):
            verify(archive)
        return
    problems = verify(archive).problems
    assert problems, case
    assert problems[0].kind == FIRST_PROBLEM.get(case, "unsafe"), problems


def test_a_decompression_bomb_is_stopped_at_what_the_manifest_accounts_for(tmp_path: Path) -> None:
    from bundle_cli.archive.verify import verify

    bomb = member("bomb.bin", bytes(80 * 1024 * 1024))  # deflates 1000:1
    archive = write_bytes(tmp_path / "bomb.tar.gz", frame(tar_of(manifest_member(CONFIG), bomb)))
    assert archive.stat().st_size < 200_000
    problems = verify(archive).problems
    assert [p.kind for p in problems] == ["extra", "corrupt"]
    assert "expands to more than its manifest accounts for" in problems[-1].message


def test_a_chain_of_extended_headers_is_corrupt(tmp_path: Path) -> None:
    chain = [member("x", b"20 path=escaped.txt\n", kind=tarfile.XHDTYPE) for _ in range(5)]
    tar = tar_of(manifest_member(CONFIG), *chain, member("config.yaml", CONFIG["config.yaml"]))
    with pytest.raises(UnsafeArchiveError, match="chain of extended headers"):
        unpack(write_bytes(tmp_path / "chain.tar.gz", frame(tar)), tmp_path / "out")
    assert not (tmp_path / "out").exists()
