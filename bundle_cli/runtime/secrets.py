"""Secrets: only names declared in config.yaml, values from the command line, a file or the env.

Precedence: `--secret NAME=VALUE`, then `--secrets-file PATH`, then `BUNDLE_SECRET_<NAME>`.
Values are never shown: the mapping's repr hides them, error messages name secrets only, and
`Scrubber` removes any value of 4 characters or more from text before it is shown.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from bundle_cli.errors import BundleError, FileSystemError, SecretError, UsageError
from bundle_cli.runtime.scrub import Scrubber

WAYS = (
    "give it with --secret {name}=VALUE, the environment variable BUNDLE_SECRET_{env}, "
    "or a line {name}=VALUE in a file passed with --secrets-file PATH (outside the bundle)"
)
_MISSING = object()


def env_name(name: str) -> str:
    """`hf_access_token` -> `HF_ACCESS_TOKEN` (the exact name is accepted too)."""
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


class Secrets(Mapping[str, str]):
    """The secrets given to `Model(secrets=...)`: a read-only mapping of declared names."""

    def __init__(self, declared: Iterable[str], values: Mapping[str, str]) -> None:
        self._declared = tuple(declared)
        self._values = {k: v for k, v in values.items() if k in self._declared}

    def __getitem__(self, name: str) -> str:
        value = self.get(name, _MISSING)
        if value is _MISSING:
            raise SecretError(
                f'secret "{name}" has no value', hint=WAYS.format(name=name, env=env_name(name))
            )
        return str(value)

    def get(self, name: str, default: Any = None) -> Any:
        """The value, or `default` when a declared secret is not set; undeclared names raise."""
        if name not in self._declared:
            declared = ", ".join(self._declared) or "none"
            raise SecretError(
                f'secret "{name}" is not declared in config.yaml (declared: {declared})',
                hint=f"add it under `secrets:` as `{name}: null`, then "
                + WAYS.format(name=name, env=env_name(name)),
            )
        return self._values.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Secrets(declared={list(self._declared)!r}, set={list(self._values)!r})"

    def scrubber(self) -> Scrubber:
        return Scrubber(self._values.values())


def resolve_secrets(
    declared: Iterable[str],
    given: Mapping[str, str] | None = None,
    secrets_file: str | Path | None = None,
    *,
    bundle_root: Path,
    environ: Mapping[str, str] | None = None,
) -> Secrets:
    """Collect the declared secrets' values: `given` (--secret), then the file, then the env."""
    declared = tuple(declared)
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for name in declared:
        for key in (f"BUNDLE_SECRET_{name}", f"BUNDLE_SECRET_{env_name(name)}"):
            if key in env:
                values[name] = env[key]
                break
    if secrets_file is not None:
        values.update(_read_secrets_file(Path(secrets_file), bundle_root, declared))
    for name, value in (given or {}).items():
        if name not in declared:
            shown = ", ".join(declared) or "none"
            raise UsageError(
                f"--secret {name}: not a secret declared in config.yaml (declared: {shown})",
                hint=f"add it under `secrets:` as `{name}: null`",
            )
        values[name] = value
    return Secrets(declared, values)


def parse_secret_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """`NAME=VALUE` arguments of --secret -> {NAME: VALUE}; the value is never echoed."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError("--secret expects NAME=VALUE (the argument given has no NAME=)")
        values[name] = value
    return values


def _read_secrets_file(path: Path, bundle_root: Path, declared: tuple[str, ...]) -> dict[str, str]:
    if not path.exists():
        raise UsageError(f"--secrets-file {path}: no such file")
    if path.resolve().is_relative_to(bundle_root):
        raise UsageError(
            f"--secrets-file {path} is inside the bundle, where it would be packaged with it",
            hint="move it outside the bundle folder",
        )
    return {k: v for k, v in _parse_secrets_file(path).items() if k in declared}


def secret_file_values(path: Path) -> list[str]:
    """Every value in a secrets file, declared or not (to keep them all out of any output)."""
    try:
        return list(_parse_secrets_file(path).values())
    except (OSError, BundleError):
        return []  # loading reads the file again and reports what is wrong with it


MAX_SECRETS_FILE = 1024 * 1024  # bytes: far above any real secrets file, far below a device's


def _read_secrets_text(path: Path) -> str:
    """The file's text: a regular file (never a FIFO or device, which could block or never end)
    of at most MAX_SECRETS_FILE bytes of UTF-8. Errors never show the contents."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO opens without a writer
    except OSError as exc:
        raise FileSystemError("read the secrets file", path, exc) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UsageError(
                f"--secrets-file {path}: not a regular file; give a file of NAME=VALUE lines"
            )
        data = handle.read(MAX_SECRETS_FILE + 1)
    if len(data) > MAX_SECRETS_FILE:
        raise UsageError(
            f"--secrets-file {path}: larger than {MAX_SECRETS_FILE // 1024} KiB; not a secrets file"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"--secrets-file {path}: not UTF-8 text (byte {exc.start}; contents not shown)"
        ) from None


def _parse_secrets_file(path: Path) -> dict[str, str]:
    """NAME=VALUE lines (`#` comments, optional `export ` and quotes), or one JSON object."""
    text = _read_secrets_text(path)
    if text.lstrip().startswith("{"):
        return _json_secrets(path, text)
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{path}:{number}: expected NAME=VALUE (the line is not shown)")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def _json_secrets(path: Path, text: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except RecursionError:
        raise UsageError(f"{path}: JSON nested too deeply (contents not shown)") from None
    except ValueError as exc:
        line = getattr(exc, "lineno", "?")
        raise UsageError(f"{path}:{line}: not valid JSON (contents not shown)") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise UsageError(f"{path}: expected a JSON object of secret names to string values")
    return data
