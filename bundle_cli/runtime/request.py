"""The local stand-ins for what Truss's server hands a model: the request object and the
lazy data resolver.

A hook parameter annotated with `fastapi.Request` or `starlette.requests.Request` receives a
`LocalRequest`: the read API of starlette's Request (headers, query_params, method, url,
`await request.json()`, `await request.body()`, `await request.is_disconnected()`) over the
request as `bundle predict` received it. There are no HTTP headers locally, so both mappings are
empty.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LocalRequest:
    """One request as a model that asks for the request object sees it."""

    body_value: Any
    headers: dict[str, str] = field(default_factory=dict)
    query_params: dict[str, str] = field(default_factory=dict)
    method: str = "POST"
    url: str = "local://predict"

    async def json(self) -> Any:
        return self.body_value

    async def body(self) -> bytes:
        return json.dumps(self.body_value).encode("utf-8")

    async def is_disconnected(self) -> bool:
        return False


class LocalDataResolver:
    """Truss's lazy_data_resolver: the bundle's data is already on disk here, so waiting for a
    download returns at once."""

    def __init__(self, data_dir: Any) -> None:
        self.data_dir = data_dir

    def block_until_download_complete(self, *args: Any, **kwargs: Any) -> str:
        return str(self.data_dir)
