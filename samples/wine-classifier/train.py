"""Train the two versions of the sample wine classifier (scikit-learn's bundled wine data set, no download).

    python samples/wine-classifier/train.py --out build/wine-models

writes ``<out>/v1/model/`` and ``<out>/v2/model/`` (each ``model.joblib`` + ``model-info.json``), ready
for ``mlops models register``. Both versions are the same pipeline with different regularisation;
everything is seeded, so the same inputs give the same models.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import joblib
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = 42
# v1 is strongly regularised, v2 barely: visibly different probabilities on the same input.
VERSIONS = {"v1": {"C": 0.05}, "v2": {"C": 10.0}}


def train(out: Path) -> dict[str, dict[str, object]]:
    data = load_wine()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=SEED, stratify=data.target
    )
    summary: dict[str, dict[str, object]] = {}
    for version, params in VERSIONS.items():
        model = make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=2000, random_state=SEED, **params)
        )
        model.fit(x_train, y_train)
        accuracy = float(model.score(x_test, y_test))
        folder = out / version / "model"
        folder.mkdir(parents=True, exist_ok=True)
        joblib.dump(model, folder / "model.joblib")
        info = {
            "name": "wine-classifier",
            "version": version,
            "algorithm": "StandardScaler + LogisticRegression",
            "hyperparameters": params,
            "seed": SEED,
            "feature_names": list(data.feature_names),
            "class_names": [str(c) for c in data.target_names],
            "test_accuracy": round(accuracy, 4),
        }
        (folder / "model-info.json").write_text(json.dumps(info, indent=2) + "\n")
        summary[version] = info
    return summary


def write_reference(path: Path) -> None:
    """The training features as CSV: the baseline that data-drift monitors compare against."""
    data = load_wine()
    lines = [",".join(data.feature_names)]
    lines += [",".join(f"{v:g}" for v in row) for row in data.data]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("build/wine-models"))
    ap.add_argument("--reference", type=Path, help="also write the reference data CSV here")
    args = ap.parse_args()
    for version, info in train(args.out).items():
        print(
            f"{version}: C={info['hyperparameters']} test accuracy {info['test_accuracy']} -> {args.out / version / 'model'}"
        )
    if args.reference:
        write_reference(args.reference)
        print(f"reference data -> {args.reference}")


if __name__ == "__main__":
    main()
