"""`bundle predict` against hand-written scripts doing the same work, whole processes.

1. One prediction of a numpy bundle (`bundle predict B -i input.json`) against a plain script that
   imports the same model.py (so pays the same numpy import) and calls its hooks.
2. JSON Lines: 100k lines of four floats through a scikit-learn model, with and without batches,
   against hand-written scripts doing the same JSON parsing and (batched or per-line) predict;
   peak memory at 10k and 100k lines shows whether memory stays flat.
3. The same JSON Lines runs by an older commit (`--baseline`, from `git archive`) and by this
   tree, started alike and taking turns: the before/after ratio of a change on this machine,
   beside the ratio of two copies of the older commit (the noise it is read against), and with
   `--instructions` the instructions each executes (valgrind), which the machine does not move.

Run: .venv/bin/python benchmarks/bench_predict.py  (needs scikit-learn: `pip install '.[sklearn]'`)
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import (
    BIN,
    ENV,
    NOISE_NOTE,
    before_after_launchers,
    interleaved,
    machine,
    ratios,
    run_once,
)

TIME = "/usr/bin/time"

NUMPY_MODEL = """
import numpy as np


class Model:
    def __init__(self, data_dir):
        self.data_dir = data_dir

    def load(self):
        self.weights = np.load(self.data_dir / "weights.npy")

    def preprocess(self, model_input):
        return np.asarray(model_input["x"], dtype=np.float64)

    def predict(self, x):
        return self.weights @ x

    def postprocess(self, y):
        return {"y": y.round(6).tolist(), "argmax": int(y.argmax())}
"""

PLAIN_NUMPY = """
import json, sys
from pathlib import Path
sys.path.insert(0, {model_dir!r})
from model import Model
m = Model(data_dir=Path({data_dir!r}))
m.load()
with open(sys.argv[1]) as f:
    x = json.load(f)
print(json.dumps(m.postprocess(m.predict(m.preprocess(x))), indent=2))
"""

SKLEARN_MODEL = """
import pickle

import numpy as np


class Model:
{batch}
    def __init__(self, data_dir):
        self.data_dir = data_dir

    def load(self):
        with open(self.data_dir / "model.pkl", "rb") as f:
            self.model = pickle.load(f)

    def predict(self, rows):
{body}
"""
BATCHED_BODY = "        return self.model.predict(np.asarray(rows, dtype=float)).tolist()"
SINGLE_BODY = "        return int(self.model.predict(np.asarray([rows], dtype=float))[0])"

PLAIN_JSONL = """
import json, pickle, sys
import numpy as np
with open({pkl!r}, "rb") as f:
    model = pickle.load(f)
out, batch, size = sys.stdout, [], {size}

def flush():
    for y in model.predict(np.asarray(batch, dtype=float)).tolist():
        out.write(json.dumps(y) + "\\n")
    batch.clear()

with open(sys.argv[1]) as f:
    for line in f:
        if line.strip():
            batch.append(json.loads(line))
            if len(batch) == size:
                flush()
if batch:
    flush()
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def numpy_setup(root: Path) -> dict[str, list[str]]:
    import numpy as np

    bundle = root / "numpy-bundle"
    write(bundle / "config.yaml", "model_name: numpy bench\n")
    write(bundle / "model" / "model.py", NUMPY_MODEL)
    (bundle / "data").mkdir()
    np.save(bundle / "data" / "weights.npy", np.random.default_rng(0).normal(size=(10, 64)))
    x = np.random.default_rng(1).normal(size=64).round(4).tolist()
    inp = write(bundle / "input.json", json.dumps({"x": x}))
    plain = write(root / "plain_numpy.py", PLAIN_NUMPY.format(
        model_dir=str(bundle / "model"), data_dir=str(bundle / "data")))  # fmt: skip
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
        "plain script (imports model.py, calls hooks)": [sys.executable, str(plain), str(inp)],
        "bundle predict -i input.json": [
            str(BIN / "bundle"),
            "predict",
            str(bundle),
            "-i",
            str(inp),
        ],
    }


def sklearn_setup(root: Path) -> tuple[dict[str, Path], Path]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 4))
    y = (x @ np.array([1.0, -2.0, 0.5, 1.5]) > 0).astype(int) + (x[:, 0] > 1).astype(int)
    pkl = root / "model.pkl"
    pkl.write_bytes(pickle.dumps(LogisticRegression(max_iter=500).fit(x, y)))
    bundles = {}
    for name, batch, body in (
        ("batched", "    predict_batch_size = 1024\n", BATCHED_BODY),
        ("single", "", SINGLE_BODY),
    ):
        bundle = root / f"sk-{name}"
        write(bundle / "config.yaml", f"model_name: sklearn {name}\n")
        write(bundle / "model" / "model.py", SKLEARN_MODEL.format(batch=batch, body=body))
        (bundle / "data").mkdir()
        (bundle / "data" / "model.pkl").write_bytes(pkl.read_bytes())
        bundles[name] = bundle
    return bundles, pkl


