"""Plain-text console logs: the fallback reader, tried after every structured format.

Each line (each carriage-return segment of a line) is read by the parsers in
:mod:`lrdoctor.readers._textstyles`; the styles it knows, and the format label reported when
most metric lines are of that style:

- ``text-nanogpt``: ``iter 120: loss 2.3456, time 12.34ms`` and ``step 2000: train loss 2.87, val
  loss 2.90`` (nanoGPT), ``step:1/3000 train_loss:10.8258 train_time:14600ms`` (modded-nanogpt).
- ``text-llmc``: ``s:0 trl:10.965596`` / ``s:0 tel:10.968871`` (llm.c; ``s`` is the step).
- ``text-hf``: HF Trainer dict prints ``{'loss': 2.31, 'learning_rate': 5e-05, 'epoch': 0.1}``
  (numbers may be strings); the final ``{'train_runtime': ...}`` summary goes to ``hparams``.
- ``text-fairseq``: JSON after a prefix, ``| train_inner | {"loss": "16.475", "num_updates": 100}``,
  and the simple format, ``| train_inner | epoch 001:  100 / 1000 loss=8.49, ..., num_updates=100``
  with each epoch's ``| valid | ... | loss 5.61 |`` and ``| train | ... | loss 7.05 |`` lines read
  as ``valid_*`` and ``train_*`` (the epoch's means), as the JSON format names them.
- ``text-detectron2``: ``d2.utils.events`` lines, ``iter: 19  total_loss: 156.1 ... lr: 2.5e-05``.
- ``text-timm``: ``Train: 3 [ 150/2502 (  6%)]  Loss: 4.32 (4.41)`` (the bracketed running mean is
  skipped); the step is the fractional epoch 3 + 150/2502. ``Test:`` lines become ``test_*``.
  torchvision's MetricLogger (DeiT, MAE, DETR): ``Epoch: [3]  [100/500]  ... loss: 2.72 (2.85)`` is
  step 3 * 500 + 100; ``Averaged stats:`` lines become ``averaged_*``, and DeiT's evaluation means
  ``* Acc@1 81.2 Acc@5 95.1 loss 0.85`` the last ``test_*`` values of their step.
- pytorch/examples' imagenet ProgressMeter (MoCo, SimSiam): ``Epoch: [0][  1/501]`` then
  tab-separated ``Loss 7.1782e+00 (7.1782e+00)`` meters (the value, then its running mean);
  ``Test: [ 1/40]`` lines are ``test_*`` running means (the pass's last is its mean).
- PyTorch Ignite's ``Training Results - Epoch: 1  Avg loss: 1.56`` and ``Validation Results - ...``
  become ``train_*`` and ``val_*``; the PyTorch Quickstart's ``Test Error:`` block, ``test_*``.
- ESPnet2: ``1epoch:train:601-700batch: ... loss=161.0`` (epoch 1, step 700 of the epoch) and
  each epoch's ``1epoch results: [train] ... [valid] ...`` means as ``train_*`` and ``valid_*``.
- nnU-Net's ``<time>: train_loss -0.4322``: one loss and its value after a timestamp.
- litgpt's ``| iter 4 step 1 |``: the iteration is the step (its validation lines count
  iterations); elsewhere a step beside an iteration stays the step.
- build-nanogpt's ``log.txt``: ``250 train 4.051331`` and ``250 val 4.1016``.
- ``text-table``: fastai's console table, ``epoch     train_loss  valid_loss  accuracy  time``
  over one row of numbers per epoch (read where the lines carried fewer than ``TABLE_BELOW``
  points of a training loss; :mod:`lrdoctor.readers._texttable`).
- ``text-torchtune``: ``Step 10 | loss:1.2345 lr:2e-05`` and the ``1|10|Loss: 1.23`` bar.
- ``text-keras``: the final ``N/N [====] - loss: 0.30 - val_loss: ...`` bar of each epoch (Keras 3:
  ``N/N ━━━━ - loss: ...``).
- ``text``: anything else with ``key=value`` / ``key: value`` pairs (separated by spaces, commas,
  ``|`` or `` - ``, after any logging prefix), and multi-line blocks where a line holding only a
  counter (``Epoch: 1/30``, Composer's ``[epoch=1][batch=100/2000]:``) sets the step for the lines
  after it.

Rules: keys from text lines become lower-case words joined by ``_`` (``Train Loss`` ->
``train_loss``); keys of dict prints stay as written. A number with a unit glued on
(``12.34ms``, ``11810M``, ``nanms``) or a following time unit (``0.4 s``) is no value, except
``%``; ``nan``/``inf`` are values. tqdm/Lightning postfix values are running values and are
kept under ``progress/`` (the last refresh of each bar only; in a log of bars alone, or where a
bar alone shows the training loss, every refresh, the bar's count ``N/total`` as the step, each
bar after the last, the other lines' values at the refresh before them). Values before any step or epoch
counter (a config dump) go to ``hparams`` when the log has counters at all, and so do
``key=value`` pairs inside parentheses (``Namespace(lr=0.1)``, module reprs) and UPPER_CASE
config keys (``BASE_LR: 0.004``). A logger's source location (``trainer.py:120``, ``(trainer:732)``)
is no value. A line marked as an evaluation's (``mode: val step: 2 loss: 1.1``,
``phase=eval``, ``val step: 2``, or a title: ``Validation - Loss: 0.12``, ``[Val] loss: 0.3``)
holds ``val_*`` (or ``test_*``) values at the training step it
follows; in a log where every metric line is so marked, they are the run's own loss, with a
note. Lines of Python source dumped into a log are skipped. The step kind is 'step' when any
line carries a step or iteration, else 'epoch', else 'index' (the number of the metric line).
Where a line names an epoch and a step ``N/M`` that restarts every epoch (``Epoch [2/10], Step
[100/600]``), the step becomes (epoch - first epoch) * M + N.

Speed: most lines of a long log repeat a few layouts (the text around the numbers). Once a
layout has been read a few times, its lines are read by a program learnt from parse_line and
checked against it (which number becomes which value), a window of lines at a time; the result
is the same as reading every line with parse_line (``PLAIN_ONLY`` does that, for tests).

Damage: bytes that are not UTF-8 are replaced, never fatal (UTF-16 and BOMs are decoded). A
last line without its newline may be cut short by a writer still running: it is skipped with
a warning unless the latest earlier lines of its kind share its digit layout (see
``_finished_lines``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from lrdoctor import naming
from lrdoctor.errors import UnreadableLog
from lrdoctor.readers import _yoloconsole, _yolotxt
from lrdoctor.readers._textcache import read_cached
from lrdoctor.readers._textstate import State
from lrdoctor.readers._textstyles import Parsed, parse_as_training, parse_line
from lrdoctor.readers._texttable import parse_tables
from lrdoctor.run import Log
from lrdoctor.source import Source, decode_text

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_BACKSPACES = re.compile(r"\x08+")
_TEST_ERROR = re.compile(r"(?m)^(Test Error:)[ \t]*\r?\n")
# A value Rich wrapped onto the next line, under the bar's postfix ('... val_loss: ' then
# '      1.988      '): joined to the key it belongs to.
_WRAPPED_VALUE = re.compile(
    r"([A-Za-z_][\w/.\-]*:)[ \t]*\r?\n[ \t]+([-+]?(?:\d[\d.]*(?:[eE][-+]?\d+)?|nan|inf))[ \t]*(?=[\r\n]|$)"
)
_DIGIT = re.compile(r"\d")
_DIGIT_RUNS = re.compile(r"\d+")
_LINE_BREAKS = re.compile(r"[\r\n]")
# How far back (characters) earlier lines of the last line's kind are looked for, and how many
# of the latest must share its digit layout: over several lines, a writer whose numbers vary
# in width (where a number cut short could pass for a whole one) shows itself.
LAYOUT_LOOKBACK = 1 << 20
LAYOUT_LINES = 3
_SNIFF = re.compile(r"(?i)(?:loss|trl|tel)\w*['\"]?\s*[:=]?\s*['\"]?(?:tensor\()?[-+]?(?:\d|\.\d|nan|inf)")


def sniff(head: bytes, name: str) -> bool:
    """At least two lines carrying a loss-like number."""
    hits = 0
    for line in decode_text(head).splitlines():
        if _SNIFF.search(line):
            hits += 1
            if hits >= 2:
                return True
    return False


def in_dir(path: Path) -> Path | None:
    return None


def read(source: Source) -> Log:
    text, warnings = _finished_lines(source.text(), source.label)
    if _yolotxt.looks_like(text):
        results = _yolotxt.read(text, source.label)
        if results is not None:
            results.warnings[:0] = warnings
            return results
    try:
        log = _read(text, source.label, parse_line)
    except UnreadableLog:
        table = _read_tables(text, source.label)  # no line carried a value: a table may hold them
        if table is None:
            raise
        log = table
    else:
        found = _loss_points(log)
        if found < TABLE_BELOW:  # no loss, or one printed once ('Final loss: 0.2') beside a table of them
            for table in (_read_tables(text, source.label), _yoloconsole.read(text, source.label)):
                if table is not None and _loss_points(table) > found:
                    log, found = table, _loss_points(table)
    if naming.find_loss(log.series) is None and _evaluations_only(log):
        # Every metric line is marked as an evaluation: a validation-only loop, or a script that
        # prints 'mode: eval' on its training lines. Its loss is the only one there is.
        whole = _read(text, source.label, parse_as_training)
        if naming.find_loss(whole.series) is not None:
            log = whole
            warnings.append(
                f"{source.label}: every line with a loss is marked as an evaluation's ('mode: eval', 'split=val');"
                " read as the run's own loss"
            )
    log.warnings[:0] = warnings
    return log


def _read_tables(text: str, label: str) -> Log | None:
    """The log of the console tables in `text` (:mod:`lrdoctor.readers._texttable`), where they
    hold a training loss."""
    rows = parse_tables(list(_segments(text)))
    if not rows:
        return None
    state = State()
    for row in rows:
        state.feed(row)
    log = state.log(label)
    return log if naming.find_loss(log.series) is not None else None


def _loss_points(log: Log) -> int:
    loss = naming.find_loss(log.series)
    return 0 if loss is None else len(log.series[loss])


def _evaluations_only(log: Log) -> bool:
    """Every series an evaluation's (val_*, test_*), but for a learning rate: no training line
    logged a value (a log whose training lines show a perplexity keeps its val_loss)."""
    rates = set(naming.lr_series(log.series))
    return bool(log.series) and all(naming.is_eval(n) or n in rates for n in log.series)


def _read(text: str, label: str, parse: Callable[[str], Parsed | None]) -> Log:
    state = State()
    if PLAIN_ONLY:
        feed = state.feed
        for segment in _segments(text):
            parsed = parse(segment)
            if parsed is not None:
                feed(parsed)
    else:
        read_cached(_clean(text), state, parse)
    state.flush()
    return state.log(label)


# Where the lines carry fewer points of a training loss than this, tables are looked for too.
TABLE_BELOW = 3
# Read every line with the full parse, never through the layout cache (for tests comparing both).
PLAIN_ONLY = False


def _finished_lines(text: str, label: str) -> tuple[str, list[str]]:
    """The text without a last line that is still being written.

    A last line without a line break may be cut short, and a number cut short reads as a wrong
    value ('loss 2.3' of 'loss 2.3456'). It is kept only when the latest earlier lines of its
    kind (the same text around the numbers) all have its digit layout (the same width of every
    number): a writer with fixed number formats whose run ended without a newline. Otherwise
    it is skipped with a warning.
    """
    cut = max(text.rfind("\n"), text.rfind("\r")) + 1
    last = text[cut:].strip()
    if not last or _same_layout_as_before(last, text[max(0, cut - LAYOUT_LOOKBACK) : cut]):
        return text, []
    if cut == 0:
        raise UnreadableLog(f"{label}: a single line with no newline; not a complete log line")
    line = text.count("\n", 0, cut) + 1
    return text[:cut], [f"{label}:{line}: the last line has no newline (still being written?); skipped"]


def _same_layout_as_before(last: str, before: str) -> bool:
    kind = _DIGIT_RUNS.sub("0", last)
    layout = _DIGIT.sub("0", last)
    seen = 0
    for line in reversed(_LINE_BREAKS.split(before)):
        line = line.strip()
        if line and _DIGIT_RUNS.sub("0", line) == kind:
            if _DIGIT.sub("0", line) != layout:
                return False
            seen += 1
            if seen == LAYOUT_LINES:
                break
    return seen > 0


def _clean(text: str) -> str:
    """The text without ANSI codes, backspaces as carriage returns, and the PyTorch tutorials'
    'Test Error: ' joined to the line of values it heads."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
        if "━" in text:  # Rich's bar, drawn on a terminal, wraps a long postfix
            text = _WRAPPED_VALUE.sub(r"\1 \2", text)
    if "\x08" in text:
        text = _BACKSPACES.sub("\r", text)
    if "Test Error:" in text:
        text = _TEST_ERROR.sub(r"\1 ", text)
    return text


def _segments(text: str) -> Iterator[str]:
    """Lines, with ANSI codes dropped and each carriage-return (progress) refresh on its own."""
    text = _clean(text)
    for line in text.split("\n"):
        if "\r" in line:
            yield from line.split("\r")
        else:
            yield line
