"""A Markdown summary of one or more diagnoses (tables escaped: log text cannot break them)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from lrdoctor.diagnosis import Diagnosis
from lrdoctor.report.text import VERDICT_WORDS, factor_words, fmt_lr, lr_from, metric_span, safe
from lrdoctor.run import axis_unit, fmt_steps, points

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md(text: str) -> str:
    """Escape Markdown and HTML metacharacters, show control characters as text, flatten newlines."""
    return _MD_SPECIAL.sub(r"\\\1", safe(" ".join(str(text).split())))


def render(diagnoses: Sequence[Diagnosis]) -> str:
    return "\n\n".join(render_one(dx) for dx in diagnoses) + "\n"


def render_one(dx: Diagnosis) -> str:
    run = dx.run
    loss = run.loss
    lr_words = lr_from(run).strip()
    out = [
        f"## {md(run.source)}",
        "",
        f"**Verdict:** {VERDICT_WORDS[dx.verdict]}"
        + (f" (confidence {dx.confidence:.2f})" if dx.verdict != "unknown" else ""),
        "",
        *([f"**Why:** {md(dx.why)}", ""] if dx.why else []),
        "| | |",
        "|---|---|",
        f"| format | {md(run.format)} |",
        f"| metric | {md(run.metric)} ({points(len(loss))}, {metric_span(run.step_kind, loss.steps)}) |",
        f"| learning rate | {fmt_lr(run.observed_lr)}{' ' + md(lr_words) if lr_words else ''} |",
        f"| recommended | {_recommended(dx)} |",
    ]
    if dx.because and (dx.verdict in ("too_high", "too_low") or dx.basis == "probe"):
        out.append(f"| because | {md(dx.because)} |")
    out += [f"| advice | {md(a)} |" for a in dx.advice]
    if dx.findings:
        out += [
            "",
            f"| severity | pathology | {axis_unit(run.step_kind, plural=True)} | finding |",
            "|---|---|---|---|",
        ]
        for f in dx.findings:
            out.append(
                f"| {f.severity} | {f.pathology} | {fmt_steps(f.start_step, f.end_step, ' to ')} | {md(f.message)} |"
            )
    if run.warnings:
        out += ["", *(f"- {md(w)}" for w in run.warnings)]
    return "\n".join(out)


def _recommended(dx: Diagnosis) -> str:
    """The rate, or without a known rate the factor to move the one used by (as the terminal says)."""
    if dx.recommended_lr is None and dx.factor is not None and dx.verdict in ("too_high", "too_low"):
        return f"{factor_words(dx.factor)} than the rate used"
    return fmt_lr(dx.recommended_lr)
