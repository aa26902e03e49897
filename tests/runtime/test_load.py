"""Loading: validation first, per-bundle imports, __init__ keyword arguments, load() once."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import bundle_cli
from bundle_cli.errors import InvalidBundleError, UsageError, UserCodeError
from tests.runtime.conftest import bundle_modules

Copy = Callable[[str], Path]


def test_echo_through_the_public_api(bundle_copy: Copy) -> None:
    path = bundle_copy("echo")
    bundle = bundle_cli.load(path)
    assert bundle.predict({"text": "hi"}) == {"input": {"text": "hi"}, "loads": 1}
    assert bundle.predict([1, 2]) == {"input": [1, 2], "loads": 1}  # load() ran once only


def test_caller_sys_path_and_modules_are_restored(bundle_copy: Copy) -> None:
    path = bundle_copy("twin_a")
    before_path = list(sys.path)
    bundle = bundle_cli.load(path)
    bundle.predict({})
    assert sys.path == before_path
    assert bundle_modules(path) == []
    assert "helpers" not in sys.modules and "model" not in sys.modules
    assert {"model", "model.model", "model.labels", "helpers", "helpers.lazy"} <= set(
        bundle._pipeline.scope.modules
    )


def test_two_bundles_with_the_same_module_names_side_by_side(bundle_copy: Copy) -> None:
    a, b = bundle_cli.load(bundle_copy("twin_a")), bundle_cli.load(bundle_copy("twin_b"))
    for _ in range(2):  # alternate, so each call must switch the import world
        out_a, out_b = a.predict({}), b.predict({})
        assert (out_a["label"], out_a["helper"], out_a["suffix"]) == (
            "label-a",
            "helpers-a",
            "lazy-a",
        )
        assert (out_b["label"], out_b["helper"], out_b["suffix"]) == (
            "label-b",
            "helpers-b",
            "lazy-b",
        )
    assert "twin_a" in out_a["file"] and "twin_b" in out_b["file"]


def test_a_callers_module_of_the_same_name_is_hidden_then_restored(
    bundle_copy: Copy, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = type(sys)("helpers")
    mine.NAME = "caller's"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "helpers", mine)
    bundle = bundle_cli.load(bundle_copy("twin_a"))
    assert bundle.predict({})["helper"] == "helpers-a"
    assert sys.modules["helpers"] is mine


def test_a_callers_package_of_the_same_name_is_hidden_with_its_submodules(
    bundle_copy: Copy, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, sub = type(sys)("helpers"), type(sys)("helpers.lazy")
    mine.__path__ = []  # type: ignore[attr-defined]  # a package
    sub.SUFFIX = "caller's"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "helpers", mine)
    monkeypatch.setitem(sys.modules, "helpers.lazy", sub)
    out = bundle_cli.load(bundle_copy("twin_a")).predict({})
    assert (out["helper"], out["suffix"]) == ("helpers-a", "lazy-a")  # not the caller's
    assert sys.modules["helpers"] is mine and sys.modules["helpers.lazy"] is sub


def test_bundled_and_external_packages_and_environment(bundle_copy: Copy) -> None:
    path = bundle_copy("packages")
    assert "GREETING_STYLE" not in os.environ
    out = bundle_cli.load(path).predict({"text": "hi"})
    assert out == {
        "shout": "HI!",
        "twice": "hihi",
        "external": 11,
        "env": "loud",
        "environment": {},  # deployment details, as in Truss: none for a local run
    }
    assert "GREETING_STYLE" not in os.environ  # set only while the bundle's code runs
    assert bundle_modules(path.parent) == []


def test_process_environment_overrides_config_environment(
    bundle_copy: Copy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GREETING_STYLE", "quiet")
    out = bundle_cli.load(bundle_copy("packages")).predict({"text": "x"})
    assert out["env"] == "quiet"


KWARGS_MODEL = """
class Model:
    def __init__(self{params}):
        self.got = {{k: type(v).__name__ for k, v in dict({call}).items()}}

    def predict(self, model_input):
        return self.got
