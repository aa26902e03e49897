"""Hostile archives built here are refused by every command with exit 4 and no traceback."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tarfile
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from archive_kit import MINIMAL, frame, manifest_for, member, tar_of, write_bytes

Run = Callable[..., subprocess.CompletedProcess[str]]
FILES = {k: v.encode() if isinstance(v, str) else v for k, v in MINIMAL.items()}


def _manifest_doc() -> dict[str, object]:
    return json.loads(manifest_for(FILES, ["model"]))  # type: ignore[no-any-return]


def _archive(path: Path, manifest: bytes, *extra: tuple[tarfile.TarInfo, bytes | None]) -> Path:
    members = [
        member(".bundle-manifest.json", manifest),
        member("model", kind=tarfile.DIRTYPE, mode=0o755),
    ]
    members += [member(name, data) for name, data in FILES.items()]
    return write_bytes(path, frame(tar_of(*members, *extra)))


def _refused(run_bundle: Run, archive: Path, commands: tuple[str, ...], tmp_path: Path) -> None:
    env = {"BUNDLE_CACHE_DIR": str(tmp_path / "cache")}
    for command in commands:
        args = [command, str(archive)] + ([str(tmp_path / "out")] if command == "unpack" else [])
        result = run_bundle(*args, env=env)
        assert result.returncode == 4, (command, result.stderr)
        assert "Traceback" not in result.stderr, result.stderr
        assert not (tmp_path / "out").exists()


ALL = ("verify", "unpack", "inspect", "validate")


def test_a_pax_size_of_thousands_of_digits(tmp_path: Path, run_bundle: Run) -> None:
    info, data = member("model/model.py", FILES["model/model.py"])
    info.pax_headers = {"size": "9" * 5000}
    archive = _archive(tmp_path / "a.tar.gz", manifest_for(FILES, ["model"]), (info, data))
    _refused(run_bundle, archive, ("verify", "unpack", "validate"), tmp_path)


def test_a_trailing_extended_header_without_a_member(tmp_path: Path, run_bundle: Run) -> None:
    good = _archive(tmp_path / "good.tar.gz", manifest_for(FILES, ["model"]))
    assert run_bundle("verify", str(good)).returncode == 0
    record = b"path=ghost\n"
    record = f"{len(record) + 3} ".encode() + record
    trailing = member("pax", record, kind=tarfile.XHDTYPE)
    archive = _archive(tmp_path / "a.tar.gz", manifest_for(FILES, ["model"]), trailing)
    _refused(run_bundle, archive, ("verify", "unpack", "validate"), tmp_path)


def test_a_manifest_nested_a_hundred_thousand_deep(tmp_path: Path, run_bundle: Run) -> None:
    doc = _manifest_doc()
    nested = "[" * 100_000 + "]" * 100_000
    text = json.dumps(doc).replace('"spec_version": null', f'"spec_version": {nested}')
    archive = _archive(tmp_path / "a.tar.gz", text.encode())
    _refused(run_bundle, archive, ALL, tmp_path)


@pytest.mark.parametrize(
    "change",
    [
        {"bundle.requirements": 5},
        {"bundle.name": ["x"]},
        {"bundle.version": None},
        {"size": 10**400},
    ],
    ids=["requirements-5", "name-list", "version-null", "size-10**400"],
)
def test_manifest_fields_of_the_wrong_type(
    change: dict[str, object], tmp_path: Path, run_bundle: Run
) -> None:
    doc = _manifest_doc()
    for key, value in change.items():
        if key == "size":  # with a total that adds up, so that only the size itself is wrong
            files = doc["files"]
            doc["total_size"] += value - files[0]["size"]  # type: ignore[index,operator]
            files[0]["size"] = value  # type: ignore[index]
        else:
            doc["bundle"][key.split(".")[1]] = value  # type: ignore[index]
    archive = _archive(tmp_path / "a.tar.gz", json.dumps(doc).encode())
    _refused(run_bundle, archive, ALL, tmp_path)


def test_a_member_name_longer_than_file_systems_hold(tmp_path: Path, run_bundle: Run) -> None:
    long_name = "model/" + "m" * 300 + ".py"
    files = {**FILES, long_name: b"x = 1\n"}
    manifest = manifest_for(files, ["model"])
    archive = _archive(tmp_path / "a.tar.gz", manifest, member(long_name, b"x = 1\n"))
    _refused(run_bundle, archive, ALL, tmp_path)


def test_unpack_options_and_targets_out_of_range(tmp_path: Path, run_bundle: Run) -> None:
    good = _archive(tmp_path / "good.tar.gz", manifest_for(FILES, ["model"]))
    huge = run_bundle("unpack", str(good), str(tmp_path / "out"), "--max-size", "9" * 5000)
    assert huge.returncode == 2 and "--max-size" in huge.stderr and "Traceback" not in huge.stderr
    long_target = tmp_path / ("t" * 300)
    named = run_bundle("unpack", str(good), str(long_target))
    assert named.returncode == 2 and "allows 255" in named.stderr, named.stderr
    assert "Traceback" not in named.stderr
    fits = tmp_path / ("t" * 250)
    assert run_bundle("unpack", str(good), str(fits)).returncode == 0
    assert (
        hashlib.sha256((fits / "model/model.py").read_bytes()).hexdigest()
        == hashlib.sha256(FILES["model/model.py"]).hexdigest()
    )


def _members(archive: Path) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    with tarfile.open(archive) as tf:
        return [(m, tf.extractfile(m).read() if m.isfile() else None) for m in tf]  # type: ignore[union-attr]


def _relabelled(good: Path, out: Path, edit: Callable[[dict[str, object]], None]) -> Path:
    """`good` with its manifest edited and every framing checksum right again."""
    members = _members(good)
    doc = json.loads(members[0][1])  # type: ignore[arg-type]
    edit(doc)
    members[0] = member(".bundle-manifest.json", json.dumps(doc).encode())
    return write_bytes(out, frame(tar_of(*members)))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("config_sha256", "0" * 64),
        ("name", "Someone Else"),
        ("slug", "someone-else"),
        ("version", "9.9.9"),
        ("python_version", "py39"),
        ("requirements", ["evil-package==6.6.6"]),
        ("requirements_file", "requirements.txt"),
        ("methods", ["load", "predict", "websocket"]),
        ("model_file", None),
        ("model_file", "config.yaml"),
    ],
)
def test_a_manifest_that_lies_about_the_config_is_refused(
    field: str,
    value: object,
    scaffold: Callable[..., Path],
    pack: Callable[..., Path],
    tmp_path: Path,
    run_bundle: Run,
) -> None:
    good = pack(scaffold(clutter=False), "good.tar.gz")

    def edit(doc: dict[str, object]) -> None:
        if field == "config_sha256":
            doc[field] = value
        else:
            doc["bundle"][field] = value  # type: ignore[index]

    lying = _relabelled(good, tmp_path / "lying.tar.gz", edit)
    checked = run_bundle("verify", str(lying))
    assert checked.returncode == 4, checked.stderr
    assert (
        f"altered: .bundle-manifest.json: {'' if field == 'config_sha256' else 'bundle.'}{field}"
        in checked.stderr
    )
    _refused(run_bundle, lying, ("unpack", "validate"), tmp_path)


def test_an_archive_carrying_an_alias_bomb_is_refused(
    scaffold: Callable[..., Path], pack: Callable[..., Path], tmp_path: Path, run_bundle: Run
) -> None:
    """Every digest right, but its config.yaml expands to billions of values when read."""
    bomb = 'model_name: m\nmodel_metadata:\n  a: &a ["x","x","x","x","x","x","x","x","x","x"]\n'
    bomb += "".join(
        f"  {chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 10) + "]\n"
        for i in range(9)
    )
    members = _members(pack(scaffold(clutter=False), "good.tar.gz"))
    doc = json.loads(members[0][1])  # type: ignore[arg-type]
    digest = hashlib.sha256(bomb.encode()).hexdigest()
    for record in doc["files"]:
        if record["path"] == "config.yaml":
            doc["total_size"] += len(bomb) - record["size"]
            record.update(size=len(bomb), sha256=digest)
    doc["config_sha256"] = digest
    rebuilt = [member(".bundle-manifest.json", json.dumps(doc).encode())]
    rebuilt += [
        member(m.name, bomb.encode()) if m.name == "config.yaml" else (m, d) for m, d in members[1:]
    ]
    archive = write_bytes(tmp_path / "bomb.tar.gz", frame(tar_of(*rebuilt)))
    checked = run_bundle("verify", str(archive))
    assert checked.returncode == 4 and "config.yaml does not validate" in checked.stderr, (
        checked.stderr
    )
    _refused(run_bundle, archive, ("unpack", "validate"), tmp_path)


@pytest.mark.parametrize("sequence", ["\x1b]0;pwned\x07", "\x1b[2J", "\u202etxt.exe", "\x9b31m"])
def test_terminal_sequences_from_an_archive_never_reach_the_terminal(
    sequence: str, tmp_path: Path, run_bundle: Run
) -> None:
    name = f"model/{sequence}.py"
    files = {**FILES, name: b"x = 1\n"}
    archive = _archive(
        tmp_path / "a.tar.gz", manifest_for(files, ["model"]), member(name, b"x = 1\n")
    )
    env = {"BUNDLE_CACHE_DIR": str(tmp_path / "cache")}
    outputs = [run_bundle(c, str(archive), env=env) for c in ("verify", "validate")]
    outputs.append(run_bundle("unpack", str(archive), str(tmp_path / "out"), env=env))
    outputs.append(run_bundle("predict", str(archive), "-d", "{}", env=env))
    doc = _manifest_doc()
    doc["bundle"]["name"] = f"evil{sequence}"  # type: ignore[index]
    doc["bundle"]["description"] = f"d{sequence}"  # type: ignore[index]
    outputs.append(
        run_bundle("inspect", str(_archive(tmp_path / "b.tar.gz", json.dumps(doc).encode())))
    )
    for result in outputs:
        raw = result.stdout + result.stderr
        hidden = [c for c in raw if c not in "\n\t" and unicodedata.category(c) in ("Cc", "Cf")]
        assert hidden == [], (result.args, raw)
    assert outputs[-1].returncode == 0, outputs[-1].stderr
    assert (
        "\\x1b" in outputs[-1].stdout
        or "\\u202e" in outputs[-1].stdout
        or "\\x9b" in outputs[-1].stdout
    )


def test_a_manifest_from_before_methods_were_recorded_still_verifies(
    scaffold: Callable[..., Path], pack: Callable[..., Path], tmp_path: Path, run_bundle: Run
) -> None:
    """Archives packed before `model_file` and `methods` existed have neither key: they verify,
    and `inspect` says the methods were not recorded rather than inventing them."""
    good = pack(scaffold(clutter=False), "good.tar.gz")

    def older(doc: dict[str, object]) -> None:
        del doc["bundle"]["model_file"], doc["bundle"]["methods"]  # type: ignore[attr-defined]

    old = _relabelled(good, tmp_path / "old.tar.gz", older)
    checked = run_bundle("verify", str(old))
    assert checked.returncode == 0, checked.stderr
    shown = run_bundle("inspect", str(old))
    assert "methods:       (not recorded by the bundle that packed it)" in shown.stdout
