"""File selection: safe defaults, .bundleignore, symlinks, names that cannot travel."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from archive_kit import CLUTTER, GOLDEN_MEMBERS

from bundle_cli.archive.select import select_files
from bundle_cli.errors import InvalidBundleError


def names(bundle: Path) -> list[str]:
    return [e.name for e in select_files(bundle).entries]


def error_codes(exc: pytest.ExceptionInfo[InvalidBundleError]) -> list[tuple[str, str]]:
    return [
        (d.code, Path(d.file or "").name) for d in exc.value.diagnostics if d.severity == "error"
    ]


def test_scaffold_selection_is_the_golden_list_minus_the_manifest(
    scaffold: Callable[..., Path],
) -> None:
    got = names(scaffold())
    want = [n for n in GOLDEN_MEMBERS if n != ".bundle-manifest.json"]
    assert sorted(set(want) - set(got)) == [], "missing"
    assert sorted(set(got) - set(want)) == [], "extra"
    assert got == sorted(got, key=lambda n: n.split("/")), "entries are in path order"


def test_no_clutter_or_secret_is_selected(scaffold: Callable[..., Path]) -> None:
    got = set(names(scaffold()))
    for path in CLUTTER:
        assert path not in got
        assert not any(
            n.startswith(path.split("/")[0] + "/")
            for n in got
            if path.startswith((".git", ".venv", "env311"))
        )


def test_bundleignore_cannot_reinclude_a_secret_and_says_so(tree: Callable[..., Path]) -> None:
    bundle = tree(
        {
            "config.yaml": "model_name: x\n",
            ".env": "T=1\n",
            "id_rsa": "k",
            ".bundleignore": "!.env\n!id_rsa\n",
        }
    )
    selection = select_files(bundle)
    assert [e.name for e in selection.files] == [".bundleignore", "config.yaml"]
    reincluded = [d for d in selection.diagnostics if d.code == "secret-not-reincluded"]
    assert sorted(d.message.split(":")[0] for d in reincluded) == [".env", "id_rsa"]
    assert all(d.severity == "warning" for d in selection.diagnostics)
    [listed] = [d for d in selection.diagnostics if d.code == "secrets-left-out"]
    assert listed.message.endswith("credentials: .env, id_rsa")


def test_bundleignore_adds_and_negates_its_own_patterns(tree: Callable[..., Path]) -> None:
    bundle = tree(
        {
            "config.yaml": "x: 1\n",
            "data/a.ckpt": "1",
            "data/keep.ckpt": "2",
            "notes/n.txt": "3",
            ".bundleignore": "# comment\n*.ckpt\n!keep.ckpt\nnotes/\n",
        }
    )
    assert [e.name for e in select_files(bundle).files] == [
        ".bundleignore",
        "config.yaml",
        "data/keep.ckpt",
    ]


def test_clutter_defaults_cannot_be_reincluded_either(tree: Callable[..., Path]) -> None:
    bundle = tree(
        {
            "config.yaml": "x: 1\n",
            "__pycache__/m.pyc": "x",
            ".bundleignore": "!__pycache__/\n!*.pyc\n",
        }
    )
    assert [e.name for e in select_files(bundle).files] == [".bundleignore", "config.yaml"]


def test_bad_bundleignore_pattern_is_an_error_with_its_line(tree: Callable[..., Path]) -> None:
    bundle = tree({"config.yaml": "x: 1\n", ".bundleignore": "ok.txt\n\\\n"})
    with pytest.raises(InvalidBundleError) as exc:
        select_files(bundle)
    (diag,) = exc.value.diagnostics
    assert (diag.code, diag.line, diag.file) == (
        "bad-ignore-pattern",
        2,
        str(bundle / ".bundleignore"),
    )


def test_any_folder_with_pyvenv_cfg_is_left_out(tree: Callable[..., Path]) -> None:
    bundle = tree(
        {
            "config.yaml": "x",
            "tools/myenv/pyvenv.cfg": "home=/",
            "tools/myenv/lib/a.py": "",
            "tools/t.py": "",
        }
    )
    assert names(bundle) == ["config.yaml", "tools", "tools/t.py"]


def test_symlink_to_a_file_inside_is_packed_as_a_regular_copy(tree: Callable[..., Path]) -> None:
    bundle = tree({"config.yaml": "x", "data/v3.bin": "weights"})
    os.symlink("v3.bin", bundle / "data/latest.bin")
    files = {e.name: e for e in select_files(bundle).files}
    assert files["data/latest.bin"].size == len("weights")
    assert files["data/latest.bin"].source == (bundle / "data/v3.bin").resolve()


def test_symlinked_folder_inside_is_walked(tree: Callable[..., Path]) -> None:
    bundle = tree({"config.yaml": "x", "src/lib/m.py": "print(1)"})
    (bundle / "packages").mkdir()
    os.symlink("../src/lib", bundle / "packages/lib")
    assert "packages/lib/m.py" in names(bundle)


@pytest.mark.parametrize(
    ("make_link", "code"),
    [
        (lambda b, out: os.symlink(out, b / "data/w.bin"), "symlink-outside"),
        (lambda b, out: os.symlink("../../outside", b / "data/up"), "symlink-outside"),
        (lambda b, out: os.symlink("missing.bin", b / "data/w.bin"), "dangling-symlink"),
        (lambda b, out: os.symlink("..", b / "data/loop"), "symlink-loop"),
        (lambda b, out: os.symlink("../.env", b / "data/creds.txt"), "symlink-to-excluded"),
    ],
    ids=["outside-absolute", "outside-relative", "dangling", "loop", "to-secret"],
)
def test_bad_symlinks_are_errors_naming_the_link(
    tree: Callable[..., Path], tmp_path: Path, make_link: Callable[[Path, Path], None], code: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.bin").write_text("not yours")
    bundle = tree({"config.yaml": "x", "data/ok.bin": "1", ".env": "T=1"})
    make_link(bundle, outside / "secret.bin")
    with pytest.raises(InvalidBundleError) as exc:
        select_files(bundle)
    [(got_code, got_file)] = error_codes(exc)
    assert got_code == code
    assert got_file in {"w.bin", "up", "loop", "creds.txt"}


def test_excluded_symlink_pointing_outside_is_ignored(
    tree: Callable[..., Path], tmp_path: Path
) -> None:
    bundle = tree({"config.yaml": "x", ".bundleignore": "cache/\n"})
    os.symlink(tmp_path, bundle / "cache")
    assert names(bundle) == [".bundleignore", "config.yaml"]


@pytest.mark.parametrize("bad", ["back\\slash.txt", "c:stream.txt", "new\nline.txt"])
def test_names_other_systems_cannot_hold_are_refused(tree: Callable[..., Path], bad: str) -> None:
    bundle = tree({"config.yaml": "x", bad: "1"})
    with pytest.raises(InvalidBundleError) as exc:
        select_files(bundle)
    assert error_codes(exc) == [("bad-file-name", bad.split("/")[-1])]


def test_case_collisions_are_refused(tree: Callable[..., Path]) -> None:
    bundle = tree({"config.yaml": "x", "data/Model.bin": "1", "data/model.bin": "2"})
    with pytest.raises(InvalidBundleError) as exc:
        select_files(bundle)
    assert [c for c, _ in error_codes(exc)] == ["case-collision"]


def test_fifo_is_refused(tree: Callable[..., Path]) -> None:
    bundle = tree({"config.yaml": "x"})
    os.mkfifo(bundle / "pipe")
    with pytest.raises(InvalidBundleError) as exc:
        select_files(bundle)
    assert error_codes(exc) == [("not-a-file", "pipe")]


def test_every_problem_is_reported_at_once(tree: Callable[..., Path], tmp_path: Path) -> None:
    bundle = tree({"config.yaml": "x", "a\\b": "1", "c:d": "2"})
    os.symlink(tmp_path, bundle / "out")
    with pytest.raises(InvalidBundleError) as exc:
        select_files(bundle)
    assert sorted(c for c, _ in error_codes(exc)) == [
        "bad-file-name",
        "bad-file-name",
        "symlink-outside",
    ]


def test_executable_bit_is_recorded(tree: Callable[..., Path]) -> None:
    bundle = tree({"config.yaml": "x", "run.sh": "#!/bin/sh\n"})
    (bundle / "run.sh").chmod(0o744)
    files = {e.name: e.executable for e in select_files(bundle).files}
    assert files == {"config.yaml": False, "run.sh": True}
