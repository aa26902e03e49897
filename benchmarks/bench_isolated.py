"""`--isolated`: environments built with uv, and a bundle run in a child Python over a pipe.

The bundle is a scikit-learn model (numpy + pandas + scikit-learn, pinned to the versions of
this venv so the same pickle loads in process too). Figures:
1. `bundle env build`: fully cold (empty uv cache), cold for the venv only (uv's cache warm,
   no environment), and a rebuild after `bundle env remove`, against uv alone; the bytecode
   compilation that follows each build in the background; the reuse check (finding the built
   environment: in-process call, and `bundle env path` as a whole process);
2. `bundle predict --isolated` against the in-process `bundle predict` of the same bundle
   (whole processes, interleaved medians);
3. JSON Lines throughput through the child against in process (20,000 lines);
4. `mlflow models predict --env-manager uv` on the same model, when mlflow installs into a
   venv of its own (it builds a new environment on every call).

Run: .venv/bin/python benchmarks/bench_isolated.py  (needs the network for the cold build);
`--prepare-mlflow` first installs mlflow into a venv of its own, outside the measurement.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import BIN, ENV, interleaved, run_once

MODEL = """
import pickle

import numpy as np
import pandas  # noqa: F401  (declared and imported, as the issue's figures assume)


class Model:
    def __init__(self, data_dir):
        self.data_dir = data_dir

    def load(self):
        with open(self.data_dir / "model.pkl", "rb") as f:
            self.model = pickle.load(f)

    def predict(self, rows):
        return int(self.model.predict(np.asarray([rows], dtype=float))[0])
