"""One line per log for `lrdoctor check`: the verdict, the finding that matters most, and why it fails."""

from __future__ import annotations

from lrdoctor.diagnosis import Diagnosis, Finding
from lrdoctor.report.text import safe
from lrdoctor.run import axis_unit, fmt_step

SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


def top_finding(dx: Diagnosis) -> Finding | None:
    """The most severe finding; among equals a divergence (NaN/Inf the run went on from, too),
    then the strongest, then the earliest."""
    if not dx.findings:
        return None
    return min(
        dx.findings,
        key=lambda f: (SEVERITY_RANK.get(f.severity, 3), f.pathology != "divergence", -f.strength, f.start_step),
    )


def units(step_kind: str) -> str:
    """How to call the x axis in a sentence: steps, epochs, or points (a log without steps)."""
    return axis_unit(step_kind, plural=True)


def span(f: Finding) -> str:
    return (
        f"{fmt_step(f.start_step)}"
        if f.start_step == f.end_step
        else f"{fmt_step(f.start_step)}-{fmt_step(f.end_step)}"
    )


def _at(step_kind: str, f: Finding) -> str:
    """'step 100', 'steps 100-120'."""
    return f"{axis_unit(step_kind, plural=f.start_step != f.end_step)} {span(f)}"


def line(label: str, dx: Diagnosis, reasons: list[str]) -> str:
    """`path: verdict, top finding` and, when it fails the gate, the reasons."""
    verdict = dx.verdict if dx.verdict == "unknown" else f"{dx.verdict} ({dx.confidence:.2f})"
    top = top_finding(dx)
    what = (
        "no findings"
        if top is None
        else f"{top.pathology} {top.severity} at {_at(dx.run.step_kind, top)}: {' '.join(top.message.split())}"
    )
    tail = f"  [FAIL: {', '.join(reasons)}]" if reasons else ""
    return safe(f"{label}: {verdict}, {what}{tail}")
