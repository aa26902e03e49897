"""What an archive or a bundle folder holds, as manifest records with their digests.

An archive's contents come from its manifest (read from its head, not verified: `verify` does
that); a folder's are what `bundle package` would pack, hashed now. `sign`, `verify
--signature` and `diff` work on these, whichever of the two they were given.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bundle_cli.archive.manifest import FileRecord, Manifest
from bundle_cli.archive.names import MANIFEST_NAME


@dataclass
class Contents:
    """The files of an archive or folder; `others` are what is there but never packed."""

    path: Path
    is_archive: bool
    name: str
    files: list[FileRecord]
    shard_size: int | None = None
    others: list[str] = field(default_factory=list)
    manifest: Manifest | None = None
    manifest_record: FileRecord | None = None  # the manifest member itself, for archives

    def digests(self) -> dict[str, FileRecord]:
        return {f.path: f for f in self.files}


def contents(path: Path) -> Contents:
    """The contents of an archive file or a bundle folder."""
    from bundle_cli.archive.gzipfmt import looks_compressed_tar
    from bundle_cli.errors import UsageError

    if path.is_file() and looks_compressed_tar(path):
        return of_archive(path)
    if path.is_dir():
        return of_folder(path)
    raise UsageError(f"{path}: neither a bundle folder nor an archive written by `bundle package`")


def of_archive(path: Path) -> Contents:
    from bundle_cli.archive.inspect import inspect

    result = inspect(path)
    m = result.manifest
    name = str(m.bundle.get("slug") or m.bundle.get("name") or path.name)
    # `unpack` writes the manifest beside the files: a signature of the folder must leave it out
    record = FileRecord(MANIFEST_NAME, result.manifest_size, result.manifest_sha256)
    return Contents(path, True, name, m.files, m.shard_size, [MANIFEST_NAME], m, record)


def of_folder(path: Path, shard_size: int | str | None = "as packed") -> Contents:
    """A folder's files hashed as `package` would record them, or cut in `shard_size` pieces
    (None: one sha256 per file), as a signature made elsewhere may ask."""
    from concurrent.futures import ThreadPoolExecutor

    from bundle_cli.archive.select import select_files
    from bundle_cli.archive.shards import hash_entry, shard_size_for, workers

    selection = select_files(path)
    files = selection.files
    size = shard_size_for(e.size for e in files) if shard_size == "as packed" else shard_size
    assert not isinstance(size, str)
    with ThreadPoolExecutor(workers()) as pool:
        records = list(pool.map(lambda e: hash_entry(e, size), files))
    names = {e.name for e in selection.entries}
    root = path.resolve()
    return Contents(root, False, root.name, records, size, unselected(path, names))


def unselected(root: Path, names: set[str]) -> list[str]:
    """The top-most paths under `root` that are not packed (model-signing's ignore_paths)."""
    found: list[str] = []

    def walk(folder: Path, prefix: str) -> None:
        with os.scandir(folder) as it:
            for item in sorted(it, key=lambda d: d.name):
                rel = prefix + item.name
                if rel not in names:
                    found.append(rel)
                elif item.is_dir():
                    walk(Path(item.path), rel + "/")

    walk(root, "")
    return found
