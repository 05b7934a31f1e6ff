"""JSON Lines of one layout, read as columns: the same log as reading record by record, and
every file that is not exactly one numeric layout left to the record-by-record reader."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrdoctor.readers import _jsonlfast, jsonl
from lrdoctor.run import Log
from lrdoctor.source import open_source
from tests.conftest import realworld_manifest

GOOD_LINE = '{"step": 3, "loss": 2.5, "lr": 0.001}'


@pytest.fixture(autouse=True)
def any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small files take the columnar path too (it is meant for files of a MiB and more)."""
    monkeypatch.setattr(_jsonlfast, "MIN_BYTES", 0)
    monkeypatch.setattr(_jsonlfast, "_RECORDS", 3)  # many batches of records, and a short last one


def read_both(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[Log | str, Log | str, bool]:
    """The log read record by record, read as it is by default, and whether the columnar
    path took the file."""
    taken = []
    real = _jsonlfast.uniform_columns

    def spy(*args: object) -> object:
        found = real(*args)  # type: ignore[arg-type]
        taken.append(found is not None)
        return found

    results = []
    for columnar in (False, True):
        with monkeypatch.context() as m:
            m.setattr(_jsonlfast, "uniform_columns", spy if columnar else lambda *a: None)
            try:
                results.append(jsonl.parse(data, "m.jsonl"))
            except Exception as exc:  # the message is what is compared
                results.append(f"{type(exc).__name__}: {exc}")
    return results[0], results[1], bool(taken and taken[0])


def assert_same(want: Log | str, got: Log | str) -> None:
    """Equal logs: every field, every float bit for bit."""
    if isinstance(want, str) or isinstance(got, str):
        assert want == got
        return
    assert (got.format, got.step_kind, got.warnings) == (want.format, want.step_kind, want.warnings)
    assert list(got.series) == list(want.series)
    for name, series in want.series.items():
        for field in ("steps", "values", "seq"):
            a, b = getattr(got.series[name], field), getattr(series, field)
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), (name, field)


def dumps_lines(records: list[dict[str, object]], **kwargs: object) -> bytes:
    return "".join(json.dumps(r, **kwargs) + "\n" for r in records).encode()


