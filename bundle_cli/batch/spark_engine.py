"""Spark: a bundle archive as the function of `DataFrame.mapInPandas`.

```python
score, schema = bundle_cli.batch.spark_predictor("dist/iris-1.0.0.tar.gz")
answers = df.mapInPandas(score, schema)
```

The archive is verified on the driver and shipped with Spark's files (`SparkContext.addFile`);
each Python worker checks the file's sha256 against the verified one, unpacks it through the
machine's archive cache and loads the model once, for every partition it is given after that.
Executors run `PYSPARK_PYTHON` (else `python3`): that Python needs bundle-cli and the bundle's
requirements, and an error that finds them missing says so.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from bundle_cli.batch.shipment import Shipment, check_file, verified
from bundle_cli.batch.worker import Options, RemoteFailure, Worker, raise_in_order, recover
from bundle_cli.errors import (
    BundleError,
    EnvironmentMismatchError,
    MissingDependencyError,
    UsageError,
)

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd
    import pyarrow as pa


def spark_predictor(
    archive: str | Path | Shipment,
    *,
    input_schema: Any = None,
    keep: Iterable[str] = (),
    request_column: str | None = None,
    fail_fast: bool = False,
    source: str = "rows",
    line_column: str | None = None,
    isolated: bool = False,
) -> tuple[Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]], Any]:
    """`(function, schema)` for `df.mapInPandas(function, schema)` in the active SparkSession.

    Rows are read as by `ray_predictor`: the JSON text in `request_column`, else the JSON object of
    the row's columns without the `keep` columns, which are copied to the answers (their types come
    from `input_schema`, the frame's `df.schema`). The schema is the kept fields, `output` (string:
    the JSON text `bundle predict --jsonl` prints) and `failed` (boolean). Raises
    UnsafeArchiveError (exit 4) here, on the driver, when the archive does not verify. With
    `isolated`, each Python worker runs the bundle in its own environment (uv on its machine).
    """
    kept = tuple(keep)
    if kept and input_schema is None:
        raise UsageError("spark_predictor: keep needs input_schema (the frame's df.schema)")
    shipment = archive if isinstance(archive, Shipment) else verified(archive)
    options = Options(source, request_column, line_column, kept, fail_fast, isolated)
    return _function(shipment, options, input_schema)


def _function(shipment: Shipment, options: Options, input_schema: Any) -> tuple[Any, Any]:
    """The archive added to the active session's files; the function and its schema."""
    from pyspark.sql import SparkSession
    from pyspark.sql.types import BooleanType, StringType, StructField, StructType

    _quiet_about_pandas()
    session = SparkSession.getActiveSession()
    if session is None:
        raise UsageError("spark_predictor: no active SparkSession; create one first")
    session.sparkContext.addFile(str(shipment.path.resolve()))
    fields = [input_schema[name] for name in options.keep]
    schema = StructType(
        [
            *fields,
            StructField("output", StringType(), False),
            StructField("failed", BooleanType(), False),
        ]
    )
    return functools.partial(_score_partitions, shipment.name, shipment.sha256, options), schema


_workers: dict[tuple[str, Options], Worker] = {}  # loaded once per Python worker process


def _score_partitions(
    name: str, sha256: str, options: Options, frames: Iterator[pd.DataFrame]
) -> Iterator[pd.DataFrame]:
    import pyarrow as pa

    try:
        worker = _worker(name, sha256, options)
        for frame in frames:
            yield worker.score(pa.Table.from_pandas(frame, preserve_index=False)).to_pandas()
    except BundleError as exc:
        raise RemoteFailure.of(_name_the_python(exc)) from None


def _worker(name: str, sha256: str, options: Options) -> Worker:
    from pyspark import SparkFiles

    key = (sha256, options)
    if key not in _workers:
        path = SparkFiles.get(name)
        check_file(path, sha256)
        _workers[key] = Worker(path, options)
    return _workers[key]


def _name_the_python(error: BundleError) -> BundleError:
    """A missing module on an executor is its Python's, which PYSPARK_PYTHON picks."""
    if isinstance(error, EnvironmentMismatchError | MissingDependencyError):
        chosen = os.environ.get("PYSPARK_PYTHON")
        said = f"PYSPARK_PYTHON={chosen}" if chosen else "PYSPARK_PYTHON is not set"
        error.hint = (
            f"the Spark worker runs {sys.executable} ({said}); install the bundle's "
            "requirements there, or set PYSPARK_PYTHON to a Python that has them"
        )
    return error


def run(
    shipment: Shipment,
    table: pa.Table,
    options: Options,
    workers: int | None,
    master: str | None,
) -> Iterator[pa.Table]:
    """`bundle batch --engine spark`: the rows through mapInPandas, answers in order."""
    session, started = _session(master, workers)
    try:
        frame = session.createDataFrame(table)
        options = dataclasses.replace(options, in_order=True)
        score, schema = _function(shipment, options, frame.schema)
        try:
            answers = frame.mapInPandas(score, schema).toArrow()
        except Exception as exc:
            raise _on_driver(exc) from None
        yield from raise_in_order([answers], options)
    finally:
        if started:
            session.stop()


def _on_driver(exc: Exception) -> Exception:
    """The error a job's failure is reported as: the worker's own, when it raised one."""
    error = recover(exc)
    if error is not None:
        return error
    if "No module named 'bundle_cli'" in str(exc):
        chosen = os.environ.get("PYSPARK_PYTHON") or "python3 (PYSPARK_PYTHON is not set)"
        return EnvironmentMismatchError(
            f"the Spark workers' Python, {chosen}, does not have bundle-cli",
            hint="install bundle-cli and the bundle's requirements into the Python the "
            "executors run, or set PYSPARK_PYTHON to a Python that has them",
        )
    return exc


def _quiet_about_pandas() -> None:
    """PySpark 4.3 warns at every pandas UDF that pandas 3 is new to it; the tests ran it."""
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )


def _session(master: str | None, workers: int | None) -> tuple[Any, bool]:
    """The active SparkSession, or a new one on `master` (else `local[workers]`)."""
    from pyspark.sql import SparkSession

    _quiet_about_pandas()
    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    if master is None:  # on this machine: this very Python, the loopback interface only
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master(master or f"local[{workers or 1}]").appName(
        "bundle batch"
    )
    for key, value in {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        **({"spark.default.parallelism": str(workers)} if workers else {}),
    }.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session, True
