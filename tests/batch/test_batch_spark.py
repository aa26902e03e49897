"""Spark: `bundle batch --engine spark` and `spark_predictor` give `bundle predict --jsonl`'s
answers; an executor Python without the bundle's requirements is named with PYSPARK_PYTHON.
One local[2] SparkSession on 127.0.0.1 serves the module (a session takes ~10 s to start)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bundle_cli.batch import run_batch, spark_predictor
from bundle_cli.errors import EnvironmentMismatchError, InputDataError
from tests.batch.conftest import AVAILABLE, Example, Run
from tests.conftest import build_tree

pytestmark = pytest.mark.batch


@pytest.fixture(scope="module")
def spark(cache_dir: Path) -> Iterator[Any]:
    from pyspark.sql import SparkSession

    with pytest.MonkeyPatch.context() as env:
        env.setenv("PYSPARK_PYTHON", sys.executable)
        env.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        session = (
            SparkSession.builder.master("local[2]")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        yield session
        session.stop()


@pytest.mark.parametrize("name", AVAILABLE)
def test_same_answers_as_predict_jsonl(
    name: str, examples: dict[str, Example], spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = examples[name]
    monkeypatch.chdir(example.input.parent)
    out = example.input.with_suffix(".spark.jsonl")
    summary = run_batch(example.archive, example.input.name, str(out), engine="spark")
    assert out.read_bytes() == example.expected
    assert summary.rows == 149 and summary.failures == example.expected.count(b'{"error": ')


def test_fail_fast_raises_the_first_failed_rows_error_whichever_partition_fails_first(
    examples: dict[str, Example], spark: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    example = examples["tabular-sklearn"]  # line 4 is not JSON; a later partition's rows raise
    monkeypatch.chdir(example.input.parent)
    out = tmp_path / "out.jsonl"
    for _ in range(3):
        with pytest.raises(InputDataError) as raised:
            run_batch(example.archive, example.input.name, str(out), engine="spark", fail_fast=True)
        assert raised.value.message.startswith(f"{example.input.name}:4:2: not valid JSON")
    assert not out.exists()


def test_spark_predictor_answers_rows_of_columns_and_keeps_a_column(
    examples: dict[str, Example], spark: Any, run_bundle: Run, tmp_path: Path
) -> None:
    example = examples["tabular-sklearn"]
    lines = [ln for ln in example.input.read_text().splitlines() if ln.startswith('{"flowers"')]
    lines = [ln for ln in lines if len(json.loads(ln)["flowers"]) == 1]
    frame = spark.createDataFrame(
        [(n, json.loads(line)["flowers"][0]) for n, line in enumerate(lines)],
        "id long, flower struct<sepal_length double, sepal_width double, petal_length double, petal_width double>",
    )
    frame = frame.selectExpr("id", "array(flower) as flowers")
    score, schema = spark_predictor(example.archive, input_schema=frame.schema, keep=["id"])
    assert [f.name for f in schema.fields] == ["id", "output", "failed"]
    got = {row.id: row.output for row in frame.mapInPandas(score, schema).collect()}
    requests = tmp_path / "in.jsonl"
    requests.write_text("".join(f"{line}\n" for line in lines))
    predicted = run_bundle("predict", str(example.archive), "--jsonl", "-i", str(requests))
    assert [got[n] for n in range(len(lines))] == predicted.stdout.splitlines()


MISSING = {
    "config.yaml": "model_name: needs-more\nrequirements:\n  - no-such-package-here>=1\n",
    "model/__init__.py": "",
    "model/model.py": (
        "class Model:\n"
        "    def load(self):\n"
        "        import no_such_package_here\n"
        "    def predict(self, x):\n"
        "        return x\n"
    ),
}


def test_an_executor_python_without_the_requirements_is_named(
    spark: Any, run_bundle: Run, tmp_path: Path
) -> None:
    folder = build_tree(tmp_path / "needs-more", MISSING)
    archive = tmp_path / "needs-more.tar.gz"
    assert run_bundle("package", str(folder), "-o", str(archive), "-q").returncode == 0
    (tmp_path / "in.jsonl").write_text("1\n2\n")
    with pytest.raises(EnvironmentMismatchError) as raised:
        run_batch(archive, str(tmp_path / "in.jsonl"), str(tmp_path / "out.jsonl"), engine="spark")
    said = str(raised.value)
    assert "no_such_package_here" in said and raised.value.exit_code == 5
    assert f"the Spark worker runs {sys.executable}" in said
    assert f"PYSPARK_PYTHON={os.environ.get('PYSPARK_PYTHON', sys.executable)}" in said
    assert not (tmp_path / "out.jsonl").exists()


def test_the_command_runs_spark_end_to_end(examples: dict[str, Example], run_bundle: Run) -> None:
    example = examples["tabular-sklearn"]
    out = example.input.with_suffix(".spark-cli.jsonl")
    result = run_bundle(
        "batch",
        str(example.archive),
        example.input.name,
        str(out),
        "-e",
        "spark",
        "-w",
        "2",
        cwd=example.input.parent,
    )
    assert out.read_bytes() == example.expected, result.stderr
    assert result.returncode == example.exit_code and "engine spark" in result.stderr
