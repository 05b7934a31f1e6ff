"""The range-test curve as a PNG (or any format matplotlib writes), the trials and the pick marked."""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from lrdoctor._compat import require
from lrdoctor.errors import ProbeError
from lrdoctor.probe.result import ProbeResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def check_target(path: str | Path) -> None:
    """Fail before the probe runs, not after, on a picture it could not write."""
    require("matplotlib", extra="probe")
    from matplotlib.backend_bases import FigureCanvasBase

    out = Path(path)
    suffix = out.suffix.lower().lstrip(".")
    if suffix and suffix not in FigureCanvasBase.get_supported_filetypes():
        raise ProbeError(f"--plot {path}: no picture format {suffix!r}; name it .png, .svg or .pdf")
    if not out.parent.is_dir():
        raise ProbeError(f"--plot {path}: no such folder {str(out.parent)!r}")
    try:
        if out.is_dir():
            raise ProbeError(f"--plot {path}: is a folder; name the picture file")
        _try_writing(out)
    except OSError as exc:  # a name too long, a folder not writable, a file that is locked
        raise ProbeError(f"--plot {path}: cannot write the figure ({exc})") from exc


def _try_writing(out: Path) -> None:
    """Open `out` for writing as savefig will, leaving it as it was: an existing file opened to
    append (nothing written, nothing cut), a new one created and removed again."""
    try:
        if not stat.S_ISREG(os.stat(out).st_mode):  # a FIFO or a device: opening it is writing to it
            return
        fd = os.open(out, os.O_WRONLY | os.O_APPEND)
    except FileNotFoundError:
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        except FileExistsError:  # a dangling link, or made meanwhile: savefig will tell
            return
        os.close(fd)
        out.unlink()
        return
    os.close(fd)


def plot(result: ProbeResult, path: str | Path) -> Path:
    """Write the figure to `path` (its suffix picks the format, PNG without one); headless (Agg backend)."""
    matplotlib = require("matplotlib", extra="probe")
    matplotlib.use("Agg", force=True)
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    try:
        _draw(ax, result)
        fig.tight_layout()
        out = Path(path)
        try:
            # Without a suffix the picture is a PNG under the very name asked for (matplotlib
            # would add '.png' to it).
            fig.savefig(out, format=None if out.suffix else "png")
        except (OSError, ValueError) as exc:
            raise ProbeError(f"--plot {path}: cannot write the figure ({exc})") from exc
    finally:
        plt.close(fig)
    return out


def _draw(ax: Axes, result: ProbeResult) -> None:
    if result.lrs:
        ax.plot(result.lrs, _finite(result.losses), color="0.75", lw=1, label="range test, per step")
        ax.plot(result.lrs[: len(result.smoothed)], result.smoothed, color="C0", lw=2, label="smoothed")
    if result.limit is not None:
        ax.axvline(result.limit, color="C1", ls="--", lw=1, label=f"stability limit {result.limit:.3g}")
    done = [t for t in result.trials if not t.diverged]
    if done:
        ax.scatter([t.lr for t in done], [t.loss for t in done], color="C2", zorder=3, label="trials (score)")
    ax.axvline(result.recommended_lr, color="C3", lw=2, label=f"recommended {result.recommended_lr:.3g}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    ax.set_title(f"lrdoctor probe: {result.source}"[:90], fontsize=9)
    finite = [v for v in (*result.smoothed, *(t.loss for t in done)) if math.isfinite(v)]
    if finite:
        lo, hi = min(finite), max(finite)
        pad = 0.1 * (hi - lo or abs(hi) or 1.0)
        ax.set_ylim(lo - pad, hi + pad)
    ax.legend(fontsize=8)


def _finite(values: tuple[float, ...]) -> list[float]:
    return [v if math.isfinite(v) else math.nan for v in values]
