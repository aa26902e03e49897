"""Archives where a bundle folder is expected: verified once, unpacked into a cache by digest.

`bundle validate ARCHIVE` and `bundle predict ARCHIVE` call `materialize` and then run on the
folder it returns. The cache folder of an archive is named by the archive's sha256 and appears
only by an atomic rename of a fully verified extraction, so its existence means it is complete;
two processes unpacking the same archive at once both succeed and one copy is kept.
"""

from __future__ import annotations

import os
from pathlib import Path

from bundle_cli.archive.extract import extract_into
from bundle_cli.archive.findings import Limits
from bundle_cli.archive.gzipfmt import looks_compressed_tar
from bundle_cli.archive.package import file_sha256
from bundle_cli.errors import UsageError


def cache_root() -> Path:
    """`$BUNDLE_CACHE_DIR/archives`, else `$XDG_CACHE_HOME/bundle/archives` or `~/.cache/bundle/archives`."""
    base = os.environ.get("BUNDLE_CACHE_DIR")
    if base:
        return Path(base) / "archives"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "bundle" / "archives"


def is_archive(path: Path) -> bool:
    """Whether `path` is an archive file (to materialize) rather than a bundle folder."""
    return path.is_file() and looks_compressed_tar(path)


def materialize(archive_path: Path, *, limits: Limits | None = None) -> Path:
    """The folder of a verified extraction of the archive, reused when already in the cache."""
    if not archive_path.is_file():
        raise UsageError(f"{archive_path}: no such archive file")
    digest = file_sha256(archive_path)
    root = cache_root()
    dest = root / digest
    if dest.is_dir():
        return dest
    root.mkdir(parents=True, exist_ok=True)
    try:
        extract_into(archive_path, dest, limits=limits, expect_sha256=digest)
    except UsageError:
        if dest.is_dir():  # another process finished the same extraction first
            return dest
        raise
    return dest
