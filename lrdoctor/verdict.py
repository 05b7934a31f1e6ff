"""From findings and shape statistics to a verdict, with a confidence.

Divergence settles it (too high). Otherwise the verdict comes from a multinomial logistic model
over a dozen shape statistics of the curve (how far it came down, how early, whether it is still
falling, how far above its own best it ended, how rough it is, what the detectors found). The
weights are fitted by ``benchmarks/accuracy.py`` on the labelled corpus, leave-one-task-out for
the reported figures and on the whole corpus for the shipped ones (BENCHMARKS.md); the "ok"
intercept is then raised until the false alarms on tasks left out of the fit meet the target, so
that the prior for "ok" is set for unseen tasks, not for the corpus. Its class probability is the
confidence. There is one such model per kind of log (:func:`lrdoctor.detect.log_kind`): a log
that begins after the first updates, or has no validation loss, is judged by a model fitted the
same way on the corpus's runs logged like that, since without the start level or the validation
curve the other statistics weigh differently (BENCHMARKS.md, "Other logging cadences").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from lrdoctor.detect import Signals, log_kind
from lrdoctor.detect.curve import MIN_POINTS, Curve
from lrdoctor.detect.lr import warmup_share
from lrdoctor.detect.plateau import STALLED
from lrdoctor.detect.shape import Shape
from lrdoctor.detect.slow import is_beneath_noise
from lrdoctor.detect.spikes import SpikeConfig, excursions
from lrdoctor.diagnosis import Finding, Verdict
from lrdoctor.run import fmt_step

CLASSES: tuple[Verdict, ...] = ("too_high", "ok", "too_low")
FEATURES = (
    "drop",  # (start - end) / |start|, clipped to [-1, 1]
    "t50",  # share of the run to make half of its progress
    "t90",  # ... and 90%
    "tail_slope",  # remaining slope over the tail, in spans per run, clipped to [-2, 2]
    "tail_tau",  # Kendall tau of the tail
    "given_back",  # (end - best) / span, clipped to [0, 2]
    "log_peak",  # log10(peak / start), clipped to [0, 3]
    "roughness",  # residual spread in the second half / span, clipped to [0, 2]
    "lag1",  # lag-1 autocorrelation of those residuals
    # points that jumped 8 sigmas of the run's own noise above the trend, in runs of at most 3,
    # capped at 5: a noisy early descent (minibatch noise grows with the loss) as much as spikes
    "jumps",
    "high",  # strongest detector evidence for too high
    "low",  # strongest detector evidence for too low
    "sparse",  # 1 for fewer than 50 points
    "has_val",  # 1 when a validation loss is logged; the val_* features are 0 otherwise
    # (how far the validation loss came down is left out: it says more about how low the task's
    # loss can go than about the rate, and leaving it out raised held-out-task macro-F1)
    "val_t90",  # as t90, for the validation loss
    "val_given_back",
    "val_tail_tau",
    "val_gap",  # (val end - train end) / |train start|, clipped to [-1, 1]
    "late_ratio",  # progress in the second half over progress in the first, clipped to [-1, 2]
    "tail_snr",  # decrease over the tail / point noise, clipped to [-5, 20]
)


@dataclass(frozen=True)
class VerdictModel:
    """Standardise the features, then softmax(weights @ [1, x]) over CLASSES."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[tuple[float, ...], ...]  # one row per class: intercept, then one per feature
    # The range of each feature over the runs the model was fitted on (None: no limit).
    lo: tuple[float, ...] | None = None
    hi: tuple[float, ...] | None = None


class _Standardised(Protocol):
    """A fitted linear model's standardisation (VerdictModel, RateModel)."""

    @property
    def mean(self) -> tuple[float, ...]: ...
    @property
    def scale(self) -> tuple[float, ...]: ...
    @property
    def lo(self) -> tuple[float, ...] | None: ...
    @property
    def hi(self) -> tuple[float, ...] | None: ...


def standardised(x: np.ndarray, model: _Standardised) -> np.ndarray:
    """The features in the model's units, each first held within the range it was fitted on: a
    linear model is not extrapolated to values its training runs never had (a statistic that was
    constant there, such as a validation loss that never ended above its best, would otherwise
    carry a weight fitted to rounding noise)."""
    if model.lo is not None and model.hi is not None:
        x = np.clip(x, np.asarray(model.lo), np.asarray(model.hi))
    return (x - np.asarray(model.mean)) / np.asarray(model.scale)


