"""One loaded bundle scoring tables of rows: what every engine runs on each of its workers.

The rows go to the runner seam as one JSON Lines `Request` with `keep_going`, the request of
`bundle predict --jsonl --keep-going`, so the hooks, `predict_batch_size`, the JSON encoding and
the error records are the runtime's own. A table is a slice of a larger input: its rows carry their line numbers in the
whole input, and messages and error records name those lines, as `bundle predict` would.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bundle_cli.batch.rows import FAILED, OUTPUT, output_table, request_texts
from bundle_cli.errors import BundleError, InputDataError

if TYPE_CHECKING:
    import pyarrow as pa

    from bundle_cli.runtime.runner import Runner


@dataclass(frozen=True)
class Options:
    """How a worker reads its rows and reports failures (the same on every worker of a job)."""

    source: str = "rows"  # what messages name: `input.jsonl:7: ...`
    request_column: str | None = None  # a column of JSON text; else each row's columns
    line_column: str | None = None  # the rows' line numbers in the whole input; else 1..n
    keep: tuple[str, ...] = field(default_factory=tuple)  # copied to the output, not given
    fail_fast: bool = False  # the first failed row stops the job instead of an error record
    isolated: bool = False  # the bundle in its own environment (`--isolated`), over a pipe
    # With fail_fast: a table's first failed row carries its error back in its output, for the
    # driver to raise in input order (`raise_in_order`). Raised on a worker instead, the error
    # of whichever worker failed first would stop a parallel job, not the first failed row's.
    in_order: bool = False


class Worker:
    """A bundle loaded once, answering tables of rows."""

    def __init__(self, archive: str | Path, options: Options) -> None:
        self.options = options
        with _prints_to_stderr():
            self.runner: Runner = _open(archive, options.isolated)

    def score(self, table: pa.Table) -> pa.Table:
        """The answers to the rows of `table`, one output row per input row, in order."""
        opts = self.options
        texts = request_texts(table, opts.request_column, opts.keep)
        lines = table.column(opts.line_column).to_pylist() if opts.line_column else None
        outputs, failed = self.answer(texts, lines)
        return output_table(table, opts.keep, outputs, failed)

    def answer(
        self, texts: Sequence[str], lines: Sequence[int] | None
    ) -> tuple[list[str], list[bool]]:
        """Output lines and failed flags for JSON texts whose input lines are `lines`."""
        numbers = list(lines) if lines is not None else list(range(1, len(texts) + 1))
        empty = next((n for n, t in zip(numbers, texts, strict=True) if not t or t.isspace()), None)
        if empty is not None:
            raise InputDataError(f"{self.options.source}:{empty}: the request is empty")
        from bundle_cli.runtime.runner import Request

        source = self.options.source
        with _prints_to_stderr():
            replies = self.runner.serve(Request(lines=texts, label=source, keep_going=True))
            outputs = [line for batch in replies.batches() for line in batch]
        failures = replies.failures
        failed = [False] * len(outputs)
        for error in failures:
            first, last = _span(str(getattr(error, "line", "")))
            for index in range(first - 1, last):
                failed[index] = True
                outputs[index] = _renumber_record(outputs[index], source, numbers)
        if failures and self.options.fail_fast:
            error = _as_global(failures[0], source, numbers)
            if not self.options.in_order:
                raise error
            outputs[failed.index(True)] = str(RemoteFailure.of(error))
        return outputs, failed

    def close(self) -> None:
        self.runner.close()


def raise_in_order(tables: Iterable[pa.Table], options: Options) -> Iterator[pa.Table]:
    """The tables of a job run with `in_order`, in input order, up to the first with a failed
    row: that row's error is raised, as the worker would have raised it."""
    import pyarrow.compute as pc

    for table in tables:
        if options.fail_fast and pc.any(table.column(FAILED)).as_py():
            first = table.column(FAILED).to_pylist().index(True)
            failure = RemoteFailure(table.column(OUTPUT)[first].as_py())
            raise (recover(failure) or failure) from None
        yield table


def _open(archive: str | Path, isolated: bool) -> Runner:
    if isolated:
        from bundle_cli.runtime.isolated import open_isolated

        return open_isolated(archive)
    from bundle_cli.runtime import load

    return load(archive)


def _prints_to_stderr() -> contextlib.AbstractContextManager[Any]:
    """The model's print() goes to stderr: stdout may carry the answers or a --json summary."""
    return contextlib.redirect_stdout(sys.stderr)


class RemoteFailure(Exception):
    """A BundleError raised on a cluster worker, in a form that survives the engine's own
    wrapping: its text carries the message, exit code and the model's traceback, which the
    driver turns back into the error with `recover`."""

    MARK = "bundle-batch-failure:"

    @classmethod
    def of(cls, error: BundleError) -> RemoteFailure:
        from bundle_cli.runtime.runner import error_to_json

        encoded = base64.b64encode(json.dumps(error_to_json(error)).encode("utf-8"))
        return cls(f"{error.message} ({cls.MARK}{encoded.decode('ascii')})")


_MARKED = re.compile(re.escape(RemoteFailure.MARK) + r"([A-Za-z0-9+/=]+)")


def recover(exc: BaseException) -> BundleError | None:
    """The BundleError a worker raised, from the exception an engine raised on the driver."""
    from bundle_cli.runtime.runner import error_from_json

    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        found = _MARKED.search(str(cause))
        if found:
            return error_from_json(json.loads(base64.b64decode(found.group(1))))
        cause = cause.__cause__ or cause.__context__
    return None


def _span(where: str) -> tuple[int, int]:
    """`src:7` -> (7, 7); `src:1-64` (a batch that failed as a whole) -> (1, 64)."""
    first, _, last = where.rpartition(":")[2].partition("-")
    return int(first), int(last or first)


def _renumber(text: str, source: str, numbers: Sequence[int]) -> str:
    """`src:N...` (N counted in this table) as `src:LINE...` (counted in the whole input)."""
    pattern = re.compile(rf"^(error: )?{re.escape(source)}:(\d+)(?:-(\d+))?")

    def whole(found: re.Match[str]) -> str:
        first = numbers[int(found.group(2)) - 1]
        last = f"-{numbers[int(found.group(3)) - 1]}" if found.group(3) else ""
        return f"{found.group(1) or ''}{source}:{first}{last}"

    return pattern.sub(whole, text, count=1)


def _renumber_record(record: str, source: str, numbers: Sequence[int]) -> str:
    data = json.loads(record)
    error = data["error"]
    error["message"] = _renumber(error["message"], source, numbers)
    if isinstance(error["line"], int):
        error["line"] = numbers[error["line"] - 1]
    return json.dumps(data)


def _as_global(error: BundleError, source: str, numbers: Sequence[int]) -> BundleError:
    error.message = _renumber(error.message, source, numbers)
    error.args = (error.message,)
    error.line = _renumber(str(getattr(error, "line", "")), source, numbers)  # type: ignore[attr-defined]
    return error
