"""Draw a training set of shapes, train the network into data/weights.pt, draw samples/*.png.

    python build.py

Everything is generated here (seeded): no data set, no download. Takes a few seconds on a CPU.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "packages"))

import shapes  # noqa: E402

PER_CLASS = 300
EPOCHS = 10
BATCH = 32


def dataset(rng: random.Random) -> tuple[object, object]:
    import torch

    images, labels = [], []
    for _ in range(PER_CLASS):
        for label, shape in enumerate(shapes.CLASSES):
            images.append(shapes.to_tensor(shapes.draw(shape, shapes.SIZE, rng)))
            labels.append(label)
    return torch.stack(images), torch.tensor(labels)


def train() -> tuple[object, float]:
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(1)  # one thread: the same weights on every machine
    x, y = dataset(random.Random(0))
    x_test, y_test = dataset(random.Random(1))
    net = shapes.build_net()
    optimiser = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(EPOCHS):
        order = torch.randperm(len(x))
        for start in range(0, len(x), BATCH):
            batch = order[start : start + BATCH]
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(net(x[batch]), y[batch]).backward()
            optimiser.step()
    net.eval()
    with torch.no_grad():
        accuracy = float((net(x_test).argmax(dim=1) == y_test).float().mean())
    return net, accuracy


def draw_samples() -> None:
    """Hand-placed shapes (no randomness beyond a fixed seed), larger than the network's input."""
    folder = HERE / "samples"
    folder.mkdir(exist_ok=True)
    for seed, shape in enumerate(shapes.CLASSES):
        shapes.draw(shape, 96, random.Random(100 + seed)).save(folder / f"{shape}.png")


def main() -> None:
    import torch

    net, accuracy = train()
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    torch.save(net.state_dict(), data / "weights.pt")
    draw_samples()
    print(f"test accuracy {accuracy:.3f}; wrote {data / 'weights.pt'} and samples/")


if __name__ == "__main__":
    main()
