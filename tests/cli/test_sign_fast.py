"""`bundle sign` without typer: the same options and answers as the typer command."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import typer.main

from bundle_cli.cli.commands import app
from bundle_cli.cli.options import parse
from bundle_cli.cli.sign_fast import OPTIONS, SignOptions


def _sign_command() -> Any:
    return typer.main.get_command(app).commands["sign"]  # type: ignore[attr-defined]


def test_the_option_tables_are_the_same() -> None:
    table = {}
    for param in _sign_command().params:
        if param.param_type_name == "option" and param.name != "help":
            for name in param.opts:
                table[name] = (str(param.name), "flag" if param.is_flag else "value")
    assert table == OPTIONS


@pytest.mark.parametrize(
    "argv",
    [
        ["a.tar.gz", "--key", "k.pem"],
        ["--key=k.pem", "dir", "-o", "x.sig", "--json"],
        ["a.tar.gz", "--keyless"],
        ["a.tar.gz", "--key", "k.pem", "--password-file", "pw"],
    ],
)
def test_parse_agrees_with_typer(argv: list[str]) -> None:
    ctx = _sign_command().make_context("sign", list(argv))
    parsed = parse(SignOptions, argv)
    assert parsed is not None and dataclasses.asdict(parsed) == ctx.params


@pytest.mark.parametrize(
    "argv", [[], ["-h"], ["a", "b"], ["a", "--kee", "k"], ["a", "--key"], ["a", "--json=1"]]
)
def test_anything_unusual_is_left_to_typer(argv: list[str]) -> None:
    assert parse(SignOptions, argv) is None


def test_typer_reports_what_the_fast_path_leaves(run_bundle: Any, tmp_path: Path) -> None:
    result = run_bundle("sign", str(tmp_path), "--kee", "x")
    assert result.returncode == 2 and "No such option" in result.stderr
