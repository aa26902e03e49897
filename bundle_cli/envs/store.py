"""Environments under the user cache: built atomically, found again by their key.

Layout of `<user cache>/envs/`:
- `<name>/` an environment (a relocatable virtualenv), complete only when it holds the
  completion marker `.bundle-env.json`, written last, before the folder is renamed into place;
- `.<name>.lock`: the lock file that serialises the builders of one key (other keys build at once);
- `.<name>.<pid>.<random>.building/`: a build in progress. One left by a killed build is removed
  by the next builder of that key, under the lock.
A folder without the marker is never used: it is removed and built again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundle_cli import tempnames
from bundle_cli.cachedir import cache_path, usable
from bundle_cli.envs.spec import EnvSpec
from bundle_cli.envs.uvrun import run_uv
from bundle_cli.errors import UsageError

MARKER = ".bundle-env.json"
BUILDING = ".building"


@dataclass(frozen=True)
class Environment:
    """One complete environment."""

    folder: Path
    record: dict[str, Any]  # the completion marker's content

    @property
    def python(self) -> Path:
        return self.folder / "bin" / "python"

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def last_used(self) -> float:
        try:
            return (self.folder / MARKER).stat().st_mtime
        except OSError:
            return 0.0

    def size(self) -> int:
        total = 0
        for top, _, files in os.walk(self.folder):
            for name in files:
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(top, name)).st_size
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "folder": str(self.folder),
            "python": self.record.get("interpreter", {}).get("version"),
            "platform": self.record.get("platform"),
            "requirements": self.record.get("requirements", []),
            "locked": self.record.get("locked", False),
            "bundle": self.record.get("bundle"),
            "size": self.size(),
            "last_used": self.last_used,
        }


def envs_root() -> Path:
    return cache_path("envs")


def find(spec: EnvSpec) -> Environment | None:
    """The complete environment of `spec`, or None; a hit counts as a use."""
    folder = envs_root() / spec.name
    record = _read_marker(folder)
    if record is None or record.get("key") != spec.key:
        return None
    with contextlib.suppress(OSError):
        os.utime(folder / MARKER)
    return Environment(folder, record)


def ensure(
    spec: EnvSpec,
    *,
    bundle_root: Path,
    bundle: str,
    offline: bool = False,
    progress: Callable[[str], Any] | None = None,
) -> tuple[Environment, bool]:
    """The environment of `spec`, built when missing; `(environment, built now)`."""
    found = find(spec)
    if found is not None:
        return found, False
    root, why = usable("envs")
    if root is None:
        raise UsageError(f"cannot build the environment: {why}", hint="set BUNDLE_CACHE_DIR")
    with _locked(root, spec.name, progress) as lock:
        found = find(spec)  # another process built it while we waited
        if found is not None:
            return found, False
        _clear(root, spec.name)
        return _build(root, spec, bundle_root, bundle, offline, progress, lock), True


@contextlib.contextmanager
def _locked(root: Path, name: str, progress: Callable[[str], Any] | None) -> Iterator[int]:
    fd = os.open(root / f".{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if progress is not None:
                progress("waiting for another build of this environment")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # releases the lock


def _clear(root: Path, name: str) -> None:
    """Under the lock: builds of this key left by killed processes, and a folder without marker."""
    for entry in os.scandir(root):
        if entry.name.startswith(f".{name}.") and entry.name.endswith(BUILDING):
            tempnames.remove_tree(Path(entry.path))
    folder = root / name
    if folder.exists() and _read_marker(folder) is None:
        tempnames.remove_tree(folder)


def _build(
    root: Path,
    spec: EnvSpec,
    bundle_root: Path,
    bundle: str,
    offline: bool,
    progress: Callable[[str], Any] | None,
    lock: int,
) -> Environment:
    temp = root / f"{tempnames.prefix(root / spec.name)}{secrets.token_hex(4)}{BUILDING}"
    say = progress or (lambda _: None)
    started = time.perf_counter()
    try:
        say(f"creating a virtualenv with Python {spec.interpreter.version}")
        venv = ["venv", "--no-config", "--quiet", "--relocatable", "--no-project"]
        run_uv([*venv, "--python", spec.interpreter.path, str(temp)], cwd=str(root), hold=lock)
        if spec.requirements:
            count = sum(1 for r in spec.requirements if not r.startswith("-"))
            say(f"installing {count} requirement{'s' * (count != 1)} with uv")
            _install(temp, spec, bundle_root, offline, lock)
        record = spec.summary() | {
            "bundle": bundle,
            "built": time.time(),
            "build_seconds": round(time.perf_counter() - started, 3),
        }
        marker = temp / MARKER
        marker.with_suffix(".tmp").write_text(json.dumps(record, indent=1), encoding="utf-8")
        os.replace(marker.with_suffix(".tmp"), marker)  # the marker, written last
        os.rename(temp, root / spec.name)
    except BaseException:
        tempnames.remove_tree(temp)
        raise
    return Environment(root / spec.name, record)


def _install(folder: Path, spec: EnvSpec, bundle_root: Path, offline: bool, lock: int) -> None:
    listing = folder / ".bundle-requirements.txt"
    listing.write_text("".join(f"{line}\n" for line in spec.requirements), encoding="utf-8")
    args = ["pip", "install", "--no-config", "--python", str(folder / "bin" / "python")]
    args += ["--compile-bytecode", "-r", str(listing)]
    if spec.locked:
        args.append("--require-hashes")
    if offline:
        args.append("--offline")
    try:
        run_uv(args, cwd=str(bundle_root), hold=lock)  # relative paths: the bundle's
    finally:
        listing.unlink(missing_ok=True)


def _read_marker(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def environments() -> list[Environment]:
    """Every complete environment, least recently used first."""
    root = envs_root()
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            if entry.is_dir() and not entry.name.startswith("."):
                record = _read_marker(Path(entry.path))
                if record is not None:
                    found.append(Environment(Path(entry.path), record))
    return sorted(found, key=lambda e: (e.last_used, e.name))


def remove(env: Environment) -> None:
    """Delete one environment (under its lock, so that no build of it is cut short)."""
    root = env.folder.parent
    with _locked(root, env.name, None):
        # the marker first: a removal cut short leaves a folder that is never used
        (env.folder / MARKER).unlink(missing_ok=True)
        tempnames.remove_tree(env.folder)
    # The lock file stays: removing it could let two builders hold "the" lock at once.


def clean(older_than_days: float | None = None) -> tuple[int, int]:
    """Remove every environment (or those unused for `older_than_days`); (count, bytes)."""
    cutoff = None if older_than_days is None else time.time() - older_than_days * 86400
    removed = [e for e in environments() if cutoff is None or e.last_used < cutoff]
    size = sum(e.size() for e in removed)
    for env in removed:
        remove(env)
    return len(removed), size
