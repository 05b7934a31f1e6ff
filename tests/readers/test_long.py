"""Long tables: the row-by-row pivot (small or damaged files, JSON) and the whole-column one
(large CSV files, through pandas) give the same series, notes included."""

from __future__ import annotations

import io

import numpy as np
import pytest

from lrdoctor.readers import _long, read_log

pd = pytest.importorskip("pandas")


def _table(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Phases and runs (tbparse's dir_name), NaN values, rows with no step or no tag, repeats."""
    dirs = rng.choice(["runA/train", "runA/validation", "runB", "", "runA\\eval"], size=n, p=[0.4, 0.3, 0.1, 0.1, 0.1])
    tags = rng.choice(["loss", "lr", "acc", " padded ", ""], size=n, p=[0.4, 0.3, 0.2, 0.05, 0.05])
    values = np.where(rng.random(n) < 0.05, np.nan, rng.random(n))
    steps = np.where(rng.random(n) < 0.03, np.nan, np.sort(rng.integers(0, n // 3, size=n)).astype(float))
    return pd.DataFrame({"step": steps, "tag": tags, "value": values, "dir_name": dirs})


def _same(a: tuple, b: tuple) -> None:
    (sa, ka, na), (sb, kb, nb) = a, b
    assert ka == kb and na == nb and list(sa) == list(sb)
    for name in sa:
        for field in ("steps", "values", "seq"):
            assert np.array_equal(getattr(sa[name], field), getattr(sb[name], field), equal_nan=True), (name, field)


@pytest.mark.parametrize("seed", range(6))
def test_the_two_pivots_agree(seed: int) -> None:
    rng = np.random.default_rng(seed)
    frame = _table(rng, 3000)
    text = frame.to_csv(index=False)
    layout = _long.long_layout(list(frame.columns))
    assert layout is not None
    parsed = pd.read_csv(io.StringIO(text), dtype={"tag": "string", "dir_name": "string"}, skipinitialspace=True)
    by_frame = _long.pivot_frame(parsed, layout, "t")
    records = frame.replace({np.nan: None}).to_dict("records")
    by_rows = _long.pivot_records(records, layout, "t")
    assert by_frame is not None
    _same(by_rows, by_frame)


def test_a_large_csv_reads_as_a_small_one(tmp_path) -> None:
    """Over a mebibyte pandas parses the table; the series are those of the line-by-line reading."""
    frame = _table(np.random.default_rng(7), 60_000)
    big = tmp_path / "big.csv"
    frame.to_csv(big, index=False)
    assert big.stat().st_size > 1 << 20
    small = tmp_path / "small.csv"
    header, rest = big.read_text().split("\n", 1)
    quoted = ",".join(f'"{h}"' for h in header.split(","))
    small.write_text(quoted + "\n" + rest)  # (a quote anywhere: read line by line)
    fast, slow = read_log(big), read_log(small)
    assert list(fast.series) == list(slow.series) and fast.warnings == [
        w.replace("small", "big") for w in slow.warnings
    ]
    for name in fast.series:
        assert np.array_equal(fast.series[name].values, slow.series[name].values, equal_nan=True)
        assert np.array_equal(fast.series[name].steps, slow.series[name].steps)
