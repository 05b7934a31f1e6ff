"""A self-contained HTML page: no scripts, fonts or images from elsewhere; plots inline as PNG.

Everything that comes from a log (file names, series names, messages, evidence) goes through
`html.escape`, so a metric named ``<script>`` shows as text.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lrdoctor import __version__
from lrdoctor.diagnosis import Diagnosis, Finding
from lrdoctor.report.check import at
from lrdoctor.report.json_report import clean
from lrdoctor.report.summary import rate_change, shared_folder, top_text
from lrdoctor.report.text import VERDICT_WORDS, factor_words, fmt_lr, lr_from, safe
from lrdoctor.run import points, span_of


@dataclass(frozen=True)
class Figures:
    """PNG bytes: one per run (None where it could not be drawn), the overlay, the sweep."""

    runs: list[bytes | None] = field(default_factory=list)
    overlay: bytes | None = None
    sweep: bytes | None = None


CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;margin:0;background:#fafafa}
main{max-width:1060px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px} h2{font-size:19px;margin:0 0 6px;word-break:break-all}
h3{font-size:15px;margin:18px 0 6px} h4{font-size:14px;margin:0 0 4px}
section,.overview{background:#fff;border:1px solid #e3e3e3;border-radius:8px;padding:18px 20px;margin:18px 0}
.meta{color:#666;font-size:13px}
.verdict{font-size:17px;margin:4px 0 12px;padding:8px 12px;border-radius:6px;
  border-left:6px solid #999;background:#f2f2f2}
.v-too_high{border-color:#d62728;background:#fdecea} .v-too_low{border-color:#1f77b4;background:#e8f1fa}
.v-ok{border-color:#2ca02c;background:#eaf6ea} .v-unknown{border-color:#999}
img{max-width:100%;height:auto;display:block;margin:8px 0}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border:1px solid #e0e0e0;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f6f6f6;font-weight:600} td.num{text-align:right;font-variant-numeric:tabular-nums}
.finding{border-left:4px solid #999;padding:4px 12px;margin:10px 0}
.sev-error{border-color:#d62728} .sev-warning{border-color:#ff7f0e} .sev-info{border-color:#1f77b4}
.badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;color:#fff;background:#999}
.b-too_high{background:#d62728} .b-too_low{background:#1f77b4} .b-ok{background:#2ca02c}
ul.notes{color:#555;font-size:13px}
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def render(
    diagnoses: Sequence[Diagnosis],
    figures: Figures,
    *,
    sweep: Any = None,
    no_rate: str | None = None,
    title: str = "lrdoctor report",
    unread: Sequence[str] = (),
) -> str:
    """The whole page. `sweep` is a :class:`lrdoctor.sweep.SweepAdvice` or None; `no_rate`, why
    several runs point to no rate as a sweep; `unread`, why each input that could not be read was
    not (one line each, as the terminal said it)."""
    folder, names = shared_folder([dx.run.source for dx in diagnoses])
    where = f" in {esc(safe(folder))}" if folder else ""
    meta = f"{len(diagnoses)} run(s){where} · lrdoctor {esc(__version__)}"
    body = [f"<h1>{esc(title)}</h1>", f'<p class="meta">{meta}</p>']
    if unread:
        items = "".join(f"<li>{esc(safe(line))}</li>" for line in unread)
        body.append(f"<h2>Not in this report</h2><p>{len(unread)} input(s) could not be read:</p><ul>{items}</ul>")
    if len(diagnoses) > 1:
        body.append(_overview(diagnoses, names, figures, sweep, no_rate))
    for k, dx in enumerate(diagnoses, start=1):
        png = figures.runs[k - 1] if k - 1 < len(figures.runs) else None
        body.append(_section(k, dx, names[k - 1], png))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body><main>\n"
        + "\n".join(body)
        + "\n</main></body></html>\n"
    )


def image(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def verdict_line(dx: Diagnosis) -> str:
    conf = "" if dx.verdict == "unknown" else f" (confidence {dx.confidence:.2f})"
    return (
        f'<p class="verdict v-{esc(dx.verdict)}">Verdict: <strong>{esc(VERDICT_WORDS[dx.verdict])}</strong>{conf}'
        f" · learning rate {esc(rate_change(dx))}</p>"
    )


def recommendation(dx: Diagnosis) -> str:
    """What rate to use, and what that rests on, in plain text."""
    seen = dx.run.observed_lr
    if dx.verdict == "ok":
        text = f"Keep the rate ({fmt_lr(seen)})." if seen is not None else "Keep the rate you used."
    elif dx.verdict == "unknown":
        text = "Not enough evidence to recommend a rate."
    elif dx.recommended_lr is not None:
        text = f"Try lr {fmt_lr(dx.recommended_lr)}" + (f" instead of {fmt_lr(seen)}." if seen is not None else ".")
    elif dx.factor is not None:
        text = f"Try a rate {factor_words(dx.factor)} than the one you used (pass --lr to get a value)."
    else:
        text = "No rate can be recommended from this log."
    # (an unknown verdict's basis says only that there is not enough evidence: said already)
    because = f" Because: {dx.because}." if dx.because and dx.verdict != "unknown" else ""
    return text + because


def _overview(
    diagnoses: Sequence[Diagnosis], names: Sequence[str], figures: Figures, sweep: Any, no_rate: str | None = None
) -> str:
    rows = "".join(
        f'<tr><td><a href="#run-{k}">{esc(names[k - 1])}</a></td>'
        f'<td><span class="badge b-{esc(dx.verdict)}">{esc(dx.verdict)}</span></td>'
        f"<td>{esc(rate_change(dx))}</td><td>{esc(top_text(dx))}</td></tr>"
        for k, dx in enumerate(diagnoses, start=1)
    )
    parts = [
        '<div class="overview"><h2>Overview</h2>',
        "<table><tr><th>run</th><th>verdict</th><th>observed -&gt; recommended rate</th><th>top finding</th></tr>",
        rows,
        "</table>",
    ]
    if figures.overlay is not None:
        parts.append(image(figures.overlay, "the loss trends of every run on one axis"))
    if sweep is not None:
        parts.append(
            f"<h3>Learning-rate sweep</h3><p>The sweep points to lr <strong>{sweep.lr:.3g}</strong>: "
            f"{esc(sweep.because)}.</p>"
        )
        if figures.sweep is not None:
            parts.append(image(figures.sweep, "final loss against learning rate"))
    elif no_rate is not None:
        parts.append(f"<h3>Learning-rate sweep</h3><p>No rate from the runs as a sweep: {esc(safe(no_rate))}.</p>")
    parts.append("</div>")
    return "\n".join(parts)


def _section(k: int, dx: Diagnosis, name: str, png: bytes | None) -> str:
    run = dx.run
    parts = [f'<section id="run-{k}">', f"<h2>{esc(name)}</h2>", verdict_line(dx)]
    if dx.why:
        parts.append(f'<p class="why">Why: {esc(dx.why)}</p>')
    if png is not None:
        parts.append(image(png, f"loss curve of {run.source}"))
    parts += ["<h3>Recommendation</h3>", f"<p>{esc(recommendation(dx))}</p>"]
    if dx.advice:
        items = "".join(f"<li>{esc(a)}</li>" for a in dx.advice)
        parts.append(f'<h3>Schedule advice</h3><ul class="advice">{items}</ul>')
    parts += ["<h3>What was read</h3>", _read_table(dx)]
    parts.append("<h3>Findings</h3>")
    parts += [_finding(dx, f) for f in dx.findings] or ["<p>None.</p>"]
    if run.warnings:
        parts.append('<h3>Notes</h3><ul class="notes">' + "".join(f"<li>{esc(w)}</li>" for w in run.warnings) + "</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def _read_table(dx: Diagnosis) -> str:
    run, loss = dx.run, dx.run.loss
    rows = [
        ("source", run.source),
        ("format", run.format),
        (
            "metric",
            f"{run.metric}: {points(len(loss))}, {span_of(run.step_kind, loss.steps[0], loss.steps[-1])}",
        ),
        ("validation loss", run.val_metric or "-"),
        ("learning rate", f"{fmt_lr(run.observed_lr)}" + lr_from(run)),
    ]
    if len(run.segments) > 1:
        rows.append(("run", f"{run.segment} of {len(run.segments)} appended in this log"))
    return "<table>" + "".join(f"<tr><th>{esc(a)}</th><td>{esc(b)}</td></tr>" for a, b in rows) + "</table>"


def _finding(dx: Diagnosis, f: Finding) -> str:
    head = f"{f.pathology} · {f.severity} · {at(dx.run.step_kind, f)}"
    stats = "".join(
        f'<tr><th>{esc(k)}</th><td class="num">{esc(value_text(v))}</td></tr>' for k, v in f.evidence.items()
    )
    table = f"<table><tr><th>statistic</th><th>value</th></tr>{stats}</table>" if stats else ""
    return f'<div class="finding sev-{esc(f.severity)}"><h4>{esc(head)}</h4><p>{esc(f.message)}</p>{table}</div>'


def value_text(v: Any) -> str:
    """An evidence value for a table cell: numbers to 4 significant digits."""
    v = clean(v)
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list | tuple | dict):
        return json.dumps(v, default=str)
    return str(v)
