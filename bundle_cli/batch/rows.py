"""Rows as the batch engines carry them: Arrow tables in, Arrow tables out.

A row reaches the model as the JSON value `bundle predict --jsonl` would read for it: the text of
a `request` column (JSON Lines input keeps each line's text), or else the JSON object of the row's
columns (Parquet input, a Ray or Spark frame). The answer is the JSON text `predict --jsonl`
prints for it, in an `output` column beside a `failed` flag and any columns kept from the input.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bundle_cli.errors import InputDataError

if TYPE_CHECKING:
    import pyarrow as pa

OUTPUT, FAILED, LINE, REQUEST = "output", "failed", "line", "request"


def request_texts(table: pa.Table, request_column: str | None, keep: Sequence[str]) -> list[str]:
    """The JSON text of each row's request, in order."""
    if request_column is not None:
        return ["null" if v is None else v for v in table.column(request_column).to_pylist()]
    columns = [c for c in table.column_names if c not in keep]
    return [_row_json(row, n) for n, row in enumerate(table.select(columns).to_pylist(), 1)]


def output_table(
    table: pa.Table, keep: Sequence[str], outputs: list[str], failed: list[bool]
) -> pa.Table:
    """The kept input columns, then `output` (JSON text) and `failed`, one row per input row."""
    import pyarrow as pa

    columns = {name: table.column(name) for name in keep}
    columns[OUTPUT] = pa.array(outputs, pa.string())
    columns[FAILED] = pa.array(failed, pa.bool_())
    return pa.table(columns)


def output_schema(kept: Any = None) -> pa.Schema:
    """The schema `output_table` returns: `kept` fields (a pyarrow schema) first."""
    import pyarrow as pa

    fields = list(kept or [])
    return pa.schema([*fields, pa.field(OUTPUT, pa.string()), pa.field(FAILED, pa.bool_())])


def _row_json(row: dict[str, Any], number: int) -> str:
    try:
        return json.dumps(row, default=_plain, allow_nan=True)
    except TypeError as exc:
        raise InputDataError(f"row {number}: {exc}; give the model JSON-like columns") from None


def _plain(value: Any) -> Any:
    """What a Parquet column holds that JSON has no type for: times as ISO 8601 text."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    raise TypeError(f"a value of type {type(value).__name__} has no JSON form")
