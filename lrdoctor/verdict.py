"""From findings to a verdict: which way the evidence points, and how strongly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lrdoctor.detect.curve import Curve
from lrdoctor.diagnosis import Finding, Verdict


@dataclass(frozen=True)
class VerdictConfig:
    # Strength from which a side wins; tuned leave-one-task-out on the corpus (BENCHMARKS.md).
    high: float = 0.5
    low: float = 0.4


def decide(curve: Curve | None, findings: Sequence[Finding], cfg: VerdictConfig) -> tuple[Verdict, float]:
    """The verdict and its confidence in [0, 1]."""
    high = max((f.strength for f in findings if f.suggests == "too_high"), default=0.0)
    low = max((f.strength for f in findings if f.suggests == "too_low"), default=0.0)
    if any(f.pathology == "divergence" and f.severity == "error" for f in findings):
        return "too_high", max(high, 0.9)
    if curve is None:
        return "unknown", 0.0
    if high >= cfg.high and high >= low:
        return "too_high", _confidence(high, cfg.high)
    if low >= cfg.low:
        return "too_low", _confidence(low, cfg.low)
    if any(f.pathology == "plateau" and f.suggests is None for f in findings):
        return "unknown", 0.0  # a flat line with no direction: too low, or dead, or a bug
    return "ok", _confidence(1.0 - max(high, low), 1.0 - min(cfg.high, cfg.low))


def _confidence(strength: float, threshold: float) -> float:
    """Strength rescaled so the threshold maps to 0.5 and full strength to 1."""
    if strength >= threshold:
        return 0.5 + 0.5 * (strength - threshold) / max(1.0 - threshold, 1e-9)
    return 0.5 * strength / max(threshold, 1e-9)