@dataclass(frozen=True)
class VerdictConfig:
    # One model per log kind (lrdoctor.detect.LOG_KINDS); None: VERDICT_MODELS in lrdoctor/_fitted.py.
    models: Mapping[str, VerdictModel] | None = None
    # Below this probability for the winning class the verdict is "unknown".
    min_confidence: float = 0.4
    # A training loss that came down less than this many sigmas of its own noise
    # (Shape.came_down) resolves no shape: its statistics are the noise's, and
    # unless a detector found a sign of this strength or more, the verdict is "unknown". Slow
    # convergence counts only by its sign of progress beneath the noise (read from the
    # validation loss): its other signs (a late t90, little drop) are the noisy trend's shape.
    resolved_sigmas: float = 3.0
    sign_strength: float = 0.5
    # A rate too high or too low that no finding points to stands only at this probability or
    # more; below it the verdict is "unknown" (a noisy healthy run's shape leans either way).
    unsupported_confidence: float = 0.9
    # A recorded rate that reached its peak only after this share of the log: the log is (nearly)
    # all warmup, and its loss has not yet been trained at the rate to judge ("unknown").
    warmup_share: float = 0.8
    # A rate too low that the validation loss confirms: slow convergence of this strength or more,
    # beside a validation loss of `confirmed_val_points` evaluations or more that fell at nearly
    # every one (Kendall tau at most `confirmed_val_tau`; over its last 30% from 12 evaluations
    # on, as the val_tail_tau statistic reads it) and took `confirmed_val_t90` of the run or more
    # to make 90% of its progress (it was still falling at the end), with no sign of a rate too
    # high, is too low whatever the model's lean.
    confirmed_slow: float = 0.8
    confirmed_val_points: int = 6
    confirmed_val_tau: float = -0.9
    confirmed_val_t90: float = 0.8


# A validation curve of fewer evaluations is read whole for its trend (too few for its last 30%).
VAL_TAIL_MIN = 12


def features(sig: Signals, findings: Sequence[Finding]) -> np.ndarray:
    assert sig.curve is not None and sig.shape is not None
    curve, shape = sig.curve, sig.shape
    scale = max(abs(curve.start), 1e-12)
    peak = curve.peak / curve.start if curve.start > 0 else 1.0
    jumps = jumps_over_run_noise(curve, shape)
    x = [
        _capped("drop", (curve.start - curve.end) / scale),
        shape.t50,
        shape.t90,
        _capped("tail_slope", shape.tail_slope),
        _clip(shape.tail_tau, -1, 1),
        _capped("given_back", (curve.end - curve.best) / curve.span),
        _capped("log_peak", math.log10(max(peak, 1e-12))),
        _capped("roughness", shape.roughness),
        _clip(shape.lag1, -1, 1),
        min(float(jumps), CAPS["jumps"][1]),
        max(SPIKES.per_spike * min(jumps, SPIKES.cap / SPIKES.per_spike), _strongest(findings, "too_high")),
        _strongest(findings, "too_low"),
        1.0 if len(curve.y) < 50 else 0.0,
        *_val_features(sig),
        _late_ratio(curve, shape.timed_until),
        _capped("tail_snr", shape.tail_slope * curve.span * (1 - shape.tail_from) / max(curve.noise, 1e-12)),
    ]
    return np.asarray(x, dtype=np.float64)


# The range each statistic is held to before the model reads it (a value at a bound stands for
# itself or beyond; :func:`explain` says so). Kendall's tau and the autocorrelation are in [-1, 1]
# by nature and are not listed.
CAPS: dict[str, tuple[float, float]] = {
    "drop": (-1.0, 1.0),
    "tail_slope": (-2.0, 2.0),
    "given_back": (0.0, 2.0),
    "log_peak": (0.0, 3.0),
    "roughness": (0.0, 2.0),
    "jumps": (0.0, 5.0),
    "val_given_back": (0.0, 2.0),
    "val_gap": (-1.0, 1.0),
    "late_ratio": (-1.0, 2.0),
    "tail_snr": (-5.0, 20.0),
}


