"""`bundle env ...`: environments built with real uv, reused by key, safe under concurrency and
interruption, and honest when they cannot be built."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

from envs_kit import bundle_executable, env_python, envs_of, leftovers, start_build_and_wait

IDNA = "import importlib.metadata as m; print(m.version('idna'))"


def test_build_reuse_and_key(make_bundle, bundle_cmd, tmp_path: Path) -> None:
    bundle = make_bundle(["idna==2.10"])
    first = bundle_cmd("env", "build", str(bundle))
    assert first.returncode == 0, first.stderr
    folder = Path(first.stdout.strip())
    assert "built in" in first.stderr
    assert (folder / ".bundle-env.json").is_file()
    # the test venv has idna 3.x: the environment holds exactly the pin
    assert env_python(folder, IDNA) == "2.10"

    (bundle / "model" / "model.py").write_text(
        "class Model:\n    def predict(self, x):\n        return x\n"
    )
    again = bundle_cmd("env", "build", str(bundle))
    assert again.returncode == 0 and Path(again.stdout.strip()) == folder, "code is not in the key"
    assert "already built" in again.stderr
    assert bundle_cmd("env", "path", str(bundle)).stdout.strip() == str(folder)

    other = make_bundle(["IDNA == 2.9"], name="other")
    built = bundle_cmd("env", "build", str(other))
    assert built.returncode == 0, built.stderr
    assert Path(built.stdout.strip()) != folder
    listed = json.loads(bundle_cmd("env", "list", "--json").stdout)
    assert sorted(e["requirements"][0] for e in listed) == ["idna==2.10", "idna==2.9"]
    cached = json.loads(bundle_cmd("cache", "--json").stdout)
    assert [e["kind"] for e in cached] == ["environment", "environment"]

    removed = bundle_cmd("env", "remove", str(other))
    assert removed.returncode == 0, removed.stderr
    assert envs_of(tmp_path / "cache") == [folder]
    gone = bundle_cmd("env", "path", str(other))
    assert gone.returncode == 2 and "not built" in gone.stderr
    assert bundle_cmd("cache", "clean").returncode == 0
    assert envs_of(tmp_path / "cache") == []


def _pycs(folder: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*.pyc")}


def test_bytecode_is_compiled_after_the_build_and_used_by_runs(make_bundle, bundle_cmd) -> None:
    bundle = make_bundle(["idna==2.10"])
    built = bundle_cmd("env", "build", str(bundle))
    assert built.returncode == 0, built.stderr
    folder = Path(built.stdout.strip())
    waited = bundle_cmd("env", "build", "--wait", str(bundle))
    assert waited.returncode == 0 and "bytecode compiled" in waited.stderr, waited.stderr
    done = json.loads((folder / ".bundle-bytecode.json").read_text())
    assert done["all_compiled"] is True
    compiled = _pycs(folder)
    sources = {p for p in folder.rglob("idna/*.py")}
    assert sources and all(
        any(f"/idna/__pycache__/{p.stem}.cpython-" in c for c in compiled) for p in sources
    ), "every module of the environment is compiled"
    [listed] = json.loads(bundle_cmd("env", "list", "--json").stdout)
    assert listed["bytecode"] == "compiled"
    ran = bundle_cmd("predict", str(bundle), "-d", "{}", "--isolated")
    assert ran.returncode == 0 and json.loads(ran.stdout)["idna"] == "2.10", ran.stderr
    assert _pycs(folder) == compiled, "the run compiled nothing (no pyc written or rewritten)"
    (folder / ".bundle-bytecode.json").unlink()  # as if the compilation had been cut short
    [listed] = json.loads(bundle_cmd("env", "list", "--json").stdout)
    assert listed["bytecode"] == "not compiled"
    again = bundle_cmd("env", "build", "--wait", str(bundle))
    assert "already built" in again.stderr and "bytecode compiled" in again.stderr, again.stderr
    assert (folder / ".bundle-bytecode.json").is_file()


def test_a_rebuild_installs_the_versions_resolved_before(make_bundle, bundle_cmd) -> None:
    older = make_bundle(["idna==2.9"], name="older")
    assert bundle_cmd("env", "build", str(older)).returncode == 0  # idna 2.9 in uv's cache
    bundle = make_bundle(["idna<3"])
    first = bundle_cmd("env", "build", str(bundle))
    assert first.returncode == 0, first.stderr
    folder = Path(first.stdout.strip())
    assert env_python(folder, IDNA) == "2.10"  # the newest below 3
    [record] = (folder.parent / ".resolved").glob(f"{folder.name}.json")
    data = json.loads(record.read_text())
    assert "idna==2.10" in data["pins"]
    # As if the first build had resolved to 2.9 (then the newest): a rebuild gives that back
    data["pins"] = ["idna==2.9"]
    record.write_text(json.dumps(data))
    assert bundle_cmd("env", "remove", str(bundle)).returncode == 0
    again = bundle_cmd("env", "build", str(bundle))
    assert again.returncode == 0, again.stderr
    assert env_python(folder, IDNA) == "2.9", "the recorded resolution, not a new one"
    assert bundle_cmd("env", "remove", str(bundle)).returncode == 0
    upgraded = bundle_cmd("env", "build", "--upgrade", str(bundle))
    assert upgraded.returncode == 0, upgraded.stderr
    assert env_python(folder, IDNA) == "2.10"
    assert "idna==2.10" in json.loads(record.read_text())["pins"]
    assert bundle_cmd("env", "remove", "--all").returncode == 0
    assert not record.exists(), "removing every environment forgets what they resolved to"


def test_two_concurrent_builds_build_once(make_bundle, env_vars, tmp_path: Path) -> None:
    bundle = make_bundle(["six==1.12.0", "idna==2.8"])
    procs = [
        subprocess.Popen(
            [bundle_executable(), "env", "build", str(bundle)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env_vars,
        )
        for _ in range(2)
    ]
    results = [(p.wait(120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0], results
    assert len({out for _, out, _ in results}) == 1
    said = sorted("built in" in err for _, _, err in results)
    assert said == [False, True], "one built it, the other waited and reused it"
    assert leftovers(tmp_path / "cache") == []


def test_a_build_killed_halfway_is_never_used_and_retried(
    make_bundle, env_vars, bundle_cmd, tmp_path: Path
) -> None:
    bundle = make_bundle(["idna==2.7"])
    proc = start_build_and_wait(bundle, env_vars, tmp_path / "cache")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert envs_of(tmp_path / "cache") == [], "a build without its marker is not in place"
    assert leftovers(tmp_path / "cache"), "killed halfway: its temp folder is left behind"
    retried = bundle_cmd("env", "build", str(bundle))
    assert retried.returncode == 0, retried.stderr
    folder = Path(retried.stdout.strip())
    assert env_python(folder, IDNA) == "2.7"
    assert leftovers(tmp_path / "cache") == []


def test_sigterm_during_a_build_leaves_nothing(make_bundle, env_vars, tmp_path: Path) -> None:
    bundle = make_bundle(["idna==2.6"])
    proc = start_build_and_wait(bundle, env_vars, tmp_path / "cache")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 143
    assert envs_of(tmp_path / "cache") == [] and leftovers(tmp_path / "cache") == []


def test_unresolvable_requirement_is_exit_2_naming_it(make_bundle, bundle_cmd, tmp_path) -> None:
    bundle = make_bundle(["idna==99.0", "six==1.12.0"])
    failed = bundle_cmd("env", "build", str(bundle))
    assert failed.returncode == 2, failed.stderr
    assert "(idna==99.0)" in failed.stderr and "No solution found" in failed.stderr
    assert "Traceback" not in failed.stderr and "Using Python" not in failed.stderr
    assert envs_of(tmp_path / "cache") == [] and leftovers(tmp_path / "cache") == []


def test_offline_with_a_warm_and_a_cold_cache(make_bundle, bundle_cmd, tmp_path) -> None:
    bundle = make_bundle(["idna==2.5"])
    cold = bundle_cmd(
        "env", "build", str(bundle), "--offline", env={"UV_CACHE_DIR": str(tmp_path / "empty")}
    )
    assert cold.returncode == 2, cold.stderr
    assert "--offline" in cold.stderr and "idna==2.5" in cold.stderr
    assert "with the network" in cold.stderr
    assert bundle_cmd("env", "build", str(bundle)).returncode == 0  # fills uv's cache
    assert bundle_cmd("env", "remove", str(bundle)).returncode == 0
    warm = bundle_cmd("env", "build", str(bundle), "--offline")
    assert warm.returncode == 0, warm.stderr
    assert env_python(Path(warm.stdout.strip()), IDNA) == "2.5"


def test_a_python_version_not_installed_names_those_found(make_bundle, bundle_cmd, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    real = Path(
        os.path.realpath(
            "/usr/bin/python3.11" if Path("/usr/bin/python3.11").exists() else os.sys.executable
        )
    )
    (bin_dir / "python3.11").symlink_to(real)
    bundle = make_bundle([], extra='python_version: "3.9"\n')
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "PYENV_ROOT": str(tmp_path / "no-pyenv")}
    failed = bundle_cmd("env", "build", str(bundle), env=env)
    assert failed.returncode == 5, failed.stderr
    assert "no Python 3.9 is installed here" in failed.stderr and "3.11" in failed.stderr
    assert "download" in failed.stderr


def test_lock_round_trip(make_bundle, bundle_cmd, tmp_path: Path) -> None:
    import hashlib
    import tarfile

    bundle = make_bundle(["idna==2.10"])
    locked = bundle_cmd("lock", str(bundle))
    assert locked.returncode == 0, locked.stderr
    text = (bundle / "requirements.lock").read_text()
    assert "idna==2.10" in text and "--hash=sha256:" in text
    checked = bundle_cmd("validate", str(bundle))
    assert "lock-stale" not in checked.stderr, checked.stderr
    built = bundle_cmd("env", "build", str(bundle))
    assert built.returncode == 0, built.stderr
    record = json.loads((Path(built.stdout.strip()) / ".bundle-env.json").read_text())
    assert record["locked"] is True
    packed = bundle_cmd("package", str(bundle), "-o", str(tmp_path / "dist") + "/")
    assert packed.returncode == 0, packed.stderr
    [archive] = (tmp_path / "dist").iterdir()
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile(".bundle-manifest.json"))  # type: ignore[arg-type]
    assert manifest["lock_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert bundle_cmd("verify", str(archive)).returncode == 0
    (bundle / "config.yaml").write_text((bundle / "config.yaml").read_text().replace("2.10", "2.9"))
    stale = bundle_cmd("validate", str(bundle))
    assert "requirements.lock no longer matches" in stale.stderr and "[lock-stale]" in stale.stderr


def test_the_warnings_left_out_of_isolated_runs_are_validations_codes() -> None:
    from bundle_cli.runtime.isolated import ABOUT_THIS_PYTHON
    from bundle_cli.validation import environment

    codes = (environment.NOT_INSTALLED, environment.WRONG_VERSION, environment.PYTHON_MISMATCH)
    assert codes == ABOUT_THIS_PYTHON


def test_remove_ends_a_compilation_that_runs(make_bundle, bundle_cmd, tmp_path: Path) -> None:
    """A compilation still running when its environment is removed is ended first (it would
    write pycs into a folder being deleted). The compiler here is the real script's stand-in
    for one that takes long: a process of its own session holding the bytecode lock."""
    bundle = make_bundle(["idna==2.10"])
    built = bundle_cmd("env", "build", "--wait", str(bundle))
    assert built.returncode == 0, built.stderr
    folder = Path(built.stdout.strip())
    (folder / ".bundle-bytecode.json").unlink()
    hold = (
        "import fcntl, os, sys, time\n"
        "fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "os.pwrite(fd, str(os.getpid()).encode(), 0)\n"
        "print('held', flush=True)\n"
        "time.sleep(120)\n"
    )
    lock = folder / ".bundle-bytecode.lock"
    compiler = subprocess.Popen(
        [os.sys.executable, "-c", hold, str(lock)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert compiler.stdout is not None and compiler.stdout.readline() == "held\n"
    [listed] = json.loads(bundle_cmd("env", "list", "--json").stdout)
    assert listed["bytecode"] == "compiling"
    removed = bundle_cmd("env", "remove", str(bundle))
    assert removed.returncode == 0, removed.stderr
    assert compiler.wait(10) == -signal.SIGTERM
    assert not folder.exists()
