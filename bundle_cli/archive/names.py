"""Which member names an archive may hold; shared by packaging (refuse early) and extraction.

A name is a relative POSIX path of plain components. Anything that could mean something else on
another system (absolute paths, `..`, drive letters, backslashes, NUL and other control
characters, `:` alternate streams) is refused, so an archive that `bundle package` writes is
always one that `bundle unpack` accepts, on any operating system.
"""

from __future__ import annotations

import re
import unicodedata

MANIFEST_NAME = ".bundle-manifest.json"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")


def name_problem(name: str) -> str | None:
    """Why `name` is not a safe member name, or None when it is."""
    if not name:
        return "empty name"
    if _CONTROL.search(name):
        return "control character (such as NUL or newline) in the name"
    if "\\" in name:
        return "backslash in the name"
    if name.startswith("/"):
        return "absolute path"
    if _DRIVE.match(name):
        return "drive letter"
    if ":" in name:
        return "':' in the name (a drive or stream on Windows)"
    for part in name.split("/"):
        if part in ("", ".", ".."):
            return f"'{part or '//'}' component in the path"
    return None


def collision_key(name: str) -> str:
    """Names that become the same file on a case-insensitive or normalising file system."""
    return unicodedata.normalize("NFC", name).casefold()
