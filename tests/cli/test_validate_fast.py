"""`bundle validate` without typer, and its report cache: the same answers, sooner."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer.main

from bundle_cli.cli.commands import app
from bundle_cli.cli.options import parse
from bundle_cli.cli.validate_fast import FLAGS, ValidateOptions
from bundle_cli.errors import ExitCode

Run = Callable[..., subprocess.CompletedProcess[str]]

MODEL = "class Model:\n    def predict(self, model_input):\n        return model_input\n"
WARNS = {  # valid, with one warning: model_name falls back to the folder's name
    "config.yaml": "version: 1.0.0\n",
    "model/model.py": MODEL,
    "data/weights.txt": "1 2 3\n",
    "examples.yaml": "- name: one\n  input: 1\n  files: {w: data/weights.txt}\n",
}


def _validate_command() -> Any:
    return typer.main.get_command(app).commands["validate"]  # type: ignore[attr-defined]


def test_the_flag_tables_are_the_same() -> None:
    table = {}
    for param in _validate_command().params:
        if param.param_type_name == "option" and param.name != "help":
            assert param.is_flag, param.name
            for name in param.opts:
                table[name] = str(param.name)
    assert table == FLAGS


@pytest.mark.parametrize(
    "argv", [[], ["dir"], ["--json", "dir"], ["dir", "--strict", "--no-cache"], ["--json"]]
)
def test_parse_agrees_with_typer(argv: list[str]) -> None:
    ctx = _validate_command().make_context("validate", list(argv))
    parsed = parse(ValidateOptions, argv)
    assert parsed is not None
    assert dataclasses.asdict(parsed) == ctx.params


@pytest.mark.parametrize("argv", [["-h"], ["--help"], ["a", "b"], ["--jsn"], ["--", "-x"]])
def test_anything_unusual_is_left_to_typer(argv: list[str]) -> None:
    assert parse(ValidateOptions, argv) is None


def test_typer_answers_what_the_fast_path_declines(run_bundle: Run) -> None:
    helped = run_bundle("validate", "--help")
    assert helped.returncode == 0 and "--no-cache" in helped.stdout
    wrong = run_bundle("validate", "--jsn")
    assert wrong.returncode == ExitCode.USAGE and "No such option" in wrong.stderr


def _calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Count the real validations behind validate_cached."""
    import bundle_cli.validation

    real, calls = bundle_cli.validation.validate, []

    def counting(path: Any, **kwargs: Any) -> Any:
        calls.append(Path(path))
        return real(path, **kwargs)

    monkeypatch.setattr(bundle_cli.validation, "validate", counting)
    return calls


