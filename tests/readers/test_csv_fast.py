"""The one-call reading of a regular CSV gives exactly what the line-by-line reader gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrdoctor import load
from lrdoctor.readers import csv_reader
from lrdoctor.source import Source


@pytest.fixture(autouse=True)
def _any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small files here: let the one-call path take them (it starts at 1 MiB otherwise)."""
    monkeypatch.setattr(csv_reader, "REGULAR_MIN_BYTES", 0)


def careful(data: bytes) -> tuple[list[str], str, dict, np.ndarray]:
    header, delim, columns, lines, warnings, _empty = csv_reader._read_careful(data, "t.csv")
    assert warnings == []
    return header, delim, columns, lines


def assert_same(data: bytes) -> None:
    fast = csv_reader._read_regular(Source("t.csv", data=data))
    assert fast is not None, "a regular file should be read in one call"
    want = careful(data)
    assert fast[0] == want[0] and fast[1] == want[1]
    assert list(fast[2]) == list(want[2])
    for name, (values, present) in want[2].items():
        np.testing.assert_array_equal(fast[2][name][1], present, err_msg=name)
        np.testing.assert_array_equal(fast[2][name][0][present], values[present], err_msg=name)
    np.testing.assert_array_equal(fast[3], want[3])


CELLS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=True, width=64).map(repr),
    st.integers(min_value=-(2**53), max_value=2**53).map(str),
    st.sampled_from(["", "NA", "nan", "NaN", "-nan", "inf", "-inf", "1e-8", " 0.5", "null", "None"]),
)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=2, max_value=5).flatmap(
        lambda width: st.tuples(
            st.just(width),
            st.lists(st.lists(CELLS, min_size=width, max_size=width), min_size=1, max_size=20),
            st.sampled_from([",", "\t", ";"]),
        )
    )
)
def test_regular_tables_read_the_same_both_ways(table: tuple[int, list[list[str]], str]) -> None:
    width, rows, delim = table
    rows = [[f"{i}", *row[1:]] for i, row in enumerate(rows)]  # a step in every row
    header = ["step", *(f"m{i}" for i in range(1, width))]
    data = "\n".join(delim.join(r) for r in [header, *rows]).encode() + b"\n"
    assert_same(data)


def test_a_quoted_header_as_wandb_writes_it() -> None:
    data = b'"Step","run-1 - loss","run-1 - loss__MIN"\n0,2.5,2.4\n1,2.25,\n'
    assert_same(data)
    assert list(csv_reader._read_regular(Source("t.csv", data=data))[2]) == [
        "Step",
        "run-1 - loss",
        "run-1 - loss__MIN",
    ]  # type: ignore[index]


def test_a_narrower_row_reads_as_absent_cells_both_ways() -> None:
    rows = b"".join(b"%d,0.5,0.1\n" % i for i in range(20))
    assert_same(b"step,loss,lr\n" + rows + b"20\n21,0.25\n")


def test_lightning_layout_with_sparse_rows() -> None:
    data = b"epoch,step,train_loss,val_loss,lr-SGD\n0,0,,,0.1\n0,9,2.3,,\n0,9,,2.1,\n1,19,nan,,\n1,19,,inf,\n"
    assert_same(data)
    columns = csv_reader._read_regular(Source("t.csv", data=data))[2]  # type: ignore[index]
    assert np.isnan(columns["train_loss"][0][3]) and columns["train_loss"][1][3]  # nan is a value


@pytest.mark.parametrize(
    "data",
    [
        b"step,loss\n1,0.5\n2,0.4",  # the last line not ended
        b"step,loss\n1,0.5\n\n2,0.4\n",  # a blank line
        b'step,loss\n1,"0.5"\n',  # a quote
        b"step,loss\n1,0.5,7\n",  # wider than the header
        b"step,loss\n1,0.5\n2,0.4,9\n3,0.3\n",  # a later row wider than the header
        b"step,loss\n1,0.5\n2,text\n",  # text in a number column
        b"step,loss\n1,0.5\n,\n",  # a row with no number
        b"\xef\xbb\xbfstep,loss\n1,0.5\n",  # a BOM
        b"step,loss\n1,True\n",  # booleans
        b"step,loss\n1,50%\n",  # a percent sign
        b"step,loss\n1,0.5\nstep,loss\n2,0.4\n",  # a repeated header
    ],
)
def test_anything_irregular_goes_to_the_careful_reader(data: bytes, tmp_path: Path) -> None:
    assert csv_reader._read_regular(Source("t.csv", data=data)) is None
    path = tmp_path / "t.csv"  # streamed from disk: the same checks
    path.write_bytes(data)
    assert csv_reader._read_regular(Source("t.csv", path=path)) is None


