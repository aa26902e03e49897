"""Temporary files and folders beside a target, named so that stale ones can be found.

Atomic writes make `.<name>.<pid>[.<random>]<suffix>` beside the target, then rename it into place.
A process killed with SIGKILL cannot remove its own; the next run writing the same target
removes those whose process is gone and that nothing has touched for `STALE_AFTER` seconds (the
age guard keeps a live writer in another PID namespace, sharing the folder, safe).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from pathlib import Path

STALE_AFTER = 600.0


def prefix(target: Path) -> str:
    """The start of a temp name beside `target`: `.NAME.PID.` (NAME cut so that it fits)."""
    name = os.fsdecode(os.fsencode(target.name)[:200])
    return f".{name}.{os.getpid()}."


def remove_stale(target: Path, suffix: str) -> list[Path]:
    """Remove the temp files (or folders) of `target` left by processes that are gone."""
    name = re.escape(os.fsdecode(os.fsencode(target.name)[:200]))
    pattern = re.compile(rf"^\.{name}\.(\d+)(\..*)?{re.escape(suffix)}$")
    removed = []
    try:
        candidates = list(os.scandir(target.parent))
    except OSError:
        return []
    for entry in candidates:
        match = pattern.match(entry.name)
        if match and not _alive(int(match.group(1))) and _untouched(Path(entry.path)):
            _remove(Path(entry.path))
            removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process (or not a PID): not ours to judge
    return True


def _untouched(path: Path) -> bool:
    cutoff = time.time() - STALE_AFTER
    try:
        if not path.is_dir() or path.is_symlink():
            return path.lstat().st_mtime < cutoff
        return all(
            os.lstat(os.path.join(top, n)).st_mtime < cutoff
            for top, dirs, files in os.walk(path)
            for n in [".", *dirs, *files]
        )
    except OSError:
        return False


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        remove_tree(path)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def remove_tree(path: Path) -> None:
    """Delete a folder, also one made read-only (its folders get their write bit back first)."""
    for top, dirs, _ in os.walk(path):
        for name in [".", *dirs]:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(top, name), 0o755)
    shutil.rmtree(path, ignore_errors=True)
