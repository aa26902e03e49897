"""`bundle predict` on the command line: inputs, outputs, exit codes, streams.

Most cases run the real installed command in a subprocess (the path users take, which is the
typer-free fast path); a few run in-process through typer's CliRunner; both must agree.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

Copy = Callable[[str], Path]
Run = Callable[..., subprocess.CompletedProcess[str]]
Cli = Callable[..., Result]


def test_predict_input_file(bundle_copy: Copy, run_bundle: Run) -> None:
    path = bundle_copy("echo")
    result = run_bundle("predict", str(path), "-i", str(path / "input.json"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"input": {"text": "hello", "n": 3}, "loads": 1}
    assert result.stderr == ""


def test_predict_from_stdin_and_inline(bundle_copy: Copy, run_bundle: Run) -> None:
    path = bundle_copy("echo")
    piped = run_bundle("predict", str(path), "-i", "-", input='{"via": "stdin"}')
    inline = run_bundle("predict", str(path), "-d", '{"via": "inline"}')
    assert json.loads(piped.stdout)["input"] == {"via": "stdin"}
    assert json.loads(inline.stdout)["input"] == {"via": "inline"}


def test_the_typer_command_agrees(bundle_copy: Copy, cli: Cli) -> None:
    path = bundle_copy("echo")
    result = cli("predict", str(path), "-d", "[1, 2]")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"input": [1, 2], "loads": 1}


def test_files_option(bundle_copy: Copy, run_bundle: Run, tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(b"12345")
    (tmp_path / "b.bin").write_bytes(b"xy")
    result = run_bundle(
        "predict", str(bundle_copy("files")), "-d", '{"labels": ["a", "b"]}',
        "--file", f"a=@{tmp_path / 'a.bin'}", "--file", f"b=@{tmp_path / 'b.bin'}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["lengths"] == {"a": 5, "b": 2} and out["names"] == ["a", "b"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--file", "a=/no/at/sign"], "expected NAME=@PATH"),
        (["--file", "a=@/does/not/exist"], "--file a: no such file: /does/not/exist"),
    ],
)
def test_bad_file_options(
    bundle_copy: Copy, run_bundle: Run, args: list[str], message: str
) -> None:
    result = run_bundle("predict", str(bundle_copy("files")), "-d", "{}", *args)
    assert result.returncode == 2 and message in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_output_file_is_written_atomically(
    bundle_copy: Copy, run_bundle: Run, tmp_path: Path
) -> None:
    path = bundle_copy("echo")
    out = tmp_path / "out.json"
    result = run_bundle("predict", str(path), "-d", '{"k": 1}', "-o", str(out))
    assert result.returncode == 0 and result.stdout == ""
    assert json.loads(out.read_text()) == {"input": {"k": 1}, "loads": 1}
    slow = bundle_copy("slow")
    failed = run_bundle(
        "predict", str(slow), "-d", '{"seconds": 2}', "--timeout", "0.2", "-o", str(out)
    )
    assert failed.returncode == 1
    assert json.loads(out.read_text()) == {"input": {"k": 1}, "loads": 1}  # old result intact
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_invalid_json_exits_3_with_line_and_column(
    bundle_copy: Copy, run_bundle: Run, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "a": [1, 2,]\n}\n')
    result = run_bundle("predict", str(bundle_copy("echo")), "-i", str(bad))
    assert result.returncode == 3
    assert result.stderr.startswith(f"error: {bad}:2:14: not valid JSON")
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_missing_input_file_is_a_clear_usage_error(bundle_copy: Copy, run_bundle: Run) -> None:
    result = run_bundle("predict", str(bundle_copy("echo")), "-i", "nowhere.json")
    assert (result.returncode, result.stderr) == (2, "error: -i nowhere.json: no such input file\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no input given"),
        (["-d", "1", "--example", "hello"], "-d and --example given together"),
    ],
)
def test_exactly_one_input_source(
    bundle_copy: Copy, run_bundle: Run, args: list[str], message: str
) -> None:
    result = run_bundle("predict", str(bundle_copy("echo")), *args)
    assert result.returncode == 2 and message in result.stderr


def test_user_code_error_exits_1_with_the_users_frames_only(
    bundle_copy: Copy, run_bundle: Run
) -> None:
    result = run_bundle("predict", str(bundle_copy("load_failure")), "-d", "{}")
    assert result.returncode == 1 and result.stdout == ""
    assert 'model/model.py", line 9, in load' in result.stderr
    assert "bundle_cli" not in result.stderr and "site-packages" not in result.stderr
    assert result.stderr.rstrip().endswith("error: the model's load raised FileNotFoundError")


def test_invalid_bundle_exits_2_with_diagnostics(
    tree: Callable[..., Path], run_bundle: Run
) -> None:
    path = tree({"config.yaml": "model_name: x\nmodel_nmae: y\n", "model/model.py": ""})
    result = run_bundle("predict", str(path), "-d", "1")
    assert result.returncode == 2 and result.stdout == ""
    assert "config.yaml:2:1: error: model_nmae: unknown key" in result.stderr


def test_example_option(bundle_copy: Copy, run_bundle: Run) -> None:
    result = run_bundle("predict", str(bundle_copy("files")), "--example", "two-docs")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["lengths"] == {"first": 5, "second": 2}
    typo = run_bundle("predict", str(bundle_copy("echo")), "--example", "helo")
    assert typo.returncode == 2 and 'did you mean "hello"?' in typo.stderr


def test_profile_goes_to_stderr(bundle_copy: Copy, run_bundle: Run) -> None:
    result = run_bundle("predict", str(bundle_copy("echo")), "-d", "1", "--profile")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"input": 1, "loads": 1}
    stages = [line.split()[0] for line in result.stderr.splitlines()[2:]]
    assert stages == ["validate", "import", "init", "load", "preprocess", "predict",
                      "postprocess", "serialise"]  # fmt: skip


def test_model_prints_go_to_stderr_and_secrets_never_appear(
    bundle_copy: Copy, run_bundle: Run, tmp_path: Path
) -> None:
    token = "s3cr3t-value-9876"
    path = bundle_copy("secrets")
    ways = [
        ["--secret", f"api_token={token}"],
        ["--secrets-file", str(_write(tmp_path / "s.env", f"api_token={token}\n"))],
        [],
    ]
    for extra in ways:
        env = {"BUNDLE_SECRET_API_TOKEN": token} if not extra else None
        result = run_bundle("predict", str(path), "-d", '{"action": "fail"}', *extra, env=env)
        assert result.returncode == 1
        assert result.stdout == ""
        assert token not in result.stderr
        assert "debug: using token ***" in result.stderr  # the model's print(), moved to stderr
        assert "log: token is ***" in result.stderr
        assert "RuntimeError: upstream refused token ***" in result.stderr


def test_a_secret_in_the_output_is_masked(bundle_copy: Copy, run_bundle: Run) -> None:
    token = "s3cr3t-value-9876"
    result = run_bundle("predict", str(bundle_copy("secrets")), "-d", '{"action": "leak"}',
                        "--secret", f"api_token={token}")  # fmt: skip
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"oops": "Bearer ***"}
    assert "contained a secret's value" in result.stderr and token not in result.stderr


def test_missing_secret_on_the_command_line(bundle_copy: Copy, run_bundle: Run) -> None:
    result = run_bundle("predict", str(bundle_copy("secrets")), "-d", '{"action": "read"}')
    assert result.returncode == 2
    assert 'secret "api_token" has no value' in result.stderr
    assert (
        "--secret api_token=VALUE" in result.stderr and "BUNDLE_SECRET_API_TOKEN" in result.stderr
    )


def test_typed_input_errors_exit_3(bundle_copy: Copy, run_bundle: Run) -> None:
    result = run_bundle("predict", str(bundle_copy("typed")), "-d", '{"text": "a", "repeat": 99}')
    assert result.returncode == 3 and result.stdout == ""
    assert "input.repeat: Input should be less than or equal to 10" in result.stderr


def test_timeout_exits_1(bundle_copy: Copy, run_bundle: Run) -> None:
    result = run_bundle(
        "predict", str(bundle_copy("slow")), "-d", '{"seconds": 5}', "--timeout", "0.3"
    )
    assert result.returncode == 1
    assert (
        "did not finish within --timeout 0.3 s" in result.stderr and "in wait_here" in result.stderr
    )


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