def test_a_json_dumps_log_is_read_as_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    records = [
        {"step": i, "loss": float(v), "lr": 1e-3 * (i + 1) / 50, "epoch": i // 10}
        for i, v in enumerate(rng.lognormal(size=50))
    ]
    want, got, taken = read_both(dumps_lines(records), monkeypatch)
    assert taken
    assert_same(want, got)
    assert got.series["loss"].values.tolist() == [r["loss"] for r in records]


@pytest.mark.parametrize(
    "layout",
    [
        {},  # json.dumps: ', ' and ': '
        {"separators": (",", ":")},  # compact
        {"separators": (" , ", " : ")},  # blanks on both sides
    ],
)
def test_separator_styles(monkeypatch: pytest.MonkeyPatch, layout: dict[str, object]) -> None:
    records = [{"iteration": i, "train/loss_2": 1.0 / (i + 1), "lr-e1": -1e-5} for i in range(20)]
    want, got, taken = read_both(dumps_lines(records, **layout), monkeypatch)
    assert taken
    assert_same(want, got)


@pytest.mark.parametrize(
    ("text", "taken"),
    [
        (f"\n\n  {GOOD_LINE}\n{GOOD_LINE}\n\n", True),  # blank lines around the records
        (f"{GOOD_LINE}\r\n{GOOD_LINE}\r\n", True),  # CRLF
        (f"{GOOD_LINE}\n{GOOD_LINE}", True),  # no final newline
        (f"{GOOD_LINE}\n\t{GOOD_LINE}  \n", True),  # blanks around a record
        (GOOD_LINE, True),  # one record
        (GOOD_LINE.replace("3", "1" + "0" * 30), True),  # beyond 64-bit integers: orjson's float
    ],
)
def test_whitespace_around_records(monkeypatch: pytest.MonkeyPatch, text: str, taken: bool) -> None:
    want, got, used = read_both(text.encode(), monkeypatch)
    assert used is taken
    assert_same(want, got)


# Lines that differ from GOOD_LINE in a way the columnar checks must see. Several are not
# JSON at all: the record-by-record reader skips and names them.
NEAR_MISSES = [
    '{"loss": 2.5, "step": 3, "lr": 0.001}',  # keys in another order
    '{"stp": 3, "loss": 2.5, "lr": 0.001}',  # a key short of a number byte
    '{"steep": 3, "loss": 2.5, "lr": 0.001}',  # a key with a number byte more
    '{"ste1p": 3, "loss": 2.5, "lr": 0.001}',
    '{"step": 3, "lo1ss": 2.5, "lr": 0.001}',
    '{"step": 3, "loss": 2.5, "lr0": 0.001}',
    '{"step": 3, "loss": , 5"lr": 0.001}',  # an empty value and a stray number
    '{"step": 3, "loss": 2.5, 5"lr": 0.001}',
    '{"step": 3, "loss": 2.5 1, "lr": 0.001}',  # two numbers in one value
    '{"step": 3, "loss": "2.5", "lr": 0.001}',  # a string
    '{"step": 3, "loss": null, "lr": 0.001}',
    '{"step": 3, "loss": true, "lr": 0.001}',
    '{"step": 3, "loss": NaN, "lr": 0.001}',  # Python's json writes these
    '{"step": 3, "loss": Infinity, "lr": 0.001}',
    '{"step": 3, "loss": -Infinity, "lr": 0.001}',
    '{"step": 3, "loss": [2.5], "lr": 0.001}',
    '{"step": 3, "loss": {"a": 2.5}, "lr": 0.001}',
    '{"step": 3, "loss": 2.5}',  # a key missing
    '{"step": 3, "loss": 2.5, "lr": 0.001, "x": 1}',  # a key more
    '{"step": 3, "loss": 2.5, "lr": 0.001, "lr": 2}',  # a key twice
    '{"step": 3, "loss": +2.5, "lr": 0.001}',  # not JSON numbers
    '{"step": 3, "loss": 2.5., "lr": 0.001}',
    '{"step": 3, "loss": .5, "lr": 0.001}',
    '{"step": 3, "loss": 1e, "lr": 0.001}',
    '{"step": 3, "loss": 2.5, "lr": 0.001}5',  # bytes after the record
    '5{"step": 3, "loss": 2.5, "lr": 0.001}',
    '{"step": 3, "loss": 2.5, "lr": 0.001',  # cut short
    '{"step": 3, "loss": 2.5 "lr": 0.001}',  # a comma missing
    '{"step": 3,, "loss": 2.5, "lr": 0.001}',
    '{"step" 3, "loss": 2.5, "lr": 0.001}',  # a colon missing
    '{"step":: 3, "loss": 2.5, "lr": 0.001}',
    '{"step": 3, "loss": 2.5, "lr": 1' + "0" * 400 + "}",  # beyond float64
    "",  # a blank line between records
    "not json",
]


@pytest.mark.parametrize("line", NEAR_MISSES)
@pytest.mark.parametrize("where", [0, 1, 3])
def test_a_near_miss_line_is_left_to_the_record_reader(monkeypatch: pytest.MonkeyPatch, line: str, where: int) -> None:
    lines = [GOOD_LINE.replace("3", str(i)) for i in range(4)]
    lines[where] = line
    want, got, taken = read_both(("\n".join(lines) + "\n").encode(), monkeypatch)
    if line.strip() or where not in (0, len(lines) - 1):  # blank ends are whitespace around records
        assert not taken, line
    assert_same(want, got)


def test_a_value_that_is_not_a_number_is_seen_whatever_the_line_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """`true` as a value adds four bytes that are neither numbers nor structure; four lines
    glued to the one before them take four newlines away. Only the line-by-line shape
    comparison tells this file from a good one."""
    lines = [GOOD_LINE.replace("3", str(i)) for i in range(12)]
    lines[1] = lines[1].replace("2.5", "true")
    for i in (3, 4, 5, 6):
        lines[i] = lines[i] + lines.pop(i + 1)
    want, got, taken = read_both(("\n".join(lines) + "\n").encode(), monkeypatch)
    assert not taken
    assert_same(want, got)


@pytest.mark.parametrize(
    "first",
    [
        '{"st\\u0065p": 3, "loss": 2.5}',  # an escape in a key
        '{"a:b": 3, "loss": 2.5}',  # a separator in a key
        '{"a,b": 3, "loss": 2.5}',
        '{"a}": 3, "loss": 2.5}',
        '{"step": 3, "metrics": {"loss": 2.5}}',
        "{}",
        "[1, 2]",
    ],
)
def test_first_lines_the_columnar_path_does_not_take(monkeypatch: pytest.MonkeyPatch, first: str) -> None:
    want, got, taken = read_both((first + "\n" + first + "\n").encode(), monkeypatch)
    assert not taken
    assert_same(want, got)


KEY = st.text(alphabet="abcdeEsptlr_/0123456789.+- :,{", min_size=1, max_size=8)
NUMBER = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    keys=st.lists(KEY, min_size=1, max_size=4, unique=True),
    data=st.data(),
    compact=st.booleans(),
)
def test_any_numeric_layout_reads_the_same(
    monkeypatch: pytest.MonkeyPatch, keys: list[str], data: st.DataObject, compact: bool
) -> None:
    n = data.draw(st.integers(min_value=1, max_value=12))
    records = [{k: data.draw(NUMBER) for k in keys} for _ in range(n)]
    layout = {"separators": (",", ":")} if compact else {}
    raw = dumps_lines(records, **layout)
    # Damage one byte, sometimes: the columnar path must refuse or agree.
    if data.draw(st.booleans()):
        at = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
        raw = raw[:at] + data.draw(st.sampled_from([b"1", b"e", b" ", b",", b":", b'"', b"}", b"\n"])) + raw[at + 1 :]
    want, got, _ = read_both(raw, monkeypatch)
    assert_same(want, got)


