"""The terminal report: what was read, the verdict, the findings with their evidence."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from lrdoctor.diagnosis import Diagnosis
from lrdoctor.run import Run, axis_unit, fmt_factor, fmt_steps, points, span_of

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
VERDICT_WORDS = {
    "too_high": "too high",
    "too_low": "too low",
    "ok": "ok",
    "unknown": "unknown (not enough evidence)",
}


def safe(text: str) -> str:
    """Log-controlled text with control characters (ANSI escapes, CR, a newline in a file name that
    would forge a line of output) made visible."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def fmt_lr(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def render(diagnoses: Sequence[Diagnosis]) -> str:
    return "\n\n".join(render_one(dx) for dx in diagnoses)


def metric_span(step_kind: str, steps: np.ndarray) -> str:
    """Where the metric lies: 'steps 0 to 99'; in a log without steps, in what order it was written."""
    if step_kind in ("step", "epoch"):
        return span_of(step_kind, float(steps[0]), float(steps[-1]))
    return "no step recorded (in the order written)"


def render_one(dx: Diagnosis) -> str:
    run = dx.run
    loss = run.loss
    where = f", run {run.segment} of {len(run.segments)}" if len(run.segments) > 1 else ""
    lines = [
        f"{safe(run.source)}  ({run.format}{where})",
        f"  metric    {safe(run.metric)}: {points(len(loss))}, {metric_span(run.step_kind, loss.steps)}",
    ]
    if run.val_metric:
        lines.append(f"  val       {safe(run.val_metric)}: {points(len(run.series[run.val_metric]))}")
    lines.append(f"  lr        {_lr_line(run)}")
    # (unknown with an error that points to no rate: the log shows a fault, not a lack of evidence)
    faulted = dx.verdict == "unknown" and any(f.severity == "error" and f.suggests is None for f in dx.findings)
    lines.append(
        f"  verdict   {'unknown (not the rate: see below)' if faulted else VERDICT_WORDS[dx.verdict]}"
        + (f" (confidence {dx.confidence:.2f})" if dx.verdict != "unknown" else "")
    )
    if dx.why:
        lines.append(f"  because   {safe(dx.why)}")
    if dx.verdict in ("too_high", "too_low") or dx.basis == "probe":
        if dx.recommended_lr is not None:
            lines.append(f"  try lr    {fmt_lr(dx.recommended_lr)} ({safe(dx.because)})")
        elif dx.factor is not None:
            said = factor_words(dx.factor)
            why = dx.because.removeprefix(said).lstrip(": ")  # (the basis opens with the factor)
            lines.append(
                f"  try lr    {said} than the rate you used ({safe(why) + '; ' if why else ''}"
                "pass --lr VALUE to get the rate itself)"
            )
    if dx.findings:
        lines.append("  findings")
        for f in dx.findings:
            where = (
                f"{axis_unit(run.step_kind, plural=f.start_step != f.end_step)} {fmt_steps(f.start_step, f.end_step)}"
            )
            lines.append(f"    {f.severity.upper():7} {f.pathology} ({where}): {safe(f.message)}")
    else:
        lines.append("  findings  none")
    for a in dx.advice:
        lines.append(f"  advice    {safe(a)}")
    for w in run.warnings:
        lines.append(f"  note      {safe(w)}")
    return "\n".join(lines)


def _lr_line(run: Run) -> str:
    observed, source = run.observed_lr_from
    if observed is None:
        if run.lr_name is not None:  # logged, with no positive value (0 printed with too few decimals)
            return f"no positive value in series {safe(run.lr_name)} (pass --lr VALUE)"
        return "not recorded in the log (pass --lr VALUE)"
    if source == "logged":
        return f"peak {fmt_lr(observed)} (series {safe(run.lr_name or '')})"
    if source == "name" and run.lr_in_name is not None:
        unlogged = "not logged" if run.lr_name is None else f"series {safe(run.lr_name)} holds no positive value"
        return (
            f"{fmt_lr(observed)} (named in the run's path, '{safe(run.lr_in_name[1])}'; {unlogged}; "
            "pass --lr VALUE if it trained at another)"
        )
    return f"{fmt_lr(observed)}{lr_from(run)}"  # given with --lr, or from the run's settings


def lr_from(run: Run) -> str:
    """Where the observed rate comes from, as words to follow it ('' where there is none)."""
    source = run.observed_lr_from[1]
    if source == "logged":
        return f" (series {run.lr_name})"
    if source == "name" and run.lr_in_name is not None:
        return f" (named in the run's path, '{run.lr_in_name[1]}')"
    return {"given": " (given with --lr)", "hparams": " (from the run's settings)"}.get(source, "")


def factor_words(factor: float) -> str:
    """How far to move a rate that the log does not record: '909x higher', '3.24x lower'."""
    return f"{fmt_factor(factor)}x higher" if factor >= 1 else f"{fmt_factor(1 / factor)}x lower"
