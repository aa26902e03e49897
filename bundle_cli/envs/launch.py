"""Starting the child Python of an isolated run, and starting it early.

The child is the interpreter of the bundle's environment with `-I` (no user site, no PYTHON*
variables), running runtime/child.py. It sees exactly one package of the tool, `bundle_cli`,
through a meta-path finder that looks for that name only in the folder the tool is installed
in, never the tool's site-packages: the bundle's own pins are what its code imports.

Starting a Python and importing the runtime costs as much as the parent's own start-up, so
`prestart` launches the child of the environment the bundle used last time before the parent
has even imported the runtime; `take` hands it over once the parent knows which environment
the bundle needs (or ends it, when that is another one). This module imports only the
standard library, so that the early start is early.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
from pathlib import Path

import bundle_cli
from bundle_cli.cachedir import cache_path

TOOL_PARENT = str(Path(bundle_cli.__file__).resolve().parent.parent)
BOOT = (
    "import sys, importlib.machinery as m\n"
    "class OnlyBundleCli:\n"
    "    @staticmethod\n"
    "    def find_spec(name, path=None, target=None):\n"
    "        return m.PathFinder.find_spec(name, [sys.argv[1]]) if name == 'bundle_cli' else None\n"
    "sys.meta_path.insert(0, OnlyBundleCli)\n"
    "from bundle_cli.runtime.child import main\n"
    "main()\n"
)


def launch(python: str | os.PathLike[str]) -> subprocess.Popen[bytes]:
    """The child process, started: it imports the runtime, then waits for its settings."""
    return subprocess.Popen(
        [str(python), "-I", "-c", BOOT, TOOL_PARENT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


class Prestarted:
    """A child started before the parent knew which environment the bundle needs."""

    def __init__(self, python: str, proc: subprocess.Popen[bytes]) -> None:
        self.python, self.proc = python, proc
        self._taken = False

    def take(self, python: str | os.PathLike[str]) -> subprocess.Popen[bytes] | None:
        """The process, when it runs `python` (the environment needed); else None."""
        if os.fspath(python) != self.python or self.proc.poll() is not None:
            self.discard()
            return None
        self._taken = True
        return self.proc

    def discard(self) -> None:
        """End the child unless it was taken (it is waiting for settings: EOF ends it)."""
        if self._taken or self.proc.returncode is not None:
            return
        self._taken = True
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        with contextlib.suppress(OSError):
            self.proc.kill()
        self.proc.wait()


def _hint_file(path: str | os.PathLike[str]) -> Path:
    digest = hashlib.sha256(os.path.realpath(path).encode("utf-8", "surrogateescape"))
    return cache_path("envs") / ".last" / f"{digest.hexdigest()[:32]}.json"


def prestart(path: str | os.PathLike[str]) -> Prestarted | None:
    """The child of the environment the bundle at `path` ran in last, started now; or None."""
    try:
        python = json.loads(_hint_file(path).read_text(encoding="utf-8"))["python"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(python, str) or not os.access(python, os.X_OK):
        return None
    try:
        return Prestarted(python, launch(python))
    except OSError:
        return None


def remember(path: str | os.PathLike[str], python: str | os.PathLike[str]) -> None:
    """Note the environment the bundle at `path` runs in, for the next `prestart`."""
    file = _hint_file(path)
    text = json.dumps({"python": os.fspath(python)})
    with contextlib.suppress(OSError):
        if file.is_file() and file.read_text(encoding="utf-8") == text:
            return
        file.parent.mkdir(parents=True, exist_ok=True)
        temp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, file)
