"""The per-feature statistics Azure ML model monitors compute, in numpy.

Metric names are the ones Azure's schedule YAML uses under ``metric_thresholds``.

Numerical features (drift):
    ``jensen_shannon_distance``, ``population_stability_index`` - on histograms (see *Binning*);
    ``normalized_wasserstein_distance`` - exact W1 between the two empirical distributions,
    divided by the reference standard deviation;
    ``two_sample_kolmogorov_smirnov_test`` - the test's p-value (the statistic D is reported too).
Categorical features (drift):
    ``jensen_shannon_distance``, ``population_stability_index`` - on category frequencies over the
    union of categories; ``pearsons_chi_squared_test`` - p-value of the 2xk contingency test.
Data quality (both kinds): ``null_value_rate``, ``data_type_error_rate``, ``out_of_bounds_rate``
(bounds learned from the reference: [min, max] for numbers, the set of seen values for categories).

Feature attribution: ``normalized_discounted_cumulative_gain`` of the production feature-importance
ranking against the reference importances (:func:`ndcg`).

Direction: distances and rates breach when ``value > threshold``; the two tests report p-values,
which breach when ``value < threshold`` (a small p-value means "the samples differ"), and so does
NDCG (1 = same ranking).
See :data:`LOWER_IS_DRIFT`.

Binning (numerical JS distance and PSI): edges are reference quantiles (``DEFAULT_BINS`` equal-mass
bins, duplicates merged for discrete-valued features), with the two outer bins open to -inf/+inf
so production values outside the reference range are counted, not dropped. Equal-mass reference
bins make PSI comparable across features and keep every reference bin non-empty. ``shared_edges``
(equal-width over the combined range) is available for callers that prefer it.

Empty bins: JS distance needs no smoothing (0·log 0 is taken as 0 and the mixture is never zero
where either side has mass). PSI's log ratio is undefined for an empty bin, so both proportions
are floored at ``PSI_EPSILON`` before the log; identical histograms still give exactly 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]

DEFAULT_BINS = 20
PSI_EPSILON = 1e-4
# A constant reference column has std 0; this floor keeps the normalised Wasserstein finite.
WASSERSTEIN_MIN_SCALE = 1e-9

NUMERICAL_DRIFT_METRICS = (
    "jensen_shannon_distance",
    "normalized_wasserstein_distance",
    "population_stability_index",
    "two_sample_kolmogorov_smirnov_test",
)
CATEGORICAL_DRIFT_METRICS = (
    "jensen_shannon_distance",
    "population_stability_index",
    "pearsons_chi_squared_test",
)
QUALITY_METRICS = ("null_value_rate", "data_type_error_rate", "out_of_bounds_rate")
LOWER_IS_DRIFT = frozenset(
    {
        "two_sample_kolmogorov_smirnov_test",
        "pearsons_chi_squared_test",
        "normalized_discounted_cumulative_gain",
    }
)


def breached(metric: str, value: float, threshold: float) -> bool:
    if np.isnan(value):
        return False
    return value < threshold if metric in LOWER_IS_DRIFT else value > threshold


# --- distributions -------------------------------------------------------------------------------


def _proportions(counts: npt.NDArray[np.integer] | FloatArray) -> FloatArray:
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    if total <= 0:
        raise ValueError("cannot compare an empty distribution")
    out: FloatArray = c / total
    return out


def js_distance(p_counts: npt.ArrayLike, q_counts: npt.ArrayLike) -> float:
    """Jensen-Shannon distance, base 2 (in [0, 1]); inputs are counts or proportions per bin."""
    p = _proportions(np.asarray(p_counts))
    q = _proportions(np.asarray(q_counts))
    m = 0.5 * (p + q)

    def kl_to_m(a: FloatArray) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log2(a[mask] / m[mask])))

    div = 0.5 * kl_to_m(p) + 0.5 * kl_to_m(q)
    # Rounding can leave a tiny negative divergence for identical inputs.
    return float(np.sqrt(max(div, 0.0)))


def psi(ref_counts: npt.ArrayLike, prod_counts: npt.ArrayLike, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index sum((q - p) * ln(q / p)) with proportions floored at ``epsilon``."""
    p = np.maximum(_proportions(np.asarray(ref_counts)), epsilon)
    q = np.maximum(_proportions(np.asarray(prod_counts)), epsilon)
    return float(np.sum((q - p) * np.log(q / p)))


