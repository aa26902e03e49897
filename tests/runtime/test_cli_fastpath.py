"""The typer-free parser of `bundle predict` reads command lines exactly as the typer command."""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer.main

from bundle_cli.cli.commands import app
from bundle_cli.cli.options import parse
from bundle_cli.cli.predict_fast import OPTIONS
from bundle_cli.cli.predict_options import PredictOptions


def _predict_command() -> Any:
    return typer.main.get_command(app).commands["predict"]  # type: ignore[attr-defined]


def test_the_option_tables_are_the_same() -> None:
    table: dict[str, tuple[str, str]] = {}
    for param in _predict_command().params:
        if param.param_type_name != "option" or param.name == "help":
            continue
        if param.is_flag:
            kind = "flag"
        elif param.multiple:
            kind = "many"
        else:
            annotation = param.type_descriptor.annotation
            kind = {int: "int", float: "float"}.get(annotation, "value")
        for name in [*param.opts, *param.secondary_opts]:
            table[name] = (str(param.name), kind)
    assert table == OPTIONS


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["bundle-dir", "-i", "in.json"],
        ["-i", "-", "dir"],
        ["--input=in.json", "--output", "o.json", "--profile"],
        ["-d", '{"a": 1}', "--file", "a=@x.png", "--file=b=@y.png", "--timeout", "2.5"],
        ["--jsonl", "-i", "in.jsonl", "--batch-size", "64", "--secret", "A=1", "--secret", "B=x=y"],
        ["--example", "hello", "--secrets-file", "s.env", "."],
        ["-d", "-5"],  # a value that looks like an option is still the value
    ],
)
def test_parse_agrees_with_typer(argv: list[str]) -> None:
    ctx = _predict_command().make_context("predict", list(argv))
    fast = parse(PredictOptions, argv)
    assert fast is not None
    assert dataclasses.asdict(fast) == {
        k: (list(v) if isinstance(v, tuple) else v) for k, v in ctx.params.items()
    }


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["-h"],
        ["-iin.json"],
        ["-i=in.json"],
        ["--batch-size", "many"],
        ["--batch-size", "-1"],  # numbers other than plain digits: typer's own rules decide
        ["--batch-size", "1_000"],
        ["--timeout", "1e3"],
        ["--timeout", "nan"],
        ["--nope"],
        ["a", "b"],
        ["-i"],
        ["--jsonl=yes"],
        ["--", "-weird-dir"],
    ],
)
def test_anything_unusual_is_left_to_typer(argv: list[str]) -> None:
    assert parse(PredictOptions, argv) is None


def test_typer_still_answers_what_the_fast_path_declines(
    run_bundle: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    result = run_bundle("predict", "--batch-size", "many", "-d", "1")
    assert result.returncode == 2 and "Invalid value for '--batch-size'" in result.stderr
    helped = run_bundle("predict", "--help")
    assert helped.returncode == 0 and "--jsonl" in helped.stdout