def test_values_are_those_of_orjson() -> None:
    orjson = pytest.importorskip("orjson")
    rng = np.random.default_rng(1)
    values = rng.standard_normal(200) * 10.0 ** rng.integers(-300, 300, 200)
    raw = dumps_lines([{"step": i, "loss": float(v)} for i, v in enumerate(values)])
    padded = bytearray(_jsonlfast.PAD_BEFORE) + raw + bytearray(_jsonlfast.PAD_AFTER)
    names, table, first = _jsonlfast.uniform_columns(padded)
    assert first == 1
    assert names == ["step", "loss"]
    assert table[1].tobytes() == np.array([orjson.loads(x)["loss"] for x in raw.splitlines()]).tobytes()
    assert not np.isnan(table).any()


@pytest.mark.parametrize("entry", [e for e in realworld_manifest() if e["format"] == "jsonl"], ids=lambda e: e["file"])
def test_real_jsonl_files_read_the_same(realworld: Path, monkeypatch: pytest.MonkeyPatch, entry: dict) -> None:
    want, got, _ = read_both((realworld / entry["local_path"]).read_bytes(), monkeypatch)
    assert_same(want, got)


@pytest.mark.parametrize("damaged", [False, True])
@pytest.mark.parametrize("gzipped", [False, True])
def test_files_read_from_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damaged: bool, gzipped: bool) -> None:
    """A file is read straight into the columnar buffer; when the columnar checks refuse it
    (after blanking keys in that buffer), it is read again, whole, record by record."""
    import gzip

    records = [{"step": i, "loss": 1.0 / (i + 1)} for i in range(300)]
    raw = dumps_lines(records)
    if damaged:
        raw = raw.replace(b'{"step": 250,', b'{"step": 250, "note": "resumed",')
    path = tmp_path / ("m.jsonl.gz" if gzipped else "m.jsonl")
    path.write_bytes(gzip.compress(raw) if gzipped else b"\n\n" + raw + b"\n  \n")
    taken = []
    real = _jsonlfast.uniform_columns
    monkeypatch.setattr(_jsonlfast, "uniform_columns", lambda padded: taken.append(real(padded)) or taken[-1])
    log = jsonl.read(open_source(path))
    assert [t is not None for t in taken] == [not damaged]
    assert log.series["loss"].values.tolist() == [r["loss"] for r in records]
    assert log.series["loss"].steps.tolist() == list(range(300))
    assert log.warnings == []
