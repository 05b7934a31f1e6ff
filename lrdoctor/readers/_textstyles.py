"""One line of a console log to the numbers it carries: the line styles the text reader knows.

Every pattern here runs in linear time on any line (no nested repetition that can backtrack
across the line), so one 20 MB line costs a few scans, not a hang. :func:`parse_line` returns a
:class:`Parsed` or None when the line carries nothing; the reader keeps the step context.
Lines without ``{ % [ (`` (plain ``key=value`` lines, the bulk of most logs) take a short path:
one header search and one ``findall``.
"""

from __future__ import annotations

import ast
import json
import math
import re
from typing import NamedTuple

from lrdoctor import naming
from lrdoctor.readers._common import BATCH_KEYS, OF_TOTAL, to_float

# Format labels; the reader reports the one most metric lines matched (see text.py).
TEXT = "text"
NANOGPT = "text-nanogpt"
LLMC = "text-llmc"
HF = "text-hf"
FAIRSEQ = "text-fairseq"
DETECTRON2 = "text-detectron2"
TIMM = "text-timm"
TORCHTUNE = "text-torchtune"
KERAS = "text-keras"
TABLE = "text-table"

PROGRESS = "progress/"  # prefix of running values shown on progress bars
BAR_COUNT = PROGRESS + "__n"  # a bar's counter N of "N/total": the step of a log of bars alone
BAR_FULL = PROGRESS + "__full"  # 1 where N is the total: the bar is done
# The rate on Flair's end-of-epoch lines: the series 'lr' where the iterations print none (with
# more digits than theirs, it would make steps of their rounding where they do).
EPOCH_LR = "__epoch_lr"
# The step an evaluation line names as its own ('eval step=25 val_loss=2.3'): the training's step
# where the lines' steps agree with the training lines' around them (State.log), else the
# evaluation's own count of its batches.
EVAL_STEP = "__eval_step"
MAX_DICT_CHARS = 1 << 20  # a dict print longer than this is no metrics line

# The epochs a run was set for, as its lines print them ('Epoch 11/50'), kept with its settings.
EPOCHS_PLANNED = "epochs"
STEP_NAMES = frozenset(
    {"step", "steps", "global_step", "iter", "iteration", "it", "_step", "num_updates", "train_step"}
)
EPOCH_NAMES = frozenset({"epoch", "ep", "epch"})  # (LeRobot: "ep:40 epch:1.01", its episodes then its epoch)
# Words that make a multi-word key a piece of a sentence ("... with validation loss: 5.32").
_STOP = frozenset({"a", "an", "the", "of", "with", "at", "in", "on", "for", "to", "from", "by", "is"}) | frozenset(
    {"was", "and", "or", "best", "new", "after", "before", "done", "as", "per", "than", "be"}
)
_LEVELS = frozenset({"info", "debug", "warning", "warn", "error", "critical", "trace", "notice"})
# A logger's name as logging prints it: a dunder ('__main__') or a dotted module path.
_MODULE = re.compile(r"__\w+__|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_DUNDER = re.compile(r"__\w+__")
# Words shortened with a dot inside a key ('Avg. Loss'), not the end of a sentence before it.
_ABBREVIATED = frozenset({"avg.", "ave.", "val.", "tot.", "trn.", "approx."})
# Placeholders written where a value was missing ("loss=N/A lr=0.001").
_MISSING = frozenset({"none", "null", "nil", "n/a", "na", "n.a", "nat", "undefined", "missing", "unknown", "tbd"})
_OK_TAILS = frozenset({"%", "."})
# ... and after NaN or Inf, the padding Lightning's progress bar gives a number without a decimal
# point ('nan.0', 'inf.0'; '-inf.' ends in a full stop): '2.0.1' is a version, no number.
_PADDED = frozenset({".0", ".00", ".000"})
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./@-")

# Kinds of keys.
METRIC, STEP, EPOCH, S, CONFIG, CAPS, SKIP = range(7)


class Parsed(NamedTuple):
    points: list[tuple[str, float]]
    step: float | None = None
    epoch: float | None = None
    step_total: float | None = None  # M of "step N/M" when the line also names an epoch
    style: str = TEXT
    bar: str | None = None  # progress-bar identity: refreshes of one bar keep only the last
    hparams: dict[str, float] | None = None  # config values and end-of-training totals


_NUM = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|[nN][aA][nN]|[iI]nf(?:inity)?|INF)"
# The same numbers, each read one way only: before a token that must follow (a bracket, the line's
# end), a run of digits that does not end so is given up in linear time, not tried at every split.
_ONE_NUM = r"[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|[nN][aA][nN]|[iI]nf(?:inity)?|INF)"
_WORD = r"[A-Za-z_][\w.@/\-]*"
# A further word of a multi-word key; never a non-finite value ("loss inf lr 1e-3" is loss=inf, lr=1e-3).
_MORE = rf"(?:[ ](?!(?i:nan|inf|infinity)\b){_WORD})"
# The first character, then a look back past it: no key starts inside a word, a path or a number.
# No key starts right after '=': 'optimizer=adam lr=0.001' is lr, not 'adam lr'.
_KEY = rf"(?<!=)[A-Za-z_](?<![\w./@\-][A-Za-z_])[\w.@/\-]*{_MORE}{{0,2}}"
# Characters glued to a number ("ms" of 12.34ms, ":30:43" of a time, ",3.39" of a list).
_TAIL = r"([^\s,;|)\]}>'\"]*(?:,(?=\d)[^\s,;|)\]}>'\"]*)*)"
# A unit one space after the number: "0.0015 s/iter", "1.5 s".
_UNIT = (
    r"((?:[ ](?=[smhKMGti])(?:s/iter|s/it|it/s|tok/s|tokens/s|samples/s|img/s|ms|secs?|seconds|s|mins?"
    r"|h|[KMG]i?B)(?![\w/:=]))?)"
)
# key: value or key=value, tensor(...) unwrapped; no key inside a quoted string ("device='cuda:0'").
_KEY_UNQUOTED = rf"(?<!=)[A-Za-z_](?<![\w./@\-'\"][A-Za-z_])[\w.@/\-]*{_MORE}{{0,2}}"
_STRICT = re.compile(rf"({_KEY_UNQUOTED})\s*[:=]\s*(?:tensor\()?({_NUM}){_TAIL}{_UNIT}")
# The same for lines without quotes or parentheses (most lines; faster).
_PLAIN = re.compile(rf"({_KEY})\s*[:=]\s*({_NUM}){_TAIL}{_UNIT}")
# 'loss': 0.72 or "loss": "0.72", as in a dict printed over several lines.
_QUOTED = re.compile(rf"(?<!\w)(['\"])({_WORD})\1\s*:\s*['\"]?({_NUM}){_TAIL}{_UNIT}")
# After a counter header ("iter 120: loss 2.34, time 12ms"), a space may also separate key and value.
_LOOSE = re.compile(rf"({_KEY_UNQUOTED})(?:\s*[:=]\s*|[ \t]+)(?:tensor\()?({_NUM}){_TAIL}{_UNIT}")
# A count written with thousands separators ('Step 1,000/50,000').
_GROUPED = r"\d{1,3}(?:,\d{3})+(?!\d)"
_HEADER = re.compile(
    r"([Ss]tep|STEP|[Ii]ter(?:ation)?|ITER(?:ATION)?|[Ee]poch|EPOCH|[Gg]lobal[_ ]step|[Bb]atch|BATCH|[Ii]t|IT|[Ee]p|EP)"
    r"(?:\s+|\s*\[\s*)"
    rf"({_GROUPED}|\d+)(?:\s*/\s*({_GROUPED}|\d+))?\s*\]?(?![\w.%/]|:\d)"
)
_TOTAL = re.compile(r"/(\d+)")
_PYTHON = re.compile(
    r"\s*(?:(?:def|class|import|from|return|if|elif|else|for|while|with|try|except|finally|assert|raise"
    r"|print|yield|global|lambda)\b|@\w|\"\"\"|''')"
    # An annotated assignment ('lr: float = 1e-3'): its annotation a type, a builtin one, a class
    # (capitalised) or a dotted name; not a metric's name ('INFO: step=0 loss=2.3', as logging's
    # '%(levelname)s: %(message)s' prints, and 'Validation: loss=0.7' are log lines).
    r"|\s*[A-Za-z_]\w*\s*:\s*(?:(?:int|float|str|bool|bytes|complex|list|dict|tuple|set|frozenset|object|type)\b"
    r"|[A-Z]\w*|[A-Za-z_]\w*\.[\w.]+)(?:\[[\w., ]*\])?\s*="
)
# A line that reports the best so far under a title ('Best: loss=0.31 (step 400)', 'INFO: Best
# model: val_loss=0.28'): no new point of the series it names.
_BEST_TITLE = re.compile(r"\s*(?:(?:info|debug|warning)\s*[:|\-]\s*)?(?:best|lowest)\b[^=:]{0,40}:", re.I)
# Source code dumped into a log: `x = f(...)` assignments and `f(...)` call statements.
_ASSIGN = re.compile(r"\s*[A-Za-z_][\w.]*(?:\[[^\]]*\])?\s*[-+*/%]?=(?!=)")
_CALL = re.compile(r"(?<![\w.])(?!tensor\()[A-Za-z_][\w.]*\(")
# A parenthesised group with key=value pairs: call arguments, module reprs, "(arch=8.6)".
_GROUP = re.compile(r"(?:(?<![\w.])(?!tensor\()[A-Za-z_][\w.]*|(?<![\w.]))\(([^()]*(?:\([^()]*\)[^()]*)*)\)")
_BARE_LOSS = re.compile(
    rf"\s*(?:(train|training|val|valid|validation|eval|test|evaluating|validating|testing)(?:\.{{3}}|…)?\s+)?"
    rf"loss\s+({_ONE_NUM})\s*",
    re.I,
)
# ... a progress word said as the split it names ('Evaluating... loss 2.24')
_SPLIT_OF = {"evaluating": "eval", "validating": "val", "testing": "test"}
# A logger's source location, no metric: 'trainer.py:120' ('%(filename)s:%(lineno)d'), ESPnet's '(trainer:732)'.
_SOURCE_AT = re.compile(
    r"(?<![\w./\-])[\w./\-]*\w\.py:\d+(?!\d)"
    rf"|\((?!(?i:{'|'.join(sorted(STEP_NAMES | EPOCH_NAMES, key=len, reverse=True))}):)[A-Za-z_][\w.]*:\d+\)"
    # ... and in square brackets, as a logging format puts it ('[INFO][trainer:837]')
    rf"|\[(?!(?i:{'|'.join(sorted(STEP_NAMES | EPOCH_NAMES, key=len, reverse=True))}):)[A-Za-z_][\w.]*:\d+\]"
    # ... and loguru's default, module:function:line before ' - ' ('__main__:train:11 - ')
    r"|(?<![\w./\-])[A-Za-z_][\w.]*:(?:[A-Za-z_]\w*|<module>|<lambda>):\d+ - "
)
# What every match of _SOURCE_AT holds: a quick test before its slower search.
_MAY_BE_SOURCE = re.compile(r"\.py:\d|:\d+[)\]]|:\d+ - ")
_STEP_KIND_VALUE = re.compile(r"(\d+) (train|val) (\d+\.\d+)\s*")
_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"\d")
_LONE_LOSS = re.compile(rf"\s*([A-Za-z_][\w.]*)\s+({_ONE_NUM})\s*")
_BAR_COUNTER = re.compile(r"(\d+)/(\d+|\?)\s*\[$")  # tqdm's "45/100 [" before its times
_TQDM = re.compile(r"(\d{1,3})%(?:\||\s+\d+/\d+\s+\[)")
# Keras 2's bar '32/32 [======>...]' and Keras 3's '32/32 ━━━━━━━━━━━━'.
_KERAS = re.compile(r"\s*(\d+)/(\d+) (?:\[[=>.]*\]|━+)")
_TORCHTUNE = re.compile(rf"(?<![\w.])(\d+)\|(\d+)\|Loss:\s*({_NUM})")
_TIMM = re.compile(r"(?<!\w)(Train|Test|Eval)( \(EMA\))?: *(\d+)? *\[ *(\d+)/(\d+)[^\]]{0,40}\]")
_BARE_NONFINITE = re.compile(r"(?<=[\s:\[,])(-?(?:nan|inf))(?=\s*[,}\]])")

