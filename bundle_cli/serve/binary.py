"""Truss's binary bodies: msgpack, with numpy arrays in msgpack-numpy's wire format and Truss's
datetime, decimal and uuid extensions, read and written here without a pickle.

msgpack-numpy (which Truss uses) unpickles the data of an array of dtype object; a request body
is hostile, so such an array is refused (400) and an output array of objects is sent as a list.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable
from typing import Any

from bundle_cli.errors import InputDataError

# {b"__kind__": True, b"data": value}, as Truss's serialization module writes them.
_DECODERS: dict[bytes, Callable[[Any], Any]] = {
    b"__dt_datetime_iso__": datetime.datetime.fromisoformat,
    b"__dt_date_iso__": datetime.date.fromisoformat,
    b"__dt_time_iso__": datetime.time.fromisoformat,
    b"__dt_timedelta__": lambda d: datetime.timedelta(days=d[0], seconds=d[1], microseconds=d[2]),
    b"__decimal__": decimal.Decimal,
    b"__uuid__": uuid.UUID,
}


def loads(body: bytes, label: str) -> Any:
    """The value of a msgpack body; arrays as numpy arrays. InputDataError when it is not one."""
    import msgpack

    try:
        return msgpack.unpackb(body, object_hook=_object, strict_map_key=False)
    except InputDataError:
        raise
    except Exception as exc:  # msgpack raises several unrelated types for bad input
        raise InputDataError(f"{label}: not valid msgpack: {exc}") from None


def _object(obj: dict[Any, Any]) -> Any:
    if b"nd" in obj:
        return _array(obj)
    if b"data" in obj and len(obj) == 2:
        for key, build in _DECODERS.items():
            if key in obj:
                return build(obj[b"data"])
    if b"complex" in obj and len(obj) == 2:
        return complex(obj[b"data"].decode() if isinstance(obj[b"data"], bytes) else obj[b"data"])
    return obj


def _array(obj: dict[Any, Any]) -> Any:
    import numpy as np

    kind, descr = obj.get(b"kind", b""), obj.get(b"type")
    if kind in (b"O", "O") or not isinstance(descr, str | bytes):
        raise InputDataError(
            "request: a numpy array of dtype object (or a structured one) is refused: its data "
            "would be a pickle; send numbers"
        )
    dtype = np.dtype(descr.decode() if isinstance(descr, bytes) else descr)
    if dtype.hasobject:
        raise InputDataError("request: a numpy array of objects is refused; send numbers")
    try:
        if obj[b"nd"] is True:
            return np.frombuffer(obj[b"data"], dtype=dtype).reshape(obj[b"shape"])
        return np.frombuffer(obj[b"data"], dtype=dtype)[0]
    except (KeyError, ValueError, TypeError) as exc:
        raise InputDataError(f"request: a numpy array that does not add up: {exc}") from None


def dumps(value: Any, plain: Callable[[Any], Any]) -> bytes:
    """msgpack of an output: numpy arrays and scalars in msgpack-numpy's format, datetimes and
    the rest as Truss writes them; anything else through `plain` (the runtime's JSON form)."""
    import msgpack

    return msgpack.packb(value, default=lambda v: _default(v, plain))


def _default(value: Any, plain: Callable[[Any], Any]) -> Any:
    import numpy as np

    if isinstance(value, np.ndarray) and not value.dtype.hasobject:
        data = np.ascontiguousarray(value)
        return {
            b"nd": True,
            b"type": data.dtype.str,
            b"kind": b"",
            b"shape": list(data.shape),
            b"data": data.tobytes(),
        }
    if isinstance(value, np.bool_ | np.number):
        return {b"nd": False, b"type": value.dtype.str, b"data": value.tobytes()}
    if isinstance(value, datetime.datetime):
        text = value.isoformat()
        return {
            b"__dt_datetime_iso__": True,
            b"data": text.removesuffix("+00:00") + "Z" * text.endswith("+00:00"),
        }
    if isinstance(value, datetime.date):
        return {b"__dt_date_iso__": True, b"data": value.isoformat()}
    if isinstance(value, datetime.time):
        return {b"__dt_time_iso__": True, b"data": value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {b"__dt_timedelta__": True, b"data": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, decimal.Decimal):
        return {b"__decimal__": True, b"data": str(value)}
    if isinstance(value, uuid.UUID):
        return {b"__uuid__": True, b"data": str(value)}
    return plain(value)