def quantile_edges(ref: FloatArray, n_bins: int = DEFAULT_BINS) -> FloatArray:
    """Inner edges at reference quantiles; the outer bins are open (see module doc)."""
    if ref.size == 0:
        raise ValueError("reference column has no values")
    # inverted_cdf keeps edges on observed values, so a discrete feature gets one bin per value
    # instead of interpolated edges that leave empty bins between its values.
    qs = np.quantile(ref, np.linspace(0.0, 1.0, n_bins + 1)[1:-1], method="inverted_cdf")
    inner = np.unique(qs)
    edges: FloatArray = np.concatenate(([-np.inf], inner, [np.inf]))
    return edges


def shared_edges(ref: FloatArray, prod: FloatArray, n_bins: int = DEFAULT_BINS) -> FloatArray:
    lo = float(min(ref.min(), prod.min()))
    hi = float(max(ref.max(), prod.max()))
    if hi <= lo:
        hi = lo + 1.0
    edges: FloatArray = np.linspace(lo, hi, n_bins + 1)
    return edges


def histogram(values: FloatArray, edges: FloatArray) -> npt.NDArray[np.int64]:
    """Counts per bin [e_i, e_{i+1}); the last bin also holds values equal to the top edge."""
    idx = np.searchsorted(edges, values, side="right") - 1
    idx = np.clip(idx, 0, len(edges) - 2)
    return np.bincount(idx, minlength=len(edges) - 1).astype(np.int64)


# --- numerical two-sample statistics on sorted samples -------------------------------------------


@dataclass(frozen=True)
class KsResult:
    statistic: float
    pvalue: float


def _ecdf_gap(ref_sorted: FloatArray, prod_sorted: FloatArray) -> tuple[FloatArray, FloatArray]:
    """|F_ref - F_prod| just right of every distinct pooled value, and the width to the next value."""
    pooled = np.unique(np.concatenate((ref_sorted, prod_sorted)))
    f_ref = np.searchsorted(ref_sorted, pooled, side="right") / ref_sorted.size
    f_prod = np.searchsorted(prod_sorted, pooled, side="right") / prod_sorted.size
    gap: FloatArray = np.abs(f_ref - f_prod)
    widths: FloatArray = np.diff(pooled)
    return gap, widths


def wasserstein(ref_sorted: FloatArray, prod_sorted: FloatArray) -> float:
    """W1 between two empirical distributions (inputs sorted ascending): integral of |F1 - F2|."""
    gap, widths = _ecdf_gap(ref_sorted, prod_sorted)
    return float(np.sum(gap[:-1] * widths))


def normalized_wasserstein(ref_sorted: FloatArray, prod_sorted: FloatArray) -> float:
    """W1 in units of the reference standard deviation, so one threshold fits every feature's scale."""
    scale = max(float(np.std(ref_sorted)), WASSERSTEIN_MIN_SCALE)
    return wasserstein(ref_sorted, prod_sorted) / scale


def ks_2samp(ref_sorted: FloatArray, prod_sorted: FloatArray) -> KsResult:
    """Two-sided two-sample KS: D = sup|F1 - F2|; p-value from the asymptotic distribution
    (Kolmogorov's limit law on the effective sample size n·m/(n+m)), as ``scipy.stats.ks_2samp``'s
    ``method='asymp'`` does. The exact method is O(n·m) and pointless at monitoring sample sizes."""
    gap, _ = _ecdf_gap(ref_sorted, prod_sorted)
    d = float(gap.max())
    n, m = ref_sorted.size, prod_sorted.size
    en = n * m / (n + m)
    p = float(stats.kstwo.sf(d, np.round(en)))
    return KsResult(d, float(np.clip(p, 0.0, 1.0)))


def numerical_drift(ref: FloatArray, prod: FloatArray, n_bins: int = DEFAULT_BINS) -> dict[str, float]:
    """All numerical drift metrics for one feature; NaNs are excluded (they count as nulls)."""
    r = np.sort(ref[~np.isnan(ref)])
    q = np.sort(prod[~np.isnan(prod)])
    if r.size == 0 or q.size == 0:
        raise ValueError("needs at least one non-null value on each side")
    edges = quantile_edges(r, n_bins)
    hr, hq = histogram(r, edges), histogram(q, edges)
    # One ECDF pass serves both W1 and KS (the pooled sort dominates the cost at 1M rows).
    gap, widths = _ecdf_gap(r, q)
    scale = max(float(np.std(r)), WASSERSTEIN_MIN_SCALE)
    d = float(gap.max())
    en = r.size * q.size / (r.size + q.size)
    return {
        "jensen_shannon_distance": js_distance(hr, hq),
        "normalized_wasserstein_distance": float(np.sum(gap[:-1] * widths)) / scale,
        "population_stability_index": psi(hr, hq),
        "two_sample_kolmogorov_smirnov_test": float(np.clip(stats.kstwo.sf(d, np.round(en)), 0.0, 1.0)),
        "ks_statistic": d,
    }