# Raw key -> (series name, kind), and raw key -> name for plain metric keys (the hot path).
_info_cache: dict[str, tuple[str, int]] = {}
_metric_names: dict[str, str] = {}


def parse_line(line: str) -> Parsed | None:
    """The numbers one line (one carriage-return segment) carries, or None."""
    found = _parse_line(line)
    if found is not None and found.points and _MAY_EVALUATE.search(line):
        return _evaluation(line, found)
    return found


def parse_as_training(line: str) -> Parsed | None:
    """The numbers one line carries, a line marked as an evaluation's ('mode: eval') read as any other."""
    return _parse_line(line)


def _parse_line(line: str) -> Parsed | None:
    found = _parse_raw(line)
    if found is not None and found.points and (" Results" in line or " results" in line or "Test Error:" in line):
        return _results(line, found)
    return found


# A Keras callback's message ("Epoch 00008: early stopping", "Epoch 1: val_loss improved from inf
# to 0.40000, saving model to m.h5", "Epoch 5: ReduceLROnPlateau reducing learning rate to ..."):
# printed where stdout falls, often after the next epoch's header (Keras 1 numbered them from 0),
# it places nothing and its numbers are no metrics.
_KERAS_CALLBACK = re.compile(
    r"\s*Epoch \d+: (?:early stopping|[\w./-]+ (?:improved from|did not improve)|saving model to|"
    r"ReduceLROnPlateau|LearningRateScheduler)"
)


# Flair's ModelTrainer: after each epoch's 'epoch 1 - iter 504/5049 - loss 0.85 - lr: 0.000005' lines,
# 'EPOCH 1 done: loss 0.3592 - lr 0.0000050' (the epoch's mean, not a point of the running loss) and
# its evaluations, 'DEV : loss 0.6743 - score 0.7667' and 'TEST : loss ...'.
_FLAIR_DONE = re.compile(rf"\bEPOCH \d+ done: loss ({_ONE_NUM}) - lr ({_ONE_NUM})\s*$")
_FLAIR_EVAL = re.compile(rf"\b(DEV|TEST) : loss ({_ONE_NUM}) - score ({_ONE_NUM})\s*$")


def _flair(line: str) -> Parsed | None:
    m = _FLAIR_DONE.search(line)
    if m is not None:
        return Parsed([("train_epoch_loss", float(m.group(1))), (EPOCH_LR, float(m.group(2)))])
    m = _FLAIR_EVAL.search(line)
    if m is not None:
        split = m.group(1).lower()
        return Parsed([(f"{split}_loss", float(m.group(2))), (f"{split}_score", float(m.group(3)))])
    return None


# PyTorch's ReduceLROnPlateau(verbose=True): 'Epoch 00043: reducing learning rate of group 0 to
# 5.0000e-04.', printed at each cut only: no series of the rate (its rate before the first cut is
# not in it), and its numbers are no metrics.
_PLATEAU_CUT = "reducing learning rate of group"


# Lightning's ModelCheckpoint(verbose=True): "Epoch 1, global step 88: 'val_loss' reached 1.91983
# (best 1.91983), saving model to '...' as top 1", printed only where the monitored value is a new
# best ('was not in top 1' otherwise): a series of bests alone, no curve of the validation loss
# (it would hide a climb); and EarlyStopping(verbose=True): "Metric val_loss improved by 0.050 >=
# min_delta = 0.0. New best score: 2.148". Neither is a point of anything, whatever logging
# prefix stands before it ('INFO: ', '[rank: 0] ').
_CHECKPOINT = re.compile(r"\bEpoch \d+, global step \d+: '[^']+' (?:reached |was not in top)")
_EARLY_STOP = re.compile(r"\b(?:Metric \S+ improved\b|Monitored metric \S+ did not improve)")


