"""Start-up: `bundle --help`, `bundle validate` of the scaffold, against `python -c pass`.

`bundle validate` is timed twice: as run again on an unchanged bundle (its report comes from the
cache, as at a desk or in an editor's save hook) and with --no-cache (every check, every time).

With `--baseline` (default 9df5374), the same commands of an older commit (from `git archive`),
of a second copy of it (the noise: two identical trees) and of this tree, all started alike
(`python -P -c main`) and taking turns: the before/after ratio of start-up on this machine.

Run: .venv/bin/python benchmarks/bench_startup.py
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import (
    BIN,
    ENV,
    NOISE_NOTE,
    before_after_launchers,
    interleaved,
    interleaved_samples,
    machine,
    ratios,
)

BASELINE = "9df5374"  # the last commit before issue 12's runner seam
RUNS = 21


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--baseline",
        default=BASELINE,
        help=f"commit whose start-up runs beside this tree's (default {BASELINE}); '' for none",
    )
    args = parser.parse_args()
    bundle = str(BIN / "bundle")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**ENV, "BUNDLE_CACHE_DIR": f"{tmp}/cache"}  # this run's cache; ~/.cache untouched
        subprocess.run([bundle, "init", "demo", f"{tmp}/demo"], check=True, capture_output=True)
        cmds = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import typer'": [sys.executable, "-c", "import typer"],
            "bundle --help": [bundle, "--help"],
            "bundle --version": [bundle, "--version"],
            "bundle validate --help (through typer)": [bundle, "validate", "--help"],
            "bundle validate <scaffold> (report cached)": [bundle, "validate", f"{tmp}/demo"],
            "bundle validate <scaffold> --no-cache": [
                bundle, "validate", f"{tmp}/demo", "--no-cache"],
        }  # fmt: skip
        medians = interleaved(cmds, runs=RUNS, env=env)
        before = before_after(Path(tmp), args.baseline) if args.baseline else None
    base = medians["python -c pass"]
    print(f"## Start-up ({machine()}; medians of 21 interleaved runs)\n")
    print("| command | median s | x `python -c pass` |")
    print("|---|---:|---:|")
    for name, value in medians.items():
        print(f"| `{name}` | {value:.3f} | {value / base:.1f} |")
    print("\n| target | measured | met |")
    print("|---|---:|:---:|")
    for name, limit in (
        ("bundle --help", 0.10),
        ("bundle validate <scaffold> (report cached)", 0.20),
        ("bundle validate <scaffold> --no-cache", 0.20),
    ):
        value = medians[name]
        print(
            f"| `{name}` <= {limit:.2f} s | {value:.3f} s | {'yes' if value <= limit else 'NO'} |"
        )
    if before:
        print(before)
    print("\nReproduce: `.venv/bin/python benchmarks/bench_startup.py`")


def before_after(root: Path, commit: str) -> str:
    """The same start-up commands by `commit`, by a second copy of it and by this tree, each
    launched as `python -P -c main` with its own validation cache, taking turns."""
    demo = root / "demo"
    commands = {
        "bundle --help": ["--help"],
        "bundle --version": ["--version"],
        "bundle validate <scaffold> (report cached)": ["validate", str(demo)],
        "bundle validate <scaffold> --no-cache": ["validate", str(demo), "--no-cache"],
    }
    launchers = before_after_launchers(root, commit)
    cmds: dict[str, list[str]] = {}
    envs: dict[str, dict[str, str]] = {}
    for who, (launcher, env) in launchers.items():
        for label, argv in commands.items():
            cmds[f"{who} {label}"] = [*launcher, *argv]
            envs[f"{who} {label}"] = env
    samples = interleaved_samples(cmds, runs=RUNS, envs=envs, cwd=root)
    lines = [
        f"\n### Before and after: {commit} against this tree (medians of {RUNS} interleaved runs)\n",
        "Each tree started as `python -P -c main` with its source on PYTHONPATH. "
        + NOISE_NOTE.format(commit=commit),
        f"| command | {commit} s | this tree s | speed vs {commit} | same commit twice |",
        "|---|---:|---:|---:|---:|",
    ]
    for label in commands:
        old, again, new = (samples[f"{who} {label}"] for who in launchers)
        lines.append(
            f"| `{label}` | {statistics.median(old):.3f} | {statistics.median(new):.3f} |"
            f" {ratios(old, new)} | {ratios(old, again)} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
