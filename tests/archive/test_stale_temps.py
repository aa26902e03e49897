"""Temp files of a killed `package` or `unpack` are removed by the next run on the same target."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from archive_kit import SCAFFOLD

from tests.conftest import bundle_executable, isolated_env

Run = Callable[..., subprocess.CompletedProcess[str]]
HOUR_AGO = time.time() - 3600


def _dead_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _kill_when(argv: list[str], appears: Callable[[], list[Path]], home: Path) -> list[Path]:
    """Run the real command, SIGKILL it as soon as its temp file shows, return what it left."""
    proc = subprocess.Popen(argv, env=isolated_env(home), stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not appears() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return appears()


def test_a_killed_package_leaves_a_temp_file_that_the_next_run_removes(
    tree: Callable[..., Path], tmp_path: Path, run_bundle: Run
) -> None:
    bundle = tree({**SCAFFOLD, "data/big.bin": np.random.default_rng(1).bytes(64 * 1024 * 1024)})
    out = tmp_path / "out"
    out.mkdir()
    temps = lambda: list(out.glob(".*.tmp"))  # noqa: E731
    argv = [bundle_executable(), "package", str(bundle), "-o", str(out / "m.tar.gz")]
    left = _kill_when(argv, temps, tmp_path)
    assert left, "the kill came after the temp file was made"
    fresh_dead = out / f".m.tar.gz.{_dead_pid()}.abcdefgh.tmp"
    fresh_dead.write_bytes(b"recent")  # a dead owner, but touched just now: kept
    live = out / f".m.tar.gz.{os.getpid()}.abcdefgh.tmp"
    live.write_bytes(b"mine")  # a live owner: kept
    for path in [*left, live]:
        os.utime(path, (HOUR_AGO, HOUR_AGO))
    assert run_bundle("package", str(bundle), "-o", str(out / "m.tar.gz")).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(["m.tar.gz", fresh_dead.name, live.name])


def test_a_killed_unpack_leaves_a_folder_that_the_next_run_removes(
    tree: Callable[..., Path], tmp_path: Path, pack: Callable[..., Path], run_bundle: Run
) -> None:
    bundle = tree({**SCAFFOLD, "data/big.bin": np.random.default_rng(2).bytes(64 * 1024 * 1024)})
    archive = pack(bundle, "big.tar.gz")
    target = tmp_path / "unpacked"
    temps = lambda: list(tmp_path.glob(".unpacked.*.unpacking"))  # noqa: E731
    left = _kill_when([bundle_executable(), "unpack", str(archive), str(target)], temps, tmp_path)
    assert left and not target.exists()
    for top, dirs, files in os.walk(left[0]):
        for name in [".", *dirs, *files]:
            os.utime(os.path.join(top, name), (HOUR_AGO, HOUR_AGO), follow_symlinks=False)
    assert run_bundle("unpack", str(archive), str(target)).returncode == 0
    assert temps() == [] and (target / "data/big.bin").stat().st_size == 64 * 1024 * 1024


def test_stale_temps_of_predict_output_and_junit_reports_are_removed(
    tmp_path: Path, run_bundle: Run
) -> None:
    assert run_bundle("init", "demo").returncode == 0
    demo = tmp_path / "demo"
    stale = [
        tmp_path / f".out.json.{_dead_pid()}.tmp",
        tmp_path / f".report.xml.{_dead_pid()}.abcdefgh.tmp",
    ]
    for path in stale:
        path.write_text("left by a killed run")
        os.utime(path, (HOUR_AGO, HOUR_AGO))
    inputs = str(demo / "input.json")
    assert run_bundle("predict", str(demo), "-i", inputs, "-o", "out.json").returncode == 0
    assert run_bundle("test", str(demo), "--junit-xml", "report.xml").returncode == 0
    assert not any(p.exists() for p in stale)
    assert (tmp_path / "out.json").is_file() and (tmp_path / "report.xml").is_file()
