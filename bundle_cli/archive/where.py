"""What a path given as an archive or a bundle is, with messages that point at the real mistake
(a folder given to verify, config.yaml or input.json given as the bundle)."""

from __future__ import annotations

from pathlib import Path

from bundle_cli.config.locate import CONFIG_FILENAME
from bundle_cli.errors import UsageError

INPUT_SUFFIXES = (".json", ".jsonl")
ARCHIVE_NAMES = (".tar.gz", ".tgz", ".tar.zst")


def require_archive_file(archive: Path) -> None:
    """For verify, unpack and inspect: an existing file; a folder gets `bundle validate`."""
    if archive.is_dir():
        raise UsageError(
            f"{archive}: is a folder, not an archive",
            hint=f"to check a bundle folder, run `bundle validate {archive}`",
        )
    if not archive.is_file():
        raise UsageError(f"{archive}: no such archive file")


def not_a_bundle(path: Path) -> UsageError:
    """The error for a file given where a bundle folder or archive is expected."""
    folder = path.parent if str(path.parent) != "" else Path(".")
    if path.name == CONFIG_FILENAME:
        return UsageError(
            f"{path}: this is the bundle's config file; give the bundle folder ({folder})"
        )
    if path.name.endswith(INPUT_SUFFIXES):
        return UsageError(
            f"{path} was taken as the bundle, but it is a file, not a bundle folder or archive",
            hint=f"to send it as the request, give -i {path} (the bundle is the current folder "
            "unless named)",
        )
    return UsageError(
        f"{path}: this is a file, not a bundle archive; give the bundle folder (the one holding "
        "config.yaml) or an archive written by `bundle package`"
    )