def _parse_raw(line: str) -> Parsed | None:
    if line[:9].lstrip().startswith("Epoch ") and _KERAS_CALLBACK.match(line):
        return None
    if ", global step " in line and _CHECKPOINT.search(line):
        return None
    if "etric " in line and _EARLY_STOP.search(line):
        return None
    if _PLATEAU_CUT in line:
        return None
    if " done: loss " in line or " : loss " in line:
        found = _flair(line)
        if found is not None:
            return found
    line = _unsourced(line)
    if "epoch" in line and ("batch:" in line or "epoch results:" in line):
        found = _espnet(line)
        if found is not None:
            return found
    if "{" in line or "%" in line or "[" in line or "(" in line or line[:2] == "* " or "━" in line:
        return _parse_special(line)
    if _PYTHON.match(line) or _BEST_TITLE.match(line):
        return None
    found = _parse_pairs(line, None, _STRICT if "'" in line or '"' in line else _PLAIN)
    if found is not None and "num_updates" in line and ("| epoch " in line or "train_inner |" in line):
        return _fairseq_simple(line, found)
    if found is not None and "validation loss at " in line:
        return _megatron_eval(line, found)
    if found is not None and found.points and "ummary |" in line and _TRAIN_SUMMARY.match(line):
        # Demucs' '- Train Summary | Epoch 1 | Loss=0.2019 | ...': the epoch's means, no second point
        return found._replace(points=[(f"train_epoch_{k}", v) for k, v in found.points])
    if found is not None and found.epoch is not None and " batches |" in line:
        m = _LM_BATCHES.search(line)
        if m is not None:  # the batch of the epoch, and the epoch's batches
            return found._replace(step=float(m.group(1)), step_total=float(m.group(2)))
    if found is None and "loss" in line:
        # llm.c's 'val loss 3.28': a loss on a line of its own, or as a logger's message after its
        # prefix ('2024-05-01 09:00:10 | INFO | validation loss 2.24', loguru's source made a '|')
        bare = _BARE_LOSS.fullmatch(line) or _BARE_LOSS.fullmatch(line.rpartition(" | ")[2])
        if bare is not None:
            split = None if bare.group(1) is None else bare.group(1).lower()
            name = "loss" if split is None else f"{_SPLIT_OF.get(split, split)}_loss"
            return Parsed([(name, float(bare.group(2)))])
        titled = _titled(line)
        if titled is not None:
            return titled
        # nnU-Net's '2024-05-01 09:00:10.886255: train_loss -0.4322': one loss and its value after a
        # timestamp (a prefix of words, 'Validation: loss 3.5' or 'Best so far: val_loss 0.3', is no such line).
        head, _, rest = line.rpartition(": ")
        stamped = _DIGIT.search(head) is not None and _LETTER.search(head) is None  # a timestamp heads it
        lone = _LONE_LOSS.fullmatch(rest) if stamped else None
        if lone is not None and "loss" in lone.group(1).lower():
            return Parsed(_points([(lone.group(1), lone.group(2), "", "")])) or None
    if found is None:
        # build-nanogpt's log.txt: '250 train 4.051331', '250 val 4.1016' (its '250 hella 0.2617' is not read).
        row = _STEP_KIND_VALUE.fullmatch(line)
        if row is not None:
            return Parsed([(f"{row.group(2)}_loss", float(row.group(3)))], float(row.group(1)))
    return found


_TRAIN_SUMMARY = re.compile(r"[\s\-*>]*train(?:ing)? summary\s*\|", re.I)
# pytorch/examples' word_language_model (and the many scripts built on it): '| epoch   1 |   200/ 2983
# batches | lr 20.00 | ms/batch 11.43 | loss  7.71 | ppl  2230.12'.
_LM_BATCHES = re.compile(r"\|\s*(\d+)\s*/\s*(\d+) batches \|")


# fairseq's simple log format: '| train_inner | epoch 001:  100 / 1000 loss=8.49, ...' per update
# window, and at each epoch's end '| valid | epoch 001 | valid on 'valid' subset | loss 5.61 | ...'
# and the epoch's means '| train | epoch 001 | loss 7.05 | ...' (the logger names are missing in
# versions before 0.10; the subset phrase and the '|' after the epoch tell them apart).
_FAIRSEQ_EPOCH = re.compile(r"\|\s*(?:(\w+)\s*\|\s*)?epoch \d+ \|(?:\s*(\w+) on '[^']*' subset \|)?")


def _fairseq_simple(line: str, found: Parsed) -> Parsed:
    """A fairseq line as its JSON format names it: the end-of-epoch values are 'valid_*' (or the
    subset's name) and 'train_*' (the epoch's means), not points of the per-update loss."""
    m = _FAIRSEQ_EPOCH.search(line)
    if m is None:
        return found._replace(style=FAIRSEQ) if "train_inner |" in line else found
    prefix = (m.group(2) or m.group(1) or "train") + "_"
    points = [(prefix + k, v) for k, v in found.points]
    return found._replace(points=points, style=FAIRSEQ)


# PyTorch Ignite's examples after each epoch: 'Training Results - Epoch: 1  Avg accuracy: 0.48 Avg
# loss: 1.56' and 'Validation Results - ...': evaluations on the training and the validation set,
# not points of the training loss. The PyTorch tutorials' 'Test Error: \n Accuracy: 56.5%, Avg loss:
# 1.305452' (its two lines joined by the reader): the test set's.
_RESULTS = re.compile(
    r"(?<![\w.])(Training|Train|Validation|Valid|Val|Evaluation|Eval|Test|Testing) "
    r"(?:set )?(?:Results(?:\b|_\w*)|Error:)"  # ('Test set results_1hop: loss= 1.75', a GCN script's)
    r"(?![ \t:-]*[-+.]?\d)",  # 'Test Error: 28.95' is a value of its own, not a heading of values
    re.I,
)


def _results(line: str, found: Parsed) -> Parsed:
    """The values after the marker named as the evaluation's; a training value before it stays."""
    marks = list(_RESULTS.finditer(line))
    if not marks:
        return found
    prefixes: list[str] = []  # the prefix of each point the line holds after its first marker
    for m, nxt in zip(marks, [*marks[1:], None], strict=True):  # each marker heads the values up to the next
        part = _parse_raw(line[m.end() : nxt.start() if nxt is not None else len(line)])
        word = m.group(1).lower()
        prefix = "train_" if word.startswith("train") else "test_" if word.startswith("test") else "val_"
        prefixes += [prefix] * (len(part.points) if part is not None else 0)
    after = len(prefixes)
    if not after or after > len(found.points):
        return found
    named = [(k if k.startswith(p) else p + k, v) for p, (k, v) in zip(prefixes, found.points[-after:], strict=True)]
    return found._replace(points=found.points[:-after] + named)


# ESPnet2's reporter: '1epoch:train:601-700batch: iter_time=1.2e-04, loss=161.0, optim0_lr0=5.6e-04'
# per window of batches (counted within the epoch), and each epoch's '1epoch results: [train] ...,
# loss=172.7, ..., [valid] ..., loss=128.4, ...': the epoch's means per section, not points of the loss.
_ESPNET_BATCHES = re.compile(r"(?<![\w.])(\d+)epoch:(\w+):(\d+)-(\d+)batch:")
_ESPNET_RESULTS = re.compile(r"(?<![\w.])(\d+)epoch results:")
_SECTION = re.compile(r"\[(\w+)\]")


def _espnet(line: str) -> Parsed | None:
    m = _ESPNET_BATCHES.search(line)
    if m is not None:
        prefix = "" if m.group(2) == "train" else m.group(2) + "_"
        points = _points(_STRICT.findall(line, m.end()), prefix)
        return Parsed(points, float(m.group(4)), float(m.group(1))) if points else None
    m = _ESPNET_RESULTS.search(line)
    if m is None:
        return None
    sections = list(_SECTION.finditer(line, m.end()))
    points = []
    for i, section in enumerate(sections):
        end = sections[i + 1].start() if i + 1 < len(sections) else len(line)
        found = [f for f in _STRICT.findall(line, section.end(), end) if f[0] != "time"]  # '5 minutes and ...'
        points += _points(found, section.group(1) + "_")
    return Parsed(points, None, float(m.group(1))) if points else None


# A rate listed per parameter group (DeepSpeed's 'lr=[2e-05]'): the first group's.
_LISTED = re.compile(
    rf"(?i:(?<=lr=)|(?<=lrs=)|(?<=learning_rate=)|(?<=\blr: )|(?<=\blr )|(?<=\blearning rate: ))"
    rf"\[\s*({_NUM})(?:\s*,\s*{_NUM})*\s*\]"
)


# Megatron-LM's evaluations: ' validation loss at iteration 200 | lm loss value: 1.8E+00 | lm loss PPL:
# 6.0E+00 |', and at the end 'validation loss at the end of training for test data | ...'.
_MEGATRON_EVAL = re.compile(r"validation loss at (?:iteration \d+|the end of training for (\w+) data)")


