"""The frameworks registry: every list of stage types is read from it, and a new framework is
one module that config.yaml, `bundle validate`, `bundle_cli.load` and `ModelType` then accept."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import get_args

from conftest import flow_config

from bundle_cli import ModelType, frameworks
from bundle_cli.config.schema import FlowStage, StageType
from bundle_cli.flows.build_config import requirements

ROOT = Path(__file__).resolve().parents[2]


def test_every_table_of_stage_types_is_the_registry() -> None:
    names = frameworks.types()
    assert names == ("torch", "sklearn", "xgboost", "xgboost_classifier", "onnx", "python")
    assert tuple(t.value for t in ModelType) == names
    assert [t.name for t in ModelType] == [n.upper() for n in names]
    assert FlowStage.model_json_schema()["properties"]["type"]["enum"] == list(names)
    assert get_args(StageType) == names


def test_each_framework_names_an_extra_of_the_package_that_installs_it() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for framework in frameworks.registry().values():
        if framework.extra is None:  # python: nothing to install
            assert not framework.distributions
            continue
        declared = " ".join(extras[framework.extra])
        assert framework.distributions[0] in declared, framework.type
        for module, dist in framework.modules.items():
            assert frameworks.distribution_of(f"{module}.sub") == dist
        # build_flow pins the first distribution installed here (the tests install them all)
        [pin] = requirements([framework.type])
        assert pin.split("==")[0] in framework.distributions


def test_the_readme_describes_every_stage_type() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("| `type` | model file |") :].split("\n\n")[0]
    for name in frameworks.types():
        assert f"`{name}`" in table, name


FAKE = """
import json, sys
from pathlib import Path

from bundle_cli import frameworks

def load(path, options, where, host):
    scale = options.get("scale", 1)
    weights = json.loads(path.read_text())
    return lambda x, files: [v * scale * weights["w"] for v in x]

module = type(sys)("bundle_cli.frameworks.fake")
module.FRAMEWORKS = (
    frameworks.Framework("fake", load, suffixes=(".fake",), options={"scale": int}),
)
sys.modules[module.__name__] = module
frameworks.MODULES += ("fake",)

import bundle_cli

bundle = Path(sys.argv[1])
assert bundle_cli.ModelType("fake") == "fake"
report = bundle_cli.validate(bundle)
with bundle_cli.load(bundle) as loaded:
    out = loaded.predict([1, 2])
print(json.dumps({"ok": report.ok(), "warnings": [d.code for d in report.warnings], "out": out}))
"""


def test_a_new_framework_is_one_module_in_the_registry(
    tree: Callable[..., Path], tmp_path: Path
) -> None:
    stage = {"name": "f", "model": "m.fake", "type": "fake", "options": {"scale": 3}}
    bundle = tree({"config.yaml": flow_config([stage]), "m.fake": '{"w": 2}'})
    env = {"BUNDLE_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", FAKE, str(bundle)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"ok": True, "warnings": [], "out": [6, 12]}
