"""Pickle inventory speed: seconds per 100 MB that `bundle validate` spends reading pickles.

Each file is about 100 MB, written by its framework, and scanned by opcodes as validate does
(bundle_cli.pickles.containers.pickle_streams); `pickle.load` of the same file is the baseline
measured in the same run. Figures are medians of in-process runs: the scan is what validate adds,
interpreter start-up is not part of it.

Run: .venv/bin/python benchmarks/bench_pickles.py [--mib N] [--runs R]
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import machine

MIB = 1024 * 1024


def writers(mib: int) -> dict[str, Callable[[Path], None]]:
    import joblib
    import numpy as np
    import pandas as pd
    import torch

    rng = np.random.default_rng(0)
    floats = rng.standard_normal(mib * MIB // 8)
    frame = pd.DataFrame(floats.reshape(-1, 8), columns=[f"c{i}" for i in range(8)])
    tensors = {
        f"layer{i}.weight": torch.from_numpy(part.copy())
        for i, part in enumerate(np.array_split(floats.astype(np.float32), 64))
    }
    return {
        "numpy array, pickle protocol 5": lambda p: p.write_bytes(pickle.dumps(floats, protocol=5)),
        "numpy arrays, joblib": lambda p: joblib.dump(
            {"a": floats[::2].copy(), "b": floats[1::2].copy()}, p
        ),
        "torch state_dict (.pt zip), 64 tensors": lambda p: torch.save(tensors, p),
        "pandas DataFrame, 8 columns": lambda p: p.write_bytes(pickle.dumps(frame, protocol=5)),
        "sklearn random forest": lambda p: p.write_bytes(pickle.dumps(forest(mib), protocol=5)),
    }


def forest(mib: int) -> object:
    """A forest of deep trees: many small arrays and objects, the slow case for an opcode scan."""
    import numpy as np
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(1)
    n = max(2000, mib * 400)
    x, y = rng.standard_normal((n, 8)), rng.standard_normal(n)
    return RandomForestRegressor(n_estimators=20, random_state=0).fit(x, y)


def load_pickle(path: Path) -> object:
    return pickle.loads(path.read_bytes())


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(mib: int, runs: int) -> list[tuple[str, int, float, float]]:
    """(file, size, median scan s, median load s) of each framework's pickle of about mib MiB."""
    import torch

    from bundle_cli.pickles.containers import pickle_streams

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-pickles-") as tmp:
        for name, write in writers(mib).items():
            path = Path(tmp) / "model.pt"
            write(path)
            size = path.stat().st_size
            streams = pickle_streams(path) or []
            assert streams and not any(s.error for s in streams), name
            scan = median_time(partial(pickle_streams, path), runs)
            if name.startswith("torch"):
                load = median_time(partial(torch.load, path, weights_only=True), runs)
            elif "joblib" in name:
                import joblib

                load = median_time(partial(joblib.load, path), runs)
            else:
                load = median_time(partial(load_pickle, path), runs)
            rows.append((name, size, scan, load))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=100, help="size of each file (default 100)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per file (default 5)")
    args = parser.parse_args()
    rows = measure(args.mib, args.runs)
    print(f"## Pickle inventory ({machine()}; medians of {args.runs} runs)\n")
    print("| file | MiB | scan s | s per 100 MB | loading it s | <= 0.2 s per 100 MB |")
    print("|---|---:|---:|---:|---:|:---:|")
    for name, size, scan, load in rows:
        per = scan / (size / 100e6)
        print(
            f"| {name} | {size / MIB:.0f} | {scan:.3f} | {per:.3f} | {load:.3f} | {'yes' if per <= 0.2 else 'NO'} |"
        )
    print("\nReproduce: `.venv/bin/python benchmarks/bench_pickles.py`")


if __name__ == "__main__":
    main()
