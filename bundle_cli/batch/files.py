"""`bundle batch`'s input and output files: JSON Lines or Parquet, read and written with pyarrow.

A JSON Lines input keeps each non-blank line's text and number (blank lines are skipped, as
`bundle predict --jsonl` skips them); a Parquet input keeps its columns, each row being one request.
The output is written atomically: a JSON Lines file of exactly what `bundle predict --jsonl
--keep-going` prints, or a Parquet file with the kept columns, `output` (that JSON text) and
`failed`.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from bundle_cli.batch.rows import FAILED, OUTPUT
from bundle_cli.errors import InputDataError, UsageError

if TYPE_CHECKING:
    import pyarrow as pa

LINE, REQUEST = "__bundle_line__", "__bundle_request__"  # the rows' own columns never clash
PARQUET = (".parquet", ".pq")


@dataclass
class Input:
    """The rows of an input file, with how workers read them."""

    table: pa.Table
    source: str  # what messages name
    request_column: str | None  # JSON Lines: the text of each line; Parquet: None (the columns)
    keep: tuple[str, ...]  # columns copied to the output, beside the internal line number


def is_parquet(path: str) -> bool:
    return path.lower().endswith(PARQUET)


def read_input(path: str, keep: Sequence[str] = ()) -> Input:
    """The rows of `path` (`-`: JSON Lines on stdin), with their line numbers."""
    import pyarrow as pa

    source = "<stdin>" if path == "-" else path
    if is_parquet(path):
        table = _read_parquet(path, keep)
        numbers = pa.array(range(1, table.num_rows + 1), pa.int64())
        return Input(table.append_column(LINE, numbers), source, None, (LINE, *keep))
    if keep:
        raise UsageError(f"--keep {keep[0]}: JSON Lines rows have no columns; use a Parquet input")
    numbers, texts = _read_lines(path, source)
    table = pa.table({LINE: pa.array(numbers, pa.int64()), REQUEST: pa.array(texts, pa.string())})
    return Input(table, source, REQUEST, (LINE,))


def _read_lines(path: str, source: str) -> tuple[list[int], list[str]]:
    """The numbers and texts of the non-blank lines. The text is read whole and split at once
    (newlines translated as a text file's iteration does), not a line at a time: at a million
    rows the per-line loop was a visible share of a job."""
    try:
        with _text_input(path) as handle:
            lines = handle.read().split("\n")
    except UnicodeDecodeError as exc:
        raise InputDataError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    numbers = [n for n, line in enumerate(lines, 1) if line and not line.isspace()]
    if len(numbers) == len(lines):
        return numbers, lines
    return numbers, [lines[n - 1] for n in numbers]


@contextlib.contextmanager
def _text_input(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdin
        return
    if not Path(path).is_file():
        what = "is a folder, not a file" if Path(path).is_dir() else "no such input file"
        raise UsageError(f"{path}: {what}")
    with open(path, encoding="utf-8-sig") as handle:
        yield handle


def _read_parquet(path: str, keep: Sequence[str]) -> pa.Table:
    import pyarrow.parquet as pq

    if not Path(path).is_file():
        raise UsageError(f"{path}: no such input file")
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow's errors (ArrowInvalid, OSError) say what is wrong
        raise InputDataError(f"{path}: not a Parquet file pyarrow can read: {exc}") from None
    missing = [c for c in keep if c not in table.column_names]
    if missing:
        have = ", ".join(table.column_names)
        raise UsageError(f"--keep {missing[0]}: {path} has no such column; it has {have}")
    reserved = [c for c in (LINE, REQUEST) if c in table.column_names]
    reserved += [c for c in (OUTPUT, FAILED) if c in keep]
    if reserved:
        raise UsageError(f"{path}: the column name {reserved[0]} is bundle batch's own; rename it")
    return table


def check_output(path: str, keep: Sequence[str]) -> Path | None:
    """The output file (None: stdout), checked before any job starts."""
    if path == "-":
        if keep:
            raise UsageError("--keep needs a Parquet output; stdout gets JSON Lines")
        return None
    from bundle_cli.atomic import destination

    target = Path(path)
    if keep and not is_parquet(path):
        raise UsageError(f"--keep needs a Parquet output ({', '.join(PARQUET)}), not {path}")
    destination(target)  # a folder, device or unreachable path is refused now
    return target


def write_output(target: Path | None, tables: Iterable[pa.Table]) -> None:
    """Every table's rows, in order; a file is replaced only when all were written."""
    if target is None:
        _write_lines(sys.stdout, tables)
        sys.stdout.flush()
        return
    from bundle_cli.atomic import atomic_write, make_parents

    make_parents(target)
    binary = is_parquet(str(target))
    with atomic_write(target, binary=binary) as handle:
        if binary:
            _write_parquet(handle, tables)
        else:
            _write_lines(handle, tables)


def _write_lines(handle: IO[str], tables: Iterable[pa.Table]) -> None:
    for table in tables:
        texts = table.column(OUTPUT).to_pylist()
        if texts:
            handle.write("\n".join(texts) + "\n")


def _write_parquet(handle: IO[Any], tables: Iterable[pa.Table]) -> None:
    import pyarrow.parquet as pq

    writer = None
    try:
        for table in tables:
            table = table.drop_columns([c for c in (LINE,) if c in table.column_names])
            if writer is None:
                writer = pq.ParquetWriter(handle, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
