"""Failures a user or CI meets, through the real `bundle` command (issue 11 items 1, 5-7, 9, 12,
13; FINDINGS 11, 12): documented exit codes, --json on failure, options checked before loading."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bundle_cli.errors import ExitCode
from tests.cli.reliability_kit import probe
from tests.conftest import isolated_env

Run = Callable[..., subprocess.CompletedProcess[str]]


def _json_failure(result: subprocess.CompletedProcess[str], code: ExitCode) -> dict[str, object]:
    assert result.returncode == code, result.stderr
    document = json.loads(result.stdout)  # exactly one JSON document on stdout
    assert document["ok"] is False
    error = document["error"]
    assert error["exit_code"] == code and error["code"] == code.name.lower() and error["message"]
    return dict(document)


def test_every_command_with_json_answers_in_json_when_it_fails(
    tree: Callable[..., Path], run_bundle: Run, tmp_path: Path
) -> None:
    missing = str(tmp_path / "missing")
    not_archive = tmp_path / "notes.txt"
    not_archive.write_text("not an archive")
    for args, code in [
        (["validate", missing], ExitCode.USAGE),
        (["test", missing], ExitCode.USAGE),
        (["package", missing], ExitCode.USAGE),
        (["verify", missing], ExitCode.USAGE),
        (["inspect", missing], ExitCode.USAGE),
        (["unpack", missing, str(tmp_path / "x")], ExitCode.USAGE),
        (["verify", str(not_archive)], ExitCode.UNSAFE),
        (["sign", missing], ExitCode.USAGE),
        (["diff", missing, missing], ExitCode.USAGE),
    ]:
        _json_failure(run_bundle(*args, "--json"), code)
    invalid = tree({"config.yaml": "model_nmae: x\n"}, name="invalid")
    document = _json_failure(run_bundle("validate", str(invalid), "--json"), ExitCode.USAGE)
    assert document["diagnostics"]  # the report's own fields stay
    document = _json_failure(run_bundle("package", str(invalid), "--json"), ExitCode.USAGE)
    assert document["error"]["diagnostics"]  # type: ignore[index]
    failing = probe(tree, **{"examples.yaml": "- name: e\n  input: {kind: raise}\n"})
    document = _json_failure(run_bundle("test", str(failing), "--json"), ExitCode.USER_CODE)
    assert document["counts"] == {"passed": 0, "failed": 0, "error": 1, "ran": 0}


def _with_a_bug(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real entry point, with one core function made to fail as a bug would."""
    code = (
        "import sys, bundle_cli.cli.validate_fast as v\n"
        "def broken(*a, **k):\n    return {}['missing']\n"
        "v.run = broken\n"
        "from bundle_cli.__main__ import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, timeout=60
    )


