"""`bundle predict` streams: JSON Lines runs, streamed chunks, Ctrl-C, progress, closed pipes."""

from __future__ import annotations

import json
import os
import pickle
import pty
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import bundle_executable, isolated_env

Copy = Callable[[str], Path]
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def sklearn_bundle(bundle_copy: Copy) -> tuple[Path, object]:
    """The sklearn_jsonl bundle with a LogisticRegression trained here on 4 features."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4))
    y = (x @ np.array([1.0, -2.0, 0.5, 1.5]) > 0).astype(int) + (x[:, 0] > 1).astype(int)
    model = LogisticRegression(max_iter=500).fit(x, y)
    path = bundle_copy("sklearn_jsonl")
    (path / "data" / "model.pkl").write_bytes(pickle.dumps(model))
    return path, model


@pytest.mark.parametrize("batch", [None, "1000"])
def test_jsonl_10k_lines_in_order(
    sklearn_bundle: tuple[Path, object], run_bundle: Run, tmp_path: Path, batch: str | None
) -> None:
    import numpy as np

    path, model = sklearn_bundle
    rows = np.random.default_rng(1).normal(size=(10_000, 4)).round(4)
    lines = tmp_path / "in.jsonl"
    lines.write_text("".join(json.dumps(r) + "\n" for r in rows.tolist()))
    extra = ["--batch-size", batch] if batch else []
    result = run_bundle("predict", str(path), "--jsonl", "-i", str(lines), *extra)
    assert result.returncode == 0, result.stderr
    got = [json.loads(line) for line in result.stdout.splitlines()]
    assert got == model.predict(rows).tolist()  # type: ignore[attr-defined]
    assert len(set(got)) > 1 and result.stderr == ""  # no progress: stderr is not a terminal


def test_jsonl_bad_line_names_it_and_writes_no_output_file(
    bundle_copy: Copy, run_bundle: Run, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"v": 1}\n{"v": 2}\n{"v": }\n')
    out = tmp_path / "out.jsonl"
    result = run_bundle(
        "predict", str(bundle_copy("batched")), "--jsonl", "-i", str(source), "-o", str(out)
    )
    assert result.returncode == 3 and f"{source}:3:7: not valid JSON" in result.stderr
    assert not out.exists() and list(tmp_path.glob(".out.jsonl*")) == []


def test_jsonl_with_the_declared_batch_size(bundle_copy: Copy, run_bundle: Run) -> None:
    data = "\n".join(json.dumps({"v": i}) for i in range(6))
    result = run_bundle("predict", str(bundle_copy("batched")), "--jsonl", "-d", data)
    outs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["double"] for o in outs] == [0, 2, 4, 6, 8, 10]
    assert [o["batch"] for o in outs] == [4, 4, 4, 4, 2, 2]


def test_batch_size_on_a_model_without_batches(bundle_copy: Copy, run_bundle: Run) -> None:
    result = run_bundle(
        "predict", str(bundle_copy("echo")), "--jsonl", "-d", "1", "--batch-size", "8"
    )
    assert result.returncode == 2 and "predict_batch_size = N" in result.stderr


def _popen(args: list[str], tmp_path: Path, **kwargs: object) -> subprocess.Popen[bytes]:
    env = isolated_env(tmp_path / "home") | kwargs.pop("env", {})  # type: ignore[operator]
    return subprocess.Popen([bundle_executable(), *args], env=env, **kwargs)  # type: ignore[call-overload]


def test_chunks_are_written_as_they_are_produced(bundle_copy: Copy, tmp_path: Path) -> None:
    path = bundle_copy("stream_sync")
    proc = _popen(
        ["predict", str(path), "-d", '{"count": 3}'], tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={"STREAM_PAUSE": "3"},
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    assert json.loads(first) == {"chunk": 0}
    assert proc.poll() is None  # still running: the model is sleeping after its first chunk
    rest, err = proc.communicate(timeout=60)
    assert [json.loads(x) for x in rest.splitlines()] == [{"chunk": 1}, {"chunk": 2}]
    assert b"after first chunk" in err


def test_ctrl_c_exits_130_without_a_traceback(bundle_copy: Copy, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    proc = _popen(
        ["predict", str(bundle_copy("slow")), "-d", '{"seconds": 30}', "-o", str(out)], tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    time.sleep(1.5)  # loaded and waiting inside predict
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert stdout == b"" and b"Traceback" not in stderr and b"interrupted" in stderr
    assert list(tmp_path.glob("*out.json*")) == []


def test_closed_pipe_ends_quietly(bundle_copy: Copy, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps({"v": i}) for i in range(20_000)))
    proc = _popen(
        ["predict", str(bundle_copy("batched")), "--jsonl", "-i", str(source)], tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    assert json.loads(proc.stdout.readline())["v"] == 0
    proc.stdout.close()  # like `| head -1`
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""


def test_progress_appears_on_a_terminal_for_long_runs(bundle_copy: Copy, tmp_path: Path) -> None:
    data = "\n".join(json.dumps({"seconds": 0.004}) for _ in range(400))
    source = tmp_path / "in.jsonl"
    source.write_text(data)
    main, secondary = pty.openpty()
    proc = _popen(
        ["predict", str(bundle_copy("slow")), "--jsonl", "-i", str(source)], tmp_path,
        stdout=subprocess.PIPE, stderr=secondary,
    )  # fmt: skip
    os.close(secondary)
    stdout, _ = proc.communicate(timeout=120)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    assert proc.returncode == 0 and len(stdout.splitlines()) == 400
    assert b" lines, " in shown and b"400 lines in " in shown


def test_jsonl_to_an_output_file(bundle_copy: Copy, run_bundle: Run, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    data = "\n".join(json.dumps({"v": i}) for i in range(3))
    result = run_bundle(
        "predict", str(bundle_copy("batched")), "--jsonl", "-d", data, "-o", str(out)
    )
    assert result.returncode == 0 and result.stdout == ""
    assert [json.loads(x)["double"] for x in out.read_text().splitlines()] == [0, 2, 4]
