"""The text reader's layout cache returns exactly what reading every line with parse_line returns."""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrdoctor.errors import UnreadableLog
from lrdoctor.readers import _textcache, _textstyles, _textwindow, text
from lrdoctor.run import Log
from lrdoctor.source import Source
from tests.conftest import SAMPLE_LOGS, realworld_manifest

HERE = Path(__file__).resolve().parent
# Small bounds: windows, eviction and the end of the cache are reached within a few lines.
TIGHT = _textcache.LayoutLimits(layouts=3, variants=2, checks=0, window=40, run=200)
# Every line looked up, or only some; windows from the first repeat; few programs learnt.
LOOSE = _textcache.LayoutLimits(
    checks=0, window=30, run=90, streak=1, recent=1, probe_after=2, probe_every=3, learn_free=1, learn_cost=2
)


def read_both(data: bytes, monkeypatch: pytest.MonkeyPatch, limits: _textcache.LayoutLimits | None = None) -> tuple:
    """The log (or the error message) read line by line, and read through the layout cache."""
    results = []
    for plain in (True, False):
        with monkeypatch.context() as m:
            m.setattr(text, "PLAIN_ONLY", plain)
            if limits is not None and not plain:
                m.setattr(_textcache, "LIMITS", limits)
            try:
                results.append(text.read(Source("x.log", data=data)))
            except UnreadableLog as exc:
                results.append(str(exc))
    return results[0], results[1]


def assert_same(plain: Log | str, fast: Log | str) -> None:
    """Equal logs: every field, every float bit for bit (NaN, the sign of zero)."""
    if isinstance(plain, str) or isinstance(fast, str):
        assert plain == fast
        return
    assert (fast.source, fast.format, fast.step_kind) == (plain.source, plain.format, plain.step_kind)
    assert fast.warnings == plain.warnings
    assert repr(fast.hparams) == repr(plain.hparams)
    assert fast.hints == plain.hints
    assert list(fast.series) == list(plain.series)
    for name, want in plain.series.items():
        got = fast.series[name]
        assert got.name == want.name
        for field in ("steps", "values", "seq"):
            a, b = getattr(got, field), getattr(want, field)
            assert (a is None) == (b is None), (name, field)
            assert a is None or (a.dtype == b.dtype and a.tobytes() == b.tobytes()), (name, field)


