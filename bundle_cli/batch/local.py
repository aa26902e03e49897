"""`--engine local`: the blocks of a job on this machine, in this process or in N processes.

The same Worker as on a cluster, without a cluster: with one worker the bundle loads in this
process; with more, each process of a pool loads it once and answers whole blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from bundle_cli.batch.worker import Options, RemoteFailure, Worker, recover
from bundle_cli.errors import BundleError

if TYPE_CHECKING:
    import pyarrow as pa


def run(
    archive: Path, blocks: Iterable[pa.Table], options: Options, workers: int = 1
) -> Iterator[pa.Table]:
    """The answers to each block, in order."""
    if workers == 1:
        worker = Worker(archive, options)
        try:
            yield from map(worker.score, blocks)
        finally:
            worker.close()
        return
    jobs = ((archive, options, block) for block in blocks)
    with ProcessPoolExecutor(workers) as pool:
        try:
            yield from pool.map(_score, jobs)
        except RemoteFailure as exc:
            raise (recover(exc) or exc) from None


_worker: Worker | None = None  # the bundle loaded in this pool process, on its first block


def _score(job: tuple[Path, Options, pa.Table]) -> pa.Table:
    global _worker
    archive, options, block = job
    try:
        if _worker is None:
            _worker = Worker(archive, options)
        return _worker.score(block)
    except BundleError as exc:
        raise RemoteFailure.of(exc) from None
