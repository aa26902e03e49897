"""Wine cultivar from 13 chemical measurements, with an xgboost Booster saved as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class Model:
    def __init__(self, data_dir: Path, **kwargs: Any) -> None:
        self._data_dir = Path(data_dir)
        self._booster: Any = None
        self._features: list[str] = []
        self._classes: list[str] = []

    def load(self) -> None:
        import xgboost

        self._booster = xgboost.Booster(model_file=str(self._data_dir / "model.json"))
        meta = json.loads((self._data_dir / "meta.json").read_text(encoding="utf-8"))
        self._features, self._classes = meta["features"], meta["classes"]

    def preprocess(self, model_input: dict[str, Any]) -> Any:
        """{"wines": [{feature: value, ...}, ...]} -> an xgboost DMatrix, columns in training order."""
        import numpy as np
        import xgboost

        rows = []
        for i, wine in enumerate(model_input["wines"]):
            unknown = sorted(set(wine) - set(self._features))
            if unknown:
                raise ValueError(f"wine {i}: unknown measurement(s) {', '.join(unknown)}")
            # A missing measurement is NaN: the trees were trained to route missing values.
            rows.append([float(wine.get(name, np.nan)) for name in self._features])
        matrix = np.asarray(rows, dtype=np.float32).reshape(-1, len(self._features))
        return xgboost.DMatrix(matrix, feature_names=self._features)

    def predict(self, model_input: Any) -> Any:
        return self._booster.predict(model_input)  # (n, 3) class probabilities

    def postprocess(self, model_output: Any) -> dict[str, Any]:
        # The probabilities stay a numpy array: bundle encodes it as nested JSON lists.
        best = model_output.argmax(axis=1) if len(model_output) else []
        return {
            "cultivars": [self._classes[int(i)] for i in best],
            "probabilities": model_output.astype("float64").round(5),
        }
