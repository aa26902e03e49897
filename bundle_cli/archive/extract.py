"""`bundle unpack`: safe extraction into a fresh folder, moved into place only when all is verified.

Nothing is extracted by `tarfile`: names come from our own checked reader, and only regular files
and folders are created, inside a new private temporary folder beside the target. On any
problem, interrupt or error the temporary folder is removed; the target never exists half-made.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bundle_cli.archive.findings import Limits
from bundle_cli.archive.manifest import Manifest
from bundle_cli.archive.names import MANIFEST_NAME
from bundle_cli.archive.scan import scan
from bundle_cli.archive.where import require_archive_file
from bundle_cli.atomic import new_folder, umask
from bundle_cli.errors import FileSystemError, UsageError


@dataclass
class UnpackResult:
    """Where the bundle landed and what it holds."""

    path: Path
    manifest: Manifest
    file_count: int
    total_size: int


class _FolderSink:
    """Creates the checked members under `root`, which this process made and owns."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.open_fd = -1

    def close(self) -> None:
        if self.open_fd >= 0:
            os.close(self.open_fd)
            self.open_fd = -1

    def start(self, manifest: Manifest, raw: bytes) -> None:
        free = shutil.disk_usage(self.root).free
        if manifest.total_size > free:
            raise UsageError(
                f"{self.root.parent}: {manifest.total_size} bytes to unpack, only {free} free"
            )
        # kept beside the files: it says what was unpacked, and `bundle package` leaves it out
        write = self.file(MANIFEST_NAME, False)
        write(raw)
        write(None)

    def directory(self, name: str) -> None:
        os.makedirs(self.root / name, mode=0o755, exist_ok=True)

    def file(self, name: str, executable: bool) -> Callable[[bytes | memoryview | None], None]:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        self.close()
        fd = self.open_fd = os.open(path, flags, 0o755 if executable else 0o644)

        def write(chunk: bytes | memoryview | None) -> None:
            if chunk is None:
                self.close()
                return
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]

        return write


def unpack(
    archive: str | Path, target: str | Path, *, limits: Limits | None = None
) -> UnpackResult:
    """Verify `archive` while extracting it into a new folder `target`."""
    archive, target = Path(archive), Path(target)
    require_archive_file(archive)
    if os.path.lexists(target):
        raise UsageError(f"{target}: already exists; unpack into a new folder")
    parent = target.absolute().parent
    if not parent.is_dir():
        raise UsageError(f"{parent}: no such folder to unpack into")
    longest = _name_max(parent)
    if len(os.fsencode(target.name)) > longest:
        raise UsageError(
            f"{target.name[:40]}...: a folder name of {len(os.fsencode(target.name))} bytes; "
            f"this file system allows {longest}"
        )
    return extract_into(archive, target, limits=limits)


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def extract_into(
    archive: Path,
    target: Path,
    *,
    limits: Limits | None = None,
    expect_sha256: str | None = None,
    prepare: Callable[[Path], None] | None = None,
) -> UnpackResult:
    """Extract beside `target` and rename into place; raises if `target` appeared meanwhile.

    `prepare(folder)` runs on the complete, verified extraction just before the rename.
    """
    try:
        tmp = new_folder(target.absolute(), ".unpacking", private=True)
    except OSError as exc:  # a read-only or missing parent
        raise FileSystemError("unpack into", target, exc) from None
    sink = _FolderSink(tmp)
    try:
        try:
            manifest = scan(
                archive, limits=limits, sink=sink, fail_fast=True, expect_sha256=expect_sha256
            ).manifest
        except OSError as exc:  # writing the files: a full disk, a file size limit
            raise FileSystemError("unpack into", target, exc) from None
        assert manifest is not None  # scan raises rather than return without one
        os.chmod(tmp, 0o755 & ~umask())
        if prepare is not None:
            prepare(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            raise UsageError(
                f"{target}: appeared while unpacking; unpack into a new folder"
            ) from None
    except BaseException:
        sink.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return UnpackResult(target, manifest, len(manifest.files), manifest.total_size)
