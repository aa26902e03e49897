"""`bundle diff A B`: what changed between two bundles, each an archive or a folder.

Files are compared by size and digest (an archive's from its manifest, a folder's hashed as
`package` would record them); config.yaml by key path; requirements by name and version;
pickles by what their inventory says they import. Archives are verified and unpacked into the
cache first (they are hostile until verified), so their config and pickles can be read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundle_cli.archive.contents import Contents, contents
from bundle_cli.archive.manifest import FileRecord
from bundle_cli.config.locate import CONFIG_FILENAME

_ABSENT = object()


@dataclass
class Change:
    """One difference: `kind` is added, removed or changed; `a` and `b` the two sides."""

    section: str  # file, config, requirement, pickle
    name: str
    kind: str
    a: Any = None
    b: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "name": self.name,
            "kind": self.kind,
            "a": self.a,
            "b": self.b,
        }


@dataclass
class DiffResult:
    a: Path
    b: Path
    changes: list[Change] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.changes

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": str(self.a),
            "b": str(self.b),
            "identical": self.identical,
            "changes": [c.to_dict() for c in self.changes],
        }


def diff(a: str | Path, b: str | Path) -> DiffResult:
    """Every difference between bundles `a` and `b` (archives or folders, in any mix)."""
    sides = [_side(Path(p)) for p in (a, b)]
    result = DiffResult(Path(a), Path(b))
    result.changes += _files(sides[0][0], sides[1][0])
    configs = [_config(folder) for _, folder in sides]
    result.changes += [Change("config", *c) for c in _tree_changes(configs[0], configs[1], "")]
    result.changes += _requirements(
        *(_requirements_of(c, f) for c, (_, f) in zip(configs, sides, strict=True))
    )
    result.changes += _pickles(*(_pickle_imports(f) for _, f in sides))
    return result


def _side(path: Path) -> tuple[Contents, Path]:
    """The contents of a side and the folder to read it from (an archive: verified, unpacked)."""
    found = contents(path)
    if not found.is_archive:
        return found, path
    from bundle_cli.archive.cache import materialize

    return found, materialize(path)


def _digest(record: FileRecord) -> str | list[str] | None:
    return record.shards if record.shards is not None else record.sha256


def _files(a: Contents, b: Contents) -> list[Change]:
    left, right = a.digests(), b.digests()
    changes = []
    for name in sorted(set(left) | set(right), key=lambda n: n.split("/")):
        x, y = left.get(name), right.get(name)
        if x is None and y is not None:
            changes.append(Change("file", name, "added", None, _shown(y)))
        elif y is None and x is not None:
            changes.append(Change("file", name, "removed", _shown(x), None))
        elif x and y and (x.size, _digest(x), x.executable) != (y.size, _digest(y), y.executable):
            changes.append(Change("file", name, "changed", _shown(x), _shown(y)))
    return changes


def _shown(record: FileRecord) -> dict[str, Any]:
    shown: dict[str, Any] = {"size": record.size, "executable": record.executable}
    if record.shards is not None:
        shown["shards"] = record.shards
    else:
        shown["sha256"] = record.sha256
    return shown


def _config(folder: Path) -> Any:
    from bundle_cli.config.yamlpos import load_yaml

    try:
        text = (folder / CONFIG_FILENAME).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return load_yaml(text).data


def _tree_changes(a: Any, b: Any, path: str) -> list[tuple[str, str, Any, Any]]:
    """(key path, kind, a, b) of every leaf that differs between two YAML values."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{key}" if path else str(key)
            found += _tree_changes(a.get(key, _ABSENT), b.get(key, _ABSENT), sub)
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        found = []
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            found += _tree_changes(x, y, f"{path}[{index}]")
        return found
    if a is _ABSENT:
        return [(path, "added", None, b)]
    if b is _ABSENT:
        return [(path, "removed", a, None)]
    return [] if a == b else [(path or CONFIG_FILENAME, "changed", a, b)]


def _requirements_of(config: Any, folder: Path) -> dict[str, str]:
    """name -> the rest of the requirement (version, markers), by canonical name."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    from bundle_cli.archive.derived import requirement_lines

    config = config if isinstance(config, dict) else {}
    lines = config.get("requirements") or requirement_lines(_text(folder, config))
    found = {}
    for line in lines if isinstance(lines, list) else []:
        try:
            req = Requirement(str(line))
        except InvalidRequirement:
            found[str(line)] = str(line)
            continue
        rest = str(req)[len(req.name) :].strip()
        found[canonicalize_name(req.name)] = rest
    return found


def _text(folder: Path, config: dict[str, Any]) -> str:
    name = config.get("requirements_file")
    try:
        return (folder / name).read_text(encoding="utf-8") if isinstance(name, str) else ""
    except (OSError, UnicodeDecodeError):
        return ""


def _requirements(a: dict[str, str], b: dict[str, str]) -> list[Change]:
    return _changes("requirement", a, b)


def _pickle_imports(folder: Path) -> dict[str, set[str]]:
    from bundle_cli.archive.select import packed_files
    from bundle_cli.pickles.inventory import inventory

    return {r.label: set(r.imports) for r in inventory(folder, packed_files(folder), [], {})}


def _pickles(a: dict[str, set[str]], b: dict[str, set[str]]) -> list[Change]:
    return _changes(
        "pickle", {k: sorted(v) for k, v in a.items()}, {k: sorted(v) for k, v in b.items()}
    )


def _changes(section: str, a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    """Added, removed and changed entries of two mappings."""
    found = []
    for name in sorted(set(a) | set(b)):
        x, y = a.get(name), b.get(name)
        if x != y:
            kind = "added" if name not in a else "removed" if name not in b else "changed"
            found.append(Change(section, name, kind, x, y))
    return found
