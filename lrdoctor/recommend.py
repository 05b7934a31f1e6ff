"""A corrected learning rate from the log alone, and what it rests on.

- Too high, with a recorded warmup during which the loss blew up: the rate at the blow-up is
  the stability limit; recommend a margin below it.
- Otherwise the distance to a good rate, in decades, is read off the same shape statistics the
  verdict uses (how much of its loss the run shed, how early, how rough, whether it went
  non-finite...) by a ridge regression per side, fitted on the labelled corpus
  (``benchmarks/accuracy.py``; leave-one-task-out figures in BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lrdoctor.detect import Signals
from lrdoctor.diagnosis import Finding, Verdict


@dataclass(frozen=True)
class RateModel:
    """log10 of the correction factor = weights @ [1, standardised features]."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]


@dataclass(frozen=True)
class RecommendConfig:
    warmup_margin: float = 3.0  # below the stability limit seen in warmup
    high: RateModel | None = None  # None: the fitted models in lrdoctor/_fitted.py
    low: RateModel | None = None
    # The correction is kept within half a decade and 3.5 decades: the corpus's non-ok runs
    # sit 0.5 to 5.5 decades from the best rate, most within 3.
    min_decades: float = 0.5
    max_decades: float = 3.5


@dataclass(frozen=True)
class Recommendation:
    lr: float | None
    factor: float | None  # recommended / observed
    basis: str


def rate_features(sig: Signals, findings: Sequence[Finding]) -> np.ndarray:
    """The verdict's features, and whether the loss went non-finite (its curve may be too short to have any)."""
    from lrdoctor.verdict import FEATURES, features

    nonfinite = any(f.pathology == "divergence" and "nonfinite" in f.evidence for f in findings)
    base = features(sig, findings) if sig.curve is not None and sig.shape is not None else np.zeros(len(FEATURES))
    return np.concatenate([base, [float(sig.curve is None), float(nonfinite)]])


def decades(x: np.ndarray, model: RateModel, cfg: RecommendConfig) -> float:
    z = (x - np.asarray(model.mean)) / np.asarray(model.scale)
    value = float(np.asarray(model.weights) @ np.concatenate([[1.0], z]))
    return min(max(value, cfg.min_decades), cfg.max_decades)


def recommend(
    verdict: Verdict, observed: float | None, sig: Signals, findings: Sequence[Finding], cfg: RecommendConfig
) -> Recommendation:
    from lrdoctor._fitted import HIGH_RATE, LOW_RATE

    if verdict == "ok":
        return Recommendation(observed, 1.0, "the run looks healthy: keep the rate")
    if verdict == "unknown":
        return Recommendation(None, None, "not enough evidence to recommend a rate")
    if verdict == "too_high":
        limit = _warmup_limit(findings, sig)
        if limit is not None:
            rate = limit / cfg.warmup_margin
            return Recommendation(
                rate,
                rate / observed if observed else None,
                f"the loss blew up during warmup at lr {limit:.3g} (the stability limit); "
                f"{cfg.warmup_margin:g}x below it",
            )
    x = rate_features(sig, findings)
    if verdict == "too_high":
        factor = 10 ** -decades(x, cfg.high or HIGH_RATE, cfg)
        basis = f"{1 / factor:.3g}x lower: what corpus runs that failed like this one needed"
    else:
        factor = 10 ** decades(x, cfg.low or LOW_RATE, cfg)
        basis = f"{factor:.3g}x higher: how little of its loss the run shed, and how late"
    return Recommendation(observed * factor if observed else None, factor, basis)


def _warmup_limit(findings: Sequence[Finding], sig: Signals) -> float | None:
    if sig.lr.warmup_end is None:
        return None
    for f in findings:
        if f.pathology == "divergence" and f.start_step <= sig.lr.warmup_end:
            return sig.lr.at(f.start_step)
    return None
