"""What the bundle declares against the Python running here: requirements installed at versions
inside their specifiers, and the declared python_version. Read from installed distributions'
metadata; nothing is imported or installed.

Under --strict only (see diagnostics.STRICT_ONLY), requirements that would not install the same
thing twice (a bare name, a VCS URL without a revision) are named for reproducibility.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bundle_cli.config.locate import config_file
from bundle_cli.config.requirements import Entry
from bundle_cli.diagnostics import Diagnostic
from bundle_cli.layout import LOCK_FILE

if TYPE_CHECKING:
    from bundle_cli.config.schema import BundleConfig

NOT_INSTALLED = "requirement-not-installed"
WRONG_VERSION = "requirement-version"
PYTHON_MISMATCH = "python-version-mismatch"
UNPINNED = "requirement-unpinned"
STALE_LOCK = "lock-stale"


def check_environment(
    bundle_dir: Path, config: BundleConfig, entries: list[Entry]
) -> list[Diagnostic]:
    """Each declared requirement missing or at another version here, and a Python mismatch."""
    found = _python(bundle_dir, config)
    for entry in entries:
        if entry.problem:
            continue  # reported as invalid by the config or files checks
        found += _installed(entry) + _unpinned(entry)
    return found + _lock(bundle_dir, config)


def _lock(bundle_dir: Path, config: BundleConfig) -> list[Diagnostic]:
    """requirements.lock (bundle lock) that no longer matches what config.yaml declares."""
    if not (bundle_dir / LOCK_FILE).is_file():
        return []
    from bundle_cli.envs.spec import stale_lock

    declared = {"requirements": config.requirements, "requirements_file": config.requirements_file}
    why = stale_lock(bundle_dir, declared)
    if why is None:
        return []
    message = f"{LOCK_FILE} no longer matches the requirements: {why}; run `bundle lock` again"
    return [Diagnostic(STALE_LOCK, "warning", message, str(bundle_dir / LOCK_FILE))]


def _python(bundle_dir: Path, config: BundleConfig) -> list[Diagnostic]:
    declared = config.python_version  # normalised to py3NN
    running = f"py3{sys.version_info.minor}"
    if declared == running:
        return []
    message = (
        f"python_version is 3.{declared[3:]} but this is Python 3.{sys.version_info.minor}; "
        "the model runs here with this Python, which may behave differently"
    )
    return [Diagnostic(PYTHON_MISMATCH, "warning", message, str(config_file(bundle_dir)))]


def _installed(entry: Entry) -> list[Diagnostic]:
    from importlib.metadata import PackageNotFoundError, version

    if entry.kind != "requirement" or not entry.name:
        return []
    if entry.marker is not None and not entry.marker.evaluate():
        return []  # not for this platform or Python
    installed: str | None
    try:
        installed = version(entry.name)
    except PackageNotFoundError:
        installed = _provided_by_another(entry.name)
    if installed is None:
        return [_at(entry, NOT_INSTALLED, f"{entry.text} is not installed here; {_fix()}")]
    if entry.specifier and not _contains(entry.specifier, installed):
        message = f"{entry.text} is required but {entry.name} {installed} is installed; {_fix()}"
        return [_at(entry, WRONG_VERSION, message)]
    return []


def _provided_by_another(name: str) -> str | None:
    """The version of a distribution of another name that provides the module `name` (xgboost
    installed as xgboost-cpu), or None."""
    from importlib.metadata import packages_distributions, version

    module = name.replace("-", "_").lower()
    for provider in packages_distributions().get(module, []):
        return version(provider)
    return None


def _contains(specifier: str, installed: str) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        return SpecifierSet(specifier).contains(Version(installed), prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return True  # a version packaging cannot read: nothing to say about it


def _fix() -> str:
    return "install the bundle's requirements: pip install -r <(bundle requirements)"


def _unpinned(entry: Entry) -> list[Diagnostic]:
    """A bare name (no version at all) or a VCS URL without a revision; ranges are a choice."""
    if entry.kind == "url" and not entry.pinned:
        what, fix = "a VCS URL without a revision", "add @commit or @tag"
    elif entry.kind == "requirement" and not entry.specifier and " @ " not in entry.text:
        what, fix = "a name without a version", f"give one, such as {entry.name}==X.Y"
    else:
        return []
    message = f"{entry.text} is {what}, so two installs may differ; {fix}"
    return [_at(entry, UNPINNED, message)]


def _at(entry: Entry, code: str, message: str) -> Diagnostic:
    return Diagnostic(code, "warning", message, entry.file, entry.line or None, entry.column)
