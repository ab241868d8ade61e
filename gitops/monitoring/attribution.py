"""Feature importances for feature attribution drift.

The same surrogate is fitted on each side: reference features -> the reference's target column,
production features -> the deployed model's predictions (inputs joined to outputs on the
correlation id). Importances are the forest's impurity decrease, normalised to sum 1; the two
rankings are compared with :func:`gitops.monitoring.metrics.ndcg`. Rows beyond
``MAX_ROWS`` are subsampled (seeded), which keeps the fit to a few seconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

MAX_ROWS = 20_000
SEED = 0


def importances(
    x: npt.NDArray[np.float64], y: npt.NDArray[Any], classification: bool
) -> npt.NDArray[np.float64]:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    keep = ~np.isnan(x).any(axis=1)
    x, y = x[keep], y[keep]
    if x.shape[0] < 10:
        raise ValueError("fewer than 10 complete rows")
    if x.shape[0] > MAX_ROWS:
        idx = np.random.default_rng(SEED).choice(x.shape[0], MAX_ROWS, replace=False)
        x, y = x[idx], y[idx]
    model: Any
    if classification:
        model = RandomForestClassifier(n_estimators=100, max_depth=8, random_state=SEED, n_jobs=1)
    else:
        model = RandomForestRegressor(n_estimators=100, max_depth=8, random_state=SEED, n_jobs=1)
    model.fit(x, y)
    out: npt.NDArray[np.float64] = np.asarray(model.feature_importances_, dtype=np.float64)
    return out
