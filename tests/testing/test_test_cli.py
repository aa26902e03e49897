"""`bundle test` on small real bundles: verdicts, the table, --json, --junit-xml, exit codes."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from bundle_cli.errors import ExitCode

CONFIG = "model_name: calc\n"
# Sums and averages numbers; raises when asked to; reports the size of each request file.
MODEL = """\
import os
from pathlib import Path


class Model:
    def load(self):
        marker = os.environ.get("CALC_LOADED_MARKER")
        if marker:  # tests that must prove the model was never loaded set this
            Path(marker).write_text("loaded")

    def preprocess(self, model_input, files):
        if model_input.get("boom"):
            raise RuntimeError("boom requested")
        return model_input, {f.name: len(f.read()) for f in files}

    def predict(self, model_input):
        data, sizes = model_input
        xs = data.get("xs", [0])
        out = {"total": sum(xs), "mean": sum(xs) / len(xs), "label": "big" if sum(xs) > 10 else "small"}
        if sizes:
            out["sizes"] = sizes
        return out
"""

PASSING = """\
- name: small
  input: {xs: [1, 2, 3]}
  expected: {total: 6, mean: 2.0, label: small}
- name: big
  input: {xs: [10, 20]}
  expected: {total: 30, mean: 15.0, label: big}
"""


@pytest.fixture
def calc(tree: Callable[..., Path]) -> Callable[[str], Path]:
    """A bundle whose examples.yaml is the given text."""

    def make(examples: str) -> Path:
        return tree(
            {
                "config.yaml": CONFIG,
                "model/__init__.py": "",
                "model/model.py": MODEL,
                "examples.yaml": examples,
            }
        )

    return make


def table_rows(stderr: str) -> dict[str, tuple[str, str]]:
    """{example name: (mark, detail)} from the plain table."""
    rows = {}
    for line in stderr.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0] in {"PASS", "FAIL", "ERROR", "RAN"}:
            name, rest = parts[1], parts[2]
            detail = rest.split(" ms", 1)[1].strip() if " ms" in rest else ""
            rows[name] = (parts[0], detail)
    return rows


def test_all_examples_pass(calc: Callable[[str], Path], cli: Callable[..., Result]) -> None:
    bundle = calc(PASSING)
    result = cli("test", str(bundle))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # the table and the summary are messages: stderr
    assert table_rows(result.stderr) == {"small": ("PASS", ""), "big": ("PASS", "")}
    assert f"{bundle}: ok: 2 passed, 0 failed, 0 errors, 0 ran" in result.stderr


def test_float_within_tolerance_passes_outside_fails_with_its_path(
    calc: Callable[[str], Path], cli: Callable[..., Result]
) -> None:
    bundle = calc(
        """\
- name: close-enough
  input: {xs: [1, 2]}
  expected: {total: 3, mean: 1.5004, label: small}
  tolerance: 0.001
- name: too-far
  input: {xs: [1, 2]}
  expected: {total: 3, mean: 1.51, label: small}
  tolerance: 0.001
- name: default-tolerance-is-tight
  input: {xs: [1, 2]}
  expected: {total: 3, mean: 1.5001, label: small}
"""
    )
    result = cli("test", str(bundle))
    assert result.exit_code == ExitCode.USER_CODE
    rows = table_rows(result.stderr)
    assert rows["close-enough"] == ("PASS", "")
    assert rows["too-far"][0] == "FAIL"
    assert rows["too-far"][1].startswith("$.mean: expected 1.51, got 1.5 (off by 0.01")
    assert rows["default-tolerance-is-tight"][0] == "FAIL"
    assert "tolerance 1e-06" in rows["default-tolerance-is-tight"][1]
    assert "FAILED: 1 passed, 2 failed, 0 errors, 0 ran" in result.stderr


def test_mismatch_reports_the_first_differing_path(
    calc: Callable[[str], Path], cli: Callable[..., Result]
) -> None:
    bundle = calc(
        """\
- name: wrong-label
  input: {xs: [5, 6]}
  expected: {total: 11, mean: 5.5, label: small}
- name: wrong-keys
  input: {xs: [1]}
  expected: {total: 1, average: 1.0, label: small}
