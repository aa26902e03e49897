"""Where a path named in config.yaml points, relative to the bundle, decided without touching disk."""

from __future__ import annotations

from pathlib import PurePath


def escapes(relative: str) -> bool:
    """True when `relative` is absolute or its `..` parts climb above the bundle folder.

    Lexical on purpose: a symlink inside the bundle is the archive's business, and nothing here
    should depend on what the link points at on this machine.
    """
    path = PurePath(relative)
    if path.is_absolute() or path.drive:
        return True
    depth = 0
    for part in path.parts:
        if part == "..":
            depth -= 1
        elif part != ".":
            depth += 1
        if depth < 0:
            return True
    return False


def display(relative: str) -> str:
    """The path as quoted in messages: forward slashes, no `./` noise."""
    return PurePath(relative).as_posix()
