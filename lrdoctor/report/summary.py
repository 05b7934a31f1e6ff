"""One row per run, for many runs at once: the terminal table, a CSV sheet, a Markdown table."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
from collections.abc import Sequence

from lrdoctor.diagnosis import Diagnosis
from lrdoctor.report.check import at, top_finding
from lrdoctor.report.json_report import to_dict
from lrdoctor.report.markdown import md
from lrdoctor.report.text import fmt_lr, safe
from lrdoctor.run import fmt_step

CSV_COLUMNS = (
    "source",
    "format",
    "metric",
    "points",
    "first_step",
    "last_step",
    "verdict",
    "confidence",
    "observed_lr",
    "recommended_lr",
    "final_loss",
    "findings",
    "top_pathology",
    "top_severity",
    "top_message",
    "failed",
    "observed_lr_from",  # given (--lr), logged, hparams, name (a rate the run's path names), none
)


def rate_change(dx: Diagnosis) -> str:
    """`0.5 -> 0.0158`, `0.01 (keep)`, or `-` when nothing is known."""
    seen, rec = dx.run.observed_lr, dx.recommended_lr
    if rec is None or seen is None:
        return fmt_lr(seen) if rec is None else f"? -> {fmt_lr(rec)}"
    return f"{fmt_lr(seen)} (keep)" if rec == seen else f"{fmt_lr(seen)} -> {fmt_lr(rec)}"


def top_text(dx: Diagnosis) -> str:
    f = top_finding(dx)
    return "-" if f is None else f"{f.pathology} ({f.severity}, {at(dx.run.step_kind, f)})"


def table(diagnoses: Sequence[Diagnosis]) -> str:
    """An aligned table for the terminal, in the order given. Runs that share a folder are named
    from it, under a first line that names it: a sweep's runs deep in a tree otherwise push every
    column past the terminal's width with the same long prefix."""
    folder, names = shared_folder([dx.run.source for dx in diagnoses])
    head = ("run", "verdict", "conf", "learning rate", "top finding")
    rows = [
        (
            safe(name),
            dx.verdict,
            "-" if dx.verdict == "unknown" else f"{dx.confidence:.2f}",
            rate_change(dx),
            top_text(dx),
        )
        for dx, name in zip(diagnoses, names, strict=True)
    ]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head) - 1)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1] for r in [head, *rows]
    ]
    return "\n".join(([f"runs in {safe(folder)}"] if folder else []) + lines)


def shared_folder(sources: Sequence[str]) -> tuple[str, list[str]]:
    """The folder that every source lies in (ending in a separator) and each source's name from
    it; ``("", sources)`` where they share none but the root, for a single run, or where any is not
    a path (standard input). Paths are compared by their parts, so ``runs//a`` and ``./runs/a`` lie
    in ``runs/``; a ``..`` after a folder name (``runs/a/../b``) is not resolved (through a link it
    leads elsewhere) and leaves every name as given. A run folder is named from the folder above
    it, as a file is: ``runs/a/`` and ``runs/b/`` lie in ``runs/``."""
    names = list(sources)
    split = [_parts(s) for s in names]
    parts = [p for p in split if p is not None]
    if len(names) < 2 or len(parts) < len(names) or len({absolute for absolute, _ in parts}) > 1:
        return "", names  # one run, standard input, a '..' past a name, or absolute and relative together
    common: list[str] = []
    for level in zip(*(names_of[:-1] for _, names_of in parts), strict=False):
        if len(set(level)) > 1:
            break
        common.append(level[0])
    if not common:
        return "", names
    sep = os.sep
    folder = (sep if parts[0][0] else "") + sep.join(common) + sep
    tails = [sep.join(names_of[len(common) :]) for _, names_of in parts]
    return folder, [t + (sep if s.endswith(("/", sep)) else "") for s, t in zip(names, tails, strict=True)]


def _parts(source: str) -> tuple[bool, list[str]] | None:
    """Whether the path is absolute, and its names without empty or '.' parts; None for what is no
    path (``<stdin>``) or holds a '..' after a name."""
    if source.startswith("<") or source[:2] in ("//", "\\\\"):  # (a UNC share: its leading // is part of its name)
        return None
    parts = [c for c in source.replace(os.sep, "/").split("/") if c not in ("", ".")]
    leading = len(parts) - len(list(itertools.dropwhile(lambda c: c == "..", parts)))
    if ".." in parts[leading:] or not parts:
        return None
    return source.startswith(("/", os.sep)), parts


def render_csv(diagnoses: Sequence[Diagnosis]) -> str:
    from lrdoctor.sweep import final_loss

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for dx in diagnoses:
        loss, top = dx.run.loss, top_finding(dx)
        writer.writerow(
            [
                _cell(dx.run.source),
                dx.run.format,
                _cell(dx.run.metric),
                len(loss),
                fmt_step(loss.steps[0]),
                fmt_step(loss.steps[-1]),
                dx.verdict,
                f"{dx.confidence:.3f}",
                _num(dx.run.observed_lr),
                _num(dx.recommended_lr),
                _num(final_loss(dx)),
                len(dx.findings),
                "" if top is None else top.pathology,
                "" if top is None else top.severity,
                "" if top is None else _cell(" ".join(top.message.split())),
                int(dx.failed),
                dx.run.observed_lr_from[1],
            ]
        )
    return buf.getvalue().rstrip("\n")


def render_markdown(diagnoses: Sequence[Diagnosis]) -> str:
    folder, names = shared_folder([dx.run.source for dx in diagnoses])
    out = [f"Runs in {md(folder)}", ""] if folder else []
    out += ["| run | verdict | confidence | learning rate | top finding |", "|---|---|---|---|---|"]
    for dx, name in zip(diagnoses, names, strict=True):
        conf = "-" if dx.verdict == "unknown" else f"{dx.confidence:.2f}"
        out.append(f"| {md(name)} | {dx.verdict} | {conf} | {md(rate_change(dx))} | {md(top_text(dx))} |")
    return "\n".join(out)


def render_array(diagnoses: Sequence[Diagnosis]) -> str:
    """The JSON array of CONTRACT.md, also for a single run found in a directory."""
    return json.dumps([to_dict(dx) for dx in diagnoses], indent=2, allow_nan=False)


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.6g}"


def _cell(text: str) -> str:
    """Log text in a sheet: a leading = + - @ would run as a formula in a spreadsheet."""
    text = safe(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
