"""Every file-system mistake through the real `bundle` command: one line naming the path and the
operation, a documented exit code, no traceback, nothing lost (issue 11 items 1, 8, 10; FINDINGS
1, 17)."""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bundle_cli.errors import ExitCode
from tests.cli.reliability_kit import leftovers, probe, read_only_folder
from tests.conftest import bundle_executable, isolated_env

Run = Callable[..., subprocess.CompletedProcess[str]]


def _clean_failure(result: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], result.stderr


# -o PATH -> where the result lands, for predict and package alike (one rule).
O_TABLE = [
    ("existing folder", "out", True, "out/{name}"),
    ("trailing slash, missing", "new/", False, "new/{name}"),
    ("file in missing parents", "a/b/result.{ext}", False, "a/b/result.{ext}"),
    ("plain file", "result.{ext}", False, "result.{ext}"),
]


@pytest.mark.parametrize(
    ("label", "given", "make_dir", "lands"), O_TABLE, ids=[r[0] for r in O_TABLE]
)
@pytest.mark.parametrize("command", ["predict", "package"])
def test_o_means_the_same_for_predict_and_package(
    tree: Callable[..., Path], run_bundle: Run, tmp_path: Path,
    command: str, label: str, given: str, make_dir: bool, lands: str,
) -> None:  # fmt: skip
    bundle = probe(tree)
    name, ext = (
        ("prediction.json", "json") if command == "predict" else ("probe-0.1.0.tar.gz", "tar.gz")
    )
    if make_dir:
        (tmp_path / given).mkdir()
    args = ["-i", str(bundle / "input.json")] if command == "predict" else []
    result = run_bundle(command, str(bundle), *args, "-o", given.format(ext=ext))
    assert result.returncode == 0, result.stderr
    target = tmp_path / lands.format(name=name, ext=ext)
    assert target.is_file()
    if command == "predict":
        assert json.loads(target.read_text()) == {"kind": "echo"}
    assert leftovers(target.parent) == []


@pytest.mark.parametrize(
    ("command", "given", "words"),
    [
        ("predict", "", ["-o ''"]),
        ("predict", "afile/x.json", ["cannot write afile/x.json", "not a directory"]),
        ("predict", "x" * 300, ["file name too long"]),
        ("package", "afile/x.tar.gz", ["afile", "a file is in the way"]),
        ("package", "x.zip", ["x.zip", ".tar.gz or .tgz"]),
        ("package", "x.tar.zst", [".tar.gz or .tgz"]),
        ("package", "missing-folder", ["missing-folder", ".tar.gz or .tgz"]),
        ("package", "x" * 300 + ".tar.gz", ["file name too long"]),
    ],
)
def test_unusable_o_is_one_line_and_exit_2(
    tree: Callable[..., Path],
    run_bundle: Run,
    tmp_path: Path,
    command: str,
    given: str,
    words: list[str],
) -> None:
    bundle = probe(tree)
    (tmp_path / "afile").write_text("keep")
    marker = tmp_path / "imported"
    args = ["-i", str(bundle / "input.json")] if command == "predict" else []
    result = run_bundle(
        command, str(bundle), *args, "-o", given, env={"PROBE_IMPORTED": str(marker)}
    )
    _clean_failure(result, ExitCode.USAGE, *words)
    assert (tmp_path / "afile").read_text() == "keep"
    assert not marker.exists()  # checked before the model loaded


def test_predict_o_into_an_existing_folder_named_as_a_file_is_refused(
    tree: Callable[..., Path], run_bundle: Run, tmp_path: Path
) -> None:
    bundle = probe(tree)
    (tmp_path / "out.json").mkdir()  # a folder whose name looks like a file: into it
    result = run_bundle("predict", str(bundle), "-i", str(bundle / "input.json"), "-o", "out.json")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.json" / "prediction.json").is_file()


def test_special_files_are_written_through_never_replaced(
    tree: Callable[..., Path], run_bundle: Run, tmp_path: Path
) -> None:
    bundle = probe(tree)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = run_bundle("predict", str(bundle), "-i", str(bundle / "input.json"), "-o", str(fifo))
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(received[0]) == {"kind": "echo"}
    for args in (
        ["predict", str(bundle), "-i", str(bundle / "input.json"), "-o"],
        ["test", str(bundle), "--junit-xml"],
    ):
        result = run_bundle(*args, os.devnull)
        assert result.returncode == 0, result.stderr
        assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    if os.geteuid() == 0:  # a private copy of /dev/null, as FINDINGS 1 reproduced it
        node = tmp_path / "mynull"
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        for args in (
            ["predict", str(bundle), "-i", str(bundle / "input.json"), "-o"],
            ["test", str(bundle), "--junit-xml"],
        ):
            assert run_bundle(*args, str(node)).returncode == 0
            assert stat.S_ISCHR(os.lstat(node).st_mode)
    result = run_bundle("package", str(bundle), "-o", str(tmp_path / "pipe"))
    _clean_failure(result, ExitCode.USAGE, ".tar.gz")


