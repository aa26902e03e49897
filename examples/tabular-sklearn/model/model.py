"""Iris species from four flower measurements (centimetres), with class probabilities."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")


class Model:
    def __init__(self, data_dir: Path, **kwargs: Any) -> None:
        self._data_dir = Path(data_dir)
        self._pipeline: Any = None
        self._classes: list[str] = []

    def load(self) -> None:
        import joblib

        self._pipeline = joblib.load(self._data_dir / "model.joblib")
        meta = json.loads((self._data_dir / "classes.json").read_text(encoding="utf-8"))
        self._classes = list(meta["classes"])

    def preprocess(self, model_input: dict[str, Any]) -> Any:
        """{"flowers": [{feature: cm, ...}, ...]} -> an (n, 4) float array in training order."""
        import numpy as np

        flowers = model_input["flowers"]
        rows = []
        for i, flower in enumerate(flowers):
            missing = [name for name in FEATURES if name not in flower]
            if missing:
                raise ValueError(f"flower {i}: missing {', '.join(missing)}")
            rows.append([float(flower[name]) for name in FEATURES])
        return np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURES))

    def predict(self, model_input: Any) -> Any:
        if len(model_input) == 0:  # scikit-learn refuses an empty batch; the answer is known
            return model_input[:, :0]
        return self._pipeline.predict_proba(model_input)

    def postprocess(self, model_output: Any) -> dict[str, Any]:
        predictions = []
        for row in model_output:
            best = int(row.argmax())
            predictions.append(
                {
                    "species": self._classes[best],
                    "probabilities": {
                        c: round(float(p), 6) for c, p in zip(self._classes, row, strict=True)
                    },
                }
            )
        return {"predictions": predictions}