def _megatron_eval(line: str, found: Parsed) -> Parsed:
    """A Megatron-LM evaluation's values, named as such ('val_lm_loss'), not as training metrics."""
    m = _MEGATRON_EVAL.search(line)
    if m is None:
        return found
    prefix = "test_" if m.group(1) == "test" else "val_"
    return found._replace(points=[(prefix + k.removesuffix("_value"), v) for k, v in found.points])


# A line of an evaluation: one that names its phase ('mode: val step: 2 loss: 1.17', 'phase=eval
# loss=0.9', Lightning's 'stage: validate') or counts the evaluation's own steps ('val step: 2'),
# before any loss on it (a training line may end with a setting such as 'eval_step=500', or hold
# a validation's values after its own). Its values are the evaluation's, and its step counts the
# evaluation's batches, not the training's (unless it is the global step).
_EVAL_WORDS = frozenset(
    {"val", "valid", "validate", "validating", "validation", "eval", "evaluate", "evaluating", "evaluation"}
    | {"dev", "test", "testing", "sanity_check"}
)
_EVAL_NAMES = rf"({'|'.join(sorted(_EVAL_WORDS, key=len, reverse=True))})"
# What follows an evaluation's name where it is a value, or its placeholder until the first
# evaluation ('val: 0.89', 'val: nan', 'val: n/a', 'val: -', but not 'Validation - Loss'): no title.
_NOT_YET = r"(?:[-+]?\.?\d|[-+]?(?:nan|inf)|none\b|null\b|n/?a\b|-(?![\s-]*[A-Za-z])|\?|$)"
_EVALUATION = re.compile(
    rf"(?<![\w.])(?<![A-Za-z] )(?:mode|phase|split|stage)\s*[:=]\s*['\"]?{_EVAL_NAMES}\b"
    rf"|(?<![\w.]){_EVAL_NAMES} (?:step|iter|iteration|it|epoch)\s*[:=]"
    # ... or a field of its own, first on a line of '|' fields (Demucs: '- Valid | Epoch 1 | 1/3 | ...'),
    # or after the counter ('Epoch 1 | val | loss 1.8', 'Epoch 1 - val - loss: 1.8', 'Epoch 1 [val]
    # loss: 1.8', 'epoch 1, val, loss=1.8')
    rf"|^[\s\-*>]*{_EVAL_NAMES}(?: summary)?\s*\|"
    rf"|(?:\||\s-|\[|\(|,)\s*{_EVAL_NAMES}\s*(?:\||-\s|\]|\)|,)"
    # ... or the word that opens the line, as a title ('Validation - Loss: 0.12', '[Val] loss: 0.3',
    # '==> Validation: loss=0.3', 'Evaluating on dev set... loss=0.3'), or a title before a colon
    # ('Epoch 3 validation: loss 0.3'); not a value of its own ('val: 0.3', 'eval=1').
    rf"|^[\s\-*>=#\[(]*{_EVAL_NAMES}\b(?![_.\-/])(?!\s*[:=]?\s*{_NOT_YET})"
    rf"|(?<![\w.]){_EVAL_NAMES}\s*:(?!\s*{_NOT_YET})",
    re.I,
)
_TITLED = re.compile(rf"[\s\-*>=#]*(?:{_EVAL_NAMES}|train|training)\s*[:|]\s*(?=[A-Za-z])", re.I)
_BETWEEN_PAIRS = re.compile(r"[\s,;|]*")


def _titled(line: str) -> Parsed | None:
    """Values after a title, each name a space before its value: an evaluation's ('Val: loss 1.9
    acc 0.62', 'valid | loss 2.1 | ppl 8.2'), which parse_line names so, or the training's
    ('train: loss 2.1 acc 0.3'); where a loss is among them and they are all the line holds
    ('Val: loss 0.3 over 500 samples' is a sentence, not values)."""
    title = _TITLED.match(line)
    if title is None:
        return None
    found, pos = [], title.end()
    for m in _LOOSE.finditer(line, pos):
        if not _BETWEEN_PAIRS.fullmatch(line, pos, m.start()):
            return None
        found.append(m.groups())
        pos = m.end()
    points = _points(found) if _BETWEEN_PAIRS.fullmatch(line, pos) else []
    return Parsed(points) if any("loss" in k.lower() for k, _ in points) else None


_MAY_EVALUATE = re.compile(r"(?i:mode|phase|split|stage|val|eval|test|dev|sanity)")
_GLOBAL_STEP = re.compile(r"(?i:global[ _]step\b)")


def _evaluation(line: str, found: Parsed) -> Parsed:
    """An evaluation line's values named as the evaluation's, at the training step it follows."""
    m = _EVALUATION.search(line)
    if m is None or found.bar is not None:
        return found
    if "loss" in line[: m.start()].lower():
        return _both_halves(line, m.start(), found)
    word = next(g for g in m.groups() if g).lower()
    prefix = "test_" if word.startswith("test") else "val_"
    epoch, step = found.epoch, None
    points = []
    for key, value in found.points:
        head, _, rest = key.partition("_")
        if head in _EVAL_WORDS and (rest in STEP_NAMES or rest in EPOCH_NAMES):  # its own counter, 'val_step'
            if rest in EPOCH_NAMES:  # an evaluation's epoch is the training's
                epoch = value
            elif rest == "global_step":  # 'mode: val global_step: 1000': the training's step
                step = value
            elif rest in STEP_NAMES:
                points.append((EVAL_STEP, value))
            continue
        named = naming.is_eval(key) or key in ("lr", "learning_rate")
        points.append((key if named else prefix + key, value))
    if step is None and _GLOBAL_STEP.search(line):  # 'phase=eval global_step=1000': the training's step
        step = found.step
    elif step is None and found.step is not None and all(k != EVAL_STEP for k, _ in points):
        points.append((EVAL_STEP, found.step))  # ('[eval] step=25 val_loss=2.3': the training's step, or its own)
    return found._replace(points=points, step=step, step_total=None, epoch=epoch)


def _both_halves(line: str, at: int, found: Parsed) -> Parsed:
    """A training line that holds an evaluation's values after its own, each under a title
    ('Epoch 3 | train: loss 0.52 acc 0.81 | val: loss 0.61 acc 0.77', '[train] loss=0.5 [valid]
    loss=0.6'): the values after the evaluation's title are the evaluation's, not a second write
    of the training's names (the later 'loss' had stood in for the training loss)."""
    names = [k for k, _ in found.points]
    if len(set(names)) == len(names):
        return found  # each value under a name of its own (ESPnet's '[train] ... [valid] ...' read so)
    rest = line[at:].lstrip(" \t|,")  # (the evaluation's title opens its half: '| valid | loss 2.1')
    head, tail = _parse_line(line[:at]), _parse_line(rest)
    if head is None or not head.points or tail is None or not any("loss" in k for k, _ in tail.points):
        return found
    evaluated = _evaluation(rest, tail)
    points = [*head.points, *((k, v) for k, v in evaluated.points if k != EVAL_STEP)]
    if head.step is None and head.epoch is None:  # the line's counter after both ('... [val] loss=0.6 step=100')
        return head._replace(points=points, step=found.step, epoch=found.epoch, step_total=found.step_total)
    return head._replace(points=points)


def _parse_special(line: str) -> Parsed | None:
    s = line.strip()
    if s[-1:] == "}" and "{" in s:
        found = _parse_dict(s)
        if found is not None:
            return found
    if "%" in s or "[" in s or "━" in s:
        found = _parse_bar(s)
        if found is not None:
            return found
    if "[" in s and ("Train" in s or "Test" in s or "Eval" in s):
        found = _parse_timm(s)
        if found is not None:
            return found
    if (
        "][" in s
        or (s[:1] == "[" and _TUTORIAL.match(s) is not None)
        or "Iter(" in s
        or "Epoch: " in s
        or "(val)" in s
        or "(test)" in s
        or "Test set:" in s
        or s.startswith(("* ", _AVERAGED))
    ):
        found = _parse_bracketed(s)
        if found is not None:
            return found
    if _PYTHON.match(s) or _BEST_TITLE.match(s) or _is_code(s):
        return None
    config: dict[str, float] = {}
    text = line.rstrip()  # indentation kept: an indented UPPER-CASE key is a config dump
    # DeepSpeed's 'lr=[2e-05]' (one rate per parameter group), or get_last_lr() printed as
    # 'lr: [0.03]' or 'LR [0.03]': the first group's
    if "=[" in s or ("[" in s and ("lr" in s or "LR" in s or "rate" in s)):
        text = _LISTED.sub(r"\1", text)
    if "(" in s and "=" in s:
        text = _GROUP.sub(lambda m: _group_to_config(m, config), text)
    found = _parse_pairs(text, config, _STRICT)
    if found is None and "loss" in s:  # 'Val: loss 1.9, acc 62.0%'
        found = _titled(s)
    if config and (found is None or not found.hparams):
        return found._replace(hparams=config) if found is not None else Parsed([], hparams=config)
    return found


