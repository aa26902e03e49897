"""Handwritten digits (8x8 grey levels 0-16, as in scikit-learn's digits) -> digit and confidence.

The network is TorchScript: loading it needs torch only, not the Python class that defined it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

PIXELS = 64
MAX_LEVEL = 16.0


class Model:
    def __init__(self, data_dir: Path, **kwargs: Any) -> None:
        self._path = Path(data_dir) / "digits.pt"
        self._net: Any = None

    def load(self) -> None:
        import torch

        self._net = torch.jit.load(str(self._path), map_location="cpu")
        self._net.eval()

    def preprocess(self, model_input: dict[str, Any]) -> Any:
        """{"images": [64 levels or 8 rows of 8, ...]} -> a float tensor (n, 64) scaled to 0-1."""
        import torch

        images = torch.as_tensor(model_input["images"], dtype=torch.float32)
        if images.numel() % PIXELS or (images.ndim > 1 and images[0].numel() != PIXELS):
            raise ValueError(f"each image needs {PIXELS} grey levels (8 rows of 8)")
        return images.reshape(-1, PIXELS) / MAX_LEVEL

    def predict(self, model_input: Any) -> Any:
        import torch

        with torch.inference_mode():
            return torch.softmax(self._net(model_input), dim=1)

    def postprocess(self, model_output: Any) -> dict[str, Any]:
        # Tensors are returned as they are: bundle turns them into JSON lists.
        confidence, digits = model_output.max(dim=1)
        return {"digits": digits, "confidence": confidence}
