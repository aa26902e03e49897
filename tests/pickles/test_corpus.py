"""The pickle inventory against a corpus: benign pickles of every framework installed here (no
false positive) and each evasion known to slip past pickle scanners (no miss)."""

from __future__ import annotations

import collections
import datetime
import decimal
import functools
import gzip
import importlib
import os
import pickle
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cloudpickle
import joblib
import numpy as np
import pytest

from bundle_cli.diagnostics import Diagnostic
from bundle_cli.validation import validate

MINIMAL = {
    "config.yaml": "model_name: corpus\n",
    "model/__init__.py": "",
    "model/model.py": (
        "class Model:\n    def predict(self, model_input):\n        return model_input\n"
    ),
}


class Calls:
    """Pickles as `fn(*args)`: what a hostile pickle does."""

    def __init__(self, fn: Any, *args: Any) -> None:
        self.fn, self.args = fn, args

    def __reduce__(self) -> tuple[Any, ...]:
        return self.fn, self.args


def benign() -> dict[str, bytes | Callable[[Path], None]]:
    """file name -> its bytes, or a writer (frameworks that write files themselves)."""
    import pandas as pd
    import torch
    import xgboost as xgb
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    x, y = load_iris(return_X_y=True)
    sk = [
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(x, y),
        RandomForestClassifier(n_estimators=2, random_state=0).fit(x, y),
        OneHotEncoder().fit([["a"], ["b"]]),
    ]
    booster = xgb.XGBClassifier(n_estimators=2).fit(x, y)
    arrays = {"f": np.arange(12.0).reshape(3, 4), "o": np.array([1, "a", None], dtype=object)}
    arrays |= {"s": np.float64(2.5), "rng": np.random.default_rng(0), "u": np.array(["ab"])}
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": pd.Categorical(["u", "v"])})
    frame["d"] = pd.to_datetime(["2020-01-01", "2021-01-01"])
    std = [collections.OrderedDict(a=1), {1, 2}, frozenset([3]), datetime.date(2020, 1, 2)]
    std += [decimal.Decimal("1.5"), complex(1, 2), bytearray(b"y")]
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())
    return {
        "numpy-p2.pkl": pickle.dumps(arrays, protocol=2),
        "numpy-p5.pkl": pickle.dumps(arrays, protocol=5),
        "objects.npy": lambda p: np.save(p, arrays["o"], allow_pickle=True),
        "arrays.npz": lambda p: np.savez(p, a=np.zeros(3), o=arrays["o"]),
        "sklearn.pkl": pickle.dumps(sk, protocol=5),
        "sklearn.joblib": lambda p: joblib.dump(sk, p),
        "sklearn-z.joblib": lambda p: joblib.dump(sk, p, compress=3),
        "arrays.joblib.xz": lambda p: joblib.dump(arrays, p, compress=("xz", 1)),
        "xgboost.pkl": pickle.dumps(booster),
        "xgboost.joblib": lambda p: joblib.dump(booster, p),
        "weights.pt": lambda p: torch.save(net.state_dict(), p),
        "tensors.pth": lambda p: torch.save({"h": torch.zeros(2, dtype=torch.float16)}, p),
        "script.pt": lambda p: torch.jit.save(torch.jit.script(net), str(p)),
        "frame.pkl": pickle.dumps(frame),
        "frame.pkl.gz": lambda p: frame.to_pickle(p),
        "std-p0.pkl": pickle.dumps(std, protocol=0),
    }


