"""Overfitting: the validation loss climbs away from its best while the training loss keeps falling.

It points at the number of steps (or the regularisation) more than at the rate: of the 45 runs
of the corpus and of the tasks never fitted on that show it, 25 are labelled ok, 20 too high and
none too low (BENCHMARKS.md, "Findings by label"), so the finding suggests no direction and the
verdict does not read it. What it adds is where the best weights were, which the user can act on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrdoctor import stats
from lrdoctor.detect.curve import Curve
from lrdoctor.diagnosis import Finding


@dataclass(frozen=True)
class OverfitConfig:
    # Validation points from its best to the end: fewer cannot show a rising trend.
    min_points: int = 4
    # The rise after the best must be a trend (Kendall tau of those points) ...
    p_value: float = 0.05
    # ... and large: the last level this share or more above the best level.
    min_rise: float = 0.05
    # Meanwhile the training loss fell by at least this share of its level at the validation best.
    min_train_fall: float = 0.1


def detect_overfitting(train: Curve | None, val: Curve | None, cfg: OverfitConfig) -> list[Finding]:
    if train is None or val is None or val.best <= 0:
        return []
    after = val.t >= val.best_t
    steps, y = val.steps[after], val.y[after]
    if len(y) < cfg.min_points:
        return []
    rise = (val.end - val.best) / val.best
    tau, p = stats.kendall_tau(steps, y)
    if not (rise >= cfg.min_rise and tau > 0 and p <= cfg.p_value):
        return []
    at = float(steps[0])
    i = min(int(np.searchsorted(train.steps, at)), len(train.trend) - 1)
    level = float(train.trend[i])
    if level <= 0:
        return []
    fall = (level - train.end) / level
    if fall < cfg.min_train_fall:
        return []
    return [
        Finding(
            "overfitting",
            "warning",
            at,
            float(steps[-1]),
            f"validation loss rose {100 * rise:.0f}% above its best (step {at:g}; Kendall tau {tau:.2f}) "
            f"while the training loss fell {100 * fall:.0f}% further: the model fits its training data "
            "at the cost of held-out data",
            {
                "val_best_step": at,
                "val_best": val.best,
                "val_end": val.end,
                "rise": rise,
                "train_fall": fall,
                "kendall_tau": tau,
                "p_value": p,
            },
        )
    ]
