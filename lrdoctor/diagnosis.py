"""Findings and the diagnosis of one run: what was found, the verdict, the rate to use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from lrdoctor.run import Run

Verdict = Literal["too_high", "too_low", "ok", "unknown"]
Severity = Literal["error", "warning", "info"]
PATHOLOGIES = ("divergence", "oscillation", "plateau", "slow_convergence", "loss_spike")


@dataclass(frozen=True)
class Finding:
    """One pathology over a step range, with the statistics it rests on."""

    pathology: str
    severity: Severity
    start_step: float
    end_step: float
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Diagnosis:
    run: Run
    verdict: Verdict
    confidence: float
    findings: tuple[Finding, ...]
    recommended_lr: float | None = None
    basis: Literal["log", "probe"] = "log"

    @property
    def failed(self) -> bool:
        """True when something of severity `error` was found (exit code 1)."""
        return any(f.severity == "error" for f in self.findings)


def diagnose(run: Run) -> Diagnosis:
    """Run every detector over the run's metric and combine the findings."""
    from lrdoctor.detect import DETECTORS

    loss = run.loss
    findings = tuple(f for detect in DETECTORS.values() for f in detect(loss.steps, loss.values))
    return Diagnosis(run=run, verdict="unknown", confidence=0.0, findings=findings)
