"""`bundle verify`: recompute every digest and report missing, extra, altered and unsafe members."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundle_cli.archive.findings import Limits, Problem
from bundle_cli.archive.manifest import Manifest
from bundle_cli.archive.scan import scan
from bundle_cli.archive.where import require_archive_file


@dataclass
class VerifyReport:
    """The outcome of checking one archive; `ok` only when nothing at all is wrong."""

    archive: Path
    manifest: Manifest | None
    problems: list[Problem] = field(default_factory=list)
    files_checked: int = 0
    bytes_checked: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> dict[str, int]:
        kinds = ("missing", "extra", "altered", "unsafe", "corrupt")
        return {kind: sum(p.kind == kind for p in self.problems) for kind in kinds}

    def to_dict(self) -> dict[str, Any]:
        return {
            "archive": str(self.archive),
            "ok": self.ok,
            "files_checked": self.files_checked,
            "bytes_checked": self.bytes_checked,
            **self.counts(),
            "problems": [
                {"kind": p.kind, "path": p.path, "message": p.message} for p in self.problems
            ],
        }


def verify(archive: str | Path, *, limits: Limits | None = None) -> VerifyReport:
    """Check every byte of `archive`; raises UnsafeArchiveError when it is not a bundle archive at all."""
    archive = Path(archive)
    require_archive_file(archive)
    start = time.perf_counter()
    result = scan(archive, limits=limits)
    return VerifyReport(
        archive,
        result.manifest,
        result.problems,
        result.files_checked,
        result.bytes_checked,
        time.perf_counter() - start,
    )
