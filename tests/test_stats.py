"""The numpy statistics agree with scipy's (scipy is imported here only, never on the diagnose path)."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from scipy import ndimage, stats

from lrdoctor import stats as lst


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n", [5, 37, 200])
def test_theil_sen_matches_scipy(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 100, n))
    y = 3.0 - 0.02 * x + rng.standard_t(2, n)
    slope, intercept = lst.theil_sen(x, y)
    ref = stats.theilslopes(y, x)
    assert slope == pytest.approx(ref.slope, rel=1e-12)
    assert intercept == pytest.approx(ref.intercept, rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n", [12, 80, 300])
def test_kendall_tau_matches_scipy(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.arange(n, dtype=float)
    y = np.round(-0.01 * x + rng.normal(size=n), 1)  # rounding makes ties
    tau, p = lst.kendall_tau(x, y)
    ref = stats.kendalltau(x, y, method="asymptotic")
    assert tau == pytest.approx(ref.statistic, rel=1e-10)
    assert p == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-300)


def test_pairwise_statistics_reduce_long_inputs() -> None:
    x = np.arange(10_000, dtype=float)
    y = 5 - 1e-3 * x
    slope, _ = lst.theil_sen(x, y)
    assert slope == pytest.approx(-1e-3)
    assert lst.kendall_tau(x, y)[0] == pytest.approx(-1.0)


@pytest.mark.parametrize("size", [1, 3, 5, 11])
def test_median_filter_matches_scipy(size: int) -> None:
    y = np.random.default_rng(0).normal(size=101)
    np.testing.assert_allclose(lst.median_filter(y, size), ndimage.median_filter(y, size=size, mode="nearest"))
    if size > 1:  # an even size is rounded up to the next odd one
        np.testing.assert_allclose(lst.median_filter(y, size - 1), lst.median_filter(y, size))


def test_mad_sigma_and_autocorr() -> None:
    rng = np.random.default_rng(1)
    assert lst.mad_sigma(rng.normal(0, 2.0, 20_000)) == pytest.approx(2.0, rel=0.03)
    assert lst.mad_sigma(np.array([1.0, 1.0, np.nan])) == 0.0
    alternating = np.tile([1.0, -1.0], 50)
    assert lst.lag1_autocorr(alternating) == pytest.approx(-0.99, abs=0.01)
    assert np.isnan(lst.lag1_autocorr(np.ones(10)))


def test_moving_average_matches_scipy_uniform_filter() -> None:
    y = np.random.default_rng(2).normal(size=57)
    np.testing.assert_allclose(lst.moving_average(y, 7), ndimage.uniform_filter1d(y, 7, mode="nearest"))


def test_trend_ignores_a_period_two_swing_and_spikes() -> None:
    swing = np.ones(101) + 0.4 * np.where(np.arange(101) % 2, 1.0, -1.0)
    assert np.abs(lst.trend(swing, 17)[20:-20] - 1.0).max() < 0.05
    spiked = np.linspace(2.0, 1.0, 101)
    spiked[50] = 100.0
    np.testing.assert_allclose(lst.trend(spiked, 17)[10:-10], np.linspace(2.0, 1.0, 101)[10:-10], atol=0.02)


@pytest.mark.parametrize(("n", "bins"), [(401, 400), (1000, 400), (12345, 77), (10, 3)])
def test_bin_medians_are_the_medians_of_consecutive_slices(n: int, bins: int) -> None:
    rng = np.random.default_rng(n)
    x, y = np.arange(n, dtype=float), rng.standard_normal(n)
    y[::97] = np.nan  # a NaN makes its group's median NaN, as np.median does
    edges = np.linspace(0, n, bins + 1).astype(int)
    xs, ys = lst.bin_medians(x, y, bins)
    # x: the group's middle element (the lower of the two middles of an even group), one of its own.
    np.testing.assert_array_equal(xs, [x[a:b][(b - a - 1) // 2] for a, b in pairwise(edges)])
    assert np.isin(xs, x).all()
    np.testing.assert_array_equal(ys, [np.median(y[a:b]) for a, b in pairwise(edges)])
