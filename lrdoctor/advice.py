"""Schedule advice, where the findings and the recorded learning rate support it.

- The loss diverged or spiked only in the first steps, with no warmup recorded: add a warmup.
- It diverged during a recorded warmup: the peak is past the stability limit; lower the peak.
- Steady progress turned into a plateau or oscillation after step k, at a constant rate: decay there.
- The validation loss climbed away from its best while the training loss kept falling: keep the
  weights from its best step (early stopping) or regularise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lrdoctor.detect import Signals
from lrdoctor.diagnosis import Finding


@dataclass(frozen=True)
class AdviceConfig:
    early: float = 0.1  # "the first steps": this share of the run
    warmup_share: float = 0.05  # suggested warmup length, as a share of the run (a common default)
    decay_factor: float = 10.0  # decay to a tenth of the rate, the usual step-decay factor


def advise(sig: Signals, findings: Sequence[Finding], recommended: float | None, cfg: AdviceConfig) -> list[str]:
    curve = sig.curve
    first = float(sig.steps[0]) if len(sig.steps) else 0.0
    last = float(sig.steps[-1]) if len(sig.steps) else 0.0
    length = max(last - first, 1.0)
    early = [
        f
        for f in findings
        if f.pathology in ("divergence", "loss_spike") and f.start_step - first <= cfg.early * length
    ]
    out = []
    peak = f" to {recommended:.3g}" if recommended else ""
    if early and sig.lr.warmup_end is None and sig.lr.steps is not None:
        steps = max(int(cfg.warmup_share * length), 1)
        out.append(f"the trouble starts in the first {sig.unit}s: add a linear warmup over ~{steps} {sig.unit}s{peak}")
    elif early and sig.lr.warmup_end is not None and early[0].start_step <= sig.lr.warmup_end:
        rate = sig.lr.at(early[0].start_step)
        if rate is not None:
            out.append(f"the loss broke during warmup at lr {rate:.3g}: keep the warmup but end it below that")
    constant = sig.lr.steps is not None and sig.lr.last_decay is None and sig.lr.warmup_end is None
    stalled = [f for f in findings if f.pathology in ("plateau", "oscillation") and f.suggests == "too_high"]
    if constant and stalled and curve is not None and not early:
        at = stalled[0].start_step
        lr_now = sig.lr.at(at)
        to = f" to {lr_now / cfg.decay_factor:.3g}" if lr_now else ""
        out.append(
            f"progress stalls from {sig.unit} {at:g} at a constant rate: "
            f"decay the rate there{to} (step decay or cosine)"
        )
    for f in findings:
        if f.pathology == "overfitting":
            out.append(
                f"the validation loss was lowest at {sig.unit} {f.start_step:g}: keep the weights from there "
                "(early stopping) or regularise (weight decay, dropout, more data), whatever the rate"
            )
    return out