def evasions() -> dict[str, bytes | Callable[[Path], None]]:
    """Each way to run code from a pickle; several slip past picklescan, modelscan or fickling."""
    import torch

    system = Calls(os.system, "touch pwned")
    hidden_after_array = [np.zeros(100_000), system]
    memo_global = (  # STACK_GLOBAL of strings fetched back from the memo
        b"\x80\x04\x8c\x02os\x94\x8c\x06system\x9400h\x00h\x01\x93\x8c\x04true\x85R."
    )
    computed_global = (  # the module's name is made while loading: str("os")
        b"\x80\x04cbuiltins\nstr\n(X\x02\x00\x00\x00ostRX\x06\x00\x00\x00system\x93."
    )
    getattr_chain = (
        b"\x80\x02cbuiltins\ngetattr\ncbuiltins\n__import__\nX\x02\x00\x00\x00os\x85R"
        b"X\x06\x00\x00\x00system\x86RX\x04\x00\x00\x00true\x85R."
    )
    methodcaller = (
        b"\x80\x02coperator\nmethodcaller\nX\x06\x00\x00\x00systemX\x04\x00\x00\x00true\x86R"
        b"cimportlib\nimport_module\nX\x02\x00\x00\x00os\x85R\x85R."
    )
    return {
        "os-system.pkl": pickle.dumps(system),
        "subprocess.pkl": pickle.dumps(Calls(subprocess.Popen, ["true"])),
        "eval.pkl": pickle.dumps(Calls(eval, "1 + 1")),
        "exec.pickle": pickle.dumps(Calls(exec, "x = 1")),
        "getattr.pkl": getattr_chain,
        "importlib.pkl": pickle.dumps(Calls(importlib.import_module, "os")),
        "methodcaller.pkl": methodcaller,
        "partial.pkl": pickle.dumps(Calls(functools.partial(os.system, "true"))),
        "partial-eval.pkl": pickle.dumps(Calls(functools.partial(eval, "1"))),
        "cloudpickle-fn.pkl": cloudpickle.dumps(lambda: __import__("os").system("true")),
        "gzipped.pkl.gz": gzip.compress(pickle.dumps(system)),
        "memo-global.pkl": memo_global,
        "computed-global.pkl": computed_global,
        "protocol0-inst.pkl": b"(S'true'\nios\nsystem\n.",
        "extension-code.pkl": b"\x80\x02\x82\x01.",
        "nested.pkl": pickle.dumps(Calls(pickle.loads, pickle.dumps(system))),
        "torch-zip.pt": lambda p: torch.save({"w": torch.zeros(2), "x": system}, p),
        "after-array.joblib": lambda p: joblib.dump(hidden_after_array, p),
        "after-array-z.joblib": lambda p: joblib.dump(hidden_after_array, p, compress=3),
        "objects.npy": lambda p: np.save(p, np.array([system], dtype=object), allow_pickle=True),
        "named-like-data.bin": pickle.dumps(system),  # no pickle suffix: found by its content
        "second-pickle.pkl": pickle.dumps({"a": 1}) + pickle.dumps(system),  # a 2nd load()
        "second-protocol0.pkl": pickle.dumps(1, protocol=0) + b"cposix\nsystem\n(S'true'\ntR.",
        "truncated.pkl": pickle.dumps(system)[:-6],
        # cut inside an array's bytes, which the scan skips rather than reads
        "truncated-array.pkl": pickle.dumps([np.zeros(100_000), system], protocol=5)[:400_000],
    }


def write(root: Path, files: dict[str, bytes | Callable[[Path], None]]) -> None:
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if isinstance(content, bytes):
            (data / name).write_bytes(content)
        else:
            content(data / name)


def by_file(diagnostics: list[Diagnostic]) -> dict[str, list[Diagnostic]]:
    found: dict[str, list[Diagnostic]] = collections.defaultdict(list)
    for d in diagnostics:
        if d.code in ("pickle-inventory", "untrusted-pickle"):
            found[Path(d.file or "").name].append(d)
    return found


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("corpus")
    good, bad = root / "benign", root / "evasions"
    for folder, files in ((good, benign()), (bad, evasions())):
        for rel, text in MINIMAL.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text)
        write(folder, files)
    return good, bad


def test_benign_pickles_of_every_framework_are_listed_not_refused(
    corpus: tuple[Path, Path],
) -> None:
    report = validate(corpus[0])
    assert report.ok(strict=True), [d.format() for d in report.errors + report.warnings]
    listed = by_file(report.diagnostics)
    assert set(listed) == set(benign()) - set(), sorted(set(benign()) ^ set(listed))
    sklearn = " ".join(d.message for d in listed["sklearn.joblib"])
    assert "sklearn.linear_model._logistic.LogisticRegression" in sklearn
    assert "joblib.numpy_pickle.NumpyArrayWrapper" in sklearn
    assert "torch._utils._rebuild_tensor_v2" in " ".join(d.message for d in listed["weights.pt"])
    assert not any("safe" in d.message.lower() for d in report.diagnostics)


