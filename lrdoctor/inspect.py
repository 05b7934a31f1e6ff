"""What a log holds: every series with its size, step range, extremes and non-finite count."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrdoctor import naming
from lrdoctor.run import Log, Run


@dataclass(frozen=True)
class SeriesInfo:
    name: str
    role: str  # "loss", "val_loss", "lr" or ""
    points: int
    first_step: float
    last_step: float
    min: float | None
    max: float | None
    nonfinite: int


def describe(log: Log) -> tuple[list[SeriesInfo], list[str]]:
    """One row per series, the guessed training loss, validation loss and learning rate marked,
    and the notes: what diagnose says of reading this log (points a resumed run wrote again, which
    the rows count as written and diagnose drops), and for a W&B export of several runs which one
    diagnose judges and how to choose another (`--metric` is what inspect is read for)."""
    from lrdoctor.errors import LrdoctorError
    from lrdoctor.normalize import normalize

    try:
        run: Run | None = normalize(log)
    except LrdoctorError:
        run = None
    roles = _roles(log, run)
    rows = []
    for name, s in log.series.items():
        finite = s.values[np.isfinite(s.values)]
        rows.append(
            SeriesInfo(
                name=name,
                role=roles.get(name, ""),
                points=len(s),
                first_step=float(np.nanmin(s.steps)) if len(s) else float("nan"),
                last_step=float(np.nanmax(s.steps)) if len(s) else float("nan"),
                min=float(finite.min()) if len(finite) else None,
                max=float(finite.max()) if len(finite) else None,
                nonfinite=int(len(s) - len(finite)),
            )
        )
    return rows, _notes(log, run, rows)


def _roles(log: Log, run: Run | None) -> dict[str | None, str]:
    """The series `diagnose` judges, beside it the validation loss and the learning rate: what
    normalize picks (a per-epoch loss denser than the per-step one, the reader's hints), else, for
    a log it cannot settle, the guesses by name."""
    if run is None:
        counts = {k: len(s) for k, s in log.series.items()}
        loss = log.hints.get("loss") or naming.find_loss(log.series, counts)
        val = log.hints.get("val") or naming.find_val_loss((k for k in log.series if k != loss), loss, counts)
        return {loss: "loss", val: "val_loss", log.hints.get("lr") or naming.find_lr(log.series): "lr"}
    return {run.metric: "loss", run.val_metric: "val_loss", run.lr_name: "lr"}


def _notes(log: Log, run: Run | None, rows: list[SeriesInfo]) -> list[str]:
    from lrdoctor.normalize import export_note

    said = list(log.warnings if run is None else run.warnings)
    loss = next((r.name for r in rows if r.role == "loss"), None)
    export = export_note(log, loss) if loss is not None else ""
    return [*said, export] if export else said