"""


def test_a_folder_the_bundles_code_adds_to_sys_path_is_its_own_on_every_call(
    tree: Callable[..., Path],
) -> None:
    path = tree(
        {
            "config.yaml": "model_name: adds-path\n",
            "data/extra/plugin_mod.py": "NAME = 'from the added folder'\n",
            "model/model.py": (
                "import sys\n"
                "class Model:\n"
                "    def __init__(self, data_dir):\n"
                "        self.extra = str(data_dir / 'extra')\n"
                "    def load(self):\n"
                "        sys.path.append(self.extra)\n"
                "    def predict(self, x):\n"
                "        if x == 'insert':\n"
                "            sys.path.insert(0, self.extra + '-front')\n"
                "        import plugin_mod\n"
                "        return [plugin_mod.NAME, sys.path.count(self.extra)]\n"
            ),
        }
    )
    before = list(sys.path)
    bundle = bundle_cli.load(path)
    assert sys.path == before
    for x in ("a", "insert", "b"):
        assert bundle.predict(x) == ["from the added folder", 1]  # kept once, not stacked
        assert sys.path == before  # never the caller's
    assert "plugin_mod" not in sys.modules


@pytest.mark.parametrize(
    ("params", "call", "expected"),
    [
        ("", "", {}),
        (", config", "config=config", {"config": "dict"}),
        (", data_dir", "data_dir=data_dir", {"data_dir": "PosixPath"}),
        (", secrets", "secrets=secrets", {"secrets": "Secrets"}),
        (", environment", "environment=environment", {"environment": "dict"}),
        (
            ", config, secrets",
            "config=config, secrets=secrets",
            {"config": "dict", "secrets": "Secrets"},
        ),
        (
            ", **kwargs",
            "kwargs",
            {
                "config": "dict",
                "data_dir": "PosixPath",
                "secrets": "Secrets",
                "environment": "dict",
                "lazy_data_resolver": "LocalDataResolver",
                "store": "Store",
            },
        ),
        (", store", "store=store", {"store": "Store"}),
        (
            ", lazy_data_resolver",
            "lazy_data_resolver=lazy_data_resolver",
            {"lazy_data_resolver": "LocalDataResolver"},
        ),
        (", config, other=1", "config=config", {"config": "dict"}),
    ],
)
def test_init_receives_only_the_keywords_it_names(
    tree: Callable[..., Path], params: str, call: str, expected: dict[str, str]
) -> None:
    path = tree(
        {
            "config.yaml": "model_name: kw\n",
            "model/model.py": KWARGS_MODEL.format(params=params, call=call),
        }
    )
    assert bundle_cli.load(path).predict(None) == expected


def test_config_and_data_dir_values(tree: Callable[..., Path]) -> None:
    path = tree(
        {
            "config.yaml": "model_name: values\nmodel_metadata:\n  labels: [cat, dog]\n",
            "data/w.txt": "weights",
            "model/model.py": (
                "class Model:\n"
                "    def __init__(self, config, data_dir):\n"
                "        self.labels = config['model_metadata']['labels']\n"
                "        self.w = (data_dir / 'w.txt').read_text()\n"
                "    def predict(self, x):\n"
                "        return [self.labels, self.w]\n"
            ),
        }
    )
    assert bundle_cli.load(path).predict(0) == [["cat", "dog"], "weights"]


def test_init_requiring_an_unknown_argument_is_refused(tree: Callable[..., Path]) -> None:
    path = tree(
        {
            "config.yaml": "model_name: bad\n",
            "model/model.py": "class Model:\n    def __init__(self, model_path):\n        pass\n"
            "    def predict(self, x):\n        return x\n",
        }
    )
    with pytest.raises(InvalidBundleError) as info:
        bundle_cli.load(path)
    (diag,) = info.value.diagnostics
    assert diag.code == "init-unknown-param" and "model_path" in diag.message
    assert diag.file == str(path / "model/model.py") and diag.line == 2


INHERITED = {
    "config.yaml": "model_name: inherited\n",
    "model/model.py": "from base import Base\n\n\nclass Model(Base):\n    pass\n",
}


@pytest.mark.parametrize(
    ("base", "code", "fragment"),
    [
        (
            "    def __init__(self, weights):\n        pass\n    def predict(self, x):\n"
            "        return x\n",
            "init-unknown-param",
            "'weights'",
        ),
        ("    pass\n", "model-predict-missing", "has no predict"),
        ("    def predict(self):\n        return 1\n", "hook-missing-param", "predict takes (no"),
        ("    def predict(self, x, y):\n        return x\n", "hook-too-many-params", "(x, y)"),
        (
            "    def predict(self, x, *, mode):\n        return x\n",
            "hook-required-keyword",
            "keyword-only mode",
        ),
        (
            "    def predict(self, x):\n        yield x\n    def postprocess(self, y):\n"
            "        return y\n",
            "hook-generator-postprocess",
            "predict is a generator",
        ),
        (
            "    predict_batch_size = 0\n    def predict(self, x):\n        return x\n",
            "batch-size",
            "whole number",
        ),
    ],
)
def test_definitions_only_the_imported_class_shows_are_refused(
    tree: Callable[..., Path], base: str, code: str, fragment: str
) -> None:
    """`bundle validate` cannot see hooks inherited from another module; loading still checks."""
    marker = tree({}, name="marker") / "loaded"
    source = f"class Base:\n    def load(self):\n        open({str(marker)!r}, 'w').close()\n{base}"
    path = tree({**INHERITED, "packages/base.py": source})
    with pytest.raises(InvalidBundleError) as info:
        bundle_cli.load(path)
    (diag,) = info.value.diagnostics
    assert diag.code == code and fragment in diag.message
    if code not in ("batch-size", "model-predict-missing"):
        assert diag.file == str(path / "packages/base.py") and diag.line is not None
    assert not marker.exists()


def test_invalid_config_is_refused_before_any_model_code_runs(tree: Callable[..., Path]) -> None:
    marker = tree({}, name="marker") / "imported"
    path = tree(
        {
            "config.yaml": "model_name: bad\nrequirments: [numpy]\n",
            "model/model.py": f"open({str(marker)!r}, 'w').close()\nclass Model:\n"
            "    def predict(self, x):\n        return x\n",
        }
    )
    with pytest.raises(InvalidBundleError) as info:
        bundle_cli.load(path)
    assert info.value.exit_code == 2
    assert any(d.code == "unknown-key" for d in info.value.diagnostics)
    assert not marker.exists()


def test_load_failure_shows_the_users_frames_only(bundle_copy: Copy) -> None:
    path = bundle_copy("load_failure")
    with pytest.raises(UserCodeError) as info:
        bundle_cli.load(path)
    trace = info.value.user_traceback
    assert info.value.exit_code == 1
    assert "the model's load raised FileNotFoundError" in info.value.message
    assert 'model/model.py", line 9, in load' in trace
    assert 'model/model.py", line 16, in read_weights' in trace
    assert "bundle_cli" not in trace and "pathlib.py" not in trace
    assert trace.rstrip().splitlines()[-1].startswith("FileNotFoundError:")


def test_model_class_missing_or_syntax_error_is_refused_by_validation(
    tree: Callable[..., Path],
) -> None:
    misnamed = tree(
        {
            "config.yaml": "model_name: m\nmodel_class_name: Predictor\n",
            "model/model.py": "class Model:\n    def predict(self, x):\n        return x\n",
        },
        name="misnamed",
    )
    broken = tree({"config.yaml": "model_name: m\n", "model/model.py": "class Model(:\n"}, "broken")
    for path, code in ((misnamed, "model-class-missing"), (broken, "model-syntax-error")):
        with pytest.raises(InvalidBundleError) as info:
            bundle_cli.load(path)
        assert [d.code for d in info.value.diagnostics] == [code]
        assert info.value.exit_code == 2


def test_an_error_while_importing_the_model_is_user_code(tree: Callable[..., Path]) -> None:
    path = tree(
        {
            "config.yaml": "model_name: m\n",
            "model/model.py": "import settings\n\n\nclass Model:\n"
            "    def predict(self, x):\n        return x\n",
            "packages/settings.py": "LIMIT = int('ten')\n",
        }
    )
    with pytest.raises(UserCodeError) as info:
        bundle_cli.load(path)
    trace = info.value.user_traceback
    assert 'model/model.py", line 1, in <module>' in trace
    assert 'packages/settings.py", line 1, in <module>' in trace
    assert "importlib" not in trace and "bundle_cli" not in trace
    assert (
        info.value.message == f"error: the model's module {path}/model/model.py raised ValueError"
    )


def test_a_file_that_is_not_a_bundle_archive_is_refused(tmp_path: Path) -> None:
    from bundle_cli.errors import UnsafeArchiveError

    archive = tmp_path / "m.tar.gz"
    archive.write_bytes(b"not really")
    with pytest.raises(UnsafeArchiveError):
        bundle_cli.load(archive)
    with pytest.raises(UsageError, match="no such bundle directory"):
        bundle_cli.load(tmp_path / "missing")