def test_a_file_on_disk_is_streamed_with_the_same_result(tmp_path: Path) -> None:
    data = b"step,loss,lr\n" + b"".join(b"%d,%r,0.1\n" % (i, 1 / (i + 1)) for i in range(50_000))
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    on_disk = csv_reader._read_regular(Source("big.csv", path=path))
    in_memory = csv_reader._read_regular(Source("big.csv", data=data))
    assert on_disk is not None and in_memory is not None
    for name in ("step", "loss", "lr"):
        np.testing.assert_array_equal(on_disk[2][name][0], in_memory[2][name][0])
    assert on_disk[2]["loss"][0][9] == 0.1


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(min_value=-(2**60), max_value=2**60).map(str),
        st.sampled_from(["inf", "-Infinity", "+1.5", " 2 ", "1e-3", "-0", "7%", "abc", "1.2.3", "0x10", "--1"]),
    )
)
def test_a_cell_reads_as_pandas_reads_it(text: str) -> None:
    """The line-by-line reader converts cells without pandas; pandas' to_numeric agrees."""
    import pandas as pd

    cell = csv_reader._cell(text)
    want = pd.to_numeric(pd.Series([text.strip().rstrip("%")]), errors="coerce").to_numpy(dtype=float)[0]
    if cell is None:
        assert np.isnan(want)
    else:
        assert isinstance(cell, float)
        assert cell == want or (np.isnan(cell) and np.isnan(want))


def test_a_nan_cell_deep_in_a_large_file_keeps_the_fast_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # pandas warns of mixed types when a 'nan' comes after its first internal chunk of numbers.
    rows = "".join(f"{i},{'nan' if i == 400_000 else 1.0 / (i + 1)}\n" for i in range(500_000))
    path = tmp_path / "big.csv"
    path.write_text("step,loss\n" + rows)

    def line_by_line(*args: object) -> None:
        raise AssertionError("read line by line")

    monkeypatch.setattr(csv_reader, "_read_careful", line_by_line)
    run = load(path)
    assert len(run.loss) == 500_000 and np.isnan(run.loss.values[400_000])


@pytest.mark.parametrize(
    "text",
    ["2024-01-01T12:00:{s:02d}", "run-{s}", "tensor({s})"],
)
def test_a_column_of_text_alone_keeps_the_one_pass_reader(text: str) -> None:
    """A timestamp column sent a large CSV line by line (10^7 rows: 64 s and 8 GiB, against 3.7 s
    and 0.8 GiB without it): a column of text alone is dropped, as the careful reader drops it."""
    rows = "".join(f"{s},{text.format(s=s % 60)},{1 / (s + 1)!r},0.1\n" for s in range(200))
    data = ("step,time,loss,lr\n" + rows).encode()
    fast = csv_reader._read_regular(Source("t.csv", data=data))
    assert fast is not None and "time" not in fast[2] and fast[4] == ()
    assert_same(data)


@pytest.mark.parametrize(
    "data",
    [
        b"step,time,loss\n1,a,0.5\n2,3,0.4\n",  # text and a number in one column
        b"step,pct,loss\n1,50%,0.5\n2,40%,0.4\n",  # a number by the careful reader's rules
        b"step,split,loss\n1,train,0.5\n2,val,0.4\n",  # a phase column: read line by line, to split it
    ],
)
def test_columns_the_careful_reader_reads_otherwise_still_go_to_it(data: bytes) -> None:
    assert csv_reader._read_regular(Source("t.csv", data=data)) is None
