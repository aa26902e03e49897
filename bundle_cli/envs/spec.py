"""What an environment is made of, and its cache key.

The key is the sha256 of canonical JSON (sorted keys, no spaces) over: a format version, the
interpreter (implementation and full version), its platform, the requirements (each line
normalised, sorted; or the lines of `requirements.lock` when the bundle has one), the index
options (option lines of the requirements and the `UV_*` index variables) and whether hashes are
required. Never the bundle's code: editing model code never rebuilds the environment.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundle_cli.cachedir import cache_path
from bundle_cli.envs.pythons import Interpreter
from bundle_cli.layout import LOCK_FILE as LOCK_FILE

FORMAT = 1
# uv's settings that change what an install resolves to (uv reads no pip configuration).
INDEX_VARIABLES = (
    "UV_INDEX",
    "UV_DEFAULT_INDEX",
    "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL",
    "UV_FIND_LINKS",
    "UV_NO_INDEX",
    "UV_INDEX_STRATEGY",
    "UV_PRERELEASE",
)
_CREDENTIALS = re.compile(r"(://)[^/@\s]+@")


@dataclass(frozen=True)
class EnvSpec:
    """Everything an environment is built from."""

    interpreter: Interpreter
    requirements: tuple[str, ...]  # as given to uv, one line each (options included)
    locked: bool  # requirements.lock: installed exactly, with --require-hashes
    index: tuple[str, ...]  # the index options and UV_* variables that apply
    normalised: tuple[str, ...] = ()  # the requirement lines normalised and sorted (the key's)

    @property
    def key(self) -> str:
        return hashlib.sha256(canonical(self.key_document()).encode("utf-8")).hexdigest()

    @property
    def name(self) -> str:
        """The environment's folder name: a prefix of the key (short enough for shebangs)."""
        return self.key[:24]

    def key_document(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "interpreter": {
                "implementation": self.interpreter.implementation,
                "version": self.interpreter.version,
            },
            "platform": self.interpreter.platform,
            "requirements": list(self.normalised),
            "index": list(self.index),
            "locked": self.locked,
        }

    def summary(self) -> dict[str, Any]:
        """What the completion marker records (credentials in URLs removed)."""
        doc = self.key_document()
        doc["key"] = self.key
        doc["python"] = self.interpreter.path
        doc["requirements"] = [redact(r) for r in doc["requirements"]]
        doc["index"] = [redact(i) for i in doc["index"]]
        return doc


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def redact(text: str) -> str:
    """`https://user:token@host/...` -> `https://***@host/...`."""
    return _CREDENTIALS.sub(r"\1***@", text)


def _option(line: str) -> bool:
    return line.startswith("-") and not line.startswith(("-e ", "--editable"))


