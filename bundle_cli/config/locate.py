"""Where a key of a bundle's YAML is, and diagnostics placed there: the one locator of config keys.

The loader records the line and column of every key path it builds (`config/yamlpos.py`);
config loading, file and flow checks and examples.yaml's checks place their diagnostics through
`Locator`, at the key itself or, when the file does not name it (a default, a key pydantic
reports below a value), at the nearest enclosing key the file names.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bundle_cli.diagnostics import Diagnostic, Severity

CONFIG_FILENAME = "config.yaml"

# A path of keys and list indexes from the document's root: ("flow", 0, "pre").
KeyPath = tuple[str | int, ...]
Positions = Mapping[KeyPath, tuple[int, int]]


class Locator:
    """Builds diagnostics about the keys of one YAML file.

    `fallback` is the position of a key path found nowhere in the file (None: no position);
    with `key_paths`, each diagnostic also names its key path (`resources.memory`).
    """

    def __init__(
        self,
        file: str | Path,
        positions: Positions,
        *,
        fallback: tuple[int, int] | None = None,
        key_paths: bool = True,
    ) -> None:
        self.file = str(file)
        self.positions = positions
        self.fallback = fallback
        self.key_paths = key_paths

    def position(self, key: KeyPath) -> tuple[int, int] | None:
        """The line and column of `key`, or of the nearest enclosing key the file names."""
        key = tuple(p if isinstance(p, int) else str(p) for p in key)
        for end in range(len(key), 0, -1):
            found = self.positions.get(key[:end])
            if found:
                return found
        return self.fallback

    def __call__(
        self, code: str, message: str, key: KeyPath, severity: Severity = "error"
    ) -> Diagnostic:
        line, column = self.position(key) or (None, None)
        key_path = ".".join(str(k) for k in key) or None if self.key_paths else None
        return Diagnostic(code, severity, message, self.file, line, column, key_path)


def config_file(bundle_dir: str | Path) -> Path:
    """The config.yaml of a bundle folder."""
    return Path(bundle_dir) / CONFIG_FILENAME