def check(data: bytes | str, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = data.encode() if isinstance(data, str) else data
    plain, fast = read_both(raw, monkeypatch)
    assert_same(plain, fast)
    assert_same(plain, read_both(raw, monkeypatch, TIGHT)[1])
    assert_same(plain, read_both(raw, monkeypatch, LOOSE)[1])


# --- every log the project knows ---------------------------------------------------------------


@pytest.mark.parametrize("path", sorted((SAMPLE_LOGS / "text").iterdir()), ids=lambda p: p.name)
def test_sample_logs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check(path.read_bytes(), monkeypatch)


TEXT_ENTRIES = [e for e in realworld_manifest() if e["format"] == "text"]


@pytest.mark.parametrize("entry", TEXT_ENTRIES, ids=[e["file"][:40] for e in TEXT_ENTRIES])
def test_real_text_logs(realworld: Path, entry: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    check((realworld / entry["local_path"]).read_bytes(), monkeypatch)


def _inline_logs() -> list[str]:
    """Every string written in test_text.py (the logs its tests read, and some more)."""
    tree = ast.parse((HERE / "test_text.py").read_text())
    found = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return sorted(s for s in found if any(c.isdigit() for c in s))


INLINE = _inline_logs()


def test_inline_logs_are_found() -> None:
    assert len(INLINE) > 30 and any(s.startswith("iter 120: loss 2.3456") for s in INLINE)


@pytest.mark.parametrize("content", INLINE, ids=range(len(INLINE)))
def test_inline_logs(content: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each log once, and repeated: the repeats are read from the cache.
    check(content, monkeypatch)
    body = content if content.endswith("\n") else content + "\n"
    check(body * 5, monkeypatch)


# --- what the cache must get right -----------------------------------------------------------


REPEATS = 6  # lines of one layout: the first is parsed, the second teaches, the rest are cached


@pytest.mark.parametrize(
    "lines",
    [
        # A counter that is not finite is dropped by parse_line: the cached layout must refuse it.
        ["step=5 loss=1.5"] * REPEATS + ["step=1e999 loss=2.5", "step=7 loss=3.5", "step=1e999 loss=2.5"],
        ["epoch=1 loss=1.5"] * REPEATS + ["epoch=1e999 loss=2.5"] * 3 + ["epoch=2 loss=1.0"],
        ["iter 5: loss 1.5"] * REPEATS + ["iter " + "9" * 400 + ": loss 2.5"] * 3,
        # Numbers of the same form that overflow to inf: the same layout, a counter parse_line drops.
        ["step=5 loss=1.5"] * REPEATS + ["step=" + "9" * 400 + " loss=2.5"] * 3 + ["step=6 loss=1.5"] * 3,
        ["step=1e5 loss=1.5"] * REPEATS + ["step=1e999 loss=2.5", "step=2e5 loss=1", "step=1e999 loss=2.5"],
        ["epoch=1.5 loss=1.5"] * REPEATS + ["epoch=1.5e999 loss=2.5"] * 3 + ["epoch=2.5 loss=1.0"],
        ["epoch=1 step=2 loss=1.5"] * REPEATS + ["epoch=" + "9" * 400 + " step=3 loss=2.5"] * 3,
        # Numbers glued to letters are part of names.
        ["top1_acc=0.5 top5_acc=0.9 step=3"] * REPEATS + ["top2_acc=0.5 top6_acc=0.9 step=4"] * 3,
        ["loss=1.5 acc@1=0.5 v2.loss=3"] * REPEATS + ["loss=1.5 acc@5=0.5 v3.loss=3"] * 3,
        # One name twice on a line: the later value, at the first name's place.
        ["loss=1 lr=2 loss=3"] * REPEATS + ["loss=4 lr=5 loss=6"] * 3,
        # The form of a number is part of the layout: integer, decimal, exponent, words.
        ["step 1: loss 2"] * 3 + ["step 1.5: loss 2"] * 3 + ["step 1e3: loss 2e-3"] * 3 + ["step 2: loss nan"] * 3,
        ["loss=-0.0 lr=+0 x=.5 y=5."] * REPEATS + ["loss=0.0 lr=-0 x=.25 y=7."] * 3,
        ["Step 10 | loss:1.2345 lr:2e-05"] * REPEATS,
        ["s:0 trl:10.965596"] * REPEATS + ["s:1 tel:10.968871"] * REPEATS,
        ["d2.utils.events INFO: iter: 19  total_loss: 156.1  lr: 2.5e-05"] * REPEATS,
        ["step=1/100 loss=2", "step=2/100 loss=3"] * REPEATS + ["step=3/200 loss=4"] * 3,
        ["BASE_LR: 0.004", "  MOMENTUM: 0.9"] * 3 + ["Epoch: 1/30", "loss: 2.5"] + ["loss: 1.5"] * REPEATS,
        ["loss=1 time 12.34ms"] * REPEATS + ["loss=2 time 12.3 s"] * 3 + ["loss=3 time 12.3s/it"] * 3,
        ["2023-11-14 22:13:20,250 INFO train: step=0 loss=0.941359 lr=0.000125"] * REPEATS
        + ["2023-11-15 00:00:01,000 INFO train: step=1 loss=0.9 lr=1.25e-4"] * REPEATS,
        ["x = 5", "y: int = 3", "loss=1"] * REPEATS,
        ["Epoch 1: 50%|###| 1/2 [00:01<00:01, loss=2.3]\rEpoch 1: 100%|###| 2/2 [00:02<00:00, loss=2.1]"]
        + ["step=1 loss=2"] * REPEATS
        + ["Epoch 2: 100%|###| 2/2 [00:02<00:00, loss=1.9]"]
        + ["step=2 loss=1"] * REPEATS,
        # Digits of other scripts are digits to parse_line and to the cache.
        ["step=\u0661\u0662 loss=\u0663.\u0665"] * REPEATS + ["step=12 loss=3.5"] * 3,
        # A bar is full where its count reaches its total: two numbers compared, read off each line
        # by a bar's program (the copies it learns from are never full). A bar whose first refresh
        # shown is already full is a new bar, where a bar that is not full would be the last one.
        [
            f"Epoch {e}: {100 * k // 3}%|###| {k}/3 [00:01<00:01, loss=2.{e}{k}]"
            for e, counts in enumerate([(1, 2, 3), (3,), (1, 2, 3), (3,), (3,), (1, 2, 3)])
            for k in counts
        ],
        [f"Training: {k}0%|###| {k}/10 [00:01<00:01, loss=2.{k}]" for k in range(1, 10)]
        + ["Training: 10%|###| 10/10 [00:01<00:01, loss=2.0]", "Validating: 10%|###| 10/10 [00:01<00:01, loss=2.0]"]
        * 3,
        [f"{k}/9 [==============================] - 1s 10ms/step - loss: 0.{k}" for k in range(1, 10)] * 2,
        # A percent of four digits is no tqdm bar; of three or fewer, it is.
        ["Epoch 1: 1000%|###| 5/10 [00:01<00:01, loss=2.3]"] * REPEATS
        + ["Epoch 1: 100%|###| 5/10 [00:01<00:01, loss=2.3]"] * 3,
        # An integer beyond float64 in a printed dict is no value to parse_line.
        ["{'loss': 1, 'step': 5}"] * REPEATS
        + ["{'loss': " + "9" * 400 + ", 'step': 6}"] * 3
        + ["{'loss': 2, 'step': 7}"],
        # nanoGPT's model flops utilisation, and the examples seen of an epoch.
        ["iter 1: loss 2.3456, time 12.34ms, mfu 30.00%"] * REPEATS
        + ["iter 2: loss 2.3, time 1.5ms, mfu -100.00%"] * 3,
        ["Train Epoch: 3 [0/60000 (0%)]\tLoss: 0.2345"] * REPEATS + ["Train Epoch: 3 [640/60000 (1%)]\tLoss: 0.2"] * 3,
        # A printed dict's numbers are read by json or ast: '-0' is the integer 0, '07' or a digit of
        # another script is no number there (the dict is none), a 5000-digit integer beyond the
        # digits Python converts.
        ["{'loss': -5, 'step': 1}"] * REPEATS + ["{'loss': -0, 'step': 2}"],
        ['{"loss": -3, "num_updates": 1}'] * REPEATS + ['{"loss": -0, "num_updates": 2}'],
        [f"{{'Loss': 0.5, 'step': {i}}}" for i in range(1, 7)] + ["{'Loss': 0.5, 'step': 07}"],
        [f"{{'Loss': 0.5, 'step': {i}}}" for i in range(1, 7)] + ["{'Loss': 0.5, 'step': \u0667}"],
        [f"{{'Loss': 0.5, 'step': {i}, 'ids': [12]}}" for i in range(1, 7)]
        + ["{'Loss': 0.5, 'step': 7, 'ids': [" + "7" * 5000 + "]}"],
        # ... wherever such a number stands, read or not: a setting, a nested dict.
        ["config: {'lr': -0.181, 'batch_size': 7, 'loss_weight': 114}"] * REPEATS
        + ["config: {'lr': -0.731, 'batch_size': 5116, 'loss_weight': \u0661\u0662}"],
        ["config: {'lr': 400, 'batch_size': 455339, 'loss_weight': 8}"] * REPEATS
        + ["config: {'lr': 07, 'batch_size': 29251, 'loss_weight': 205}"],
        [f"{{'loss': 0.5, 'step': {i}, 'extra': {{'a': 1}}}}" for i in range(1, 7)]
        + ["{'loss': 0.5, 'step': 7, 'extra': {'a': 07}}"],
        # A number that is not finite changes how parse_line reads the rest of some lines.
        ["loss=1 Test Results: s=5 VAL_LOSS=0.5"] * REPEATS + ["loss=1 Test Results: s=" + "9" * 400 + " VAL_LOSS=0.5"],
        # A bar under an evaluation's marker: its fullness is renamed with its values, and read
        # off each line all the same.
        [f"Test Results x: {10 * k}%|#| {k}/10 [00:01<00:01, loss=1.{k}]" for k in (7, 8, 9, 10)],
        # A bar followed by another: parse_line reads the second, name and fullness too.
        [
            f"ep_1: {10 * k}%|#| {k}/10 [00:00<?]ep_1: {10 * k + 10}%|#| {k + 1}/10 [00:01<00:01, loss=1.{k}]"
            for k in (6, 7, 8, 9)
        ]
        + ["ep_2: 100%|#| 10/10 [00:01<00:01, loss=0.4]"],
        [f"keras: {10 * k}%|#| {k}/10 [00:00<?]  {k + 1}/32 [====] - loss: 0.{k}" for k in (2, 3, 4)]
        + ["keras: 50%|#| 5/10 [00:00<?]  32/32 [====] - loss: 0.3"],
        # A percent of four digits puts its first digit in the bar's description.
        ["Epoch 30%|#| 3/10 [00:01<00:01, loss=1.5]", "Epoch 40%|#| 4/10 [00:01<00:01, loss=1.5]"] * 2
        + ["Epoch 1000%|#| 5/10 [00:01<00:01, loss=1.5]"],
        ["lr: 30%|#| 3/10 [00:01<00:01, loss=1.5]", "lr: 40%|#| 4/10 [00:01<00:01, loss=1.5]"] * 2
        + ["lr: 1000%|#| 5/10 [00:01<00:01, loss=1.5]"],
        # A number that overflows to inf where the program reads none, in a bar and elsewhere.
        [f"Epoch 1: {k}0%|#| {k}/10 [00:01<00:01, step={k}e5, LR_X=0.1, loss=2.5]" for k in range(1, 6)]
        + ["Epoch 1: 60%|#| 6/10 [00:01<00:01, step=1e999, LR_X=0.1, loss=2.5]"],
        [f"Iter(train) [  10/3000] step: {k}e5, LR_X: 0.1, loss: 2.5" for k in range(1, 6)]
        + ["Iter(train) [  10/3000] step: 1e999, LR_X: 0.1, loss: 2.5", "loss: 1"],
        # ... and where a run that is not over the bound overflows with its exponent (1e309).
        [f"Iter(train) [10/30] step: {k}e5, LR_X: 0.1, loss: 2.5" for k in range(1, 5)]
        + ["Iter(train) [10/30] step: 1" + "0" * 210 + "e99, LR_X: 0.1, loss: 2.5"],
        [f"{{'loss': 0.5, 'step': {k}, 'num_updates': {k}}}" for k in range(1, 3)]
        + [f"{{'loss': 0.5, 'step': {k}, 'num_updates': " + "9" * 400 + "}" for k in range(3, 6)],
        # A digit of another script before a header: no name character to parse_line's header rule.
        [f"{k}Step 5: loss=1.{k}" for k in range(1, 7)] + ["\u0663Step 5: loss=1.4"],
        # An epoch computed from a count and a total beyond float's exact integers: the copies'
        # counts are lost in the sum, where a large count is not.
        ["Train Epoch: 1 [0/20000000000000000 (0%)] Loss: 1"] * 4
        + ["Train Epoch: 1 [10000000000000000/20000000000000000 (0%)] Loss: 1"],
        ["Train: 1 [0/20000000000000000]  Loss: 1"] * 4 + ["Train: 1 [10000000000000000/20000000000000000]  Loss: 1"],
        # A dict number 0 before a base letter or '_' reads as a literal or none, as other digits do not.
        ["{'loss': 1.5, 'x': 1b1}"] * 4 + ["{'loss': 1.5, 'x': 0b1}"],
        ["{'loss': 1.5, 'x': 1x1}"] * 4 + ["{'loss': 1.5, 'x': 0x1}"],
        ["{'global_step': 5, 'step': 1_5, 'Loss': 1.5}"] * 4 + ["{'global_step': 5, 'step': 0_5, 'Loss': 1.5}"],
        # A number's exponent read as a counter (ESPnet's '1epoch:', glued to it).
        [f"1.5e-05epoch:train:1-100batch: loss={i}.5" for i in range(1, 8)]
        + ["1.5e-07epoch:train:1-100batch: loss=9.5"],
    ],
    ids=range(54),
)
def test_layouts_that_must_not_be_generalised(lines: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for end in ("\n", "\r\n"):
        check(end.join(lines) + end, monkeypatch)
        check(end.join(lines), monkeypatch)


def test_negative_zero_in_printed_dicts_read_through_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    # A reward printed with '.0f' writes '-0' for a small negative value: the integer 0 to json.
    rewards = ["-0" if i % 97 == 50 else str(i % 4 - 1) for i in range(4000)]
    lines = [f"{{'step': {i}, 'loss': {1 / (i + 1):.4f}, 'reward': {r}}}" for i, r in enumerate(rewards)]
    check("\n".join(lines) + "\n", monkeypatch)
    # A leading zero in a number no program reads, deep in a run of lines: the dict is none there.
    lines = [f"{{'loss': {i / 1000}, 'step': {i}, 'extra': {{'a': {i % 5 + 1}}}}}" for i in range(5000)]
    lines[3001] = lines[3001].replace("'a': 2}", "'a': 02}")
    check("\n".join(lines) + "\n", monkeypatch)


def test_the_style_of_most_lines_names_the_format(monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs of two nanoGPT lines and of three llm.c lines, read one line at a time: llm.c wins.
    lines = [f"iter {i}: loss 1.5" for i in range(2)] + [f"s:{i} trl:2.5" for i in range(3)]
    check("\n".join(lines * 10) + "\n", monkeypatch)
    fast = read_both(("\n".join(lines * 10) + "\n").encode(), monkeypatch)[1]
    assert isinstance(fast, Log) and fast.format == "text-llmc"


@pytest.mark.parametrize("run", [2, 12])
def test_the_first_epoch_places_restarting_steps(run: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Epoch lines (a run of them, or short runs), then steps N/M that restart each epoch: they
    # count from the epoch of the first of them, whose steps stand as written (50, then 100 + 10).
    lines = [f"epoch={e} loss=1" for e in range(1, run + 1)] + ["step=3 x=1"]
    lines += [f"epoch={run + 1} step=50/100 loss=2", f"epoch={run + 2} step=10/100 loss=3"]
    check("\n".join(lines) + "\n", monkeypatch)
    fast = read_both(("\n".join(lines) + "\n").encode(), monkeypatch)[1]
    assert isinstance(fast, Log)
    assert fast.series["loss"].steps.tolist()[-2:] == [50, 110]


def test_a_new_layout_on_every_line(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [f"metric_{'abcdefghij'[i % 10]}{'xyz'[i % 3]}{i % 7 * 'q'} step={i} loss={i / 7}" for i in range(300)]
    check("\n".join(lines) + "\n", monkeypatch)


def test_empty_segment_is_nothing() -> None:
    # A line ending '\r\n' leaves an empty segment; the cache reads it as nothing, as parse_line does.
    assert text.parse_line("") is None


# --- random logs ---------------------------------------------------------------------------------


def _number() -> st.SearchStrategy[str]:
    ints = st.integers(-5, 10**7).map(str)
    decimals = st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: f"{f:.{abs(hash(f)) % 7}f}")
    exps = st.floats(allow_nan=False, allow_infinity=False).map(lambda f: f"{f:.3e}")
    odd = st.sampled_from(["nan", "inf", "-inf", "NaN", "+5", ".5", "5.", "-0", "0.0", "1.5e+01", "nan.0", "-inf."])
    # Numbers of the usual forms that overflow to inf: the same layouts as finite ones.
    huge = st.sampled_from(["9" * 400, "-" + "9" * 400, "9" * 400 + ".5", "1.500e+999", "1e999"])
    return st.one_of(ints, ints, decimals, exps, odd, huge)


TEMPLATES = [
    "2023-11-14 22:13:{} INFO train: step={} loss={} lr={}",
    "step {}: loss {}, time {}ms",
    "iter {}: loss {}, lr {}",
    "Epoch {} step={} train_loss={} val_loss={}",
    "epoch={} loss={} loss={}",
    "s:{} trl:{}",
    "top1_acc={} top5_acc={} step={}",
    "d2.utils.events INFO: iter: {} total_loss: {} lr: {}",
    "Epoch: {}/{}",
    "loss: {}",
    "  BASE_LR: {}",
    "step={}/{} loss={}",
    "Epoch [{}/10], Step [{}/600], Loss: {}",
    "{{'loss': {}, 'learning_rate': {}, 'epoch': {}}}",
    "Epoch {}: {}%|###| {}/10 [00:01<00:01, loss={}]",
    "Train: {} [ {}/100 ( 6%)]  Loss: {} (4.41)",
    "val loss {} at step {}",
    "loss={} time {} s lr-{}",
    "global_step {} loss {}",
    "x = {}",
    "{} loss={} lr={}",  # a number at the start of the line
    "{}: loss={}{}",
    "7{} loss={} lr={}",
    "2023-11-14T{}:13 loss={}",  # fixed digits next to a number read
    # Lines with { % [ ( read by parse_line's longer paths.
    "iter {}: loss {}, time {}ms, mfu {}%",
    "{}/10 [==============================] - 1s 10ms/step - loss: {} - val_loss: {}",
    "2024-01-01 12:00:00,123 INFO [train.py:{}] step={} loss={} lr={}",
    "{{'loss': {}, 'grad_norm': {}, 'learning_rate': {}, 'epoch': {}}}",
    '{{"num_updates": {}, "loss": {}, "lr": {}}}',
    "Epoch [{}][{}/1000]\tlr: {} loss: {}",
    "Epoch: [{}]  [{}/500]  eta: 0:01:00  lr: {}  loss: {} (2.85)",
    "Train Epoch: {} [{}/60000 ({}%)]\tLoss: {}",
    "Training: {}%|###| {}/{} [00:01<00:01, loss={}]",
    "optimizer Adam (lr={}) step={} loss={}",
    "[{}, {:>5}] loss: {}",
    "Val: loss {} acc {}",
    "valid | loss {} | ppl {}",
    "Val: loss {}, acc {}%",
    "Step {}: {{'loss': {}, 'lr': [{}, {}]}}",
    "epoch: {}, batch: {}/42, loss: {}",
    "[Epoch {}][Batch {}/{}] loss: {}",
    # Progress bars: full ones (the count is the total), without a total, after a source location.
    "Epoch {0}: {1}%|###| {2}/{2} [00:01<00:00, {3}it/s, loss={3}, v_num=0]",
    "Training: {}%|###| {}/? [00:01<?, loss={}, lr={}]",
    "[train.py:{}] Epoch {}: {}%|###| {}/20 [00:01<00:01, loss=2.5]",
    "{}%|###| {}/{} [00:01<00:01, loss={}]",
]


@st.composite
def logs(draw: st.DrawFn) -> str:
    odd = st.text(st.sampled_from(list("ab =:.-_/0123456789lossteprEI,|[]()%{}'\"\t")), max_size=30)
    out = []
    for _ in range(draw(st.integers(1, 12))):
        if draw(st.integers(0, 5)) == 0:
            out += [draw(odd)] * draw(st.integers(1, 4))
            continue
        template = draw(st.sampled_from(TEMPLATES))
        numbers = draw(st.lists(_number(), min_size=4, max_size=4))
        for _ in range(draw(st.integers(1, 8))):
            if draw(st.booleans()):  # vary some numbers, keep the rest
                i = draw(st.integers(0, 3))
                numbers[i] = draw(_number())
            out.append(template.format(*numbers))
    ends = [draw(st.sampled_from(["\n", "\n", "\n", "\r\n", "\r"])) for _ in out]
    body = "".join(line + end for line, end in zip(out, ends, strict=True))
    return body if draw(st.booleans()) else body.rstrip("\r\n")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=logs())
def test_random_logs(content: str, monkeypatch: pytest.MonkeyPatch) -> None:
    check(content, monkeypatch)


def test_values_are_floats_of_the_numbers_written(monkeypatch: pytest.MonkeyPatch) -> None:
    values = np.linspace(-2, 2, 50).tolist()
    body = "".join(f"step={i} loss={v!r} lr={v / 3:.3e}\n" for i, v in enumerate(values))
    plain, fast = read_both(body.encode(), monkeypatch)
    assert_same(plain, fast)
    assert isinstance(fast, Log)
    assert fast.series["loss"].values.tolist() == values
    assert fast.series["loss"].steps.tolist() == list(range(50))
    assert math.isclose(fast.series["lr"].values[-1], 2 / 3, rel_tol=1e-3)


def test_progress_bar_refreshes_are_read_without_parse_line(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = text.parse_line
    monkeypatch.setattr(text, "parse_line", lambda line: calls.append(line) or real(line))
    refreshes = [
        f"\rEpoch {e}: {100 * k // 250}%|###| {k}/250 [00:01<00:01, 25.0it/s, loss={1 / (e * 250 + k):.4f}, v_num=0]"
        for e in range(4)
        for k in range(1, 251)
    ]
    data = ("".join(refreshes) + "\n").encode()
    log = text.read(Source("x.log", data=data))
    assert log.series["progress/loss"].steps.tolist() == list(range(1, 1001))  # each epoch counts on
    assert log.series["progress/loss"].values[-1] == 0.001
    # Each epoch's bar is named apart ('Epoch 0', 'Epoch 1'): one bar layout, learnt once.
    assert len(calls) <= 10
    monkeypatch.setattr(text, "parse_line", real)
    assert_same(*read_both(data, monkeypatch))


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list("ab_.-/:()[]0123456789 py")), max_size=40))
def test_the_quick_test_before_a_source_location_misses_none(line: str) -> None:
    if _textstyles._SOURCE_AT.search(line):
        assert _textstyles._MAY_BE_SOURCE.search(line)
    assert _textstyles._unsourced(line) == _textstyles._SOURCE_AT.sub(" | ", line) or not (
        ".py:" in line or (("(" in line or "[" in line) and ":" in line)
    )


@pytest.mark.parametrize(
    "line",
    [
        "2023-11-14 22:13:{:02d},250 INFO train: step={} loss={:.6f}\n",
        # Lines parse_line reads by its longer paths: a percent, a source location, a dict.
        "iter {1}: loss {2:.6f}, time {0}.12ms, mfu 3{0}.00%\n",
        "2023-11-14 22:13:{:02d},250 INFO [train.py:120] step={} loss={:.6f}\n",
        "{{'loss': {2:.6f}, 'grad_norm': 1.{0}, 'learning_rate': 2e-05, 'step': {1}}}\n",
        # Digits in a name after an 'e' are no exponent that may overflow.
        "[gpu-node-001] step={1} loss={2:.6f}\n",
        "sample1000 step={1} loss={2:.6f}\n",
    ],
)
def test_the_cache_reads_most_lines_without_parse_line(line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = text.parse_line
    monkeypatch.setattr(text, "parse_line", lambda line: calls.append(line) or real(line))
    body = "".join(line.format(i % 60, i, 1 / (i + 1)) for i in range(1000))
    log = text.read(Source("x.log", data=body.encode()))
    assert log.series["loss"].steps.tolist() == list(range(1000))
    assert log.series["loss"].values[999] == 0.001
    # The first line, the second and its two copies (learning), two checked lines, the empty end.
    assert len(calls) == 7


def window_tables(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each window the cache offered to the whole-array reader was read by it."""
    taken: list[bool] = []
    real = _textwindow.WindowReader.table

    def spy(self: _textwindow.WindowReader, chunk: str, count: int) -> np.ndarray | None:
        found = real(self, chunk, count)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(_textwindow.WindowReader, "table", spy)
    return taken


@pytest.mark.parametrize(
    "line",
    [
        "2023-11-14 22:13:{:02d},250 INFO train: step={} loss={:.6f} lr={:.3g}",
        "{} loss={:.6f} lr={:.3g} x={}",  # numbers read at both ends of the line
        "{}: loss={}",
        "iter {} 7{:.6f} loss={} lr={}",  # a number glued after a digit is a fixed run
        "Epoch 3/10 step={} loss={:.4e} acc={:.2f} lr={}",
    ],
)
def test_long_runs_of_one_layout_are_read_a_window_at_a_time(monkeypatch: pytest.MonkeyPatch, line: str) -> None:
    rng = np.random.default_rng(0)
    body = "".join(
        line.format(*(int(x * 100) if k % 2 == 0 else float(x) for k, x in enumerate(rng.random(4)))) + "\n"
        for _ in range(5000)
    )
    taken = window_tables(monkeypatch)
    plain, fast = read_both(body.encode(), monkeypatch)
    assert_same(plain, fast)
    assert sum(taken) > 3  # the windows after the first few


@pytest.mark.parametrize(
    "change",
    [
        lambda i, line: line.replace("14 ", "9 ") if i > 3000 else line,  # a fixed run shorter
        lambda i, line: line.replace("14 ", "15 ") if i > 3000 else line,  # another date
        lambda i, line: line.replace("lr=", "lr_1=") if i < 3000 else line.replace("lr=", "lr_10="),  # a name
        lambda i, line: line.replace("loss=0.5", "loss=-0") if i % 97 == 5 else line,
        lambda i, line: line.replace("loss=0.5", "loss=-0.0") if i % 97 == 5 else line,
        lambda i, line: line.replace("loss=0.5", "loss=05") if i % 97 == 5 else line,
        lambda i, line: line.replace("loss=0.5", "loss=1e999") if i % 97 == 5 else line,
        lambda i, line: line.replace("loss=0.5", "loss=.5") if i % 97 == 5 else line,
        lambda i, line: line.replace("loss=0.5", "loss=0.5.") if i % 97 == 5 else line,
        lambda i, line: line.replace("step=", "step=1") if i % 97 == 5 else line,
        lambda i, line: line.replace("step=", "step 1") if i % 97 == 5 else line,
        lambda i, line: line.replace("INFO", "INF0") if i % 97 == 5 else line,
    ],
)
def test_lines_that_break_a_window_read_as_parse_line_does(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[int, str], str]
) -> None:
    """A window holding such a line is refused by the whole-array reader and read by the regex
    (or line by line): the same result."""
    line = "2023-11-14 22:13:{:02d},250 INFO train: step={} loss=0.5 lr={}"
    body = "".join(change(i, line.format(i % 60, i, i / 7)) + "\n" for i in range(6000))
    tables = window_tables(monkeypatch)
    plain, fast = read_both(body.encode(), monkeypatch)
    assert_same(plain, fast)
    assert any(tables) and not all(tables)


def test_negative_zero_keeps_its_sign(monkeypatch: pytest.MonkeyPatch) -> None:
    """'-0' is an integer token to orjson, which drops the sign: such windows go to the regex."""
    body = "".join(f"step={i} loss=-{i % 3} lr=-{i % 2}.0\n" for i in range(6000))
    tables = window_tables(monkeypatch)
    plain, fast = read_both(body.encode(), monkeypatch)
    assert_same(plain, fast)
    assert isinstance(fast, Log)
    assert str(fast.series["loss"].values[0]) == "-0.0" and str(fast.series["lr"].values[0]) == "-0.0"
    assert tables and not any(tables)


def test_losses_before_the_first_step_read_alike_through_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    # Lines of one layout before the first step are read a window at a time by the layout cache.
    content = "loss: 0\nloss: 0\nloss: 0\nloss: 0\n\n\n" + "2023-11-14 22:13:0 INFO train: step=0 loss=0 lr=0\n" * 2
    check(content, monkeypatch)


@settings(max_examples=500, deadline=None)
@given(st.text(st.sampled_from(list("0123456789 .+-eE_a{}:,'[]\"xXbBoO\n")), max_size=40))
def test_leading_zeros_over_bytes_match_the_regex(text: str) -> None:
    # The whole-window check of a printed dict's lines finds what the line-by-line regex finds.
    view = np.frombuffer(b"\n\n" + text.encode(), dtype=np.uint8)
    assert _textcache._leading_zero(view) == (_textcache._LEADING_ZERO.search(text) is not None)
    whole = text if text.endswith("\n") else text + "\n"
    lines = whole.split("\n")[:-1]
    assert _textcache._dict_safe_lines(whole) == all(map(_textcache._dict_safe, lines))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(*[st.sampled_from([1, 2, 3, 99, 200, 201]) for _ in range(4)]), min_size=1, max_size=5))
def test_windows_refuse_digits_that_may_overflow_as_the_regex_does(lengths: list[tuple[int, ...]]) -> None:
    # A window of lines of one layout is read whole only where no line has digits that may
    # overflow a float: what _digits_safe finds in the lines' text.
    reader = _textwindow.WindowReader("it: 0.0e-0, loss: 0", {}, [(4, 10), (18, 19)])
    lines = [f"it: {'1' * a}.{'2' * b}e-{'3' * c}, loss: {'4' * d}" for a, b, c, d in lengths]
    chunk = "".join(line + "\n" for line in lines)
    table = reader.table(chunk, len(lines))
    assert (table is not None) == _textcache._digits_safe(chunk)


def test_a_program_reads_no_line_whose_digits_may_overflow(monkeypatch: pytest.MonkeyPatch) -> None:
    # Lines of a learnt layout, one with 300 digits and one with an exponent of three, in windows.
    lines = [f"epoch: 1.5, it: {k}e{k % 90 + 10}, loss: 0.{k}" for k in range(1, 3000)]
    lines[2000] = "epoch: 1.5, it: 5e308, loss: 0.5"
    lines[2500] = "epoch: 1.5, it: " + "9" * 300 + ", loss: 0.5"
    check("\n".join(lines) + "\n", monkeypatch)
    layout = _textcache._Layout("epoch: 0.0, it: 0e0, loss: 0.0")
    pattern = re.compile(
        layout.regex(["epoch: ", "1", ".", "5", ", it: ", "2", "e", "10", ", loss: ", "0", ".", "5", ""], [])
    )
    assert pattern.fullmatch("epoch: 1.5, it: 2e10, loss: 0.5")
    assert not pattern.fullmatch("epoch: 1.5, it: 2e100, loss: 0.5")
    assert not pattern.fullmatch("epoch: 1.5, it: 2e10, loss: 0.\u0665")


@pytest.mark.parametrize(
    "wrapped",
    [
        "np.float64({v})",
        "np.float32({v})",
        "numpy.float64({v})",
        "tensor({v})",
        "tensor({v}, device='cuda:0', grad_fn=<MeanBackward0>)",
    ],
)
def test_numbers_printed_inside_their_type_in_a_dict(wrapped: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """numpy 2 prints a scalar as 'np.float64(2.08)', torch a scalar tensor as 'tensor(2.08)': a dict
    of them, printed as the HF Trainer's are, had lost its loss ("no series looks like a training
    loss", exit 2). Read alike through the cache and the full parse."""
    lines = [
        "{'loss': " + wrapped.format(v=f"{2.3 * 0.99**k:.4f}") + f", 'learning_rate': 0.001, 'epoch': {k / 50:.2f}}}"
        for k in range(1, 401)
    ]
    check("\n".join(lines) + "\n", monkeypatch)
    log = read_both(("\n".join(lines) + "\n").encode(), monkeypatch)[1]
    assert isinstance(log, Log) and set(log.series) == {"loss", "learning_rate"}
    assert log.series["loss"].values.tolist() == [round(2.3 * 0.99**k, 4) for k in range(1, 401)]


def test_a_bar_beside_other_lines_reads_alike_through_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bars that alone show the loss, read at every refresh, with `tqdm.write` lines between."""
    text = ""
    for k in range(1, 1201):
        text += f"\r{k // 12:3d}%|#   | {k}/1200 [00:01<00:00, 99.00it/s, loss={2.3 * 0.999**k:.4f}, lr=0.05]"
        if k % 100 == 0:
            text += "\r" + " " * 60 + f"\rstep {k}: val_loss {0.2 + 10 / k:.4f}\n"
    check(text + "\n", monkeypatch)
    fast = read_both((text + "\n").encode(), monkeypatch)[1]
    assert isinstance(fast, Log) and len(fast.series["progress/loss"]) == 1200 and len(fast.series["val_loss"]) == 12
