"""A probe's result as text (the rate on the last line, for scripts) or as the JSON object of CONTRACT.md."""

from __future__ import annotations

import json
import math
from typing import Any

from lrdoctor import __version__
from lrdoctor.probe.result import ProbeResult


def to_dict(result: ProbeResult) -> dict[str, Any]:
    """The fixed keys first (recommended_lr, method, steps_used, curve), then additions."""
    return {
        "recommended_lr": result.recommended_lr,
        "method": result.method,
        "steps_used": result.steps_used,
        "curve": [
            {"lr": lr, "loss": _num(loss), "smoothed": _num(sm)}
            for lr, loss, sm in zip(result.lrs, result.losses, _padded(result), strict=True)
        ],
        "source": result.source,
        "stability_limit": result.limit,
        "range_stopped": result.range_stopped or None,
        "trials": [
            {"lr": t.lr, "loss": _num(t.loss), "steps": t.steps, "diverged": t.diverged, "failed": t.failed}
            for t in result.trials
        ],
        "scored_on": result.scored_on,
        "group_lrs": list(result.group_lrs),
        "notes": list(result.notes),
        "no_gain": result.no_gain,
        "seconds": round(result.seconds, 3),
        "lrdoctor_version": __version__,
    }


def render_json(result: ProbeResult) -> str:
    return json.dumps(to_dict(result), indent=2, allow_nan=False)


def render_text(result: ProbeResult) -> str:
    lines = [f"probe     {result.source}", f"method    {result.method}"]
    if result.lrs:
        span = f"{_lr(result.lrs[0])} to {_lr(result.lrs[-1])} in {len(result.lrs)} steps ({result.range_stopped})"
        lowest = "" if result.limit is None else f"; loss lowest at {_lr(result.limit)}"
        lines.append(f"range     {span}{lowest}")
    if result.trials:
        lines.append(f"trials    scored on {result.scored_on}")
        for t in sorted(result.trials, key=lambda t: t.lr):
            mark = "  <- recommended" if t.lr == result.recommended_lr else ""
            if t.failed:  # the command failed or logged nothing readable: the note says which
                after = f" after {t.steps} steps" if t.steps else ""
                lines.append(f"          lr {_lr(t.lr):>9}  run failed{after} (see the note){mark}")
                continue
            score = "diverged" if t.diverged else f"{t.loss:.4g}"
            lines.append(f"          lr {_lr(t.lr):>9}  loss {score:>9} after {t.steps} steps{mark}")
    if len(result.group_lrs) > 1:
        lines.append("groups    " + ", ".join(_lr(v) for v in result.group_lrs))
    for note in result.notes:
        lines.append(f"note      {note}")
    lines.append(f"used      {result.steps_used} steps in {result.seconds:.1f} s")
    lines.append(f"recommended_lr {_lr(result.recommended_lr)}")
    return "\n".join(lines)


def _lr(value: float) -> str:
    return f"{value:.3g}"


def _num(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _padded(result: ProbeResult) -> list[float]:
    """The smoothed curve covers the finite part of the ramp; NaN beyond it."""
    return list(result.smoothed) + [math.nan] * (len(result.lrs) - len(result.smoothed))
