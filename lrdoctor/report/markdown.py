"""A Markdown summary of one or more diagnoses (tables escaped: log text cannot break them)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from lrdoctor.diagnosis import Diagnosis
from lrdoctor.report.text import VERDICT_WORDS, fmt_lr, metric_span, safe
from lrdoctor.run import fmt_steps

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md(text: str) -> str:
    """Escape Markdown and HTML metacharacters, show control characters as text, flatten newlines."""
    return _MD_SPECIAL.sub(r"\\\1", safe(" ".join(str(text).split())))


def render(diagnoses: Sequence[Diagnosis]) -> str:
    return "\n\n".join(render_one(dx) for dx in diagnoses) + "\n"


def render_one(dx: Diagnosis) -> str:
    run = dx.run
    loss = run.loss
    out = [
        f"## {md(run.source)}",
        "",
        f"**Verdict:** {VERDICT_WORDS[dx.verdict]}"
        + (f" (confidence {dx.confidence:.2f})" if dx.verdict != "unknown" else ""),
        "",
        "| | |",
        "|---|---|",
        f"| format | {md(run.format)} |",
        f"| metric | {md(run.metric)} ({len(loss)} points, {metric_span(run.step_kind, loss.steps)}) |",
        f"| learning rate | {fmt_lr(run.observed_lr)} |",
        f"| recommended | {fmt_lr(dx.recommended_lr)} |",
    ]
    if dx.findings:
        out += ["", "| severity | pathology | steps | finding |", "|---|---|---|---|"]
        for f in dx.findings:
            out.append(
                f"| {f.severity} | {f.pathology} | {fmt_steps(f.start_step, f.end_step, ' to ')} | {md(f.message)} |"
            )
    if run.warnings:
        out += ["", *(f"- {md(w)}" for w in run.warnings)]
    return "\n".join(out)
