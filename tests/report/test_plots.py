"""Figures: the min/max reduction keeps every extreme, and each figure is a PNG of the planned size."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lrdoctor.report import plots
from lrdoctor.sweep import SweepPoint
from tests.report.conftest import diagnosis_of, noisy_decay, png_size


def test_downsample_of_a_million_points_keeps_the_spike_and_the_dip() -> None:
    steps, values = noisy_decay(1_000_000)
    values[777_777] = 100.0  # a spike
    values[123_456] = -50.0  # a dip
    s, v = plots.downsample(steps, values, buckets=1500)
    assert len(v) <= 3000
    assert 777_777.0 in s and v[s == 777_777.0][0] == 100.0
    assert 123_456.0 in s and v[s == 123_456.0][0] == -50.0
    assert v.max() == 100.0 and v.min() == -50.0
    assert np.all(np.diff(s) > 0)  # still in step order


def test_downsample_leaves_short_series_whole_but_without_non_finite_points() -> None:
    steps = np.arange(6, dtype=float)
    values = np.array([3.0, np.nan, 2.0, np.inf, 1.0, 0.5])
    s, v = plots.downsample(steps, values)
    assert s.tolist() == [0.0, 2.0, 4.0, 5.0] and v.tolist() == [3.0, 2.0, 1.0, 0.5]


def test_run_figure_is_a_png_of_the_planned_width(nan_log: Path) -> None:
    png = plots.run_figure(diagnosis_of(nan_log))
    width, height = png_size(png)
    assert width == 1000 and 400 <= height <= 460


def test_series_names_that_look_like_mathtext_are_drawn_as_text(tmp_path: Path) -> None:
    # An unbalanced "$\frac" would make matplotlib's mathtext parser fail at draw time.
    path = tmp_path / "m.csv"
    path.write_text("step,$\\frac{loss,_hidden\n" + "".join(f"{s},{1 / (s + 1):.4f},{s}\n" for s in range(30)))
    png = plots.run_figure(diagnosis_of(path, metric="$\\frac{loss"))
    assert png_size(png)[0] == 1000


def test_overlay_and_sweep_figures(healthy_log: Path, nan_log: Path) -> None:
    dxs = [diagnosis_of(healthy_log), diagnosis_of(nan_log)]
    assert png_size(plots.overlay_figure(dxs, ["a", "b"]))[0] == 1000
    many = plots.overlay_figure(dxs * 5, [f"run {k}" for k in range(10)])  # legend below: a taller picture
    assert png_size(many)[1] > 420
    points = [SweepPoint(1e-3, 0.4, "a"), SweepPoint(1e-2, 0.1, "b"), SweepPoint(1e-1, float("inf"), "c")]
    assert png_size(plots.sweep_figure(points, 1e-2))[0] == 1000


def test_losses_near_the_float_limit_are_drawn(tmp_path: Path) -> None:
    huge = tmp_path / "huge.csv"
    huge.write_text("step,loss\n" + "".join(f"{i},{1e307 * (1 + i)}\n" for i in range(200)))
    below = tmp_path / "below.csv"
    below.write_text("step,loss\n" + "".join(f"{i},{-1.0 + 1.0 / (1 + i)}\n" for i in range(200)))
    assert png_size(plots.run_figure(diagnosis_of(huge)))[0] == 1000
    runs = [diagnosis_of(huge), diagnosis_of(below)]
    assert png_size(plots.overlay_figure(runs, ["huge", "below"]))[0] == 1000


def test_each_run_of_an_overlay_has_a_line_of_its_own(healthy_log: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    figures = []
    monkeypatch.setattr(plots, "_png", lambda fig: figures.append(fig) or b"")
    plots.overlay_figure([diagnosis_of(healthy_log)] * 23, [f"run {k}" for k in range(23)])
    lines = figures[0].axes[0].get_lines()
    assert len({(line.get_color(), line.get_linestyle()) for line in lines}) == 23


def test_a_validation_loss_with_no_finite_value_is_not_in_the_legend(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from lrdoctor import load
    from lrdoctor.diagnosis import diagnose

    path = tmp_path / "m.csv"
    path.write_text("step,loss,val_loss\n" + "".join(f"{s},{2.0 / (s + 1):.4f},nan\n" for s in range(40)))
    figures = []
    monkeypatch.setattr(plots, "_png", lambda fig: figures.append(fig) or b"")
    plots.run_figure(diagnose(load(path)))
    labels = [line.get_label() for ax in figures[0].axes for line in ax.get_lines()]
    assert not any("val_loss" in label for label in labels) and any("loss (raw)" in label for label in labels)


def test_the_sweep_legend_leaves_every_point_in_view(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A U-shaped sweep whose lowest rates end highest, at the top left corner: the legend had
    covered them there."""
    rates = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
    finals = [2.3, 2.2, 1.6, 0.9, 0.5, 0.7, 1.2]
    points = [SweepPoint(lr, loss, f"lr{lr}") for lr, loss in zip(rates, finals, strict=True)]
    figures = []
    monkeypatch.setattr(plots, "_png", lambda fig: figures.append(fig) or b"")
    plots.sweep_figure(points, 1e-3)
    fig = figures[0]
    fig.canvas.draw()
    ax = fig.axes[0]
    box = ax.get_legend().get_window_extent()
    xy = ax.transData.transform(np.column_stack([rates, finals]))
    assert not any(box.contains(x, y) for x, y in xy)
