"""The model file, checked with ast only: one tiny model.py per failure mode, plus valid ones."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bundle_cli.config.schema import BundleConfig
from bundle_cli.diagnostics import Diagnostic
from bundle_cli.validation.model_code import check_model_code

Tree = Callable[..., Path]


def run(tree: Tree, source: str | bytes, **config: Any) -> tuple[Path, list[Diagnostic]]:
    bundle = tree({"model/model.py": source})
    return bundle, check_model_code(bundle, BundleConfig(**config))


CASES = [
    # (case, model.py, code, line, column, words the message must contain)
    (
        "syntax-error",
        "class Model:\n    def predict(self, x:\n        return x\n",
        "model-syntax-error",
        2,
        16,
        ["cannot parse", "never closed"],
    ),
    (
        "indentation-error",
        "class Model:\n    def predict(self, x):\n    return x\n",
        "model-syntax-error",
        3,
        5,
        ["expected an indented block"],
    ),
    (
        "class-typo",
        "import os\n\n\nclass MyModel:\n    def predict(self, x):\n        return x\n",
        "model-class-missing",
        4,
        1,
        ['no class "Model"', "model_class_name", 'did you mean "MyModel"'],
    ),
    (
        "no-class-at-all",
        "def predict(x):\n    return x\n",
        "model-class-missing",
        1,
        1,
        ["defines no class", "class Model:"],
    ),
    (
        "no-predict",
        "class Model:\n    def load(self):\n        pass\n",
        "model-predict-missing",
        1,
        1,
        ["class Model has no predict", "def predict(self, model_input):"],
    ),
    (
        "preprocess-three-required",
        "class Model:\n    def preprocess(self, a, files, extra):\n        return a\n\n"
        "    def predict(self, x):\n        return x\n",
        "hook-too-many-params",
        2,
        36,
        ["preprocess requires 3 parameters", "(model_input[, files])", "remove extra"],
    ),
    (
        "predict-two-required",
        "class Model:\n    def predict(self, x, y):\n        return x\n",
        "hook-too-many-params",
        2,
        26,
        ["predict requires 2 parameters", "exactly one argument", "remove y"],
    ),
    (
        "postprocess-four-required",
        "class Model:\n    def predict(self, x):\n        return x\n\n"
        "    def postprocess(self, out, inp, files, k, j):\n        return out\n",
        "hook-too-many-params",
        5,
        44,
        ["postprocess requires 5 parameters", "remove k, j", "them default values"],
    ),
    (
        "load-with-param",
        "class Model:\n    def load(self, path):\n        pass\n\n"
        "    def predict(self, x):\n        return x\n",
        "hook-too-many-params",
        2,
        20,
        ["load requires 1 parameter besides self", "no arguments", "remove path"],
    ),
    (
        "predict-no-input",
        "class Model:\n    def predict(self):\n        return 1\n",
        "hook-missing-param",
        2,
        5,
        ["predict takes no parameter besides self", "def predict(self, model_input):"],
    ),
    (
        "predict-no-self",
        "class Model:\n    def predict():\n        return 1\n",
        "hook-no-self",
        2,
        5,
        ["predict has no self parameter"],
    ),
    (
        "required-keyword-only",
        "class Model:\n    def predict(self, x, *, scale):\n        return x\n",
        "hook-required-keyword",
        2,
        29,
        ["keyword-only parameter scale has no default", "positional arguments only"],
    ),
    (
        "staticmethod-hook",
        "class Model:\n    @staticmethod\n    def predict(x):\n        return x\n",
        "hook-static",
        3,
        5,
        ["predict is a staticmethod", "remove @staticmethod", "self"],
    ),
    (
        "classmethod-hook",
        "import functools\n\nclass Model:\n    def predict(self, x):\n        return x\n\n"
        "    @classmethod\n    def preprocess(cls, x):\n        return x\n",
        "hook-static",
        8,
        5,
        ["preprocess is a classmethod", "remove @classmethod"],
    ),
    (
        "sync-generator-with-postprocess",
        "class Model:\n    def predict(self, x):\n        for c in x:\n            yield c\n\n"
        "    def postprocess(self, out):\n        return out\n",
        "hook-generator-postprocess",
        6,
        5,
        ["predict is a generator (yield on line 4)", "remove postprocess"],
    ),
    (
        "async-generator-with-postprocess",
        "class Model:\n    async def predict(self, x):\n        yield x\n\n"
        "    async def postprocess(self, out, inp):\n        return out\n",
        "hook-generator-postprocess",
        5,
        5,
        ["yield on line 3"],
    ),
    (
        "init-unknown-required",
        "class Model:\n    def __init__(self, config, data_directory):\n        pass\n\n"
        "    def predict(self, x):\n        return x\n",
        "init-unknown-param",
        2,
        32,
        ["__init__ requires data_directory", "cannot be supplied", 'did you mean "data_dir"'],
    ),
    (
        "init-required-keyword-only",
        "class Model:\n    def __init__(self, *, secrets, model_path):\n        pass\n\n"
        "    def predict(self, x):\n        return x\n",
        "init-unknown-param",
        2,
        36,
        ["__init__ requires model_path", "config, data_dir, secrets, environment"],
    ),
    (
        "init-positional-only",
        "class Model:\n    def __init__(self, config, /):\n        pass\n\n"
        "    def predict(self, x):\n        return x\n",
        "init-positional-only",
        2,
        24,
        ["config is positional-only", "keyword arguments"],
    ),
]


@pytest.mark.parametrize(
    ("source", "code", "line", "column", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_failure_mode(
    tree: Tree, source: str, code: str, line: int, column: int, words: list[str]
) -> None:
    bundle, found = run(tree, source)
    assert [d.code for d in found] == [code], [d.format() for d in found]
    diag = found[0]
    assert diag.severity == "error"
    assert diag.file == str(bundle / "model" / "model.py")
    assert (diag.line, diag.column) == (line, column)
    for word in words:
        assert word in diag.message
    assert diag.key_path is None


@pytest.mark.parametrize(
    ("name", "hook", "line"),
    [("postporcess", "postprocess", 5), ("pre_process", "preprocess", 5), ("Laod", "load", 5)],
)
def test_misspelt_hook_is_a_warning(tree: Tree, name: str, hook: str, line: int) -> None:
    source = (
        "class Model:\n    def predict(self, x):\n        return x\n\n"
        f"    def {name}(self, x):\n        return x\n"
    )
    bundle, found = run(tree, source)
    assert [(d.code, d.severity) for d in found] == [("hook-misspelt", "warning")]
    diag = found[0]
    assert (diag.file, diag.line, diag.column) == (str(bundle / "model/model.py"), line, 5)
    assert f"method {name} looks like a misspelling of the hook {hook}" in diag.message
    assert f"rename it to {hook}" in diag.message


def test_capitalised_predict_is_both_missing_and_misspelt(tree: Tree) -> None:
    _, found = run(tree, "class Model:\n    def Predict(self, x):\n        return x\n")
    assert [(d.code, d.line, d.column) for d in found] == [
        ("model-predict-missing", 1, 1),
        ("hook-misspelt", 2, 5),
    ]
    assert "misspelling of the hook predict" in found[1].message


def test_missing_model_file_names_path_and_keys(tree: Tree) -> None:
    bundle = tree({"config.yaml": "model_name: m\n"})
    found = check_model_code(
        bundle, BundleConfig(model_module_dir="src", model_class_filename="m.py")
    )
    assert [d.code for d in found] == ["model-file-missing"]
    diag = found[0]
    assert diag.file == str(bundle / "src" / "m.py")
    assert (diag.line, diag.column) == (None, None)
    assert "src/m.py does not exist" in diag.message
    assert "model_module_dir and model_class_filename" in diag.message


def test_model_path_that_is_a_folder(tree: Tree) -> None:
    bundle = tree({"model/model.py/": ""})
    found = check_model_code(bundle, BundleConfig())
    assert [d.code for d in found] == ["model-file-missing"]
    assert "is a folder, not a file" in found[0].message


def test_file_that_is_not_utf8_is_a_syntax_error(tree: Tree) -> None:
    _, found = run(tree, b"class Model:\n    name = '\xff'\n")
    assert [(d.code, d.line) for d in found] == [("model-syntax-error", 2)]
    assert "utf-8" in found[0].message


@pytest.mark.parametrize(
    "expression", ["-" * 5000 + "1", "not " * 30000 + "1"], ids=["5000 minus signs", "30000 nots"]
)
def test_an_expression_too_deep_for_the_parser_is_a_syntax_error(
    tree: Tree, expression: str
) -> None:
    _, found = run(tree, f"class Model:\n    def predict(self, x):\n        return {expression}\n")
    assert [d.code for d in found] == ["model-syntax-error"]
    assert "nested too deeply for Python's parser" in found[0].message


def test_a_chain_of_a_thousand_classes_is_followed_to_its_hooks(tree: Tree) -> None:
    chain = "".join(f"class C{i}(C{i - 1}):\n    pass\n" for i in range(1, 1500))
    source = f"class C0:\n    def predict(self, x):\n        return x\n{chain}class Model(C1499):\n    pass\n"
    assert run(tree, source)[1] == []
    _, found = run(tree, source.replace("def predict", "def predictt"))
    assert "model-predict-missing" in [d.code for d in found]


def test_null_bytes_are_reported_not_raised(tree: Tree) -> None:
    _, found = run(tree, b"class Model:\x00\n")
    assert [d.code for d in found] == ["model-syntax-error"]
    assert "null bytes" in found[0].message


def test_custom_class_name_and_location(tree: Tree) -> None:
    bundle = tree({"src/serve.py": "class Net:\n    def predict(self):\n        return 1\n"})
    config = BundleConfig(
        model_module_dir="src", model_class_filename="serve.py", model_class_name="Net"
    )
    found = check_model_code(bundle, config)
    assert [(d.code, d.file, d.line) for d in found] == [
        ("hook-missing-param", str(bundle / "src" / "serve.py"), 2)
    ]


VALID_MODEL = '''\
"""A model using every part of the contract."""

import asyncio
from abc import ABC


class Base(ABC):
    def load(self):
        self.ready = True


class Model(Base):
    def __init__(self, config, data_dir, secrets, environment, *args, verbose=False):
        self.config = config

    async def preprocess(self, model_input, files):
        return [model_input, len(files)]

    def predict(self, model_input, batch_size=8, *, timeout=None):
        def chunks():
            yield model_input  # a nested generator does not make predict one
        return list(chunks())

    def postprocess(self, model_output, model_input=None, files=None, k=5):
        return {"output": model_output, "k": k}

    def predict_fn(self, x):  # helpers that extend a hook name are not typos
        return x

    def _predict(self, x):
        return x

    def load_model(self):
        return None

    def process(self, x):
        return x

    def reload(self):
        return asyncio.sleep(0)
'''


def test_complete_valid_model_has_no_diagnostics(tree: Tree) -> None:
    _, found = run(tree, VALID_MODEL)
    assert found == []


TRUSS_MODEL = """\
from typing import Any


