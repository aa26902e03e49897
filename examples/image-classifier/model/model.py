"""Shape classifier: image files in (through `--file`), a label and scores per image out.

preprocess receives the request's binary files (readable file objects) and opens them with Pillow;
postprocess receives the original input too, to honour its optional `top_k`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapes  # from the bundle's packages/ folder


class Model:
    def __init__(self, data_dir: Path, **kwargs: Any) -> None:
        self._weights = Path(data_dir) / "weights.pt"
        self._net: Any = None

    def load(self) -> None:
        import torch

        net = shapes.build_net()
        # weights_only: the file is read as tensors, never as pickled code.
        net.load_state_dict(torch.load(self._weights, map_location="cpu", weights_only=True))
        self._net = net.eval()

    def preprocess(self, model_input: Any, files: list[Any]) -> Any:
        import torch
        from PIL import Image

        if not files:
            raise ValueError("send at least one image, e.g. --file image=@samples/circle.png")
        tensors = []
        for f in files:
            with Image.open(f) as image:
                tensors.append(shapes.to_tensor(image))
        return torch.stack(tensors)

    def predict(self, model_input: Any) -> Any:
        import torch

        with torch.inference_mode():
            return torch.softmax(self._net(model_input), dim=1)

    def postprocess(
        self, model_output: Any, model_input: Any, files: list[Any]
    ) -> list[dict[str, Any]]:
        top_k = int((model_input or {}).get("top_k", len(shapes.CLASSES)))
        results = []
        for scores in model_output.tolist():
            ranked = sorted(zip(shapes.CLASSES, scores, strict=True), key=lambda pair: -pair[1])[
                :top_k
            ]
            results.append(
                {"label": ranked[0][0], "scores": {name: round(s, 5) for name, s in ranked}}
            )
        return results
