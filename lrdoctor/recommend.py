"""A corrected learning rate from the log alone, and what it rests on.

- Too high, with a recorded warmup during which the loss blew up: the rate at the blow-up is
  the stability limit; recommend a margin below it.
- Too high otherwise: divide by a factor that grows with the damage (a spike or plateau above
  the run's best: one half-decade; divergence: more, the earlier it came).
- Too low: the less of its starting loss the run shed, and the later it made its progress,
  the further below the right rate it was.
The factors are calibrated leave-one-task-out on the corpus (BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lrdoctor.detect.curve import Curve
from lrdoctor.detect.lr import LrEvents
from lrdoctor.diagnosis import Finding, Verdict


@dataclass(frozen=True)
class RecommendConfig:
    warmup_margin: float = 3.0  # below the stability limit seen in warmup
    # Too high: the factor to divide by, by the strongest evidence (medians of what corpus runs
    # needed; refitted leave-one-task-out in benchmarks/accuracy.py).
    high_mild: float = 10**1.0  # plateau above best, early plateau, oscillation, spikes
    high_nonfinite: float = 10**1.5  # NaN/Inf
    high_diverged: float = 10**1.5  # explosion, ended above start, dead network
    # Too low: log10 of the factor to multiply by = a + b * drop + c * t90 (least squares on
    # the corpus's too-low runs), where drop is the relative decrease start -> end.
    low_a: float = 4.43
    low_b: float = -1.89
    low_c: float = -1.57
    low_min: float = 0.5
    low_max: float = 3.5


@dataclass(frozen=True)
class Recommendation:
    lr: float | None
    factor: float | None  # recommended / observed
    basis: str


def recommend(
    verdict: Verdict,
    observed: float | None,
    curve: Curve | None,
    findings: Sequence[Finding],
    lr: LrEvents,
    cfg: RecommendConfig,
) -> Recommendation:
    if verdict == "ok":
        return Recommendation(observed, 1.0, "the run looks healthy: keep the rate")
    if verdict == "unknown":
        return Recommendation(None, None, "not enough evidence to recommend a rate")
    if verdict == "too_high":
        limit = _warmup_limit(findings, lr)
        if limit is not None:
            rate = limit / cfg.warmup_margin
            factor = rate / observed if observed else None
            return Recommendation(
                rate,
                factor,
                f"the loss blew up during warmup at lr {limit:.3g} (the stability "
                f"limit); {cfg.warmup_margin:g}x below it",
            )
        divisor, why = _high_factor(findings, cfg)
        factor = 1.0 / divisor
        basis = f"{divisor:.3g}x lower, the typical correction for runs with {why}"
    else:
        factor, basis = _low_factor(curve, cfg)
    return Recommendation(observed * factor if observed else None, factor, basis)


def _warmup_limit(findings: Sequence[Finding], lr: LrEvents) -> float | None:
    if lr.warmup_end is None:
        return None
    for f in findings:
        if f.pathology == "divergence" and f.start_step <= lr.warmup_end:
            return lr.at(f.start_step)
    return None


def _high_factor(findings: Sequence[Finding], cfg: RecommendConfig) -> tuple[float, str]:
    div = [f for f in findings if f.pathology == "divergence"]
    if not div:
        return cfg.high_mild, "a plateau, oscillation or spikes but no divergence"
    if "nonfinite" in div[0].evidence:
        return cfg.high_nonfinite, "a NaN/Inf loss"
    return cfg.high_diverged, "a diverging loss"


def low_log_factor(curve: Curve | None, t90: float, cfg: RecommendConfig) -> float:
    """log10 of the factor a too-low run's rate should grow by, from how little it achieved."""
    if curve is None:
        return cfg.low_min
    drop = (curve.start - curve.end) / max(abs(curve.start), 1e-12)
    drop = min(max(drop, 0.0), 1.0)
    return min(max(cfg.low_a + cfg.low_b * drop + cfg.low_c * t90, cfg.low_min), cfg.low_max)


def _low_factor(curve: Curve | None, cfg: RecommendConfig) -> tuple[float, str]:
    from lrdoctor.detect.shape import time_to

    t90 = time_to(curve, 0.9) if curve is not None else 1.0
    factor = 10 ** low_log_factor(curve, t90, cfg)
    return factor, f"{factor:.3g}x higher, from how little of its starting loss the run shed, and how late"
