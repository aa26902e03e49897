"""`bundle batch` against hand-written code doing the same work, in the same run.

Rows of four floats (one iris flower a row, as `{"flowers": [{...}]}`) through the tabular-sklearn
example with `predict_batch_size = 64` added (its predict scores a batch's arrays in one
`predict_proba` call): as committed, the example calls scikit-learn once a request, about 100 us
each, which would make every 1M-row run take minutes and measure scikit-learn only.
1. `--engine local`: the whole `bundle batch` process against a hand-written script that loads
   the same model.py and runs its hooks over the same JSON Lines in batches of 64, writing the same
   bytes (the outputs are compared).
2. Ray and Spark: `run_batch(engine=...)` against a hand-written `map_batches` callable class /
   `mapInPandas` function that loads the model from the unpacked archive and runs the same hooks,
   in the same Ray instance (3 CPUs) or Spark session, with 1 and 2 workers; the cluster's start
   is left out of both.

Run: .venv/bin/python benchmarks/bench_batch.py [ROWS]  (needs `pip install '.[ray,spark]'`,
Java 17; default 1,000,000 rows)
"""

from __future__ import annotations

import json
import os
import random
import shutil
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
        sys.path.insert(0, folder + "/model")
        from model import Model  # type: ignore[import-not-found]

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
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    os.environ["BUNDLE_CACHE_DIR"] = str(work / "cache")
    try:
        archive, folder = _example(work)
        source = work / "rows.jsonl"
        _rows(source, rows)
        local = _local(archive, folder, source, work)
        ray = _ray(archive, folder, source, work)
        spark = _spark(archive, folder, source, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(_report(rows, local, ray, spark))
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


def _local(archive: Path, folder: Path, source: Path, work: Path) -> dict[str, float]:
    ours, hand = work / "local.jsonl", work / "hand.jsonl"
    script = work / "hand_loop.py"
    script.write_text(HAND_LOOP)
    env = ENV | {"BUNDLE_CACHE_DIR": os.environ["BUNDLE_CACHE_DIR"]}
    bundle_cmd = [str(BIN / "bundle"), "batch", str(archive), str(source), str(ours), "-q"]
    hand_cmd = [sys.executable, str(script), str(folder), str(source), str(hand)]
    times: dict[str, list[float]] = {"bundle": [], "hand": []}
    run_once(bundle_cmd, env=env)  # the archive unpacked into the cache once, as after a first run
    for _ in range(3):
        times["bundle"].append(run_once(bundle_cmd, env=env)[0])
        times["hand"].append(run_once(hand_cmd, env=env)[0])
    assert ours.read_bytes() == hand.read_bytes(), "the hand-written loop wrote other answers"
    return {name: sorted(values)[1] for name, values in times.items()}


def _timed(job: Callable[[], Any]) -> float:
    start = time.perf_counter()
    job()
    return time.perf_counter() - start


def _ray(archive: Path, folder: Path, source: Path, work: Path) -> dict[str, float]:
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
    texts = source.read_text().splitlines()

    class Hand:
        def __init__(self) -> None:
            self.model = HandModel(str(folder))

        def __call__(self, batch: pa.Table) -> pa.Table:
            answers = self.model.answer(batch.column("request").to_pylist())
            return pa.table({"output": pa.array(answers, pa.string())})

    def hand(workers: int) -> None:
        size = 65536
        blocks = [pa.table({"request": texts[i : i + size]}) for i in range(0, len(texts), size)]
        data = ray.data.from_arrow(blocks).map_batches(
            Hand, compute=ActorPoolStrategy(size=workers), batch_size=None, batch_format="pyarrow"
        )
        with open(work / "ray-hand.jsonl", "w") as out:
            for batch in data.iter_batches(batch_size=None, batch_format="pyarrow"):
                out.write("".join(t + "\n" for t in batch.column("output").to_pylist()))

    def ours(workers: int) -> None:
        run_batch(archive, str(source), str(work / "ray.jsonl"), engine="ray", workers=workers)

    try:
        return _alternate({"bundle": ours, "hand": hand}, work, "ray")
    finally:
        ray.shutdown()


def _spark(archive: Path, folder: Path, source: Path, work: Path) -> dict[str, float]:
    from bundle_cli.batch import run_batch

    texts = source.read_text().splitlines()
    results: dict[str, float] = {}
    for workers in (1, 2):
        session = _spark_session(workers)
        try:
            jobs = {
                "bundle": lambda _: run_batch(
                    archive, str(source), str(work / "spark.jsonl"), engine="spark"
                ),
                "hand": _hand_spark(session, texts, folder, work),
            }
            results.update(_alternate(jobs, work, "spark", (workers,)))
        finally:
            session.stop()
    return results


def _hand_spark(session: Any, texts: list[str], folder: Path, work: Path) -> Callable[[int], None]:
    import pandas as pd

    def score(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        model = HandModel(str(folder))
        for part in frames:
            yield pd.DataFrame({"output": model.answer(part["request"].tolist())})

    def job(_: int) -> None:
        frame = session.createDataFrame(pd.DataFrame({"request": texts}))
        answers = frame.mapInPandas(score, "output string").toArrow()
        with open(work / "spark-hand.jsonl", "w") as out:
            out.write("".join(t + "\n" for t in answers.column("output").to_pylist()))

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
    jobs: dict[str, Callable[[int], None]],
    work: Path,
    engine: str,
    workers: tuple[int, ...] = (1, 2),
) -> dict[str, float]:
    """Each job with 1 and 2 workers, in turn, once warm; the outputs compared."""
    times: dict[str, float] = {}
    for n in workers:
        for name, job in jobs.items():
            job(n)  # warm: workers started once, the archive unpacked
            times[f"{name} {n}"] = _timed(lambda: job(n))  # noqa: B023
        ours, hand = work / f"{engine}.jsonl", work / f"{engine}-hand.jsonl"
        assert ours.read_bytes() == hand.read_bytes(), f"{engine}: the hand-written job differs"
    return times


def _report(
    rows: int, local: dict[str, float], ray: dict[str, float], spark: dict[str, float]
) -> str:
    def line(what: str, ours: float, hand: float, target: float) -> str:
        ratio = hand / ours
        mark = "yes" if ratio >= target else "NO"
        return f"| {what} | {ours:.2f} s ({rows / ours:,.0f}/s) | {hand:.2f} s ({rows / hand:,.0f}/s) | {ratio:.2f}x | {target}x: {mark} |"

    lines = [
        "## `bundle batch` (benchmarks/bench_batch.py)",
        "",
        f"{rows:,} rows of four floats through the tabular-sklearn example (`predict_batch_size = 64`); "
        "the hand-written code runs the same hooks and writes the same bytes (compared).",
        "",
        "| engine, workers | bundle batch | hand-written | speed vs hand-written | target |",
        "|---|---:|---:|---:|---|",
        line("local, 1 (whole processes, median of 3)", local["bundle"], local["hand"], 0.9),
    ]
    for engine, got in (("Ray", ray), ("Spark", spark)):
        for n in (1, 2):
            lines.append(line(f"{engine}, {n}", got[f"bundle {n}"], got[f"hand {n}"], 0.8))
    lines += [
        "",
        "Ray: one local instance of 3 CPUs, actor pools of 1 and 2; Spark: `local[1]` and `local[2]`"
        " sessions. Cluster start-up is left out of both sides; each job ran once warm, after one run "
        "that started its workers.",
        "",
        "Reproduce: `.venv/bin/python benchmarks/bench_batch.py [ROWS]`",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
