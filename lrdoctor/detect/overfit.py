"""Overfitting: the validation loss climbs away from its best while the training loss keeps falling.

It points at the number of steps (or the regularisation) more than at the rate: of the 47 runs
of the corpus and of the tasks never fitted on that show it, 30 are labelled ok (17 on one task,
the wine MLP), 17 too high and none too low (BENCHMARKS.md, "Findings by label"), so the finding
suggests no direction and the verdict does not read it. What it adds is where the best weights
were, which the user can act on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrdoctor import stats
from lrdoctor.detect.curve import Curve
from lrdoctor.diagnosis import Finding
from lrdoctor.run import fmt_share, fmt_step


@dataclass(frozen=True)
class OverfitConfig:
    # Validation points from its best to the end: fewer cannot show a rising trend.
    min_points: int = 4
    # The rise after the best must be a trend (Kendall tau of those points) ...
    p_value: float = 0.05
    # ... and large: the last level this share or more above the best level, and above the trend's
    # lowest level.
    min_rise: float = 0.05
    # Meanwhile the training loss fell by at least this share of its level at the validation best
    # (of its progress, span, where that level is not positive).
    min_train_fall: float = 0.1


def detect_overfitting(
    train: Curve | None,
    val: Curve | None,
    cfg: OverfitConfig,
    *,
    unit: str = "step",
    evaluated_after_start: bool = False,
) -> list[Finding]:
    """The climb is measured from the lowest logged evaluation (the checkpoint a user would keep),
    to the validation loss's end level (the median of its last tenth), as a share of the best
    level; for a loss that is not positive at its best (a log-likelihood can be negative), as a
    share of the progress the validation loss had made from its start (its span: at least 1% of
    its start level and its noise, so that one lowest at its first point has a scale too). The
    climb must show in the trend too (from its lowest level to the end level): one evaluation that
    came out low in a flat validation curve is no best to climb from.

    `evaluated_after_start`: an evaluation at the first training point came after training began
    (epoch means, an evaluation at the end of each epoch), so one lowest there is a best, not the
    level before training; one before the first training point is still that level."""
    if train is None or val is None:
        return []
    k = int(np.argmin(val.y))
    best, at = float(val.y[k]), float(val.steps[k])
    if k == 0 and (at < train.steps[0] or (at == train.steps[0] and not evaluated_after_start)):
        return []  # never better than before training: a rate that made it worse, not overfitting
    steps, y = val.steps[k:], val.y[k:]
    if len(y) < cfg.min_points:
        return []
    of_level = best > 0
    rise = (val.end - best) / (best if of_level else val.span)
    climb = val.end - val.best  # from the trend's lowest level
    trend_rise = climb / (val.best if val.best > 0 else val.span)
    tau, p = stats.kendall_tau(steps, y)
    if not (rise >= cfg.min_rise and trend_rise >= cfg.min_rise and tau > 0 and p <= cfg.p_value):
        return []
    i = min(int(np.searchsorted(train.steps, at)), len(train.trend) - 1)
    level = float(train.trend[i])
    fall = (level - train.end) / (level if level > 0 else train.span)
    if fall < cfg.min_train_fall:
        return []
    if of_level:
        how = f"+{100 * rise:.0f}%" if rise < 9 else f"{1 + rise:.3g} times"
    else:  # a share of its progress, where it made any before its best
        how = fmt_share(rise, "its progress") if val.start - best >= 0.01 * abs(val.start) else ""
    return [
        Finding(
            "overfitting",
            "warning",
            at,
            float(steps[-1]),
            f"validation loss rose from its best, {best:.4g} at {unit} {fmt_step(at)}, to {val.end:.4g}"
            + (f" ({how})" if how else "")
            + f", steadily (Kendall tau {tau:.2f}), while the training loss fell {100 * fall:.0f}% further: "
            "the model fits its training data at the cost of held-out data",
            {
                "val_best_step": at,
                "val_best": best,
                "val_end": val.end,
                "rise": rise,
                "trend_rise": trend_rise,
                "rise_of": "best" if of_level else "progress",
                "train_fall": fall,
                "kendall_tau": tau,
                "p_value": p,
            },
        )
    ]
