"""The columnar stores of a log of progress bars, against the lists and dicts they replace."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lrdoctor.readers._textstate import Refreshes, _Rows
from lrdoctor.run import Series

NAMES = st.sampled_from(["progress/loss", "progress/v_num", "progress/val_loss", "progress/acc"])
VALUES = st.floats(allow_nan=True, allow_infinity=True, width=64)
REFRESH = st.tuples(
    st.sampled_from(["Epoch 0", "Epoch 1", "Validation", "Epoch 2 lr 1.0e-03"]),
    st.one_of(st.just([]), st.lists(st.tuples(NAMES, VALUES), max_size=4)),
)


def _same_float(a: float, b: float) -> bool:
    return (a == b and np.signbit(a) == np.signbit(b)) or (a != a and b != b)


def _same_points(got: list[tuple[str, float]], want: list[tuple[str, float]]) -> bool:
    return len(got) == len(want) and all(
        g[0] == w[0] and _same_float(g[1], w[1]) for g, w in zip(got, want, strict=True)
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(REFRESH, max_size=30))
def test_refreshes_read_back_as_appended(refreshes: list[tuple[str, list[tuple[str, float]]]]) -> None:
    store = Refreshes()
    for refresh in refreshes:
        store.append(refresh)
    assert len(store) == len(refreshes) and bool(store) == bool(refreshes)
    for i, (bar, points) in enumerate(refreshes):
        assert store.bar(i) == bar
        assert store[i][0] == bar and _same_points(store[i][1], points)
        assert store[i - len(refreshes)][0] == bar  # negative indices count from the end
    columns = list(store.columns())
    assert [(bar, names) for bar, names, _ in columns] == [(b, tuple(n for n, _ in p)) for b, p in refreshes]
    assert all(
        _same_points(list(zip(n, v, strict=True)), p) for (_, n, v), (_, p) in zip(columns, refreshes, strict=True)
    )
    # Each layout once, in the order it first came, with how many refreshes drew it.
    counts = Counter((bar, tuple(n for n, _ in points)) for bar, points in refreshes)
    assert store.layouts() == [(bar, names, n) for (bar, names), n in counts.items()]


def _rows_as_dicts(updates: list[tuple[float, dict[str, float]]]) -> dict[str, Series]:
    """The series a dict of rows gives (the store's reference)."""
    rows: dict[float, dict[str, float]] = {}
    for step, values in updates:
        rows.setdefault(step, {}).update(values)
    steps = np.fromiter(rows, dtype=np.float64, count=len(rows))
    order = np.argsort(steps, kind="stable")
    out = {}
    for key in dict.fromkeys(k for row in rows.values() for k in row):
        column = np.array([row.get(key, np.nan) for row in rows.values()], dtype=np.float64)[order]
        where = np.flatnonzero(np.array([key in row for row in rows.values()])[order])
        out[key] = Series(key, steps[order][where], column[where], where.astype(np.float64))
    return out


UPDATE = st.tuples(
    st.integers(0, 12).map(float),
    st.dictionaries(NAMES, st.floats(allow_nan=False, width=64), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(UPDATE, min_size=1, max_size=40))
def test_rows_give_the_series_a_dict_of_rows_gives(updates: list[tuple[float, dict[str, float]]]) -> None:
    rows = _Rows()
    for step, values in updates:
        rows.update(step, values)
    got, want = rows.series(), _rows_as_dicts(updates)
    assert list(got) == list(want)  # the same names, in the same order
    for name, series in want.items():
        np.testing.assert_array_equal(got[name].steps, series.steps)
        np.testing.assert_array_equal(got[name].values, series.values)
        np.testing.assert_array_equal(got[name].seq, series.seq)


def test_rows_keep_the_last_value_written_at_a_step_and_count_steps_without_values() -> None:
    rows = _Rows()
    rows.update(5.0, {"b": 1.0})
    rows.update(2.0, {})  # a step with no values still takes its place among the steps
    rows.update(5.0, {"a": 3.0, "b": 2.0})
    rows.update(9.0, {"a": 4.0})
    got = rows.series()
    assert list(got) == ["b", "a"]  # b came first, in the first row
    assert got["b"].steps.tolist() == [5.0] and got["b"].values.tolist() == [2.0] and got["b"].seq.tolist() == [1.0]
    assert got["a"].steps.tolist() == [5.0, 9.0] and got["a"].values.tolist() == [3.0, 4.0]
    assert got["a"].seq.tolist() == [1.0, 2.0]
