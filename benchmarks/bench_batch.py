"""`bundle batch` against hand-written code doing the same work, in the same run.

Rows of four floats (one iris flower a row, as `{"flowers": [{...}]}`) through the tabular-sklearn
example with `predict_batch_size = 64` added (its predict scores a batch's arrays in one
`predict_proba` call): as committed, the example calls scikit-learn once a request, about 100 us
each, which would make every 1M-row run take minutes and measure scikit-learn only.
1. `--engine local`: the whole `bundle batch` process against a hand-written script that loads
   the same model.py and runs its hooks over the same JSON Lines in batches of 64, writing the same
   bytes (the outputs are compared); and `bundle batch --workers 2`.
2. Ray and Spark: `run_batch(engine=...)` against a hand-written `map_batches` callable class /
   `mapInPandas` function that loads the model from the unpacked archive and runs the same hooks
   in the same batches (Ray: blocks of 65,536 rows, as `bundle batch` cuts them; Spark: the
   session's Arrow batches for both), in the same Ray instance (3 CPUs) or Spark session, with 1
   and 2 workers. Both sides read the JSON Lines file and write the answers inside the timing;
   the cluster's start is left out of both.
Each job runs once on a small input first (workers started, the archive unpacked), then the jobs
take turns for `--rounds` rounds; the figures are medians.

Run: .venv/bin/python benchmarks/bench_batch.py [ROWS] [--engines local,ray,spark] [--rounds N]
(needs `pip install '.[ray,spark]'`, Java 17; default 1,000,000 rows, 3 rounds)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _timing import BIN, ENV, run_once

ROOT = Path(__file__).resolve().parent.parent
FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")

HAND_LOOP = """
import itertools, json, sys
from pathlib import Path
folder, source, target = sys.argv[1:4]
sys.path.insert(0, folder + "/model")
from model import Model
model = Model(data_dir=Path(folder) / "data")
model.load()
size = Model.predict_batch_size
with open(source) as lines, open(target, "w") as out:
    while batch := list(itertools.islice(lines, size)):
        inputs = [json.loads(line) for line in batch]
        outputs = model.predict([model.preprocess(x) for x in inputs])
        out.write("".join(json.dumps(model.postprocess(y)) + "\\n" for y in outputs))