# --- categorical ---------------------------------------------------------------------------------


def category_counts(
    ref: npt.NDArray[np.str_], prod: npt.NDArray[np.str_]
) -> tuple[list[str], FloatArray, FloatArray]:
    """Counts of both samples over the union of categories (sorted, so results are reproducible)."""
    cats, inverse = np.unique(np.concatenate((ref, prod)), return_inverse=True)
    r = np.bincount(inverse[: ref.size], minlength=cats.size).astype(np.float64)
    q = np.bincount(inverse[ref.size :], minlength=cats.size).astype(np.float64)
    return [str(c) for c in cats], r, q


def chi_squared(ref_counts: FloatArray, prod_counts: FloatArray) -> tuple[float, float]:
    """Pearson's chi-squared test of homogeneity on the 2xk table (no continuity correction).
    Categories absent from both samples are dropped. Returns (statistic, p-value)."""
    table = np.vstack((ref_counts, prod_counts))
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0  # one category on both sides: the distributions are identical
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    stat = float(np.sum((table - expected) ** 2 / expected))
    dof = table.shape[1] - 1
    return stat, float(stats.chi2.sf(stat, dof))


def categorical_drift(ref: npt.NDArray[np.str_], prod: npt.NDArray[np.str_]) -> dict[str, float]:
    if ref.size == 0 or prod.size == 0:
        raise ValueError("needs at least one non-null value on each side")
    _, r, q = category_counts(ref, prod)
    stat, p = chi_squared(r, q)
    return {
        "jensen_shannon_distance": js_distance(r, q),
        "population_stability_index": psi(r, q),
        "pearsons_chi_squared_test": p,
        "chi_squared_statistic": stat,
    }


# --- data quality --------------------------------------------------------------------------------


def numerical_quality(
    values: FloatArray, type_errors: npt.NDArray[np.bool_], ref_min: float, ref_max: float
) -> dict[str, float]:
    """``values`` holds NaN for nulls *and* for values of the wrong type; ``type_errors`` marks the
    latter so the two rates are separate. Out-of-bounds is over present, well-typed values."""
    n = values.size
    if n == 0:
        raise ValueError("no production rows")
    missing = np.isnan(values)
    nulls = missing & ~type_errors
    present = values[~missing]
    oob = np.count_nonzero((present < ref_min) | (present > ref_max))
    return {
        "null_value_rate": float(np.count_nonzero(nulls)) / n,
        "data_type_error_rate": float(np.count_nonzero(type_errors)) / n,
        "out_of_bounds_rate": float(oob) / n,
    }


def categorical_quality(
    values: npt.NDArray[np.str_], nulls: npt.NDArray[np.bool_], reference_categories: set[str]
) -> dict[str, float]:
    """Categories arrive as strings, so a type error is not observable: it is always 0 here."""
    n = values.size
    if n == 0:
        raise ValueError("no production rows")
    present = values[~nulls]
    known = np.isin(present, np.array(sorted(reference_categories), dtype=present.dtype))
    return {
        "null_value_rate": float(np.count_nonzero(nulls)) / n,
        "data_type_error_rate": 0.0,
        "out_of_bounds_rate": float(np.count_nonzero(~known)) / n,
    }


# --- feature attribution -------------------------------------------------------------------------


def ndcg(reference_importance: npt.ArrayLike, production_importance: npt.ArrayLike) -> float:
    """Normalised discounted cumulative gain of the production importance *ranking*, with the
    reference importances as relevance: 1.0 when both rank the features the same way, lower as
    the features the reference relied on fall down the production ranking."""
    rel = np.asarray(reference_importance, dtype=np.float64)
    prod = np.asarray(production_importance, dtype=np.float64)
    if rel.shape != prod.shape or rel.size == 0:
        raise ValueError("importance vectors must be non-empty and the same length")
    discounts = 1.0 / np.log2(np.arange(2, rel.size + 2))
    # Stable sort on the negated importances: ties keep feature order on both sides.
    dcg = float(np.sum(rel[np.argsort(-prod, kind="stable")] * discounts))
    idcg = float(np.sum(np.sort(rel)[::-1] * discounts))
    return dcg / idcg if idcg > 0 else 1.0
