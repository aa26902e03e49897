"""`make bench`: run every benchmarks/bench_*.py and collect their tables into BENCHMARKS.md.

Each script prints one Markdown section (its tables, the baseline it measured in the same run, and
the command that reproduces it); this runner adds the machine and the commit they were measured on.
Arguments after `--` go to bench_archive.py, the one script with options (e.g.
`python benchmarks/run.py -- --size-mib 64` for a quick run; the committed BENCHMARKS.md uses the
defaults).

`--only bench_archive.py,bench_startup.py` (`make bench ONLY=...`) runs those scripts alone and
replaces their sections of the BENCHMARKS.md already written, keeping the others; every section
ends with the commit and time it was measured at, so a file made of several runs says so.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from _timing import BIN, machine  # noqa: E402  (benchmarks/ is not a package)


def git(*args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else "unknown"


def header(scripts: list[Path], rerun: list[str] | None = None) -> str:
    version = subprocess.run(
        [str(BIN / "bundle"), "--version"], capture_output=True, text=True
    ).stdout.strip()
    dirty = (
        " (with uncommitted changes)"
        if git("status", "--porcelain", "--untracked-files=no")
        else ""
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`benchmarks/run.py`); each section below is one script of",
        "`benchmarks/`, and ends with the command that reproduces it alone.",
        "",
        "Method: every figure is the median of repeated runs of whole processes (what a user",
        "waits for, interpreter start-up included), with its baseline measured in the same run,",
        "interleaved with it where runs are short, so machine noise hits both alike. Ratios are the",
        "figures to compare across machines; absolute times are this machine's.",
        "",
        "| | |",
        "|---|---|",
        f"| machine | {machine()} |",
        f"| system | {platform.platform()} |",
        f"| load average at start | {load} |",
        f"| bundle | {version}, commit {git('rev-parse', '--short', 'HEAD')}{dirty} |",
        f"| date | {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')} |",
        f"| scripts | {', '.join(f'`{s.name}`' for s in scripts)} |",
    ]
    if rerun is not None:
        lines.append(
            f"| measured here | {', '.join(f'`{n}`' for n in rerun)} (`--only`); the other "
            "sections are kept from earlier runs, each naming its commit and time |"
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    ours = argv[: argv.index("--")] if "--" in argv else argv
    scripts = sorted(HERE.glob("bench_*.py"))
    out = ROOT / "BENCHMARKS.md"
    kept: dict[str, str] = {}
    if "--only" in ours:
        names = ours[ours.index("--only") + 1].split(",")
        unknown = [n for n in names if not (HERE / n).is_file()]
        if unknown:
            print(f"--only: no such benchmark {unknown[0]} in {HERE}", file=sys.stderr)
            return 2
        kept = {k: v for k, v in _sections(out).items() if k not in names}
        run = [s for s in scripts if s.name in names]
    else:
        run = scripts
    done: dict[str, str] = {}
    failed = 0
    commit = git("rev-parse", "--short", "HEAD")
    for script in run:
        print(f"running {script.name} ...", file=sys.stderr)
        start = time.perf_counter()
        args = extra if script.name == "bench_archive.py" else []
        proc = subprocess.run(
            [sys.executable, str(script), *args], stdout=subprocess.PIPE, text=True
        )
        took = time.perf_counter() - start
        if proc.returncode != 0:
            failed += 1
            done[script.name] = (
                f"## {script.name}\n\nFAILED (exit {proc.returncode}); see the stderr of `make bench`.\n"
            )
            continue
        sys.stdout.write(proc.stdout)
        when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        done[script.name] = (
            proc.stdout.rstrip()
            + f"\n\n_{script.name} took {took:.0f} s (commit {commit}, {when})._\n"
        )
    sections = [header(scripts, rerun=sorted(done) if kept else None)]
    sections += [done.get(s.name) or kept.get(s.name, "") for s in scripts]
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text("\n".join(s for s in sections if s), encoding="utf-8")
    os.replace(tmp, out)
    print(f"wrote {out}", file=sys.stderr)
    return 1 if failed else 0


def _sections(path: Path) -> dict[str, str]:
    """The sections of a BENCHMARKS.md by script name: each runs from its first `## ` heading
    to its closing `_bench_x.py took ..._` line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    found: dict[str, str] = {}
    begin = text.find("\n## ")
    for footer in re.finditer(r"^_(bench_\w+\.py) took [^\n]*$", text, re.MULTILINE):
        if begin == -1 or begin > footer.start():
            continue
        found[footer.group(1)] = text[begin + 1 : footer.end()] + "\n"
        begin = text.find("\n## ", footer.end())
    return found


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
