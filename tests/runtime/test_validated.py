"""The remembered validation verdict: reused while files are unchanged, redone on any change."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import bundle_cli.validation
from bundle_cli.errors import InvalidBundleError
from bundle_cli.validation.cache import validated_config

Copy = Callable[[str], Path]


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records each full validation run."""
    calls: list[Path] = []
    real = bundle_cli.validation.checked

    def counting(path: Path, *args: object, **kwargs: object) -> object:
        calls.append(Path(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(bundle_cli.validation, "checked", counting)
    return calls


def test_unchanged_bundle_is_validated_once(bundle_copy: Copy, validations: list[Path]) -> None:
    path = bundle_copy("echo")
    first = validated_config(path)
    assert validated_config(path) == first
    assert first["model_name"] == "echo" and first["model_module_dir"] == "model"
    assert len(validations) == 1


def test_running_the_bundle_does_not_invalidate(bundle_copy: Copy, validations: list[Path]) -> None:
    path = bundle_copy("echo")
    validated_config(path)
    (path / "model" / "__pycache__").mkdir()
    (path / "model" / "__pycache__" / "model.cpython-311.pyc").write_bytes(b"x")
    validated_config(path)
    assert len(validations) == 1


@pytest.mark.parametrize(
    "change",
    [
        lambda p: (p / "config.yaml").write_text("model_name: renamed\n"),
        lambda p: (p / "model" / "model.py").write_text(
            (p / "model" / "model.py").read_text() + "# edited\n"
        ),
        lambda p: os.utime(p / "model" / "model.py", ns=(1, 1)),
        lambda p: (p / "model" / "extra.py").write_text(""),
        lambda p: (p / "examples.yaml").unlink(),
    ],
)
def test_any_change_revalidates(
    bundle_copy: Copy, validations: list[Path], change: Callable[[Path], object]
) -> None:
    path = bundle_copy("echo")
    validated_config(path)
    change(path)
    validated_config(path)
    assert len(validations) == 2


def test_invalid_bundles_are_never_remembered(bundle_copy: Copy, validations: list[Path]) -> None:
    path = bundle_copy("echo")
    (path / "config.yaml").write_text("model_name: x\nunknown_key: 1\n")
    for _ in range(2):
        with pytest.raises(InvalidBundleError):
            validated_config(path)
    assert len(validations) == 2


def test_unwritable_cache_still_validates(
    bundle_copy: Copy, validations: list[Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("BUNDLE_CACHE_DIR", str(blocker))
    path = bundle_copy("echo")
    assert validated_config(path)["model_name"] == "echo"
    assert validated_config(path)["model_name"] == "echo"
    assert len(validations) == 2


@pytest.mark.parametrize(
    "entry",
    [
        '{"skip": null, "fingerprint": "x", "config": {}}',
        '{"skip": "data", "fingerprint": 5, "config": {}, "warnings": []}',
        '{"skip": "data", "fingerprint": "x", "config": [], "warnings": []}',
        '{"skip": "data", "fingerprint": "x", "config": {}, "warnings": [{"bad": 1}]}',
        "[" * 5000,
        "not json",
    ],
)
def test_a_corrupt_cache_entry_is_ignored_and_rewritten(
    bundle_copy: Copy, validations: list[Path], entry: str
) -> None:
    from bundle_cli.validation.cache import _entry_path

    path = bundle_copy("echo")
    validated_config(path)
    cached = _entry_path(path.resolve())
    cached.write_text(entry)
    assert validated_config(path)["model_name"] == "echo"
    assert len(validations) == 2
    assert json.loads(cached.read_text())["config"]["model_name"] == "echo"  # rewritten whole


def test_predict_and_test_run_over_the_corrupt_entry_of_findings_16(
    bundle_copy: Copy, run_bundle: Callable[..., Any]
) -> None:
    # Such an entry broke predict and test until the cache was deleted.
    from bundle_cli.validation.cache import _entry_path

    path = bundle_copy("echo")
    validated_config(path)
    cached = _entry_path(path.resolve())
    env = {"BUNDLE_CACHE_DIR": os.environ["BUNDLE_CACHE_DIR"]}
    for args in (["predict", str(path), "-d", "{}"], ["test", str(path)]):
        cached.write_text('{"skip": null, "fingerprint": "x", "config": {}}')
        result = run_bundle(*args, env=env)
        assert result.returncode == 0, result.stderr


def test_the_tools_bytecode_being_written_does_not_invalidate(
    bundle_copy: Copy, validations: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fingerprint names the tool's own validation code; a __pycache__ beside it changes
    # whenever Python writes a module's bytecode, which is no change of the tool.
    from bundle_cli.validation import cache

    tool = tmp_path / "tool"
    (tool / "pickles" / "__pycache__").mkdir(parents=True)
    (tool / "pickles" / "allowed.txt").write_text("numpy.core.multiarray _reconstruct\n")
    (tool / "layout.py").write_text("")
    monkeypatch.setattr(cache, "_TOOL_DIR", tool)
    path = bundle_copy("echo")
    validated_config(path)
    (tool / "pickles" / "__pycache__" / "sniff.cpython-311.pyc").write_bytes(b"bytecode")
    validated_config(path)
    assert len(validations) == 1
    allowed = tool / "pickles" / "allowed.txt"
    os.utime(allowed, ns=(allowed.stat().st_atime_ns, allowed.stat().st_mtime_ns + 10**9))
    validated_config(path)  # the allow-list changed: pickles' verdicts may have
    assert len(validations) == 2
