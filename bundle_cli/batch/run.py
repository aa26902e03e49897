"""`bundle batch ARCHIVE INPUT OUTPUT`: one job, whatever the engine.

Everything that can be checked is checked on the driver before any job starts: the engine and
options, the output path, the archive (verified byte by byte: exit 4), the input file. Then the
engine answers the rows block by block, in order, and the output is written atomically.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bundle_cli.batch import blocks as cutting
from bundle_cli.batch import files
from bundle_cli.batch.rows import FAILED, OUTPUT, output_table
from bundle_cli.batch.shipment import verified
from bundle_cli.batch.worker import Options
from bundle_cli.errors import UsageError

if TYPE_CHECKING:
    import pyarrow as pa

ENGINES = ("local", "ray", "spark")


@dataclass
class BatchSummary:
    """What a job did: rows answered, rows failed (each has an error record), time taken."""

    engine: str
    workers: int | None
    rows: int = 0
    failures: int = 0
    seconds: float = 0.0
    output: str = "-"
    first_failures: list[dict[str, Any]] = field(default_factory=list)  # up to 5 error records

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.failures == 0,
            "engine": self.engine,
            "workers": self.workers,
            "rows": self.rows,
            "failures": self.failures,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second, 1),
            "output": self.output,
            "first_failures": self.first_failures,
        }


def run_batch(
    archive: str | Path,
    input: str,
    output: str,
    *,
    engine: str = "local",
    workers: int | None = None,
    address: str | None = None,
    master: str | None = None,
    fail_fast: bool = False,
    keep: Sequence[str] = (),
    isolated: bool = False,
    progress: Callable[[int, int], Any] | None = None,
) -> BatchSummary:
    """Answer every row of `input` with the bundle `archive`, into `output` (`-`: stdout).

    With `isolated`, each worker runs the bundle in its own environment (built with uv on the
    worker's machine, as `bundle predict --isolated` does). `progress(done, total)` is called as
    rows are answered. Raises UnsafeArchiveError (exit 4)
    before any job starts when the archive does not verify, UsageError for bad options, and the
    first failed row's error with `fail_fast`."""
    _check_options(engine, workers, address, master)
    target = files.check_output(output, keep)
    shipment = verified(archive)
    rows = files.read_input(input, keep)
    options = Options(rows.source, rows.request_column, files.LINE, rows.keep, fail_fast, isolated)
    summary = BatchSummary(engine, workers, output=output)
    start = time.perf_counter()
    if rows.table.num_rows == 0:  # nothing to answer: no engine, no model load
        answers: Iterable[pa.Table] = [output_table(rows.table, rows.keep, [], [])]
    elif engine == "local":
        from bundle_cli.batch import local

        parts = cutting.blocks(rows.table, workers or 1)
        answers = local.run(shipment.path, parts, options, workers or 1)
    elif engine == "ray":
        from bundle_cli.batch import ray_engine

        parts = cutting.blocks(rows.table, workers or 2)
        answers = ray_engine.run(shipment, parts, options, workers, address)
    else:
        from bundle_cli.batch import spark_engine

        answers = spark_engine.run(shipment, rows.table, options, workers, master)
    total = rows.table.num_rows
    files.write_output(target, _counted(answers, summary, total, progress))
    summary.seconds = time.perf_counter() - start
    return summary


def _check_options(
    engine: str, workers: int | None, address: str | None, master: str | None
) -> None:
    if engine not in ENGINES:
        raise UsageError(f"--engine {engine}: use one of {', '.join(ENGINES)}")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers {workers}: give 1 or more")
    if address is not None and engine != "ray":
        raise UsageError("--address joins a Ray cluster: it goes with --engine ray")
    if master is not None and engine != "spark":
        raise UsageError("--master names a Spark master: it goes with --engine spark")


def _counted(
    answers: Iterable[pa.Table],
    summary: BatchSummary,
    total: int,
    progress: Callable[[int, int], Any] | None,
) -> Iterator[pa.Table]:
    import pyarrow.compute as pc

    for table in answers:
        summary.rows += table.num_rows
        failures = pc.sum(table.column(FAILED).cast("int64")).as_py() or 0
        summary.failures += failures
        if len(summary.first_failures) < 5 and failures:
            failed, texts = table.column(FAILED).to_pylist(), table.column(OUTPUT).to_pylist()
            for text, bad in zip(texts, failed, strict=True):
                if bad and len(summary.first_failures) < 5:
                    summary.first_failures.append(json.loads(text)["error"])
        if progress is not None:
            progress(summary.rows, total)
        yield table