"""
    )
    result = cli("test", str(bundle), "--json")
    assert result.exit_code == ExitCode.USER_CODE
    rows = table_rows(result.stderr)
    assert rows["wrong-label"] == ("FAIL", '$.label: expected "small", got "big"')
    assert rows["wrong-keys"] == ("FAIL", "$.average: missing from the output")
    report = json.loads(result.stdout)
    assert report["examples"][0]["difference"] == {
        "path": "$.label",
        "message": 'expected "small", got "big"',
    }


def test_an_example_without_expected_runs_and_does_not_fail_the_run(
    calc: Callable[[str], Path], cli: Callable[..., Result]
) -> None:
    result = cli("test", str(calc("- name: smoke\n  input: {xs: [4]}\n")), "--json")
    assert result.exit_code == 0, result.output
    assert table_rows(result.stderr) == {"smoke": ("RAN", "no expected output; ran without error")}
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["counts"] == {"passed": 0, "failed": 0, "error": 0, "ran": 1}
    # The output is there to be reviewed and pasted into `expected`.
    assert report["examples"][0]["output"] == {"total": 4, "mean": 4.0, "label": "small"}


def test_user_code_error_in_one_example_does_not_stop_the_others(
    calc: Callable[[str], Path], cli: Callable[..., Result]
) -> None:
    bundle = calc(
        """\
- name: explodes
  input: {boom: true}
  expected: {}
- name: after
  input: {xs: [1, 2, 3]}
  expected: {total: 6, mean: 2.0, label: small}
"""
    )
    result = cli("test", str(bundle), "--json")
    assert result.exit_code == ExitCode.USER_CODE
    rows = table_rows(result.stderr)
    assert rows["explodes"][0] == "ERROR" and "boom requested" in rows["explodes"][1]
    assert rows["after"] == ("PASS", "")
    # The model's own traceback is shown, pointing at its file; bundle's frames are not.
    assert "model.py" in result.stderr and 'raise RuntimeError("boom requested")' in result.stderr
    assert "bundle_cli" not in result.stderr
    report = json.loads(result.stdout)
    assert report["counts"] == {"passed": 1, "failed": 0, "error": 1, "ran": 0}


def test_junit_xml_is_well_formed_and_counts_every_outcome(
    calc: Callable[[str], Path], cli: Callable[..., Result], tmp_path: Path
) -> None:
    bundle = calc(
        PASSING
        + """\
- name: wrong
  input: {xs: [1]}
  expected: {total: 2, mean: 1.0, label: small}
- name: explodes
  input: {boom: true}
- name: smoke
  input: {xs: [1]}
"""
    )
    out = tmp_path / "reports" / "junit.xml"
    out.parent.mkdir()
    result = cli("test", str(bundle), "--junit-xml", str(out))
    assert result.exit_code == ExitCode.USER_CODE
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "5",
        "failures": "1",
        "errors": "1",
        "skipped": "0",
    }
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert list(cases) == ["small", "big", "wrong", "explodes", "smoke"]
    assert [child.tag for child in cases["small"]] == []
    failure = cases["wrong"].find("failure")
    assert failure is not None and failure.get("message") == "$.total: expected 2, got 1"
    error = cases["explodes"].find("error")
    assert error is not None and "boom requested" in (error.get("message") or "")
    assert "RuntimeError" in (error.text or "")
    smoke_out = cases["smoke"].find("system-out")
    assert smoke_out is not None and "no expected output" in (smoke_out.text or "")
    assert all(float(case.get("time") or "x") >= 0 for case in cases.values())
    assert [p.name for p in out.parent.iterdir()] == ["junit.xml"]  # no temp file left


def test_junit_xml_has_one_error_case_when_the_tests_cannot_run(
    calc: Callable[[str], Path],
    cli: Callable[..., Result],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = tmp_path / "loaded"
    monkeypatch.setenv("CALC_LOADED_MARKER", str(marker))
    bundle = calc("- name: typo\n  input: {xs: [1]}\n  expect: {total: 1}\n")
    out = tmp_path / "junit.xml"
    out.write_text("old report")
    result = cli("test", str(bundle), "--junit-xml", str(out))
    assert result.exit_code == ExitCode.USAGE
    assert 'unknown key "expect"; did you mean "expected"?' in result.stderr
    suite = ET.fromstring(out.read_bytes()).find("testsuite")
    assert suite is not None and suite.get("errors") == "1" and suite.get("tests") == "1"
    case = suite.find("testcase")
    assert case is not None and case.get("name") == "load"
    error = case.find("error")
    assert error is not None and 'unknown key "expect"' in (error.text or "")
    assert not marker.exists()  # the model was never loaded


def test_junit_xml_in_a_missing_folder_creates_it_as_o_does(
    calc: Callable[[str], Path], cli: Callable[..., Result], tmp_path: Path
) -> None:
    out = tmp_path / "reports" / "ci" / "junit.xml"
    result = cli("test", str(calc(PASSING)), "--junit-xml", str(out))
    assert result.exit_code == 0, result.output
    assert ET.fromstring(out.read_bytes()).find("testsuite") is not None


def test_junit_xml_under_a_file_is_a_usage_error_naming_it(
    calc: Callable[[str], Path], cli: Callable[..., Result], tmp_path: Path
) -> None:
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / "junit.xml"
    result = cli("test", str(calc(PASSING)), "--junit-xml", str(out))
    assert result.exit_code == ExitCode.USAGE
    assert f"cannot write {out}: not a directory" in result.stderr
    assert "Traceback" not in result.output


def test_name_selects_examples_and_an_unknown_name_is_a_usage_error(
    calc: Callable[[str], Path], cli: Callable[..., Result]
) -> None:
    bundle = calc(PASSING)
    result = cli("test", str(bundle), "-k", "big")
    assert result.exit_code == 0, result.output
    assert list(table_rows(result.stderr)) == ["big"]
    result = cli("test", str(bundle), "--name", "bigg")
    assert result.exit_code == ExitCode.USAGE
    assert 'no example named "bigg"' in result.stderr and 'did you mean "big"?' in result.stderr


def test_a_bundle_without_examples_is_a_usage_error(
    calc: Callable[[str], Path], cli: Callable[..., Result]
) -> None:
    bundle = calc("")
    (bundle / "examples.yaml").unlink()
    result = cli("test", str(bundle))
    assert result.exit_code == ExitCode.USAGE
    assert "no examples to run" in result.stderr


def test_files_reach_preprocess_by_name(
    calc: Callable[[str], Path], cli: Callable[..., Result]
) -> None:
    bundle = calc(
        """\
