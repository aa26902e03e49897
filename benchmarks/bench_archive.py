"""Archive speed: `bundle package` / `bundle verify` against `tar -cf` and `tar -czf` of the same folder.

`bundle package --rehash` hashes every byte (a first package); the plain command reuses the
sha256 of unchanged big files from the digest cache, confirmed by the CRC of the packed bytes
(a re-package after editing code). The bundle is the scaffold (`bundle init`) plus N MiB of random bytes (default 1024) and 256 MiB
of float32 weights drawn from a normal distribution, written to a temp folder on the same disk
as the outputs. Every figure is the median of whole-process runs, the commands run in turn so
that machine noise hits them alike; each output is deleted before its run, and every run starts
after `sync` (untimed): otherwise whichever command follows a large writer pays for writing the
previous output back to disk while it runs (page-cache writeback competing with it), and the
order of the commands in a round, not the commands, decides the figures.

Run: .venv/bin/python benchmarks/bench_archive.py [--size-mib N] [--weights-mib M] [--runs R]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import BIN, ENV, baseline_runner, baseline_source, machine, run_once

MIB = 1024 * 1024
COLD = "bundle package --rehash"
WARM = "bundle package (digests cached)"
OLD_PACKAGE = "baseline package --rehash"
OLD_VERIFY = "baseline verify"
LOAD_BEFORE = (0.0, 0.0, 0.0)
BASELINE = "f0a4920"  # main when issue 16 was filed: "today" of its targets


def make_bundle(root: Path, random_mib: int, weights_mib: int) -> Path:
    import numpy as np

    bundle = root / "bench-model"
    subprocess.run(
        [str(BIN / "bundle"), "init", "bench-model", str(bundle)], check=True, capture_output=True
    )
    rng = np.random.default_rng(0)
    with open(bundle / "data" / "random.bin", "wb") as f:
        for _ in range(random_mib):
            f.write(rng.bytes(MIB))
    with open(bundle / "data" / "weights.f32", "wb") as f:
        for _ in range(weights_mib):
            f.write(rng.standard_normal(MIB // 4).astype(np.float32).tobytes())
    return bundle


@dataclass
class Command:
    argv: list[str]
    output: Path | None = None  # deleted before each run
    runs: int = 5
    env: dict[str, str] | None = None
    cwd: Path | None = None


def measure(commands: dict[str, Command]) -> dict[str, list[tuple[float, int]]]:
    """(wall s, peak RSS KiB) of each run; one untimed warm-up each, then rounds in turn."""
    samples: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
    for round_no in range(1 + max(c.runs for c in commands.values())):
        for name, cmd in commands.items():
            if round_no > cmd.runs:
                continue
            if cmd.output is not None:
                cmd.output.unlink(missing_ok=True)
            os.sync()  # no run pays for the one before it
            result = run_once(cmd.argv, env=cmd.env or ENV, cwd=cmd.cwd)
            if round_no > 0:
                samples[name].append(result)
            print(f"  {name}: {result[0]:.2f} s", file=sys.stderr)
    return samples


def signing_key(root: Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    path = root / "key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def file_digest(path: Path) -> str:
    """Streamed, so this process stays small (a child's peak RSS starts from its parent's)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def sha256_ceiling(files: list[Path]) -> float:
    """MB/s of hashlib.sha256 over the bundle's data in this process: the hardware's limit."""
    start = time.perf_counter()
    total = 0
    for path in files:
        h = hashlib.sha256()
        with open(path, "rb", buffering=0) as f:
            while chunk := f.read(MIB):
                h.update(chunk)
                total += len(chunk)
    return total / (time.perf_counter() - start) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size-mib", type=int, default=1024, help="MiB of random bytes (default 1024)"
    )
    parser.add_argument(
        "--weights-mib", type=int, default=256, help="MiB of float32 weights (default 256)"
    )
    parser.add_argument(
        "--runs", type=int, default=5, help="timed runs per fast command (default 5)"
    )
    parser.add_argument(
        "--gzip-runs", type=int, default=3, help="timed runs of tar -czf (default 3)"
    )
    parser.add_argument(
        "--baseline",
        default=BASELINE,
        help=f"commit whose package --rehash and verify run in the same rounds (default {BASELINE}, "
        "the code when issue 16 was filed); '' for none",
    )
    parser.add_argument(
        "--pickle-mib",
        type=int,
        default=100,
        help="size of each pickle of the inventory figure (default 100; 0 to skip)",
    )
    args = parser.parse_args()
    global LOAD_BEFORE
    LOAD_BEFORE = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        root = Path(tmp)
        print("writing the bundle ...", file=sys.stderr)
        bundle = make_bundle(root, args.size_mib, args.weights_mib)
        data_bytes = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
        os.environ["BUNDLE_CACHE_DIR"] = str(root / "cache")  # this run's cache; ~/.cache untouched
        env = {**ENV, "BUNDLE_CACHE_DIR": str(root / "cache")}
        runs, bundle_cli = args.runs, str(BIN / "bundle")
        package = [bundle_cli, "package", str(bundle), "-o"]
        out = {
            "tar -cf": root / "plain.tar",
            "tar -czf": root / "gzip.tar.gz",
            COLD: root / "cold.tar.gz",
            WARM: root / "bundle.tar.gz",
            OLD_PACKAGE: root / "baseline.tar.gz",
        }
        commands = {
            "tar -cf": Command(["tar", "-cf", str(out["tar -cf"]), "-C", str(bundle), "."]),
            "tar -czf": Command(["tar", "-czf", str(out["tar -czf"]), "-C", str(bundle), "."]),
            COLD: Command([*package, str(out[COLD]), "--rehash"], env=env),
            WARM: Command([*package, str(out[WARM])], env=env),
        }
        verify = {"bundle verify": Command([bundle_cli, "verify", str(out[WARM])], env=env)}
        if args.baseline:
            old, old_env = baseline_runner(baseline_source(root, args.baseline), root)
            old_env["BUNDLE_CACHE_DIR"] = str(root / "cache")
            pack = [*old, "package", str(bundle), "-o", str(out[OLD_PACKAGE]), "--rehash"]
            commands[OLD_PACKAGE] = Command(pack, env=old_env, cwd=root)
            verify[OLD_VERIFY] = Command(
                [*old, "verify", str(out[OLD_PACKAGE])], env=old_env, cwd=root
            )
        else:
            del out[OLD_PACKAGE]
        for name, cmd in commands.items():
            cmd.output = out[name]
        for group in (commands, verify):
            for name, cmd in group.items():
                cmd.runs = args.gzip_runs if name == "tar -czf" else runs
        samples = measure(commands)
        same = file_digest(out[COLD]) == file_digest(out[WARM])
        assert same, "the digest cache changed the archive"
        samples |= measure(verify)
        key = signing_key(root)
        sign = [bundle_cli, "sign", str(out[WARM]), "--key", str(key), "-o", str(root / "b.sig")]
        pass_ = [sys.executable, "-c", "pass"]
        starting = {"bundle sign": Command(sign, env=env), "python -c pass": Command(pass_)}
        for cmd in starting.values():
            cmd.runs = runs
        samples |= measure(starting)
        sizes = {name: path.stat().st_size for name, path in out.items()}
        ceiling = sha256_ceiling([p for p in bundle.rglob("*") if p.is_file()])
    pickles = pickle_figures(args.pickle_mib, runs) if args.pickle_mib else None
    report(args, data_bytes, samples, sizes, ceiling, pickles)


