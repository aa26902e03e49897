"""Bundles and helpers for the reliability tests: every ordinary mistake through the real command."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

# One model that does what a request asks: echo it, raise, reject it, log, print a secret, nest
# its output deeply, return a huge integer, or sleep. A marker file says whether it was imported.
PROBE_MODEL = """
import logging
import os
import sys
import time
import warnings

from bundle_cli import InvalidInput

marker = os.environ.get("PROBE_IMPORTED")
if marker:
    open(marker, "w").close()
log = logging.getLogger("probe")


class Model:
    def predict(self, model_input):
        kind = model_input.get("kind") if isinstance(model_input, dict) else None
        log.info("probe info %s", kind)
        log.debug("probe debug")
        if kind == "raise":
            raise ValueError("the probe raised")
        if kind == "reject":
            raise InvalidInput("age must be positive")
        if kind == "deep":
            value = []
            for _ in range(model_input["n"]):
                value = [value]
            return value
        if kind == "bigint":
            return 10 ** 5000
        if kind == "sleep":
            time.sleep(model_input["seconds"])
        if kind == "secret":
            secret = os.environ["BUNDLE_SECRET_TOK"]
            print("print:", secret)
            half = len(secret) // 2
            sys.stdout.write(secret[:half]); sys.stdout.flush()
            sys.stdout.write(secret[half:] + "\\n"); sys.stdout.flush()
            sys.stdout.buffer.write(("buffer: " + secret + "\\n").encode())
            log.warning("logged: %s", secret)
            warnings.warn("warned: " + secret)
            return {"token": secret, "repr": repr(secret)}
        return model_input
"""

PROBE = {
    "config.yaml": "model_name: probe\nsecrets:\n  tok: null\n",
    "model/__init__.py": "",
    "model/model.py": PROBE_MODEL,
    "input.json": '{"kind": "echo"}\n',
    "examples.yaml": "- name: echo\n  input: {kind: echo}\n  expected: {kind: echo}\n",
}


def probe(tree: object, name: str = "bundle", **extra: str) -> Path:
    """The probe bundle in the folder `name` (extra files replace or add to it)."""
    return tree({**PROBE, **extra}, name=name)  # type: ignore[operator, no-any-return]


def leftovers(folder: Path) -> list[str]:
    """Temporary files a write could leave behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or ".tmp" in p.name)


@contextlib.contextmanager
def read_only_folder(path: Path) -> Iterator[Path]:
    """`path`, made impossible to write into for this process: `chattr +i` (root ignores
    permission bits), else mode 0555; skips the test when neither works here."""
    path.mkdir(parents=True, exist_ok=True)
    undo: list[str] = []
    root = os.geteuid() == 0 and shutil.which("chattr")
    if root and subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0:
        undo = ["chattr", "-i", str(path)]
    if not undo:
        path.chmod(0o555)
    try:
        probe_file = path / ".probe"
        try:
            probe_file.touch()
        except OSError:
            pass
        else:
            probe_file.unlink()
            pytest.skip("this machine cannot make a read-only folder (root without chattr)")
        yield path
    finally:
        if undo:
            subprocess.run(undo, check=True)
        path.chmod(0o755)
