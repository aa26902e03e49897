"""Putting a rendered bundle in place: all at once, or merged into an existing folder.

The bundle is rendered into a staging folder on the target's file system, so moving it is a
rename. A new target is the staging folder (made beside it) renamed; a failure before that leaves
nothing. An existing folder (empty, or any with --force) is never replaced: the staging folder is
made inside it and the files are moved in one by one, so the folder keeps its inode, mode and
owner (and a shell inside it stays there); a failure moves everything back.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bundle_cli.atomic import new_folder
from bundle_cli.errors import UnsafePathError, UsageError
from bundle_cli.scaffold.templates import inside

# Files the tool owns inside a bundle: replaced without a backup. Never packaged.
TOOL_DIR = ".bundle"
# Where --force keeps the files it replaces: outside model/ and every packaged folder.
BACKUP_DIR = f"{TOOL_DIR}/backup"


def make_parents(path: Path) -> list[Path]:
    """Create the missing parent folders of path; return them deepest first, for `remove_dirs`."""
    missing = []
    for parent in path.parents:
        if parent.exists():
            break
        missing.append(parent)
    for folder in reversed(missing):
        folder.mkdir()
    return missing


def remove_dirs(folders: list[Path]) -> None:
    """Remove folders made by `make_parents`, deepest first, skipping any that are not empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            continue


def staging_dir(target: Path, *, inside_target: bool = False) -> Path:
    """A new empty folder beside target (or inside it, for a merge), with the user's permissions."""
    beside = target / target.name if inside_target else target
    return new_folder(beside, ".bundle-init")


def move_into_place(staged: Path, target: Path) -> None:
    """Rename staged to target, which is missing or an empty folder (rename replaces those)."""
    try:
        os.rename(staged, target)
    except OSError as exc:
        raise UsageError(f"{target}: could not be created: {exc.strerror}") from None


def check_merge(staged: Path, target: Path, files: list[str]) -> None:
    """Refuse, before anything moves, files the target cannot take without losing something."""
    for rel in files:
        dest = inside(target, rel)  # a symbolic link out of the target is refused here
        for folder in reversed(dest.relative_to(target).parents[:-1]):
            existing = target / folder
            if existing.exists() and not existing.is_dir():
                raise UsageError(f"{existing} is a file, but the template puts a folder there")
        if dest.is_dir() and not dest.is_symlink():
            raise UsageError(f"{dest} is a folder, but the template puts a file there")
        if not (staged / rel).is_file():
            raise UnsafePathError(f"{staged / rel}: not a regular file")


def merge_into(staged: Path, target: Path, files: list[str]) -> list[tuple[str, str]]:
    """Move the staged files into target; keep every file the template does not produce.

    An existing file with other content is first moved to a free `.bundle/backup/<file>.bak`
    (never inside model/, never packaged); one with the same content is left as it is. On any
    failure every move is undone. Returns (file, its backup) pairs.
    """
    check_merge(staged, target, files)
    backups: list[tuple[str, str]] = []
    moved: list[tuple[Path, Path | None]] = []  # (file moved in, the backup of what was there)
    made = make_parents(target / BACKUP_DIR / "x")
    try:
        for rel in files:
            dest = target / rel
            made += make_parents(dest)
            backup = None
            if dest.is_symlink() or dest.exists():
                if _same_file_content(dest, staged / rel):
                    continue
                if not rel.startswith(f"{TOOL_DIR}/"):
                    backup = _free_backup(target / BACKUP_DIR / rel)
                    made += make_parents(backup)
                    os.replace(dest, backup)
                    backups.append((rel, backup.relative_to(target).as_posix()))
            os.replace(staged / rel, dest)
            moved.append((dest, backup))
    except BaseException:
        for dest, backup in reversed(moved):
            dest.unlink(missing_ok=True)
            if backup is not None:
                os.replace(backup, dest)
        remove_dirs(sorted(made, key=lambda p: -len(p.parts)))
        raise
    if not backups:
        remove_dirs([target / BACKUP_DIR])
    shutil.rmtree(staged)
    return backups


def _same_file_content(a: Path, b: Path) -> bool:
    if a.is_symlink():
        return False
    return a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes()


def _free_backup(path: Path) -> Path:
    candidate = path.with_name(f"{path.name}.bak")
    n = 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = path.with_name(f"{path.name}.bak{n}")
    return candidate
