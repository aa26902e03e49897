"""The server's calls through the runner seam: the in-process runner and any other Runner (only
its protocol: `info` and `serve(Request)`) answer alike."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import bundle_cli
from bundle_cli.errors import UserCodeError
from bundle_cli.serve.calls import Call
from bundle_cli.serve.served import Served
from tests.conftest import build_tree
from tests.serve.conftest import KITCHEN, SECRET


class ProtocolOnly:
    """A Runner that offers nothing beyond the protocol (as one in another process would)."""

    def __init__(self, runner: Any) -> None:
        self._runner = runner
        self.info = runner.info

    def serve(self, request: Any) -> Any:
        return self._runner.serve(request)

    def close(self) -> None:
        self._runner.close()


async def _answers(runner: Any, calls: list[Call]) -> list[Any]:
    served = Served(1, 4, None, None)
    served.set_runner(runner, runner.info.name, 1)
    out = []
    for call in calls:
        try:
            answer = await served.call(call)
        except UserCodeError as exc:
            out.append(("error", exc.raised))
            continue
        if answer.body is not None:
            out.append(json.loads(answer.body))
        else:
            assert answer.chunks is not None
            out.append([json.loads(c) async for c in answer.chunks])
    served.close()
    return out


@pytest.mark.parametrize("wrap", [lambda r: r, ProtocolOnly], ids=["in-process", "protocol-only"])
def test_calls_answer_alike_through_either_kind_of_runner(
    wrap: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUNDLE_CACHE_DIR", str(tmp_path / "cache"))
    bundle = build_tree(tmp_path / "kitchen", KITCHEN)
    with bundle_cli.load(bundle, secrets={"api_token": SECRET}) as loaded:
        calls = [
            Call({"a": [1, 2]}),
            Call({"n": 1}, files=[("image", b"\x89PNG")]),
            Call({"op": "raise"}),
            Call({"messages": [{"role": "user", "content": "you"}]}, method="chat_completions"),
        ]
        got = asyncio.run(_answers(wrap(loaded), calls))
    assert got[0] == {"echo": {"a": [1, 2]}}
    assert got[1] == {"echo": {"n": 1, "files": [["image", "\x89PNG"]]}}
    assert got[2] == ("error", "ValueError")
    assert got[3]["choices"][0]["message"]["content"] == "hi you"