"""


class HandModel:
    """The hooks of the unpacked example, run over a batch of JSON texts as a user would."""

    def __init__(self, folder: str) -> None:
        # Imported under a name of its own: a module `model` in sys.modules would be one the
        # bundle's import scope must move aside at every call when both run in one Python (a
        # Spark worker that ran the other job), which would time that and not the job.
        import importlib.util

        spec = importlib.util.spec_from_file_location("hand_model", f"{folder}/model/model.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        Model = module.Model

        self.model = Model(data_dir=Path(folder) / "data")
        self.model.load()
        self.size = Model.predict_batch_size

    def answer(self, texts: list[str]) -> list[str]:
        m, out = self.model, []
        for start in range(0, len(texts), self.size):
            inputs = [json.loads(t) for t in texts[start : start + self.size]]
            out += [
                json.dumps(m.postprocess(y)) for y in m.predict([m.preprocess(x) for x in inputs])
            ]
        return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--engines", default="local,ray,spark")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    engines = args.engines.split(",")
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    os.environ["BUNDLE_CACHE_DIR"] = str(work / "cache")
    runners = {"local": _local, "ray": _ray, "spark": _spark}
    results: dict[str, dict[str, float]] = {}
    try:
        archive, folder = _example(work)
        source, warm = work / "rows.jsonl", work / "warm.jsonl"
        _rows(source, args.rows)
        _rows(warm, min(args.rows, 10_000))
        for engine in engines:
            results[engine] = runners[engine](archive, folder, source, warm, work, args.rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(_report(args.rows, args.rounds, results))
    print(f"uptime: {os.popen('uptime').read().strip()}")
    return 0


BATCHED_PREDICT = """    predict_batch_size = 64

    def predict(self, model_inputs: list[Any]) -> list[Any]:
        import numpy as np

        flowers = np.concatenate(model_inputs)
        if len(flowers) == 0:
            probabilities = np.zeros((0, len(self._classes)))
        else:
            probabilities = self._pipeline.predict_proba(flowers)
        return np.split(probabilities, np.cumsum([len(x) for x in model_inputs])[:-1])

    def _one_at_a_time"""


def _example(work: Path) -> tuple[Path, Path]:
    """The example, with predict_batch_size = 64 and its predict scoring a batch at once."""
    folder = work / "iris"
    shutil.copytree(
        ROOT / "examples/tabular-sklearn", folder, ignore=shutil.ignore_patterns("data")
    )
    model = folder / "model/model.py"
    text = model.read_text()
    assert "    def predict(self, model_input: Any) -> Any:" in text, "the example changed"
    model.write_text(text.replace("    def predict", BATCHED_PREDICT, 1))
    subprocess.run([sys.executable, "build.py"], cwd=folder, check=True, capture_output=True)
    archive = work / "iris.tar.gz"
    subprocess.run(
        [str(BIN / "bundle"), "package", str(folder), "-o", str(archive), "-q"],
        check=True,
        env=ENV | dict(os.environ),
    )
    return archive, folder


def _rows(path: Path, rows: int) -> None:
    rng = random.Random(0)
    with open(path, "w") as out:
        for _ in range(rows):
            flower = {name: round(rng.uniform(0.1, 8.0), 1) for name in FEATURES}
            out.write(json.dumps({"flowers": [flower]}) + "\n")


def _local(
    archive: Path, folder: Path, source: Path, warm: Path, work: Path, rounds: int
) -> dict[str, float]:
    script = work / "hand_loop.py"
    script.write_text(HAND_LOOP)
    env = ENV | {"BUNDLE_CACHE_DIR": os.environ["BUNDLE_CACHE_DIR"]}

    def bundle(rows: Path, out: Path, workers: int) -> list[str]:
        return [str(BIN / "bundle"), "batch", str(archive), str(rows), str(out), "-q"] + (
            ["--workers", str(workers)] if workers > 1 else []
        )

    def hand(rows: Path, out: Path) -> list[str]:
        return [sys.executable, str(script), str(folder), str(rows), str(out)]

    outs = {name: work / f"local-{name}.jsonl" for name in ("bundle 1", "bundle 2", "hand 1")}
    cmds = {
        "bundle 1": lambda rows, out: bundle(rows, out, 1),
        "hand 1": hand,
        "bundle 2": lambda rows, out: bundle(rows, out, 2),
    }
    for make in cmds.values():  # the archive unpacked into the cache once, as after a first run
        run_once(make(warm, work / "warm-out.jsonl"), env=env)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(rounds):
        for name, make in cmds.items():
            times[name].append(run_once(make(source, outs[name]), env=env)[0])
    hand_bytes = outs["hand 1"].read_bytes()
    for name in ("bundle 1", "bundle 2"):
        assert outs[name].read_bytes() == hand_bytes, f"local: {name} wrote other answers"
    return {name: statistics.median(values) for name, values in times.items()}


def _ray(
    archive: Path, folder: Path, source: Path, warm: Path, work: Path, rounds: int
) -> dict[str, float]:
    import pyarrow as pa
    import ray
    from ray.data import ActorPoolStrategy, DataContext

    from bundle_cli.batch import run_batch

    ray.init(
        num_cpus=3, include_dashboard=False, _node_ip_address="127.0.0.1", logging_level="ERROR"
    )
    context = DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # not a line per dataset run

    class Hand:
        def __init__(self) -> None:
            self.model = HandModel(str(folder))

        def __call__(self, batch: pa.Table) -> pa.Table:
            answers = self.model.answer(batch.column("request").to_pylist())
            return pa.table({"output": pa.array(answers, pa.string())})

    def hand(rows: Path, out: Path, workers: int) -> None:
        texts, size = rows.read_text().splitlines(), 65536
        blocks = [pa.table({"request": texts[i : i + size]}) for i in range(0, len(texts), size)]
        data = ray.data.from_arrow(blocks).map_batches(
            Hand, compute=ActorPoolStrategy(size=workers), batch_size=None, batch_format="pyarrow"
        )
        with open(out, "w") as handle:
            for batch in data.iter_batches(batch_size=None, batch_format="pyarrow"):
                handle.write("".join(t + "\n" for t in batch.column("output").to_pylist()))

    def ours(rows: Path, out: Path, workers: int) -> None:
        run_batch(archive, str(rows), str(out), engine="ray", workers=workers)

    try:
        return _alternate({"bundle": ours, "hand": hand}, source, warm, work, "ray", rounds)
    finally:
        ray.shutdown()


def _spark(
    archive: Path, folder: Path, source: Path, warm: Path, work: Path, rounds: int
) -> dict[str, float]:
    from bundle_cli.batch import run_batch

    def ours(rows: Path, out: Path, workers: int) -> None:
        run_batch(archive, str(rows), str(out), engine="spark")  # the session's local[workers]

    results: dict[str, float] = {}
    for workers in (1, 2):
        session = _spark_session(workers)
        try:
            jobs = {"bundle": ours, "hand": _hand_spark(session, folder)}
            results.update(_alternate(jobs, source, warm, work, "spark", rounds, (workers,)))
        finally:
            session.stop()
    return results


def _hand_spark(session: Any, folder: Path) -> Callable[[Path, Path, int], None]:
    import pandas as pd

    def score(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        model = HandModel(str(folder))
        for part in frames:
            yield pd.DataFrame({"output": model.answer(part["request"].tolist())})

    def job(rows: Path, out: Path, workers: int) -> None:
        texts = rows.read_text().splitlines()
        frame = session.createDataFrame(pd.DataFrame({"request": texts}))
        answers = frame.mapInPandas(score, "output string").toArrow()
        with open(out, "w") as handle:
            handle.write("".join(t + "\n" for t in answers.column("output").to_pylist()))

    return job


def _spark_session(workers: int) -> Any:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(f"local[{workers}]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _alternate(
    jobs: dict[str, Callable[[Path, Path, int], None]],
    source: Path,
    warm: Path,
    work: Path,
    engine: str,
    rounds: int,
    workers: tuple[int, ...] = (1, 2),
) -> dict[str, float]:
    """Each job with 1 and 2 workers, taking turns for `rounds` rounds after a run on the small
    input; medians, the outputs compared."""
    for n in workers:
        for job in jobs.values():
            job(warm, work / "warm-out.jsonl", n)
    times: dict[str, list[float]] = {f"{name} {n}": [] for n in workers for name in jobs}
    for _ in range(rounds):
        for n in workers:
            for name, job in jobs.items():
                out = work / f"{engine}-{name}-{n}.jsonl"
                start = time.perf_counter()
                job(source, out, n)
                times[f"{name} {n}"].append(time.perf_counter() - start)
    for n in workers:
        ours, hand = (work / f"{engine}-{name}-{n}.jsonl" for name in ("bundle", "hand"))
        assert ours.read_bytes() == hand.read_bytes(), f"{engine}: the hand-written job differs"
    return {name: statistics.median(values) for name, values in times.items()}


def _report(rows: int, rounds: int, results: dict[str, dict[str, float]]) -> str:
    def line(what: str, ours: float, hand: float | None, target: float | None) -> str:
        if hand is None:
            return f"| {what} | {ours:.2f} s ({rows / ours:,.0f}/s) | | | |"
        ratio = hand / ours
        mark = "met" if target is not None and ratio >= target else "MISSED"
        return (
            f"| {what} | {ours:.2f} s ({rows / ours:,.0f}/s) | {hand:.2f} s ({rows / hand:,.0f}/s)"
            f" | {ratio:.2f}x | {target}x: {mark} |"
        )

    lines = [
        "## `bundle batch` (benchmarks/bench_batch.py)",
        "",
        f"{rows:,} rows of four floats through the tabular-sklearn example (`predict_batch_size = "
        f"64`), medians of {rounds} rounds; the hand-written code runs the same hooks and writes "
        "the same bytes (compared).",
        "",
        "| engine, workers | bundle batch | hand-written | speed vs hand-written | target |",
        "|---|---:|---:|---:|---|",
    ]
    scaling = []
    if "local" in results:
        got = results["local"]
        lines.append(line("local, 1 (whole processes)", got["bundle 1"], got["hand 1"], 0.9))
        lines.append(line("local, 2 (whole process)", got["bundle 2"], None, None))
        scaling.append(f"local {got['bundle 1'] / got['bundle 2']:.2f}x")
    for engine, name in (("ray", "Ray"), ("spark", "Spark")):
        if engine not in results:
            continue
        got = results[engine]
        for n in (1, 2):
            lines.append(line(f"{name}, {n}", got[f"bundle {n}"], got[f"hand {n}"], 0.8))
        scaling.append(
            f"{name} {got['bundle 1'] / got['bundle 2']:.2f}x "
            f"(hand-written {got['hand 1'] / got['hand 2']:.2f}x)"
        )
    lines += [
        "",
        f"Throughput from 1 to 2 workers: {', '.join(scaling)}.",
        "",
        "Ray: one local instance of 3 CPUs, actor pools of 1 and 2; Spark: `local[1]` and `local[2]`"
        " sessions. Cluster start-up is left out of both sides; the jobs take turns, after one run "
        "each on 10,000 rows that started their workers.",
        "",
        "Reproduce: `.venv/bin/python benchmarks/bench_batch.py [ROWS] [--engines ...]`",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
