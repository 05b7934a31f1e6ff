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


def _figure_of(monkeypatch, draw):  # type: ignore[no-untyped-def]
    figures = []
    monkeypatch.setattr(plots, "_png", lambda fig: figures.append(fig) or b"")
    draw()
    return figures[0]


def test_isolated_spikes_are_marked_each_not_shaded_between(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Spikes at steps 200 and 1800 of 2000 had been one band over 80% of the run."""
    steps, values = noisy_decay(2000)
    values[[200, 1800]] *= 30
    path = tmp_path / "spikes.csv"
    path.write_text("step,loss\n" + "".join(f"{s:g},{v:.6g}\n" for s, v in zip(steps, values, strict=True)))
    dx = diagnosis_of(path)
    (spike,) = [f for f in dx.findings if f.pathology == "loss_spike"]
    fig = _figure_of(monkeypatch, lambda: plots.run_figure(dx))
    ax = fig.axes[0]
    marked = sorted(line.get_xdata()[0] for line in ax.get_lines() if len(line.get_xdata()) == 2)
    assert marked == spike.evidence["steps"] and not ax.patches  # a line at each spike, no band


def test_a_sparse_rate_that_moves_at_each_point_is_a_line_and_a_step_schedule_stairs() -> None:
    assert not plots._held_between_changes(np.array([4.5e-5, 3.0e-5, 1.1e-5]))  # linear decay, every 500 steps
    assert plots._held_between_changes(np.repeat([0.1, 0.03, 0.009], 4))  # StepLR, once an epoch
    assert plots._held_between_changes(np.full(300, 0.1))


def test_a_run_that_blew_up_leaves_the_overlay_rather_than_flatten_the_others(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    runs = []
    for k, top in enumerate((1.0, 1.0, 1e35)):
        path = tmp_path / f"r{k}.csv"
        ys = [2.0 / (1 + s / 20) if top == 1.0 else 2.0 * 10 ** min(35, s) for s in range(100)]
        path.write_text("step,loss\n" + "".join(f"{s},{y:.6g}\n" for s, y in enumerate(ys)))
        runs.append(diagnosis_of(path))
    fig = _figure_of(monkeypatch, lambda: plots.overlay_figure(runs, ["a", "b", "c"]))
    # (the top at 100x the runs' starts, read off their trends: about 2)
    assert 1.8 * plots.OVERLAY_HEADROOM < fig.axes[0].get_ylim()[1] <= 2.0 * plots.OVERLAY_HEADROOM


def test_a_constant_loss_is_drawn_without_an_offset_and_control_characters_are_no_glyphs(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "const.csv"
    path.write_text("step,loss\n" + "".join(f"{s},0.6931\n" for s in range(200)))
    fig = _figure_of(monkeypatch, lambda: plots.run_figure(diagnosis_of(path)))
    fig.canvas.draw()
    assert fig.axes[0].yaxis.get_major_formatter().get_offset() == ""
    assert plots._label("line\x1b[31m.csv") == "line?[31m.csv"


def test_more_spikes_than_the_evidence_lists_are_shaded_as_a_band(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The evidence lists 20 spikes at most: with more, a line at each listed would leave the rest
    unmarked, so the band over them all stays."""
    import dataclasses

    from lrdoctor.diagnosis import Finding

    steps, values = noisy_decay(3000)
    path = tmp_path / "run.csv"
    path.write_text("step,loss\n" + "".join(f"{s:g},{v:.6g}\n" for s, v in zip(steps, values, strict=True)))
    listed = [float(100 + 100 * k) for k in range(20)]
    spike = Finding("loss_spike", "warning", 100.0, 2900.0, "25 isolated spike(s)", {"count": 25, "steps": listed})
    dx = dataclasses.replace(diagnosis_of(path), findings=(spike,))
    fig = _figure_of(monkeypatch, lambda: plots.run_figure(dx))
    assert fig.axes[0].patches
    few = dataclasses.replace(dx, findings=(dataclasses.replace(spike, evidence={"count": 20, "steps": listed}),))
    fig = _figure_of(monkeypatch, lambda: plots.run_figure(few))
    assert not fig.axes[0].patches
