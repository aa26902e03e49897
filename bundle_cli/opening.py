"""A bundle as a user names it, a folder or an archive, turned into a folder to work on.

The one place that decides it, called by the entry points (the commands, `bundle_cli.load`,
`bundle_cli.validate`, `bundle test`) before anything else runs; the checks and the runtime
below them only ever see folders.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bundle_cli.diagnostics import Report


def open_bundle(path: str | Path) -> Path:
    """The folder to work on: a directory as it is; an archive verified and unpacked into the
    cache; any other file refused with what it probably is (config.yaml, an input file)."""
    path = Path(path)
    if not path.is_file():
        return path  # a folder (or nothing there, which the caller reports) needs no archive code
    from bundle_cli.archive.gzipfmt import looks_compressed_tar
    from bundle_cli.archive.where import ARCHIVE_NAMES, not_a_bundle

    if not (path.name.endswith(ARCHIVE_NAMES) or looks_compressed_tar(path)):
        raise not_a_bundle(path)  # a file named as an archive is one: corrupt ones exit 4
    from bundle_cli.archive.cache import materialize

    return materialize(path)  # refuses anything that is not a verified bundle archive


def validate(path: str | Path, *, strict: bool = False, trust_pickles: bool = False) -> Report:
    """Check a bundle folder or archive and return every error and warning found.

    Problems with the bundle are diagnostics in the report (an archive's name its files
    `ARCHIVE:member`); only a path that is not a bundle at all raises (UsageError, or
    UnsafeArchiveError for an archive that does not verify). Without `strict`, the notes only
    --strict shows are left out (diagnostics.STRICT_ONLY); see `Report.ok`. `trust_pickles`
    turns untrusted pickles from errors into warnings.
    """
    from bundle_cli import validation

    return validation.validate(open_bundle(path), strict=strict, trust_pickles=trust_pickles)
