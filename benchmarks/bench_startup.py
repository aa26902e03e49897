"""Start-up: `bundle --help`, `bundle validate` of the scaffold, against `python -c pass`.

`bundle validate` is timed twice: as run again on an unchanged bundle (its report comes from the
cache, as at a desk or in an editor's save hook) and with --no-cache (every check, every time).

Run: .venv/bin/python benchmarks/bench_startup.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import BIN, ENV, interleaved, machine


def main() -> None:
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
        medians = interleaved(cmds, runs=21, env=env)
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
    print("\nReproduce: `.venv/bin/python benchmarks/bench_startup.py`")


if __name__ == "__main__":
    main()
