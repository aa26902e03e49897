"""`make bench`: run every benchmarks/bench_*.py and collect their tables into BENCHMARKS.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    sections = []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"running {script.name} ...", file=sys.stderr)
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            sections.append(
                f"## {script.name}\n\nfailed (exit {proc.returncode}); see stderr of `make bench`.\n"
            )
            continue
        sys.stdout.write(proc.stdout)
        sections.append(proc.stdout)
    out = HERE.parent / "BENCHMARKS.md"
    out.write_text(
        "# Benchmarks\n\nWritten by `make bench`.\n\n" + "\n".join(sections), encoding="utf-8"
    )
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
