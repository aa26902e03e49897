"""The table of `bundle test`: rich on a terminal, plain lines otherwise; paths print as they are."""

from __future__ import annotations

import io
import sys

import pytest

from bundle_cli.testing.compare import Difference
from bundle_cli.testing.report import ExampleResult, TestReport


def report() -> TestReport:
    return TestReport(
        bundle="calc",
        results=[
            ExampleResult("ok", "passed", 0.0012),
            ExampleResult("bad", "failed", 0.002, difference=Difference("$.scores[1]", "off")),
        ],
    )


def render(report: TestReport) -> None:
    # Importing a command module before the app would register it out of help order for the
    # whole test session (the stored help text is compared in tests/cli): app first, here.
    from bundle_cli.cli.cmd_test import render as render_table
    from bundle_cli.cli.commands import app  # noqa: F401

    render_table(report)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_table_when_stderr_is_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    render(report())
    err = capsys.readouterr().err
    lines = [line.split() for line in err.splitlines()]
    assert ["PASS", "ok", "1.2", "ms"] in lines
    assert ["FAIL", "bad", "2.0", "ms", "$.scores[1]:", "off"] in lines
    assert "calc: FAILED: 1 passed, 1 failed, 0 errors, 0 ran" in err


def test_rich_table_on_a_terminal_keeps_brackets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    render(report())
    text = terminal.getvalue()
    assert "example" in text and "time" in text  # the header of the rich table
    assert "$.scores[1]: off" in text  # not eaten as markup