def _is_code(s: str) -> bool:
    """`x = f(...)` or a bare `f(...)` call statement: Python source, not a log line."""
    m = _ASSIGN.match(s)
    if m is not None:
        return _CALL.search(s, m.end()) is not None
    return _CALL.match(s) is not None and not s.startswith("Namespace(") and s.endswith((")", "(", ","))


def _group_to_config(m: re.Match[str], config: dict[str, float]) -> str:
    inner = m.group(1)
    if "=" not in inner:
        return m.group(0)
    parsed = _collect(_STRICT.findall(inner), None, None, None, TEXT, None, False)
    for key, value in [] if parsed is None else [*parsed.points, *(parsed.hparams or {}).items()]:
        config.setdefault(key, value)
    return " "


def _parse_pairs(s: str, config: dict[str, float] | None, pairs: re.Pattern[str]) -> Parsed | None:
    indented = s[:1] in (" ", "\t")
    style = DETECTRON2 if "d2.utils.events" in s else TEXT
    found = pairs.findall(s)
    if "'" in s or '"' in s:
        found += [m[1:] for m in _QUOTED.findall(s)]
    # A line that opens with a counter pair (step=5, iter: 19) has no counter header to look for,
    # unless an epoch heads it ('epoch 1 step: 10 loss: 1.26'): the epoch places a count that
    # restarts each epoch (normalize runs it on). Its total ('Epoch 3/10') is not kept there, so
    # that a long log of such lines is still read a window at a time.
    kind = (_info_cache.get(found[0][0]) or _key_info(found[0][0]))[1] if found else None
    if kind == STEP and "poch" in s[: s.find(found[0][0])]:
        lead = _HEADER.search(s, 0, s.find(found[0][0]))
        if lead is not None and lead.group(1)[0] in "Ee":
            headed = _parse_headed(s, [lead], style, config, indented)
            if headed is not None and headed.hparams is not None and EPOCHS_PLANNED in headed.hparams:
                rest = {k: v for k, v in headed.hparams.items() if k != EPOCHS_PLANNED}
                headed = headed._replace(hparams=rest or None)
            return headed
    if not found or kind not in (STEP, EPOCH, S):
        first = _HEADER.search(s)
        if first is not None:
            headers = _own_headers(s, first.start())
            if headers:
                return _parse_headed(s, headers, style, config, indented)
    if not found:
        return Parsed([], hparams=config) if config else None
    return _collect(_unglued(found, s), None, None, None, style, config, indented)


# Words that make a counter another count of its own ('checkpoint step=500', 'max epoch=10').
_QUALIFIERS = _STOP | frozenset(
    {"max", "min", "total", "num", "n", "warmup", "checkpoint", "ckpt", "save", "saved", "last", "start", "end"}
    | {"resume", "resumed", "next", "prev", "previous", "log", "logging", "decay", "eval", "evaluation", "val"}
    | {"valid", "validation", "test", "dev", "early", "stop", "swa", "ema", "sample", "eval_every", "scheduler"}
)
_COUNTERS = frozenset({"step", "iter", "iteration", "epoch"})


def _own_headers(s: str, start: int = 0) -> list[re.Match[str]]:
    """The counters heading a line from `start`, each a word of its own ('warmup_step 100' holds none)."""
    return [h for h in _HEADER.finditer(s, start) if h.start() == 0 or s[h.start() - 1] not in _NAME_CHARS]


def _unglued(found: list[tuple[str, str, str, str]], s: str) -> list[tuple[str, str, str, str]]:
    """A word that is the value of the key before it is not the first word of the next key.

    'loss=N/A lr=0.001' is read as a key 'N/A lr': the placeholder was the missing value of the
    key before it (right after its '=' or ':'), and the key is 'lr'. So is one that opens the line
    ('None step=0 loss=2.3': a value printed before the pairs). 'NA loss: 5.0' after a value stays
    a key of its own. And a counter after the training's phase, the value of a 'key:' ('mode: train
    step: 5'), is the step, not a metric 'train_step'.
    """
    if not any(" " in f[0] and _glued(*f[0].split(" ", 1)) for f in found):
        return found
    out = []
    for f in found:
        word, sep, rest = f[0].partition(" ")
        if sep and _glued(word, rest):
            after = rf"[ \t]*{re.escape(word)}[ \t]+{re.escape(rest)}"
            if word.lower() in _MISSING:  # right after '=' or ':', or at the line's start
                glued = re.search(rf"(?:^|[=:]){after}", s) is not None
            else:  # after a 'key:' ('mode: train step: 5', 'INFO: train step: 5')
                glued = re.search(rf"[A-Za-z_][\w.]*[ \t]*:{after}", s) is not None
            if glued:
                f = (rest, f[1], f[2], f[3])
        out.append(f)
    return out


# The training's own phase, as a value before its counter ('mode: train step: 5', 'stage: fit
# epoch: 3'); any other word before a counter makes a key of its own ('checkpoint step', 'max
# epoch', and an evaluation's 'val step', which _evaluation reads).
_TRAIN_WORDS = frozenset({"train", "training", "fit", "fitting"})


def _glued(word: str, rest: str) -> bool:
    """Whether the first word of a key of several may be a value glued onto it (see _unglued)."""
    if word.lower() in _MISSING:
        return True
    return word.lower() in _TRAIN_WORDS and (rest.lower() in STEP_NAMES or rest.lower() in EPOCH_NAMES)


# litgpt's 'Epoch 1 | iter 4 step 1 | loss train: ...': its validation lines ('iter 100: val loss')
# count iterations, and so do its own metric logs: the iteration is the step.
_LITGPT = re.compile(r"\| iter \d+ step \d+ \|")


def _parse_headed(
    s: str, headers: list[re.Match[str]], style: str, config: dict[str, float] | None, indented: bool
) -> Parsed | None:
    """Lines led by counters ("iter 120: loss 2.34", "Epoch [1/10], Step [100/600], Loss: 2.3")."""
    step = epoch = total = None
    litgpt = "| iter " in s and _LITGPT.search(s) is not None
    batches = []
    counted = None  # 'Batch [100/600]' after an epoch: the batch of the epoch, and the epoch's batches
    for h in headers:
        value = float(h.group(2).replace(",", ""))
        if h.group(1)[0] in "Bb":  # 'Batch [100/600]': a point the state may read as the step (_batch_counter)
            batches.append(("batch", h.group(2).replace(",", ""), "", ""))
            if h.group(3) and epoch is not None:
                counted = (value, float(h.group(3).replace(",", "")))
        elif h.group(1)[0] in "Ee":
            epoch = value
            if h.group(3):  # 'Epoch [11/50]': the epochs the run was set for
                config = {**(config or {}), EPOCHS_PLANNED: float(h.group(3).replace(",", ""))}
        elif not (litgpt and h.group(1)[0] in "Ss"):
            step = value
            total = float(h.group(3).replace(",", "")) if h.group(3) else None
    before = _STRICT.findall(s, 0, headers[0].start())
    loose = []
    for h, after in zip(headers, [*headers[1:], None], strict=False):
        loose += _LOOSE.findall(s, h.end(), after.start() if after else len(s))
    lead = headers[0]
    if step is not None and lead.group(1)[0] in "SsIi":
        rest = s[lead.end() : lead.end() + 3].lstrip()
        style = TORCHTUNE if rest.startswith("|") else NANOGPT if rest.startswith(":") else style
    if step is None and counted is not None:
        # The step, where no other counter gives it: a count that restarts each epoch runs on by
        # the total (the evaluation lines of the same log may count the global step: 'step 42:
        # val_loss'); not a validation loop's own count ('Epoch 1 | Batch 5/10 | Val Loss: 1.95').
        parsed = _collect(_unglued(before + loose, s), counted[0], epoch, counted[1], style, config, indented)
        if parsed is not None and any(not naming.is_eval(name) for name, _ in parsed.points):
            return parsed
    return _collect(_unglued(before + batches + loose, s), step, epoch, total, style, config, indented)