def test_a_bug_of_the_tool_exits_70_with_its_traceback_only_when_debugging(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    plain = _with_a_bug("validate", ".", "--json", env=env)
    assert plain.returncode == ExitCode.INTERNAL == 70
    assert "Traceback" not in plain.stderr and "internal error of bundle" in plain.stderr
    assert "--debug" in plain.stderr and "KeyError" in plain.stderr
    assert json.loads(plain.stdout)["error"]["code"] == "internal"
    for debug in (
        _with_a_bug("--debug", "validate", ".", env=env),
        _with_a_bug("validate", ".", env=env | {"BUNDLE_DEBUG": "1"}),
    ):
        assert debug.returncode == 70
        assert "Traceback" in debug.stderr and "in broken" in debug.stderr


@pytest.mark.parametrize("how", ["-i", "-d", "stdin", "--jsonl"])
def test_input_nested_thousands_deep_is_invalid_input(
    tree: Callable[..., Path], run_bundle: Run, tmp_path: Path, how: str
) -> None:
    bundle = probe(tree)
    deep = "[" * 5000 + "]" * 5000
    source = tmp_path / "deep.json"
    source.write_text(deep)
    args = {
        "-i": ["-i", str(source)],
        "-d": ["-d", deep],
        "stdin": ["-i", "-"],
        "--jsonl": ["--jsonl", "-i", str(source)],
    }[how]
    result = run_bundle("predict", str(bundle), *args, input=deep if how == "stdin" else None)
    assert result.returncode == ExitCode.INVALID_INPUT, result.stderr
    assert "nested too deeply" in result.stderr and "Traceback" not in result.stderr
    huge = run_bundle("predict", str(bundle), "-d", "1" * 4301)
    assert huge.returncode == ExitCode.INVALID_INPUT and "more than 4300 digits" in huge.stderr


def test_outputs_too_deep_or_too_long_to_encode_are_clear_errors(
    tree: Callable[..., Path], run_bundle: Run
) -> None:
    bundle = probe(tree, **{"examples.yaml": (
        "- name: deep\n  input: {kind: deep, n: 3000}\n  expected: 1\n"
        "- name: big\n  input: {kind: bigint}\n  expected: 1\n"
    )})  # fmt: skip
    for request, words in [
        ('{"kind": "deep", "n": 100000}', "nested too deeply to write as JSON"),
        ('{"kind": "bigint"}', "more than 4300 digits"),
    ]:
        result = run_bundle("predict", str(bundle), "-d", request)
        assert result.returncode == ExitCode.USER_CODE, result.stderr
        assert words in result.stderr and "Traceback" not in result.stderr
    tested = run_bundle("test", str(bundle), "--json")
    assert tested.returncode == ExitCode.USER_CODE, tested.stderr
    results = {e["name"]: e for e in json.loads(tested.stdout)["examples"]}
    assert "nested too deeply" in results["deep"]["error"]
    assert "more than 4300 digits" in results["big"]["error"]


def test_jsonl_names_the_failed_line_and_keep_going_writes_error_records(
    tree: Callable[..., Path], run_bundle: Run, tmp_path: Path
) -> None:
    bundle = probe(tree)
    lines = ['{"kind": "echo"}', '{"kind": "raise"}', "not json", '{"kind": "reject"}', '{"n": 5}']
    source = tmp_path / "requests.jsonl"
    source.write_text("\n".join(lines) + "\n")
    stopped = run_bundle("predict", str(bundle), "--jsonl", "-i", str(source))
    assert stopped.returncode == ExitCode.USER_CODE
    assert "requests.jsonl:2: the model's predict raised ValueError" in stopped.stderr
    assert stopped.stdout.splitlines() == ['{"kind": "echo"}']
    going = run_bundle("predict", str(bundle), "--jsonl", "-i", str(source), "--keep-going")
    assert going.returncode == ExitCode.USER_CODE  # the first failed line's code
    out = [json.loads(line) for line in going.stdout.splitlines()]
    assert len(out) == len(lines) and out[0] == {"kind": "echo"} and out[4] == {"n": 5}
    records = [o["error"] for o in out[1:4]]
    assert [(r["line"], r["code"], r["exit_code"]) for r in records] == [
        (2, "user_code", 1), (3, "invalid_input", 3), (4, "invalid_input", 3),
    ]  # fmt: skip
    assert "the probe raised" in records[0]["message"]
    assert "age must be positive" in records[2]["message"]
    assert "3 lines failed" in going.stderr
    ok = run_bundle("predict", str(bundle), "--jsonl", "-d", '{"a": 1}', "--keep-going")
    assert ok.returncode == 0 and json.loads(ok.stdout) == {"a": 1}


def test_invalid_input_raised_by_the_model_is_exit_3_and_testable(
    tree: Callable[..., Path], run_bundle: Run
) -> None:
    bundle = probe(tree, **{"examples.yaml": (
        "- name: rejects\n  input: {kind: reject}\n  expect_error: InvalidInput\n"
        "- name: says-why\n  input: {kind: reject}\n  expect_error: {type: InvalidInput, match: must be pos}\n"
        "- name: wrong-type\n  input: {kind: raise}\n  expect_error: InvalidInput\n"
        "- name: no-error\n  input: {kind: echo}\n  expect_error: InvalidInput\n"
        "- name: raises-value-error\n  input: {kind: raise}\n  expect_error: {type: ValueError, match: probe}\n"
    )})  # fmt: skip
    result = run_bundle("predict", str(bundle), "-d", '{"kind": "reject"}')
    assert result.returncode == ExitCode.INVALID_INPUT
    assert result.stderr.strip().splitlines()[-1] == "error: predict: age must be positive"
    assert "Traceback" not in result.stderr
    tested = run_bundle("test", str(bundle), "--json")
    statuses = {e["name"]: e["status"] for e in json.loads(tested.stdout)["examples"]}
    assert statuses == {
        "rejects": "passed", "says-why": "passed", "wrong-type": "failed", "no-error": "failed",
        "raises-value-error": "passed",
    }  # fmt: skip
    both = probe(
        tree,
        **{
            "examples.yaml": "- name: x\n  input: {}\n  expected: 1\n  expect_error: InvalidInput\n"
        },
    )
    invalid = run_bundle("validate", str(both))
    assert invalid.returncode == ExitCode.USAGE and "not both" in invalid.stderr


MISSPELT = "\n    def postporcess(self, output):\n        return output\n"


@pytest.mark.parametrize("command", ["predict", "test", "package"])
def test_validation_warnings_come_once_before_running_and_quiet_hides_them(
    tree: Callable[..., Path], run_bundle: Run, tmp_path: Path, command: str
) -> None:
    from tests.cli.reliability_kit import PROBE_MODEL

    bundle = probe(tree, **{"model/model.py": PROBE_MODEL + MISSPELT})
    args = {
        "predict": ["-i", str(bundle / "input.json")],
        "test": [],
        "package": ["-o", f"{tmp_path}/"],
    }[command]
    shown = run_bundle(command, str(bundle), *args)
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr.count("[hook-misspelt]") == 1, shown.stderr
    if command == "predict":  # before the model ran: its log line comes after the warning
        assert shown.stderr.index("[hook-misspelt]") < shown.stderr.index("probe info")
    quiet = run_bundle(command, str(bundle), *args, "--quiet")
    assert quiet.returncode == 0 and "postporcess" not in quiet.stderr


def test_options_are_checked_before_the_model_loads(
    tree: Callable[..., Path], run_bundle: Run, tmp_path: Path
) -> None:
    marker = tmp_path / "imported"
    env = {"PROBE_IMPORTED": str(marker)}
    bundle = probe(tree)
    empty = probe(tree, "empty", **{"examples.yaml": "[]\n"})
    for args, words in [
        (["predict", str(bundle), "-d", "{}", "--timeout", "0"], "--timeout 0"),
        (["predict", str(bundle), "-d", "{}", "--timeout", "nan"], "--timeout nan"),
        (["predict", str(bundle), "-d", "{}", "--timeout", "inf"], "--timeout inf"),
        (["predict", str(bundle), "-d", "{}", "--timeout", "1e300"], "--timeout 1e+300"),
        (
            ["predict", str(bundle), "-d", "{}", "--batch-size", "4"],
            "--batch-size applies to --jsonl",
        ),
        (["predict", str(bundle), "-d", "{}", "--keep-going"], "--keep-going applies to --jsonl"),
        (["predict", str(bundle), "-d", "{}", "--log-level", "loud"], "--log-level loud"),
        (["test", str(bundle), "-k", "ecko"], 'did you mean "echo"'),
        (["test", str(empty)], "no examples to run"),
    ]:
        result = run_bundle(*args, env=env)
        assert result.returncode == ExitCode.USAGE, (args, result.stderr)
        assert words in result.stderr and "Traceback" not in result.stderr
        assert not marker.exists(), args


def test_model_logging_reaches_stderr_at_the_level_asked(
    tree: Callable[..., Path], run_bundle: Run
) -> None:
    bundle = probe(tree)
    base = ["predict", str(bundle), "-d", '{"kind": "echo"}']
    default = run_bundle(*base)
    assert "INFO probe: probe info echo" in default.stderr and "probe debug" not in default.stderr
    assert json.loads(default.stdout) == {"kind": "echo"}  # logs never on stdout
    assert "probe debug" in run_bundle(*base, "--log-level", "debug").stderr
    for quiet in (["--log-level", "warning"], ["--quiet"]):
        assert "probe info" not in run_bundle(*base, *quiet).stderr
    tested = run_bundle("test", str(bundle))
    assert "INFO probe: probe info echo" in tested.stderr


def test_messages_point_at_the_real_mistake(
    tree: Callable[..., Path], run_bundle: Run, tmp_path: Path
) -> None:
    bundle = probe(tree)
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    cases = [
        (["validate", str(bundle / "config.yaml")], "config file; give the bundle folder"),
        (
            ["predict", str(bundle / "config.yaml"), "-d", "{}"],
            "config file; give the bundle folder",
        ),
        (["test", str(notes)], "this is a file, not a bundle archive"),
        (["predict", str(bundle / "input.json")], f"give -i {bundle / 'input.json'}"),
        (["verify", str(bundle)], f"run `bundle validate {bundle}`"),
        (["inspect", str(bundle)], "is a folder, not an archive"),
        (["predict", str(bundle), "-d", "{}", "--file", f"x=@{bundle}"], "is a folder"),
    ]
    for args, words in cases:
        result = run_bundle(*args)
        assert result.returncode == ExitCode.USAGE, (args, result.stderr)
        assert words in result.stderr and "Traceback" not in result.stderr, result.stderr
    broken = probe(tree, "broken", **{"config.yaml": "model_name: [\n"})
    result = run_bundle("validate", str(broken))
    assert "yaml-syntax" in result.stderr and "model_name is not set" not in result.stderr
    no_self = probe(tree, "no-self", **{"model/model.py": (
        "class Model:\n    def predict(self, x):\n        return x\n"
        "    def postprocess(model_output):\n        return model_output\n"
    )})  # fmt: skip
    result = run_bundle("validate", str(no_self))
    assert (
        result.returncode == ExitCode.USAGE and "postprocess has no self parameter" in result.stderr
    )


def test_the_bundle_is_found_upward_from_the_current_folder(
    tree: Callable[..., Path], run_bundle: Run
) -> None:
    bundle = probe(tree)
    inside = bundle / "model"
    for args in (
        ["validate"],
        ["predict", "-d", '{"kind": "echo"}'],
        ["test"],
        ["package", "-o", "../dist/"],
    ):
        result = run_bundle(*args, cwd=inside)
        assert result.returncode == 0, (args, result.stderr)
    assert (bundle / "dist" / "probe-0.1.0.tar.gz").is_file()
    assert (bundle / "model" / "dist").exists() is False


def test_files_the_tool_cannot_read_are_one_line_and_exit_2(
    tree: Callable[..., Path], tmp_path: Path
) -> None:
    """FINDINGS 12: an unreadable --file (and -i, --secrets-file). Root reads any file, so the
    command runs without the capabilities that let it (setpriv), as an ordinary user would."""
    import os
    import shutil

    from tests.conftest import bundle_executable

    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv, to drop the capability that reads any file")
    bundle = probe(tree)
    unreadable = tmp_path / "locked"
    unreadable.write_text('{"x": 1}')
    unreadable.chmod(0)
    given = str(bundle / "input.json")
    cases = [
        (["--file", f"x=@{unreadable}", "-i", given], "cannot read the request file"),
        (["-i", str(unreadable)], "cannot use"),
        (["--secrets-file", str(unreadable), "-i", given], "cannot read the secrets file"),
    ]
    without_read_capabilities = [
        setpriv, "--bounding-set", "-dac_override,-dac_read_search", bundle_executable()
    ]  # fmt: skip
    for args, words in cases:
        result = subprocess.run(
            [*without_read_capabilities, "predict", str(bundle), *args],
            capture_output=True,
            text=True,
            env=isolated_env(tmp_path),
            timeout=120,
        )
        assert result.returncode == ExitCode.USAGE, (args, result.stderr)
        assert f"{words} {unreadable}: permission denied" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