def test_a_report_is_reused_until_any_file_changes(
    tree: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bundle_cli.validation import validate
    from bundle_cli.validation.cache import validate_cached

    monkeypatch.setenv("BUNDLE_CACHE_DIR", str(tmp_path / "cache"))
    bundle = tree(WARNS)
    calls = _calls(monkeypatch)
    first = validate_cached(bundle)
    assert first.ok() and len(first.warnings) == 1
    assert validate_cached(bundle) == first and len(calls) == 1  # from the cache

    # A file of the data folder that examples.yaml names disappears: a fresh run says so.
    (bundle / "data" / "weights.txt").unlink()
    second = validate_cached(bundle)
    assert len(calls) == 2 and not second.ok()
    assert second == validate(bundle)
    assert validate_cached(bundle) == second and len(calls) == 2  # errors are cached too

    (bundle / "data" / "weights.txt").write_text("1 2 3\n")
    assert validate_cached(bundle) == first and len(calls) == 3

    model = bundle / "model" / "model.py"
    model.write_text(MODEL.replace("predict", "predcit"))
    assert validate_cached(bundle) == validate(bundle) != first and len(calls) == 4


def test_the_path_as_written_is_part_of_the_key(
    tree: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bundle_cli.validation.cache import validate_cached

    monkeypatch.setenv("BUNDLE_CACHE_DIR", str(tmp_path / "cache"))
    bundle = tree(WARNS)
    monkeypatch.chdir(bundle.parent)
    absolute = validate_cached(bundle)
    relative = validate_cached(Path(bundle.name))
    assert absolute.diagnostics[0].file == str(bundle / "config.yaml")
    assert relative.diagnostics[0].file == f"{bundle.name}/config.yaml"


def test_folders_outside_the_bundle_are_never_cached(
    tree: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bundle_cli.validation.cache import validate_cached

    monkeypatch.setenv("BUNDLE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "shared").mkdir()
    bundle = tree(
        {
            "config.yaml": "model_name: m\nexternal_package_dirs: [../shared]\n",
            "model/model.py": MODEL,
        }
    )
    calls = _calls(monkeypatch)
    assert validate_cached(bundle).ok()
    (tmp_path / "shared").rmdir()  # outside the fingerprint: the next run must see it
    assert not validate_cached(bundle).ok()
    assert len(calls) == 2


def test_an_unwritable_cache_only_costs_time(
    tree: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bundle_cli.validation.cache import validate_cached

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("BUNDLE_CACHE_DIR", str(blocker))
    bundle = tree(WARNS)
    assert validate_cached(bundle) == validate_cached(bundle)


def test_a_corrupt_cache_entry_is_ignored(
    tree: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bundle_cli.validation.cache import validate_cached

    cache = tmp_path / "cache"
    monkeypatch.setenv("BUNDLE_CACHE_DIR", str(cache))
    bundle = tree(WARNS)
    first = validate_cached(bundle)
    for entry in (cache / "reports").iterdir():
        entry.write_text('{"fingerprint": 1, "diagnostics": [{"bogus": 1}]}')
    assert validate_cached(bundle) == first


def _env(tmp_path: Path) -> dict[str, str]:
    return {"BUNDLE_CACHE_DIR": str(tmp_path / "cache")}


def test_fast_path_and_typer_print_the_same(
    tree: Callable[..., Path], tmp_path: Path, run_bundle: Run, cli: Callable[..., Any]
) -> None:
    bundle = tree({**WARNS, "config.yaml": "versoin: 1\n"})
    for args in ([], ["--json"], ["--strict"], ["--no-cache"]):
        fast = run_bundle("validate", str(bundle), *args, env=_env(tmp_path))
        cached = run_bundle("validate", str(bundle), *args, env=_env(tmp_path))
        typer_run = cli("validate", str(bundle), *args)
        assert fast.returncode == cached.returncode == typer_run.exit_code == ExitCode.USAGE
        assert fast.stdout == cached.stdout == typer_run.stdout
        assert fast.stderr == cached.stderr == typer_run.stderr
        assert "unknown key" in fast.stdout + fast.stderr


def test_a_cached_validation_imports_neither_typer_nor_pydantic_nor_yaml(
    tree: Callable[..., Path], tmp_path: Path
) -> None:
    bundle = tree(WARNS)
    code = (
        "import sys\n"
        "from bundle_cli.__main__ import main\n"
        f"code = main(['validate', {str(bundle)!r}, '--json'])\n"
        "heavy = sorted(m for m in ('typer', 'click', 'pydantic', 'yaml') if m in sys.modules)\n"
        "print(code, heavy, file=sys.stderr)\n"
    )
    env = {**os.environ, **_env(tmp_path), "NO_COLOR": "1"}
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        for _ in range(2)
    ]
    cold, warm = (r.stderr.strip().splitlines()[-1] for r in runs)
    assert cold == "0 ['pydantic', 'yaml']"  # validated: the config model, never typer
    assert warm == "0 []"  # the report came from the cache
    assert json.loads(runs[0].stdout) == json.loads(runs[1].stdout)


def test_an_uncached_validation_loads_the_pickle_scanner_only_for_a_possible_pickle(
    tree: Callable[..., Path], tmp_path: Path
) -> None:
    # The scaffold's validation budget: a bundle without anything pickle-like (and without a
    # requirements.lock) never imports the scanner, the file selection or uv's side; one
    # possible pickle, whatever its name, brings them back and is scanned.
    import pickle

    bundle = tree(WARNS)
    code = (
        "import sys\n"
        "from bundle_cli.__main__ import main\n"
        f"code = main(['validate', {str(bundle)!r}, '--no-cache', '--json'])\n"
        "names = ('pathspec', 'bundle_cli.pickles.inventory', 'bundle_cli.envs')\n"
        "print(code, sorted(m for m in names if m in sys.modules), file=sys.stderr)\n"
    )
    env = {**os.environ, **_env(tmp_path), "NO_COLOR": "1"}

    def run() -> tuple[str, Any]:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        return done.stderr.strip().splitlines()[-1], json.loads(done.stdout)

    assert run()[0] == "0 []"
    (bundle / "model" / "weights.bin").write_bytes(pickle.dumps({"w": [1.0]}, protocol=4))
    line, report = run()
    assert line == "0 ['bundle_cli.pickles.inventory', 'pathspec']"
    listed = [d for d in report["diagnostics"] if d["code"] == "pickle-inventory"]
    assert [Path(d["file"]).name for d in listed] == ["weights.bin"]
