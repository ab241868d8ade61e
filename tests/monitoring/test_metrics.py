"""Metric implementations against hand-computed values and against scipy's implementations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from gitops.monitoring import metrics as M


def test_js_distance_hand_values() -> None:
    assert M.js_distance([1, 0], [0, 1]) == pytest.approx(1.0)
    assert M.js_distance([3, 5, 2], [3, 5, 2]) == 0.0
    # m = (.75, .25); KL(p||m) = .5 log2(.5/.75) + .5 log2(2) ; KL(q||m) = log2(1/.75)
    kl_p = 0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25)
    kl_q = math.log2(1 / 0.75)
    assert M.js_distance([0.5, 0.5], [1.0, 0.0]) == pytest.approx(math.sqrt(0.5 * kl_p + 0.5 * kl_q))
    # Counts and proportions give the same answer.
    assert M.js_distance([10, 10], [40, 0]) == pytest.approx(M.js_distance([0.5, 0.5], [1.0, 0.0]))


def test_js_distance_matches_scipy() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        p = rng.integers(0, 50, 12).astype(float)
        q = rng.integers(0, 50, 12).astype(float)
        p[rng.integers(0, 12)] = 0  # empty bins must be handled without smoothing
        assert M.js_distance(p, q) == pytest.approx(jensenshannon(p, q, base=2), abs=1e-12)


def test_psi_hand_values_and_empty_bins() -> None:
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert M.psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected)
    assert M.psi([5, 5, 0], [5, 5, 0]) == 0.0
    # Empty production bin: floored at epsilon, finite and large.
    value = M.psi([50, 50], [100, 0])
    eps = M.PSI_EPSILON
    hand = (1 - 0.5) * math.log(1 / 0.5) + (eps - 0.5) * math.log(eps / 0.5)
    assert value == pytest.approx(hand)
    assert math.isfinite(value)


def test_wasserstein_and_ks_hand_values() -> None:
    a = np.array([0.0, 1.0])
    b = np.array([1.0, 2.0])
    assert M.wasserstein(a, b) == pytest.approx(1.0)
    assert M.normalized_wasserstein(a, b) == pytest.approx(1.0 / 0.5)  # std of {0, 1} is 0.5
    ks = M.ks_2samp(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]))
    assert ks.statistic == 1.0
    assert M.ks_2samp(a, a).statistic == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wasserstein_and_ks_match_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = np.sort(np.round(rng.normal(0, 1, 3000), 2))  # rounding creates ties
    b = np.sort(np.round(rng.normal(0.1, 1.2, 2000), 2))
    assert M.wasserstein(a, b) == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-10)
    ours = M.ks_2samp(a, b)
    ref = stats.ks_2samp(a, b, method="asymp")
    assert ours.statistic == pytest.approx(ref.statistic, abs=1e-12)
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-300)


def test_chi_squared_hand_and_scipy() -> None:
    stat, p = M.chi_squared(np.array([10.0, 20.0]), np.array([20.0, 10.0]))
    assert stat == pytest.approx(4 * 25 / 15)
    assert p == pytest.approx(stats.chi2.sf(4 * 25 / 15, 1))
    rng = np.random.default_rng(3)
    r = rng.integers(1, 100, 6).astype(float)
    q = rng.integers(1, 100, 6).astype(float)
    q[2] = 0.0
    exp_stat, exp_p, _, _ = stats.chi2_contingency(np.vstack((r, q)), correction=False)
    stat, p = M.chi_squared(r, q)
    assert stat == pytest.approx(exp_stat)
    assert p == pytest.approx(exp_p)
    # A category seen on neither side is dropped, not divided by zero.
    assert M.chi_squared(np.array([5.0, 0.0, 5.0]), np.array([5.0, 0.0, 5.0])) == (0.0, 1.0)


def test_categorical_drift_union_of_categories() -> None:
    ref = np.array(["a"] * 50 + ["b"] * 50)
    prod = np.array(["a"] * 50 + ["c"] * 50)
    out = M.categorical_drift(ref, prod)
    assert out["jensen_shannon_distance"] == pytest.approx(jensenshannon([50, 50, 0], [50, 0, 50], base=2))
    assert out["pearsons_chi_squared_test"] < 1e-10
    same = M.categorical_drift(ref, ref.copy())
    assert same["jensen_shannon_distance"] == 0.0
    assert same["pearsons_chi_squared_test"] == pytest.approx(1.0)


def test_quantile_bins_keep_out_of_range_values() -> None:
    ref = np.linspace(0, 1, 101)
    edges = M.quantile_edges(ref, 10)
    assert edges[0] == -np.inf
    assert edges[-1] == np.inf
    counts = M.histogram(np.array([-5.0, 0.5, 7.0]), edges)
    assert counts.sum() == 3
    assert counts[0] == 1
    assert counts[-1] == 1
    # Discrete feature: duplicate quantiles collapse into fewer bins instead of empty ones.
    discrete = np.array([1.0] * 50 + [2.0] * 50)
    edges = M.quantile_edges(discrete, 20)
    assert edges.tolist() == [-np.inf, 1.0, 2.0, np.inf]
    assert M.histogram(discrete, edges).tolist() == [0, 50, 50]


def test_quality_rates_hand_values() -> None:
    values = np.array([1.0, np.nan, 5.0, np.nan, 11.0, 0.5, 3.0, 4.0, 2.0, 6.0])
    type_errors = np.zeros(10, dtype=bool)
    type_errors[3] = True  # the second NaN was a string, not a null
    q = M.numerical_quality(values, type_errors, ref_min=1.0, ref_max=10.0)
    assert q == {"null_value_rate": 0.1, "data_type_error_rate": 0.1, "out_of_bounds_rate": 0.2}
    cats = np.array(["a", "b", "", "z"])
    cq = M.categorical_quality(cats, np.array([False, False, True, False]), {"a", "b"})
    assert cq == {"null_value_rate": 0.25, "data_type_error_rate": 0.0, "out_of_bounds_rate": 0.25}


def test_breach_direction() -> None:
    assert M.breached("jensen_shannon_distance", 0.2, 0.1)
    assert not M.breached("jensen_shannon_distance", 0.05, 0.1)
    assert M.breached("two_sample_kolmogorov_smirnov_test", 0.001, 0.01)
    assert not M.breached("pearsons_chi_squared_test", 0.5, 0.01)
    assert not M.breached("null_value_rate", float("nan"), 0.0)


def test_same_distribution_vs_shift_numerical() -> None:
    rng = np.random.default_rng(11)
    ref = rng.normal(10, 2, 5000)
    same = M.numerical_drift(ref, rng.normal(10, 2, 20000))
    shifted = M.numerical_drift(ref, rng.normal(11, 2, 20000))
    assert same["normalized_wasserstein_distance"] < 0.05 < 0.4 < shifted["normalized_wasserstein_distance"]
    assert same["jensen_shannon_distance"] < 0.05 < 0.2 < shifted["jensen_shannon_distance"]
    assert same["population_stability_index"] < 0.02 < 0.1 < shifted["population_stability_index"]
    assert same["two_sample_kolmogorov_smirnov_test"] > 0.01 > shifted["two_sample_kolmogorov_smirnov_test"]
