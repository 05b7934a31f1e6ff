"""The HTML page: self-contained, log text escaped, the verdict first, every finding's statistics."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from lrdoctor.diagnosis import diagnose
from lrdoctor.normalize import normalize
from lrdoctor.report import html, plots
from lrdoctor.run import Log, Series
from tests.report.conftest import diagnosis_of, noisy_decay

SCRIPT = "<script>alert(1)</script>"


def page_of(*diagnoses) -> str:
    figures = html.Figures(
        runs=[plots.run_figure(dx) for dx in diagnoses],
        overlay=plots.overlay_figure(diagnoses, [dx.run.source for dx in diagnoses]) if len(diagnoses) > 1 else None,
    )
    return html.render(diagnoses, figures)


def assert_self_contained(page: str) -> None:
    assert not re.search(r"<script|<link|<iframe|@import|url\(", page, re.IGNORECASE)
    assert not re.search(r"(src|href)=\"(?!data:image/png;base64,|#)", page)


def test_log_text_is_escaped_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "<img src=x onerror=alert(2)>.csv"
    path.write_text(f"step,{SCRIPT}\n" + "".join(f"{s},{1.0 / (s + 1):.5f}\n" for s in range(20)) + "20,nan\n")
    page = page_of(diagnosis_of(path, metric=SCRIPT))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;.csv" in page
    assert "<img src=x" not in page
    assert_self_contained(page)


def test_one_run_has_its_verdict_first_then_plot_recommendation_and_statistics(nan_log: Path) -> None:
    dx = diagnosis_of(nan_log)
    page = page_of(dx)
    section = page.split('<section id="run-1">', 1)[1]
    h2, verdict = re.findall(r"<(h2|p class=\"verdict[^\"]*\")>", section)[:2]
    assert h2 == "h2" and verdict.startswith('p class="verdict v-too_high')
    assert section.index("Verdict: <strong>too high</strong> (confidence 1.00)") < section.index("<img ")
    assert dx.why  # the terminal's "because" line, between the verdict and the plot
    assert section.index(f'<p class="why">Why: {html.esc(dx.why)}</p>') < section.index("<img ")
    assert f"Try lr {dx.recommended_lr:.3g} instead of 0.5. Because: {html.esc(dx.because)}." in section
    finding = dx.findings[0]
    assert finding.pathology == "divergence"
    assert "divergence · error · steps 20-21" in section
    for key in finding.evidence:  # the statistics table behind the finding
        assert f"<tr><th>{key}</th>" in section
    assert len(re.findall(r'<img alt="[^"]*" src="data:image/png;base64,', page)) == 1
    assert_self_contained(page)


def test_several_runs_get_an_overview_that_links_to_each_section(healthy_log: Path, nan_log: Path) -> None:
    page = page_of(diagnosis_of(healthy_log), diagnosis_of(nan_log))
    overview = page.split('<div class="overview">', 1)[1].split("</div>", 1)[0]
    assert '<a href="#run-1">healthy.csv</a>' in overview and '<a href="#run-2">nan.csv</a>' in overview
    assert "0.5 -&gt; " in overview and "0.001 (keep)" in overview
    assert "divergence (error, steps 20-21)" in overview
    assert '<section id="run-1">' in page and '<section id="run-2">' in page
    assert len(re.findall(r"<img ", page)) == 3  # overlay and one per run


def test_a_million_point_run_gives_a_small_page() -> None:
    steps, values = noisy_decay(1_000_000)
    values[500_000] = 80.0
    log = Log(
        "big.csv", "csv", {"loss": Series("loss", steps, values), "lr": Series("lr", steps, np.full(len(steps), 1e-3))}
    )
    page = page_of(diagnose(normalize(log)))
    assert len(page.encode()) < 300_000


def test_an_unknown_verdict_says_once_that_the_evidence_is_short(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("step,loss\n" + "".join(f"{s},{2.0 - 0.01 * s}\n" for s in range(5)))
    dx = diagnosis_of(path)
    assert dx.verdict == "unknown"
    assert html.recommendation(dx) == "Not enough evidence to recommend a rate."


def test_the_schedule_advice_is_in_every_page_as_in_the_terminal() -> None:
    """The advice the terminal prints ('... add a linear warmup over the first ~4 steps ...') is on the HTML
    page, in the Markdown report and in `diagnose --format markdown`."""
    from lrdoctor.report import document, markdown
    from tests.conftest import SAMPLE_LOGS

    dx = diagnosis_of(SAMPLE_LOGS / "csv" / "diabetes_mlp_sgd_nan.csv")
    (advice,) = dx.advice
    assert "linear warmup" in advice
    assert f"<li>{html.esc(advice)}</li>" in page_of(dx).split("<h3>Schedule advice</h3>", 1)[1]
    assert f"Schedule advice: {markdown.md(advice)}" in document.render_markdown([dx], ["run.png"])
    assert f"| advice | {markdown.md(advice)} |" in markdown.render([dx])
