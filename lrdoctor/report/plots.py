"""Figures of a diagnosis as PNG bytes: the loss curve with its findings, overlays, a rate sweep.

matplotlib (the `report` extra) is imported inside the functions that draw, through the
object-oriented API with the Agg canvas: no pyplot, no global backend, no display needed.
Long series are drawn from a min/max-per-bucket reduction, so a run of a million points makes a
picture of the same size as one of a thousand, and every spike still shows.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from lrdoctor.diagnosis import Diagnosis
from lrdoctor.run import Series, axis_unit

if TYPE_CHECKING:
    from lrdoctor.sweep import SweepPoint


@dataclass(frozen=True)
class PlotStyle:
    buckets: int = 1500  # min and max of each: 3000 points, beyond what a 1000-pixel-wide plot resolves
    width: float = 10.0  # inches at `dpi`: 1000 x 420 pixels
    height: float = 4.2
    dpi: int = 100
    log_ratio: float = 30.0  # a positive series spanning more than this factor gets a log axis
    colors: tuple[tuple[str, str], ...] = (("error", "#d62728"), ("warning", "#ff7f0e"), ("info", "#1f77b4"))


STYLE = PlotStyle()
RAW, TREND, VAL, LR = "#9ecae1", "#08519c", "#2ca02c", "#7f7f7f"


def downsample(steps: np.ndarray, values: np.ndarray, buckets: int = STYLE.buckets) -> tuple[np.ndarray, np.ndarray]:
    """The finite points, reduced to the lowest and highest of each of `buckets` equal runs of points.

    Order is kept and both extremes of every bucket survive, so the drawn line reaches every
    spike and dip of the full series.
    """
    keep = np.isfinite(values)
    steps, values = steps[keep], _drawable(values[keep])
    n = len(values)
    if n <= 2 * buckets:
        return steps, values
    size = -(-n // buckets)
    pad = size * buckets - n
    lo = np.concatenate([values, np.full(pad, np.inf)]).reshape(buckets, size)
    hi = np.concatenate([values, np.full(pad, -np.inf)]).reshape(buckets, size)
    base = np.arange(buckets) * size
    idx = np.unique(np.concatenate([base + lo.argmin(axis=1), base + hi.argmax(axis=1)]))
    idx = idx[idx < n]
    return steps[idx], values[idx]


def run_figure(dx: Diagnosis) -> bytes:
    """The judged loss (raw, light; trend, dark), validation loss, the rate on a second axis,
    non-finite points marked, each finding shaded over its steps and labelled."""
    fig, ax = _figure()
    run = dx.run
    loss = run.loss
    s, v = downsample(loss.steps, loss.values)
    trend = _trend(loss)
    raw_color = RAW if trend is not None else TREND  # too short for a trend: the raw points are the curve
    ax.plot(
        s, v, color=raw_color, lw=0.8, marker="o" if len(v) <= 60 else None, ms=2.5, label=_label(f"{run.metric} (raw)")
    )
    if trend is not None:
        ax.plot(*trend, color=TREND, lw=1.8, label="trend (what the detectors judge)")
    vs, vv = downsample(run.val_loss.steps, run.val_loss.values) if run.val_loss is not None else ((), ())
    if len(vv):  # a validation loss with no finite value has nothing to draw, nor to list in the legend
        ax.plot(vs, vv, color=VAL, lw=1.4, marker="o" if len(vv) <= 60 else None, ms=3, label=_label(run.val_metric))
    _mark_nonfinite(ax, loss)
    _log_if_wide(ax, v)
    ax.set_xlabel(axis_unit(run.step_kind))
    ax.set_ylabel(_label(run.metric))
    _shade_findings(ax, dx)
    handles, labels = ax.get_legend_handles_labels()
    if run.lr is not None:
        handles, labels = _lr_axis(ax, run.lr, run.lr_name or "lr", handles, labels)
    # Below the plot: never over the curve or the finding labels.
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 4), fontsize=8, frameon=False)
    return _png(fig)


LINE_STYLES = ("-", "--", ":", "-.")


def overlay_figure(diagnoses: Sequence[Diagnosis], names: Sequence[str]) -> bytes:
    """The trends of several runs on one axis (raw curves where a run is too short for a trend)."""
    fig, ax = _figure()
    ys = []
    many = len(names) > 6
    for k, (dx, name) in enumerate(zip(diagnoses, names, strict=True)):
        trend = _trend(dx.run.loss)
        s, v = trend if trend is not None else downsample(dx.run.loss.steps, dx.run.loss.values)
        label = _label(name)
        if many and len(label) > OVERLAY_LABEL:  # (below the plot, two to a row: the end of a path tells them apart)
            label = "..." + label[-(OVERLAY_LABEL - 3) :]
        # The colour cycle repeats after ten runs: each round of it gets its own line style.
        ax.plot(s, v, lw=1.4, label=label, color=f"C{k % 10}", ls=LINE_STYLES[k // 10 % len(LINE_STYLES)])
        ys.append(v)
    _log_if_wide(ax, np.concatenate(ys) if ys else np.empty(0))
    _above_the_others(ax, ys)
    kinds = {dx.run.step_kind for dx in diagnoses}
    ax.set_xlabel(axis_unit(kinds.pop()) if len(kinds) == 1 else "step (epoch for logs of epochs)")
    ax.set_ylabel("loss (trend)")
    if len(names) <= 6:
        ax.legend(fontsize=8, loc="upper right", framealpha=0.85)
    else:  # many runs: the legend goes below the plot, which keeps its height
        cols = 2
        fig.set_figheight(STYLE.height + 0.17 * -(-len(names) // cols) + 0.3)
        fig.legend(loc="outside lower center", fontsize=7, ncol=cols, frameon=False)
    return _png(fig)


# The longest run name the overlay's legend shows whole, where it lists many runs below the plot.
OVERLAY_LABEL = 48
# A run whose curve climbs this far above the others' starts leaves the overlay's top edge, rather
# than squash every other curve into a line at the bottom.
OVERLAY_HEADROOM = 100.0


def _above_the_others(ax: Any, ys: Sequence[np.ndarray]) -> None:
    starts = [float(v[np.isfinite(v)][0]) for v in ys if np.isfinite(v).any()]
    highs = [float(np.nanmax(np.where(np.isfinite(v), v, np.nan))) for v in ys if np.isfinite(v).any()]
    if len(starts) < 2 or min(starts) <= 0:
        return
    top = OVERLAY_HEADROOM * float(np.median(starts))
    if max(highs) > top:
        ax.set_ylim(top=top)


def sweep_figure(points: Sequence[SweepPoint], best: float | None, ranked_by: str = "loss") -> bytes:
    """Final loss against learning rate, one dot per run; diverged runs at the top edge."""
    fig, ax = _figure(height=3.6)
    finite = [p for p in points if np.isfinite(p.final_loss)]
    lost = [p for p in points if not np.isfinite(p.final_loss)]
    if finite:
        order = sorted(finite, key=lambda p: p.lr)
        ax.plot([p.lr for p in order], [p.final_loss for p in order], "o-", color=TREND, label="final loss")
        _log_if_wide(ax, np.array([p.final_loss for p in finite]))
    if lost:
        xform = ax.get_xaxis_transform()
        ax.plot([p.lr for p in lost], [0.97] * len(lost), "x", color="#d62728", ms=9, transform=xform, label="NaN/Inf")
    if best is not None:
        ax.axvline(best, color=VAL, ls="--", lw=1.2, label=f"the sweep points to {best:.3g}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel(f"final {_label(ranked_by or 'loss')} (median of the last tenth)")
    # Where no point lies: the lowest rates end high, at the top left, where a fixed corner hid them.
    ax.legend(fontsize=8, loc="best", framealpha=0.85)
    return _png(fig)


# --- pieces --------------------------------------------------------------------------------------


def _figure(*, height: float = STYLE.height) -> tuple[Any, Any]:
    from lrdoctor._compat import require

    figure = require("matplotlib.figure", extra="report")
    fig = figure.Figure(figsize=(STYLE.width, height), dpi=STYLE.dpi, layout="constrained")
    ax = fig.add_subplot()
    ax.grid(True, alpha=0.3, lw=0.5)
    return fig, ax


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=STYLE.dpi, metadata={"Software": None})
    return buf.getvalue()


def _label(text: str | None) -> str:
    """Log text as a plain matplotlib label: no mathtext ($), not hidden (a leading _)."""
    text = " ".join(str(text or "").split()).replace("$", r"\$")
    text = "".join(c if c.isprintable() else "?" for c in text)  # (control characters have no glyph)
    text = text.encode("utf-8", "replace").decode("utf-8")  # a name in bytes that are not UTF-8: '?' for them
    return f" {text}" if text.startswith("_") else text


def _trend(series: Series) -> tuple[np.ndarray, np.ndarray] | None:
    from lrdoctor.detect.curve import prepare

    curve = prepare(series.steps, series.values)
    return None if curve is None else (curve.steps, _drawable(curve.trend))


# Beyond this, matplotlib's tick arithmetic overflows (the axis spans more than the float range).
DRAWABLE = 1e300


def _drawable(values: np.ndarray) -> np.ndarray:
    """Finite values held within +-DRAWABLE: a loss of 1e307 is drawn at the top of the axis."""
    if not len(values) or np.abs(values).max() <= DRAWABLE:
        return values
    return np.clip(values, -DRAWABLE, DRAWABLE)


def _held_between_changes(values: np.ndarray) -> bool:
    """Whether a logged rate holds its value over most of its points (a step schedule, a constant,
    one logged densely), so that stairs draw it as it was, rather than a rate that changes from
    nearly every logged point to the next (a linear decay logged every 500 steps, drawn as stairs,
    looked like a step schedule)."""
    return len(values) < 3 or float(np.mean(np.diff(values) == 0)) >= 0.5


def _log_if_wide(ax: Any, values: np.ndarray) -> None:
    v = values[np.isfinite(values)]
    if len(v) and v.min() > 0 and v.max() / v.min() > STYLE.log_ratio:
        ax.set_yscale("log")
    else:  # (a constant loss of 0.6931 had its ticks read as offsets from 1e-12+6.931e-1)
        ax.ticklabel_format(axis="y", useOffset=False)


def _mark_nonfinite(ax: Any, series: Series) -> None:
    bad = ~np.isfinite(series.values)
    if not bad.any():
        return
    steps = series.steps[bad]
    if len(steps) > STYLE.buckets:
        steps = steps[:: -(-len(steps) // STYLE.buckets)]
    ax.plot(
        steps,
        np.full(len(steps), 0.98),
        "|",
        color="#d62728",
        ms=8,
        transform=ax.get_xaxis_transform(),
        label="NaN/Inf",
    )


def _shade_findings(ax: Any, dx: Diagnosis) -> None:
    colors = dict(STYLE.colors)
    xform = ax.get_xaxis_transform()
    for k, f in enumerate(dx.findings):
        color = colors.get(f.severity, "#7f7f7f")
        lo, hi = f.start_step, f.end_step
        marks = f.evidence.get("steps") if f.pathology == "loss_spike" else None
        if marks and len(marks) >= f.evidence.get("count", 0):
            # isolated spikes: a line at each, not a band over the run between the first and last
            # (the evidence lists 20 at most: more than that, the band)
            for at in marks:
                ax.axvline(at, color=color, alpha=0.6, lw=1.2)
        elif hi > lo:
            ax.axvspan(lo, hi, color=color, alpha=0.12, lw=0)
        else:
            ax.axvline(lo, color=color, alpha=0.6, lw=1.2)
        y = 0.92 - 0.08 * (k % 5)
        ax.text(lo, y, f" {f.pathology} ({f.severity})", transform=xform, color=color, fontsize=8, va="top")


def _lr_axis(ax: Any, lr: Series, name: str, handles: list[Any], labels: list[str]) -> tuple[list[Any], list[str]]:
    twin = ax.twinx()
    s, v = downsample(lr.steps, lr.values)
    if _held_between_changes(v):  # a schedule of steps (or a constant): stairs, each rate held until the next
        (line,) = twin.step(s, v, where="post", color=LR, lw=1.0, ls="--")
    else:  # a rate that moves at most of its points (a warmup, a decay logged sparsely): a line through them
        (line,) = twin.plot(s, v, color=LR, lw=1.0, ls="--", marker="." if len(v) <= 60 else None, ms=3)
    twin.set_ylabel(_label(f"learning rate ({name})"), color=LR)
    twin.tick_params(axis="y", colors=LR)
    # Linear from 0: warmup, cosine and step schedules keep the shapes people know them by.
    if len(v) and v.min() >= 0:
        twin.set_ylim(0, max(float(v.max()), 1e-12) * 1.15)
    return [*handles, line], [*labels, _label(f"{name} (right axis)")]
