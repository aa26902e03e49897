"""The Python interpreters of this machine, matched against a bundle's `python_version`.

Looked for on PATH (`python3.N`) and in pyenv's versions (`$PYENV_ROOT/versions/*`, default
`~/.pyenv`); pyenv's shims are skipped (they pick a version by the current folder). Nothing is
ever downloaded. What an interpreter is (implementation, full version, platform) is asked of it
once and remembered under the user cache, keyed by the executable's path, size and mtime, so
that finding an environment again costs no subprocess.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from bundle_cli.cachedir import cache_path
from bundle_cli.errors import EnvironmentMismatchError

_PROBE = (
    "import json, platform, sys, sysconfig; print(json.dumps({"
    "'implementation': sys.implementation.name, 'version': platform.python_version(), "
    "'platform': sysconfig.get_platform() + '-' + '-'.join(platform.libc_ver())}))"
)


@dataclass(frozen=True)
class Interpreter:
    """One interpreter found here."""

    path: str  # the executable, as found
    implementation: str  # "cpython"
    version: str  # "3.11.7"
    platform: str  # "linux-x86_64-glibc-2.36": sysconfig's platform and the C library

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


def wanted(python_version: str) -> str:
    """`py311` (the validated form) -> `3.11`."""
    digits = python_version.removeprefix("py")
    return f"{digits[0]}.{digits[1:]}" if "." not in digits else digits


def find_interpreter(python_version: str) -> Interpreter:
    """The interpreter for a bundle's `python_version`: the one running this tool when it is
    that version, else the first on PATH, else pyenv's newest of that version. A version found
    nowhere is an EnvironmentMismatchError naming the versions that are here."""
    minor = wanted(python_version)
    seen: list[str] = []
    for path, _ in _candidates(minor):
        info = probe(path)
        if info is None:
            continue
        seen.append(info.version)
        if info.minor == minor and info.implementation == "cpython":
            return info
    found = sorted({v for _, v in _all_versions()} | set(seen), key=_version_key)
    raise EnvironmentMismatchError(
        f"python_version is {minor} but no Python {minor} is installed here "
        f"(found: {', '.join(found) or 'none'}); bundle never downloads an interpreter",
        hint=f"install Python {minor} (e.g. `pyenv install {minor}`) or change python_version",
    )


def _candidates(minor: str) -> list[tuple[str, str]]:
    """(executable, version from its name) in order of preference, for one minor version."""
    found: list[tuple[str, str]] = []
    base = getattr(sys, "_base_executable", sys.executable)
    if f"{sys.version_info.major}.{sys.version_info.minor}" == minor:
        found.append((base, minor))
    name = f"python{minor}"
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if folder and not folder.rstrip("/").endswith("shims"):
            path = os.path.join(folder, name)
            if os.access(path, os.X_OK) and not os.path.isdir(path):
                found.append((path, minor))
    pyenv = [(p, v) for p, v in _pyenv_versions() if v.startswith(minor + ".")]
    found += sorted(pyenv, key=lambda pv: _version_key(pv[1]), reverse=True)
    unique, real = [], set()
    for path, version in found:
        key = os.path.realpath(path)
        if key not in real:
            real.add(key)
            unique.append((path, version))
    return unique


def _pyenv_versions() -> list[tuple[str, str]]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            parts = entry.name.split(".")
            if len(parts) >= 2 and all(p.isdigit() for p in parts):  # CPython: 3.11.7
                exe = os.path.join(entry.path, "bin", f"python{parts[0]}.{parts[1]}")
                if os.access(exe, os.X_OK):
                    found.append((exe, entry.name))
    return found


def _all_versions() -> list[tuple[str, str]]:
    """Every interpreter's version as its name or folder says (for the error message)."""
    found = list(_pyenv_versions())
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if not folder or folder.rstrip("/").endswith("shims"):
            continue
        with contextlib.suppress(OSError):
            for entry in os.scandir(folder):
                rest = entry.name.removeprefix("python")
                if rest != entry.name and rest.count(".") == 1 and rest.replace(".", "").isdigit():
                    found.append((entry.path, rest))
    running = ".".join(map(str, sys.version_info[:3]))
    return [*found, (sys.executable, running)]


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def probe(path: str) -> Interpreter | None:
    """What the interpreter at `path` is (remembered by path, size and mtime), or None when it
    does not run."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    stamp = f"{os.path.realpath(path)}:{st.st_size}:{st.st_mtime_ns}"
    known = _read_known()
    if stamp in known:
        return Interpreter(path=path, **known[stamp])
    try:
        out = subprocess.run(
            [path, "-I", "-S", "-c", _PROBE], capture_output=True, text=True, timeout=30
        )
        info = json.loads(out.stdout) if out.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        info = None
    if not isinstance(info, dict):
        return None
    found = Interpreter(path=path, **info)
    _remember(stamp, found)
    return found


def _known_file() -> Path:
    return cache_path("envs") / "interpreters.json"


def _read_known() -> dict[str, dict[str, str]]:
    try:
        data = json.loads(_known_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remember(stamp: str, found: Interpreter) -> None:
    """Best effort: the cache is an optimisation, a read-only one is no error."""
    known = _read_known()
    record = asdict(found)
    del record["path"]
    known[stamp] = record
    file = _known_file()
    with contextlib.suppress(OSError):
        file.parent.mkdir(parents=True, exist_ok=True)
        temp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(known, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(temp, file)
