"""Train the iris classifier into data/ (seeded, offline, about a second).

    python build.py

The data set ships inside scikit-learn (sklearn.datasets.load_iris), so nothing is downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    iris = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(
        iris.data, iris.target, test_size=0.25, random_state=0, stratify=iris.target
    )
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    pipeline.fit(x_train, y_train)
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    joblib.dump(pipeline, data / "model.joblib")
    classes = {"classes": [str(name) for name in iris.target_names]}
    (data / "classes.json").write_text(json.dumps(classes, indent=2) + "\n", encoding="utf-8")
    print(f"test accuracy {pipeline.score(x_test, y_test):.3f}; wrote {data}")


if __name__ == "__main__":
    main()
