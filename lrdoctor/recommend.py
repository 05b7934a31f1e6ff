"""A corrected learning rate from the log alone, and what it rests on.

- Too high, with a recorded warmup during which the loss blew up: the rate at the blow-up is
  the stability limit; recommend a margin below it.
- Otherwise the distance to a good rate, in decades, is read off the same shape statistics the
  verdict uses (how much of its loss the run shed, how early, how rough, whether it went
  non-finite...) and three measures of how far the run got, in e-folds of its loss, by a ridge
  regression per side, fitted on the labelled corpus (``benchmarks/accuracy.py``;
  leave-one-task-out figures in BENCHMARKS.md); one pair per kind of log, as for the verdict
  (:func:`lrdoctor.detect.log_kind`).

The e-fold measures come from the small-step regime: while the rate is too small, the progress
per step grows in proportion to it (gradient flow, run at lr x steps), so a run that shed a tenth
as many e-folds of its loss needs a rate about ten times larger to get as far. Their logarithms
enter the regression, so the decades off come out linear in log10(e-folds).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lrdoctor import stats
from lrdoctor.detect import Signals, log_kind
from lrdoctor.diagnosis import Finding, Verdict
from lrdoctor.run import fmt_factor


@dataclass(frozen=True)
class RateModel:
    """log10 of the correction factor = weights @ [1, standardised features]."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    # The range of each feature over the runs the model was fitted on (None: no limit).
    lo: tuple[float, ...] | None = None
    hi: tuple[float, ...] | None = None


@dataclass(frozen=True)
class RecommendConfig:
    warmup_margin: float = 3.0  # below the stability limit seen in warmup
    # A loss answers a rate some updates late (momentum, Adam's averages: about 1 / (1 - beta1) = 10
    # steps): on a steep warmup the rate where the loss turned is past the limit, by as much as the
    # ramp rose over those steps; the rate that many steps before is taken where it is lower.
    response_steps: float = 10.0
    # (too high, too low) rate models per log kind (lrdoctor.detect.LOG_KINDS); None: RATE_MODELS in
    # lrdoctor/_fitted.py.
    rates: Mapping[str, tuple[RateModel, RateModel]] | None = None
    # The correction is kept within half a decade and 3.5 decades: the corpus's non-ok runs
    # sit 0.5 to 5.5 decades from the best rate, most within 3.
    min_decades: float = 0.5
    max_decades: float = 3.5
    # A rise by this factor or more is said to be uncertain: the corpus's too-low runs called so
    # are put within 3x of their best rate only about half the time, and a rate overshot by a
    # decade can kill the network (BENCHMARKS.md, "Learnt, then lost it").
    step_up_above: float = 100.0


@dataclass(frozen=True)
class Recommendation:
    lr: float | None
    factor: float | None  # recommended / observed
    basis: str


@dataclass(frozen=True)
class ProgressConfig:
    # e-fold counts below this are not told apart (a run that did not move): log10 floor -4.
    floor: float = 1e-4
    # "The start" of the run for the initial rate of progress: its first tenth.
    early: float = 0.1
    # Clips of log10(e-folds shed), log10(e-folds per run at the end / at the start): corpus runs
    # span -4 to 0.7, -4 to 0.5 and -4 to 1.6.
    shed_max: float = 1.0
    tail_max: float = 1.0
    early_max: float = 2.0


PROGRESS = ProgressConfig()


def rate_features(sig: Signals, findings: Sequence[Finding]) -> np.ndarray:
    """The verdict's features, whether the loss went non-finite (its curve may be too short to
    have any), and how far the run got (:func:`progress`)."""
    from lrdoctor.verdict import FEATURES, features

    nonfinite = any(
        f.pathology == "divergence" and "nonfinite" in f.evidence and f.severity == "error" for f in findings
    )
    base = features(sig, findings) if sig.curve is not None and sig.shape is not None else np.zeros(len(FEATURES))
    return np.concatenate([base, [float(sig.curve is None), float(nonfinite)], progress(sig, PROGRESS)])


def progress(sig: Signals, cfg: ProgressConfig) -> list[float]:
    """log10 of the e-folds of its loss the run shed, of the e-folds per run it still shed at the
    end (the tail window), and of those per run over its first tenth. A loss that is not positive
    throughout is measured in shares of its start level instead."""
    curve, shape = sig.curve, sig.shape
    if curve is None or shape is None:
        return [0.0, 0.0, 0.0]
    positive = curve.start > 0 and curve.end > 0 and float(curve.y.min()) > 0
    scale = max(abs(curve.start), 1e-12)

    def shed(a: float, b: float) -> float:
        # log(a) - log(b), not log(a / b): levels near the float limit (a trend of values about
        # 1e308 averages to inf) give a non-finite count, which _log_clip floors, not an error.
        return math.log(a) - math.log(b) if positive and b > 0 else (a - b) / scale

    tail = curve.t >= shape.tail_from
    t, y = (curve.t[tail], curve.trend[tail]) if tail.sum() >= 6 else (curve.t[-6:], curve.trend[-6:])
    slope, _ = stats.theil_sen(t, np.log(np.maximum(y, 1e-300)) if positive else y / scale)
    early = float(curve.trend[min(int(np.searchsorted(curve.t, cfg.early)), len(curve.t) - 1)])
    return [
        _log_clip(shed(curve.start, curve.end), cfg.floor, cfg.shed_max),
        _log_clip(-slope, cfg.floor, cfg.tail_max),
        _log_clip(shed(curve.start, early) / cfg.early, cfg.floor, cfg.early_max),
    ]


