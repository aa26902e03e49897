"""What a scan of an archive works with and reports: limits, problems, the writing sink."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bundle_cli.archive import manifest as manifest_mod
from bundle_cli.textsafe import printable


@dataclass(frozen=True)
class Limits:
    """Caps that keep a hostile archive from exhausting inodes or disk."""

    max_members: int = 100_000
    max_total_size: int = 128 * 1024**3


@dataclass(frozen=True)
class Problem:
    """One finding: kind is missing, extra, altered, unsafe or corrupt."""

    kind: str
    path: str | None
    message: str

    def format(self) -> str:
        """One line; the path is the archive's and may hold anything, so it is escaped."""
        if self.path is None:
            return f"{self.kind}: {self.message}"
        return f"{self.kind}: {printable(self.path)}: {self.message}"


class Sink(Protocol):
    def start(self, manifest: manifest_mod.Manifest, raw: bytes) -> None: ...
    def directory(self, name: str) -> None: ...
    def file(self, name: str, executable: bool) -> Callable[[bytes | memoryview | None], None]: ...


@dataclass
class ScanResult:
    manifest: manifest_mod.Manifest | None = None
    problems: list[Problem] = field(default_factory=list)
    files_checked: int = 0
    bytes_checked: int = 0
