"""`--isolated`: the bundle runs in a child Python inside its own environment, with the same
outputs, streaming, files, secrets, timeouts, exit codes and tracebacks as in process.

The environments here are shared by the tests of this module (one bundle cache for the
session): each distinct set of requirements is built once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sysconfig
import time
from pathlib import Path
from typing import Any

import pytest
from envs_kit import build_tree, bundle_executable, bundle_runner, isolated_env

PINS = """\
model_name: pins
requirements:
  - pydantic<2
  - numpy==1.26.4
  - typer==0.9.4
secrets:
  token: null
"""
# The test venv has pydantic 2, numpy 2 and typer 0.29: what this model reports is the
# environment's, not the tool's.
PINS_MODEL = """\
import sys

import numpy as np
import pydantic
import typer
from pydantic import BaseModel


class In(BaseModel):
    n: int
    name: str = "x"
    site: str = "/nowhere"


class Model:
    def __init__(self, secrets):
        self.secrets = secrets

    def preprocess(self, model_input: In, files):
        return model_input, [(f.name, f.read().decode()) for f in files]

    def predict(self, data):
        model_input, files = data
        print("the token is", self.secrets.get("token"))
        return {
            "values": np.arange(model_input.n) * 1.5,
            "total": np.float32(model_input.n),
            "typed": model_input,
            "files": files,
            "versions": [pydantic.VERSION, np.__version__, typer.__version__],
            "python": sys.version.split()[0],
            "tool_visible": [
                name
                for name, module in list(sys.modules.items())
                if str(getattr(module, "__file__", None) or "").startswith(model_input.site)
            ],
        }
"""
PLAIN = "model_name: plain\n"
SITE = sysconfig.get_paths()["purelib"]  # the test venv's site-packages: the tool's
FAILS = """\
import os
import signal
import sys
import time
from pathlib import Path


def helper(x):
    raise ValueError(f"boom {x}")


class Model:
    def predict(self, x):
        if x.get("version"):
            return {"python": sys.version.split()[0]}
        if x.get("stream"):
            return self.chunks(x)
        if x.get("crash"):
            os.kill(os.getpid(), signal.SIGSEGV)
        if x.get("atexit"):
            import atexit
            import threading

            atexit.register(lambda: print("atexit ran", file=sys.stderr))

            def late():
                time.sleep(0.3)
                Path(x["atexit"]).write_text("the thread finished")

            threading.Thread(target=late).start()
            return {"v": 0}
        if x.get("sleep"):
            Path(x["pidfile"]).write_text(str(os.getpid()))
            time.sleep(x["sleep"])
        return helper(x["v"]) if x.get("fail") else {"v": x["v"] * 2}

    def chunks(self, x):
        for i in range(3):
            yield {"i": i}
            if i == 0:
                deadline = time.monotonic() + 30
                while not Path(x["go"]).exists() and time.monotonic() < deadline:
                    time.sleep(0.01)
