"""Logs whose first point comes after the first updates are flagged and judged by their own models."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lrdoctor.detect import detect_all, signals
from lrdoctor.detect.curve import starts_late
from lrdoctor.diagnosis import Config
from lrdoctor.recommend import RateModel, rate_features, rate_models, recommend
from lrdoctor.verdict import CLASSES, FEATURES, VerdictConfig, VerdictModel, decide
from tests.detect import curves


@pytest.mark.parametrize(
    ("steps", "late"),
    [
        (np.arange(10, 410, 10), True),  # every 10 steps from step 10
        (np.arange(49, 5000, 50), True),  # every 50 steps, at steps 49, 99, ...
        (np.r_[1, np.arange(10, 410, 10)], False),  # the first step logged too
        (np.arange(0, 400, 10), False),
        (np.arange(1, 400), False),
        (np.arange(3, 400), False),  # two steps short of a log of every step
        (np.arange(5000, 6000), True),  # begins at a resume
        (np.array([10.0, 20.0]), False),  # too short to say
    ],
)
def test_starts_late(steps: np.ndarray, late: bool) -> None:
    assert starts_late(steps.astype(float)) is late


def _model(winner: str) -> VerdictModel:
    """A model that says `winner` whatever the features."""
    n = len(FEATURES)
    rows = tuple(tuple([5.0 if c == winner else 0.0] + [0.0] * n) for c in CLASSES)
    return VerdictModel(mean=(0.0,) * n, scale=(1.0,) * n, weights=rows)


def test_the_verdict_of_a_late_start_log_comes_from_the_late_model() -> None:
    steps, values = curves.converging()
    cfg = VerdictConfig(model=_model("ok"), late_model=_model("too_low"))
    every = signals(steps, values)
    late = signals(steps[9::10], values[9::10])
    assert (every.late_start, late.late_start) == (False, True)
    assert decide(every, detect_all(every, Config.default().detect), cfg)[0] == "ok"
    assert decide(late, detect_all(late, Config.default().detect), cfg)[0] == "too_low"


def test_the_rate_of_a_late_start_log_comes_from_the_late_rate_models() -> None:
    steps, values = curves.creeping()
    late = signals(steps[9::10], values[9::10])
    n = len(rate_features(late, []))

    def model(decades: float) -> RateModel:
        return RateModel(mean=(0.0,) * n, scale=(1.0,) * n, weights=(decades,) + (0.0,) * n)

    once, twice = model(1.0), model(2.0)
    cfg = replace(Config.default().recommend, high=once, low=once, late_high=twice, late_low=twice)
    assert rate_models(late, cfg) == (cfg.late_high, cfg.late_low)
    assert rate_models(signals(steps, values), cfg) == (cfg.high, cfg.low)
    assert recommend("too_low", 1e-3, late, [], cfg).factor == pytest.approx(100.0)
    assert recommend("too_low", 1e-3, signals(steps, values), [], cfg).factor == pytest.approx(10.0)
