"""rows_to_series (columnar, numpy) against a record-at-a-time reference of the same rules."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lrdoctor.readers._common import EPOCH_KEYS, STEP_KEYS, rows_to_series, steps_of_epochs, to_float


def reference(rows: list[dict[str, object]]) -> tuple[dict[str, tuple[list, list, list]], str, list[int]]:
    """The rules one record at a time: each numeric value is a point at the record's step."""
    placed: list[tuple[int, float, str, dict[str, float]]] = []  # index, step, kind, values
    unplaced = []
    # A counter key finite on no record is as if absent.
    counted = {k for row in rows for k, v in row.items() if (x := to_float(v)) is not None and math.isfinite(x)}
    for index, row in enumerate(rows):
        numeric = {k: v for k, v in ((k, to_float(v)) for k, v in row.items()) if v is not None}
        step, kind = None, "index"
        for keys, name in ((STEP_KEYS, "step"), (EPOCH_KEYS, "epoch")):
            named = [numeric[k] for k in keys if k in numeric and k in counted]
            finite = [v for v in named if math.isfinite(v)]
            if finite:
                step, kind = finite[0], name
                break
            if named:
                kind = "unplaced"
                break
        else:
            step = float(index)
        if kind == "unplaced":
            unplaced.append(index)
            continue
        assert step is not None
        placed.append((index, step, kind, numeric))
    kinds = {kind for _, _, kind, _ in placed}
    if {"step", "epoch"} <= kinds:
        stepped = [(i, step) for i, step, kind, _ in placed if kind == "step"]
        epoch_only = [i for i, _, kind, _ in placed if kind == "epoch"]
        if min(epoch_only) < stepped[-1][0]:
            # Written between the steps: the step of the last stepped record before each (the
            # first stepped record's, where none is).
            at = []
            for i in epoch_only:
                before = [step for j, step in stepped if j < i]
                at.append(before[-1] if before else stepped[0][1])
        else:
            # All appended after the steps: the last step at or before each one's epoch, where
            # the stepped records name their epochs; else spread evenly over the steps.
            dated = [(epoch_of(v), s) for _, s, k, v in placed if k == "step" and epoch_of(v) is not None]
            wanted = [s for _, s, k, _ in placed if k == "epoch"]
            if dated:
                at = []
                for e in wanted:
                    before = [step for d, step in dated if d <= e]
                    at.append(max(before) if before else min(step for _, step in dated))
            else:
                taken = sorted({s for _, s in stepped})
                stride = min((b - a for a, b in itertools.pairwise(taken)), default=1.0)
                lo, hi = taken[0] - stride, taken[-1]
                distinct = sorted(set(wanted))
                if len(distinct) < 2:
                    at = [hi] * len(wanted)
                else:
                    gap = min(b - a for a, b in itertools.pairwise(distinct))
                    base = distinct[0] - gap
                    shares = [min(max((e / 2 - base / 2) / (distinct[-1] / 2 - base / 2), 0), 1) for e in wanted]
                    at = [round(lo * (1 - sh) + hi * sh) for sh in shares]
        moved = iter(at)
        placed = [(i, float(next(moved)) if k == "epoch" else s, k, v) for i, s, k, v in placed]
    points: dict[str, tuple[list, list, list]] = {}
    for seq, (_, step, _, numeric) in enumerate(placed):
        for name, value in numeric.items():
            steps, values, seqs = points.setdefault(name, ([], [], []))
            steps.append(step)
            values.append(value)
            seqs.append(seq)
    kind = "step" if "step" in kinds else "epoch" if "epoch" in kinds else "index"
    return points, kind, unplaced


def epoch_of(numeric: dict[str, float]) -> float | None:
    return next((numeric[k] for k in EPOCH_KEYS if k in numeric and math.isfinite(numeric[k])), None)


VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.none(),
    st.booleans(),
    st.sampled_from(["1.5", "nan", "", "NA", "text", "-inf", "7%"]),
)
KEYS = st.sampled_from(["loss", "lr", "step", "global_step", "epoch", "iteration", "acc"])
ROWS = st.lists(st.dictionaries(KEYS, VALUES, max_size=5), max_size=30)


@settings(max_examples=400, deadline=None)
@given(ROWS)
def test_matches_the_record_at_a_time_rules(rows: list[dict[str, object]]) -> None:
    unplaced: list[int] = []
    series, kind = rows_to_series(rows, unplaced=unplaced)
    points, want_kind, want_unplaced = reference(rows)
    assert kind == want_kind
    assert unplaced == want_unplaced
    assert list(series) == list(points)  # same names, in the order first written
    for name, (steps, values, seqs) in points.items():
        got = series[name]
        np.testing.assert_array_equal(got.steps, np.array(steps, dtype=np.float64))
        np.testing.assert_array_equal(got.values, np.array(values, dtype=np.float64))
        np.testing.assert_array_equal(got.seq, np.array(seqs, dtype=np.float64))