"""


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, uv_cache: Path) -> dict[str, str]:
    root = tmp_path_factory.mktemp("isolated")
    home = root / "home"
    home.mkdir()
    return isolated_env(home) | {
        "BUNDLE_CACHE_DIR": str(root / "cache"),
        "UV_CACHE_DIR": str(uv_cache),
    }


@pytest.fixture
def bundle(shared: dict[str, str], tmp_path: Path) -> Any:
    return bundle_runner(tmp_path, shared)


@pytest.fixture
def pins(tmp_path: Path) -> Path:
    return build_tree(
        tmp_path / "pins",
        {"config.yaml": PINS, "model/__init__.py": "", "model/model.py": PINS_MODEL},
    )


@pytest.fixture
def fails(tmp_path: Path) -> Path:
    return build_tree(
        tmp_path / "fails",
        {"config.yaml": PLAIN, "model/__init__.py": "", "model/model.py": FAILS},
    )


def test_pins_typed_input_numpy_files_and_secrets(bundle, pins: Path, tmp_path: Path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text("hello", encoding="utf-8")
    ran = bundle(
        "predict", str(pins), "--isolated", "-d", json.dumps({"n": 3, "name": "y", "site": SITE}),
        "--file", f"doc=@{doc}", "--secret", "token=s3cr3t-value",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout)
    assert out["versions"][0].startswith("1.10.") and out["versions"][1:] == ["1.26.4", "0.9.4"]
    assert out["values"] == [0.0, 1.5, 3.0] and out["total"] == 3.0
    assert out["typed"] == {"n": 3, "name": "y", "site": SITE}  # a pydantic 1 model, encoded
    assert out["files"] == [["doc", "hello"]]
    assert out["tool_visible"] == [], "the child imports nothing of the tool's environment"
    assert "the token is ***" in ran.stderr and "s3cr3t-value" not in ran.stderr + ran.stdout
    bad = bundle("predict", str(pins), "--isolated", "-d", '{"n": "many"}')
    assert bad.returncode == 3, bad.stderr
    assert "input.n: value is not a valid integer" in bad.stderr


def test_outputs_exit_codes_and_tracebacks_as_in_process(bundle, fails: Path) -> None:
    for args in (["-d", '{"v": 4}'], ["--jsonl", "-d", '{"v": 1}\n{"v": 2}\n']):
        inside = bundle("predict", str(fails), *args)
        isolated = bundle("predict", str(fails), "--isolated", *args)
        assert (
            (isolated.returncode, isolated.stdout)
            == (inside.returncode, inside.stdout)
            == (
                0,
                inside.stdout,
            )
        ), isolated.stderr
    raised = bundle("predict", str(fails), "--isolated", "-d", '{"v": 3, "fail": true}')
    assert raised.returncode == 1
    assert "ValueError: boom 3" in raised.stderr and "in helper" in raised.stderr
    assert "bundle_cli" not in raised.stderr and "model.py" in raised.stderr
    lines = '{"v": 1}\n{"v": 2, "fail": true}\nnot json\n{"v": 3}\n'
    kept = bundle("predict", str(fails), "--isolated", "--jsonl", "--keep-going", "-d", lines)
    inside = bundle("predict", str(fails), "--jsonl", "--keep-going", "-d", lines)
    assert (kept.returncode, kept.stdout) == (inside.returncode, inside.stdout)
    assert kept.returncode == 1 and len(kept.stdout.splitlines()) == 4


def test_streaming_chunks_arrive_as_they_are_produced(shared, fails: Path, tmp_path) -> None:
    go = tmp_path / "go"
    proc = subprocess.Popen(
        [bundle_executable(), "predict", str(fails), "--isolated", "-d",
         json.dumps({"stream": True, "go": str(go)})],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=shared, cwd=tmp_path,
    )  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the model waits for `go` after its first chunk
    assert json.loads(first) == {"i": 0} and not go.exists()
    go.write_text("")
    rest = proc.stdout.read()
    assert proc.wait(30) == 0
    assert [json.loads(x) for x in rest.splitlines()] == [{"i": 1}, {"i": 2}]


def test_a_crash_of_the_child_is_reported_with_its_signal(bundle, fails: Path) -> None:
    crashed = bundle("predict", str(fails), "--isolated", "-d", '{"crash": true}')
    assert crashed.returncode == 1, crashed.stderr
    assert "killed by signal 11 (SIGSEGV)" in crashed.stderr
    assert "Traceback" not in crashed.stderr


def test_the_child_ends_as_python_does(bundle, fails: Path, tmp_path: Path) -> None:
    """Its teardown is skipped, not what a model may count on: atexit functions run and the
    threads it started are waited for, as in process."""
    for how in ([], ["--isolated"]):
        marker = tmp_path / f"thread{len(how)}"
        ran = bundle("predict", str(fails), *how, "-d", json.dumps({"atexit": str(marker)}))
        assert ran.returncode == 0, ran.stderr
        assert "atexit ran" in ran.stderr and marker.read_text() == "the thread finished"


def test_timeout_as_in_process(bundle, fails: Path, tmp_path: Path) -> None:
    request = json.dumps({"sleep": 30, "pidfile": str(tmp_path / "pid"), "v": 1})
    started = time.monotonic()
    late = bundle("predict", str(fails), "--isolated", "--timeout", "0.5", "-d", request)
    assert late.returncode == 1 and "did not finish within --timeout 0.5 s" in late.stderr
    assert "in predict" in late.stderr and time.monotonic() - started < 20


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_ctrl_c_end_the_child(shared, fails: Path, tmp_path, sig, code) -> None:
    pidfile = tmp_path / "pid"
    request = json.dumps({"sleep": 60, "pidfile": str(pidfile), "v": 1})
    proc = subprocess.Popen(
        [bundle_executable(), "predict", str(fails), "--isolated", "-d", request],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=shared, cwd=tmp_path,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not pidfile.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.01)
    child = int(pidfile.read_text())
    proc.send_signal(sig)
    assert proc.wait(20) == code
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


def test_archive_with_its_lock_runs_isolated(bundle, fails: Path, tmp_path: Path) -> None:
    config = fails / "config.yaml"
    config.write_text(PLAIN + "requirements:\n  - idna==2.10\n")
    model = fails / "model" / "model.py"
    model.write_text(
        model.read_text().replace(
            'return helper(x["v"]) if',
            'import idna\n        x["idna"] = idna.__version__\n        return x if x.get("echo") else helper(x["v"]) if',
        )
    )
    assert bundle("lock", str(fails)).returncode == 0
    packed = bundle("package", str(fails), "-o", str(tmp_path / "dist") + "/")
    assert packed.returncode == 0, packed.stderr
    [archive] = (tmp_path / "dist").iterdir()
    ran = bundle("predict", str(archive), "--isolated", "-d", '{"echo": true}')
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["idna"] == "2.10"
    assert "requirement-version" not in ran.stderr, "warnings about the tool's Python are not shown"
    listed = json.loads(bundle("env", "list", "--json").stdout)
    assert any(e["locked"] and e["requirements"][0].startswith("idna==2.10 --hash") for e in listed)
    offline = bundle(
        "predict", str(archive), "--isolated", "--offline", "-d", '{"echo": true}',
        env={"UV_CACHE_DIR": str(tmp_path / "empty-uv")},
    )  # fmt: skip
    assert offline.returncode == 0, "a built environment needs no cache and no network"


def test_bundle_test_isolated_and_another_python(bundle, fails: Path, tmp_path: Path) -> None:
    (fails / "examples.yaml").write_text(
        "- name: doubled\n  input: {v: 2}\n  expected: {v: 4}\n"
        "- name: raises\n  input: {v: 1, fail: true}\n  expect_error: ValueError\n"
    )
    tested = bundle("test", str(fails), "--isolated")
    assert tested.returncode == 0, tested.stderr
    assert "PASS" in tested.stderr and "2 passed" in tested.stderr
    for _ in range(2):  # the second run takes the child started early for the same environment
        here = bundle("predict", str(fails), "--isolated", "-d", '{"version": 1}')
        assert here.returncode == 0, here.stderr
    running = json.loads(here.stdout)["python"]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    other = sorted(pyenv.glob("versions/3.1[023].*/bin/python3.1[023]"))
    if not other:
        pytest.skip("no other CPython 3.10+ in pyenv on this machine")
    minor = ".".join(other[-1].parent.parent.name.split(".")[:2])
    assert not running.startswith(minor + ".")
    config = fails / "config.yaml"
    config.write_text(config.read_text() + f'python_version: "{minor}"\n')
    ran = bundle(
        "predict", str(fails), "--isolated", "-d", '{"version": 1}', env={"PYENV_ROOT": str(pyenv)}
    )
    assert ran.returncode == 0, ran.stderr
    # the child started early for the bundle's last environment (3.11) was not the one used
    assert json.loads(ran.stdout)["python"].startswith(minor + ".")
    listed = json.loads(bundle("env", "list", "--json").stdout)
    assert minor in {".".join(e["python"].split(".")[:2]) for e in listed}