def _collect(
    found: list[tuple[str, str, str, str]],
    step: float | None,
    epoch: float | None,
    total: float | None,
    style: str,
    config: dict[str, float] | None,
    indented: bool,
) -> Parsed | None:
    """Regex pairs (key, number, glued tail, unit) to counters, metric points and config values."""
    points: list[tuple[str, float]] = []
    append = points.append
    metric_name = _metric_names.get
    first = True
    held: list[tuple[int, str, float]] = []  # (where, key, value) of upper-case keys with a "_" (CONFIG)
    counted = None  # (where, count, total) of 'batch: 100/600'
    for raw, num, tail, unit in found:
        if unit or (tail and tail not in _OK_TAILS and tail[0] != "/" and not _padded(num, tail)):
            continue
        name = metric_name(raw)
        if name is not None:  # the hot path: a known metric key
            if not tail or tail[0] != "/" or name in BATCH_KEYS:  # ('batch: 100/600' is a count)
                counted = counted or _batch_of(name, num, tail, len(points))
                append((name, float(num)))
            first = False
            continue
        key, kind = _info_cache.get(raw) or _key_info(raw)
        if kind == METRIC or (kind == S and not first):
            if not tail or tail[0] != "/" or key in BATCH_KEYS:
                counted = counted or _batch_of(key, num, tail, len(points))
                append((key, float(num)))
        elif kind in (CONFIG, CAPS):
            if indented:
                if config is None:
                    config = {}
                config.setdefault(key, float(num))
            elif kind == CONFIG:
                held.append((len(points), key, float(num)))
            elif not tail or tail[0] != "/":
                append((key, float(num)))
        elif kind != SKIP:
            value = float(num)
            if math.isfinite(value) and (not tail or _TOTAL.fullmatch(tail)):
                if kind == EPOCH:
                    epoch = value
                    if tail:  # 'epoch: 11/50'
                        config = {**(config or {}), EPOCHS_PLANNED: float(tail[1:])}
                else:
                    step = value
                    if kind == S:
                        style = LLMC
                    elif tail:
                        total = float(tail[1:])
                        style = NANOGPT if style == TEXT else style
        first = False
    counted_away = False  # the line's batch count became its step: the count was a value of the line
    if (
        step is None
        and epoch is not None
        and counted is not None
        and _counts_training([*points, *((key, value) for _, key, value in held)], counted[0])
    ):
        # 'epoch: 3, batch: 10/42': the batch of the epoch is the step, run on by the epoch's batches
        at, step, total = counted
        del points[at]
        held = [(where - (where > at), key, value) for where, key, value in held]
        counted_away = True
    if held:
        # pix2pix/CycleGAN's '(epoch: 1, iters: 100, time: 0.86) G_GAN: 0.66 D_A: 0.11': beside a
        # counter and other values, or one naming a loss ('step 10: TRAIN_LOSS: 2.2, LEARNING_RATE:
        # 0.001'); 'step 0: MAX_STEPS: 3000, LOSS_SCALE: 65536, LOSS_GAMMA: 2.0' is settings
        valued = points or counted_away or any(naming.names_a_loss(k) for _, k, _ in held)
        if (step is not None or epoch is not None) and valued:
            for moved, (at, key, value) in enumerate(held):
                points.insert(at + moved, (key, value))
        else:  # 'BATCH_SIZE: 32' in a settings dump
            config = {**{key: value for _, key, value in held}, **(config or {})}
    if not points and step is None and epoch is None:
        return Parsed([], hparams=config) if config else None
    return Parsed(points, step, epoch, total if epoch is not None else None, style, None, config or None)


def _batch_of(key: str, num: str, tail: str, at: int) -> tuple[int, float, float] | None:
    """(where, count, total) of a batch counted out of its total ('batch: 100/600'), else None."""
    if tail and key in BATCH_KEYS and _TOTAL.fullmatch(tail):
        return at, float(num), float(tail[1:])
    return None


def _padded(num: str, tail: str) -> bool:
    return tail in _PADDED and num.lstrip("+-")[:1] in ("n", "N", "i", "I")


def _counts_training(points: list[tuple[str, float]], at: int) -> bool:
    """Whether a batch counted out of its total, the point at `at`, counts training batches: a
    line of a validation loop ('Epoch 1 | Batch 5/10 | Val Loss: 1.95') counts its own."""
    return math.isfinite(points[at][1]) and any(
        not naming.is_eval(name) for i, (name, _) in enumerate(points) if i != at
    )


def _points(found: list[tuple[str, str, str, str]], prefix: str = "") -> list[tuple[str, float]]:
    """Only the metric points of some regex pairs, their names prefixed."""
    parsed = _collect(found, None, None, None, TEXT, None, False)
    return [] if parsed is None else [(prefix + k, v) for k, v in parsed.points]


# The counters a phase word may head ('training step=100'): not a total of a config ('train_steps: 5000').
_PHASE_STEPS = frozenset({"step", "iter", "iteration", "global_step"})


def _logging_prefix(words: list[str]) -> int:
    """How many of a key's first words are a logging prefix, no words of the key: its level first
    ('INFO step', 'info: loss'), a level after a logger's name ('trainer INFO step', 'my.module
    INFO step': '%(name)s %(levelname)s %(message)s') or before one ('INFO __main__ step'), or a
    module's dunder name ('__main__ step'). A dotted word before a metric's ('heads.cls loss') is
    its namespace, and 'word error rate' a metric: only an upper-case level after the first word."""
    if len(words) > 2 and words[1].isupper() and words[1].lower() in _LEVELS:
        return 2
    if words[0].lower() in _LEVELS:
        if len(words) > 2 and (_MODULE.fullmatch(words[1]) or _named_counter(words[1:])):
            return 2
        return 1
    return 1 if _DUNDER.fullmatch(words[0]) else 0


def _named_counter(words: list[str]) -> bool:
    """A logger's name before a counter ('INFO trainer step': '%(levelname)s %(name)s %(message)s'),
    not a word that makes the counter another count ('INFO checkpoint step'). Without a level before
    it, a bare word may be a phase ('inference step=3') and stays in the key."""
    name, counter = words[0].lower(), words[-1].lower()
    return len(words) == 2 and counter in _COUNTERS and name not in _QUALIFIERS and name not in _TRAIN_WORDS


def _key_info(raw: str) -> tuple[str, int]:
    """A raw key as a series name (lower-case words joined by '_') and its kind."""
    words = raw.split(" ")
    if len(words) > 1:
        words = words[_logging_prefix(words) :]
        cut = max(
            (i + 1 for i, w in enumerate(words[:-1]) if w.endswith(".") and w.lower() not in _ABBREVIATED), default=0
        )
        words = [w.rstrip(".") for w in words[cut:]]
        if len(words) > 1 and words[-1].lower() in ("is", "was"):  # 'loss is: 0.5759' (Paddle's tutorials)
            words = words[:-1]
        if len(words) > 1 and any(w.lower() in _STOP for w in words):
            words = []
    key = "_".join(words).lower()
    phase, _, counter = key.partition("_")  # the training's own counter: 'train epoch=1', 'training step=100'
    if not key:
        kind = SKIP
    elif key in STEP_NAMES or key.endswith("_num_updates") or (phase in _TRAIN_WORDS and counter in _PHASE_STEPS):
        kind = STEP
    elif key in EPOCH_NAMES or (phase in _TRAIN_WORDS and counter == "epoch"):
        kind = EPOCH
    elif key == "s":
        kind = S
    elif raw.isupper():
        kind = CONFIG if "_" in raw else CAPS
    else:
        kind = METRIC
    info = (key, kind)
    if len(_info_cache) < 10_000:
        _info_cache[raw] = info
        if kind == METRIC:
            _metric_names[raw] = key
    return info


