"""lrdoctor: what went wrong with the learning rate of a training run, and what rate to use."""

from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lrdoctor.errors import LrdoctorError

if TYPE_CHECKING:
    from lrdoctor.run import Log, Run, Series

__version__ = "0.1.0"
__all__ = ["Log", "LrdoctorError", "Run", "Series", "__version__", "diagnose_file", "load"]


def __getattr__(name: str) -> Any:
    """The run types on first use, so that importing the command line costs no numpy: start-up
    stays short, and Ctrl-C during it ends as an interruption, not a traceback from numpy's import."""
    if name in ("Log", "Run", "Series"):
        from lrdoctor import run

        return getattr(run, name)
    raise AttributeError(f"module 'lrdoctor' has no attribute {name!r}")


def load(
    path: str | Path,
    *,
    format: str | None = None,
    metric: str | None = None,
    segment: int | None = None,
    lr: float | None = None,
) -> Run:
    """Read a log (file, run directory or '-') and return the one run to judge.

    `format` forces a reader (see ``lrdoctor.readers.READERS``); `metric` names the series
    to judge (default: the training loss, found by name); `segment` picks one of several
    runs appended to the same file (1-based, negative from the end; default the last);
    `lr` is the base learning rate: where the log records none, or in place of the one it
    records (with a warning). A directory or a glob is searched as `lrdoctor diagnose` searches
    it: one run found (a W&B folder's run, a Lightning version folder) is that run; several (a
    parent of TensorBoard runs, an MLflow experiment) raise :class:`LrdoctorError` naming
    them, where reading the folder as one log would mix them. One phase's event file of a run
    split by phase (Keras' run/train/), or one metric's file of a DVCLive run, stands for its
    run, as there.
    """
    from lrdoctor.errors import InputError
    from lrdoctor.normalize import normalize
    from lrdoctor.readers import read_log
    from lrdoctor.sweep import expand

    if lr is not None and (isinstance(lr, bool) or not (isinstance(lr, numbers.Real) and math.isfinite(lr) and lr > 0)):
        raise InputError(f"{path}: lr={lr!r} is not a learning rate (a finite number above zero)")
    targets = expand([str(path)]).targets if str(path) not in ("-", "") else []
    if len(targets) > 1:  # each read once: the one run found is returned as read
        return _the_one_run(str(path), targets, format=format, metric=metric, segment=segment, lr=lr)
    if len(targets) == 1 and targets[0].problem is None:
        path = targets[0].path
    return normalize(read_log(path, format=format), metric=metric, segment=segment, lr=lr)


def _the_one_run(path: str, targets: list[Any], *, format: str | None, **options: Any) -> Run:
    """The one run among the runs found in a folder, once the files that are no training log (a
    summary.txt beside it, which `lrdoctor diagnose` passes over) are set aside; several raise."""
    from lrdoctor.errors import InputError
    from lrdoctor.normalize import normalize
    from lrdoctor.readers import read_log
    from lrdoctor.sweep import Result

    found: list[tuple[str, Run | LrdoctorError]] = []
    for target in targets:
        try:
            found.append((target.path, normalize(read_log(target.path, format=format), **options)))
        except LrdoctorError as exc:
            if not Result(target, error=exc).skipped:
                found.append((target.path, exc))
    if len(found) > 1:
        runs = [name for name, _ in found]
        shown = ", ".join(runs[:3]) + (f" and {len(runs) - 3} more" if len(runs) > 3 else "")
        raise InputError(f"{path}: holds {len(runs)} runs ({shown}); load each of them")
    if not found:  # nothing but stray files: the folder itself, whose reader says what it looked for
        return normalize(read_log(path, format=format), **options)
    run = found[0][1]
    if isinstance(run, LrdoctorError):
        raise run
    return run


def diagnose_file(
    path: str | Path,
    *,
    format: str | None = None,
    metric: str | None = None,
    segment: int | None = None,
    lr: float | None = None,
) -> dict[str, Any]:
    """Read one log and diagnose it: the JSON document of `lrdoctor diagnose --format json`.

    A pure function of the file (it reads it, writes nothing, keeps no state), returning plain
    data, so it maps over many runs from any process pool or distributed engine (README,
    "Many runs"). Bad input raises :class:`LrdoctorError` with the one-line message.
    """
    from lrdoctor.diagnosis import diagnose
    from lrdoctor.report.json_report import to_dict

    return to_dict(diagnose(load(path, format=format, metric=metric, segment=segment, lr=lr)))
