"""Ray Data: a bundle archive as the callable class of `Dataset.map_batches`.

```python
predictor = bundle_cli.batch.ray_predictor("dist/iris-1.0.0.tar.gz")
answers = ds.map_batches(predictor, compute=bundle_cli.batch.ray_pool(), batch_format="pandas")
```

The archive is verified on the driver and put in Ray's object store as bytes; each actor checks
the bytes' sha256 against the verified one, unpacks them through the machine's archive cache and
loads the model once. Nothing loaded on the driver is ever pickled to a worker.
"""

from __future__ import annotations

import dataclasses
import hashlib
import warnings
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from bundle_cli.batch.shipment import Received, Shipment, check, verified
from bundle_cli.batch.worker import Options, RemoteFailure, Worker, raise_in_order, recover
from bundle_cli.errors import BundleError, BundleWarning

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa

DEADLOCK = "https://github.com/ray-project/ray/issues/44687"


class RayPredictor:
    """What `ray_predictor` returns a subclass of: one instance per Ray actor."""

    shipment: Shipment
    archive_ref: Any  # the ObjectRef of the archive's bytes
    options: Options

    def __init__(self) -> None:
        import ray

        try:
            data = ray.get(self.archive_ref)
            check(hashlib.sha256(data).hexdigest(), self.shipment.sha256, self.shipment.name)
            received = Received(self.shipment.name, data)
            try:
                self.worker = Worker(received.path, self.options)
            finally:
                received.close()
        except BundleError as exc:
            raise RemoteFailure.of(exc) from None

    def __call__(self, batch: Any) -> Any:
        """Answers for a batch (a dict of columns, a pandas DataFrame or an Arrow table), in
        the same form."""
        try:
            answers = self.worker.score(_as_table(batch))
        except BundleError as exc:
            raise RemoteFailure.of(exc) from None
        return _like(answers, batch)


def ray_predictor(
    archive: str | Path | Shipment,
    *,
    request_column: str | None = None,
    keep: Iterable[str] = (),
    fail_fast: bool = False,
    source: str = "rows",
    line_column: str | None = None,
    isolated: bool = False,
) -> type[RayPredictor]:
    """A callable class for `Dataset.map_batches(cls, compute=ActorPoolStrategy(size=n))`.

    Each row is one request: the JSON text in `request_column`, or else the JSON object of the
    row's columns (without the `keep` columns, which are copied to the answers). The answers hold
    the `keep` columns, `output` (the JSON text `bundle predict --jsonl` prints) and `failed`; a
    row whose hooks raise gets an error record, or with `fail_fast` stops the job. With
    `isolated`, each actor runs the bundle in its own environment (uv on its node). Raises
    UnsafeArchiveError (exit 4) here, on the driver, when the archive does not verify.
    """
    shipment = archive if isinstance(archive, Shipment) else verified(archive)
    options = Options(source, request_column, line_column, tuple(keep), fail_fast, isolated)
    return _predictor(shipment, options)


def _predictor(shipment: Shipment, options: Options) -> type[RayPredictor]:
    import ray

    attributes = {
        "shipment": shipment,
        "archive_ref": ray.put(shipment.read()),
        "options": options,
        "__module__": __name__,
    }
    return type("BundlePredictor", (RayPredictor,), attributes)


def ray_pool(size: int | None = None) -> Any:
    """An `ActorPoolStrategy` of `size` actors, by default one below the cluster's CPUs.

    An actor pool that takes every CPU can hang for good when an all-to-all step (a repartition,
    a sort, a shuffle) precedes it (ray#44687): asking for that many warns."""
    import ray
    from ray.data import ActorPoolStrategy

    cpus = int(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call, unused-ignore]
    if size is None:
        size = max(1, cpus - 1)
    elif size >= cpus > 1:
        warnings.warn(
            BundleWarning(
                f"{size} Ray actors on a cluster of {cpus} CPUs: after a repartition, sort or "
                f"shuffle, Ray Data can hang without an error ({DEADLOCK}); {cpus - 1} or fewer "
                "avoid it"
            ),
            stacklevel=2,
        )
    return ActorPoolStrategy(size=size)


def run(
    shipment: Shipment,
    blocks: Iterable[pa.Table],
    options: Options,
    workers: int | None,
    address: str | None,
) -> Iterator[pa.Table]:
    """`bundle batch --engine ray`: the blocks through an actor pool, answers in order."""
    import ray

    started = _start(address, workers)
    try:
        from ray.data import DataContext

        context = DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        data = ray.data.from_arrow(list(blocks))
        options = dataclasses.replace(options, in_order=True)
        predictor = _predictor(shipment, options)
        answers = data.map_batches(
            predictor, compute=ray_pool(workers), batch_size=None, batch_format="pyarrow"
        )
        try:
            tables = answers.iter_batches(batch_size=None, batch_format="pyarrow")
            yield from raise_in_order(tables, options)
        except Exception as exc:
            error = recover(exc)
            if error is None:
                raise
            raise error from None
    finally:
        if started:
            ray.shutdown()


def _start(address: str | None, workers: int | None) -> bool:
    """Join the cluster at `address`, or start one on this machine with a CPU to spare."""
    import logging

    import ray

    if ray.is_initialized():
        return False
    # A cluster of this machine only listens on the loopback interface.
    local = {} if address else {"num_cpus": (workers or 1) + 1, "_node_ip_address": "127.0.0.1"}
    ray.init(
        address=address,
        include_dashboard=False,
        logging_level=logging.WARNING,
        log_to_driver=True,
        **local,  # type: ignore[arg-type, unused-ignore]  # used only where ray is installed
    )
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # not a line per dataset it runs
    return True


def _as_table(batch: Any) -> pa.Table:
    import pyarrow as pa

    if isinstance(batch, pa.Table):
        return batch
    if isinstance(batch, dict):
        return pa.table({name: _column(values) for name, values in batch.items()})
    return pa.Table.from_pandas(batch, preserve_index=False)


def _column(values: Any) -> pa.Array:
    import pyarrow as pa

    if getattr(values, "ndim", 1) > 1:  # a tensor column: one nested list per row
        return pa.array(values.tolist())
    return pa.array(values)


def _like(answers: pa.Table, batch: Any) -> Any:
    import pyarrow as pa

    if isinstance(batch, pa.Table):
        return answers
    if isinstance(batch, dict):
        columns = answers.column_names
        return {name: answers.column(name).to_numpy(zero_copy_only=False) for name in columns}
    return answers.to_pandas()
