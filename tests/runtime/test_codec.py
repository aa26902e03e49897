"""Outputs as JSON: numpy, torch, pandas, dataclasses, bytes, NaN; and what cannot be encoded."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import bundle_cli
from bundle_cli.errors import InputDataError, OutputEncodingError
from bundle_cli.runtime import codec

Copy = Callable[[str], Path]


def test_numpy_outputs(bundle_copy: Copy) -> None:
    out = bundle_cli.load(bundle_copy("outputs")).predict({"kind": "numpy"})
    assert out == {
        "array": [[0.0, 0.5, 1.0], [1.5, 2.0, 2.5]],
        "int": 7,
        "bool": True,
        "nan": [1.0, None, None],
    }


def test_torch_outputs(bundle_copy: Copy) -> None:
    out = bundle_cli.load(bundle_copy("outputs")).predict({"kind": "torch"})
    assert out == {"tensor": [[3.0, 5.0]], "scalar": 3}


def test_pandas_outputs(bundle_copy: Copy) -> None:
    out = bundle_cli.load(bundle_copy("outputs")).predict({"kind": "pandas"})
    assert out == {
        "frame": [{"a": 1, "b": 0.5}, {"a": 2, "b": None}],
        "indexed": {"x": {"a": 1, "b": 0.5}, "y": {"a": 2, "b": None}},
        "series": [3, 4],
        "named": {"p": 1.0, "q": 2.0},
    }


def test_dataclass_bytes_and_non_finite_floats(bundle_copy: Copy) -> None:
    out = bundle_cli.load(bundle_copy("outputs")).predict({"kind": "mixed"})
    assert out == {
        "score": {"label": "cat", "value": 0.9},
        "raw": base64.b64encode(b"\x00\xffhi").decode(),
        "floats": [None, None, None, 1.0],
    }


def test_unencodable_value_names_type_hook_and_place(bundle_copy: Copy) -> None:
    bundle = bundle_cli.load(bundle_copy("outputs"))
    with pytest.raises(OutputEncodingError) as info:
        bundle.predict({"kind": "set"})
    assert str(info.value) == (
        "error: predict returned a value that cannot be written as JSON: set at output['bad'][1]"
    )
    assert info.value.exit_code == 1


def test_output_is_strict_json() -> None:
    text = codec.dumps({"x": float("nan"), "y": [float("-inf")]}, "predict")
    assert json.loads(text) == {"x": None, "y": [None]}
    assert "NaN" not in text and "Infinity" not in text


def test_circular_and_bad_key_outputs_are_errors() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(OutputEncodingError, match="circular"):
        codec.dumps(loop, "postprocess")
    with pytest.raises(OutputEncodingError, match="postprocess returned"):
        codec.dumps({(1, 2): "tuple key"}, "postprocess")


def test_a_generator_return_value_gets_a_hint() -> None:
    with pytest.raises(OutputEncodingError, match="make predict itself a generator"):
        codec.dumps({"g": (i for i in range(2))}, "predict")


def test_invalid_json_names_line_and_column() -> None:
    with pytest.raises(InputDataError) as info:
        codec.decode('{\n  "a": 1,\n  "b": tru\n}', "input.json")
    assert str(info.value).startswith("input.json:3:8: not valid JSON")
    assert info.value.exit_code == 3


def test_jsonl_errors_name_the_line_and_skip_blank_lines() -> None:
    lines = ["[1]\n", "\n", "[2]\n", "[3,]\n"]
    reader = codec.iter_jsonl(lines, "in.jsonl")
    assert next(reader) == (1, [1])
    assert next(reader) == (3, [2])
    with pytest.raises(InputDataError, match=r"^in.jsonl:4:4: not valid JSON"):
        next(reader)


def test_a_batch_of_outputs_encodes_as_each_output_alone() -> None:
    import dataclasses
    import datetime

    import numpy as np

    @dataclasses.dataclass
    class Point:
        x: float
        label: str

    values = [
        1,
        2.5,
        "é ☃",
        None,
        True,
        [1, [2, {"a": "b"}]],
        {"k": np.float32(0.5), "arr": np.arange(3)},
        Point(1.0, "p"),
        b"\x00\x01",
        datetime.date(2026, 1, 2),
    ]
    assert codec.dumps_many(values, "predict") == [codec.dumps(v, "predict") for v in values]
    with_nan = [1.5, float("nan"), [float("inf")]]
    assert codec.dumps_many(with_nan, "predict") == ["1.5", "null", "[null]"]


def test_a_batch_with_an_unencodable_output_fails_as_dumps_does() -> None:
    loop: list[object] = []
    loop.append(loop)
    for bad in ([object()], [{"fine": 1}, loop]):
        with pytest.raises(OutputEncodingError) as batch:
            codec.dumps_many([1, *bad], "predict")
        with pytest.raises(OutputEncodingError) as alone:
            for value in bad:
                codec.dumps(value, "predict")
        assert batch.value.message == alone.value.message
    assert codec.dumps_many([7], "predict") == ["7"]  # nothing left over from the failures


def test_replies_give_the_same_strings_one_by_one_or_a_batch_at_a_time() -> None:
    from bundle_cli.runtime.runner import Replies

    def batches() -> Iterator[list[str]]:
        yield ["a", "b", "c"]
        yield []
        yield ["d"]

    assert list(Replies(batches=batches(), streamed=False)) == ["a", "b", "c", "d"]
    replies = Replies(batches=batches(), streamed=False)
    assert next(replies) == "a"
    assert list(replies.batches()) == [["b", "c"], ["d"]]
    assert replies.count == 4
    single = Replies(iter(["x", "y"]), streamed=True)
    assert list(single.batches()) == [["x"], ["y"]]
