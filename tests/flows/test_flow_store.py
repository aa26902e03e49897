"""The shared store: one per loaded bundle, reached by bundle_cli.store() or Model(store=...)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import flow_config

import bundle_cli
from bundle_cli.errors import UsageError
from bundle_cli.runtime.store import Store

FNS = """\
import bundle_cli


def count(data):
    store = bundle_cli.store()
    store["calls"] = store.get("calls", 0) + 1
    return data


def report(result, original):
    store = bundle_cli.store()
    return {"calls": store["calls"], "model_saw": store["model_saw"], "loaded": store["loaded"]}
"""

REMEMBERING_MODEL = """\
class Model:
    def __init__(self, store):
        self.store = store

    def load(self):
        self.store["loaded"] = True

    def predict(self, model_input):
        self.store["model_saw"] = model_input
        return model_input
"""


@pytest.fixture
def bundle(tree: Callable[..., Path]) -> Path:
    stages = [
        {"name": "a", "model": "remember.py", "type": "python", "pre": "fns:count"},
        {"name": "b", "model": "remember.py", "type": "python", "post": "fns:report"},
    ]
    return tree(
        {
            "config.yaml": flow_config(stages),
            "remember.py": REMEMBERING_MODEL,
            "packages/fns.py": FNS,
        }
    )


def test_the_store_is_shared_by_stages_hooks_and_calls(
    bundle: Path, load: Callable[..., Any]
) -> None:
    flow = load(bundle)
    assert flow.predict("first") == {"calls": 1, "model_saw": "first", "loaded": True}
    assert flow.predict("second") == {"calls": 2, "model_saw": "second", "loaded": True}
    assert dict(flow.store) == {"loaded": True, "calls": 2, "model_saw": "second"}


def test_each_loaded_bundle_has_its_own_store(bundle: Path, load: Callable[..., Any]) -> None:
    one, two = load(bundle), load(bundle)
    one.predict("x")
    one.predict("x")
    assert two.predict("y")["calls"] == 1
    assert one.store is not two.store


def test_store_outside_a_running_bundle_is_a_clear_error() -> None:
    with pytest.raises(
        UsageError, match=r"bundle_cli.store\(\) was called outside a running bundle"
    ):
        bundle_cli.store()


def test_get_or_create_builds_once_under_concurrency() -> None:
    store = Store()
    made = []

    def factory() -> object:
        made.append(1)
        return object()

    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(store.get_or_create("k", factory)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1 and len({id(r) for r in results}) == 1