def jsonl_input(root: Path, lines: int) -> Path:
    import numpy as np

    rows = np.random.default_rng(lines).normal(size=(lines, 4)).round(6).tolist()
    return write(root / f"in-{lines}.jsonl", "".join(json.dumps(r) + "\n" for r in rows))


def one_prediction(root: Path) -> dict[str, float]:
    cmds = numpy_setup(root)
    medians = interleaved(cmds, runs=21)
    bundle_cmd = cmds["bundle predict -i input.json"]
    cold = []
    for n in range(7):  # an empty validation cache each time: the first run after an edit
        env = {**os.environ, "BUNDLE_CACHE_DIR": str(root / f"cold-cache-{n}")}
        cold.append(run_once(bundle_cmd, env=env)[0])
    medians["bundle predict, first run after an edit (validates)"] = statistics.median(cold)
    base = medians["plain script (imports model.py, calls hooks)"]
    print("### One prediction, numpy bundle (medians of 21 interleaved runs; cold: 7)\n")
    print("| command | median s | x plain script |")
    print("|---|---:|---:|")
    for name, value in medians.items():
        print(f"| {name} | {value:.3f} | {value / base:.2f} |")
    return medians


def measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of the command itself.

    GNU time reports the child's own peak; the rusage of a child forked from this (large)
    process would include this process's pages copied before exec.
    """
    if not os.path.exists(TIME):
        return run_once(cmd, env=env or ENV)[0], float("nan")
    start = time.perf_counter()
    proc = subprocess.run(
        [TIME, "-f", "%M", *cmd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env or ENV,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return wall, int(proc.stderr.strip().splitlines()[-1]) / 1024


Row = tuple[int, str, float, float, float]


def jsonl_runs(root: Path) -> list[Row]:
    bundles, pkl = sklearn_setup(root)
    bundle = str(BIN / "bundle")
    rows: list[Row] = []
    for lines, runs in ((10_000, 3), (100_000, 3)):
        inp = jsonl_input(root, lines)
        plain_b = write(root / "plain_batched.py", PLAIN_JSONL.format(pkl=str(pkl), size=1024))
        plain_1 = write(root / "plain_single.py", PLAIN_JSONL.format(pkl=str(pkl), size=1))
        cmds = {
            "hand-written, batches of 1024": [sys.executable, str(plain_b), str(inp)],
            "bundle predict --jsonl (predict_batch_size = 1024)": [
                bundle, "predict", str(bundles["batched"]), "--jsonl", "-i", str(inp)],
            "hand-written, one predict per line": [sys.executable, str(plain_1), str(inp)],
            "bundle predict --jsonl (no batches)": [
                bundle, "predict", str(bundles["single"]), "--jsonl", "-i", str(inp)],
        }  # fmt: skip
        for name, cmd in cmds.items():
            run_once(cmd)  # warm-up (and the validation cache)
            samples = [measured(cmd) for _ in range(runs)]
            wall = statistics.median(s[0] for s in samples)
            peak = max(s[1] for s in samples)
            rows.append((lines, name, wall, lines / wall, peak))
    print("\n### JSON Lines, 4 floats per line, scikit-learn LogisticRegression (medians of 3)\n")
    print("| lines | command | median s | lines/s | x hand-written | peak RSS MiB |")
    print("|---:|---|---:|---:|---:|---:|")
    for i, (lines, name, wall, rate, peak) in enumerate(rows):
        base = rows[i - 1][3] if name.startswith("bundle") else rate  # the row above
        print(f"| {lines:,} | {name} | {wall:.2f} | {rate:,.0f} | {rate / base:.2f} | {peak:.0f} |")
    return rows


def before_after(root: Path, commit: str, rounds: int, instructions: bool) -> None:
    """The JSON Lines runs of this tree and of an older commit in the same rounds, all started
    the same way (`python -P -c main`, each with its own validation cache), so that the ratio
    is this change's alone, whatever the machine.

    A second copy of the older commit runs in the same rounds: its ratio to the first copy is
    what two identical trees differ by here, the noise that a before/after ratio is read
    against. With `instructions`, the 10k-line runs are also counted under valgrind (callgrind):
    instructions executed do not drift with the machine the way wall time does."""
    (root / "before-after").mkdir()
    bundles, _ = sklearn_setup(root / "before-after")
    launchers = before_after_launchers(root, commit)
    print(f"\n### Before and after: {commit} against this tree (same runs, medians of {rounds})\n")
    print(NOISE_NOTE.format(commit=commit))
    print(f"| lines | bundle | {commit} s | this tree s | speed vs {commit} | same commit twice |")
    print("|---:|---|---:|---:|---:|---:|")
    for lines in (10_000, 100_000):
        inp = root / f"in-{lines}.jsonl"
        for kind in ("batched", "single"):
            args = ["predict", str(bundles[kind]), "--jsonl", "-i", str(inp)]
            samples: dict[str, list[float]] = {name: [] for name in launchers}
            for cmd, env in launchers.values():
                measured([*cmd, *args], env)  # warm-up (and the validation cache)
            for _ in range(rounds):
                for name, (cmd, env) in launchers.items():
                    samples[name].append(measured([*cmd, *args], env)[0])
            old, again, new = (samples[name] for name in launchers)
            label = "predict_batch_size = 1024" if kind == "batched" else "no batches"
            print(
                f"| {lines:,} | {label} | {statistics.median(old):.2f} |"
                f" {statistics.median(new):.2f} | {ratios(old, new)} | {ratios(old, again)} |"
            )
    if instructions:
        counted(root, bundles, launchers, commit)


def counted(
    root: Path,
    bundles: dict[str, Path],
    launchers: dict[str, tuple[list[str], dict[str, str]]],
    commit: str,
) -> None:
    """Instructions executed by each launcher on the 10k-line runs, under callgrind, the
    launchers side by side (the count does not depend on what else runs)."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("\n(valgrind is not installed: no instruction counts)")
        return
    print("\n### Instructions executed, 10,000 lines (valgrind --tool=callgrind)\n")
    print(f"| bundle | {commit} | same commit again | this tree | this tree vs {commit} |")
    print("|---|---:|---:|---:|---:|")
    inp = root / "in-10000.jsonl"
    for kind in ("batched", "single"):
        args = ["predict", str(bundles[kind]), "--jsonl", "-i", str(inp)]
        procs = {
            name: subprocess.Popen(
                [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd, *args],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for name, (cmd, env) in launchers.items()
        }
        counts = {}
        for name, proc in procs.items():
            _, err = proc.communicate()
            found = re.search(r"I\s+refs:\s+([\d,]+)", err)
            if proc.returncode != 0 or found is None:
                raise RuntimeError(f"callgrind of {name} failed: {err[-2000:]}")
            counts[name] = int(found.group(1).replace(",", ""))
        old, again, new = counts.values()
        label = "predict_batch_size = 1024" if kind == "batched" else "no batches"
        print(
            f"| {label} | {old / 1e9:.3f} G | {again / 1e9:.3f} G | {new / 1e9:.3f} G | {new / old:.3f} |"
        )


def targets(medians: dict[str, float], rows: list[Row]) -> None:
    """The figures issue 3 asks for, each against its target."""
    one = medians["bundle predict -i input.json"]
    plain = medians["plain script (imports model.py, calls hooks)"]
    rate = {(lines, name): r for lines, name, _, r, _ in rows}
    peak = {(lines, name): p for lines, name, _, _, p in rows}
    batched, hand = (
        "bundle predict --jsonl (predict_batch_size = 1024)",
        "hand-written, batches of 1024",
    )
    checks = [
        ("one prediction <= 1.5x the plain script", one / plain, "x", 1.5, False),
        ("one prediction <= 0.25 s", one, " s", 0.25, False),
        ("JSONL 100k lines >= 0.8x hand-written (batched)", rate[100_000, batched] / rate[100_000, hand], "x", 0.8, True),
        ("peak RSS at 100k lines <= 1.2x at 10k (flat)", peak[100_000, batched] / peak[10_000, batched], "x", 1.2, False),
    ]  # fmt: skip
    print("\n### Targets\n")
    print("| target | measured | met |")
    print("|---|---:|:---:|")
    for label, value, unit, limit, at_least in checks:
        met = value >= limit if at_least else value <= limit
        print(f"| {label} | {value:.3f}{unit} | {'yes' if met else 'NO'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--baseline",
        default="9df5374",
        help="commit whose JSON Lines runs go beside this tree's (default 9df5374, the last "
        "before issue 12's runner seam); '' for none",
    )
    parser.add_argument("--rounds", type=int, default=5, help="before/after rounds (default 5)")
    parser.add_argument(
        "--instructions",
        action="store_true",
        default=bool(os.environ.get("BENCH_INSTRUCTIONS")),
        help="also count the instructions of the 10k-line before/after runs under valgrind "
        "(slow: about 15 minutes; also set by BENCH_INSTRUCTIONS=1, e.g. for make bench)",
    )
    args = parser.parse_args()
    print(f"## bundle predict ({machine()})\n")
    # Children run as after a normal install: with bytecode caches, and a validation cache here.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["BUNDLE_CACHE_DIR"] = str(Path(tmp) / "cache")
        medians = one_prediction(Path(tmp))
        rows = jsonl_runs(Path(tmp))
        if args.baseline:
            before_after(Path(tmp), args.baseline, args.rounds, args.instructions)
    targets(medians, rows)
    print(
        "\nWhole processes, output to /dev/null. Reproduce: `.venv/bin/python benchmarks/bench_predict.py`"
    )


if __name__ == "__main__":
    main()
