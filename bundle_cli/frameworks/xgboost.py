"""XGBoost stages: a model from .json/.ubj through the sklearn API, or a Booster with DMatrix."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from bundle_cli.frameworks import Framework, Host, StageCall
from bundle_cli.frameworks.extras import as_array, ignoring_files, require


def load(
    path: Path, options: dict[str, Any], where: str, host: Host, classifier: bool = False
) -> StageCall:
    xgb = require("xgboost", where)
    if options.get("api", "sklearn") == "dmatrix":
        booster = xgb.Booster()
        booster.load_model(str(path))
        return ignoring_files(lambda x: booster.predict(xgb.DMatrix(as_array(x))))
    model = xgb.XGBClassifier() if classifier else xgb.XGBRegressor()
    model.load_model(str(path))
    method = getattr(model, options.get("method", "predict"))
    return ignoring_files(lambda x: method(as_array(x)))


_API = ("sklearn", "dmatrix")
_COMMON: dict[str, Any] = {
    "suffixes": (".json", ".ubj"),
    "extra": "xgboost",
    "distributions": ("xgboost", "xgboost-cpu"),
    "modules": {"xgboost": "xgboost"},
}
FRAMEWORKS = (
    Framework("xgboost", load, options={"method": ("predict",), "api": _API}, **_COMMON),
    Framework(
        "xgboost_classifier",
        partial(load, classifier=True),
        options={"method": ("predict", "predict_proba"), "api": _API},
        **_COMMON,
    ),
)