def test_a_uniform_million_record_shape_is_read_as_columns() -> None:
    rows = [{"step": i, "loss": 1.0 / (i + 1), "lr": None if i % 2 else 0.1} for i in range(1000)]
    series, kind = rows_to_series(rows)
    assert kind == "step"
    assert list(series) == ["step", "loss", "lr"]
    assert series["loss"].values[3] == 0.25
    np.testing.assert_array_equal(series["lr"].steps, np.arange(0, 1000, 2, dtype=np.float64))
    np.testing.assert_array_equal(series["lr"].seq, np.arange(0, 1000, 2, dtype=np.float64))


def test_an_integer_beyond_float64_is_infinite() -> None:
    """As float("1e400") reads: a loss that overflowed is a non-finite point, not an absent one."""
    series, _ = rows_to_series(
        [{"step": 1, "loss": 10**400}, {"step": 2, "loss": -(10**400)}, {"step": 3, "loss": 0.5}]
    )
    np.testing.assert_array_equal(series["loss"].values, [math.inf, -math.inf, 0.5])


def test_epoch_records_between_steps_take_the_step_before_them() -> None:
    rows: list[dict[str, object]] = []
    for epoch in range(3):
        rows += [{"step": epoch * 10 + i, "loss": 1.0} for i in range(10)]
        rows.append({"epoch": epoch, "val_loss": 0.5})
    series, kind = rows_to_series(rows)
    assert kind == "step" and series["val_loss"].steps.tolist() == [9.0, 19.0, 29.0]
    appended = [r for r in rows if "step" in r] + [r for r in rows if "epoch" in r]
    series, _ = rows_to_series(appended)  # all after the last step, no epochs on the steps: spread
    assert series["val_loss"].steps.tolist() == [9.0, 19.0, 29.0]
    # Two records per epoch (a loss and an accuracy written apart) share the step before them.
    two = []
    for epoch in range(3):
        two += [{"step": epoch * 10 + i, "loss": 1.0} for i in range(10)]
        two += [{"epoch": epoch, "val_loss": 0.5}, {"epoch": epoch, "val_acc": 0.9}]
    series, _ = rows_to_series(two)
    assert series["val_loss"].steps.tolist() == [9.0, 19.0, 29.0] == series["val_acc"].steps.tolist()


def test_epoch_records_appended_after_the_steps_go_to_their_epochs_last_step() -> None:
    steps = [{"step": s, "epoch": (s - 1) // 10, "loss": 1.0} for s in range(1, 31)]
    vals = [{"epoch": e, "val_loss": 0.5} for e in range(3)]
    series, kind = rows_to_series(steps + vals)
    assert kind == "step" and series["val_loss"].steps.tolist() == [10.0, 20.0, 30.0]
    # Fractional epochs (the HuggingFace Trainer's): the last step at or before each epoch.
    steps = [{"step": s, "epoch": s / 10, "loss": 1.0} for s in range(1, 31)]
    series, _ = rows_to_series([*steps, {"epoch": 1.0, "val_loss": 0.5}, {"epoch": 2.55, "val_loss": 0.4}])
    assert series["val_loss"].steps.tolist() == [10.0, 25.0]


def test_steps_of_epochs() -> None:
    steps = np.array([5.0, 1.0, 2.0, 3.0, 4.0, 6.0])
    epochs = np.array([1.0, 0.0, 0.0, np.nan, 1.0, 2.0])
    at = steps_of_epochs(steps, epochs, np.array([-1.0, 0.0, 0.5, 1.0, 7.0]))
    assert at is not None and at.tolist() == [1.0, 2.0, 2.0, 5.0, 6.0]
    # No step names its epoch: spread evenly, the last epoch wanted at the last step.
    spread = steps_of_epochs(np.arange(1.0, 301.0), np.full(300, np.nan), np.array([0.0, 1.0, 2.0]))
    assert spread.tolist() == [100.0, 200.0, 300.0]
    spread = steps_of_epochs(np.arange(0.0, 150.0), np.full(150, np.nan), np.array([4.0, 9.0, 14.0]))
    assert spread.tolist() == [49.0, 99.0, 149.0]  # steps from 0: epoch 4 of 15 ends at step 49
