"""Typed inputs: a pydantic annotation validates the request field by field; schemas for tools."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import bundle_cli
from bundle_cli.errors import InputDataError
from bundle_cli.runtime import io_schemas

Copy = Callable[[str], Path]


def test_typed_input_is_parsed_and_typed_output_encoded(bundle_copy: Copy) -> None:
    bundle = bundle_cli.load(bundle_copy("typed"))
    assert bundle.predict({"text": "ab", "repeat": 2}) == {"result": "abab", "length": 4}


def test_invalid_typed_input_lists_every_bad_field(bundle_copy: Copy) -> None:
    bundle = bundle_cli.load(bundle_copy("typed"))
    with pytest.raises(InputDataError) as info:
        bundle.predict({"text": 5, "repeat": 0, "extra": 1})
    message = str(info.value)
    assert info.value.exit_code == 3
    assert message.startswith("input: the input does not match Request (2 problems):")
    assert "  input.text: Input should be a valid string" in message
    assert "  input.repeat: Input should be greater than or equal to 1" in message


def test_io_schemas(bundle_copy: Copy) -> None:
    schemas = io_schemas(bundle_copy("typed"))
    assert schemas["input"]["title"] == "Request"
    assert set(schemas["input"]["properties"]) == {"text", "repeat"}
    assert schemas["input"]["required"] == ["text", "repeat"]
    assert schemas["output"]["title"] == "Response"


def test_io_schemas_of_an_untyped_model_are_none(bundle_copy: Copy) -> None:
    assert io_schemas(bundle_copy("echo")) == {"input": None, "output": None}


def test_io_schemas_does_not_run_init_or_load(bundle_copy: Copy) -> None:
    assert io_schemas(bundle_copy("load_failure")) == {"input": None, "output": None}


def test_untyped_bundles_do_not_import_pydantic(bundle_copy: Copy) -> None:
    path = bundle_copy("echo")
    code = (
        "import sys, bundle_cli\n"
        f"bundle_cli.load({str(path)!r}).predict(1)\n"  # the 2nd load is served from the cache
        f"b = bundle_cli.load({str(path)!r}); b.predict(1)\n"
        "print(sorted(m for m in ('pydantic', 'yaml', 'typer', 'asyncio') if m in sys.modules))\n"
    )
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert first.stdout.strip() == "['pydantic', 'yaml']"  # validation ran: the cache was empty
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert again.stdout.strip() == "[]"
