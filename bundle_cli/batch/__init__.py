"""Batch inference with a bundle archive: on this machine, on Ray Data, on Spark.

`run_batch` is `bundle batch`; `ray_predictor` and `spark_predictor` plug an archive into a
pipeline of one's own (`Dataset.map_batches`, `DataFrame.mapInPandas`). Every engine runs the same
Worker over blocks of rows, so the answers are those of `bundle predict --jsonl`. The engines are
optional extras (`pip install '.[ray]'`, `'.[spark]'` from this folder), imported
only when used.
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False
if TYPE_CHECKING:
    from bundle_cli.batch.ray_engine import ray_pool as ray_pool
    from bundle_cli.batch.ray_engine import ray_predictor as ray_predictor
    from bundle_cli.batch.run import BatchSummary as BatchSummary
    from bundle_cli.batch.run import run_batch as run_batch
    from bundle_cli.batch.spark_engine import spark_predictor as spark_predictor

_API = {
    "run_batch": "bundle_cli.batch.run",
    "BatchSummary": "bundle_cli.batch.run",
    "ray_predictor": "bundle_cli.batch.ray_engine",
    "ray_pool": "bundle_cli.batch.ray_engine",
    "spark_predictor": "bundle_cli.batch.spark_engine",
}

__all__ = list(_API)


def __getattr__(name: str) -> object:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'bundle_cli.batch' has no attribute {name!r}")
    return getattr(import_module(module), name)
