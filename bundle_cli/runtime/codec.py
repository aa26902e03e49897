"""JSON in and out: input errors with line and column, outputs of the common ML types.

Encoding rules (documented in the README):
- numpy arrays and torch tensors become nested lists (tensors are detached and moved to CPU
  first); numpy and torch scalars become numbers;
- a pandas DataFrame becomes a list of row records, or `{index: {column: value}}` when its index
  is not the default 0..n-1; a Series becomes a list, or `{index: value}` likewise;
- dataclasses become objects, pydantic models their `model_dump(mode="json")`;
- bytes become a base64 string; datetime, date and time become ISO 8601 strings;
- NaN, Infinity and -Infinity (which JSON cannot express) become null.
"""

from __future__ import annotations

import base64
import json
import math
import sys
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

from bundle_cli.errors import InputDataError, OutputEncodingError


class _Unencodable(TypeError):
    def __init__(self, value: Any) -> None:
        super().__init__(type(value).__name__)
        self.value = value


def decode(text: str, source: str) -> Any:
    """Parse one JSON document; errors name `source:line:column`."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputDataError(
            f"{source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise InputDataError(f"{source}: {beyond_limits(exc)}") from None


def beyond_limits(exc: ValueError | RecursionError) -> str:
    """What json.loads refused in valid JSON: too deep a nesting, or too long an integer."""
    if isinstance(exc, RecursionError):
        return f"nested too deeply (the limit is about {sys.getrecursionlimit()} levels)"
    if "digits" in str(exc):
        return f"an integer of more than {sys.get_int_max_str_digits()} digits"
    return str(exc)


def iter_jsonl(
    lines: Iterable[str], source: str, *, keep_going: bool = False
) -> Iterator[tuple[int, Any]]:
    """(line number, value) for each non-blank line of a JSON Lines stream. A line that is not
    JSON raises InputDataError naming `source:line:column`, or with `keep_going` is yielded
    with that error as its value."""
    loads = json.loads
    for number, line in enumerate(lines, 1):
        if not line or line.isspace():
            continue
        try:
            value = loads(line)
        except json.JSONDecodeError as exc:
            value = InputDataError(f"{source}:{number}:{exc.colno}: not valid JSON: {exc.msg}")
        except (ValueError, RecursionError) as exc:
            value = InputDataError(f"{source}:{number}: {beyond_limits(exc)}")
        if isinstance(value, InputDataError) and not keep_going:
            raise value
        yield number, value


def dumps(value: Any, hook: str, *, indent: int | None = None) -> str:
    """JSON text of a model output; `hook` (the hook that returned it) is named in errors."""
    encode = _ENCODERS[indent].encode if indent in _ENCODERS else _encoder(indent).encode
    try:
        try:
            return encode(value)
        except ValueError as exc:  # NaN or infinity somewhere, a circular reference, a huge int
            if "ircular" in str(exc):
                raise _failure(hook, "refers to itself (a circular reference)") from None
            if "digits" in str(exc):
                raise _failure(hook, f"holds {beyond_limits(exc)}") from None
        return encode(_finite(value))
    except RecursionError:
        depth = sys.getrecursionlimit()
        raise _failure(
            hook, f"is nested too deeply to write as JSON (about {depth} levels at most)"
        ) from None
    except _Unencodable as exc:
        raise _encoding_error(value, exc.value, hook) from None
    except TypeError as exc:  # e.g. a dict key json refuses
        raise _failure(hook, f"cannot be written as JSON: {exc}") from None


def dumps_many(values: list[Any], hook: str) -> list[str]:
    """`dumps` of each of a batch's outputs (no indent), in one pass: the same text, without
    the cost per value of going through `JSONEncoder.encode` (about 1 µs, more than encoding a
    number). A batch that holds anything the one pass refuses (NaN or infinity, a value no rule
    encodes, a circular reference, too deep a nesting) is encoded value by value by `dumps`,
    for its rules and its errors."""
    if _c_make_encoder is None:  # a Python without the _json accelerator
        return [dumps(value, hook) for value in values]
    # The settings of dumps' own encoder, passed as JSONEncoder.iterencode passes them; fresh
    # markers (the circular-reference check) per batch, since a failure may leave entries.
    e = _ENCODERS[None]
    encode = _c_make_encoder(
        {} if e.check_circular else None,
        e.default,
        encode_basestring_ascii if e.ensure_ascii else encode_basestring,
        e.indent,
        e.key_separator,
        e.item_separator,
        e.sort_keys,
        e.skipkeys,
        e.allow_nan,
    )
    join = "".join
    try:
        return [join(encode(value, 0)) for value in values]
    except (ValueError, TypeError, RecursionError):
        return [dumps(value, hook) for value in values]


def _encoder(indent: int | None) -> json.JSONEncoder:
    return json.JSONEncoder(default=_default, allow_nan=False, indent=indent)


def _failure(hook: str, what: str) -> OutputEncodingError:
    return OutputEncodingError(f"error: {hook} returned a value that {what}", "")


def _default(value: Any) -> Any:
    """The JSON-ready form of one value json does not know."""
    kind = type(value)
    module = kind.__module__.partition(".")[0]
    if module == "numpy":
        if hasattr(value, "tolist"):
            return value.tolist()
    elif module == "torch" and hasattr(value, "detach"):
        return value.detach().cpu().tolist()
    elif module == "pandas":
        return _pandas(value)
    elif isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if hasattr(value, "isoformat") and module in ("datetime", "pandas"):
        return value.isoformat()
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(value, pydantic.BaseModel):
        if hasattr(value, "model_dump"):
            return value.model_dump(mode="json")
        return json.loads(value.json())  # pydantic 1 (a bundle run --isolated with its pins)
    if hasattr(kind, "__dataclass_fields__") and not isinstance(value, type):
        import dataclasses

        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    raise _Unencodable(value)


# The _json accelerator's encoder, which JSONEncoder.encode builds anew for every value (not in
# the type stubs: json.encoder imports it from _json when present, else sets it to None).
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)

# Built once: constructing an encoder per value costs more than encoding a small output.
_ENCODERS = {None: _encoder(None), 2: _encoder(2)}


def _pandas(value: Any) -> Any:
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        default_index = isinstance(value.index, pd.RangeIndex) and value.index.start == 0
        return value.to_dict(orient="records" if default_index else "index")
    if isinstance(value, pd.Series):
        default_index = isinstance(value.index, pd.RangeIndex) and value.index.start == 0
        return value.tolist() if default_index else {str(k): v for k, v in value.items()}
    if value is pd.NaT or value is pd.NA:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise _Unencodable(value)


def _finite(value: Any) -> Any:
    """A copy with every NaN and infinity replaced by None (slow path, only when present)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    return _finite(_default(value))


def _encoding_error(root: Any, bad: Any, hook: str) -> OutputEncodingError:
    where = _find(root, bad, "")
    at = f" at output{where}" if where else ""
    hint = ""
    if type(bad).__name__ in ("generator", "async_generator"):
        hint = "; to stream, make predict itself a generator function (with yield)"
    name = f"{type(bad).__module__}.{type(bad).__qualname__}".removeprefix("builtins.")
    return _failure(hook, f"cannot be written as JSON: {name}{at}{hint}")


def _find(value: Any, bad: Any, path: str) -> str | None:
    if value is bad:
        return path
    if isinstance(value, dict):
        items: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _find(item, bad, f"{path}[{key!r}]")
        if found is not None:
            return found
    return None
