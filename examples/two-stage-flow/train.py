"""Train the two stages of this flow and write the bundle with build_flow (seeded, offline, seconds).

    python train.py            # writes ./bundle (replacing the one this script wrote before)

Stage 1 is a small torch network that turns four server readings into a 3-number embedding;
stage 2 is an xgboost classifier on that embedding. The readings arrive as text ("cpu,mem,io,net"
in percent), so stage 1's pre function parses them, and stage 2's post function answers with
`{reading: load level}`, one entry per input line.

Needs torch, xgboost and numpy (pip install torch xgboost).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
LEVELS = ["idle", "busy", "overloaded"]  # what the classifier's three classes mean


def parse_readings(lines):
    """Stage 1 pre: "cpu,mem,io,net" percent strings -> a float32 array scaled to 0..1."""
    import numpy as np

    rows = [[float(part) for part in line.split(",")] for line in lines]
    return np.asarray(rows, dtype=np.float32) / 100.0


def to_features(embedding):
    """Stage 2 pre: the torch output (a tensor) -> the numpy array xgboost expects."""
    return embedding.numpy()


def label_readings(probabilities, readings):
    """Stage 2 post: the most probable level for each input line, keyed by that line."""
    import numpy as np

    best = np.argmax(probabilities, axis=1)
    # LEVELS is a plain module-level list: it is pickled with the function. A module-level
    # import (numpy as np at the top of this file) would be refused by build_flow instead.
    return {line: LEVELS[int(i)] for line, i in zip(readings, best, strict=True)}


def generate(n, seed=0):
    """Readings in percent and their level: a weighted load, with noise, cut at two thresholds."""
    import numpy as np

    rng = np.random.default_rng(seed)
    readings = rng.uniform(0, 100, size=(n, 4)).astype(np.float32)
    load = readings @ np.array([0.5, 0.2, 0.2, 0.1], dtype=np.float32) + rng.normal(0, 3, n)
    levels = np.digitize(load, [35.0, 60.0])
    return readings, levels


def train_encoder(x, y):
    """A 4 -> 8 -> 3 network trained as a classifier; its 3 outputs are the embedding."""
    import torch

    torch.manual_seed(0)
    encoder = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    optimiser = torch.optim.Adam(encoder.parameters(), lr=0.05)
    inputs, targets = torch.from_numpy(x / 100.0), torch.from_numpy(y).long()
    for _ in range(300):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(encoder(inputs), targets).backward()
        optimiser.step()
    return encoder.eval()


def main(dest: Path = HERE / "bundle") -> Path:
    import numpy as np
    import torch
    import xgboost

    from bundle_cli import ModelType, build_flow

    x, y = generate(600)
    encoder = train_encoder(x, y)
    with torch.no_grad():
        embedding = encoder(torch.from_numpy(x / 100.0)).numpy()
    classifier = xgboost.XGBClassifier(n_estimators=20, max_depth=3, n_jobs=1, random_state=0)
    classifier.fit(embedding, y)
    accuracy = float(np.mean(classifier.predict(embedding) == y))

    with tempfile.TemporaryDirectory() as work:
        torch.jit.script(encoder).save(f"{work}/encoder.pt")
        classifier.save_model(f"{work}/levels.json")
        stages = [
            (ModelType.TORCH, f"{work}/encoder.pt", {"name": "encoder", "pre": parse_readings}),
            (
                ModelType.XGBOOST_CLASSIFIER,
                f"{work}/levels.json",
                {
                    "name": "levels",
                    "options": {"method": "predict_proba"},
                    "pre": to_features,
                    "post": label_readings,
                },
            ),
        ]
        if dest.exists():
            shutil.rmtree(dest)  # this script's own output: build_flow itself never overwrites
        build_flow(stages, "server load levels", dest)
    for name in ("examples.yaml", "input.json"):
        shutil.copyfile(HERE / name, dest / name)
    print(f"training accuracy {accuracy:.3f}; wrote {dest}", file=sys.stderr)
    return dest


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "bundle")