"""


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("numpy", "pandas", "scikit-learn")}


def make_bundle(root: Path) -> Path:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    bundle = root / "sk-bundle"
    (bundle / "model").mkdir(parents=True)
    (bundle / "data").mkdir()
    pins = "".join(f"  - {name}=={v}\n" for name, v in versions().items())
    (bundle / "config.yaml").write_text(f"model_name: sk bench\nrequirements:\n{pins}")
    (bundle / "model" / "model.py").write_text(MODEL)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4))
    model = LogisticRegression().fit(x, (x[:, 0] > 0).astype(int))
    (bundle / "data" / "model.pkl").write_bytes(pickle.dumps(model))
    (bundle / "input.json").write_text(json.dumps([0.5, -1.0, 0.25, 2.0]))
    lines = (json.dumps(r) for r in rng.normal(size=(20000, 4)).round(4).tolist())
    (root / "rows.jsonl").write_text("\n".join(lines) + "\n")
    return bundle


def timed(cmd: list[str], env: dict[str, str]) -> float:
    return run_once(cmd, env=env)[0]


def builds(bundle: Path, env: dict[str, str]) -> list[str]:
    """Every build is timed as a whole `bundle env build` process; the bytecode compilation it
    starts in the background is waited for (untimed, `bundle env build --wait`) before the
    next figure, so that it never runs beside a measurement."""
    bundle_cmd = str(BIN / "bundle")
    build = [bundle_cmd, "env", "build", str(bundle)]
    remove = [bundle_cmd, "env", "remove", str(bundle)]

    def settle(cache_env: dict[str, str]) -> float:
        started = time.perf_counter()
        run_once([*build, "--wait"], env=cache_env)
        return time.perf_counter() - started

    cold = timed(build, env)
    compile_wait = settle(env)
    predict = [bundle_cmd, "predict", str(bundle), "-i", str(bundle / "input.json"), "--isolated"]
    rebuilds, first_runs, settled_runs = [], [], []
    for _ in range(3):
        run_once(remove, env=env)
        rebuilds.append(timed(build, env))
        first_runs.append(timed(predict, env))  # its bytecode is being compiled meanwhile
        settle(env)
        settled_runs.append(timed(predict, env))
    # "cold for the venv only": a fresh bundle cache (no environment, no interpreter record,
    # no earlier resolution of this key), uv's cache warm
    venv_cold = []
    for n in range(3):
        fresh = env | {"BUNDLE_CACHE_DIR": f"{env['BUNDLE_CACHE_DIR']}-fresh{n}"}
        venv_cold.append(timed(build, fresh))
        settle(fresh)
    record = json.loads(
        (
            Path(env["BUNDLE_CACHE_DIR"]) / "envs" / env_name(bundle, env) / ".bundle-bytecode.json"
        ).read_text()
    )
    plain = statistics.median(uv_without_bytecode(bundle, env, False) for _ in range(3))
    plain_off = statistics.median(uv_without_bytecode(bundle, env, True) for _ in range(3))
    path_cmd = [bundle_cmd, "env", "path", str(bundle)]
    whole = statistics.median(timed(path_cmd, env) for _ in range(15))
    check = reuse_check(bundle, env)
    return [
        "| build (whole `bundle env build` process) | median | runs |",
        "|---|---:|---:|",
        f"| fully cold (empty uv cache: downloads) | {cold:.2f} s | 1 |",
        f"| cold for the venv (uv cache warm, fresh bundle cache: resolved online) | {statistics.median(venv_cold):.2f} s | 3 |",
        f"| rebuild after `bundle env remove` (the recorded versions, from uv's cache) | {statistics.median(rebuilds):.2f} s | 3 |",
        f"| `bundle predict --isolated` right after that rebuild (bytecode still compiling) | {statistics.median(first_runs):.2f} s | 3 |",
        f"| `bundle predict --isolated` once the bytecode is compiled | {statistics.median(settled_runs):.2f} s | 3 |",
        f"| uv alone, same install, online (venv + `uv pip install`) | {plain:.2f} s | 3 |",
        f"| uv alone, same install, `--offline` | {plain_off:.2f} s | 3 |",
        f"| bytecode compilation in the background (by the environment's record) | {record['seconds']:.1f} s | 1 |",
        f"| `bundle env build --wait` right after the fully cold build (the rest of it) | {compile_wait:.1f} s | 1 |",
        f"| reuse check, in process (`runtime.isolated.build` on a built env) | {check * 1000:.2f} ms | 50 |",
        f"| `bundle env path` (whole process) | {whole * 1000:.0f} ms | 15 |",
    ]


def env_name(bundle: Path, env: dict[str, str]) -> str:
    path = subprocess.run(
        [str(BIN / "bundle"), "env", "path", str(bundle)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return Path(path.stdout.strip()).name


def uv_without_bytecode(bundle: Path, env: dict[str, str], offline: bool) -> float:
    """uv alone, from its warm cache, into a fresh venv (what a build cannot go below)."""
    import uv

    reqs = bundle.parent / "requirements.txt"
    reqs.write_text("".join(f"{n}=={v}\n" for n, v in versions().items()))
    venv = bundle.parent / "plain-venv"
    shutil.rmtree(venv, ignore_errors=True)
    uv_bin = uv.find_uv_bin()
    started = time.perf_counter()
    run_once([uv_bin, "venv", "-q", "--no-config", str(venv), "--python", sys.executable], env=env)
    run_once([uv_bin, "pip", "install", "-q", "--no-config", "--python", str(venv / "bin" / "python"),
              *["--offline"] * offline, "-r", str(reqs)], env=env)  # fmt: skip
    return time.perf_counter() - started


def reuse_check(bundle: Path, env: dict[str, str]) -> float:
    code = (
        "import statistics, sys, time\n"
        "from bundle_cli.runtime.isolated import build\n"
        "build(sys.argv[1])\n"
        "runs = []\n"
        "for _ in range(50):\n"
        "    t = time.perf_counter(); build(sys.argv[1]); runs.append(time.perf_counter() - t)\n"
        "print(statistics.median(runs))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(bundle)], env=env, capture_output=True, text=True
    )
    return float(out.stdout.strip())


def predicts(bundle: Path, root: Path, env: dict[str, str]) -> list[str]:
    bundle_cmd = str(BIN / "bundle")
    inp = str(bundle / "input.json")
    rows = str(root / "rows.jsonl")
    single = interleaved(
        {
            "in": [bundle_cmd, "predict", str(bundle), "-i", inp],
            "iso": [bundle_cmd, "predict", str(bundle), "-i", inp, "--isolated"],
        },
        runs=15,
        env=env,
    )
    jsonl = interleaved(
        {
            "in": [bundle_cmd, "predict", str(bundle), "--jsonl", "-i", rows],
            "iso": [bundle_cmd, "predict", str(bundle), "--jsonl", "-i", rows, "--isolated"],
        },
        runs=5,
        env=env,
    )
    over = (single["iso"] - single["in"]) * 1000
    rate_in, rate_iso = 20000 / jsonl["in"], 20000 / jsonl["iso"]
    return [
        "| run (same bundle, same run, interleaved) | median |",
        "|---|---:|",
        f"| `bundle predict -i input.json` (in process) | {single['in'] * 1000:.0f} ms |",
        f"| `bundle predict -i input.json --isolated` | {single['iso'] * 1000:.0f} ms |",
        f"| **overhead of --isolated** | **{over:+.0f} ms** |",
        f"| `--jsonl` 20,000 lines in process | {jsonl['in']:.2f} s ({rate_in:,.0f} lines/s) |",
        f"| `--jsonl` 20,000 lines `--isolated` | {jsonl['iso']:.2f} s ({rate_iso:,.0f} lines/s) |",
        f"| **throughput isolated / in process** | **{rate_iso / rate_in:.2f}x** |",
    ]


MLFLOW_SAVE = """
import pickle, sys
import mlflow.sklearn
with open(sys.argv[1], "rb") as f:
    model = pickle.load(f)
