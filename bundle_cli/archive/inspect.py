"""`bundle inspect`: the manifest of an archive, read from its head without extracting anything."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundle_cli.archive import manifest as manifest_mod
from bundle_cli.archive.names import MANIFEST_NAME
from bundle_cli.archive.reader import InflateStream
from bundle_cli.archive.tarstream import TarReader
from bundle_cli.archive.where import require_archive_file
from bundle_cli.errors import UnsafeArchiveError


@dataclass
class InspectResult:
    """What an archive says it holds (not verified: `verify` reads every byte for that)."""

    archive: Path
    archive_size: int
    manifest: manifest_mod.Manifest
    manifest_sha256: str = ""  # of the manifest member's bytes, as `unpack` writes them
    manifest_size: int = 0

    def to_dict(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "archive": str(self.archive),
            "archive_size": self.archive_size,
            "verified": False,
            "tool_version": m.tool_version,
            "spec_version": m.spec_version,
            "config_sha256": m.config_sha256,
            "bundle": m.bundle,
            "file_count": len(m.files),
            "total_size": m.total_size,
            "files": [
                {"path": f.path, "size": f.size, "executable": f.executable, "sha256": f.sha256}
                for f in m.files
            ],
        }


def inspect(archive: str | Path) -> InspectResult:
    """Read the manifest, the first member, without going through the rest of the archive."""
    archive = Path(archive)
    require_archive_file(archive)
    with open(archive, "rb") as f:
        reader = TarReader(InflateStream(f))
        first = next(reader.members(), None)
        if first is None or first.name != MANIFEST_NAME or not first.is_file:
            raise UnsafeArchiveError(
                f"not a bundle archive: its first member is not {MANIFEST_NAME}"
            )
        if first.size > manifest_mod.MAX_MANIFEST_SIZE:
            raise UnsafeArchiveError("refused: the manifest is larger than any real one")
        raw = b"".join(reader.data(first))
    manifest = manifest_mod.parse(raw)
    digest = hashlib.sha256(raw).hexdigest()
    return InspectResult(archive, archive.stat().st_size, manifest, digest, len(raw))
