"""Which series is the training loss, the validation loss and the learning rate, by name.

Writers spell the same quantity many ways: `loss`, `train_loss`, `train/loss`, `loss/train`,
`Train Loss`, `train_loss_step` (Lightning), `trl` (llm.c), `total_loss` (detectron2),
`epoch_loss` (Keras through TensorBoard); `lr`, `learning_rate`, `lr-Adam/pg1`
(Lightning's LearningRateMonitor), `train/learning_rate` (HF), `lr/group0`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping

_SPLIT = re.compile(r"[^a-z0-9]+")

_EVAL_WORDS = {"val", "valid", "validation", "eval", "evaluation", "test", "dev", "tel", "vl"}
_TRAIN_WORDS = {"train", "training", "trn", "tr"}
# Words marking the whole loss rather than one term of it.
_TOTAL_WORDS = {"total", "tot", "mean", "overall", "avg", "ave", "average", "main", "all"}
# Statistics of a series rather than the series (W&B exports, running maxima).
_STAT_WORDS = {"min", "max", "std", "var", "stddev", "count"}
# Compact names that some trainers print instead of "loss".
_LOSS_ALIASES = {"trl": "train", "tel": "val", "vl": "val", "tl": "train"}
# Words that name a loss without the word itself, as the last word of a name (OpenNMT's 'xent', a
# negative log-likelihood); a name with 'loss' in it comes first.
_LOSS_NAMES = {"xent", "nll"}
# ... and those that do only beside the split they were measured on ('train_mse', 'val_bce'; a lone
# 'ce' or 'mse' may be a metric's or a weight's).
_SPLIT_LOSS_NAMES = {"mse", "rmse", "mae", "bce", "ce", "crossentropy"}
# ... of which these are as often a metric logged beside a loss of another name (a regression's
# 'val_mae' beside its 'train_loss') as the loss itself: they pair only with a training loss of theirs.
_MEASURES = {"mse", "rmse", "mae"}
_LR_WORDS = {"lr", "learning_rate", "learningrate", "learning_rates"}
_NUMBERED_LR = re.compile(r"(?<![A-Za-z0-9.])lr\d+$")


def tokens(name: str) -> list[str]:
    """Lower-case word pieces of a series name: 'lr-Adam/pg1' -> ['lr', 'adam', 'pg1']."""
    return [t for t in _SPLIT.split(name.lower()) if t]


def role_tokens(name: str) -> list[str]:
    """The tokens that say what a series is. A W&B export names its columns '<run> - <metric>',
    and the run's name ('lr=3e-4', 'test-run-3') says nothing of the metric's role: the metric
    alone is read, unless the part before ' - ' is a role word and the metric does not name
    both its quantity and its split ('Loss - Train', 'Val - Loss', 'Learning Rate - Group 0',
    as some trainers write their headers; 'test - train/loss' is a run named 'test')."""
    scalars = add_scalars_parts(name)
    if scalars is not None:
        # The key names the series' role; the tag, shared by every key, only its quantity
        # ('Training vs. Validation Loss', as the PyTorch tutorial names it).
        tag, key = scalars
        return [t for t in tokens(tag) if t not in _TRAIN_WORDS and t not in _EVAL_WORDS] + tokens(key)
    head, sep, tail = name.rpartition(" - ")
    if not sep:
        return tokens(name)
    said = tokens(tail)
    # 'Loss - Train', 'Val - Loss': a header in two role words; a W&B run named 'test' still
    # names its metric in full after ' - ' ('train/loss').
    names_itself = (_is_loss(said) or bool(set(said) & _LR_WORDS)) and bool(set(said) & (_TRAIN_WORDS | _EVAL_WORDS))
    if set(tokens(head)) <= _ROLE_WORDS and not names_itself:
        return tokens(name)
    return said


def add_scalars_parts(name: str) -> tuple[str, str] | None:
    """(tag, key) of a series that torch's `add_scalars(tag, {key: ...})` wrote: its events lie in
    a folder named '<tag>_<key>' (a '/' of the tag written '_'), under the tag, so the reader
    names it '<tag>_<key>/<tag>' ('loss_train/loss', 'Loss_epoch_val/Loss/epoch')."""
    at = name.find("/")
    while at > 0:
        folder, tag = name[:at], name[at + 1 :]
        head = tag.replace("/", "_") + "_"
        if tag and folder.startswith(head) and len(folder) > len(head):
            return tag, folder[len(head) :]
        at = name.find("/", at + 1)
    return None


def names_a_run(name: str) -> bool:
    """'<run> - <metric>': the part before the last ' - ' is a run's name, not a role word
    ('Val - Loss')."""
    _, sep, tail = name.rpartition(" - ")
    return bool(sep) and role_tokens(name) == tokens(tail)


BOUNDS = ("__MIN", "__MAX")


def export_runs(columns: Iterable[str]) -> list[str]:
    """The runs of a W&B export, in the order written: the '<run>' of its '<run> - <metric>'
    columns. An export with '__MIN'/'__MAX' columns is W&B's for sure, whatever its runs are
    named ('train', 'val'). Without them, every such column must read as a run's metric
    (:func:`names_a_run`: 'A - loss', 'test - train/loss'), or some metric must be logged under
    two or more names, one of them a run's ('baseline - loss', 'test - loss'); a table of roles
    ('train - loss', 'val - loss', 'grad - norm') holds no runs."""
    columns = list(columns)
    dashed = [c for c in columns if " - " in c and not c.endswith(BOUNDS)]
    heads = list(dict.fromkeys(c.rpartition(" - ")[0] for c in dashed))
    if len(dashed) < len([c for c in columns if " - " in c]) or all(names_a_run(c) for c in dashed):
        return heads
    under: dict[str, list[str]] = {}
    for c in dashed:
        under.setdefault(c.rpartition(" - ")[2], []).append(c)
    shared = any(len(cs) > 1 and any(names_a_run(c) for c in cs) for cs in under.values())
    return heads if shared else []


_ROLE_WORDS = {"loss", "lr", "learning", "rate", "train", "training", "val", "valid", "validation", "eval", "test"}


# Words after 'loss' that make the name a setting or a statistic of the loss, not the loss:
# mixed precision's 'attempted_loss_scale' and 'loss_scale_window', a YAML's 'loss_weight', a GAN's
# discriminator scores ('Loss/scores/fake/mean').
_NOT_THE_LOSS = frozenset(
    {"scale", "scaler", "scaling", "window", "weight", "weights", "coef", "coeff", "coefficient", "factor"}
    | {"lambda", "ratio", "mult", "multiplier", "score", "scores", "type", "fn", "func", "function", "name"}
    | {"alpha", "beta", "gamma", "margin", "temperature", "eps", "epsilon", "smoothing"}  # a loss's parameters
    | {"points", "count", "counts", "samples"}  # how many there were: a listing's 'loss_points'
)
# ... and words before it that make the name a count ('num_loss_points').
_COUNT_WORDS = frozenset({"num", "number", "n"})


def _is_loss(toks: list[str]) -> bool:
    at = next((i for i, t in enumerate(toks) if "loss" in t), None)
    if at is not None and not (_NOT_THE_LOSS.isdisjoint(toks[at + 1 :]) and _COUNT_WORDS.isdisjoint(toks[:at])):
        return False
    last = toks[-1] if toks else ""
    named = (
        last in _LOSS_NAMES
        or (  # 'val_nll', not 'nll_weight'; 'train_mse', not a lone 'mse'
            last in _SPLIT_LOSS_NAMES and any(t in _TRAIN_WORDS or t in _EVAL_WORDS for t in toks[:-1])
        )
    )
    return any("loss" in t for t in toks) or named or any(t in _LOSS_ALIASES for t in toks[:1])


def names_a_loss(name: str) -> bool:
    """Whether a name says it is a loss (training or held-out), not a setting of one ('loss_scale')."""
    toks = role_tokens(name)
    return _is_loss(toks) and not _is_stat(toks)


def _is_eval(toks: list[str]) -> bool:
    if toks and toks[0] in _LOSS_ALIASES:
        return _LOSS_ALIASES[toks[0]] == "val"
    return any(t in _EVAL_WORDS for t in toks) or any(t.startswith("eval") for t in toks)


def is_eval(name: str) -> bool:
    """Whether a series name says it is measured on held-out data ('val_loss', 'eval/acc')."""
    return _is_eval(role_tokens(name))


def _is_stat(toks: list[str]) -> bool:
    """A statistic of a series, or a run's summary value (TensorBoard's add_hparams writes its
    metrics as `hparam/<name>`, one point in a folder of its own): no curve to judge."""
    return bool(toks) and (toks[-1] in _STAT_WORDS or "hparam" in toks or "hparams" in toks)


def _loss_rank(name: str, toks: list[str]) -> tuple[int, ...]:
    """Sort key for training-loss candidates: lower is more likely the training loss."""
    joined = "_".join(toks)
    exact = joined in {"loss", "train_loss", "loss_train", "training_loss", "train_loss_step", "trl"}
    return (
        0 if exact else 1,
        0 if (set(toks) & (_TRAIN_WORDS | _TOTAL_WORDS)) or joined == "loss" else 1,
        # Lightning's per-step series before its per-epoch average.
        1 if "epoch" in toks else 0,
        # A running/progress-bar value is a fallback only.
        1 if "progress" in toks else 0,
        # A loss named so before one named otherwise ('mlm_loss' before 'nll').
        0 if exact or any("loss" in t for t in toks) else 1,
        # A name that ends in its loss before one that files it under 'Loss' (StyleGAN's 'Loss/G/loss'
        # before 'Loss/signs/fake', each with its '/mean').
        0 if "loss" in next(_kept(reversed(toks)), "") else 1,
        len(toks),
    )


def _kept(toks: Iterable[str]) -> Iterator[str]:
    """The tokens that name a quantity, not how or when it was summarised."""
    return (t for t in toks if t not in _TOTAL_WORDS and t not in _PER_BATCH and t != "epoch")


def find_loss(names: Iterable[str], counts: Mapping[str, int] | None = None) -> str | None:
    """The training-loss series among `names`, or None when no name looks like a loss."""
    counts = counts or {}
    cands = []
    for order, name in enumerate(names):
        toks = role_tokens(name)
        if _is_loss(toks) and not _is_eval(toks) and not _is_stat(toks):
            # Between equals, the first written (the first run of a W&B export, as its table shows it).
            cands.append((_loss_rank(name, toks), -counts.get(name, 0), order, name))
    if not cands:
        return _lone_measure(names)
    chosen = min(cands)[3]
    # The per-batch (per-step) or training loss beside a sparser one of a likelier name
    # ('batch_loss' logged every batch, 'loss' every epoch; 'loss_train' at every epoch, 'loss' in
    # a closing summary): the denser curve is the one to judge.
    same = _quantity(chosen)
    denser = [
        (c[1], c[2], c[3])
        for c in cands
        if (_PER_BATCH | _TRAIN_WORDS) & set(role_tokens(c[3]))
        and _quantity(c[3]) == same
        and -c[1] >= 4 * counts.get(chosen, 0) > 0
    ]
    return min(denser)[2] if denser else chosen


def tied_losses(names: Iterable[str], chosen: str, counts: Mapping[str, int]) -> list[str]:
    """The other series as likely as `chosen` to be the training loss: named alike (a GAN's
    'd_loss' and 'g_loss', 'loss_cls' and 'loss_box' without their total) and logged as often."""
    toks = role_tokens(chosen)
    if not _is_loss(toks):
        return []
    rank = _loss_rank(chosen, toks)
    metric = chosen.rpartition(" - ")[2]  # (a W&B export's 'runA - train/loss': another run's, no tie)
    return [
        name
        for name in names
        if name != chosen
        and name.rpartition(" - ")[2] != metric
        and counts.get(name, 0) == counts.get(chosen, 0)
        and _is_loss(t := role_tokens(name))
        and not _is_eval(t)
        and not _is_stat(t)
        and _loss_rank(name, t) == rank
    ]


# A loss named by its measure alone ('mse', 'cross_entropy'), read as the training loss only where
# no name says loss (beside a 'loss' it is a metric: a regression's 'mse' next to its 'loss'), and
# where a step or epoch counter or a learning rate says the table is a training's ('mse' and 'mae'
# alone may be an evaluation's metrics).
_LONE_MEASURES = {"mse", "rmse", "mae", "bce", "ce", "crossentropy", "cross_entropy", "objective"}
_COUNTER_WORDS = {"step", "steps", "epoch", "epochs", "iter", "iteration", "it", "global_step", "batch"}


def _lone_measure(names: Iterable[str]) -> str | None:
    """The first series named by a loss's measure alone, not held out nor a statistic of one,
    beside a counter or a learning rate."""
    names = list(names)
    if find_lr(names) is None and not any("_".join(role_tokens(n)) in _COUNTER_WORDS for n in names):
        return None
    for name in names:
        toks = role_tokens(name)
        kept = [t for t in toks if t not in _TRAIN_WORDS]
        if "_".join(kept) in _LONE_MEASURES and not _is_eval(toks) and not _is_stat(toks):
            return name
    return None


def _quantity(name: str) -> set[str]:
    """What a loss name measures, without when or where it was logged: 'batch_loss', 'loss',
    'train/loss_step' are one quantity; 'kl_loss_step' another."""
    return set(role_tokens(name)) - _PER_BATCH - _TRAIN_WORDS


_PER_BATCH = {"batch", "step", "iter", "iteration", "minibatch"}


def find_val_loss(
    names: Iterable[str], train: str | None = None, counts: Mapping[str, int] | None = None
) -> str | None:
    """The validation-loss series that pairs with the training loss `train`.

    Validation before test (a test loss is often one final number), then the most points.
    """
    counts = counts or {}
    names = list(names)
    if train is not None and not _is_loss(role_tokens(train)):
        # A series not named a loss, judged as one ('mean_squared_error' with --metric): its own
        # held-out twin ('val_mean_squared_error'), not a 'val_loss' that may hold another quantity.
        twins = [n for n in names if _is_eval(role_tokens(n)) and _quantity(n) - _EVAL_WORDS == _quantity(train)]
        if twins:  # (validation before test, then the most points)
            return min(twins, key=lambda n: (_test_only(role_tokens(n)), -counts.get(n, 0)))
    cands = []
    for name in names:
        toks = role_tokens(name)
        if not (_is_loss(toks) and _is_eval(toks)) or _is_stat(toks):
            continue
        joined = "_".join(toks)
        plain = joined in {
            "val_loss",
            "eval_loss",
            "valid_loss",
            "validation_loss",
            "loss_val",
            "val_loss_epoch",
            "test_loss",
            "tel",
            "loss_validation",
            "eval_loss_step",
        }
        is_test = _test_only(toks)
        # Of the training loss's quantity ('val_mse' for 'train_mse', not 'val_mae')
        same = train is not None and _quantity(name) - _EVAL_WORDS == _quantity(train)
        if train is not None and not same and toks[-1] in _MEASURES and not any("loss" in t for t in toks):
            continue  # a metric named by its measure ('val_mse') beside a 'train_loss': not its loss
        theirs = _MEASURES & set(role_tokens(train)) if train is not None else set()
        if theirs and _MEASURES & set(toks) and not theirs & set(toks):
            continue  # another measure ('val_loss_mae' for a 'train_mse')
        cands.append((1 if is_test else 0, 0 if plain else 1, 0 if same else 1, -counts.get(name, 0), len(toks), name))
    return min(cands)[-1] if cands else None


def _test_only(toks: list[str]) -> bool:
    """A test set's, not a validation set's (a test loss is often one final number)."""
    return "test" in toks and not ({"val", "valid", "validation", "eval"} & set(toks))


def find_lr(names: Iterable[str]) -> str | None:
    """The learning-rate series: the first parameter group where there are several."""
    found = lr_series(names)
    return found[0] if found else None


def lr_group(name: str) -> int | None:
    """The parameter group a learning-rate series names ('lr-Adam/pg2' -> 2, 'lr/1' -> 1), if any."""
    toks = role_tokens(name)
    marked = (int(m.group(1)) for t in toks if (m := re.fullmatch(r"(?:pg|group|g|lr)(\d+)", t)))
    return next(marked, int(toks[-1]) if len(toks) > 1 and toks[-1].isdigit() else None)


def lr_series(names: Iterable[str]) -> list[str]:
    """Every learning-rate series, the one :func:`find_lr` takes first (parameter groups in order)."""
    cands = []
    for name in names:
        toks = role_tokens(name)
        joined = "_".join(toks)
        # ESPnet's 'optim0_lr0' (optimizer 0's parameter group 0), YOLO's 'x/lr0': ending so, not 'acc_lr0.1'.
        is_lr = bool(set(toks) & _LR_WORDS) or "learning_rate" in joined or _NUMBERED_LR.search(name) is not None
        if not is_lr or _is_stat(toks) or _is_eval(toks) or _is_loss(toks):
            continue
        if any(t in {"scale", "scaler", "factor", "decay", "warmup", "ratio", "mult"} for t in toks):
            continue
        cands.append((lr_group(name) or 0, len(toks), name))
    return [c[2] for c in sorted(cands)]


# A rate written into a run's name, as sweeps name their runs: 'lr1.00e-02_s0', 'lr=3e-4' (Hydra's
# multirun folders, 'optimizer.lr=0.01'), 'lr_0.001', 'learning_rate-1e-3'. The word stands alone
# (not 'clr'); the number is written as a rate is, with a point or an exponent ('lr5', 'lr-4' and
# 'lr1' are as often a version, a shorthand or a group), and ends the token ('lr1e-3_s0', not
# 'lr2.5abc').
_RATE_IN_NAME = re.compile(
    r"(?<![a-z0-9])(?:lr|learning[_-]?rate)[=_-]?"
    r"((?:\d+\.\d*|\.\d+)(?:e[+-]?\d+)?|\d+e[+-]?\d+)(?![a-z0-9.]|\.\d)",
    re.IGNORECASE,
)
# Words beside a rate's name that make it another setting than the rate trained at, in a run's
# settings ('min_lr', 'warmup_lr': lrdoctor.run) and in its path ('scheduler.min_lr=1e-06').
SIDE_RATE_WORDS = frozenset(
    {"min", "minimum", "floor", "lower", "start", "end", "final", "warmup", "warm", "decay", "scheduler"}
    | {"factor", "scale", "ratio", "mult"}
)
# ... as the word just before a rate in a name: 'min_lr1e-6', 'warmup-lr1e-5', 'final_lr_0.001'.
_SIDE_RATE = re.compile("(?:" + "|".join(sorted(SIDE_RATE_WORDS, key=len, reverse=True)) + ")[._-]?$", re.IGNORECASE)
# How many of a path's last names may hold it: the log's own (its file, or its run folder) and the
# three folders above it (a run named by its rate, then Lightning's lightning_logs/version_0);
# higher folders name projects and users ('/home/lr2.0/...'), not runs.
RATE_NAME_DEPTH = 4
# A name's number read as a rate only in the range rates are set in.
RATE_NAME_RANGE = (1e-9, 100.0)


def rate_in_path(path: str) -> tuple[float, str] | None:
    """The learning rate a run's path names, and the name that holds it: the nearest of its last
    RATE_NAME_DEPTH names (of the path made absolute, so that 'log.csv' read from inside its run's
    folder is placed) holding exactly one such rate, a file's extensions left out; None where none
    does, where the nearest names two different rates, or for standard input."""
    if not path or path == "-" or path.startswith("<"):  # ('<stdin>': no path to read)
        return None
    parts = [p for p in re.split(r"[\\/]+", os.path.abspath(path)) if p][-RATE_NAME_DEPTH:]
    for name in reversed(parts):
        stem = re.sub(r"(\.(gz|csv|tsv|json|jsonl|ndjson|log|txt|yaml))+$", "", name, flags=re.IGNORECASE)
        found = {float(m.group(1)) for m in _RATE_IN_NAME.finditer(stem) if not _SIDE_RATE.search(stem[: m.start()])}
        if len(found) > 1:
            return None
        if found:
            value = found.pop()
            lo, hi = RATE_NAME_RANGE
            return (value, name) if lo <= value <= hi else None
    return None
