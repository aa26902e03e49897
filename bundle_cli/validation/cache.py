"""Validation verdicts remembered while the bundle's files stay the same.

`bundle validate` (YAML, pydantic, ast checks) costs ~0.2 s of imports and work here: as much as
the whole budget of `bundle predict`, and more than a `bundle validate` in an editor's save hook
should take. Its verdict depends only on the bundle's files, so it is kept in the user's cache
folder under a fingerprint of those files: every path with its size, mtime, ctime and inode
(folders by name only; __pycache__ is skipped), config.yaml's exact bytes, the tool's version and
the mtimes of the tool's own validation code. Any change (an edit, a touch, a new file) gives a new
fingerprint and a full validation.

Two entries use it:
- `validated_config` (before `bundle predict` runs a bundle) keeps positive verdicts only, and
  walks every file too: the pickle inventory reads the data folder;
- `validate_cached` (`bundle validate`) keeps whole reports, errors and warnings included, and
  walks every file, since checks such as examples' `files` read paths anywhere in the bundle. A
  bundle whose config names folders outside it (`external_package_dirs`) is never cached: those
  folders are outside the fingerprint.

Cache folder: the user cache (`bundle_cli/cachedir.py`). When it cannot be written the bundle is
simply validated every time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import bundle_cli
from bundle_cli._version import __version__
from bundle_cli.cachedir import cache_path
from bundle_cli.config.locate import config_file
from bundle_cli.diagnostics import Diagnostic, Report

_SKIPPED_DIRS = frozenset({".git", "__pycache__", ".venv", "venv", ".mypy_cache", ".ruff_cache"})
_TOOL_DIR = Path(bundle_cli.__file__).resolve().parent


def validated_config(bundle_dir: Path, trust_pickles: bool = False) -> dict[str, Any]:
    """The bundle's config as a JSON-ready dict; raises InvalidBundleError when it is invalid
    (UnsafePickleError for pickles nobody vouched for, unless `trust_pickles`)."""
    return validated(bundle_dir, trust_pickles)[0]


def validated(bundle_dir: Path, trust_pickles: bool = False) -> tuple[dict[str, Any], list[str]]:
    """The config, and its validation warnings, formatted: what `bundle predict` and `bundle
    test` print once before the model runs (a misspelt hook, an ignored Truss key, a declared
    requirement missing here)."""
    root = bundle_dir.resolve()
    entry = _entry_path(root, "validated-trusting" if trust_pickles else "validated")
    cached = _read_entry(entry)
    before = fingerprint(root, "")
    if cached and cached["fingerprint"] == before:
        return dict(cached["config"]), list(cached["warnings"])
    config, warnings = _validate(bundle_dir, trust_pickles)  # as named: diagnostics show it
    data = {"skip": "", "fingerprint": before, "config": config, "warnings": warnings}
    _write_entry(entry, data)
    return config, warnings


def validate_cached(path: str | Path, trust_pickles: bool = False) -> Report:
    """`validate(path, strict=True)` (every note; see `Report.visible`), or the report of an
    earlier run when nothing it read has changed."""
    from bundle_cli.validation import validate

    bundle_dir = Path(path)
    config = config_file(bundle_dir)
    try:
        config_bytes = config.read_bytes() if bundle_dir.is_dir() else None
    except OSError:
        config_bytes = None
    if config_bytes is None or b"external_package_dirs" in config_bytes:
        return validate(path, strict=True, trust_pickles=trust_pickles)  # archives, no config...
    root = bundle_dir.resolve()
    # The report names files as the user wrote the path, so that is part of the key.
    entry = _entry_path(root, "reports", f"{bundle_dir}\0{trust_pickles}")
    before = fingerprint(root, "")
    cached = _read_report(entry)
    if cached is not None and cached[0] == before:
        return cached[1]
    report = validate(path, strict=True, trust_pickles=trust_pickles)  # the caller filters it
    data = {"fingerprint": before, "bundle": report.bundle}
    _write_entry(entry, data | {"diagnostics": [d.to_dict() for d in report.diagnostics]})
    return report


def _read_report(path: Path) -> tuple[str, Report] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        diagnostics = [Diagnostic(**d) for d in data["diagnostics"]]
        return str(data["fingerprint"]), Report(str(data["bundle"]), diagnostics)
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        return None  # unreadable or from another version: validate again


def _validate(bundle_dir: Path, trust_pickles: bool) -> tuple[dict[str, Any], list[str]]:
    from bundle_cli.validation import checked, refusal

    report, config = checked(bundle_dir, trust_pickles)
    if not report.ok() or config is None:
        raise refusal(report)
    warnings = [d.format() for d in report.warnings]
    return dict(config.model_dump(mode="json")), warnings


def fingerprint(bundle_dir: Path, skip: str) -> str:
    """A digest that changes whenever a file validation reads may have changed."""
    digest = hashlib.sha256(__version__.encode())
    for line in _tool_files():
        digest.update(line.encode("utf-8", "surrogateescape"))
    for folder in sys.path:  # the environment check reads installed packages' metadata:
        with contextlib.suppress(OSError):  # installing or removing one changes its folder
            digest.update(f"{folder}:{os.stat(folder or '.').st_mtime_ns}\n".encode())
    config = config_file(bundle_dir)
    digest.update(config.read_bytes() if config.is_file() else b"<none>")
    skip_path = os.path.normpath(os.path.join(bundle_dir, skip))
    for line in _walk(str(bundle_dir), skip_path):
        digest.update(line.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


# The tool's own code whose edits change verdicts, walked as a bundle's files are (its
# __pycache__ skipped: its mtime moves whenever bytecode is written, which made runs validate
# again); pickles/ holds the scanner's allow-list; layout.py: stage types and roots.
_TOOL_FOLDERS = ("validation", "config", "pickles", "frameworks")


def _tool_files() -> list[str]:
    layout = os.path.join(_TOOL_DIR, "layout.py")
    lines = [f"{layout}:{os.stat(layout).st_mtime_ns}\n"]
    for folder in _TOOL_FOLDERS:
        lines += _walk(os.path.join(_TOOL_DIR, folder), "")
    return lines


def _walk(top: str, skip_path: str) -> list[str]:
    lines: list[str] = []
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name in _SKIPPED_DIRS or entry.name.endswith(".pyc"):
                continue  # written by running the bundle; no validation reads them
            if entry.is_dir():
                # A folder's own mtime changes when __pycache__ appears in it: list, don't stat.
                lines.append(f"{entry.path}/\n")
                if entry.path != skip_path:
                    stack.append(entry.path)
                continue
            try:
                st = entry.stat()
            except OSError:
                lines.append(f"{entry.path}:missing\n")
                continue
            lines.append(
                f"{entry.path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}\n"
            )
    return lines


def _entry_path(bundle_dir: Path, kind: str = "validated", given: str = "") -> Path:
    key = hashlib.sha256(f"{bundle_dir}\0{given}".encode("utf-8", "surrogateescape"))
    return cache_path(kind) / f"{key.hexdigest()[:32]}.json"


_ENTRY_TYPES = {"skip": str, "fingerprint": str, "config": dict, "warnings": list}


def _read_entry(path: Path) -> dict[str, Any] | None:
    """A cache entry whose every field has its type, else None: an entry that is unreadable,
    corrupt or of another version is validated afresh and rewritten, never trusted."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    ok = isinstance(data, dict) and all(
        isinstance(data.get(key), kind) for key, kind in _ENTRY_TYPES.items()
    )
    return data if ok and all(isinstance(w, str) for w in data["warnings"]) else None


def _write_entry(path: Path, data: dict[str, Any]) -> None:
    from bundle_cli.atomic import replace_file

    with contextlib.suppress(OSError):  # an unwritable cache only costs time
        replace_file(path, json.dumps(data))