class Model:
    def __init__(self, **kwargs):
        self._data_dir = kwargs["data_dir"]
        self._model = None

    def load(self):
        self._model = lambda x: x

    def predict(self, model_input: Any) -> Any:
        return self._model(model_input)
"""


def test_truss_style_model_is_valid(tree: Tree) -> None:
    _, found = run(tree, TRUSS_MODEL)
    assert found == []


def test_streaming_predict_without_postprocess_is_valid(tree: Tree) -> None:
    source = (
        "class Model:\n    async def predict(self, x):\n        for c in x:\n            yield c\n"
    )
    assert run(tree, source)[1] == []


def test_varargs_hooks_are_valid(tree: Tree) -> None:
    source = (
        "class Model:\n    def predict(*args):\n        return args\n\n"
        "    def postprocess(self, *args, **kwargs):\n        return args\n"
    )
    assert run(tree, source)[1] == []


def test_hooks_inherited_from_a_base_in_the_file_are_checked(tree: Tree) -> None:
    source = (
        "class Base:\n    def predict(self, a, b):\n        return a\n\n\n"
        "class Model(Base):\n    pass\n"
    )
    _, found = run(tree, source)
    assert [(d.code, d.line, d.column) for d in found] == [("hook-too-many-params", 2, 26)]


def test_base_from_elsewhere_may_define_predict(tree: Tree) -> None:
    source = "from lib import Served\n\n\nclass Model(Served):\n    def load(self):\n        pass\n"
    assert run(tree, source)[1] == []


@pytest.mark.parametrize(
    "source",
    [
        "from .impl import Net as Model\n",
        "import impl\nModel = impl.build()\n",
        "try:\n    from fast import Model\nexcept ImportError:\n    from slow import Model\n",
        "from impl import *\n",
    ],
)
def test_class_bound_elsewhere_is_not_checked(tree: Tree, source: str) -> None:
    assert run(tree, source)[1] == []


def test_class_defined_in_a_conditional_block_is_found(tree: Tree) -> None:
    source = "import sys\n\nif sys.version_info >= (3, 11):\n    class Model:\n        def predict(self):\n            return 1\n"
    _, found = run(tree, source)
    assert [(d.code, d.line, d.column) for d in found] == [("hook-missing-param", 5, 9)]


def test_flow_bundles_skip_the_model_class(tree: Tree) -> None:
    bundle = tree({"config.yaml": "model_name: m\n"})
    stage = {"name": "s", "model": "m.pt", "type": "torch"}
    assert check_model_code(bundle, BundleConfig(flow=[stage])) == []


def test_model_path_outside_bundle_is_not_read(tree: Tree) -> None:
    bundle = tree({"config.yaml": "model_name: m\n"})
    outside = bundle.parent / "elsewhere.py"
    outside.write_text("class Model:\n    def predict(self):\n        pass\n")
    config = BundleConfig(model_module_dir="..", model_class_filename="elsewhere.py")
    assert check_model_code(bundle, config) == []  # check_files reports the escape


def test_model_is_never_imported(tree: Tree) -> None:
    source = "raise SystemExit('imported!')\n\n\nclass Model:\n    def predict(self, x):\n        return x\n"
    before = set(sys.modules)
    _, found = run(tree, source)
    assert found == []
    assert not {m for m in set(sys.modules) - before if m == "model" or m.startswith("model.")}


def test_unreadable_model_file_is_reported(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = tree({"model/model.py": "class Model:\n    pass\n"})

    def refuse(self: Path) -> bytes:  # the tests run as root, so chmod cannot make this happen
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    found = check_model_code(bundle, BundleConfig())
    assert [(d.code, d.file) for d in found] == [
        ("model-file-unreadable", str(bundle / "model" / "model.py"))
    ]
    assert "Permission denied" in found[0].message
