"""Whether a file may hold a pickle, from its first bytes and its name, without the scanner.

The rule `containers.pickle_streams` starts from, kept in a module of its own so that a check
of a bundle without any such file (the scaffold, most Truss bundles) never imports the scanner,
its decompressors or `pickletools`.
"""

from __future__ import annotations

from pathlib import Path

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".pkl.gz", ".sav", ".dill")
ZIP, GZIP, NPY, BZ2, XZ = b"PK\x03\x04", b"\x1f\x8b", b"\x93NUMPY", b"BZh", b"\xfd7zXZ\x00"


def kind(head: bytes, name: str) -> str | None:
    """How a file that starts with `head` and is called `name` (lower case) is read as a
    pickle: "pickle", "npy", "gzip", "bz2", "xz", "zlib", or None for none at all (zip
    archives aside: their members are sniffed one by one)."""
    named = name.endswith(PICKLE_SUFFIXES) or ".pkl." in name or ".joblib." in name
    if looks_pickle(head):
        return "pickle"
    if head.startswith(NPY):
        return "npy"
    if head.startswith(GZIP):
        return "gzip"
    if named and head.startswith(BZ2):
        return "bz2"
    if named and head.startswith(XZ):
        return "xz"
    if named and head[:1] == b"\x78":
        return "zlib"
    return "pickle" if named else None


def looks_pickle(head: bytes) -> bool:
    """A protocol 2-5 pickle starts with PROTO and its number."""
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def may_hold_pickle(path: Path) -> bool:
    """Whether `pickle_streams(path)` has anything to look at (a zip archive, or a kind)."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return True  # the scanner reports what it cannot read
    return head.startswith(ZIP) or kind(head, path.name.lower()) is not None
