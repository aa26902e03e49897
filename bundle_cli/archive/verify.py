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
from bundle_cli.errors import UsageError


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
        kinds = ("missing", "extra", "altered", "unsafe", "corrupt", "signature")
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


def verify(
    archive: str | Path,
    *,
    limits: Limits | None = None,
    signature: str | Path | None = None,
    public_key: str | Path | None = None,
) -> VerifyReport:
    """Check every byte of `archive`; raises UnsafeArchiveError when it is not a bundle archive at all.

    With `signature` and `public_key`, the model-signing signature must also cover exactly the
    archive's files (see bundle_cli/archive/signing/check.py); a folder is then checked against it alone.
    """
    archive = Path(archive)
    if (signature is None) != (public_key is None):
        raise UsageError("--signature and --public-key go together")
    if signature is not None and archive.is_dir():
        return _signed_folder(archive, Path(signature), Path(public_key or ""))
    require_archive_file(archive)
    start = time.perf_counter()
    result = scan(archive, limits=limits)
    report = VerifyReport(
        archive,
        result.manifest,
        result.problems,
        result.files_checked,
        result.bytes_checked,
        time.perf_counter() - start,
    )
    if signature is not None and result.manifest is not None:
        from bundle_cli.archive.contents import of_archive
        from bundle_cli.archive.signing.check import check_signature

        report.problems += check_signature(
            of_archive(archive), Path(signature), Path(public_key or "")
        )
    return report


def _signed_folder(folder: Path, signature: Path, public_key: Path) -> VerifyReport:
    from bundle_cli.archive.contents import of_folder
    from bundle_cli.archive.signing.check import check_signature

    start = time.perf_counter()
    found = of_folder(folder)
    problems = check_signature(found, signature, public_key)
    size = sum(f.size for f in found.files)
    return VerifyReport(folder, None, problems, len(found.files), size, time.perf_counter() - start)
