"""YOLOv5's `results.txt` (up to v5.0, before it wrote results.csv): a headerless table, one line
per epoch, as `train.py` wrote it:

    epoch/epochs  gpu_mem  box  obj  cls  total  labels  img_size  P  R  mAP@.5  mAP@.5:.95  val_box  val_obj  val_cls

(`0/299     4.54G    0.1096    0.1037   0.07185    0.2851        78       640  0.008822 ...`). The
epoch counts from 0 of the epochs the run was set for. A run trained with `--notest` writes zeros
for every validation value but the last epoch's: those are no evaluations.
"""

from __future__ import annotations

import re

import numpy as np

from lrdoctor.readers._common import unfinished_note
from lrdoctor.readers._textstyles import _ONE_NUM
from lrdoctor.run import Log, Series

_NUMBER = _ONE_NUM  # the text reader's own number (nan and inf too: a diverged run's)
LINE = re.compile(rf"\s*(\d+)/(\d+)\s+(?:{_NUMBER})[GMK]?\s+((?:(?:{_NUMBER})\s+){{12}}(?:{_NUMBER}))\s*")
COLUMNS = (
    *("train/box_loss", "train/obj_loss", "train/cls_loss", "train/loss", "labels", "img_size"),
    *("metrics/precision", "metrics/recall", "metrics/mAP_0.5", "metrics/mAP_0.5:0.95"),
    *("val/box_loss", "val/obj_loss", "val/cls_loss"),
)
VALIDATION = ("metrics/precision", "metrics/recall", "metrics/mAP_0.5", "metrics/mAP_0.5:0.95")
FORMAT = "text-yolov5"


def looks_like(text: str) -> bool:
    """Whether one of the first lines with anything on them is a results.txt line (the first may
    be damaged)."""
    head = [line for line in text[:4096].splitlines() if line.strip()][:5]
    return any(LINE.fullmatch(line) is not None for line in head)


def read(text: str, label: str) -> Log | None:
    """The results.txt as a Log, or None where most of its lines are not of that layout."""
    lines = [line for line in text.splitlines() if line.strip()]
    rows = [m for m in (LINE.fullmatch(line) for line in lines) if m is not None]
    if not rows or len(rows) < 0.8 * len(lines):
        return None
    epochs = np.asarray([float(m.group(1)) for m in rows])
    planned = float(rows[-1].group(2)) + 1
    table = np.asarray([[float(v) for v in m.group(3).split()] for m in rows])
    seq = np.arange(len(rows), dtype=np.float64)
    series = {name: Series(name, epochs, table[:, k], seq) for k, name in enumerate(COLUMNS)}
    # Validated epochs: any validation value not 0 (--notest writes zeros on all but the last).
    validated = np.any(table[:, [COLUMNS.index(n) for n in (*VALIDATION, "val/box_loss")]] != 0, axis=1)
    parts = table[:, [COLUMNS.index(n) for n in ("val/box_loss", "val/obj_loss", "val/cls_loss")]]
    for name in ("val/box_loss", "val/obj_loss", "val/cls_loss", *VALIDATION):
        series[name] = series[name].take(validated)
    series["val/loss"] = Series("val/loss", epochs[validated], parts[validated].sum(axis=1), seq[validated])
    warnings = (
        [f"{label}: 'val/loss' is the sum of 'val/box_loss', 'val/obj_loss', 'val/cls_loss'"] if validated.any() else []
    )
    left = len(lines) - len(rows)
    if left:
        warnings.append(f"{label}: skipped {left} line(s) not in the layout of the others")
    note = unfinished_note(
        label, "epoch", float(epochs.max()), planned, "the total its lines print", done=epochs.max() + 1
    )
    if note is not None:
        warnings.append(note)
    hints = {"loss": "train/loss", "val": "val/loss"}
    return Log(label, FORMAT, series, step_kind="epoch", warnings=warnings, hparams={"epochs": planned}, hints=hints)
