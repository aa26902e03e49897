"""Ray Data: `bundle batch --engine ray` and `ray_predictor` give `bundle predict --jsonl`'s
answers; a failed row stops a --fail-fast job with its own error; the actor pool stays below the
cluster's CPUs unless asked (ray#44687). One local Ray instance serves the module."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bundle_cli.batch import ray_pool, ray_predictor, run_batch
from bundle_cli.errors import BundleWarning, InputDataError
from tests.batch.conftest import AVAILABLE, Example

pytestmark = pytest.mark.batch


@pytest.fixture(scope="module")
def ray_local(cache_dir: Path) -> Iterator[Any]:
    import ray

    ray.init(
        num_cpus=3,
        include_dashboard=False,
        logging_level=logging.WARNING,
        _node_ip_address="127.0.0.1",
        _temp_dir=str(cache_dir / "ray"),
    )
    yield ray
    ray.shutdown()


@pytest.mark.parametrize("name", AVAILABLE)
def test_same_answers_as_predict_jsonl(
    name: str, examples: dict[str, Example], ray_local: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = examples[name]
    monkeypatch.chdir(example.input.parent)  # the input named as predict was given it
    out = example.input.with_suffix(".ray.jsonl")
    summary = run_batch(example.archive, example.input.name, str(out), engine="ray", workers=2)
    assert out.read_bytes() == example.expected
    assert summary.rows == 149 and summary.failures == example.expected.count(b'{"error": ')


def test_ray_predictor_answers_rows_of_columns_and_keeps_a_column(
    examples: dict[str, Example], ray_local: Any, tmp_path: Path
) -> None:
    example = examples["tabular-sklearn"]
    lines = [ln for ln in example.input.read_text().splitlines() if ln.startswith('{"flowers"')]
    rows = [{"id": n, **json.loads(line)} for n, line in enumerate(lines)]
    dataset = ray_local.data.from_items(rows)
    predictor = ray_predictor(example.archive, keep=["id"])
    answers = dataset.map_batches(predictor, compute=ray_pool(1), batch_format="pandas")
    got = {row["id"]: (row["output"], row["failed"]) for row in answers.take_all()}
    expected = [json.loads(out) for out in example.expected.decode().splitlines()]
    assert len(got) == len(rows)
    for n, line in enumerate(lines):
        at = example.input.read_text().splitlines().index(line)
        # every valid line of the input has its answer at the same place in predict's output
        assert json.loads(got[n][0]) == expected[at - (at > 70)] and not got[n][1]


def test_the_pool_stays_below_the_cluster_cpus_unless_asked(ray_local: Any) -> None:
    assert ray_pool().max_size == 2  # 3 CPUs
    with pytest.warns(BundleWarning, match="44687"):
        assert ray_pool(3).max_size == 3


def test_fail_fast_raises_the_first_failed_rows_error(
    examples: dict[str, Example], ray_local: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    example = examples["tabular-sklearn"]
    monkeypatch.chdir(example.input.parent)
    out = tmp_path / "out.jsonl"
    for _ in range(3):  # two actors: the later block's KeyError may come back first
        with pytest.raises(InputDataError) as raised:
            run_batch(example.archive, example.input.name, str(out), engine="ray", fail_fast=True)
        assert raised.value.message.startswith(f"{example.input.name}:4:2: not valid JSON")
    assert not out.exists()