def normalise(line: str) -> str:
    """One requirement as a canonical string: `NumPy >= 1.26 ; python_version>'3'` and
    `numpy>=1.26; python_version > "3"` are the same line."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    text = " ".join(line.split())
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return text  # a URL, a path, a hashed lock line: exactly as written
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    spec = ",".join(sorted(str(s) for s in req.specifier))
    url = f" @ {req.url}" if req.url else ""
    marker = f"; {req.marker}" if req.marker else ""
    return f"{canonicalize_name(req.name)}{extras}{spec}{url}{marker}"


def spec_for(bundle_root: Path, config: dict[str, Any], interpreter: Interpreter) -> EnvSpec:
    """The spec of a validated bundle: its lock when it has one, else its requirements."""
    found = _remembered(bundle_root, config)
    lines, locked, normalised = found["lines"], found["locked"], found["normalised"]
    options = [line for line in lines if _option(line)]
    variables = [f"{v}={os.environ[v]}" for v in INDEX_VARIABLES if os.environ.get(v)]
    return EnvSpec(interpreter, tuple(lines), locked, (*options, *variables), tuple(normalised))


def _read_lines(bundle_root: Path, config: dict[str, Any]) -> dict[str, Any]:
    lock = bundle_root / LOCK_FILE
    if lock.is_file():
        lines, locked = lock_lines(lock.read_text(encoding="utf-8")), True
        files = [str(lock)]
    else:
        entries = _entries(bundle_root, config)
        lines, locked = [" ".join(e.text.split()) for e in entries], False
        files = []
        if config.get("requirements_file"):  # the file, and those it includes (`-r`)
            top = str(bundle_root / config["requirements_file"])
            files = sorted({top, *(e.file for e in entries)})
    normalised = sorted(normalise(r) for r in lines if not _option(r))
    return {"lines": lines, "locked": locked, "normalised": normalised, "files": files}


# Finding a built environment must cost no import of the config package (pydantic) or of
# packaging: what a bundle's requirements read as is remembered under the user cache, keyed by
# the config's requirement keys, and trusted while the files it was read from (a lock, a
# requirements file and its includes) keep their size and mtime.
def _remembered(bundle_root: Path, config: dict[str, Any]) -> dict[str, Any]:
    source = {
        "root": str(bundle_root),
        "requirements": config.get("requirements") or [],
        "requirements_file": config.get("requirements_file"),
        "lock": (bundle_root / LOCK_FILE).is_file(),
        "format": FORMAT,
    }
    memo = cache_path("envs") / ".requirements" / f"{_digest(source)}.json"
    try:
        found = json.loads(memo.read_text(encoding="utf-8"))
        if found["stamps"] == _stamps(found["files"]):
            return dict(found)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    found = _read_lines(bundle_root, config)
    found["stamps"] = _stamps(found["files"])
    with contextlib.suppress(OSError):  # an optimisation: a read-only cache is no error
        memo.parent.mkdir(parents=True, exist_ok=True)
        temp = memo.with_name(f".{memo.name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(found), encoding="utf-8")
        os.replace(temp, memo)
    return found


def _stamps(files: list[str]) -> list[list[int]]:
    stamps = []
    for file in files:
        try:
            st = os.stat(file)
            stamps.append([st.st_size, st.st_mtime_ns, st.st_ino])
        except OSError:
            stamps.append([-1, -1, -1])
    return stamps


def _digest(data: Any) -> str:
    return hashlib.sha256(canonical(data).encode("utf-8")).hexdigest()


def declared_lines(bundle_root: Path, config: dict[str, Any]) -> list[str]:
    """The requirement and option lines config.yaml declares (requirements_file read, `-r`
    inlined), as `bundle requirements` prints them."""
    return [" ".join(e.text.split()) for e in _entries(bundle_root, config)]


def _entries(bundle_root: Path, config: dict[str, Any]) -> list[Any]:
    from bundle_cli.config.requirements import from_file, from_list

    if config.get("requirements_file"):
        path = bundle_root / config["requirements_file"]
        return from_file(path) if path.is_file() else []
    values = list(config.get("requirements") or [])
    return from_list(values, str(bundle_root / "config.yaml"), [0] * len(values))


def lock_lines(text: str) -> list[str]:
    """The logical lines of a lock file (continuations joined, comments dropped)."""
    from bundle_cli.config.requirements import logical_lines

    lines = []
    for _, raw in logical_lines(text):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line:
            lines.append(" ".join(line.split()))
    return lines


# The line `bundle lock` writes at the top of requirements.lock: what it was compiled from.
SOURCE_LINE = re.compile(r"^# bundle-lock-source: sha256:([0-9a-f]{64})\s*$", re.MULTILINE)


def source_digest(bundle_root: Path, config: dict[str, Any]) -> str:
    """sha256 of the declared requirements, normalised and sorted (options as written)."""
    lines = declared_lines(bundle_root, config)
    reqs = sorted(normalise(ln) for ln in lines if not ln.startswith("-"))
    options = [ln for ln in lines if ln.startswith("-")]
    document = {"requirements": reqs, "options": options}
    return hashlib.sha256(canonical(document).encode("utf-8")).hexdigest()


def stale_lock(bundle_root: Path, config: dict[str, Any]) -> str | None:
    """Why `requirements.lock` no longer matches the declared requirements, or None."""
    lock_path = bundle_root / LOCK_FILE
    try:
        text = lock_path.read_text(encoding="utf-8")
    except OSError:
        return None
    match = SOURCE_LINE.search(text)
    if match is None:
        return "it does not say what it was compiled from (not written by `bundle lock`)"
    if match.group(1) != source_digest(bundle_root, config):
        return "the requirements declared in config.yaml changed since it was written"
    return None
