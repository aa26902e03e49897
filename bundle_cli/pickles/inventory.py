"""The pickle inventory of a bundle: every pickle it holds, what loading it would import and
call, and which of those imports nobody vouched for.

Files are those `bundle package` would pack, sniffed by content (see containers.py); nothing is
unpickled. An import is accepted when the allow-list lists it, when config.yaml trusts it by name
(`trusted_pickle_globals`), when config.yaml trusts the whole file by its sha256
(`trusted_pickles`, as build_flow records the functions it pickles), or with `--trust-pickles`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundle_cli.pickles.allow import allowed, trusted_by_name
from bundle_cli.pickles.containers import Stream, pickle_streams


@dataclass
class PickleReport:
    """One pickle stream of one file, with its verdict."""

    path: str  # inside the bundle
    where: str  # "pickle", "gzip", "npy", or a zip member such as "model/data.pkl"
    imports: list[str]
    calls: list[str]
    untrusted: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    trusted_file: bool = False
    digest_changed: str | None = None  # the sha256 now, when trusted_pickles lists another

    @property
    def label(self) -> str:
        return (
            self.path
            if self.where in ("pickle", "gzip", "npy", "zlib", "bz2", "xz")
            else f"{self.path}:{self.where}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "where": self.where,
            "imports": self.imports,
            "calls": self.calls,
            "untrusted": self.untrusted,
            "problems": self.problems,
            "trusted_file": self.trusted_file,
        }


def inventory(
    root: Path,
    files: list[tuple[str, Path]],
    trusted_globals: list[str],
    trusted_files: dict[str, str],
) -> list[PickleReport]:
    """A report per pickle stream among `files` ((name in the bundle, path) pairs)."""
    reports: list[PickleReport] = []
    for name, path in files:
        streams = pickle_streams(path)
        if not streams:
            continue
        trusted, changed = _file_trust(path, trusted_files.get(name))
        reports += [_report(name, s, trusted_globals, trusted, changed) for s in streams]
    return reports


def _file_trust(path: Path, expected: str | None) -> tuple[bool, str | None]:
    if expected is None:
        return False, None
    actual = _sha256(path)
    return (True, None) if actual == expected.lower() else (False, actual)


def _report(
    name: str, stream: Stream, names: list[str], trusted: bool, changed: str | None
) -> PickleReport:
    found = stream.findings
    untrusted = sorted(
        str(ref) for ref in found.imports if not allowed(ref) and not trusted_by_name(ref, names)
    )
    problems = found.problem_lines()
    if stream.error:
        problems.append(f"cannot be read to the end as a pickle: {stream.error}")
    return PickleReport(
        name,
        stream.where,
        sorted(str(ref) for ref in found.imports),
        sorted(found.calls),
        [] if trusted else untrusted,
        [] if trusted else problems,
        trusted,
        changed,
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class PickleSummary:
    """A pickle file's digest and the modules loading it imports (sorted)."""

    sha256: str
    modules: tuple[str, ...]


def summarize(path: Path) -> PickleSummary:
    """Read `path` as one pickle and list the modules it imports; nothing in it is executed.
    Raises ValueError when it is not a pickle that can be read to its end."""
    import io

    from bundle_cli.pickles.opcodes import scan_stream

    data = path.read_bytes()
    found = scan_stream(io.BytesIO(data))
    modules = {ref.module for ref in found.imports}
    return PickleSummary(hashlib.sha256(data).hexdigest(), tuple(sorted(modules)))
