"""Request bodies as the runner takes them: an input value and the request's files.

- JSON (any other content type, as Truss's server reads every body that is not binary, so
  `curl -d` works as it is): decoded with orjson (30 MB of floats
  in well under a second); a body orjson refuses is decoded again by the runtime's own decoder,
  so that what is accepted and every error message are those of `bundle predict`.
- Truss's binary form: `application/octet-stream` (and `application/msgpack`,
  `application/x-msgpack`) is msgpack, read by `binary` into numpy arrays and Python values as
  Truss's server reads it.
- `multipart/form-data`: each file part is one of the request's files, in order, named by its
  field (what `bundle predict --file NAME=@PATH` gives the hooks); the field `input` holds the
  JSON input, otherwise the text fields are the input as an object.

A body over the size limit is refused before it is read whole (BodyTooLarge: 413).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from bundle_cli.errors import InputDataError

LABEL = "request"  # how errors name the body: `request:1:7: not valid JSON: ...`
BINARY_TYPES = ("application/octet-stream", "application/msgpack", "application/x-msgpack")


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than --max-body-size ({limit} bytes)")
        self.limit = limit


@dataclass
class Body:
    """A decoded request: its input, its files as (name, bytes), and whether it was binary."""

    value: Any
    files: list[tuple[str, bytes]] = field(default_factory=list)
    binary: bool = False


def media_type(content_type: str) -> str:
    return content_type.partition(";")[0].strip().lower()


async def read(receive_stream: AsyncIterator[bytes], length: str | None, limit: int) -> bytes:
    """The whole body, refused as soon as it is known to pass `limit` bytes."""
    if length is not None and length.isdigit() and int(length) > limit:
        raise BodyTooLarge(limit)
    parts: list[bytes] = []
    size = 0
    async for chunk in receive_stream:
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        parts.append(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def decode_json(body: bytes) -> Any:
    import orjson

    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass  # NaN, integers beyond 64 bits, or not JSON at all: the runtime's decoder decides
    from bundle_cli.runtime import codec

    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputDataError(f"{LABEL}: not UTF-8 text (byte {exc.start})") from None
    return codec.decode(text, LABEL)


async def decode_multipart(headers: Any, body: bytes, limit: int) -> Body:
    from starlette.datastructures import UploadFile
    from starlette.formparsers import MultiPartException, MultiPartParser

    async def stream() -> AsyncGenerator[bytes, None]:
        yield body
        yield b""

    parser = MultiPartParser(headers, stream(), max_files=10_000, max_fields=10_000)
    parser.max_part_size = limit  # a text field may be as large as the body allows
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise InputDataError(f"{LABEL}: not valid multipart/form-data: {exc.message}") from None
    files: list[tuple[str, bytes]] = []
    fields: dict[str, str] = {}
    for name, item in form.multi_items():
        if isinstance(item, UploadFile):
            files.append((name, await item.read()))
            await item.close()
        else:
            fields[name] = item
    value = decode_json(fields["input"].encode("utf-8")) if "input" in fields else fields
    return Body(value, files)


async def decode(content_type: str, headers: Any, body: bytes, limit: int) -> Body:
    kind = media_type(content_type)
    if kind in BINARY_TYPES:
        from bundle_cli.serve import binary

        return Body(binary.loads(body, LABEL), binary=True)
    if kind == "multipart/form-data":
        return await decode_multipart(headers, body, limit)
    return Body(decode_json(body))
