"""Interrupting real `bundle package` / `bundle unpack` processes in the middle of a big job.

One bundle of 256 MiB of random bytes is shared by the module; each test starts the real console
script, waits until its temporary file is growing, sends a signal and checks what is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from archive_kit import MINIMAL, SCAFFOLD, bundle_env, bundle_script

BIG = 256 * 1024 * 1024
OLD = b"the previous archive, which must survive\n" * 1000


@pytest.fixture(scope="module")
def big_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big") / "bundle"
    (root / "model").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "config.yaml").write_text(str(SCAFFOLD["config.yaml"]))
    (root / "model/model.py").write_text(str(SCAFFOLD["model/model.py"]))
    rng = np.random.default_rng(11)
    with open(root / "data/big.bin", "wb") as f:
        for _ in range(BIG // (16 * 1024 * 1024)):
            f.write(rng.bytes(16 * 1024 * 1024))
    return root


def start(args: list[str], home: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=bundle_env(home)
    )


def wait_for_temp(
    folder: Path, pattern: str, proc: subprocess.Popen[bytes], min_size: int = 8 * 1024 * 1024
) -> Path:
    """The temporary output, once it holds at least min_size bytes (the job is in full swing)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        for p in folder.glob(pattern):
            size = (
                p.stat().st_size
                if p.is_file()
                else sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
            )
            if size >= min_size:
                return p
        time.sleep(0.005)
    raise AssertionError("the job never got going")


def package_cmd(bundle: Path, out: Path) -> list[str]:
    return [bundle_script(), "package", str(bundle), "-o", str(out)]


@pytest.mark.parametrize(
    ("sig", "code", "message"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
    ids=["sigint", "sigterm"],
)
def test_signal_during_package_keeps_the_old_archive_and_cleans_up(
    big_bundle: Path, tmp_path: Path, sig: int, code: int, message: str
) -> None:
    out = tmp_path / "dist" / "model.tar.gz"
    out.parent.mkdir()
    out.write_bytes(OLD)
    proc = start(package_cmd(big_bundle, out), tmp_path)
    wait_for_temp(out.parent, ".model.tar.gz.*.tmp", proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert message in err.decode() and b"Traceback" not in err
    assert out.read_bytes() == OLD
    assert os.listdir(out.parent) == ["model.tar.gz"], "no temp file left"


@pytest.mark.parametrize("had_old", [True, False], ids=["old-archive", "no-old-archive"])
def test_sigkill_during_package_never_leaves_a_partial_archive(
    big_bundle: Path, tmp_path: Path, had_old: bool
) -> None:
    out = tmp_path / "dist" / "model.tar.gz"
    out.parent.mkdir()
    if had_old:
        out.write_bytes(OLD)
    proc = start(package_cmd(big_bundle, out), tmp_path)
    temp = wait_for_temp(out.parent, ".model.tar.gz.*.tmp", proc)
    proc.kill()
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    if had_old:
        assert out.read_bytes() == OLD
    else:
        assert not out.exists()
    assert temp.exists(), "SIGKILL cannot be cleaned up after; the leftover is a hidden temp name"
    assert sorted(os.listdir(out.parent)) == sorted(
        [temp.name, *(["model.tar.gz"] if had_old else [])]
    )


def test_completed_package_then_sigint_during_unpack_leaves_nothing(
    big_bundle: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "model.tar.gz"
    done = subprocess.run(
        package_cmd(big_bundle, archive), capture_output=True, env=bundle_env(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    target_parent = tmp_path / "here"
    target_parent.mkdir()
    proc = start([bundle_script(), "unpack", str(archive), str(target_parent / "out")], tmp_path)
    wait_for_temp(target_parent, ".out.*.unpacking", proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert os.listdir(target_parent) == [], "neither the target nor the temp folder is left"
    verify = subprocess.run(
        [bundle_script(), "verify", str(archive)], capture_output=True, env=bundle_env(tmp_path)
    )
    assert verify.returncode == 0, verify.stderr


def _run_with_stderr(args: list[str], home: Path, tty: bool) -> tuple[int, str]:
    """Run a command with stderr on a pseudo-terminal (tty=True) or a pipe; return (code, stderr)."""
    import pty

    if not tty:
        done = subprocess.run(args, capture_output=True, env=bundle_env(home), timeout=120)
        return done.returncode, done.stderr.decode()
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=slave, env=bundle_env(home))
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=120), b"".join(chunks).decode(errors="replace")


def test_progress_bar_only_on_a_terminal_and_only_for_big_bundles(
    big_bundle: Path, tmp_path: Path, tree: Callable[..., Path]
) -> None:
    code, err = _run_with_stderr(
        package_cmd(big_bundle, tmp_path / "tty.tar.gz"), tmp_path, tty=True
    )
    assert code == 0, err
    assert "packaging [" in err and "%" in err
    code, err = _run_with_stderr(
        package_cmd(big_bundle, tmp_path / "pipe.tar.gz"), tmp_path, tty=False
    )
    assert code == 0 and "packaging [" not in err and "wrote" in err
    small = tree(MINIMAL, name="small")
    code, err = _run_with_stderr(package_cmd(small, tmp_path / "small.tar.gz"), tmp_path, tty=True)
    assert code == 0 and "packaging [" not in err


def test_a_slow_load_shows_a_spinner_on_a_terminal_only(
    tmp_path: Path, tree: Callable[..., Path]
) -> None:
    # issue 11 item 13: a load over a second shows a spinner; a pipe (CI logs) never gets one.
    slow = tree(
        {
            "config.yaml": "model_name: slow-load\n",
            "model/__init__.py": "",
            "model/model.py": (
                "import time\n\n\nclass Model:\n    def load(self):\n        time.sleep(1.5)\n\n"
                "    def predict(self, x):\n        return x\n"
            ),
        },
        name="slow",
    )
    command = [bundle_script(), "predict", str(slow), "-d", "{}"]
    code, err = _run_with_stderr(command, tmp_path, tty=True)
    assert code == 0, err
    assert "loading the model" in err
    code, err = _run_with_stderr(command, tmp_path, tty=False)
    assert code == 0 and "loading the model" not in err
