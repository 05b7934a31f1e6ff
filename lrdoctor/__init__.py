"""lrdoctor: what went wrong with the learning rate of a training run, and what rate to use."""

from __future__ import annotations

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
    `lr` is the base learning rate where the log does not record it.
    """
    from lrdoctor.normalize import normalize
    from lrdoctor.readers import read_log

    return normalize(read_log(path, format=format), metric=metric, segment=segment, lr=lr)


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
