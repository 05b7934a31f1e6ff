"""Findings and the diagnosis of one run: what was found, the verdict, the rate to use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from lrdoctor.run import Run

if TYPE_CHECKING:
    from lrdoctor.detect import DetectConfig
    from lrdoctor.probe.result import ProbeResult
    from lrdoctor.recommend import RecommendConfig
    from lrdoctor.verdict import VerdictConfig

Verdict = Literal["too_high", "too_low", "ok", "unknown"]
Severity = Literal["error", "warning", "info"]
PATHOLOGIES = ("divergence", "oscillation", "plateau", "slow_convergence", "loss_spike", "overfitting")


@dataclass(frozen=True)
class Finding:
    """One pathology over a step range, with the statistics it rests on."""

    pathology: str
    severity: Severity
    start_step: float
    end_step: float
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    # Which way the finding points (too_high / too_low), and how strongly (0-1), for the verdict.
    suggests: Verdict | None = None
    strength: float = 0.0


@dataclass(frozen=True)
class Config:
    """Every threshold of the diagnosis, grouped by the stage that uses it."""

    detect: DetectConfig
    verdict: VerdictConfig
    recommend: RecommendConfig

    @classmethod
    def default(cls) -> Config:
        from lrdoctor.detect import DetectConfig
        from lrdoctor.recommend import RecommendConfig
        from lrdoctor.verdict import VerdictConfig

        return cls(DetectConfig(), VerdictConfig(), RecommendConfig())


@dataclass(frozen=True)
class Diagnosis:
    run: Run
    verdict: Verdict
    confidence: float
    findings: tuple[Finding, ...]
    recommended_lr: float | None = None
    basis: Literal["log", "probe"] = "log"
    factor: float | None = None  # recommended / observed, also known when the rate itself is not
    because: str = ""  # what the recommendation rests on
    why: str = ""  # the statistics that weighed most in the verdict
    advice: tuple[str, ...] = ()  # schedule advice (warmup, decay), where the evidence supports it
    probed: ProbeResult | None = None  # the probe's measurement, where `diagnose --probe` ran one

    @property
    def failed(self) -> bool:
        """True when something of severity `error` was found (exit code 1)."""
        return any(f.severity == "error" for f in self.findings)


def diagnose(run: Run, *, config: Config | None = None) -> Diagnosis:
    """Run every detector over the run's metric, decide a verdict and recommend a rate."""
    import numpy as np

    cfg = config or Config.default()
    # Values near the float limit overflow in the statistics; the detectors treat inf/nan as such.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        return _diagnose(run, cfg)


def _signals(run: Run):  # type: ignore[no-untyped-def]  # (lrdoctor.detect.Signals: numpy on first use)
    from lrdoctor.detect import signals

    loss, lr, val = run.loss, run.lr, run.val_loss
    return signals(
        loss.steps,
        loss.values,
        None if lr is None else lr.steps,
        None if lr is None else lr.values,
        val=None if val is None else (val.steps, val.values),
        step_kind=run.step_kind,
        epoch_means=run.epoch_means,
        late_start=run.late_start,
    )


def advice_at(dx: Diagnosis, recommended: float | None) -> tuple[str, ...]:
    """The schedule advice of a diagnosis, for another recommended rate (a probe's): the advice
    names the rate to warm up or decay to."""
    import numpy as np

    from lrdoctor.advice import AdviceConfig, advise

    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        return tuple(advise(_signals(dx.run), list(dx.findings), recommended, AdviceConfig()))


def _diagnose(run: Run, cfg: Config) -> Diagnosis:
    from lrdoctor.advice import AdviceConfig, advise
    from lrdoctor.detect import detect_all
    from lrdoctor.recommend import recommend
    from lrdoctor.verdict import decide, explain

    sig = _signals(run)
    findings = detect_all(sig, cfg.detect)
    verdict, confidence = decide(sig, findings, cfg.verdict)
    rec = recommend(verdict, run.observed_lr, sig, findings, cfg.recommend)
    return Diagnosis(
        run=run,
        verdict=verdict,
        confidence=confidence,
        findings=tuple(findings),
        recommended_lr=rec.lr,
        factor=rec.factor,
        because=rec.basis,
        why=explain(sig, findings, verdict, cfg.verdict),
        advice=tuple(advise(sig, findings, rec.lr, AdviceConfig())),
    )
