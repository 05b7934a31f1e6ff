"""The JSON shape other programs rely on (README, "JSON output"): keys may be added, never renamed."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from lrdoctor import __version__
from lrdoctor.diagnosis import Diagnosis, Finding


def render(diagnoses: Sequence[Diagnosis], *, array: bool | None = None) -> str:
    """One object for one diagnosis, an array (in the order given) for several; `array` forces
    the array, as for a command given several paths of which only one could be read."""
    docs = [to_dict(dx) for dx in diagnoses]
    one = len(docs) == 1 if array is None else not array
    return json.dumps(docs[0] if one else docs, indent=2, allow_nan=False)


def to_dict(dx: Diagnosis) -> dict[str, Any]:
    run = dx.run
    loss = run.loss
    return {
        "source": run.source,
        "format": run.format,
        "metric": run.metric,
        "points": len(loss),
        "steps": {"first": number(loss.steps[0]), "last": number(loss.steps[-1])},
        "verdict": dx.verdict,
        "confidence": round(dx.confidence, 3),
        "findings": [finding_dict(f) for f in dx.findings],
        "lr": {
            "observed": number(run.observed_lr),
            "recommended": number(dx.recommended_lr),
            "basis": dx.basis,
        },
        # Additions beyond the fixed shape.
        "why": dx.why,
        "recommendation_basis": dx.because,
        # recommended / observed: known where the log records no rate too (multiply yours by it)
        "lr_factor": number(dx.factor) if dx.verdict in ("too_high", "too_low") or dx.basis == "probe" else None,
        "advice": list(dx.advice),
        "step_kind": run.step_kind,
        "val_metric": run.val_metric,
        "lr_metric": run.lr_name,
        # where lr.observed comes from: given (--lr), logged, hparams (the run's settings), name
        # (a rate its path names, 'runs/lr1e-3_s0/'), or none
        "lr_observed_from": run.observed_lr_from[1],
        "run": {"index": run.segment, "of": len(run.segments)},
        "warnings": list(run.warnings),
        "lrdoctor_version": __version__,
        **({} if dx.probed is None else {"probe": probe_dict(dx)}),
    }


def probe_dict(dx: Diagnosis) -> dict[str, Any]:
    """What `diagnose --probe` measured, whatever the verdict made of it."""
    assert dx.probed is not None
    p = dx.probed
    return {
        "recommended_lr": number(p.recommended_lr),
        "method": p.method,
        "steps_used": p.steps_used,
        "no_gain": p.no_gain,  # the measurement rests on no gain over the initial weights
    }


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "pathology": f.pathology,
        "severity": f.severity,
        "start_step": number(f.start_step),
        "end_step": number(f.end_step),
        "message": f.message,
        "evidence": {k: clean(v) for k, v in f.evidence.items()},
    }


def number(x: float | int | None) -> float | int | None:
    """JSON-safe number: integral floats as ints, NaN/Inf as null."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def clean(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return number(value)
    if hasattr(value, "item"):  # numpy scalar
        return clean(value.item())
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return str(value)
