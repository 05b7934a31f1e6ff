"""Detectors: one pure function per pathology over the arrays of one run.

Each takes :class:`Signals` (the metric's steps and values, its prepared :class:`Curve`, and
what the recorded learning rate did) and its frozen config, and returns findings. No I/O, no
pandas, no printing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from lrdoctor.detect.curve import LATE_AXES, Curve, prepare, starts_late
from lrdoctor.detect.divergence import UNRECOVERED, DivergenceConfig, detect_divergence, detect_val_nonfinite
from lrdoctor.detect.lr import LrEvents, faster_once_decayed, lr_events, warmup_share
from lrdoctor.detect.oscillation import OscillationConfig, detect_oscillation
from lrdoctor.detect.overfit import OverfitConfig, detect_overfitting
from lrdoctor.detect.plateau import PlateauConfig, detect_plateau
from lrdoctor.detect.shape import Shape, measure
from lrdoctor.detect.slow import SlowConfig, detect_slow, is_beneath_noise
from lrdoctor.detect.spikes import SpikeConfig, detect_spikes
from lrdoctor.diagnosis import Finding
from lrdoctor.run import axis_unit


@dataclass(frozen=True)
class DetectConfig:
    divergence: DivergenceConfig = field(default_factory=DivergenceConfig)
    plateau: PlateauConfig = field(default_factory=PlateauConfig)
    slow: SlowConfig = field(default_factory=SlowConfig)
    oscillation: OscillationConfig = field(default_factory=OscillationConfig)
    spikes: SpikeConfig = field(default_factory=SpikeConfig)
    overfitting: OverfitConfig = field(default_factory=OverfitConfig)


@dataclass(frozen=True)
class Signals:
    steps: np.ndarray
    values: np.ndarray
    curve: Curve | None
    shape: Shape | None
    lr: LrEvents
    val: Curve | None = None  # the validation loss, where the log has one
    val_shape: Shape | None = None
    # The first point comes after the first updates (:func:`starts_late`; see :func:`log_kind`).
    late_start: bool = False
    unit: str = "step"  # what a message calls a point of the x axis (lrdoctor.run.axis_unit)
    val_raw: tuple[np.ndarray, np.ndarray] | None = None  # the validation loss as logged, NaN/Inf included
    epoch_means: bool = False  # epoch means on an axis of steps (lrdoctor.run.Run.epoch_means)


def signals(
    steps: np.ndarray,
    values: np.ndarray,
    lr_steps: np.ndarray | None = None,
    lr_values: np.ndarray | None = None,
    *,
    val: tuple[np.ndarray, np.ndarray] | None = None,
    step_kind: str = "step",
    epoch_means: bool = False,
    late_start: bool | None = None,
) -> Signals:
    """What every detector reads. `step_kind` is the log's x axis; only a log of optimizer steps,
    or of epochs written within them, can tell that its first point came after the first updates.
    `late_start`: whether it did, where the log told (Run.late_start); None reads it off the steps."""
    curve = prepare(steps, values)
    lr = lr_events(lr_steps, lr_values, curve)
    shape = (
        None if curve is None else measure(curve, settled_after=lr.settled_after, first_decay=_first_decay(lr, curve))
    )
    val_curve = None if val is None else prepare(*_finite(*val), min_points=4)
    val_shape = None if val_curve is None else measure(val_curve)
    if late_start is None:
        late_start = step_kind in LATE_AXES and not epoch_means and starts_late(steps, epochs=step_kind == "epoch")
    return Signals(
        steps, values, curve, shape, lr, val_curve, val_shape, late_start, axis_unit(step_kind), val, epoch_means
    )


def _first_decay(lr: LrEvents, curve: Curve) -> float | None:
    """Where the first step decay came, as a share of the run (None: none recorded)."""
    if lr.step_decay is None or curve.steps[-1] <= curve.steps[0]:
        return None
    return (lr.step_decay[1] - float(curve.steps[0])) / float(curve.steps[-1] - curve.steps[0])


def _finite(steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The validation points with a finite value. A training loss is cut at its first NaN (what
    follows a divergence is not training); an evaluation that came out NaN or Inf (an overflow in
    half precision, an empty batch) says nothing of the evaluations after it."""
    keep = np.isfinite(values)
    return (steps, values) if keep.all() else (steps[keep], values[keep])


# What a log holds decides which fitted models judge it: without the first updates the first value
# is not the start level, and without a validation loss the validation statistics are missing; each
# kind has models fitted on the corpus's runs logged that way (BENCHMARKS.md, "Other logging cadences").
LOG_KINDS = ("val", "no-val", "late-val", "late-no-val")


