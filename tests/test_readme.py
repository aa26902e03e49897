"""The README documents what the code does: every exit code, the quick start."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bundle_cli.errors import ExitCode

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_exit_code_is_documented_with_its_name() -> None:
    rows = dict(re.findall(r"^\| *(\d+) \| `(\w+)` \|", README, flags=re.MULTILINE))
    assert rows == {str(int(code)): code.name for code in ExitCode}


def test_exit_code_values_are_pinned() -> None:
    assert {c.name: int(c) for c in ExitCode} == {
        "OK": 0,
        "USER_CODE": 1,
        "USAGE": 2,
        "INVALID_INPUT": 3,
        "UNSAFE": 4,
        "ENVIRONMENT": 5,
        "INTERRUPTED": 130,
    }


def test_quick_start_is_the_two_make_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick and "make test" in quick


def test_config_reference_is_the_one_generated_from_the_schema() -> None:
    from bundle_cli.config.reference import replace_in

    assert replace_in(README) == README, (
        "the config reference is stale: run `make readme-reference`"
    )


def test_config_reference_names_every_key_the_validator_accepts() -> None:
    from bundle_cli.config.reference import END, START
    from bundle_cli.config.schema import BundleConfig, FlowStage, section_fields

    block = README.split(START, 1)[1].split(END, 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", block, flags=re.MULTILINE))
    accepted = set(section_fields(None)) | set(FlowStage.model_fields)
    for section in ("resources", "runtime"):
        accepted |= section_fields(section)
    assert documented == accepted
    assert set(BundleConfig.model_fields) <= documented


def test_python_api_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    section = README.split("## Python API", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BUNDLE_CACHE_DIR", str(tmp_path / "cache"))
    scope: dict[str, object] = {}
    exec(compile(code, "README.md#python-api", "exec"), scope)

    report, answer, answers = scope["report"], scope["answer"], scope["answers"]
    assert report.ok()  # type: ignore[attr-defined]
    assert answers == [answer, answer]
    assert answer["predictions"][0]["species"] == "setosa"  # type: ignore[index]
    assert scope["tests"].ok  # type: ignore[attr-defined]
    assert scope["checked"].ok  # type: ignore[attr-defined]
    assert (tmp_path / "unpacked" / "config.yaml").is_file()
    summary, packed = scope["summary"], scope["packed"]
    assert len(summary.manifest.files) == packed.file_count  # type: ignore[attr-defined]
