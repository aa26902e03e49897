"""The request's binary files: `--file NAME=@PATH`, and what the Python API accepts."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from bundle_cli.errors import FileSystemError, UsageError

FileSpec = str | os.PathLike[str] | bytes | IO[bytes]


def parse_file_option(option: str) -> tuple[str, Path]:
    """`NAME=@PATH` (the --file option) -> (NAME, PATH); the file must exist."""
    name, sep, at_path = option.partition("=")
    if not sep or not name or not at_path.startswith("@") or len(at_path) < 2:
        raise UsageError(f"--file {option}: expected NAME=@PATH, such as image=@cat.png")
    path = Path(at_path[1:]).expanduser()
    if path.is_dir():
        raise UsageError(f"--file {name}: {path} is a folder; give one file per --file")
    if not path.is_file():
        raise UsageError(f"--file {name}: no such file: {path}")
    return name, path


class RequestFiles:
    """The binary files of a request, in the order given, each a readable file with `.name`."""

    def __init__(self, spec: Mapping[str, FileSpec] | Sequence[Any] | None = None) -> None:
        self.files: list[IO[bytes]] = []
        self._opened: list[IO[bytes]] = []
        pairs = spec.items() if isinstance(spec, Mapping) else (spec or ())
        try:
            for item in pairs:
                name, source = item if isinstance(item, tuple) else (None, item)
                self.files.append(self._open(name, source))
        except BaseException:
            self.close()
            raise

    def _open(self, name: str | None, source: FileSpec) -> IO[bytes]:
        if isinstance(source, bytes | bytearray):
            buffer = io.BytesIO(bytes(source))
            buffer.name = name or "file"
            return buffer
        if isinstance(source, str | os.PathLike):
            path = Path(source)
            if not path.is_file():
                raise UsageError(f"file {name or path}: no such file: {path}")
            try:
                handle = path.open("rb")
            except OSError as exc:
                raise FileSystemError("read the request file", path, exc) from None
            self._opened.append(handle)
            if name:
                handle.raw.name = name  # type: ignore[attr-defined]
            return handle
        if not hasattr(source, "read"):
            raise UsageError(f"file {name}: expected a path, bytes or a binary file object")
        return source

    def rewound(self) -> list[IO[bytes]]:
        """The files, each read from its start again (a later hook sees whole files)."""
        for f in self.files:
            if f.seekable():
                f.seek(0)
        return list(self.files)

    def close(self) -> None:
        for handle in self._opened:
            handle.close()
        self._opened.clear()

    def __enter__(self) -> RequestFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