- name: with-files
  input: {xs: [1]}
  files: {first: samples/a.bin, second: samples/b.bin}
  expected: {total: 1, mean: 1.0, label: small, sizes: {first: 3, second: 5}}
"""
    )
    (bundle / "samples").mkdir()
    (bundle / "samples" / "a.bin").write_bytes(b"\x00\x01\x02")
    (bundle / "samples" / "b.bin").write_bytes(b"\xff" * 5)
    result = cli("test", str(bundle))
    assert result.exit_code == 0, result.output
    assert table_rows(result.stderr) == {"with-files": ("PASS", "")}


def test_a_model_that_cannot_load_is_a_user_code_error_without_a_table(
    tree: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    bundle = tree(
        {
            "config.yaml": CONFIG,
            "model/model.py": (
                "class Model:\n    def load(self):\n        raise OSError('weights missing')\n"
                "    def predict(self, x):\n        return x\n"
            ),
            "examples.yaml": PASSING,
        }
    )
    result = cli("test", str(bundle))
    assert result.exit_code == ExitCode.USER_CODE
    assert "weights missing" in result.stderr
    assert table_rows(result.stderr) == {}


def test_real_process_plain_table_and_json(
    calc: Callable[[str], Path], run_bundle: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    result = run_bundle("test", str(calc(PASSING)), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["counts"]["passed"] == 2
    assert table_rows(result.stderr) == {"small": ("PASS", ""), "big": ("PASS", "")}
    assert "\x1b[" not in result.stderr  # not a terminal: no colours, no rich table


def test_an_archive_is_tested_like_its_folder(
    calc: Callable[[str], Path], cli: Callable[..., Result], tmp_path: Path
) -> None:
    archive = tmp_path / "calc.tar.gz"
    packed = cli("package", str(calc(PASSING)), "-o", str(archive))
    assert packed.exit_code == 0, packed.output
    result = cli("test", str(archive), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"]["passed"] == 2


def test_a_corrupt_archive_is_refused_before_anything_runs(
    calc: Callable[[str], Path],
    cli: Callable[..., Result],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    archive = tmp_path / "calc.tar.gz"
    assert cli("package", str(calc(PASSING)), "-o", str(archive)).exit_code == 0
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    marker = tmp_path / "loaded"
    monkeypatch.setenv("CALC_LOADED_MARKER", str(marker))
    result = cli("test", str(archive))
    assert result.exit_code == ExitCode.UNSAFE
    assert table_rows(result.stderr) == {}
    assert not marker.exists()


def test_a_streaming_model_is_compared_on_its_list_of_chunks(
    tree: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    bundle = tree(
        {
            "config.yaml": CONFIG,
            "model/model.py": (
                "class Model:\n"
                "    def predict(self, model_input):\n"
                "        for word in model_input['text'].split():\n"
                "            yield {'token': word}\n"
            ),
            "examples.yaml": (
                "- name: words\n  input: {text: a b}\n  expected: [{token: a}, {token: b}]\n"
                "- name: short\n  input: {text: a b}\n  expected: [{token: a}]\n"
            ),
        }
    )
    result = cli("test", str(bundle))
    assert result.exit_code == ExitCode.USER_CODE
    assert table_rows(result.stderr) == {
        "words": ("PASS", ""),
        "short": ("FAIL", "$: expected 1 item, got 2"),
    }
