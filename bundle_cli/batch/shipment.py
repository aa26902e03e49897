"""The archive a batch job runs: verified on the driver, sent to workers by content, checked again
on each worker against the digest the driver verified.

Workers never receive a loaded model (a pickle of one would be code from the driver's memory): they
receive the archive's bytes (Ray's object store) or file (Spark's files), check its sha256, and
load it through the archive cache, which unpacks it once per machine under
`<user cache>/archives/<sha256>` with a verified extraction.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bundle_cli.errors import UnsafeArchiveError, UsageError


@dataclass(frozen=True)
class Shipment:
    """A verified archive: its file name (messages name it), sha256 and where the driver has it."""

    name: str
    sha256: str
    path: Path

    def read(self) -> bytes:
        """The archive's bytes, refused if they are no longer the ones verified."""
        data = self.path.read_bytes()
        check(hashlib.sha256(data).hexdigest(), self.sha256, str(self.path))
        return data


def verified(archive: str | Path) -> Shipment:
    """Verify every byte of `archive` (exit 4 when it does not verify), before any job starts."""
    from bundle_cli.archive.digests import file_sha256
    from bundle_cli.archive.verify import verify

    path = Path(archive)
    if path.is_dir():
        raise UsageError(
            f"{path}: a folder; `bundle batch` runs an archive: `bundle package {path}` first"
        )
    if not path.is_file():
        raise UsageError(f"{path}: no such archive file")
    digest = file_sha256(path)
    report = verify(path)
    if not report.ok:
        problems = "; ".join(p.format() for p in report.problems[:3])
        raise UnsafeArchiveError(f"{path}: does not verify: {problems}")
    return Shipment(path.name, digest, path)


def check(got: str, sha256: str, where: str) -> None:
    """Refuse an archive whose digest is not the one verified on the driver."""
    if got != sha256:
        raise UnsafeArchiveError(
            f"{where}: the archive received has sha256 {got}, not the {sha256} verified on the "
            "driver; refusing to run it"
        )


def check_file(path: str | Path, sha256: str) -> None:
    """`check` for an archive a worker received as a file (Spark's files)."""
    from bundle_cli.archive.digests import file_sha256

    check(file_sha256(Path(path)), sha256, str(path))


class Received:
    """The archive's bytes as a file named as on the driver, for as long as a worker loads it.

    The archive cache keeps the unpacked folder; the file itself is removed when closed."""

    def __init__(self, name: str, data: bytes) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="bundle-batch-"))
        self.path = self.folder / name
        with open(self.path, "wb") as handle:
            handle.write(data)
        os.chmod(self.path, 0o444)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
