"""Write ``reference.csv``: the wine classifier's training rows plus the v1 model's prediction for each.

    python samples/wine-classifier/monitoring/make_reference.py

Data drift and data quality signals compare production inputs with the feature columns; the
prediction drift signal compares production outputs with the ``prediction`` column. Same seed and
split as ``train.py``, so the rows are exactly the ones the model was trained on.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = 42  # train.py's seed and split
V1_C = 0.05


def reference_rows() -> tuple[list[str], list[list[float]], list[int]]:
    data = load_wine()
    x_train, _, y_train, _ = train_test_split(
        data.data, data.target, test_size=0.25, random_state=SEED, stratify=data.target
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=SEED, C=V1_C))
    model.fit(x_train, y_train)
    return list(data.feature_names), x_train.tolist(), model.predict(x_train).tolist()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("reference.csv"))
    args = ap.parse_args()
    names, rows, preds = reference_rows()
    lines = [",".join([*names, "prediction"])]
    lines += [",".join([*(f"{v:g}" for v in row), str(p)]) for row, p in zip(rows, preds, strict=True)]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"{len(rows)} reference rows -> {args.out}")


if __name__ == "__main__":
    main()