# The jumps are counted as loss spikes are, but against the run's noise throughout: the loss_spike
# finding measures each point against the noise around it, so that a healthy run's noisy early
# descent is not reported as spikes; as a statistic for the verdict, the count against the run's
# noise carries that descent too, and the models were fitted with it (BENCHMARKS.md). Before the
# finding used the noise around each point, it was the finding's own count.
SPIKES = SpikeConfig()


def jumps_over_run_noise(curve: Curve, shape: Shape) -> int:
    if len(curve.y) < 20 or curve.noise <= 0:
        return 0
    first = int(np.searchsorted(curve.t, SPIKES.skip))
    return len(excursions(shape.zscores, curve.steps, SPIKES.z, SPIKES.max_width, first))


def _strongest(findings: Sequence[Finding], side: str) -> float:
    return max((f.strength for f in findings if f.suggests == side), default=0.0)


def _capped(name: str, x: float) -> float:
    return _clip(x, *CAPS[name])


def _late_ratio(curve: Curve, until: float = 1.0) -> float:
    """Progress in the second half over progress in the first, of the run before `until` (a
    recorded step decay: the drop after a cut is not the peak rate's progress)."""
    n = len(curve.trend) if until >= 1.0 else max(2, int(np.searchsorted(curve.t, until)))
    mid = float(curve.trend[n // 2])
    end = curve.end if until >= 1.0 else float(curve.trend[n - 1])
    first, second = curve.start - mid, mid - end
    if first <= 0:
        return CAPS["late_ratio"][1] if second > 0 else 0.0
    return _capped("late_ratio", second / first)


def _val_features(sig: Signals) -> list[float]:
    val, shape, curve = sig.val, sig.val_shape, sig.curve
    if val is None or shape is None or curve is None:
        return [0.0] * 5
    return [
        1.0,
        shape.t90,
        _capped("val_given_back", (val.end - val.best) / val.span),
        _clip(shape.all_tau if len(val.y) < VAL_TAIL_MIN else shape.tail_tau, -1, 1),
        _capped("val_gap", (val.end - curve.end) / max(abs(curve.start), 1e-12)),
    ]


def _clip(x: float, lo: float, hi: float) -> float:
    return float(min(max(x, lo), hi)) if math.isfinite(x) else 0.0


def probabilities(x: np.ndarray, model: VerdictModel) -> np.ndarray:
    z = standardised(x, model)
    logits = np.asarray(model.weights) @ np.concatenate([[1.0], z])
    e = np.exp(logits - logits.max())
    return e / e.sum()


def model_for(sig: Signals, cfg: VerdictConfig) -> VerdictModel:
    """The model fitted for this kind of log (:func:`lrdoctor.detect.log_kind`)."""
    if cfg.models is not None:
        return cfg.models[log_kind(sig)]
    from lrdoctor._fitted import VERDICT_MODELS

    return VERDICT_MODELS[log_kind(sig)]


def decide(sig: Signals, findings: Sequence[Finding], cfg: VerdictConfig) -> tuple[Verdict, float]:
    """The verdict and its confidence in [0, 1]."""
    curve, shape = sig.curve, sig.shape
    if any(_unmoved(f) for f in findings):
        return "unknown", 0.0  # non-finite before any update: not the rate's doing
    if any(f.pathology == "divergence" and f.severity == "error" for f in findings):
        return "too_high", max(0.9, max((f.strength for f in findings), default=0.0))
    if curve is None or shape is None:
        return "unknown", 0.0
    if any(f.pathology == "plateau" and f.suggests is None for f in findings):
        return "unknown", 0.0  # a flat line with no direction: too low, or dead, or a bug
    warm = _in_warmup(sig, cfg) is not None
    if warm and not _shows_too_high(findings):
        return "unknown", 0.0
    if _unresolved(sig, findings, cfg):
        return "unknown", 0.0
    p = probabilities(features(sig, findings), model_for(sig, cfg))
    k = int(np.argmax(p))
    stalled = _stalled(findings)
    if stalled > 0:
        return "too_high", max(float(p[CLASSES.index("too_high")]), stalled)
    # (never in a warm log: that showed a rate too high; where the model says too low itself, its
    # probability stands)
    confirmed = _confirmed_too_low(sig, findings, cfg)
    if confirmed > 0 and not (CLASSES[k] == "too_low" and p[k] >= cfg.min_confidence):
        return "too_low", max(float(p[CLASSES.index("too_low")]), confirmed)
    if p[k] < cfg.min_confidence or (p[k] < cfg.unsupported_confidence and _unsupported(CLASSES[k], findings)):
        return "unknown", 0.0  # (no confidence: the lean was too weak, or unsupported)
    if _against_the_findings(findings, CLASSES[k]):  # (which _against_the_training_loss, explained apart, implies)
        return "unknown", 0.0
    if _overfit_alone(sig, findings, CLASSES[k], cfg):
        return "unknown", 0.0
    if _ended_above_its_start(sig, findings, CLASSES[k]) or _blew_up_yet_slow(findings, CLASSES[k]):
        return "unknown", 0.0
    if warm and CLASSES[k] != "too_high":  # a loss that broke while the rate rose settles only that
        return "unknown", 0.0
    return CLASSES[k], float(p[k])


def _unmoved(f: Finding) -> bool:
    """A divergence error that points to no rate: a loss non-finite before any update."""
    return f.pathology == "divergence" and f.severity == "error" and f.suggests is None


def _stalled(findings: Sequence[Finding]) -> float:
    """The strength of a loss that stalled after an early fall (lrdoctor.detect.plateau, STALLED),
    or 0: its network learnt nothing after the first few percent of the run, a rate too high
    whatever the other statistics, which read as those of a run that converged early. None of
    the corpus's healthy runs stalled so (BENCHMARKS.md, "Stalled after an early fall")."""
    if _shows_too_low(findings):
        return 0.0
    return max((f.strength for f in findings if f.pathology == "plateau" and STALLED in f.evidence), default=0.0)


def _confirmed_too_low(sig: Signals, findings: Sequence[Finding], cfg: VerdictConfig) -> float:
    """The strength of a slow convergence the validation loss confirms (VerdictConfig.confirmed_slow),
    or 0."""
    val, shape = sig.val, sig.val_shape
    if val is None or shape is None or len(val.y) < cfg.confirmed_val_points or _shows_too_high(findings):
        return 0.0
    slow = max(
        (f.strength for f in findings if f.pathology == "slow_convergence" and f.severity == "warning"), default=0.0
    )
    tau = shape.all_tau if len(val.y) < VAL_TAIL_MIN else shape.tail_tau
    if slow < cfg.confirmed_slow or not tau <= cfg.confirmed_val_tau or shape.t90 < cfg.confirmed_val_t90:
        return 0.0
    return slow


def _against_the_training_loss(sig: Signals, findings: Sequence[Finding], verdict: Verdict, cfg: VerdictConfig) -> bool:
    """A rate too high that rests first on the validation loss (it ends far above the training loss,
    or climbs) where no finding points to it and a warning points the other way (the training loss
    still falling slowly): overfitting, which a run shows at any rate, against the training loss's
    own sign. The corpus's too-high runs that read so rest on their training loss."""
    return _high_on_the_validation_loss(sig, findings, verdict, cfg) and any(
        f.suggests == "too_low" and f.severity != "info" for f in findings
    )


def _high_on_the_validation_loss(
    sig: Signals, findings: Sequence[Finding], verdict: Verdict, cfg: VerdictConfig
) -> bool:
    """A rate too high that no finding on the training loss shows, resting first on a statistic
    of the validation loss."""
    if verdict != "too_high" or _shows_too_high(findings):
        return False
    first = next(iter(_reasons(sig, findings, verdict, cfg)), None)
    return first is not None and FEATURES[first].startswith("val_")


def _overfit_alone(sig: Signals, findings: Sequence[Finding], verdict: Verdict, cfg: VerdictConfig) -> bool:
    """A rate too high that rests first on the validation loss where overfitting is found and no
    sign on the training loss points to a rate too high: a Whisper fine-tune at 1e-5 whose training
    loss fell smoothly to 0.0002 while its validation loss rose 31% over 38 epochs had been told to
    lower its rate 44x. A model overfits at any rate; more epochs than the data bears is no rate."""
    return _high_on_the_validation_loss(sig, findings, verdict, cfg) and any(
        f.pathology == "overfitting" and f.severity != "info" for f in findings
    )


def _against_the_findings(findings: Sequence[Finding], verdict: Verdict) -> bool:
    """A rate too high read off the statistics alone where the only warnings point to a rate too
    low (a loss standing at its start, read off a log printed to two decimals: its rounding looks
    like progress undone). No run of the corpora reads so; a review's far-too-low run did."""
    return (
        verdict == "too_high"
        and not _shows_too_high(findings)
        and any(f.suggests == "too_low" and f.severity != "info" for f in findings)
    )


# A loss ending this share of its start above it, and two draws' noise (Curve.draw_noise), has not
# been trained by a rate too low, which moves it down however little.
ABOVE_START = 0.05


def _ended_above_its_start(sig: Signals, findings: Sequence[Finding], verdict: Verdict) -> bool:
    """A rate too low read off the statistics alone where the loss ended above its start: SGD at
    50x its best rate jumped 5x at its first updates and swung above its start to the end, short
    of every divergence rule, and was told to raise its rate 3160x."""
    curve = sig.curve
    if verdict != "too_low" or curve is None or _shows_too_low(findings) or not curve.start > 0:
        return False
    above = curve.end - curve.start
    return above > ABOVE_START * curve.start and above > 2 * curve.draw_noise


def _blew_up_yet_slow(findings: Sequence[Finding], verdict: Verdict) -> bool:
    """A rate too low read where the loss blew up (a divergence warning: it came back down part of
    the way): Adagrad at 3x its best rate blew up 10x at its first updates, then fell slowly from
    there, and was told to raise its rate 3160x. A blow-up is no sign of a rate too low, and the
    slow fall after it may be the wreck's."""
    return verdict == "too_low" and any(f.pathology == "divergence" and f.severity != "info" for f in findings)


def _shows_too_low(findings: Sequence[Finding]) -> bool:
    return any(f.suggests == "too_low" and f.severity != "info" for f in findings)


def _shows_too_high(findings: Sequence[Finding]) -> bool:
    return any(f.suggests == "too_high" and f.severity != "info" for f in findings)


def _in_warmup(sig: Signals, cfg: VerdictConfig) -> tuple[float, float] | None:
    """(where the recorded rate reached its peak, that share of the log), when the log is (nearly)
    all its warmup (a log of a run's first steps): its loss answers a rate still rising, and only
    a rate too high can be told, where a finding shows the loss broke before the peak."""
    share = warmup_share(sig.curve, sig.lr)
    if share is None or sig.lr.warmup_end is None:
        return None
    return (sig.lr.warmup_end, share) if share >= cfg.warmup_share else None


def _unsupported(verdict: Verdict, findings: Sequence[Finding]) -> bool:
    """A rate too high or too low that no finding points to: the statistics lean that way, but no
    detector found the pathology itself."""
    return verdict != "ok" and not any(f.suggests == verdict for f in findings)


# How each feature reads in a sentence (its value formatted in).
PHRASES = {
    "drop": "the loss came down {:.0%} from its start",
    "t50": "half of its progress took {:.0%} of the run",
    "t90": "90% of its progress took {:.0%} of the run",
    "tail_slope": "the trend over the last 30% still falls, at {:.2f}x its whole progress per run length",
    "tail_tau": "the loss was {} over the last 30% (Kendall tau {:.2f})",
    "given_back": "the loss ended {:.0%} of its progress above its best",
    "log_peak": "it peaked at 10^{:.1f} times its start",
    "roughness": "it swings around its trend by {:.0%} of its progress",
    "lag1": "its residuals have lag-1 autocorrelation {:.2f}",
    "jumps": "{:.0f} point(s) jumped 8 sigmas of the run's noise above its trend",
    "high": "the detectors' signs of a rate too high reach {:.2f} (of 1)",
    "low": "the detectors' signs of a rate too low reach {:.2f} (of 1)",
    "sparse": "it has few points",
    "has_val": "it logs a validation loss",
    "val_t90": "90% of the validation progress took {:.0%} of the run",
    "val_given_back": "the validation loss ended {:.0%} of its progress above its best",
    "val_tail_tau": "the validation loss was {} over the last 30% (Kendall tau {:.2f})",
    "val_gap": "the validation loss ends above the training loss by {:.0%} of the training loss's start",
    "late_ratio": "the second half made {:.0%} as much progress as the first",
    "tail_snr": "the last 30% fell by {:.1f} noise sigmas",
}


def _unresolved(sig: Signals, findings: Sequence[Finding], cfg: VerdictConfig) -> bool:
    """The loss did not come down beyond its own noise, and no detector found a clear sign."""
    assert sig.curve is not None and sig.shape is not None
    if sig.shape.came_down >= cfg.resolved_sigmas:
        return False
    return not any(
        f.suggests is not None
        and f.strength >= cfg.sign_strength
        and (f.pathology != "slow_convergence" or is_beneath_noise(f))
        for f in findings
    )


def explain(
    sig: Signals,
    findings: Sequence[Finding],
    verdict: Verdict,
    cfg: VerdictConfig,
    *,
    top: int = 2,
    against: bool = True,
) -> str:
    """The statistics that pushed the model most towards `verdict`, as a sentence; for "unknown",
    why no verdict was reached."""
    if verdict == "unknown":
        return _why_unknown(sig, findings, cfg)
    diverged = [f for f in findings if f.pathology == "divergence" and f.severity == "error"]
    if verdict == "too_high" and diverged:  # decide() weighs nothing else then
        said = (
            "which settles it"
            if "chance" not in diverged[0].evidence
            else "which points to the rate unless the data carry no signal"
        )
        return f"the run diverged, {said}: {' '.join(diverged[0].message.split())}"
    stalled = [f for f in findings if f.pathology == "plateau" and STALLED in f.evidence]
    if verdict == "too_high" and stalled:  # (decide() settles it on that finding too)
        return f"the loss stalled after an early fall, which settles it: {' '.join(stalled[0].message.split())}"
    if verdict not in CLASSES or sig.curve is None or sig.shape is None:
        return ""
    x = features(sig, findings)
    said = "; ".join(_said(sig, FEATURES[i], x[i]) for i in _reasons(sig, findings, verdict, cfg)[:top])
    return said + (_outweighed(findings, verdict) if against else "")


def _outweighed(findings: Sequence[Finding], verdict: Verdict) -> str:
    """Where a warning below points another way than the verdict (an oscillation beside an ok), that
    it did not weigh enough to change it: a user reads the two side by side."""
    against = list(
        dict.fromkeys(f.pathology for f in findings if f.severity == "warning" and f.suggests not in (None, verdict))
    )
    if not against:
        return ""
    names = " and ".join(p.replace("_", " ") for p in against)
    return f"; the {names} warning{'s' if len(against) > 1 else ''} below did not weigh enough to change it"


def _said(sig: Signals, name: str, value: float) -> str:
    """The feature's sentence for this run: a validation loss whose best was its first evaluation
    made no progress to give back a share of ('ended 200% of its progress above its best')."""
    if name == "val_given_back" and value >= 0.005 and sig.val is not None and sig.val.best_t <= 0:
        return "the validation loss ended above its first evaluation, its best"
    if name == "val_tail_tau" and sig.val is not None and len(sig.val.y) < VAL_TAIL_MIN:  # (read whole: features)
        return _phrase(name, value).replace("over the last 30%", f"over its {len(sig.val.y)} evaluations")
    return _phrase(name, value)


def _reasons(sig: Signals, findings: Sequence[Finding], verdict: Verdict, cfg: VerdictConfig) -> list[int]:
    """The features that pushed the model towards `verdict`, most first (indices into FEATURES)."""
    model = model_for(sig, cfg)
    x = features(sig, findings)
    z = standardised(x, model)
    w = np.asarray(model.weights)[:, 1:]
    k = CLASSES.index(verdict)
    push = (w[k] - np.delete(w, k, axis=0).mean(axis=0)) * z
    if sig.val is None:  # the validation statistics are placeholders, not measurements
        push[[i for i, name in enumerate(FEATURES) if name.startswith("val_")]] = 0.0
    # A yes/no statistic is said only when it holds ("it has few points" of a 1000-point log is false).
    push[[i for i, name in enumerate(FEATURES) if name in ("sparse", "has_val") and x[i] == 0]] = 0.0
    # A sign of one side is no reason for another verdict, and its absence none for its own: the
    # model's weights can credit "ok" with a detector's strength where "too low" weighs it less.
    push[
        [i for i, name in enumerate(FEATURES) if name in SIDED and (x[i] > SIDED_ABSENT) != (verdict == SIDED[name])]
    ] = 0.0
    return [int(i) for i in np.argsort(push)[::-1] if push[i] > 0]


# Statistics that, where present (above SIDED_ABSENT), point to one side only.
SIDED: dict[str, Verdict] = {"high": "too_high", "low": "too_low", "jumps": "too_high", "log_peak": "too_high"}
SIDED_ABSENT = 0.005


def _why_unknown(sig: Signals, findings: Sequence[Finding], cfg: VerdictConfig) -> str:
    """Why no verdict was reached, for each way :func:`decide` gets to "unknown"."""
    unmoved = next((f for f in findings if _unmoved(f)), None)
    if unmoved is not None:
        return " ".join(unmoved.message.split())
    if sig.curve is None or sig.shape is None:
        finite = int(np.isfinite(sig.values).sum())
        return f"{finite} finite point(s) are too few to read a shape from (at least {MIN_POINTS} are needed)"
    if any(f.pathology == "plateau" and f.suggests is None for f in findings):
        return (
            "the loss is a flat line from its start: a rate far too low, a network that cannot learn "
            "and a loop that never updates the weights look alike"
        )
    warm = _in_warmup(sig, cfg)
    if warm is not None:
        return (
            f"the rate was still warming up: it reached its peak only at {sig.unit} {fmt_step(warm[0])}, "
            f"{min(warm[1], 1.0):.0%} of the way through the log, so the loss has not yet been trained at the rate "
            "to judge"
            + ("; its signs of a rate too high did not settle it" if _shows_too_high(findings) else "")
            + "; diagnose a log that goes on past the warmup"
        )
    if _unresolved(sig, findings, cfg):
        sigmas = sig.shape.came_down
        moved = (
            f"the loss came down only {sigmas:.1f} sigmas of its own noise (its minibatch scatter)"
            if math.isfinite(sigmas) and sigmas >= 0.05
            else "the loss did not come down beyond its own noise (its minibatch scatter)"
        )
        return (
            f"{moved}: too little movement to tell a rate far too low from a loss already at its floor, "
            "and no other detector found a clear sign"
        )
    p = probabilities(features(sig, findings), model_for(sig, cfg))
    lean = CLASSES[int(np.argmax(p))]
    if cfg.min_confidence <= p.max() < cfg.unsupported_confidence and _unsupported(lean, findings):
        because = explain(sig, findings, lean, cfg, against=False)  # (a lean, not a verdict)
        bar = cfg.unsupported_confidence
        shown = max(2, len(f"{bar:g}".partition(".")[2]))  # the bar in as many digits as it was given
        return (
            f"the statistics lean to {lean.replace('_', ' ')} ({_below(float(p.max()), bar, shown)}: {because}), "
            f"but no detector found a sign of it, and without one lrdoctor gives a verdict only at confidence "
            f"{bar:.{shown}f} or more"
        )
    if p.max() >= cfg.min_confidence and _against_the_training_loss(sig, findings, lean, cfg):
        against = next(f for f in findings if f.suggests == "too_low" and f.severity != "info")
        because = explain(sig, findings, lean, cfg, against=False)  # (a lean, not a verdict)
        return (
            f"the statistics lean to too high ({p.max():.2f}) on the validation loss ({because}), "
            f"while the training loss shows {against.pathology.replace('_', ' ')}, a sign of a rate too low: a model "
            "that overfits does so at any rate, so the validation loss alone does not settle it"
        )

    def leaning() -> str:
        return f"the statistics lean to {lean.replace('_', ' ')} ({p.max():.2f}: {explain(sig, findings, lean, cfg)})"

    if p.max() >= cfg.min_confidence:  # a lean strong enough, set aside by a rule: which one, and why
        disagreement = _set_aside(sig, findings, lean, cfg)
        if disagreement:
            return f"{leaning()}, {disagreement}"
    # The bar in as many digits as it was given (two at least); the probabilities in as many more as
    # it takes for the winner not to round up to the bar it missed.
    bar = cfg.min_confidence
    shown = max(2, len(f"{bar:g}".partition(".")[2]))
    digits = shown
    while digits < 6 and round(float(p.max()), digits) >= bar:
        digits += 1
    # past six digits, any that would round up to the bar it missed is cut instead
    shown_p = [math.floor(v * 10**digits) / 10**digits if round(v, digits) >= bar else v for v in map(float, p)]
    split = ", ".join(f"{name.replace('_', ' ')} {shown_p[i]:.{digits}f}" for i, name in enumerate(CLASSES))
    return f"the evidence is split ({split}); a verdict needs {bar:.{shown}f}"


def _set_aside(sig: Signals, findings: Sequence[Finding], lean: Verdict, cfg: VerdictConfig) -> str:
    """Why a lean past the confidence bar was set aside by one of decide()'s rules ("" if none was)."""
    if _overfit_alone(sig, findings, lean, cfg):
        return (
            "resting on the validation loss, which the overfitting found explains: a model overfits at any rate, "
            "and nothing on the training loss points to a rate too high"
        )
    if _against_the_findings(findings, lean):
        against = next(f for f in findings if f.suggests == "too_low" and f.severity != "info")
        return (
            f"while the {against.pathology.replace('_', ' ')} found is a sign of a rate too low and no finding "
            "shows one too high: the evidence disagrees"
        )
    if _ended_above_its_start(sig, findings, lean):
        curve = sig.curve
        assert curve is not None
        return (
            f"but the loss ended above where it started ({curve.start:.4g} -> {curve.end:.4g}), which a rate too low "
            "does not do: the evidence disagrees (a rate too high can leave a loss swinging above its start; no "
            "divergence rule settled it)"
        )
    if _blew_up_yet_slow(findings, lean):
        blow = next(f for f in findings if f.pathology == "divergence" and f.severity != "info")
        return (
            f"but the loss blew up ({sig.unit} {fmt_step(blow.start_step)} on), which a rate too low does not do: "
            "the evidence disagrees (the slow fall may be what the blow-up left)"
        )
    return ""


def _below(p: float, bar: float, digits: int = 2) -> str:
    """`p` in `digits` digits or more: as many as it takes not to round up to the bar it missed."""
    while digits < 6 and round(p, digits) >= bar:
        digits += 1
    return f"{math.floor(p * 10**digits) / 10**digits if round(p, digits) >= bar else p:.{digits}f}"


# Sentences for values the general one reads badly: none found, a drop that is a rise, a rising trend.
def _near_zero(v: float) -> bool:
    return abs(v) < 0.005  # (what reads as 0%)


SPECIAL = {
    "high": (lambda v: v < 0.005, "no detector found a sign of a rate too high"),
    "low": (lambda v: v < 0.005, "no detector found a sign of a rate too low"),
    "jumps": (lambda v: v < 0.005, "no point jumped 8 sigmas of the run's noise above its trend"),
    # (a share that reads as 0% is said as what it means: "ended 0% of its progress above its best")
    "given_back": (_near_zero, "the loss ended at its best"),
    "val_given_back": (_near_zero, "the validation loss ended at its best"),
    "roughness": (_near_zero, "it swings around its trend by under 1% of its progress"),
    "t50": (_near_zero, "half of its progress took under 1% of the run"),
    "t90": (_near_zero, "90% of its progress took under 1% of the run"),
    "val_t90": (_near_zero, "90% of the validation progress took under 1% of the run"),
    "drop": (lambda v: v < 0, "the loss ended {:.0%} above its start"),
    "tail_slope": (lambda v: v < 0, "the trend over the last 30% rises, at {:.2f}x its whole progress per run length"),
    "val_gap": (
        lambda v: v < 0,
        "the validation loss ends below the training loss by {:.0%} of the training loss's start",
    ),
}


def _trend_word(tau: float) -> str:
    """What a trend's Kendall tau says of it, in words."""
    if tau <= -0.6:
        return "still falling steadily"
    if tau <= -0.2:
        return "still falling, unsteadily"
    if tau < 0.2:
        return "level"
    return "rising" if tau < 0.6 else "rising steadily"


def _phrase(name: str, value: float) -> str:
    """The feature's sentence; a value held at a bound of CAPS reads as "or more" ("or less")."""
    special = SPECIAL.get(name)
    flipped = special is not None and special[0](value)  # said of its size: "above", "rises"
    shown = 0.0 if abs(value) < 0.005 else value  # (no "-0%")
    if name in ("tail_tau", "val_tail_tau"):  # a bare tau reads as nothing: said as the trend it measures
        text = PHRASES[name].format(_trend_word(value), shown)
    elif special is not None and flipped:
        text = special[1].format(abs(shown))
    else:
        text = PHRASES[name].format(shown)
    lo, hi = CAPS.get(name, (-math.inf, math.inf))
    if value >= hi:
        text += " (or more)"
    elif value <= lo and lo != 0:
        text += " (or more)" if flipped else " (or less)"
    return text
