"""`bundle init`: a new bundle from the jinja2 templates, written all at once or not at all.

An existing empty folder (`bundle init NAME .`) is written into, never replaced. `--force` writes
into an existing non-empty folder: files the template does not produce are left untouched; a file
it does produce that exists with other content is first moved to `.bundle/backup/<file>.bak`
(then `.bak2`, ...), so nothing is ever deleted and no backup lands in model/ or the archive. The
tool's own `.bundle/` files are simply replaced.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bundle_cli.errors import UsageError
from bundle_cli.scaffold import place, templates

__all__ = ["InitResult", "check_name", "init", "scaffold"]

SCHEMA_FILE = f"{place.TOOL_DIR}/config.schema.json"
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,99}", re.ASCII)


@dataclass
class InitResult:
    """What `scaffold` did: the bundle's path as given, the files written, the backups made."""

    path: Path
    template: str
    files: list[str] = field(default_factory=list)
    backups: list[tuple[str, str]] = field(default_factory=list)
    merged: bool = False


def init(
    name: str, dest: Path | None = None, *, template: str = "numpy", force: bool = False
) -> Path:
    """Create a bundle named `name` in `dest` (default ./name) from a template; return its path.

    Raises UsageError, before writing anything, for an unsafe name, an unknown template or an
    existing non-empty `dest` without `force`. A failure while writing leaves nothing behind.
    """
    return scaffold(name, dest, template=template, force=force).path


def scaffold(
    name: str, dest: Path | None = None, *, template: str = "numpy", force: bool = False
) -> InitResult:
    """`init`, returning everything that was done (for the CLI to report)."""
    check_name(name)
    given = Path(dest) if dest is not None else Path(name)
    target = _real_target(given)
    merge = _check_target(target, given, force=force)
    root = templates.templates_root()
    templates.check_flavour(root, template)
    created: list[Path] = []
    staged = None
    try:
        created = place.make_parents(target)
        staged = place.staging_dir(target, inside_target=merge)
        files = templates.render(root, template, _context(name, template), staged)
        files = sorted([*files, _write_schema(staged)])
        backups = place.merge_into(staged, target, files) if merge else []
        if not merge:
            place.move_into_place(staged, target)
    except BaseException as exc:
        if staged is not None:
            shutil.rmtree(staged, ignore_errors=True)
        place.remove_dirs(created)
        if isinstance(exc, OSError):  # no permission, disk full: the user's to fix, no traceback
            raise UsageError(f"cannot write {given}: {exc.strerror or exc}") from None
        raise
    return InitResult(given, template, files, backups, merged=merge)


def check_name(name: str) -> None:
    """Refuse (UsageError) a name that is not a safe, portable file name."""
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"{name!r} is not a valid bundle name",
            hint="use letters, digits, '-', '_' and '.', at most 100 characters, "
            "starting with a letter, digit or '_' (e.g. my-model)",
        )


def _real_target(given: Path) -> Path:
    """The absolute target; a symbolic link to a folder means that folder."""
    target = Path(os.path.abspath(given))
    if target.is_symlink():
        if not target.exists():
            raise UsageError(f"{given} is a broken symbolic link")
        target = target.resolve()
    return target


def _check_target(target: Path, given: Path, *, force: bool) -> bool:
    """True when the scaffold must be merged into an existing folder (never replacing it)."""
    if not target.exists():
        return False
    if not target.is_dir():
        raise UsageError(f"{given} exists and is not a folder")
    if not any(target.iterdir()):
        return True
    if not force:
        raise UsageError(
            f"{given} already exists and is not empty",
            hint="choose another folder, or add --force to write the template into it "
            "(other files stay; replaced ones are kept in .bundle/backup/)",
        )
    return True


def _context(name: str, template: str) -> dict[str, str]:
    return {
        "name": name,
        "template": template,
        "python_version": f"py{sys.version_info.major}{sys.version_info.minor}",
    }


def _write_schema(staged: Path) -> str:
    """The config schema beside the bundle, so editors complete config.yaml offline."""
    from bundle_cli.config import json_schema

    path = staged / SCHEMA_FILE
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(json_schema(), indent=2) + "\n", encoding="utf-8")
    return SCHEMA_FILE
