"""One line per log for `lrdoctor check`: the verdict, the finding that matters most, and why it fails."""

from __future__ import annotations

from lrdoctor.diagnosis import Diagnosis, Finding
from lrdoctor.report.text import safe
from lrdoctor.run import axis_unit, fmt_steps

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


def at(step_kind: str, f: Finding) -> str:
    """Where a finding is: 'step 100', 'steps 100-120'."""
    return f"{axis_unit(step_kind, plural=f.start_step != f.end_step)} {fmt_steps(f.start_step, f.end_step)}"


def line(label: str, dx: Diagnosis, reasons: list[str]) -> str:
    """`path: verdict, top finding` and, when it fails the gate, the reasons."""
    verdict = dx.verdict if dx.verdict == "unknown" else f"{dx.verdict} ({dx.confidence:.2f})"
    top = top_finding(dx)
    what = (
        "no findings"
        if top is None
        else f"{top.pathology} {top.severity} at {at(dx.run.step_kind, top)}: {' '.join(top.message.split())}"
    )
    tail = f"  [FAIL: {', '.join(reasons)}]" if reasons else ""
    return safe(f"{label}: {verdict}, {what}{tail}")
