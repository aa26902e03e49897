"""scikit-learn stages: an estimator from pickle, joblib or skops; `method` picks what is called."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from bundle_cli.frameworks import Framework, Host, StageCall, stage_error
from bundle_cli.frameworks.extras import as_array, ignoring_files, require

METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function", "transform")


def load(path: Path, options: dict[str, Any], where: str, host: Host) -> StageCall:
    require("sklearn", where)
    if path.suffix == ".joblib":
        model = require("joblib", where).load(path)
    elif path.suffix == ".skops":
        model = _load_skops(path, options.get("trusted", []), where)
    else:
        with path.open("rb") as f:
            model = pickle.load(f)  # a bundle is code: its pickles run as the author wrote them
    method_name = options.get("method", "predict")
    method = getattr(model, method_name, None)
    if method is None:
        message = f"{where}: {type(model).__name__} has no {method_name}()"
        raise stage_error("stage-method-missing", message, path)
    return ignoring_files(lambda x: method(as_array(x)))


def _load_skops(path: Path, trusted: list[str], where: str) -> Any:
    """skops refuses types nobody vouched for: the stage's `trusted` option lists them."""
    skops_io = require("skops.io", where)
    untrusted = sorted(set(skops_io.get_untrusted_types(file=path)) - set(trusted))
    if untrusted:
        message = (
            f"{where}: {path.name} holds types skops does not trust: {', '.join(untrusted)}; "
            "list the ones you trust in the stage's options.trusted"
        )
        raise stage_error("skops-untrusted", message, path)
    return skops_io.load(path, trusted=trusted)


FRAMEWORKS = (
    Framework(
        "sklearn",
        load,
        suffixes=(".pkl", ".pickle", ".joblib", ".skops"),
        # trusted: the type names of a skops file the author vouches for
        options={"method": METHODS, "trusted": list},
        extra="sklearn",
        distributions=("scikit-learn",),
        modules={"sklearn": "scikit-learn", "joblib": "scikit-learn"},
    ),
)
