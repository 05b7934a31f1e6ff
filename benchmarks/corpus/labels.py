"""Labels from measurement: which rate of a sweep is best, and where each run sits against it.

A sweep is the runs of one (task, optimizer, schedule) over a grid of learning rates. A run's
final validation loss is the mean of its last LAST_EVALS evaluations, +inf if any loss it logged
is non-finite. A rate's score is the mean over its seeds (+inf if any seed failed); the best
rate has the lowest score. A run is ``ok`` when it got at least (1 - TAU) of the improvement the
best rate achieved from the same starting loss, else ``too_high`` / ``too_low`` by which side of
the best rate it lies on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LabelConfig:
    # A run is ok when (L - L_best) <= tau * (L_init - L_best): it got 90% of the achievable
    # improvement. Half a decade off the best usually loses a few percent of it; a rate that loses
    # more than a tenth is one a practitioner would change.
    tau: float = 0.1
    # Final validation loss = mean of the last evaluations, to damp evaluation noise.
    last_evals: int = 3
    # Diverged also means a finite final training loss (mean of the last epoch) above
    # this multiple of the initial loss: the run ended worse than it started, by a wide margin.
    diverge_factor: float = 1.5


CONFIG = LabelConfig()


def final_val(val_loss: Sequence[float], *, cfg: LabelConfig = CONFIG) -> float:
    """Mean of the last `cfg.last_evals` validation losses; +inf when any is non-finite."""
    if not val_loss or not all(math.isfinite(v) for v in val_loss):
        return math.inf
    tail = val_loss[-cfg.last_evals :]
    return sum(tail) / len(tail)


def final_train(train_loss: Sequence[float], *, window: int) -> float:
    """Mean of the last `window` minibatch losses (one epoch); +inf when any is non-finite."""
    tail = train_loss[-window:]
    if not tail or not all(math.isfinite(v) for v in tail):
        return math.inf
    return sum(tail) / len(tail)


def is_diverged(
    train_loss: Sequence[float],
    val_loss: Sequence[float],
    *,
    init_loss: float,
    window: int,
    cfg: LabelConfig = CONFIG,
) -> bool:
    """Any non-finite loss, or a final training loss far above the initial loss."""
    if not all(math.isfinite(v) for v in [*train_loss, *val_loss]):
        return True
    return final_train(train_loss, window=window) > cfg.diverge_factor * init_loss


def rate_scores(finals: Mapping[float, Sequence[float]]) -> dict[float, float]:
    """Per rate, the mean final validation loss over its seeds; +inf if any seed failed."""
    return {lr: (math.inf if any(math.isinf(v) for v in vs) else sum(vs) / len(vs)) for lr, vs in finals.items()}


def best_rate(scores: Mapping[float, float]) -> float:
    """The rate with the lowest score (the lower rate on a tie)."""
    finite = {lr: s for lr, s in scores.items() if math.isfinite(s)}
    if not finite:
        raise ValueError("every rate of the sweep failed; widen the grid downwards")
    return min(finite, key=lambda lr: (finite[lr], lr))


def neighbours(rates: Sequence[float], best: float) -> list[float]:
    """The best rate and the grid rates on either side of it."""
    ordered = sorted(rates)
    i = ordered.index(best)
    return ordered[max(0, i - 1) : i + 2]


def label(*, lr: float, final: float, init: float, best_lr: float, best_val: float, cfg: LabelConfig = CONFIG) -> str:
    """'ok', 'too_high' or 'too_low' for one run against its sweep's best rate."""
    if lr == best_lr or final - best_val <= cfg.tau * (init - best_val):
        return "ok"
    return "too_high" if lr > best_lr else "too_low"
