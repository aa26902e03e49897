"""The runtime a child process imports (a bundle run in its own environment, with only the
bundle's own requirements installed) needs nothing but the standard library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import bundle_cli

# What a child Python that drives a bundle imports from the tool (runtime/runner.py's contract).
MODULES = [
    "bundle_cli",
    "bundle_cli.errors",
    "bundle_cli.diagnostics",
    "bundle_cli.runtime.runner",
    "bundle_cli.runtime.pipeline",
    "bundle_cli.runtime.hooks",
    "bundle_cli.runtime.deadline",
    "bundle_cli.runtime.isolation",
    "bundle_cli.runtime.usertrace",
    "bundle_cli.runtime.codec",
    "bundle_cli.runtime.inputs",
    "bundle_cli.runtime.typed",
]

# Runs in `python -I` with sys.path cut down to the standard library and the folder holding
# bundle_cli; a meta-path finder refuses, and records, every import of a module outside both.
CHILD = """
import importlib, json, sys

sys.path[:] = [p for p in sys.path if "-packages" not in p]
sys.path.insert(0, sys.argv[1])
TOOL = sys.argv[1] + "/bundle_cli/"
refused = []


class ThirdPartyRefused:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in sys.stdlib_module_names or top == "bundle_cli":
            return None
        frame = sys._getframe(1)
        while frame.f_code.co_filename.startswith("<frozen importlib"):
            frame = frame.f_back
        # the standard library probes optional modules of its own (copy: org.python.core)
        if frame.f_code.co_filename.startswith(TOOL):
            refused.append(f"{name} (from {frame.f_code.co_filename}:{frame.f_lineno})")
        raise ImportError(f"third-party module refused: {name}")


sys.meta_path.insert(0, ThirdPartyRefused())
before = set(sys.modules)  # what site and the interpreter loaded (a .pth file's module)
for module in sys.argv[2:]:
    importlib.import_module(module)
outside = sorted(
    name for name in set(sys.modules) - before
    if name.partition(".")[0] not in sys.stdlib_module_names
    and name.partition(".")[0] != "bundle_cli"
)
print(json.dumps({"refused": refused, "outside": outside}))
"""


def test_the_child_side_of_the_runtime_imports_only_the_standard_library() -> None:
    folder = Path(bundle_cli.__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-I", "-c", CHILD, str(folder), *MODULES],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert found == {"refused": [], "outside": []}


def test_the_check_catches_a_third_party_import(tmp_path: Path) -> None:
    # The same child, given a module of the tool's folder that imports yaml: refused and named.
    tool = tmp_path / "bundle_cli"
    tool.mkdir()
    (tool / "__init__.py").write_text("import yaml\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-I", "-c", CHILD, str(tmp_path), "bundle_cli"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0 and "third-party module refused: yaml" in proc.stderr