def _log_clip(x: float, floor: float, hi: float) -> float:
    return min(math.log10(max(x, floor)), hi) if math.isfinite(x) else math.log10(floor)


def decades(x: np.ndarray, model: RateModel, cfg: RecommendConfig) -> float:
    from lrdoctor.verdict import standardised

    z = standardised(x, model)
    value = float(np.asarray(model.weights) @ np.concatenate([[1.0], z]))
    return min(max(value, cfg.min_decades), cfg.max_decades)


def recommend(
    verdict: Verdict, observed: float | None, sig: Signals, findings: Sequence[Finding], cfg: RecommendConfig
) -> Recommendation:
    if verdict == "ok":
        warned = sum(f.severity == "warning" for f in findings)
        if warned:  # outweighed by the rest: an ok rate, not a healthy run
            despite = "a warning" if warned == 1 else f"{warned} warnings"
            return Recommendation(observed, 1.0, f"on balance the rate is ok, despite {despite}")
        return Recommendation(observed, 1.0, "the run looks healthy: keep the rate")
    if verdict == "unknown":
        return Recommendation(None, None, "not enough evidence to recommend a rate")
    if verdict == "too_high":
        found = _warmup_limit(findings, sig, cfg)
        if found is not None:
            limit, turned = found
            rate = limit / cfg.warmup_margin
            where = (
                f"at lr {limit:.3g} (the stability limit)"
                if turned == limit
                else f"when the rate reached {turned:.3g}; a loss answers its rate some {cfg.response_steps:g} "
                f"steps late, so the stability limit is put at {limit:.3g}"
            )
            return Recommendation(
                _a_rate(rate),
                rate / observed if observed else None,
                f"the loss blew up during warmup {where}; {cfg.warmup_margin:g}x below it",
            )
    x = rate_features(sig, findings)
    high, low = rate_models(sig, cfg)
    if verdict == "too_high":
        factor = 10 ** -decades(x, high, cfg)
        basis = f"{fmt_factor(1 / factor)}x lower: what runs that failed like this one needed in lrdoctor's sweeps"
    else:
        factor = 10 ** decades(x, low, cfg)
        basis = f"{fmt_factor(factor)}x higher: how little of its loss the run shed, and how late"
        if factor >= cfg.step_up_above:  # the log tells the side far better than the distance
            basis += "; a step this large is uncertain: go up a decade at a time" + _rungs(observed, factor)
    return Recommendation(_a_rate(observed * factor) if observed else None, factor, basis)


def _rungs(observed: float | None, factor: float) -> str:
    """' (0.01, then 0.1, then 0.946)': a decade at a time from the observed rate up to the one
    recommended; nothing where the observed rate is not known."""
    if not observed or not math.isfinite(observed * factor):
        return ""
    whole = max(math.floor(math.log10(factor) - 0.25), 1)  # (a last rung of under ~1.8x is the rate itself)
    rungs = [observed * 10**k for k in range(1, min(whole, 4) + 1)] + [observed * factor]
    return " (" + ", then ".join(f"{r:.3g}" for r in rungs) + ")"


def _a_rate(rate: float) -> float | None:
    """The rate, or None where it is none to try: 0 or not finite (a rate logged at 5e-324, scaled
    down, rounds to 0; one near the float's top, scaled up, overflows)."""
    return rate if math.isfinite(rate) and rate > 0 else None


def rate_models(sig: Signals, cfg: RecommendConfig) -> tuple[RateModel, RateModel]:
    """The (too high, too low) rate models fitted for this kind of log."""
    if cfg.rates is not None:
        return cfg.rates[log_kind(sig)]
    from lrdoctor._fitted import RATE_MODELS

    return RATE_MODELS[log_kind(sig)]


def _warmup_limit(findings: Sequence[Finding], sig: Signals, cfg: RecommendConfig) -> tuple[float, float] | None:
    """(the stability limit, the rate where the loss turned up) for a blow-up during warmup."""
    if sig.lr.warmup_end is None:
        return None
    for f in findings:
        # (skipped non-finite points suggest nothing: mixed precision's first steps overflow by design)
        if f.pathology == "divergence" and f.suggests == "too_high" and f.start_step <= sig.lr.warmup_end:
            at = sig.lr.at(f.start_step)
            if at is None:
                return None
            before = sig.lr.at(f.start_step - cfg.response_steps) if sig.unit == "step" else None
            if before is None or not 0 < before < at:
                return at, at
            # At most a decade below the turn: a blow-up in the first steps of a warmup from 1e-6
            # would otherwise be read at the ramp's first rate.
            return max(before, at / 10), at
    return None
