"""Renderers of a diagnosis: terminal text, JSON (the contract other tools parse), Markdown."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lrdoctor.diagnosis import Diagnosis
from lrdoctor.report import json_report, markdown, summary, text

Renderer = Callable[[Sequence[Diagnosis]], str]

RENDERERS: dict[str, Renderer] = {
    "text": text.render,
    "json": json_report.render,
    "markdown": markdown.render,
    "csv": summary.render_csv,
}
