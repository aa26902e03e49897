"""Secret values never reach a stream or a report, in any form the tool prints (FINDINGS 4, 7),
and a secrets file is a small regular file (FINDINGS 5, 12). Through the real command."""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bundle_cli.errors import ExitCode
from bundle_cli.runtime.scrub import Scrubber
from tests.cli.reliability_kit import probe

Run = Callable[..., subprocess.CompletedProcess[str]]
SECRETS = ["hunter2-XYZ", "pässwörd-1234", 'ab"cd\\ef', "line-one\nline-two"]


def _forms(secret: str) -> list[str]:
    """Every way the tool itself could print it."""
    return [
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
    ]


def _assert_masked(text: str, secret: str) -> None:
    for form in _forms(secret):
        assert form not in text, (form, text)


@pytest.mark.parametrize("secret", SECRETS, ids=["plain", "non-ascii", "escapes", "newline"])
def test_test_masks_the_secret_everywhere_the_model_can_put_it(
    tree: Callable[..., Path], run_bundle: Run, tmp_path: Path, secret: str
) -> None:
    bundle = probe(
        tree,
        **{"examples.yaml": "- name: s\n  input: {kind: secret}\n  expected: {token: other}\n"},
    )
    junit = tmp_path / "junit.xml"
    result = run_bundle(
        "test", str(bundle), "--json", "--junit-xml", str(junit), env={"BUNDLE_SECRET_TOK": secret}
    )
    assert result.returncode == ExitCode.USER_CODE, result.stderr
    document = json.loads(result.stdout)  # the model's prints went to stderr, not into the JSON
    assert document["examples"][0]["output"]["token"] == "***"
    assert "print: ***" in result.stderr and "buffer: ***" in result.stderr
    assert "logged: ***" in result.stderr and "warned: ***" in result.stderr
    for text in (result.stdout, result.stderr, junit.read_text()):
        _assert_masked(text, secret)


@pytest.mark.parametrize("secret", SECRETS, ids=["plain", "non-ascii", "escapes", "newline"])
def test_predict_masks_every_form_of_the_secret(
    tree: Callable[..., Path], run_bundle: Run, tmp_path: Path, secret: str
) -> None:
    bundle = probe(tree)
    out = tmp_path / "out.json"
    result = run_bundle(
        "predict", str(bundle), "-d", '{"kind": "secret"}', "--secret", f"tok={secret}", "-o", str(out),
        env={"BUNDLE_SECRET_TOK": secret},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text()) == {"token": "***", "repr": "'***'"}
    for text in (out.read_text(), result.stderr, result.stdout):
        _assert_masked(text, secret)


def test_a_masking_stream_holds_back_what_could_begin_a_secret() -> None:
    target = io.StringIO()
    stream = Scrubber(["hunter2-XYZ"]).wrap(target)  # type: ignore[arg-type]
    stream.write("before hun")
    stream.flush()
    assert target.getvalue() == "before "  # "hun" could be the start of the value
    stream.write("ter2-XYZ after\n")
    stream.write("ends with h")
    stream.close_mask()  # type: ignore[attr-defined]
    assert target.getvalue() == "before *** after\nends with h"


@pytest.mark.parametrize("kind", ["fifo", "device", "not utf-8", "deep json", "huge"])
def test_a_secrets_file_that_is_not_a_small_text_file_is_refused(
    tree: Callable[..., Path], run_bundle: Run, tmp_path: Path, kind: str
) -> None:
    bundle = probe(tree)
    path = tmp_path / "secrets.env"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/zero")
    elif kind == "not utf-8":
        path.write_bytes(b"\xff\xfeTOK=x\n")
    elif kind == "deep json":
        path.write_text('{"tok": ' + "[" * 5000 + "]" * 5000 + "}")
    else:
        path.write_text("TOK=" + "x" * (2 * 1024 * 1024))
    result = run_bundle("predict", str(bundle), "-d", "{}", "--secrets-file", str(path))
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "Traceback" not in result.stderr and str(path) in result.stderr
