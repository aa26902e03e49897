"""How the rows of a job are cut into blocks, the unit an engine hands one worker at a time.

A block is a multiple of 64 rows, so a model whose `predict_batch_size` divides 64 (1, 2, 4, ...,
64) gets exactly the batches `bundle predict --jsonl` gives it: batches start at the first row of
the input and every 64th row after it. Larger batch sizes run over whole blocks too, but a batch
may then be cut at a block's end.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

ALIGN = 64
MAX_ROWS = 1 << 16  # a multiple of every power of two up to it
PER_WORKER = 4  # blocks per worker at least, so that a slow block does not hold up the rest


def block_rows(rows: int, workers: int) -> int:
    """Rows per block for `rows` rows on `workers` workers."""
    wanted = -(-rows // (workers * PER_WORKER))
    aligned = -(-wanted // ALIGN) * ALIGN
    return max(ALIGN, min(MAX_ROWS, aligned))


def blocks(table: pa.Table, workers: int) -> Iterator[pa.Table]:
    """`table` in consecutive slices of `block_rows` rows (one empty slice for no rows)."""
    size = block_rows(table.num_rows, workers)
    if table.num_rows == 0:
        yield table
        return
    for start in range(0, table.num_rows, size):
        yield table.slice(start, size)
