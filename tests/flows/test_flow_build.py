"""build_flow: a complete bundle from model files and functions, refused when a function would
not work where the bundle runs, written atomically."""

from __future__ import annotations

import hashlib
import inspect
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from flow_tiny_models import dataset, sklearn_classifier
from numpy import argmax

from bundle_cli import ModelType, build_flow
from bundle_cli.errors import UsageError
from bundle_cli.validation import validate

X, Y = dataset()
LOCK = threading.Lock()
THRESHOLD = 0.5  # a plain constant travels with the function


def label(result: Any, original: Any) -> dict[str, int]:
    import numpy as np  # imports inside: what the bundle needs is visible here

    return {f"row{i}": int(v) for i, v in enumerate(np.asarray(result)[:, 1] > THRESHOLD)}


def uses_global_numpy(result: Any) -> Any:
    return np.argmax(result, axis=1).tolist()


def uses_imported_function(result: Any) -> Any:
    return argmax(result, axis=1).tolist()


def uses_a_lock(result: Any) -> Any:
    with LOCK:
        return result


def pickled_model(tmp_path: Path) -> Path:
    path = tmp_path / "clf.pkl"
    path.write_bytes(pickle.dumps(sklearn_classifier(X, Y)))
    return path


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_build_writes_a_complete_bundle_that_validates_and_runs(
    tmp_path: Path, load: Callable[..., Any]
) -> None:
    model = pickled_model(tmp_path)
    stages = [
        (ModelType.SKLEARN, model, {"options": {"method": "predict_proba"}, "post": label}),
        ("sklearn", str(model), {"name": "again", "pre": lambda rows: rows}),
    ]
    # the second stage only shows naming and lambdas; the flow is run with the first alone
    dest = build_flow(stages[:1], "Iris flow", tmp_path / "out")
    assert dest == tmp_path / "out"
    assert files_under(dest) == {
        "config.yaml",
        "models/sklearn/clf.pkl",
        "functions/sklearn_post.pkl",
        "functions/sklearn_post.py",
    }
    config = yaml.safe_load((dest / "config.yaml").read_text())
    assert config["model_name"] == "Iris flow"
    assert config["python_version"] == f"py3{sys.version_info.minor}"
    assert config["flow"] == [
        {
            "name": "sklearn",
            "model": "models/sklearn/clf.pkl",
            "type": "sklearn",
            "options": {"method": "predict_proba"},
            "post": "functions/sklearn_post.pkl",
        }
    ]
    assert any(r.startswith("scikit-learn==") for r in config["requirements"])
    assert (dest / "functions/sklearn_post.py").read_text() == (
        "# post function label of stage 'sklearn': the source of what the .pkl beside this file holds.\n"
        "# Module-level names pickled with it, as they were: THRESHOLD.\n"
        + inspect.getsource(label)
    )
    report = validate(dest)
    assert report.ok(strict=True), [d.format() for d in report.diagnostics]
    # the pickled function (trusted by its sha256) and the classifier's pickle (allow-listed)
    codes = sorted(d.code for d in report.diagnostics)
    assert codes == ["pickle-inventory", "pickle-inventory", "pickled-function"], codes
    assert config["trusted_pickles"] == {
        "functions/sklearn_post.pkl": hashlib.sha256(
            (dest / "functions/sklearn_post.pkl").read_bytes()
        ).hexdigest()
    }
    rows = X[:3].tolist()
    expected = {
        f"row{i}": int(p > THRESHOLD)
        for i, p in enumerate(sklearn_classifier(X, Y).predict_proba(np.asarray(rows))[:, 1])
    }
    assert load(dest).predict(rows) == expected
    both = build_flow(stages, "two", tmp_path / "two")
    assert [s["name"] for s in yaml.safe_load((both / "config.yaml").read_text())["flow"]] == [
        "sklearn",
        "again",
    ]


def test_stages_of_one_type_get_numbered_names(tmp_path: Path) -> None:
    model = pickled_model(tmp_path)
    dest = build_flow([(ModelType.SKLEARN, model)] * 3, "n", tmp_path / "out")
    names = [s["name"] for s in yaml.safe_load((dest / "config.yaml").read_text())["flow"]]
    assert names == ["sklearn", "sklearn-2", "sklearn-3"]


HELPERS = """
SCALE = 10


def _scale(values):
    return [v * SCALE for v in values]


def pre(data, files):
    return _scale(data) + [f.read().decode() for f in files]
"""

RUN_IN_FRESH_PROCESS = """
import importlib.util, io, json, sys
from pathlib import Path
import bundle_cli

assert importlib.util.find_spec("helpers_for_build") is None, "must not be importable here"
f = io.BytesIO(b"file-text")
f.name = "a.txt"
with bundle_cli.load(Path(sys.argv[1])) as bundle:
    print(json.dumps(bundle.predict([1, 2], [f])))
"""


