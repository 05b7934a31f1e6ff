"""The accuracy benchmark's re-logging: what loggers that skip steps would have kept of a run."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import accuracy

STEPS = np.arange(1, 401, dtype=float)
VALUES = 1000.0 - STEPS  # value i is 1000 - step i


def test_every_k_keeps_the_first_step_and_every_kth_after_it() -> None:
    steps, values = accuracy.relog(STEPS, VALUES, "every", 10)
    np.testing.assert_array_equal(steps, np.arange(1, 401, 10))
    np.testing.assert_array_equal(values, 1000.0 - steps)


def test_from_k_leaves_out_the_first_steps() -> None:
    steps, values = accuracy.relog(STEPS, VALUES, "from-k", 10)
    np.testing.assert_array_equal(steps, np.arange(10, 401, 10))
    np.testing.assert_array_equal(values, 1000.0 - steps)


def test_mean_logs_each_window_mean_at_its_last_step() -> None:
    steps, values = accuracy.relog(STEPS, VALUES, "mean", 10)
    np.testing.assert_array_equal(steps, np.arange(10, 401, 10))
    np.testing.assert_allclose(values, 1000.0 - (steps - 4.5))  # the mean of steps k-9 .. k
    first_steps, first_values = accuracy.relog(STEPS, VALUES, "mean+first", 10)
    np.testing.assert_array_equal(first_steps, np.r_[1.0, steps])
    np.testing.assert_allclose(first_values, np.r_[999.0, values])


def test_short_logs_stay_as_they_are() -> None:
    steps, values = accuracy.relog(STEPS[:50], VALUES[:50], "every", 10)
    assert len(steps) == 50 and len(values) == 50


def test_an_unknown_way_of_logging_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown relog"):
        accuracy.relog(STEPS, VALUES, "sometimes", 10)
