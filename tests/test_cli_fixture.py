"""The `cli` fixture forgets a bundle's modules after a call and keeps installed ones."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

MODEL = """\
import sys

sys.path.insert(0, {elsewhere!r})
import elsewhere_probe  # outside the bundle: the runtime leaves it to the caller
import markupsafe  # installed, with a C extension (markupsafe._speedups)


class Model:
    def predict(self, model_input):
        return {{
            "extension": id(sys.modules["markupsafe._speedups"]),
            "own": id(elsewhere_probe),
        }}
"""


def test_installed_modules_stay_and_the_bundles_own_go(
    tree: Callable[..., Path], cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    # First imported during the call: take markupsafe out for this test (restored afterwards).
    for name in [n for n in sys.modules if n == "markupsafe" or n.startswith("markupsafe.")]:
        monkeypatch.delitem(sys.modules, name)
    elsewhere = tree({"elsewhere_probe.py": "VALUE = 1\n"}, name="elsewhere")
    bundle = tree(
        {
            "config.yaml": "model_name: probe\n",
            "model/model.py": MODEL.format(elsewhere=str(elsewhere)),
        }
    )
    result = cli("predict", str(bundle), "-d", "{}")
    assert result.exit_code == 0, result.output
    seen = json.loads(result.stdout)
    assert id(sys.modules.get("markupsafe._speedups")) == seen["extension"], "kept, same object"
    assert "markupsafe" in sys.modules
    assert "elsewhere_probe" not in sys.modules, "the bundle's own import is forgotten"
    assert str(elsewhere) not in sys.path
