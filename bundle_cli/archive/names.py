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
# What common file systems hold (ext4, xfs, APFS, NTFS): longer names cannot be created anywhere.
MAX_COMPONENT_BYTES = 255
MAX_PATH_BYTES = 1024
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
        if len(part.encode("utf-8", "surrogateescape")) > MAX_COMPONENT_BYTES:
            return f"a name longer than {MAX_COMPONENT_BYTES} bytes, more than file systems hold"
    if len(name.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        return f"a path longer than {MAX_PATH_BYTES} bytes"
    return None


def collision_key(name: str) -> str:
    """Names that become the same file on a case-insensitive or normalising file system."""
    return unicodedata.normalize("NFC", name).casefold()