def _parse_dict(s: str) -> Parsed | None:
    """A dict printed on one line: HF Trainer (Python repr) or fairseq (JSON after a prefix)."""
    body = s[s.find("{") :]
    if len(body) > MAX_DICT_CHARS or body[1:].lstrip()[:1] not in ("'", '"'):
        return None
    obj = _load_dict(body)
    if not isinstance(obj, dict):
        return None
    numeric = {str(k): f for k, f in ((k, _dict_value(k, v)) for k, v in obj.items()) if f is not None}
    counted = obj.get("epoch")  # SlowFast's json_stats: "epoch": "3/300", of the 300 the run was set for
    planned = None
    if "epoch" not in numeric and isinstance(counted, str) and (m := OF_TOTAL.fullmatch(counted)):
        numeric["epoch"] = float(m.group(1))
        planned = {EPOCHS_PLANNED: float(counted.rpartition("/")[2])}
    if not numeric:
        return None
    if "train_runtime" in numeric:  # HF's end-of-training summary
        return Parsed([], hparams=numeric, style=HF)
    step_keys = [k for k in numeric if k in STEP_NAMES or k.endswith("num_updates")]
    if not step_keys and "epoch" not in numeric:
        if _SETTING.search(s[: s.find("{")]):
            # A setting printed as a dict, named so ("mp_cfg: {'opencv_num_threads': 0}"): no training
            # record; the line says nothing (not even through the plain parser, which would take its numbers).
            return Parsed([])
        if not any(_a_loss(k) for k in numeric):
            # No HF Trainer record either ('val_metrics={...}' after the loss, "{'lr': 0.001}"): the
            # plain parser reads the whole line, the text before the dict included.
            return None
    step = next((numeric[k] for k in step_keys if math.isfinite(numeric[k])), None)
    epoch = numeric.get("epoch")
    epoch = epoch if epoch is not None and math.isfinite(epoch) else None
    if step is None and epoch is None:  # the counters before the dict ('Step 10: {...}', 'epoch 3 {...}')
        counters = _counters_before(s[: s.find("{")])
        if counters is None:  # a summary of a point written before ('Best epoch 3: {...}'): no new one
            return Parsed([])
        step, epoch = counters
    skip = {*step_keys, "epoch"}
    points = [(k, v) for k, v in numeric.items() if k not in skip]
    style = FAIRSEQ if step_keys and any(k.endswith("num_updates") for k in step_keys) else HF
    return Parsed(points, step, epoch, style=style, hparams=planned)


# Words before a counter that make it no place of the line's values: a summary or a checkpoint's
# ('Best epoch 4: {...}', 'Resumed from checkpoint at step 120 {...}') names a point written before.
_SUMMARY_WORDS = frozenset(
    {"best", "final", "total", "average", "avg", "mean", "summary", "result", "results", "checkpoint"}
    | {"resume", "resumed", "resuming", "load", "loaded", "loading", "restore", "restored", "save", "saved", "saving"}
)
_WORDS = re.compile(r"[A-Za-z]+")


def _counters_before(head: str) -> tuple[float | None, float | None] | None:
    """(step, epoch) of the counters that head a printed dict, each a word of its own ('Step 10:',
    'Epoch 3, Step 120:'), with nothing but punctuation after the last one ('Step 3/3: final
    evaluation {...}' is a stage of a script). None where a word of a summary comes before them:
    the dict repeats the values of that step ('Best epoch 3: {...}')."""
    headers = _own_headers(head)
    if not headers or _LETTER.search(head, headers[-1].end()) is not None:
        return None, None
    if any(w.lower() in _SUMMARY_WORDS for w in _WORDS.findall(head, 0, headers[0].start())):
        return None
    step = epoch = None
    for h in headers:
        value = float(h.group(2).replace(",", ""))
        if h.group(1)[0] in "Ee":
            epoch = value
        elif h.group(1)[0] not in "Bb":
            step = value
    return step, epoch


def _dict_value(key: object, value: object) -> float | None:
    """A printed dict's value as a number; a rate listed per parameter group ("'lr': [0.05, 0.01]")
    is the first group's, as the logged rate of a run is."""
    if isinstance(value, list) and value and key in ("lr", "learning_rate"):
        return to_float(value[0])
    return to_float(value)


# Words that make a key with 'loss' in it a setting of the loss ('loss_weight', 'loss_type').
_SETTING_WORDS = frozenset({"weight", "weights", "coef", "coeff", "scale", "factor", "type", "fn", "name", "cfg"})


def _a_loss(key: str) -> bool:
    words = key.lower().replace("-", "_").split("_")
    return any("loss" in w for w in words) and not _SETTING_WORDS & set(words)


# A dict printed after a name of settings ('mp_cfg:', 'config =', 'train_args:').
_SETTING = re.compile(r"(?i)(?:cfg|config|conf|settings|args|params|options)\s*[:=]\s*$")


# A number printed inside its type: numpy 2's repr of a scalar ('np.float64(2.08)') and a torch
# scalar tensor's ('tensor(1.67)', 'tensor(1.67, device='cuda:0', grad_fn=<MeanBackward0>)'),
# as a dict of them prints.
_WRAPPED_NUMBER = re.compile(
    r"\b(?:(?:np|numpy)\.(?:float|int|uint)(?:16|32|64|128)?|tensor)"
    r"\(\s*([-+]?(?:\d[\d_]*\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf))\s*(?:,[^()]*)?\)"
)


def _load_dict(body: str) -> object:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        pass
    unwrapped = _WRAPPED_NUMBER.sub(r"\1", body) if "(" in body else body
    for text in (unwrapped, _BARE_NONFINITE.sub(r"'\1'", unwrapped)):
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return None


def _unsourced(line: str) -> str:
    """The line with a source location ('train.py:120', '[main.py:45]') made a separator: what is
    left is no 'key: value =' of code."""
    if (".py:" in line or (("(" in line or "[" in line or " - " in line) and ":" in line)) and _MAY_BE_SOURCE.search(
        line
    ):
        return _SOURCE_AT.sub(" | ", line)
    return line


def tqdm_bar(line: str) -> tuple[str, bool] | None:
    """The name parse_line gives a tqdm bar's line, and whether the bar is full (its count is its
    total), or None where the line holds no tqdm bar: what the text reader's layout cache does not
    learn from a line's numbers, as they are compared, not read."""
    s = _unsourced(line).strip()
    m = _TQDM.search(s)
    # Not where the percent has more digits than a bar's ('1000%': its first one joins the
    # description), nor where text follows the bar (parse_line reads that text instead).
    if m is None or s[m.start() - 1 : m.start()].isdecimal():
        return None
    rest = s[m.end() :]
    open_at, after = _bar_brackets(rest)
    if after.strip():
        return None
    return _bar_name(s, m) or "tqdm", _bar_full(_BAR_COUNTER.search(rest, 0, open_at + 1))


def _bar_brackets(rest: str) -> tuple[int, str]:
    """Where a tqdm bar's '[times, postfix]' opens in the text after its percent (-1: nowhere),
    and the text after it closes (a line printed straight after the refresh)."""
    open_at = rest.find("[")
    close_at = rest.find("]", open_at) if open_at >= 0 else -1
    return open_at, rest[close_at + 1 :] if close_at >= 0 else ""


def _bar_name(s: str, m: re.Match[str]) -> str:
    """A tqdm bar's description: the text before its percent."""
    return s[: m.start()].strip().rstrip(":").strip()


def _bar_full(counted: re.Match[str] | None) -> bool:
    """Whether a tqdm bar's 'N/total' reads the same on both sides."""
    return counted is not None and counted.group(2) != "?" and counted.group(1) == counted.group(2)


def _parse_bar(s: str) -> Parsed | None:
    """tqdm/Lightning bars (postfix values are running values) and Keras bars."""
    m = _TQDM.search(s)
    if m is not None:
        desc = _bar_name(s, m)
        tune = _TORCHTUNE.search(desc)
        if tune is not None:
            return Parsed(
                [("loss", float(tune.group(3)))],
                float(tune.group(2)),
                float(tune.group(1)),
                style=TORCHTUNE,
                bar=desc,
            )
        rest = s[m.end() :]
        open_at, after = _bar_brackets(rest)
        if after.strip():
            # A line printed right after a bar refresh, with no line break between (a script's
            # print while tqdm draws to the same stream): that line is the log's, not the bar's.
            glued = parse_line(after)
            if glued is not None and glued.points:
                return glued
        found = _STRICT.findall(rest, open_at) if open_at >= 0 else []
        # Values put in the description ('Epoch 3 loss: 0.2345', set_description) as well as the postfix.
        # A loss or rate put in the description after a counter ('Epoch 3 loss 0.2345'), as on a
        # log line; other numbers there ('of 10', 'GPU 0', 'Map (num_proc=4)') are no metrics.
        head = _HEADER.search(desc)
        if head is not None:
            found = [f for f in _LOOSE.findall(desc, head.end()) if _loss_or_rate(f[0])] + found
        elif ":" in desc or "=" in desc:  # Ignite's 'ITERATION - loss: 2.38': a loss or rate as a pair
            found = [f for f in _STRICT.findall(desc) if _loss_or_rate(f[0])] + found
        step = epoch = None
        if head is not None:
            if head.group(1)[0] in "Ee":
                epoch = float(head.group(2).replace(",", ""))
            elif head.group(1)[0] not in "Bb":  # (a bar's 'Batch 3' is its own count)
                step = float(head.group(2).replace(",", ""))
        points = _points(found, PROGRESS)
        counted = _BAR_COUNTER.search(rest, 0, open_at + 1) if points else None
        if counted is not None:  # the count, then whether the bar is full
            points += [(BAR_FULL, 1.0 if _bar_full(counted) else 0.0), (BAR_COUNT, float(counted.group(1)))]
        return Parsed(points, step, epoch, bar=desc or "tqdm")
    k = _KERAS.match(s)
    if k is None:
        return None
    final = k.group(1) == k.group(2)
    prefix = "" if final else PROGRESS
    return Parsed(_points(_STRICT.findall(s, k.end()), prefix), style=KERAS if final else TEXT, bar="keras")


