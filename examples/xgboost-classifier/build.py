"""Train the wine classifier into data/ (seeded, offline, a second or two).

    python build.py

The data set ships inside scikit-learn (sklearn.datasets.load_wine); nothing is downloaded.
scikit-learn is needed here only: the bundle itself needs xgboost and numpy.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Feature names as JSON keys: "od280/od315_of_diluted_wines" is shortened to a plain identifier.
RENAMED = {"od280/od315_of_diluted_wines": "od280_od315"}


def main() -> None:
    import xgboost
    from sklearn.datasets import load_wine
    from sklearn.model_selection import train_test_split

    wine = load_wine()
    features = [RENAMED.get(name, name) for name in wine.feature_names]
    x_train, x_test, y_train, y_test = train_test_split(
        wine.data, wine.target, test_size=0.25, random_state=0, stratify=wine.target
    )
    train = xgboost.DMatrix(x_train, label=y_train, feature_names=features)
    params = {
        "objective": "multi:softprob",
        "num_class": 3,
        "max_depth": 3,
        "eta": 0.3,
        "seed": 0,
        "nthread": 1,
    }
    booster = xgboost.train(params, train, num_boost_round=30)
    probabilities = booster.predict(xgboost.DMatrix(x_test, feature_names=features))
    accuracy = float((probabilities.argmax(axis=1) == y_test).mean())
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    booster.save_model(str(data / "model.json"))
    meta = {"features": features, "classes": [str(c) for c in wine.target_names]}
    (data / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"test accuracy {accuracy:.3f}; wrote {data}")


if __name__ == "__main__":
    main()
