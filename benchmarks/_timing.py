"""Whole-process timing helpers shared by the benchmark scripts."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

BIN = Path(sys.executable).parent
# A user's installed packages have compiled bytecode; this sandbox sets PYTHONDONTWRITEBYTECODE,
# which would make every run recompile the editable package from source. Measure as a user runs.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_once(cmd: Sequence[str], **kwargs: object) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one run of cmd, which must succeed."""
    start = time.perf_counter()
    kwargs.setdefault("env", ENV)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)  # type: ignore[call-overload]
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {err[-2000:]}")
    return elapsed, usage.ru_maxrss


def median_wall(cmd: Sequence[str], runs: int = 15, warmup: int = 2, **kwargs: object) -> float:
    for _ in range(warmup):
        run_once(cmd, **kwargs)
    return statistics.median(run_once(cmd, **kwargs)[0] for _ in range(runs))


def interleaved(
    cmds: dict[str, Sequence[str]],
    runs: int = 15,
    envs: dict[str, dict[str, str]] | None = None,
    **kwargs: object,
) -> dict[str, float]:
    """Medians of several commands, run in turn so machine noise hits them alike; `envs` gives
    some commands their own environment."""
    samples = interleaved_samples(cmds, runs, envs, **kwargs)
    return {name: statistics.median(values) for name, values in samples.items()}


def interleaved_samples(
    cmds: dict[str, Sequence[str]],
    runs: int = 15,
    envs: dict[str, dict[str, str]] | None = None,
    **kwargs: object,
) -> dict[str, list[float]]:
    """Every round's wall seconds of several commands run in turn (after one warm-up each)."""
    own = envs or {}

    def once(name: str) -> float:
        extra = {"env": own[name]} if name in own else {}
        return run_once(cmds[name], **{**kwargs, **extra})[0]

    for name in cmds:
        once(name)
    samples: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(runs):
        for name in cmds:
            samples[name].append(once(name))
    return samples


def ratios(old: list[float], new: list[float]) -> str:
    """How much faster `new` is than `old`: the ratio of the medians, then in brackets the
    lowest and highest of the per-round ratios."""
    each = sorted(a / b for a, b in zip(old, new, strict=True))
    return f"{statistics.median(old) / statistics.median(new):.3f}x ({each[0]:.2f}-{each[-1]:.2f})"


def baseline_source(root: Path, commit: str, copy: str = "") -> Path:
    """An older commit's source tree (`git archive`), to run beside this one; `copy` names a
    second extraction of the same commit (to measure how far two identical trees differ)."""
    repo = Path(__file__).resolve().parent.parent
    target = root / f"baseline-{commit}{copy}"
    target.mkdir()
    tar = subprocess.run(
        ["git", "-C", str(repo), "archive", commit], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=tar, check=True)
    return target


def before_after_launchers(root: Path, commit: str) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Name -> (command line, environment) of `commit`, of a second copy of it (two identical
    trees: what a before/after ratio is read against) and of this tree, each started as
    `baseline_runner` starts it, with a validation cache of its own under `root`."""
    sources = {
        commit: baseline_source(root, commit),
        "same commit again": baseline_source(root, commit, copy="-again"),
        "this tree": Path(__file__).resolve().parent.parent,
    }
    launchers = {}
    for name, source in sources.items():
        cmd, env = baseline_runner(source, root)
        env["BUNDLE_CACHE_DIR"] = str(root / f"cache-{name.replace(' ', '-')}")
        launchers[name] = (cmd, env)
    return launchers


NOISE_NOTE = (
    "Noise: `{commit}` run from two copies in the same rounds. Per-round ratios in brackets"
    " (lowest-highest).\n"
)


def baseline_runner(source: Path, root: Path) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run the older bundle_cli, checked to be that one.

    `-P` and a neutral working folder: neither the current folder nor this script's may put the
    new bundle_cli before the old one on sys.path."""
    env = {**ENV, "PYTHONPATH": str(source)}
    probe = [sys.executable, "-P", "-c", "import bundle_cli; print(bundle_cli.__file__)"]
    where = subprocess.run(probe, env=env, cwd=root, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(source)), f"the baseline runs {where.stdout.strip()}"
    main = "import sys; from bundle_cli.__main__ import main; sys.exit(main())"
    return [sys.executable, "-P", "-c", main], env


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {cpu}, {mem:.0f} GiB, Python {sys.version.split()[0]}"


__all__ = [
    "BIN",
    "ENV",
    "baseline_runner",
    "baseline_source",
    "interleaved",
    "machine",
    "median_wall",
    "resource",
    "run_once",
]