def log_kind(sig: Signals) -> str:
    """One of LOG_KINDS: whether the log begins after the first updates, and whether it has a
    validation loss the statistics can read."""
    return ("late-" if sig.late_start else "") + ("val" if sig.val is not None else "no-val")


Detector = Callable[[Signals, DetectConfig], list[Finding]]

DETECTORS: dict[str, Detector] = {
    "divergence": lambda s, c: _divergence(s, c),
    "plateau": lambda s, c: detect_plateau(
        s.curve, s.shape, c.plateau, unit=s.unit, val=s.val, val_shape=s.val_shape, val_before_training=_val_from_0(s)
    ),
    "slow_convergence": lambda s, c: detect_slow(
        s.curve,
        s.shape,
        c.slow,
        *((s.val, s.val_shape) if _val_reads_progress(s) else (None, None)),
        annealed=faster_once_decayed(s.curve, s.lr),
        warming=(warmup_share(s.curve, s.lr) or 0.0) >= c.slow.warmup_share,
        levelled=(s.val, s.val_shape)
        if s.val is not None and s.val_shape is not None and len(s.val.y) >= c.slow.levelled_evals
        else None,
    ),
    "oscillation": lambda s, c: detect_oscillation(s.curve, s.shape, c.oscillation, s.lr, s.val, s.val_shape),
    "loss_spike": lambda s, c: detect_spikes(s.curve, s.shape, c.spikes, unit=s.unit),
    "overfitting": lambda s, c: detect_overfitting(
        s.curve, s.val, c.overfitting, unit=s.unit, evaluated_after_start=_means_of_epochs(s)
    ),
}


def _means_of_epochs(sig: Signals) -> bool:
    """Whether each training point is an epoch's mean (on an axis of epochs, or of steps): the first
    comes after an epoch of updates."""
    return sig.unit == "epoch" or sig.epoch_means


def _val_from_0(sig: Signals) -> bool:
    """Whether the validation loss was first evaluated on the untrained model: at step 0 of an axis
    of steps (on an axis of epochs, an epoch 0 can be the first epoch's end, as Keras numbers them).
    Stricter than the divergence detector's evaluation "before training" (at or before the first
    logged training point), which a log that begins late has after its first updates: a stuck
    loss's direction needs the model before any update."""
    return sig.val is not None and not _means_of_epochs(sig) and float(sig.val.steps[0]) <= 0


def _val_reads_progress(sig: Signals) -> bool:
    """Whether the validation loss can show progress the training loss hides in its noise: not
    where the log begins late (its first value is not the start) or the loss went non-finite."""
    return not sig.late_start and bool(np.isfinite(sig.values).all())


def _divergence(sig: Signals, cfg: DetectConfig) -> list[Finding]:
    found = detect_divergence(
        sig.curve,
        sig.shape,
        sig.steps,
        sig.values,
        cfg.divergence,
        val=sig.val,
        late_start=sig.late_start,
        epoch_means=_means_of_epochs(sig),
        unit=sig.unit,
    )
    if sig.val_raw is not None and not any("nonfinite" in f.evidence and f.severity == "error" for f in found):
        found += detect_val_nonfinite(*sig.val_raw, unit=sig.unit)
    return found


def detect_all(sig: Signals, cfg: DetectConfig) -> list[Finding]:
    return _without_contradicted([f for detect in DETECTORS.values() for f in detect(sig, cfg)])


def _without_contradicted(found: list[Finding]) -> list[Finding]:
    """Slow convergence read from the training loss's shape is dropped where another finding
    explains a loss still falling late:
    - the validation loss clearly climbed away from its best (overfitting, its trend
      STRONG_OVERFIT or more above its lowest level): the model is fitting its training data, and
      more steps or a higher rate would not bring the held-out loss down. A smaller climb can be a
      noisy validation curve's drift, beside a run that is too slow;
    - the loss blew up and came back only part of the way (lrdoctor.detect.divergence, UNRECOVERED
      in its evidence): its late fall, and the late timing of its progress, are its recovery from
      the blow-up, no sign of a rate too low (a character transformer at 30x its best rate rose
      12x during its warmup, sat at its unigram level and crept down as the cosine decayed)."""
    if not any(_explains_late_fall(f) for f in found):
        return found
    return [f for f in found if f.pathology != "slow_convergence" or is_beneath_noise(f)]


def _explains_late_fall(f: Finding) -> bool:
    if f.pathology == "overfitting":
        return f.evidence.get("trend_rise", 0.0) >= STRONG_OVERFIT
    return f.pathology == "divergence" and UNRECOVERED in f.evidence


STRONG_OVERFIT = 0.2