def test_every_evasion_is_an_error(corpus: tuple[Path, Path]) -> None:
    report = validate(corpus[1])
    refused = {
        name
        for name, found in by_file(report.diagnostics).items()
        if any(d.code == "untrusted-pickle" and d.severity == "error" for d in found)
    }
    assert refused == set(evasions()), f"missed: {sorted(set(evasions()) - refused)}"
    messages = {Path(d.file or "").name: d.message for d in report.errors}
    assert "posix.system" in messages["after-array-z.joblib"]
    assert "importlib.import_module" in messages["importlib.pkl"]
    assert "operator.methodcaller" in messages["methodcaller.pkl"]
    assert "cloudpickle" in messages["cloudpickle-fn.pkl"]
    assert "computed while loading" in messages["computed-global.pkl"]
    assert "cannot be read" in messages["truncated.pkl"]
    # the hand-written ones are well-formed pickles: refused for what they do, not for their form
    unreadable = {name for name, text in messages.items() if "cannot be read" in text}
    assert unreadable == {"truncated.pkl", "truncated-array.pkl"}


def test_trust_by_name_by_digest_and_by_flag(tree: Callable[..., Path]) -> None:
    evil = pickle.dumps(Calls(os.system, "true"))
    bundle = tree(MINIMAL | {"data/a.pkl": evil, "data/b.pkl": pickle.dumps(Calls(eval, "1"))})
    assert {d.file for d in validate(bundle).errors} == {
        str(bundle / "data/a.pkl"),
        str(bundle / "data/b.pkl"),
    }
    import hashlib

    digest = hashlib.sha256(evil).hexdigest()
    (bundle / "config.yaml").write_text(
        "model_name: corpus\ntrusted_pickle_globals: [builtins.eval]\n"
        f"trusted_pickles:\n  data/a.pkl: {digest}\n"
    )
    assert validate(bundle).ok(strict=True)
    (bundle / "data/a.pkl").write_bytes(evil + b"")  # the same bytes: still trusted
    (bundle / "data/a.pkl").write_bytes(pickle.dumps(Calls(os.system, "false")))
    errors = validate(bundle).errors
    assert len(errors) == 1 and "changed since it was trusted" in errors[0].message
    trusting = validate(bundle, trust_pickles=True)
    assert trusting.ok() and [
        d.severity for d in trusting.diagnostics if d.code == "untrusted-pickle"
    ] == ["warning"]


def test_predict_refuses_an_untrusted_pickle_before_loading_it(
    tree: Callable[..., Path], run_bundle: Callable[..., Any], tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    model = (
        "import pickle\n\nclass Model:\n    def __init__(self, data_dir):\n        self.data_dir = data_dir\n"
        "    def load(self):\n        self.m = pickle.loads((self.data_dir / 'm.pkl').read_bytes())\n"
        "    def predict(self, model_input):\n        return model_input\n"
    )
    payload = pickle.dumps(Calls(os.system, f"touch {marker}"))
    bundle = tree(MINIMAL | {"model/model.py": model, "data/m.pkl": payload})
    refused = run_bundle("predict", str(bundle), "-d", "{}")
    assert refused.returncode == 4, refused.stderr
    assert "data/m.pkl" in refused.stderr and "posix.system" in refused.stderr
    assert not marker.exists()
    assert "Traceback" not in refused.stderr
    trusted = run_bundle("predict", str(bundle), "-d", "{}", "--trust-pickles")
    assert trusted.returncode == 0, trusted.stderr
    assert marker.exists()  # it was code all along: trusting it ran it


def test_a_scan_reads_bytes_only(tmp_path: Path) -> None:
    """Scanning never imports what a pickle names (a module that raises on import proves it)."""
    from bundle_cli.pickles.containers import pickle_streams

    path = tmp_path / "x.pkl"
    path.write_bytes(b"\x80\x04\x8c\x0eno_such_module\x94\x8c\x01f\x94\x93)R.")
    (stream,) = pickle_streams(path) or []
    assert [str(r) for r in stream.findings.imports] == ["no_such_module.f"]
    assert stream.findings.calls == {"no_such_module.f"}
