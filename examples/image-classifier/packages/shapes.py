"""Shared by build.py (training) and model/model.py (serving): the network and how images are drawn.

It lives in the bundle's packages/ folder, which bundle puts on the import path of the model.
"""

from __future__ import annotations

import math
import random
from typing import Any

CLASSES = ("circle", "square", "triangle")
SIZE = 32  # the network's input is SIZE x SIZE RGB


def build_net() -> Any:
    import torch
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * (SIZE // 4) ** 2, len(CLASSES)),
    ).to(torch.float32)


def to_tensor(image: Any) -> Any:
    """A PIL image of any size and mode -> a (1, SIZE, SIZE) foreground mask in 0-1.

    Colours carry no information about the shape, so the network sees how far each pixel is from
    the background colour (the median of the border pixels), scaled so the farthest pixel is 1.
    """
    import numpy as np
    import torch
    from PIL import Image

    rgb = image.convert("RGB").resize((SIZE, SIZE), Image.Resampling.BILINEAR)
    pixels = np.asarray(rgb, dtype=np.float32)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    distance = np.abs(pixels - np.median(border, axis=0)).sum(axis=2)
    mask = distance / max(float(distance.max()), 1e-6)
    return torch.from_numpy(mask).unsqueeze(0)


def draw(shape: str, size: int, rng: random.Random) -> Any:
    """One image of `shape` with random colours, size, position and tilt (anti-aliased)."""
    from PIL import Image, ImageDraw

    scale = 4  # drawn large then shrunk, for smooth edges
    big = size * scale
    background, fill = _two_colours(rng)
    image = Image.new("RGB", (big, big), background)
    radius = rng.uniform(0.22, 0.42) * big
    cx = rng.uniform(radius, big - radius)
    cy = rng.uniform(radius, big - radius)
    pen = ImageDraw.Draw(image)
    if shape == "circle":
        pen.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=fill)
    else:
        corners = 4 if shape == "square" else 3
        # Upright (a flat base), tilted by at most 15 degrees either way.
        turn = math.pi / 2 + math.pi / corners + rng.uniform(-1, 1) * math.pi / 12
        points = [
            (
                cx + radius * math.cos(turn + 2 * math.pi * k / corners),
                cy + radius * math.sin(turn + 2 * math.pi * k / corners),
            )
            for k in range(corners)
        ]
        pen.polygon(points, fill=fill)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def _two_colours(rng: random.Random) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    while True:
        a = tuple(rng.randrange(256) for _ in range(3))
        b = tuple(rng.randrange(256) for _ in range(3))
        if sum(abs(x - y) for x, y in zip(a, b, strict=True)) > 150:  # the shape must be visible
            return a, b  # type: ignore[return-value]
