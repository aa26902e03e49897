"""Archives where a bundle folder is expected: verified once, unpacked into a cache by digest.

`bundle validate ARCHIVE`, `predict ARCHIVE` and `test ARCHIVE` call `materialize` and then run on
the folder it returns. The cache folder of an archive is named by the archive's sha256 and appears
only by an atomic rename of a fully verified extraction; two processes unpacking the same archive
at once both succeed and one copy is kept.

The folder *is* the archive: it is made read-only, and the size and mtime of every file are
recorded beside it (`<sha256>.json`) at unpack. Before each use the folder is compared with that
record (a walk of `stat` calls, no hashing); a changed, added or missing file makes it be discarded
and unpacked again, with a warning. The record's mtime is the time of last use: when the cache
holds more than `BUNDLE_CACHE_MAX` (default `DEFAULT_MAX`), the least recently used archives go.
With no usable cache folder, the archive is unpacked into a private temporary folder that is
removed when the process exits.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundle_cli import cachedir
from bundle_cli.archive.digests import file_sha256
from bundle_cli.archive.extract import extract_into
from bundle_cli.archive.findings import Limits
from bundle_cli.archive.gzipfmt import looks_compressed_tar
from bundle_cli.atomic import replace_file
from bundle_cli.errors import BundleWarning, FileSystemError, UsageError
from bundle_cli.sizes import parse_size
from bundle_cli.tempnames import prefix, remove_stale, remove_tree

KIND = "archives"
_OTHER_KINDS = ("digests", "validated", "reports")
DEFAULT_MAX = "10Gi"
_RECORD = ".json"
_MTIME_NS = 315532800 * 10**9  # 1980-01-01, the time `bundle package` gives members


def cache_root() -> Path:
    """Where unpacked archives are kept: the `archives` folder of the user cache."""
    return cachedir.cache_path(KIND)


def is_archive(path: Path) -> bool:
    """Whether `path` is an archive file (to materialize) rather than a bundle folder."""
    return path.is_file() and looks_compressed_tar(path)


def materialize(archive_path: Path, *, limits: Limits | None = None) -> Path:
    """The folder of a verified extraction of the archive, reused when still intact in the cache."""
    if not archive_path.is_file():
        raise UsageError(f"{archive_path}: no such archive file")
    digest = file_sha256(archive_path)
    folder = _reuse(archive_path, cache_root(), digest)
    if folder is None:
        root, why = cachedir.usable(KIND)
        folder = None if root is None else _unpack(archive_path, root, digest, limits)
        if folder is None:
            why = why or f"cannot unpack into {cache_root()}"
            _warn(f"{why}; unpacking {archive_path} into a temporary folder for this run only")
            folder = _private(archive_path, digest, limits)
    cachedir.remember_origin(folder, str(archive_path))
    # Python would write __pycache__ into the read-only folder where it can (as root): that
    # would be an added file, and a .pyc that is not the archive's would be run next time.
    sys.dont_write_bytecode = True
    return folder


def _reuse(archive: Path, root: Path, digest: str) -> Path | None:
    """The cached folder when it is still exactly what was unpacked (a read-only cache will do)."""
    dest = root / digest
    if not dest.is_dir():
        return None
    try:
        change = _changed(dest, _read_record(root / (digest + _RECORD)))
    except OSError as exc:  # removed or made unreadable meanwhile (another process evicting it)
        change = f"it cannot be read ({exc.strerror or exc})"
    if change is None:
        _touch(root / (digest + _RECORD))
        return dest
    _warn(f"{dest}: {change} since {archive} was unpacked there; unpacking it again")
    _discard(dest)
    return None


def _unpack(archive: Path, root: Path, digest: str, limits: Limits | None) -> Path | None:
    dest, record = root / digest, root / (digest + _RECORD)
    max_size()  # a malformed BUNDLE_CACHE_MAX is an error before anything is unpacked

    def prepare(tmp: Path) -> None:
        _seal(tmp)
        _write_record(record, archive, tmp)  # before the rename: a visible folder has its record

    remove_stale(dest, ".discarding")  # extract_into removes stale ".unpacking" ones itself
    remove_stale(record, ".tmp")
    try:
        extract_into(archive, dest, limits=limits, expect_sha256=digest, prepare=prepare)
    except UsageError:  # not enough free space, or the folder appeared meanwhile
        if not dest.is_dir():  # else another process finished the same extraction first
            return None
    except (OSError, FileSystemError):
        return None  # a full disk, a folder that turned read-only: run without the cache
    evict(keep=digest)
    return dest


def _private(archive: Path, digest: str, limits: Limits | None) -> Path:
    stem = Path(tempfile.gettempdir()) / "bundle-archive"
    remove_stale(stem, ".private")  # left by a run that was killed
    holder = Path(tempfile.mkdtemp(prefix=prefix(stem), suffix=".private"))
    atexit.register(remove_tree, holder)
    dest = holder / digest
    extract_into(archive, dest, limits=limits, expect_sha256=digest, prepare=_seal)
    return dest


def _warn(message: str) -> None:
    warnings.warn(BundleWarning(message), stacklevel=2)


# -- the record of an unpacked archive ---------------------------------------------------------


def _seal(folder: Path) -> None:
    """Make a fresh extraction read-only, deepest entries first (the folder itself last).

    Every file gets the same mtime, so two processes that unpack the same archive at once write
    the same record, whichever folder wins the rename.
    """
    for top, dirs, files in os.walk(folder, topdown=False):
        for name in files:
            path = os.path.join(top, name)
            os.utime(path, ns=(_MTIME_NS, _MTIME_NS))
            os.chmod(path, os.stat(path).st_mode & 0o555)
        for name in dirs:
            os.chmod(os.path.join(top, name), 0o555)
    os.chmod(folder, 0o555)


def _snapshot(folder: Path) -> dict[str, Any]:
    """Every file's [size, mtime_ns, mode] and every folder, by path inside `folder`."""
    files: dict[str, list[int]] = {}
    dirs: list[str] = []
    pending = [("", str(folder))]
    while pending:
        prefix, path = pending.pop()
        with os.scandir(path) as it:
            for entry in it:
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    dirs.append(rel)
                    pending.append((rel + "/", entry.path))
                else:
                    st = entry.stat(follow_symlinks=False)
                    files[rel] = [st.st_size, st.st_mtime_ns, st.st_mode]
    return {"files": files, "dirs": sorted(dirs)}


