"""Archive speed: `bundle package` / `bundle verify` against `tar -cf` and `tar -czf` of the same folder.

`bundle package --rehash` hashes every byte (a first package); the plain command reuses the
sha256 of unchanged big files from the digest cache, confirmed by the CRC of the packed bytes
(a re-package after editing code). The bundle is the scaffold (`bundle init`) plus N MiB of random bytes (default 1024) and 256 MiB
of float32 weights drawn from a normal distribution, written to a temp folder on the same disk
as the outputs. Every figure is the median of whole-process runs, the commands run in turn so
that machine noise hits them alike; each output is deleted before its run.

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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import BIN, machine, run_once

MIB = 1024 * 1024
COLD = "bundle package --rehash"
WARM = "bundle package (digests cached)"


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


def measure(
    commands: dict[str, list[str]], outputs: dict[str, Path], runs: dict[str, int]
) -> dict[str, list[tuple[float, int]]]:
    """(wall s, peak RSS KiB) of each run; one untimed warm-up each, then rounds in turn."""
    samples: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
    for round_no in range(1 + max(runs.values())):
        for name, cmd in commands.items():
            if round_no > runs[name]:
                continue
            out = outputs.get(name)
            if out is not None:
                out.unlink(missing_ok=True)
            result = run_once(cmd)
            if round_no > 0:
                samples[name].append(result)
            print(f"  {name}: {result[0]:.2f} s", file=sys.stderr)
    return samples


def measure_baseline(
    source: Path, bundle: Path, root: Path, runs: int
) -> dict[str, list[tuple[float, int]]]:
    """The same commands with an older checkout's bundle_cli (PYTHONPATH), in the same run."""
    old = [
        sys.executable,
        "-c",
        "import sys; from bundle_cli.__main__ import main; sys.exit(main())",
    ]
    out = root / "baseline.tar.gz"
    env = {**os.environ, "PYTHONPATH": str(source)}
    names = {
        "baseline package --rehash": [*old, "package", str(bundle), "-o", str(out), "--rehash"]
    }
    found = measure_env(names, {"baseline package --rehash": out}, runs, env)
    verify = {"baseline verify": [*old, "verify", str(out)]}
    return found | measure_env(verify, {}, runs, env)


def measure_env(
    commands: dict[str, list[str]], outputs: dict[str, Path], runs: int, env: dict[str, str]
) -> dict[str, list[tuple[float, int]]]:
    samples: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
    for round_no in range(1 + runs):
        for name, cmd in commands.items():
            if name in outputs:
                outputs[name].unlink(missing_ok=True)
            result = run_once(cmd, env=env)
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
        type=Path,
        help="a source checkout of an older bundle: its package --rehash and verify run too",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        root = Path(tmp)
        print("writing the bundle ...", file=sys.stderr)
        bundle = make_bundle(root, args.size_mib, args.weights_mib)
        data_bytes = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
        outputs = {
            "tar -cf": root / "plain.tar",
            "tar -czf": root / "gzip.tar.gz",
            COLD: root / "cold.tar.gz",
            WARM: root / "bundle.tar.gz",
        }
        package = [str(BIN / "bundle"), "package", str(bundle), "-o"]
        commands = {
            "tar -cf": ["tar", "-cf", str(outputs["tar -cf"]), "-C", str(bundle), "."],
            "tar -czf": ["tar", "-czf", str(outputs["tar -czf"]), "-C", str(bundle), "."],
            COLD: [*package, str(outputs[COLD]), "--rehash"],
            WARM: [*package, str(outputs[WARM])],
        }
        runs = {"tar -cf": args.runs, "tar -czf": args.gzip_runs, COLD: args.runs, WARM: args.runs}
        os.environ["BUNDLE_CACHE_DIR"] = str(root / "cache")  # this run's cache; ~/.cache untouched
        samples = measure(commands, outputs, runs)
        same = file_digest(outputs[COLD]) == file_digest(outputs[WARM])
        assert same, "the digest cache changed the archive"
        verify_cmd = {"bundle verify": [str(BIN / "bundle"), "verify", str(outputs[WARM])]}
        samples |= measure(verify_cmd, {}, {"bundle verify": args.runs})
        key = signing_key(root)
        signature = root / "bundle.sig"
        sign_cmd = [str(BIN / "bundle"), "sign", str(outputs[WARM]), "--key", str(key)]
        samples |= measure(
            {"bundle sign": [*sign_cmd, "-o", str(signature)]}, {}, {"bundle sign": args.runs}
        )
        samples |= measure(
            {"python -c pass": [sys.executable, "-c", "pass"]}, {}, {"python -c pass": args.runs}
        )
        if args.baseline:
            samples |= measure_baseline(args.baseline.resolve(), bundle, root, args.runs)
        sizes = {name: out.stat().st_size for name, out in outputs.items()}
        ceiling = sha256_ceiling([p for p in bundle.rglob("*") if p.is_file()])
    report(args, data_bytes, samples, sizes, ceiling)


def report(
    args: argparse.Namespace,
    data_bytes: int,
    samples: dict[str, list[tuple[float, int]]],
    sizes: dict[str, int],
    ceiling: float,
) -> None:
    wall = {name: statistics.median(s[0] for s in runs) for name, runs in samples.items()}
    rss = {name: max(s[1] for s in runs) / 1024 for name, runs in samples.items()}
    print(
        f"## Archives ({machine()}; {args.size_mib} MiB random + {args.weights_mib} MiB float32 + scaffold, "
        f"{data_bytes / MIB:.0f} MiB in all; medians of {args.runs} runs, {args.gzip_runs} for tar -czf)\n"
    )
    print("| command | wall s | MB/s | archive MiB | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|")
    names = ["tar -cf", "tar -czf", COLD, WARM, "bundle verify", "bundle sign"]
    names += [n for n in ("baseline package --rehash", "baseline verify") if n in wall]
    for name in names:
        size = f"{sizes[name] / MIB:.1f}" if name in sizes else ""
        print(
            f"| `{name}` | {wall[name]:.2f} | {data_bytes / wall[name] / 1e6:.0f} | {size} | {rss[name]:.0f} |"
        )
    print("\n| target | measured | met |")
    print("|---|---:|:---:|")
    checks = []
    for kind, name, limit in (("every file hashed", COLD, 1.5), ("digests cached", WARM, 1.2)):
        checks += [
            (
                f"wall <= {limit}x `tar -cf` ({kind})",
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
        (
            "`bundle sign` of the archive <= 0.1 s (whole process)",
            wall["bundle sign"],
            " s",
            0.1,
            False,
        ),
    ]
    if "baseline verify" in wall:
        speedup = wall["baseline verify"] / wall["bundle verify"]
        checks.append(("`verify` MB/s >= 1.6x the baseline's", speedup, "x", 1.6, True))
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
    print("\nReproduce: `.venv/bin/python benchmarks/bench_archive.py`")


if __name__ == "__main__":
    main()