mlflow.sklearn.save_model(model, sys.argv[2], pip_requirements=sys.argv[3:])
"""


# mlflow's own venv: set up once, outside any measurement (`--prepare-mlflow`, minutes of pip)
MLFLOW_VENV = Path(tempfile.gettempdir()) / "bench-isolated-mlflow"
# ... and uv's cache for its environments, warmed then: its calls are compared warm with ours
MLFLOW_UV_CACHE = Path(tempfile.gettempdir()) / "bench-isolated-mlflow-uv-cache"


def prepare_mlflow() -> str | None:
    """mlflow installed in a venv of its own (kept for later runs); None, or why it cannot."""
    venv = MLFLOW_VENV
    if (venv / "bin" / "mlflow").exists():
        return None
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    pins = [f"{n}=={v}" for n, v in versions().items()]
    installed = subprocess.run([*pip, "mlflow", *pins], capture_output=True, text=True)
    if installed.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        return f"mlflow could not be installed here: {installed.stderr.strip()[-300:]}"
    return None


def mlflow_figures(bundle: Path, root: Path, env: dict[str, str]) -> list[str]:
    why = prepare_mlflow()
    if why is not None:
        return [why]
    venv = MLFLOW_VENV
    pins = [f"{n}=={v}" for n, v in versions().items()]
    model_dir = root / "mlflow-model"
    subprocess.run(
        [str(venv / "bin" / "python"), "-c", MLFLOW_SAVE, str(bundle / "data" / "model.pkl"),
         str(model_dir), *pins],
        check=True, capture_output=True,
    )  # fmt: skip
    inp = root / "mlflow-input.json"
    inp.write_text(json.dumps({"inputs": [[0.5, -1.0, 0.25, 2.0]]}))
    cmd = [str(venv / "bin" / "mlflow"), "models", "predict", "-m", str(model_dir), "-i",
           str(inp), "-t", "json", "--env-manager", "uv"]  # fmt: skip
    path = f"{BIN}:{venv / 'bin'}:{env.get('PATH', '')}"  # mlflow runs `uv` from PATH
    mlflow_env = env | {"PATH": path, "UV_CACHE_DIR": str(MLFLOW_UV_CACHE)}
    runs = []
    try:
        if not MLFLOW_UV_CACHE.is_dir():  # its downloads, once, untimed
            timed(cmd, mlflow_env)
        for _ in range(3):
            runs.append(timed(cmd, mlflow_env))
    except RuntimeError as exc:
        return [f"mlflow models predict failed: {str(exc)[-300:]}"]
    bundle_cmd = str(BIN / "bundle")
    ours = [bundle_cmd, "predict", str(bundle), "-i", str(bundle / "input.json"), "--isolated"]
    warm = statistics.median(timed(ours, env) for _ in range(3))
    return [
        "| same model, same run | median | runs |",
        "|---|---:|---:|",
        f"| `mlflow models predict --env-manager uv` (a new environment each call, uv's cache warm) | {statistics.median(runs):.2f} s | 3 |",
        f"| `bundle predict --isolated` (its environment built: reused) | {warm:.2f} s | 3 |",
    ]


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    if sys.argv[1:] == ["--prepare-mlflow"]:
        print(prepare_mlflow() or f"mlflow is set up in {MLFLOW_VENV}")
        return
    root = Path(tempfile.mkdtemp(prefix="bench-isolated-"))
    try:
        env = ENV | {
            "BUNDLE_CACHE_DIR": str(root / "cache"),
            "UV_CACHE_DIR": str(root / "uv-cache"),
        }
        bundle = make_bundle(root)
        pinned = ", ".join(f"{n} {v}" for n, v in versions().items())
        print("## --isolated: environments with uv, a bundle in a child Python\n")
        print(f"Load at the start: {uptime()}\n")
        print(f"Bundle: a scikit-learn model; requirements {pinned} (10 packages with their")
        print("dependencies). Python", ".".join(map(str, sys.version_info[:3])) + ".\n")
        print("\n".join(builds(bundle, env)) + "\n")
        print("\n".join(predicts(bundle, root, env)) + "\n")
        print("\n".join(mlflow_figures(bundle, root, env)) + "\n")
        print(f"Load at the end: {uptime()}\n")
        print("Run: `.venv/bin/python benchmarks/bench_isolated.py`")
    finally:
        shutil.rmtree(root, ignore_errors=True)
        os.sync()


if __name__ == "__main__":
    main()