def test_a_symlink_at_o_is_followed_and_stays_a_link(
    tree: Callable[..., Path], run_bundle: Run, tmp_path: Path
) -> None:
    bundle = probe(tree)
    real = tmp_path / "real" / "answer.json"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o600)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    result = run_bundle("predict", str(bundle), "-i", str(bundle / "input.json"), "-o", str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and json.loads(real.read_text()) == {"kind": "echo"}
    assert stat.S_IMODE(real.stat().st_mode) == 0o600  # the replaced file keeps its mode
    assert leftovers(real.parent) == [] and leftovers(tmp_path) == []


@pytest.mark.parametrize("command", ["predict", "package", "test", "unpack"])
def test_a_read_only_folder_is_named_with_the_operation(
    tree: Callable[..., Path], run_bundle: Run, tmp_path: Path, command: str
) -> None:
    bundle = probe(tree)
    with read_only_folder(tmp_path / "ro") as ro:
        if command == "predict":
            args = ["predict", str(bundle), "-i", str(bundle / "input.json"), "-o", f"{ro}/x.json"]
        elif command == "package":
            args = ["package", str(bundle), "-o", f"{ro}/"]
        elif command == "test":
            args = ["test", str(bundle), "--junit-xml", f"{ro}/junit.xml"]
        else:
            archive = tmp_path / "p.tar.gz"
            assert run_bundle("package", str(bundle), "-o", str(archive)).returncode == 0
            args = ["unpack", str(archive), f"{ro}/unpacked"]
        result = run_bundle(*args)
        assert result.returncode == ExitCode.USAGE, result.stderr
        assert "Traceback" not in result.stderr and str(ro) in result.stderr, result.stderr
        assert os.listdir(ro) == []


def _limited(limit: int) -> Callable[[], None]:
    def apply() -> None:  # like `ulimit -f`: writes beyond `limit` bytes fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize("command", ["predict", "package", "test", "unpack"])
def test_a_full_disk_keeps_the_old_file_and_leaves_no_temp(
    tree: Callable[..., Path], tmp_path: Path, command: str
) -> None:
    big = os.urandom(300_000).hex()  # incompressible, larger than the limit
    bundle = probe(
        tree,
        **{
            "data/big.txt": big,
            "examples.yaml": f"- name: {big[:200_000]}\n  input: {{kind: echo}}\n",
        },
    )
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"kind": "echo", "pad": big}))
    names = {"predict": "x.json", "package": "x.tar.gz", "test": "j.xml", "unpack": "folder"}
    target = tmp_path / "out" / names[command]
    target.parent.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    archive = tmp_path / "packed.tar.gz"
    if command == "unpack":
        packed = subprocess.run([bundle_executable(), "package", str(bundle), "-o", str(archive)],
                                capture_output=True, env=isolated_env(home), timeout=300)  # fmt: skip
        assert packed.returncode == 0, packed.stderr
    else:
        target.write_text("old")
    args = {
        "predict": ["predict", str(bundle), "-i", str(request), "-o", str(target)],
        "package": ["package", str(bundle), "-o", str(target)],
        "test": ["test", str(bundle), "--junit-xml", str(target)],
        "unpack": ["unpack", str(archive), str(target)],
    }[command]
    result = subprocess.run(
        [bundle_executable(), *args], capture_output=True, text=True, cwd=tmp_path,
        env=isolated_env(home), preexec_fn=_limited(64 * 1024), timeout=300,
    )  # fmt: skip
    operation = "unpack into" if command == "unpack" else "write"
    _clean_failure(result, ExitCode.USAGE, f"cannot {operation} {target}", "file too large")
    assert (target.read_text() == "old") if command != "unpack" else not target.exists()
    assert leftovers(target.parent) == []


def test_sigterm_during_predict_o_exits_143_and_keeps_the_old_output(
    tree: Callable[..., Path], tmp_path: Path
) -> None:
    bundle = probe(tree)
    out = tmp_path / "answer.json"
    out.write_text("old answer")
    home = tmp_path / "home"
    home.mkdir()
    proc = subprocess.Popen(
        [bundle_executable(), "predict", str(bundle), "-d", '{"kind": "sleep", "seconds": 30}', "-o", str(out)],
        cwd=tmp_path, env=isolated_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not leftovers(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.02)  # the temp file beside -o exists: the model is running
    assert leftovers(tmp_path), "predict never started writing"
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.TERMINATED == 143
    assert b"Traceback" not in stderr and b"terminated" in stderr
    assert out.read_text() == "old answer"
    assert leftovers(tmp_path) == []