# mmcv / mmengine: 'Epoch [3][50/1000]', 'Epoch(train)  [3][ 50/1000]', 'Iter(train) [  10/3000]'.
# torchvision's MetricLogger (DeiT, MAE, DETR, ...): 'Epoch: [3]  [100/500]  eta: ...  loss: 2.72 (2.85)'.
_MM = re.compile(r"(?<!\w)Epoch(?:\((?:train|training)\)|:)?\s*\[\s*(\d+)\s*\]\s*\[\s*(\d+)\s*(?:/\s*(\d+)\s*)?\]")
# Its end-of-epoch lines: the epoch's means ('Averaged stats: lr: 0.0005  loss: 2.37 (2.37)') and,
# in DeiT and the models built on it, the evaluation's ('* Acc@1 81.2 Acc@5 95.1 loss 0.85').
_AVERAGED = "Averaged stats:"
_EVAL_MEANS = re.compile(rf"^\* Acc@1 ({_NUM}) Acc@5 ({_NUM})(?: loss ({_NUM}))?\s*$")
_MM_ITER = re.compile(r"(?<!\w)Iter(?:\((?:train|training)\))?\s*\[\s*(\d+)\s*/\s*(\d+)\s*\]")
# Their evaluation lines: 'Epoch(val) [3][125]\tloss: 1.02', 'Iter(val) [125/125] ...'.
_MM_EVAL = re.compile(r"(?<!\w)(?:Epoch|Iter)\((val|test)\)\s*(?:\[\s*\d+\s*(?:/\s*\d+\s*)?\]){1,2}")
# pytorch/examples: 'Train Epoch: 3 [640/60000 (1%)]\tLoss: 0.2345' (examples seen of the epoch).
_TEST_SET = re.compile(rf"(?<!\w)Test set: Average loss: ({_NUM})")
_SEEN = re.compile(r"(?<!\w)Train Epoch: (\d+) \[\s*(\d+)/(\d+) \(\s*\d+%\)\]")


# pytorch/examples' imagenet ProgressMeter (MoCo, SimSiam and their forks): after 'Epoch: [0][  1/501]'
# or 'Test: [ 1/40]', tab-separated meters, each a name, its value and its running mean in
# brackets ('Loss 7.1782e+00 (7.1782e+00)').
_METER = re.compile(rf"\t([A-Za-z][\w@.\-]*(?: [A-Za-z][\w@.\-]*)?) +({_ONE_NUM}) *\( *({_ONE_NUM}) *\)(?=\t|\s*$)")


def _meters(s: str, pos: int, *, mean: bool) -> list[tuple[str, float]]:
    """A ProgressMeter line's values (or, with `mean`, their running means) after `pos`."""
    return _points([(m[0], m[2] if mean else m[1], "", "") for m in _METER.findall(s, pos)])


def _loss_or_rate(key: str) -> bool:
    words = key.lower().replace("-", "_").split()
    return any("loss" in w for w in words) or any(w in ("lr", "learning_rate") for w in words)


# Composer's console logger heads each block of values with its epoch and its batch of the whole
# run: '[epoch=1][batch=100/2000]:'.
_COMPOSER = re.compile(r"\[epoch=(\d+)\]\[batch=(\d+)/(\d+)\]:?$")
# PyTorch's CIFAR-10 tutorial and the scripts written from it: '[1,  2000] loss: 2.198', the epoch
# and the minibatch of the epoch (a count that restarts each epoch), then the running loss.
_TUTORIAL = re.compile(r"\[\s*(\d+)\s*,\s*(\d+)\s*\]\s*(?=(?i:(?:train(?:ing)?[ _])?loss)\b)")


def _parse_bracketed(s: str) -> Parsed | None:
    """Counters in brackets that the key-value rules do not read: mmcv's and mmengine's
    iterations within an epoch (a running count once they restart), the examples seen of
    the epoch in pytorch/examples (a fractional epoch), and Composer's batches."""
    m = _COMPOSER.match(s)
    if m is not None:
        return Parsed([], float(m.group(2)), float(m.group(1)))
    m = _TUTORIAL.match(s)
    if m is not None:
        points = _points(_STRICT.findall(s, m.end()))
        return Parsed(points, float(m.group(2)), float(m.group(1))) if points else None
    if s.startswith(_AVERAGED):  # the epoch's means, not a point of the running values
        points = _points(_STRICT.findall(s, len(_AVERAGED)), "averaged_")
        return Parsed(points) if points else None
    m = _EVAL_MEANS.match(s)
    if m is not None:
        names = ("test_acc1", "test_acc5", "test_loss")
        return Parsed([(name, float(v)) for name, v in zip(names, m.groups(), strict=True) if v is not None])
    m = _TEST_SET.search(s)
    if m is not None:  # pytorch/examples' evaluation after each epoch
        return Parsed([("test_loss", float(m.group(1)))])
    m = _SEEN.search(s)
    if m is not None:
        seen, size = float(m.group(2)), float(m.group(3))
        epoch = float(m.group(1)) + (seen / size if size > 0 else 0.0)
        points = _points(_STRICT.findall(s, m.end()))
        return Parsed(points, None, epoch) if points else None
    m = _MM_EVAL.search(s)
    if m is not None:  # an evaluation: at the training step it follows, its values named val_* / test_*
        points = _points(_STRICT.findall(s, m.end()), f"{m.group(1)}_")
        return Parsed(points) if points else None
    m = _MM_ITER.search(s)
    if m is not None:
        points = _points(_STRICT.findall(s, m.end()))
        return Parsed(points, float(m.group(1))) if points else None
    m = _MM.search(s)
    if m is None:
        return None
    points = _points(_STRICT.findall(s, m.end()))
    if "\t" in s:  # ProgressMeter's meters, beside any 'Lr: 0.0019' pair (SwAV)
        named = {k for k, _ in points}
        points = [p for p in _meters(s, m.end(), mean=False) if p[0] not in named] + points
    if not points:
        return None
    # Without its total ('Epoch: [0][50]'), a count that restarts each epoch: normalize runs it on.
    total = float(m.group(3)) if m.group(3) is not None else None
    return Parsed(points, float(m.group(2)), float(m.group(1)), step_total=total)


def _parse_timm(s: str) -> Parsed | None:
    """timm: 'Train: 3 [ 150/2502 (  6%)]  Loss: 4.32 (4.41) ...'; the bracketed running mean is skipped."""
    m = _TIMM.search(s)
    if m is None:
        return None
    points = _points(_STRICT.findall(s, m.end()))
    kind, ema, epoch_text, batch, total = m.groups()
    if not points and kind == "Test" and "\t" in s:
        # A ProgressMeter's validation: the running mean, so the pass's last line holds its mean.
        points = [("test_" + k, v) for k, v in _meters(s, m.end(), mean=True)]
        return Parsed(points) if points else None
    if kind == "Train":
        epoch = None
        if epoch_text is not None:
            epoch = float(epoch_text) + (float(batch) / float(total) if float(total) > 0 else 0.0)
        return Parsed(points, None, epoch, style=TIMM)
    prefix = kind.lower() + ("_ema_" if ema else "_")
    return Parsed([(prefix + k, v) for k, v in points], style=TIMM) if points else None
