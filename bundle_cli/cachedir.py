"""The user cache folder: one answer for every cache the tool keeps.

`$BUNDLE_CACHE_DIR`, else `$XDG_CACHE_HOME/bundle`, else `~/.cache/bundle`. Under it: `archives/`
(unpacked archives, see `archive/cache.py`), `digests/` (file digests, `archive/digests.py`) and
`validated/`, `reports/` (validation verdicts, `validation/cache.py`). A cache folder that cannot be
made or written (a read-only home, a file in its place, `/proc/...`) is never an error: every cache
is an optimisation, and `usable` says when to do without it.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_home() -> Path:
    """The user cache folder of the tool (it may not exist yet)."""
    explicit = os.environ.get("BUNDLE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bundle"


def cache_path(kind: str) -> Path:
    """The folder of one cache (`archives`, `digests`, ...) under the user cache folder."""
    return cache_home() / kind


def usable(kind: str) -> tuple[Path | None, str]:
    """`(folder, "")` once the folder exists and can be written, else `(None, why not)`."""
    folder = cache_path(kind)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return None, f"cannot create {exc.filename or folder}: {exc.strerror or exc}"
    if not os.access(folder, os.W_OK | os.X_OK):
        return None, f"{folder} is not writable"
    return folder, ""


# the folder an archive was unpacked into (real path) -> the archive as the user named it
_ORIGINS: dict[str, str] = {}


def remember_origin(folder: Path, archive: str) -> None:
    """Note that `folder` holds the unpacked `archive`, so messages can name the archive."""
    _ORIGINS[os.path.realpath(folder)] = archive


def origin(folder: Path) -> str | None:
    """The archive `folder` was unpacked from in this process, as the user named it."""
    return _ORIGINS.get(os.path.realpath(folder))


def shown(path: str) -> str:
    """`ARCHIVE:member` for a path inside an unpacked archive, else the path as it is."""
    real = os.path.realpath(path) if _ORIGINS else ""
    for folder, archive in _ORIGINS.items():
        if real.startswith(folder + os.sep):
            return f"{archive}:{real[len(folder) + 1 :].replace(os.sep, '/')}"
    return path
