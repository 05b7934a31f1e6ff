"""YOLOv5's and Ultralytics' console output: a header line before each epoch's progress bar, the
bar's description a row of numbers under it.

    Epoch   gpu_mem       box       obj       cls    labels  img_size
    0/149     5.05G   0.06383   0.03304         0         0      1280: 100%|██████| 213/213 [...]

(Ultralytics: `Epoch  GPU_mem  box_loss  cls_loss  dfl_loss  Instances  Size`, counting epochs
from 1.) Between the memory and the last two columns (instances and image size) are the loss
parts, running means over the epoch: its last refresh holds the epoch's mean. Their sum is the
loss, as in the results files; a `total` column is the sum already.
"""

from __future__ import annotations

import re

import numpy as np

from lrdoctor.readers._common import unfinished_note
from lrdoctor.readers._textstyles import _ONE_NUM
from lrdoctor.run import Log, Series

HEADER = re.compile(r"^\s*Epoch\s+(?:gpu_mem|GPU_mem)\s+((?:[A-Za-z_]+\s+)+[A-Za-z_]+)\s*$", re.MULTILINE)
_NUMBER = _ONE_NUM  # the text reader's own number (nan and inf too: a diverged run's)
ROW = re.compile(rf"^\s*(\d+)/(\d+)\s+(?:{_NUMBER})[GMK]?\s+((?:(?:{_NUMBER})\s+)*(?:{_NUMBER}))\s*:")
FORMAT = "text-yolo-console"


def read(text: str, label: str) -> Log | None:
    """The console output as a Log, or None where it holds no header and rows under it."""
    header = HEADER.search(text)
    if header is None:
        return None
    names = header.group(1).split()
    losses = names[:-2]  # before the instances (labels) and image size columns
    if not losses:
        return None
    last: dict[int, list[float]] = {}  # epoch -> its last refresh's values
    planned = 0.0
    for line in re.split(r"[\r\n]", text):
        m = ROW.match(line)
        if m is None:
            continue
        values = [float(v) for v in m.group(3).split()]
        if len(values) != len(names):
            continue
        last[int(m.group(1))] = values
        planned = float(m.group(2))
    if len(last) < 2:
        return None
    epochs = np.asarray(sorted(last), dtype=np.float64)
    table = np.asarray([last[int(e)] for e in epochs])
    seq = np.arange(len(epochs), dtype=np.float64)
    series = {}
    for k, name in enumerate(losses):
        key = f"train/{name if name.endswith('loss') else name + '_loss'}"
        series[key] = Series(key, epochs, table[:, k], seq)
    warnings = []
    if "total" in losses:
        total = table[:, losses.index("total")]
    else:
        total = table[:, : len(losses)].sum(axis=1)
        if len(losses) > 1:
            parts = ", ".join(f"'train/{n if n.endswith('loss') else n + '_loss'}'" for n in losses)
            warnings.append(f"{label}: 'train/loss' is the sum of {parts}, each epoch's last progress-bar refresh")
    series["train/loss"] = Series("train/loss", epochs, total, seq)
    # YOLOv5 prints 0/149 for the first of 150 epochs; Ultralytics 1/100 for the first of 100.
    from_0 = epochs[0] == 0
    done = epochs.max() + from_0
    note = unfinished_note(
        label, "epoch", float(epochs.max()), planned + from_0, "the total its lines print", done=done
    )
    if note is not None:
        warnings.append(note)
    return Log(label, FORMAT, series, step_kind="epoch", warnings=warnings, hints={"loss": "train/loss"})