def test_functions_from_the_users_own_module_travel_by_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "helpers_for_build.py").write_text(HELPERS)
    (tmp_path / "model.py").write_text(
        "class Model:\n    def predict(self, x):\n        return x\n"
    )
    monkeypatch.syspath_prepend(str(src))
    import helpers_for_build  # type: ignore[import-not-found]

    try:
        dest = build_flow(
            [(ModelType.PYTHON, tmp_path / "model.py", {"pre": helpers_for_build.pre})],
            "f",
            tmp_path / "out",
        )
    finally:
        del sys.modules["helpers_for_build"]
    done = subprocess.run(
        [sys.executable, "-c", RUN_IN_FRESH_PROCESS, str(dest)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '[10, 20, "file-text"]'


@pytest.mark.parametrize(
    ("fn", "problem"),
    [
        (
            uses_global_numpy,
            "uses 'np', module numpy imported at module level; import it inside the function",
        ),
        (uses_imported_function, "uses 'argmax', argmax from numpy imported at module level"),
        (uses_a_lock, "uses 'LOCK' (a lock) that cannot be pickled"),
    ],
)
def test_a_function_that_would_break_in_the_bundle_is_refused_by_name(
    tmp_path: Path, fn: Callable[..., Any], problem: str
) -> None:
    model = pickled_model(tmp_path)
    with pytest.raises(UsageError) as caught:
        build_flow(
            [
                (ModelType.SKLEARN, model, {"post": label}),
                (ModelType.SKLEARN, model, {"name": "last", "post": fn}),
            ],
            "f",
            tmp_path / "out",
        )
    message = caught.value.message
    assert f"post function {fn.__qualname__} of stage 'last' {problem}" in message
    assert "label" not in message  # the well-behaved function is not blamed
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clf.pkl"]  # no temp folder left


@pytest.mark.parametrize(
    ("stages", "message"),
    [
        ([], "stages must be a non-empty list"),
        (
            [("tensorflow", "clf.pkl")],
            "stage 1: unknown model type 'tensorflow'; known: torch, sklearn",
        ),
        ([(ModelType.TORCH, "nope.pt")], "stage 1: model file nope.pt does not exist"),
        ([(ModelType.TORCH, ".")], "stage 1: model file . is not a file"),
        ([(ModelType.SKLEARN, "clf.pkl", {"prep": label})], "stage 1: unknown keys ['prep']"),
        (
            [(ModelType.SKLEARN, "clf.pkl", {"pre": "fns:pre"})],
            "stage 1: pre must be a function; got str",
        ),
        (
            [(ModelType.SKLEARN, "clf.pkl", {"options": {"metod": "x"}})],
            'stage 1: options.metod: unknown option "metod"',
        ),
        (
            [(ModelType.SKLEARN, "clf.pkl", {"pre": lambda a, b, c: a})],
            "pre function <lambda> of stage 'sklearn' takes 3 positional",
        ),
        (
            [
                (ModelType.SKLEARN, "clf.pkl", {"name": "a"}),
                (ModelType.SKLEARN, "clf.pkl", {"name": "a"}),
            ],
            "stage 2: the name 'a' is used twice",
        ),
    ],
)
def test_bad_stage_declarations_are_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stages: list[Any], message: str
) -> None:
    pickled_model(tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError) as caught:
        build_flow(stages, "f", "out")
    assert message in caught.value.message
    assert not (tmp_path / "out").exists()


def test_an_existing_destination_is_never_overwritten(tmp_path: Path) -> None:
    model = pickled_model(tmp_path)
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="already exists and is not empty"):
        build_flow([(ModelType.SKLEARN, model)], "f", dest)
    assert files_under(dest) == {"keep.txt"} and (dest / "keep.txt").read_text() == "mine"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (build_flow([(ModelType.SKLEARN, model)], "f", empty) / "config.yaml").is_file()


def test_an_interrupted_build_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bundle_cli.flows.pickling as pickling

    def interrupted(*args: Any) -> bytes:
        raise KeyboardInterrupt

    monkeypatch.setattr(pickling, "dump_function", interrupted)
    model = pickled_model(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        build_flow([(ModelType.SKLEARN, model, {"post": label})], "f", tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clf.pkl"]


def fails(result: Any) -> Any:
    value = len(result)
    raise ValueError(f"refusing {value} rows")


def test_pickles_hold_no_build_path_and_tracebacks_point_at_the_saved_source(
    tmp_path: Path, load: Callable[..., Any]
) -> None:
    from bundle_cli.errors import UserCodeError

    dest = build_flow(
        [(ModelType.SKLEARN, pickled_model(tmp_path), {"post": fails})], "f", tmp_path / "out"
    )
    pickled = (dest / "functions/sklearn_post.pkl").read_bytes()
    assert str(Path(__file__).parent).encode() not in pickled
    assert b"functions/sklearn_post.py" in pickled
    with pytest.raises(UserCodeError) as caught:
        load(dest).predict(X[:2].tolist())
    assert caught.value.message.endswith(
        "post function functions/sklearn_post.pkl raised ValueError"
    )
    assert caught.value.user_traceback.endswith("ValueError: refusing 2 rows\n")
    source = dest / "functions/sklearn_post.py"
    assert f'File "{source}", line 4, in fails' in caught.value.user_traceback
    assert source.read_text().splitlines()[3].strip().startswith("raise ValueError")


BUILDER = """\
import pickle, sys
from pathlib import Path
from bundle_cli import ModelType, build_flow

SCALE = {"a": 1.5, "b": 2}

def scaled(result, original):
    import numpy as np
    return {key: (np.asarray(result) * factor).tolist() for key, factor in SCALE.items()}

build_flow([(ModelType.SKLEARN, sys.argv[1], {"post": scaled})], "twice", Path(sys.argv[2]))
"""


def test_the_same_cloudpickle_writes_the_same_bytes_from_any_folder_or_process(
    tmp_path: Path,
) -> None:
    model = pickled_model(tmp_path)
    built = []
    for run, seed in (("first", "1"), ("second", "2")):
        script = tmp_path / run / "deeper" / "build.py"
        script.parent.mkdir(parents=True)
        script.write_text(BUILDER)
        dest = tmp_path / run / "out"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [sys.executable, str(script), str(model), str(dest)],
            check=True,
            env=env,
            cwd=script.parent,
        )
        built.append(dest)
    first, second = (d / "functions/sklearn_post.pkl" for d in built)
    assert first.read_bytes() == second.read_bytes()
    assert str(tmp_path).encode() not in first.read_bytes()
