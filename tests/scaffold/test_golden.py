"""A golden tree per template: exactly these files, with the key contents right."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest
import yaml
from scaffold_helpers import FLAVOURS, entries

from bundle_cli.config import json_schema
from bundle_cli.scaffold import init

COMMON = {
    ".bundle/",
    ".bundle/config.schema.json",
    ".bundleignore",
    "README.md",
    "config.yaml",
    "data/",
    "examples.yaml",
    "input.json",
    "model/",
    "model/__init__.py",
    "model/model.py",
    "packages/",
    "packages/.gitkeep",
}
GOLDEN = {
    "numpy": COMMON | {"data/weights.json"},
    "sklearn": COMMON | {"data/.gitkeep"},
    "torch": COMMON | {"data/.gitkeep"},
}
REQUIREMENTS = {
    "numpy": ["numpy>=1.24"],
    "sklearn": ["numpy>=1.24", "scikit-learn>=1.3"],
    "torch": ["torch>=2.0"],
}
# The hook contract of DESIGN.md, shown with every optional parameter.
HOOKS = {
    "__init__": "(self, **kwargs)",
    "load": "(self)",
    "preprocess": "(self, model_input, files=None)",
    "predict": "(self, model_input)",
    "postprocess": "(self, model_output, model_input=None, files=None)",
}


def scaffolded(tmp_path: Path, flavour: str, name: str = "golden-model") -> Path:
    return init(name, tmp_path / name, template=flavour)


def test_golden_flavours_are_every_flavour_shipped() -> None:
    from bundle_cli.scaffold.templates import flavours, templates_root

    assert flavours(templates_root()) == sorted(GOLDEN) == FLAVOURS


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_tree_is_exactly_the_golden_list(tmp_path: Path, flavour: str) -> None:
    found = entries(scaffolded(tmp_path, flavour))
    missing, extra = sorted(GOLDEN[flavour] - found), sorted(found - GOLDEN[flavour])
    assert (missing, extra) == ([], []), f"missing: {missing}; extra: {extra}"


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_config_points_at_the_offline_schema_and_names_the_bundle(
    tmp_path: Path, flavour: str
) -> None:
    bundle = scaffolded(tmp_path, flavour)
    text = (bundle / "config.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=.bundle/config.schema.json"
    schema = json.loads((bundle / ".bundle/config.schema.json").read_text(encoding="utf-8"))
    assert schema == json_schema()
    config = yaml.safe_load(text)
    assert config["model_name"] == "golden-model"
    assert config["requirements"] == REQUIREMENTS[flavour]
    assert config["model_metadata"] == {"template": flavour}
    assert config["python_version"] == f"py3{sys.version_info.minor}"
    assert config["secrets"] == {}


@pytest.mark.parametrize("name", ["123", "true", "null", "1.0", "no"])
def test_names_yaml_would_misread_stay_strings(tmp_path: Path, name: str) -> None:
    config = yaml.safe_load((scaffolded(tmp_path, "numpy", name) / "config.yaml").read_text())
    assert config["model_name"] == name


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_model_class_shows_every_hook_with_its_optional_parameters(
    tmp_path: Path, flavour: str
) -> None:
    source = (scaffolded(tmp_path, flavour) / "model/model.py").read_text(encoding="utf-8")
    (cls,) = [n for n in ast.parse(source).body if isinstance(n, ast.ClassDef)]
    assert cls.name == "Model"
    methods = {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}
    signatures = {name: _signature(node) for name, node in methods.items()}
    assert signatures == HOOKS
    init_doc = ast.get_docstring(methods["__init__"]) or ""
    for kwarg in ("config", "data_dir", "secrets", "environment"):
        assert f"  {kwarg} " in init_doc, f"__init__ does not document {kwarg}"
    assert "files" in (ast.get_docstring(methods["preprocess"]) or "")
    assert "original request" in (ast.get_docstring(methods["postprocess"]) or "")


def _signature(node: ast.FunctionDef) -> str:
    args = node.args
    names = [a.arg for a in args.args]
    defaults = [ast.unparse(d) for d in args.defaults]
    shown = names[: len(names) - len(defaults)]
    shown += [f"{n}={d}" for n, d in zip(names[len(shown) :], defaults, strict=True)]
    if args.kwarg:
        shown.append(f"**{args.kwarg.arg}")
    return f"({', '.join(shown)})"


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_examples_are_truss_style_entries_and_input_json_is_one_of_them(
    tmp_path: Path, flavour: str
) -> None:
    bundle = scaffolded(tmp_path, flavour)
    examples = yaml.safe_load((bundle / "examples.yaml").read_text(encoding="utf-8"))
    assert isinstance(examples, list) and len(examples) >= 2
    assert all(set(e) == {"name", "input", "expected"} for e in examples)
    assert len({e["name"] for e in examples}) == len(examples)
    sample = json.loads((bundle / "input.json").read_text(encoding="utf-8"))
    assert sample == examples[0]["input"]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_no_template_syntax_survives_and_the_name_is_used(tmp_path: Path, flavour: str) -> None:
    bundle = scaffolded(tmp_path, flavour)
    for path in bundle.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert not any(tag in text for tag in ("{{", "{%", "{#")), path
    assert (bundle / "README.md").read_text().startswith("# golden-model\n\n")
    assert "golden-model" in (bundle / "model/model.py").read_text()
    assert "golden-model" in (bundle / "model/__init__.py").read_text()


def test_bundleignore_explains_it_adds_to_the_defaults(tmp_path: Path) -> None:
    lines = (scaffolded(tmp_path, "numpy") / ".bundleignore").read_text().splitlines()
    comments = " ".join(line for line in lines if line.startswith("#"))
    assert "ADD" in comments and ".git" in comments
    assert [line for line in lines if line and not line.startswith("#")] == [".bundle/"]
