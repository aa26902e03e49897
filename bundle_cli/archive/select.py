"""Which files of a bundle go into its archive, walked in a fixed order.

Symlinks: a link whose target lies inside the bundle is packed as what it points to (a regular
file, or a folder walked like any other), because archives hold only regular files and folders.
A link that points outside the bundle, dangles, loops, or points at an excluded file is an
error naming the link, so nothing outside the bundle (or a secret behind an innocent name) is
ever packed by accident.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bundle_cli.archive.gzipfmt import is_bundle_archive
from bundle_cli.archive.ignore import ENV_MARKERS, Rules, load_rules, secrets_warning
from bundle_cli.archive.names import collision_key, name_problem
from bundle_cli.diagnostics import Diagnostic
from bundle_cli.errors import InvalidBundleError


@dataclass(frozen=True)
class Entry:
    """One member to pack: its archive name and where its bytes come from."""

    name: str
    source: Path
    is_dir: bool = False
    size: int = 0
    executable: bool = False


@dataclass
class Selection:
    """Every member of the archive-to-be, sorted, with the warnings found on the way."""

    root: Path
    entries: list[Entry] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    rules: Rules | None = None  # the rules that chose the entries, to say why a file is left out

    @property
    def files(self) -> list[Entry]:
        return [e for e in self.entries if not e.is_dir]

    @property
    def total_size(self) -> int:
        return sum(e.size for e in self.entries)


def select_files(bundle_dir: Path, *, skip: Iterable[Path] = ()) -> Selection:
    """Walk `bundle_dir` and return what to pack; raises InvalidBundleError naming every problem."""
    walker = _Walker(bundle_dir, load_rules(bundle_dir), {os.path.realpath(p) for p in skip})
    walker.walk(bundle_dir, "", {os.path.realpath(bundle_dir)})
    walker.check_collisions()
    left_out = secrets_warning(walker.rules)
    problems = walker.rules.diagnostics + walker.problems + ([left_out] if left_out else [])
    errors = [d for d in problems if d.severity == "error"]
    if errors:
        raise InvalidBundleError(f"{bundle_dir}: cannot be packaged", problems)
    entries = sorted(walker.entries, key=lambda e: e.name.split("/"))
    warnings = [d for d in problems if d.severity == "warning"]
    return Selection(bundle_dir, entries, warnings, walker.rules)


class _Walker:
    def __init__(self, root: Path, rules: Rules, skip: set[str]) -> None:
        self.root, self.rules, self.skip = root, rules, skip
        self.real_root = os.path.realpath(root)
        self.entries: list[Entry] = []
        self.problems: list[Diagnostic] = []

    def error(self, code: str, rel: str, message: str) -> None:
        file = str(self.root / rel)
        self.problems.append(Diagnostic(code, "error", message, file=file))

    def walk(self, folder: Path, prefix: str, ancestors: set[str]) -> None:
        try:
            with os.scandir(folder) as it:
                items = sorted(it, key=lambda d: d.name)
        except OSError as exc:  # a folder of mode 000, or one removed meanwhile
            shown = prefix.rstrip("/") or "."
            self.error("unreadable", shown, f"cannot list this folder: {exc.strerror or exc}")
            return
        for item in items:
            self.visit(item, prefix + item.name, ancestors)

    def visit(self, item: os.DirEntry[str], rel: str, ancestors: set[str]) -> None:
        try:
            is_dir = item.is_dir()
        except OSError as exc:  # a link to itself, or two links to each other (ELOOP)
            if item.is_symlink():
                target = os.readlink(item.path)
                self.error("symlink-loop", rel, f"symlink -> {target} never reaches a file")
            else:
                self.error("unreadable", rel, f"cannot read: {exc.strerror or exc}")
            return
        if self.rules.excluded(rel, is_dir) or os.path.realpath(item.path) in self.skip:
            return
        if is_dir and any(os.path.exists(os.path.join(item.path, m)) for m in ENV_MARKERS):
            return
        if not self.name_ok(rel) or (item.is_symlink() and not self.link_ok(item, rel)):
            return
        real = os.path.realpath(item.path)
        if is_dir:
            if real in ancestors:
                self.error("symlink-loop", rel, "symlink loops back to a folder that contains it")
                return
            self.entries.append(Entry(rel, Path(real), is_dir=True))
            self.walk(Path(item.path), rel + "/", ancestors | {real})
            return
        self.add_file(item, rel, Path(real))

    def name_ok(self, rel: str) -> bool:
        try:
            rel.encode("utf-8")
        except UnicodeEncodeError:
            self.error("bad-file-name", rel, "file name is not valid UTF-8; rename it")
            return False
        problem = name_problem(rel)
        if problem:
            self.error("bad-file-name", rel, f"cannot be packed: {problem}; rename it")
        return problem is None

    def link_ok(self, item: os.DirEntry[str], rel: str) -> bool:
        target = os.path.realpath(item.path)
        shown = f"symlink -> {os.readlink(item.path)}"
        if not os.path.exists(target):
            self.error("dangling-symlink", rel, f"{shown} points to nothing")
            return False
        if os.path.commonpath([self.real_root, target]) != self.real_root:
            self.error(
                "symlink-outside",
                rel,
                f"{shown} points outside the bundle ({target}); copy the file in, "
                "or list the link in .bundleignore",
            )
            return False
        inside = os.path.relpath(target, self.real_root).replace(os.sep, "/")
        if inside != "." and self.rules.excluded(inside, os.path.isdir(target)):
            self.error(
                "symlink-to-excluded", rel, f"{shown} points to {inside}, which is never packed"
            )
            return False
        return True

    def add_file(self, item: os.DirEntry[str], rel: str, real: Path) -> None:
        try:
            st = item.stat()
        except OSError as exc:
            self.error("unreadable", rel, f"cannot read: {exc.strerror}")
            return
        if not stat.S_ISREG(st.st_mode):
            self.error("not-a-file", rel, "not a regular file (a pipe, socket or device)")
            return
        if rel.endswith((".tar.gz", ".tar.zst")) and is_bundle_archive(real):
            return  # an archive this tool wrote: never nested into the next one
        if not os.access(real, os.R_OK):
            self.error("unreadable", rel, "cannot read: permission denied")
            return
        executable = bool(st.st_mode & 0o111)
        self.entries.append(Entry(rel, real, size=st.st_size, executable=executable))

    def check_collisions(self) -> None:
        seen: dict[str, str] = {}
        for entry in self.entries:
            key = collision_key(entry.name)
            if key in seen and seen[key] != entry.name:
                self.error(
                    "case-collision",
                    entry.name,
                    f"same name as {seen[key]} on case-insensitive file systems; rename one",
                )
            seen.setdefault(key, entry.name)


def packed_files(bundle_dir: Path) -> list[tuple[str, Path]]:
    """(name in the bundle, path) of what `package` would pack; when the selection itself
    fails (package says why), of every file outside the usual clutter."""
    try:
        return [(e.name, e.source) for e in select_files(bundle_dir).files]
    except InvalidBundleError:
        pass
    return [(path.relative_to(bundle_dir).as_posix(), path) for path in every_file(bundle_dir)]


def every_file(bundle_dir: Path) -> Iterator[Path]:
    """Every regular file under the bundle, outside version control, caches and virtualenvs
    (a superset of what `package` packs), in name order."""
    for folder, dirs, files in os.walk(bundle_dir):
        dirs[:] = sorted(d for d in dirs if d not in (".git", "__pycache__", ".venv", "venv"))
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_file():
                yield path