def pickle_figures(mib: int, runs: int) -> list[tuple[str, int, float, float]] | None:
    """bench_pickles.py's rows (file, size, scan s, load s), or None without its frameworks."""
    try:
        import bench_pickles
    except ImportError:
        return None
    try:
        return bench_pickles.measure(mib, runs)
    except ImportError as exc:
        print(f"pickle inventory skipped: {exc}", file=sys.stderr)
        return None


def report(
    args: argparse.Namespace,
    data_bytes: int,
    samples: dict[str, list[tuple[float, int]]],
    sizes: dict[str, int],
    ceiling: float,
    pickles: list[tuple[str, int, float, float]] | None,
) -> None:
    load_before = LOAD_BEFORE
    wall = {name: statistics.median(s[0] for s in runs) for name, runs in samples.items()}
    rss = {name: max(s[1] for s in runs) / 1024 for name, runs in samples.items()}
    print(
        f"## Archives ({machine()}; {args.size_mib} MiB random + {args.weights_mib} MiB float32 + scaffold, "
        f"{data_bytes / MIB:.0f} MiB in all; medians of {args.runs} runs, {args.gzip_runs} for tar -czf)\n"
    )
    print(
        f"Load: {load_before} before, {os.getloadavg()} after (1, 5, 15 min); nproc {os.cpu_count()}\n"
    )
    print("| command | wall s | MB/s | archive MiB | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|")
    names = ["tar -cf", "tar -czf", COLD, WARM, "bundle verify", "bundle sign"]
    names += [n for n in (OLD_PACKAGE, OLD_VERIFY) if n in wall]
    for name in names:
        size = f"{sizes[name] / MIB:.1f}" if name in sizes else ""
        print(
            f"| `{name}` | {wall[name]:.2f} | {data_bytes / wall[name] / 1e6:.0f} | {size} | {rss[name]:.0f} |"
        )
    print("\n| target | measured | met |")
    print("|---|---:|:---:|")
    checks = []
    for kind, name, limit in (("every file hashed", COLD, 1.5), ("digests cached", WARM, 1.2)):
        low, high = spread(samples, name, "tar -cf")
        checks += [
            (
                f"wall <= {limit}x `tar -cf` ({kind}; rounds {low:.2f}x-{high:.2f}x)",
                wall[name] / wall["tar -cf"],
                "x",
                limit,
                False,
            ),
            (
                f">= 10x faster than `tar -czf` ({kind})",
                wall["tar -czf"] / wall[name],
                "x",
                10,
                True,
            ),
        ]
    checks += [
        ("archive size <= 1.01x `tar -czf`", sizes[WARM] / sizes["tar -czf"], "x", 1.01, False),
        ("package peak RSS <= 150 MiB", max(rss[COLD], rss[WARM]), " MiB", 150, False),
        ("verify peak RSS <= 150 MiB", rss["bundle verify"], " MiB", 150, False),
        (
            "`bundle sign` of the archive <= 0.1 s (whole process)",
            wall["bundle sign"],
            " s",
            0.1,
            False,
        ),
    ]
    if OLD_VERIFY in wall:
        speedup = wall[OLD_VERIFY] / wall["bundle verify"]
        low, high = spread(samples, OLD_VERIFY, "bundle verify")
        label = f"`verify` MB/s >= 1.6x {args.baseline}'s (rounds {low:.2f}x-{high:.2f}x)"
        checks.append((label, speedup, "x", 1.6, True))
    for file, nbytes, scan, _load in pickles or []:
        per = scan / (nbytes / 100e6)
        checks.append((f"pickle inventory <= 0.2 s per 100 MB ({file})", per, " s", 0.2, False))
    for label, value, unit, limit, at_least in checks:
        met = value >= limit if at_least else value <= limit
        print(f"| {label} | {value:.3f}{unit} | {'yes' if met else 'NO'} |")
    print(
        f"\n`bundle verify` checks {data_bytes / wall['bundle verify'] / 1e6:.0f} MB/s end to end "
        f"(inflate, two CRCs, sha256 of every file); plain `hashlib.sha256` on this CPU: {ceiling:.0f} MB/s."
    )
    print(
        f"\n`bundle sign` takes {wall['bundle sign']:.3f} s as a whole process, of which "
        f"{wall['python -c pass']:.3f} s is the interpreter starting (`python -c pass`)."
    )
    if pickles is None and args.pickle_mib:
        print("\nPickle inventory: not measured (needs torch, joblib, pandas, scikit-learn).")
    print("\nReproduce: `.venv/bin/python benchmarks/bench_archive.py`")


def spread(samples: dict[str, list[tuple[float, int]]], a: str, b: str) -> tuple[float, float]:
    """The lowest and highest ratio a/b over the rounds (each round ran both in turn)."""
    ratios = [x[0] / y[0] for x, y in zip(samples[a], samples[b], strict=False)]
    return min(ratios), max(ratios)


if __name__ == "__main__":
    main()
