"""How far a run got, in e-folds of its loss: the measures the rate regression reads."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrdoctor.detect import DetectConfig, detect_all, signals
from lrdoctor.recommend import PROGRESS, progress, rate_features
from lrdoctor.verdict import FEATURES

STEPS = np.arange(1000.0)
T = np.linspace(0.0, 1.0, 1000)


def test_exponential_decay_gives_its_e_folds() -> None:
    # L = 2 exp(-2t): the end level (median of the last tenth, t ~ 0.95) is 1.9 e-folds below
    # the start, and the loss sheds 2 e-folds per run at the end and at the start.
    shed, tail, early = progress(signals(STEPS, 2.0 * np.exp(-2.0 * T)), PROGRESS)
    assert shed == pytest.approx(math.log10(1.9), abs=0.01)
    assert tail == pytest.approx(math.log10(2.0), abs=0.01)
    assert early == pytest.approx(math.log10(2.0), abs=0.01)


def test_a_tenth_of_the_progress_reads_one_decade_lower() -> None:
    # The small-step regime: a rate ten times smaller makes a tenth of the progress per step.
    fast = progress(signals(STEPS, 2.0 * np.exp(-1.0 * T)), PROGRESS)
    slow = progress(signals(STEPS, 2.0 * np.exp(-0.1 * T)), PROGRESS)
    assert np.allclose(np.subtract(fast, slow), 1.0, atol=0.01)


def test_a_loss_that_crosses_zero_is_measured_in_shares_of_its_start() -> None:
    # 1 - 2t: it ends (t ~ 0.95) 1.9 start levels down and falls 2 start levels per run.
    shed, tail, early = progress(signals(STEPS, 1.0 - 2.0 * T), PROGRESS)
    assert shed == pytest.approx(math.log10(1.9), abs=0.01)
    assert tail == pytest.approx(math.log10(2.0), abs=0.01)
    assert early == pytest.approx(math.log10(2.0), abs=0.01)


def test_a_flat_run_sits_at_the_floor() -> None:
    floor = math.log10(PROGRESS.floor)
    assert progress(signals(STEPS, np.full(1000, 2.0)), PROGRESS) == [floor, floor, floor]


def test_rate_features_without_a_curve() -> None:
    # Three finite points, then NaN: no curve, so only "no curve" and "non-finite" are set.
    values = np.array([2.3, 2.2, 2.1, *[np.nan] * 10])
    sig = signals(np.arange(13.0), values)
    x = rate_features(sig, detect_all(sig, DetectConfig()))
    assert len(x) == len(FEATURES) + 5
    assert list(x[len(FEATURES) :]) == [1.0, 1.0, 0.0, 0.0, 0.0]


def test_an_ok_verdict_beside_a_warning_does_not_call_the_run_healthy() -> None:
    from lrdoctor.diagnosis import Finding
    from lrdoctor.recommend import RecommendConfig, recommend

    sig = signals(np.arange(50.0), np.linspace(2.0, 1.0, 50))
    slow = Finding("slow_convergence", "warning", 35, 49, "loss still falling", {}, suggests="too_low", strength=0.6)
    spike = Finding("loss_spike", "info", 10, 10, "one spike", {}, suggests="too_high", strength=0.2)
    cfg = RecommendConfig()
    assert recommend("ok", 0.01, sig, [spike], cfg).basis == "the run looks healthy: keep the rate"
    warned = recommend("ok", 0.01, sig, [slow, spike], cfg)
    assert warned.lr == 0.01 and warned.basis == "on balance the rate is ok, despite a warning"
    overfit = Finding("overfitting", "warning", 20, 49, "validation loss rose", {})
    assert recommend("ok", 0.01, sig, [slow, overfit], cfg).basis.endswith("despite 2 warnings")


def test_a_large_rise_says_it_is_uncertain() -> None:
    """A too-low run is put within 3x of its best rate about half the time, and overshooting by a
    decade can kill the network: a rise of 100x or more says to go up a decade at a time."""
    import dataclasses

    from lrdoctor.recommend import RecommendConfig, recommend

    sig = signals(np.arange(50.0), np.linspace(2.0, 1.9, 50))
    cfg = RecommendConfig()
    far = recommend("too_low", 0.001, sig, [], dataclasses.replace(cfg, min_decades=2.5))
    assert far.factor is not None and far.factor >= 100 and "go up a decade at a time" in far.basis
    near = recommend("too_low", 0.001, sig, [], dataclasses.replace(cfg, max_decades=1.0))
    assert near.factor is not None and near.factor <= 10 and "decade at a time" not in near.basis


@pytest.mark.parametrize(("verdict", "observed"), [("too_high", 5e-324), ("too_low", 1.5e308)])
def test_a_rate_that_rounds_to_zero_or_overflows_is_no_rate_to_try(verdict: str, observed: float) -> None:
    """A rate logged at the float's ends, scaled by the factor: 5e-324 had been recommended as 0."""
    from lrdoctor.diagnosis import Config
    from lrdoctor.recommend import recommend

    cfg = Config.default()
    sig = signals(STEPS, 2.0 * np.exp(-2.0 * T) + 0.1)
    rec = recommend(verdict, observed, sig, detect_all(sig, cfg.detect), cfg.recommend)  # type: ignore[arg-type]
    assert rec.lr is None and rec.factor is not None and math.isfinite(rec.factor) and rec.factor > 0
    assert recommend(verdict, 0.01, sig, detect_all(sig, cfg.detect), cfg.recommend).lr > 0  # type: ignore[arg-type]