def _changed(folder: Path, record: dict[str, Any] | None) -> str | None:
    """What differs from the record made at unpack, or None when nothing does."""
    if record is None:
        return "no record of the unpacked files"
    now = _snapshot(folder)
    for kind in ("files", "dirs"):
        added = sorted(set(now[kind]) - set(record[kind]))
        missing = sorted(set(record[kind]) - set(now[kind]))
        if added:
            return f"{added[0]} was added"
        if missing:
            return f"{missing[0]} is missing"
    for name, stat in now["files"].items():
        if stat != record["files"][name]:
            return f"{name} was changed"
    return None


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files, dirs = data["files"], data["dirs"]
        if isinstance(files, dict) and isinstance(dirs, list) and isinstance(data["size"], int):
            return dict(data)
    except (OSError, ValueError, TypeError, KeyError):
        pass
    return None


def _write_record(path: Path, archive: Path, folder: Path) -> None:
    data = _snapshot(folder)
    data |= {"archive": os.path.abspath(archive), "size": sum(s[0] for s in data["files"].values())}
    replace_file(path, json.dumps(data))


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):  # the order of eviction is only a little less exact
        os.utime(path)


def _discard(folder: Path) -> None:
    """Move the folder out of the way (atomically), then delete it."""
    aside = folder.with_name(f".{folder.name}.{os.getpid()}.discarding")
    try:
        os.rename(folder, aside)
    except OSError:
        return  # another process moved it first
    remove_tree(aside)


# -- listing, cleaning, the size cap -------------------------------------------------------------


@dataclass(frozen=True)
class CacheEntry:
    """One unpacked archive in the cache."""

    digest: str
    archive: str
    size: int
    last_used: float
    folder: Path

    def to_dict(self) -> dict[str, Any]:
        return {
            "sha256": self.digest,
            "archive": self.archive,
            "size": self.size,
            "last_used": self.last_used,
            "folder": str(self.folder),
        }


def entries() -> list[CacheEntry]:
    """Every unpacked archive in the cache, least recently used first."""
    root = cache_root()
    found = []
    for record_path in root.glob("*" + _RECORD) if root.is_dir() else ():
        digest = record_path.name[: -len(_RECORD)]
        record = _read_record(record_path)
        try:
            used = record_path.stat().st_mtime
        except OSError:
            continue
        if record is not None and (root / digest).is_dir():
            found.append(
                CacheEntry(digest, str(record.get("archive")), record["size"], used, root / digest)
            )
    return sorted(found, key=lambda e: (e.last_used, e.digest))


def remove(entry: CacheEntry) -> None:
    """Delete one unpacked archive and its record."""
    _discard(entry.folder)
    (entry.folder.parent / (entry.digest + _RECORD)).unlink(missing_ok=True)


def max_size() -> int:
    """The size cap of the archive cache: `BUNDLE_CACHE_MAX` (e.g. `2Gi`), else `DEFAULT_MAX`."""
    text = os.environ.get("BUNDLE_CACHE_MAX") or DEFAULT_MAX
    return parse_size(text, "BUNDLE_CACHE_MAX")


def evict(*, keep: str) -> list[CacheEntry]:
    """Remove least recently used archives until the cache fits its cap; never `keep`."""
    cap, held = max_size(), entries()
    total = sum(e.size for e in held)
    removed = []
    for entry in held:
        if total <= cap:
            break
        if entry.digest != keep:
            remove(entry)
            total -= entry.size
            removed.append(entry)
    return removed


def clean(older_than_days: float | None = None) -> tuple[int, int]:
    """Empty the user cache, or only what was last used more than `older_than_days` ago.

    Returns how many unpacked archives were removed and the bytes they held. The other caches
    (digests, validation verdicts) go by the same rule, file by file.
    """
    cutoff = None if older_than_days is None else time.time() - older_than_days * 86400
    removed = [e for e in entries() if cutoff is None or e.last_used < cutoff]
    for entry in removed:
        remove(entry)
    for kind in _OTHER_KINDS:
        _clean_files(cachedir.cache_path(kind), cutoff)
    return len(removed), sum(e.size for e in removed)


def _clean_files(folder: Path, cutoff: float | None) -> None:
    for top, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(top, name)
            with contextlib.suppress(OSError):
                if cutoff is None or os.stat(path).st_mtime < cutoff:
                    os.unlink(path)
