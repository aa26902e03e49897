"""Undefined names (pyflakes) and imports that resolve nowhere, found without importing the code."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bundle_cli import validate

MODEL = """\
import json
import os.path

import yaml
from helpers import scale
from vendored.tool import run

try:
    import ujson_that_is_optional
except ImportError:
    ujson_that_is_optional = None


class Model:
    def predict(self, model_input):
        import no_such_module_anywhere
        from sklearn_not_here import thing

        return np.asarray(scale(model_input))
"""


def test_undefined_names_are_errors_and_unresolved_imports_warnings(
    tree: Callable[..., Path],
) -> None:
    bundle = tree(
        {
            "config.yaml": "model_name: m\nrequirements: [sklearn-not-here==1.0]\n",
            "model/model.py": MODEL,
            "model/helpers.py": "def scale(x):\n    return [v * factor for v in x]\n",
            "packages/vendored/__init__.py": "",
            "packages/vendored/tool.py": "import json\n\ndef run():\n    return json\n",
        }
    )
    report = validate(bundle)
    found = sorted((Path(str(d.file)).name, d.line, d.code) for d in report.diagnostics)
    assert found == [
        ("config.yaml", 2, "requirement-not-installed"),
        ("helpers.py", 2, "undefined-name"),
        ("model.py", 16, "module-unresolved"),
        ("model.py", 17, "module-unresolved"),
        ("model.py", 19, "undefined-name"),
    ], [d.format() for d in report.diagnostics]
    by_line = {d.line: d for d in report.diagnostics if Path(str(d.file)).name == "model.py"}
    assert by_line[19].column == 16 and "np is used but never defined" in by_line[19].message
    assert "config.yaml's requirements do not list it" in by_line[16].message
    assert "requirements list sklearn-not-here, but it is not installed" in by_line[17].message


def test_validate_imports_no_model_code_and_leaves_doctest_real(
    tree: Callable[..., Path],
) -> None:
    marker = "raise SystemExit('model code was imported')\n"
    bundle = tree({"config.yaml": "model_name: m\n", "model/model.py": marker + MODEL})
    code = (
        "import sys\nfrom bundle_cli import validate\n"
        f"report = validate({str(bundle)!r})\n"
        "import doctest\n"
        "print(sorted({d.code for d in report.diagnostics}), hasattr(doctest, 'testmod'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("]")[1].strip() == "True"
    assert "undefined-name" in out.stdout and "module-unresolved" in out.stdout


def test_undefined_names_in_bundled_packages_warn_and_local_annotations_pass(
    tree: Callable[..., Path],
) -> None:
    model = (
        "class Model:\n    async def predict(self, model_input):\n"
        "        task: Awaitable[int] | None = None\n        return task\n"
    )
    vendored = "def unused_corner():\n    return profile_macs()\n"
    bundle = tree(
        {"config.yaml": "model_name: m\n", "model/model.py": model, "packages/lib.py": vendored}
    )
    report = validate(bundle)
    assert [(Path(str(d.file)).name, d.severity, d.line) for d in report.diagnostics] == [
        ("lib.py", "warning", 2)
    ]
