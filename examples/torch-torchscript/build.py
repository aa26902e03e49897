"""Train the digits network and save it as TorchScript in data/digits.pt (seeded, offline, seconds).

    python build.py

The 8x8 digits ship inside scikit-learn (sklearn.datasets.load_digits); nothing is downloaded.
scikit-learn is needed here only: the bundle itself needs torch alone.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def train() -> tuple[object, float]:
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    torch.manual_seed(0)
    torch.set_num_threads(1)  # one thread: the same weights on every machine
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data / 16.0, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    xt, yt = torch.tensor(x_train, dtype=torch.float32), torch.tensor(y_train)
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    optimiser = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(150):  # full-batch steps: ~1300 images, under a second
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(xt), yt)
        loss.backward()
        optimiser.step()
    net.eval()
    with torch.no_grad():
        predicted = net(torch.tensor(x_test, dtype=torch.float32)).argmax(dim=1)
    accuracy = float((predicted == torch.tensor(y_test)).float().mean())
    return net, accuracy


def main() -> None:
    import torch

    net, accuracy = train()
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    torch.jit.save(torch.jit.script(net), str(data / "digits.pt"))
    print(f"test accuracy {accuracy:.3f}; wrote {data / 'digits.pt'}")


if __name__ == "__main__":
    main()
