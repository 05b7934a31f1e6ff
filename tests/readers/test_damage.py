"""Damaged logs lose only what the damage touched: every complete record is read, each bad one is
skipped and named in a warning, and text in any encoding reads the same values.

TensorBoard damage (a file cut at every offset, any flipped byte, junk, holes) is covered in
test_tensorboard.py; arbitrary bytes fed to every reader in test_properties.py.
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import gzip
import json
import math
import os
import re
import sqlite3
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrdoctor.source as source_module
from lrdoctor import load
from lrdoctor.errors import LrdoctorError, NotALog, UnreadableLog
from lrdoctor.normalize import normalize
from lrdoctor.readers import READERS, read_log
from lrdoctor.run import Log, Series
from lrdoctor.source import Source

Point = tuple[float, float]
PROPERTY = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def pts(log: Log, name: str = "loss") -> list[Point]:
    return pts_of(log.series[name])


def pts_of(s: Series) -> list[Point]:
    return list(zip(s.steps.tolist(), s.values.tolist(), strict=True))


def same(got: list[Point], want: list[Point]) -> bool:
    """Equal point lists, NaN equal to NaN."""
    return len(got) == len(want) and all(
        a[0] == b[0] and (a[1] == b[1] or (math.isnan(a[1]) and math.isnan(b[1])))
        for a, b in zip(got, want, strict=True)
    )


def read_data(reader: str, data: bytes) -> Log:
    return READERS[reader].read(Source("<test>", data=data))


# --- the three line formats, rendered from (step, loss) records ------------------------------


def csv_lines(records: list[Point]) -> list[str]:
    return ["step,loss\n", *(f"{s:g},{v!r}\n" for s, v in records)]


def jsonl_lines(records: list[Point]) -> list[str]:
    return [json.dumps({"step": int(s), "loss": v}) + "\n" for s, v in records]


def text_lines(records: list[Point]) -> list[str]:
    # Fixed widths, as loggers format numbers: f"{step:06d}", f"{loss:.6f}".
    return [f"step {int(s):06d}: loss {v:.6f}\n" for s, v in records]


RENDER: dict[str, Callable[[list[Point]], list[str]]] = {"csv": csv_lines, "jsonl": jsonl_lines, "text": text_lines}
RECORDS = [(0.0, 2.5), (1.0, 2.25), (2.0, 2.0), (3.0, 1.75)]


# --- a torn last line --------------------------------------------------------------------------


def test_jsonl_torn_last_line_keeps_every_complete_line(tmp_path: Path) -> None:
    data = "".join(jsonl_lines(RECORDS)) + '{"step": 4, "loss": 1.5'
    log = read_log(write(tmp_path, "m.jsonl", data))
    assert pts(log) == RECORDS
    assert log.warnings == [f"{tmp_path / 'm.jsonl'}:5: the last line is cut short (still being written?); skipped"]


def test_csv_torn_last_line_keeps_every_complete_row(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", "".join(csv_lines(RECORDS)) + "4,1.")
    log = read_log(path)
    assert pts(log) == RECORDS
    assert log.warnings == [f"{path}:6: the last line has no newline (still being written?); skipped"]


def test_text_cut_number_in_last_line_is_skipped(tmp_path: Path) -> None:
    """'loss 1.5' of 'loss 1.500000' would be a wrong value: the unfinished line is skipped."""
    path = write(tmp_path, "t.log", "".join(text_lines(RECORDS)) + "step 000004: loss 1.5")
    log = read_log(path)
    assert pts(log) == RECORDS
    assert log.warnings == [f"{path}:5: the last line has no newline (still being written?); skipped"]


def test_text_whole_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    """A finished run whose log does not end with a newline: the last line has the digit layout of
    the lines before it, so it is whole and read."""
    log = read_log(write(tmp_path, "t.log", "".join(text_lines(RECORDS)) + "step 000004: loss 1.500000"))
    assert pts(log) == [*RECORDS, (4.0, 1.5)]
    assert log.warnings == []


def test_text_last_line_of_varying_width_numbers_is_skipped(tmp_path: Path) -> None:
    """With numbers printed at full precision (widths vary), a cut cannot be told from a whole line."""
    lines = "step 1: loss 2.5\nstep 2: loss 2.25\nstep 3: loss 2.125\n"
    log = read_log(write(tmp_path, "t.log", lines + "step 4: loss 2.0"))
    assert pts(log) == [(1.0, 2.5), (2.0, 2.25), (3.0, 2.125)]
    assert len(log.warnings) == 1 and "no newline" in log.warnings[0]


# --- a corrupt record in the middle ------------------------------------------------------------


def test_jsonl_corrupt_lines_are_skipped_counted_and_named(tmp_path: Path) -> None:
    lines = jsonl_lines(RECORDS)
    lines[1] = '{"step": 1, "loss": 2.25\n'  # cut short, nothing after it
    lines.insert(3, "\x00\x00\x00\x00\n")  # a crash left a run of NUL bytes
    path = write(tmp_path, "m.jsonl", "".join(lines))
    log = read_log(path)
    assert pts(log) == [RECORDS[0], RECORDS[2], RECORDS[3]]
    assert log.warnings == [f"{path}: skipped 2 line(s) that are not whole JSON objects (line 2, 4)"]


def test_jsonl_record_written_after_a_cut_one_on_the_same_line_is_read(tmp_path: Path) -> None:
    """A writer killed mid-line and restarted in append mode glues its next record to the cut one."""
    lines = jsonl_lines(RECORDS)
    lines[1] = '{"step": 1, "lo' + lines[2]
    del lines[2]
    path = write(tmp_path, "m.jsonl", "".join(lines))
    log = read_log(path)
    assert pts(log) == [RECORDS[0], RECORDS[2], RECORDS[3]]
    assert log.warnings == [
        f"{path}: skipped 1 line(s) that are not whole JSON objects (line 2)",
        f"{path}: read 1 record(s) written straight after a cut-short one on the same line (line 2)",
    ]


def test_jsonl_inner_object_of_a_cut_record_is_not_taken_for_a_record(tmp_path: Path) -> None:
    lines = [
        '{"step": 0, "loss": 2.5, "extra": {"step": 9}}\n',
        '{"step": 1, "loss": 2.25, "extra": {"step": 9}\n',  # cut before its last brace
        '{"step": 2, "loss": 2.0, "extra": {"step": 9}}\n',
    ]
    log = read_log(write(tmp_path, "m.jsonl", "".join(lines)))
    assert pts(log) == [(0.0, 2.5), (2.0, 2.0)]
    assert not any("written straight after" in w for w in log.warnings)


def test_csv_damaged_rows_cost_only_themselves(tmp_path: Path) -> None:
    good = [f"{s},{2.5 - s / 8},0.1\n" for s in range(30)]
    damaged = [
        '30,"2.25,0.1\n',  # a broken quote: must not swallow the rows after it
        "31,2.0,0.1,9,9\n",  # two rows glued by a restart: more cells than the header
        "step,loss,lr\n",  # a second file appended under the first
        "\x00\x00\x00\x00\x00\n",  # a crash left NUL bytes
        "32,oops,0.1\n",  # a text cell in a numeric column
    ]
    path = write(tmp_path, "m.csv", "step,loss,lr\n" + "".join(good[:10] + damaged + good[10:]))
    log = read_log(path)
    assert log.format == "csv"
    assert pts(log) == [(float(s), 2.5 - s / 8) for s in range(30)]
    assert pts(log, "lr") == [(float(s), 0.1) for s in range(10)] + [(32.0, 0.1)] + [
        (float(s), 0.1) for s in range(10, 30)
    ]
    assert log.warnings == [
        f"{path}: skipped 2 malformed line(s) with more cells than the header or a broken quote (line 12, 13)",
        f"{path}: skipped 1 repeated header line(s) (line 14); several CSV files appended into one?",
        f"{path}: 1 cell(s) hold text where numbers are expected (line 16); read as missing",
        f"{path}: skipped 1 line(s) with no number in any cell (line 15)",
    ]


@pytest.mark.parametrize("name", ["m.csv", "m.log"])
def test_csv_with_its_header_above_every_row_is_told_from_its_content(tmp_path: Path, name: str) -> None:
    """A logger that appends a one-row table with its header each step (pandas' to_csv(mode="a")
    with the header left on) writes as many header lines as rows, two of them first when its first
    call wrote an empty table: still a CSV, whatever the file is named."""
    rows = "".join(f"step,loss\n{s},{2.5 - s / 8}\n" for s in range(40))
    log = read_log(write(tmp_path, name, "step,loss\n" + rows))
    assert log.format == "csv"
    assert pts(log) == [(float(s), 2.5 - s / 8) for s in range(40)]
    assert "skipped 40 repeated header line(s)" in log.warnings[0]


@pytest.mark.parametrize(("name", "reason"), [("m.csv", "no consistent separator"), ("m.log", "no training metrics")])
def test_a_table_name_gets_the_csv_readers_reason_where_no_reader_reads_it(
    tmp_path: Path, name: str, reason: str
) -> None:
    """Rows alternating between 5 and 2 cells under a header of 3: the sniffer sends it to the text
    reader, which finds no metric lines. Named .csv, the error says what is wrong with it as a
    table; named otherwise, it stays the text reader's."""
    rows = "".join(f"{s},{2.5 - s / 80},0.1,9,9\n" if s % 2 else f"{s},{2.5 - s / 80}\n" for s in range(40))
    with pytest.raises(LrdoctorError, match=reason):
        read_log(write(tmp_path, name, "step,loss,lr\n" + rows))


def test_csv_cell_above_the_csv_field_limit_costs_only_its_cell(tmp_path: Path) -> None:
    """Python's csv module refuses a field over 128 KiB; the other rows are read."""
    huge = '"' + "9" * 200_000 + '"'
    path = write(tmp_path, "m.csv", f"step,loss\n0,2.5\n1,{huge}\n2,2.0\n")
    log = read_log(path)
    assert pts(log) == [(0.0, 2.5), (2.0, 2.0)]
    assert log.warnings == [
        f"{path}: skipped 1 malformed line(s) with more cells than the header or a broken quote (line 3)"
    ]


def test_csv_header_of_millions_of_columns_is_refused_quickly(tmp_path: Path) -> None:
    path = write(tmp_path, "wide.csv", ",".join(f"c{i}" for i in range(200_000)) + "\n" + "1," * 199_999 + "1\n")
    with pytest.raises(UnreadableLog, match=r"wide\.csv:1: a header of 200000 columns"):
        read_log(path, format="csv")


def test_mlflow_bad_lines_are_skipped_and_named(tmp_path: Path) -> None:
    path = write(
        tmp_path, "loss", "1700000000000 2.5 0\ngarbage\n1700000000001 2.25 1\n\x00\x00\n1700000000002 2.0 2\n"
    )
    log = read_log(path, format="mlflow")
    assert pts(log) == [(0.0, 2.5), (1.0, 2.25), (2.0, 2.0)]
    assert log.warnings == [f"{path}: skipped 2 line(s) that are not '<timestamp_ms> <value> <step>' (line 2, 4)"]


# --- encodings ---------------------------------------------------------------------------------

TWINS = {
    "csv": ("m.csv", "step,loss,lr\r\n0,2.5,0.1\r\n1,2.25,0.1\r\n2,nan,0.1\r\n"),
    "jsonl": ("m.jsonl", '{"step": 0, "loss": 2.5}\n{"step": 1, "loss": 2.25}\n{"step": 2, "loss": NaN}\n'),
    "json": ("trainer_state.json", '{"log_history": [{"step": 1, "loss": 2.5}, {"step": 2, "loss": 2.25}]}'),
    "text": ("train.log", "iter 0: loss 2.5000, time 10ms\niter 1: loss 2.2500, time 10ms\niter 2: loss nan\n"),
    "mlflow": ("loss", "1700000000000 2.5 0\n1700000000001 2.25 1\n1700000000002 2.0 2\n"),
}
ENCODINGS: dict[str, Callable[[str], bytes]] = {
    "utf-8-bom": lambda s: codecs.BOM_UTF8 + s.encode(),
    "utf-16-le-bom": lambda s: codecs.BOM_UTF16_LE + s.encode("utf-16-le"),
    "utf-16-be-bom": lambda s: codecs.BOM_UTF16_BE + s.encode("utf-16-be"),
    "utf-16-le": lambda s: s.encode("utf-16-le"),
    "utf-16-be": lambda s: s.encode("utf-16-be"),
}


def described(log: Log) -> tuple[str, dict[str, list[tuple[float, str]]]]:
    """The format and every point (NaN written as text, so that NaN equals NaN)."""
    return log.format, {k: [(s, repr(v)) for s, v in pts(log, k)] for k in log.series}


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("reader", TWINS)
def test_bom_and_utf16_twins_read_the_same_values(tmp_path: Path, reader: str, encoding: str) -> None:
    name, text = TWINS[reader]
    (tmp_path / "utf8").mkdir()
    (tmp_path / "other").mkdir()
    twin = read_log(write(tmp_path / "utf8", name, text))
    assert twin.format == ("hf-trainer-state" if reader == "json" else twin.format)
    other = write(tmp_path / "other", name, ENCODINGS[encoding](text))
    assert described(read_log(other)) == described(twin)  # detected
    assert described(read_log(other, format=reader)) == described(twin)  # forced


LONG_TWINS = {
    "csv": ("m.csv", "step,loss\n" + "".join(f"{s},{s / 64}\n" for s in range(6000))),
    "jsonl": ("m.jsonl", "".join(f'{{"step": {s}, "loss": {s / 64}}}\n' for s in range(6000))),
    "json": ("trainer_state.json", json.dumps({"log_history": [{"step": s, "loss": s / 64} for s in range(6000)]})),
    "text": ("train.log", "".join(f"iter {s}: loss {s / 64:.6f}, time 10ms\n" for s in range(6000))),
    "mlflow": ("loss", "".join(f"{1700000000000 + s} {s / 64} {s}\n" for s in range(6000))),
}


@pytest.mark.parametrize("reader", LONG_TWINS)
def test_utf16_file_longer_than_the_sniffed_head_is_detected(tmp_path: Path, reader: str) -> None:
    """The head that format detection reads (64 KiB) ends inside the file, mid-character or not."""
    name, text = LONG_TWINS[reader]
    for encoding in ("utf-16", "utf-16-le"):
        path = write(tmp_path, name, text.encode(encoding))
        assert path.stat().st_size > 64 * 1024
        loss = read_log(path).series["loss"]
        assert len(loss) == 6000 and loss.values[-1] == 5999 / 64


def test_bytes_that_are_not_utf8_are_replaced_not_fatal(tmp_path: Path) -> None:
    text = b"iter 0: loss 2.5000 \xff\xfe caf\xe9\niter 1: loss 2.2500 \x80\x81\niter 2: loss 2.0000\n"
    assert pts(read_log(write(tmp_path, "t.log", text))) == [(0.0, 2.5), (1.0, 2.25), (2.0, 2.0)]
    csv_data = b"step,loss,note\n0,2.5,caf\xe9\n1,2.25,\xff\n"
    assert pts(read_log(write(tmp_path, "m.csv", csv_data))) == [(0.0, 2.5), (1.0, 2.25)]
    jsonl_data = b'{"step": 0, "loss": 2.5, "note": "caf\xe9"}\n{"step": 1, "loss": 2.25}\n'
    assert pts(read_log(write(tmp_path, "m.jsonl", jsonl_data))) == [(0.0, 2.5), (1.0, 2.25)]


# --- gzip -----------------------------------------------------------------------------------------

JSONL = "".join(jsonl_lines([(float(s), s / 64) for s in range(3000)])).encode()


def whole_json_lines(data: bytes) -> int:
    count = 0
    for line in data.split(b"\n"):
        with contextlib.suppress(ValueError):
            count += isinstance(json.loads(line), dict)
    return count


def test_gzip_cut_short_reads_every_complete_record(tmp_path: Path) -> None:
    packed = gzip.compress(JSONL)[: len(gzip.compress(JSONL)) // 2]
    path = write(tmp_path, "m.jsonl.gz", packed)
    log = read_log(path)
    unz = zlib.decompressobj(wbits=31)
    held = unz.decompress(packed) + unz.flush()  # all that the first half decompresses to
    n = whole_json_lines(held)
    assert 100 < n < 3000
    assert pts(log) == [(float(s), s / 64) for s in range(n)]
    assert log.warnings[0] == (
        f"{path}: the gzip data is cut short (not completely written or copied); read the {len(held)} bytes it holds"
    )
    last_line = held.count(b"\n") + 1
    torn = (
        []
        if held.endswith(b"\n")
        else [f"{path}:{last_line}: the last line is cut short (still being written?); skipped"]
    )
    assert log.warnings[1:] == torn


def test_gzip_members_padding_and_junk(tmp_path: Path) -> None:
    half = len(JSONL) // 2
    members = gzip.compress(JSONL[:half]) + gzip.compress(JSONL[half:])
    assert len(pts(read_log(write(tmp_path, "a.jsonl.gz", members + b"\0" * 512)))) == 3000
    log = read_log(write(tmp_path, "b.jsonl.gz", members + b"trailing junk"))
    assert len(pts(log)) == 3000
    assert log.warnings == [f"{tmp_path / 'b.jsonl.gz'}: ignored bytes after the end of the gzip data"]


def test_gzip_damaged_in_the_middle_is_refused(tmp_path: Path) -> None:
    """What damaged deflate data decompresses to may hold garbage (copies of earlier text that
    would read as a restart): the file is refused, naming the damage, rather than misread."""
    packed = bytearray(gzip.compress(JSONL, compresslevel=1))
    packed[len(packed) // 2 : len(packed) // 2 + 64] = bytes(64)
    path = write(tmp_path, "m.jsonl.gz", bytes(packed))
    with pytest.raises(UnreadableLog, match=r"m\.jsonl\.gz: broken gzip data .*; not read"):
        read_log(path)


def test_gzip_of_nothing_is_an_empty_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableLog, match=r"empty\.csv\.gz: the file is empty"):
        read_log(write(tmp_path, "empty.csv.gz", gzip.compress(b"")))


def test_gzip_cut_inside_its_header_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnreadableLog, match=r"h\.csv\.gz: the gzip data is cut short before any content"):
        read_log(write(tmp_path, "h.csv.gz", gzip.compress(b"step,loss\n0,1\n")[:6]))


def test_gzip_bomb_stops_after_a_bounded_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """8 MiB of zeros pack into about 8 KiB: with the ratio judged past 1 MiB, inflating stops
    within one output chunk of 200 times the file's size."""
    limits = dataclasses.replace(source_module.LIMITS, ratio_after=1 << 20, chunk=1 << 16)
    monkeypatch.setattr(source_module, "LIMITS", limits)
    seen: list[int] = []
    real = source_module._check_growth

    def spy(label: str, out: int, taken: int) -> None:
        seen.append(out)
        real(label, out, taken)

    monkeypatch.setattr(source_module, "_check_growth", spy)
    path = write(tmp_path, "bomb.csv.gz", gzip.compress(bytes(8 << 20)))
    with pytest.raises(UnreadableLog, match=r"bomb\.csv\.gz: the gzip data expands more than 200 times"):
        read_log(path, format="csv")
    assert max(seen) <= max(1 << 20, 200 * path.stat().st_size) + (1 << 16) < 8 << 20


def test_content_cap_for_plain_files_gzip_and_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source_module, "LIMITS", dataclasses.replace(source_module.LIMITS, max_bytes=1000))
    with pytest.raises(UnreadableLog, match=r"big\.csv: larger than 1000 bytes; not read"):
        read_log(write(tmp_path, "big.csv", "step,loss\n" + "1,2\n" * 500), format="csv")
    with pytest.raises(UnreadableLog, match=r"big\.csv\.gz: more than 1000 bytes once decompressed"):
        read_log(write(tmp_path, "big.csv.gz", gzip.compress(b"step,loss\n" + b"1,2\n" * 500)), format="csv")
    with open(write(tmp_path, "stdin", b"1,2\n" * 500), "rb") as fh:
        monkeypatch.setattr("sys.stdin", type("Stdin", (), {"buffer": fh})())
        with pytest.raises(UnreadableLog, match="<stdin>: more than 1000 bytes"):
            read_log("-")
    # An event file too large, in the run folder named: the folder's error says why.
    run = tmp_path / "run"
    run.mkdir()
    write(run, "events.out.tfevents.1.host", bytes(2000))
    with pytest.raises(
        UnreadableLog, match=r"holds a valid record \(.*events\.out\.tfevents\.1\.host: larger than 1000"
    ):
        read_log(run)


# --- steps that are not finite, or too large to be told apart ----------------------------------


@pytest.mark.parametrize(
    ("name", "data", "where"),
    [
        ("m.csv", "step,loss\n0,2.5\n1,2.25\ninf,9.0\nnan,9.0\n4,1.5\n", "line 4, 5"),
        (
            "m.jsonl",
            '{"step":0,"loss":2.5}\n{"step":1,"loss":2.25}\n{"step":Infinity,"loss":9.0}\n'
            '{"step":NaN,"loss":9.0}\n{"step":4,"loss":1.5}\n',
            "line 3, 4",
        ),
        (
            "h.json",
            '[{"step":0,"loss":2.5},{"step":1,"loss":2.25},{"step":1e999,"loss":9.0},'
            '{"step":NaN,"loss":9.0},{"step":4,"loss":1.5}]',
            "record 3, 4",
        ),
    ],
)
def test_record_with_a_nonfinite_step_is_left_out_and_named(tmp_path: Path, name: str, data: str, where: str) -> None:
    """Its step cannot be placed: it is left out, not moved to a made-up step (which would look
    like a resumed run and drop earlier points)."""
    path = write(tmp_path, name, data)
    run = load(path)
    assert pts_of(run.loss) == [(0.0, 2.5), (1.0, 2.25), (4.0, 1.5)]
    assert len(run.segments) == 1
    assert run.warnings == (
        f"{path}: left out 2 {'row' if name.endswith('csv') else 'record'}(s) whose step is not "
        f"a finite number ({where})",
    )


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("m.jsonl", "".join(f'{{"step": NaN, "loss": {2.5 - i / 8}}}\n' for i in range(4))),
        ("m.json", json.dumps([{"step": math.nan, "loss": 2.5 - i / 8} for i in range(4)])),
        ("m.csv", "step,loss\n" + "".join(f"nan,{2.5 - i / 8}\n" for i in range(4))),
    ],
)
def test_a_step_key_with_no_number_in_it_leaves_the_points_in_written_order(
    tmp_path: Path, name: str, data: str
) -> None:
    """A step column NaN on every record places nothing: the points are read in the order
    written, as where no step is recorded, not all left out ("none with a numeric value")."""
    run = load(write(tmp_path, name, data))
    assert run.step_kind == "index"
    assert pts_of(run.loss) == [(float(i), 2.5 - i / 8) for i in range(4)]


def test_a_step_key_with_no_number_in_it_gives_way_to_the_epoch(tmp_path: Path) -> None:
    """NaN steps throughout beside finite epochs: the records are placed by their epochs (they had
    all been left out: "none with a numeric value")."""
    data = "".join(f'{{"step": NaN, "epoch": {e}, "loss": {2.5 - e / 8}}}\n' for e in range(4))
    run = load(write(tmp_path, "m.jsonl", data))
    assert run.step_kind == "epoch"
    assert pts_of(run.loss) == [(float(e), 2.5 - e / 8) for e in range(4)]


@pytest.mark.parametrize("name", ["m.json", "m.jsonl"])
def test_a_json_integer_beyond_float64_is_infinite_not_absent(tmp_path: Path, name: str) -> None:
    """As float("1e400") and the CSV and text readers read it: a loss that overflowed is a
    non-finite value to report, not a point to drop silently."""
    huge = "1" + "0" * 400
    losses = [huge, "2.5", "2.25", "2.0"]
    if name.endswith("jsonl"):
        data = "".join(f'{{"step": {i}, "loss": {v}}}\n' for i, v in enumerate(losses))
    else:
        data = '{"step": [0, 1, 2, 3], "loss": [' + ", ".join(losses) + "]}"
    run = load(write(tmp_path, name, data))
    assert pts_of(run.loss)[1:] == [(1.0, 2.5), (2.0, 2.25), (3.0, 2.0)]
    assert pts_of(run.loss)[0] == (0.0, math.inf)


def test_steps_beyond_2_to_the_53_are_read_with_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", "step,loss\n" + "".join(f"{2**62 + s},{2.5 - s / 8}\n" for s in range(4)))
    log = read_log(path)
    assert pts(log) == [(float(2**62), 2.5 - s / 8) for s in range(4)]  # four integers, one float
    assert log.warnings == [
        f"{path}: steps reach 4.612e+18, beyond 2**53, where neighbouring integers cannot all be told apart; "
        "steps that merge may look like restarts"
    ]


# --- resumed and appended runs, in every format that can hold them --------------------------------

FIRST = [(float(s), 10.0 - s) for s in range(6)]
RESUMED = [(float(s), 100.0 + s) for s in range(3, 8)]
APPENDED = [(float(s), 100.0 + s) for s in range(4)]


def tb_dir(tmp_path: Path, first: list[Point], second: list[Point]) -> Path:
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    for index, records in enumerate((first, second)):
        if not records:
            continue
        with open(tmp_path / f"events.out.tfevents.{1700000000 + index}.host", "wb") as fh:
            writer = RecordWriter(fh)
            for s, v in records:
                ev = event_pb2.Event(wall_time=1000.0 * (index + 1) + s, step=int(s))
                ev.summary.value.add(tag="loss", simple_value=v)
                writer.write(ev.SerializeToString())
    return tmp_path


def logged(tmp_path: Path, fmt: str, first: list[Point], second: list[Point]) -> Path:
    if fmt == "tensorboard":
        return tb_dir(tmp_path, first, second)
    lines = RENDER[fmt](first) + RENDER[fmt](second)[1 if fmt == "csv" else 0 :]
    return write(tmp_path, f"log.{fmt}", "".join(lines))


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "text", "tensorboard"])
def test_resumed_run_keeps_the_latest_write_of_each_step(tmp_path: Path, fmt: str) -> None:
    run = load(logged(tmp_path, fmt, FIRST, RESUMED))
    assert pts_of(run.loss) == FIRST[:3] + RESUMED
    assert len(run.segments) == 1
    assert any("3 point(s) of 'loss' were written again later (resumed at step 3)" in w for w in run.warnings)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "text", "tensorboard"])
def test_appended_runs_are_told_apart(tmp_path: Path, fmt: str) -> None:
    path = logged(tmp_path, fmt, FIRST, APPENDED)
    run = load(path)
    assert [(s.index, s.points, s.first_step, s.last_step) for s in run.segments] == [(1, 6, 0, 5), (2, 4, 0, 3)]
    assert run.segment == 2
    assert pts_of(run.loss) == APPENDED
    assert any("2 runs are appended" in w for w in run.warnings)
    first = load(path, segment=1)
    assert pts_of(first.loss) == FIRST


def test_one_name_twice_on_a_text_line_is_one_record(tmp_path: Path) -> None:
    log = read_log(write(tmp_path, "t.log", "loss=1.0 loss=2.0\nloss=3.0 loss=4.0\n"))
    assert pts(log) == [(0.0, 2.0), (1.0, 4.0)]


def test_one_tag_twice_in_one_tensorboard_event(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    with open(tmp_path / "events.out.tfevents.1.host", "wb") as fh:
        writer = RecordWriter(fh)
        for step in range(3):
            ev = event_pb2.Event(wall_time=1.0 + step, step=step)
            ev.summary.value.add(tag="loss", simple_value=1.0 + step)
            ev.summary.value.add(tag="loss", simple_value=2.0 + step)
            writer.write(ev.SerializeToString())
    run = load(tmp_path)
    assert pts_of(run.loss) == [(0, 2.0), (1, 3.0), (2, 4.0)]


# --- hostile directories and side files ---------------------------------------------------------


def test_mlflow_side_files_that_are_fifos_devices_or_loops_are_passed_over(tmp_path: Path) -> None:
    """meta.yaml or a params file that is a FIFO would block a read forever, one that links to
    /dev/zero would never end; they are left unread, and the metrics are read."""
    exp = tmp_path / "1"
    for run_id, stamp in (("a" * 32, 0), ("b" * 32, 1)):
        run = exp / run_id
        (run / "metrics").mkdir(parents=True)
        (run / "params").mkdir()
        (run / "metrics" / "loss").write_text(f"{1700000000000 + stamp} 2.5 0\n{1700000000001 + stamp} 2.25 1\n")
        os.mkfifo(run / "params" / "lr")
        (run / "metrics" / "loop").symlink_to(run)
    os.mkfifo(exp / ("a" * 32) / "meta.yaml")
    (exp / ("b" * 32) / "meta.yaml").symlink_to("/dev/zero")
    log = read_log(exp)
    assert pts(log) == [(0.0, 2.5), (1.0, 2.25)]
    assert log.hparams == {}


def test_lightning_hparams_yaml_that_is_a_fifo_is_passed_over(tmp_path: Path) -> None:
    (tmp_path / "metrics.csv").write_text("epoch,step,train_loss_step\n0,0,2.5\n0,1,2.25\n")
    os.mkfifo(tmp_path / "hparams.yaml")
    log = read_log(tmp_path)
    assert pts(log, "train_loss_step") == [(0.0, 2.5), (1.0, 2.25)] and log.hparams == {}


def test_tensorboard_directory_passes_over_fifos_and_empty_files(tmp_path: Path) -> None:
    tb_dir(tmp_path, FIRST, [])
    os.mkfifo(tmp_path / "events.out.tfevents.1800000000.fifo")
    (tmp_path / "events.out.tfevents.1900000000.empty").write_bytes(b"")
    log = read_log(tmp_path)
    assert pts(log) == FIRST
    assert log.warnings == [f"{tmp_path / 'events.out.tfevents.1900000000.empty'}: the file is empty; file skipped"]


def make_mlflow_db(path: Path, *, wal: bool) -> sqlite3.Connection:
    con = sqlite3.connect(path)
    if wal:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("CREATE TABLE runs (run_uuid, name, start_time, end_time, lifecycle_stage)")
    con.execute("CREATE TABLE metrics (key, value, timestamp, run_uuid, step, is_nan)")
    con.execute("INSERT INTO runs VALUES ('r1', 'only', 1, 2, 'active')")
    con.executemany(
        "INSERT INTO metrics VALUES ('loss', ?, ?, 'r1', ?, 0)", [(2.5 - s / 4, 1700000000000 + s, s) for s in range(4)]
    )
    con.commit()
    return con


def test_mlflow_db_in_wal_mode_is_read_without_files_beside_it(tmp_path: Path) -> None:
    make_mlflow_db(tmp_path / "mlflow.db", wal=True).close()  # closing checkpoints the WAL away
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlflow.db"]
    assert pts(read_log(tmp_path)) == [(float(s), 2.5 - s / 4) for s in range(4)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlflow.db"]
    piped = READERS["mlflow"].read(Source("<stdin>", data=(tmp_path / "mlflow.db").read_bytes()))
    assert pts(piped) == [(float(s), 2.5 - s / 4) for s in range(4)]


def test_mlflow_db_with_a_pending_wal_is_read_from_a_private_copy(tmp_path: Path) -> None:
    """A live writer: the points are in mlflow.db-wal, not yet in mlflow.db. They are read, and
    none of the three files is touched."""
    con = make_mlflow_db(tmp_path / "mlflow.db", wal=True)
    try:
        before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
        assert set(before) == {"mlflow.db", "mlflow.db-wal", "mlflow.db-shm"}
        assert pts(read_log(tmp_path)) == [(float(s), 2.5 - s / 4) for s in range(4)]
        assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()} == before
    finally:
        con.close()


# --- properties: cut at every offset, shuffled and duplicated lines, corrupted cells ---------------

steps_st = st.integers(min_value=0, max_value=999_999).map(float)
values_st = st.one_of(
    st.integers(min_value=0, max_value=639).map(lambda k: k / 64),  # exact in binary and in decimal
    st.sampled_from([math.nan, math.inf]),
)
records_st = st.lists(st.tuples(steps_st, values_st), min_size=1, max_size=6)


def text_whole(records: list[Point]) -> list[bool]:
    """Text needs finite values for the fixed layout its whole-last-line rule relies on."""
    return [math.isfinite(v) for _, v in records]


def expected_after_cut(fmt: str, records: list[Point], lines: list[str], cut: int) -> list[Point] | None:
    """The records a reader must return for the first `cut` bytes; None where it must refuse.

    csv: a row is read when its newline is there. jsonl: when its closing brace is there.
    text: when its newline is there, or when it is the whole last line and an earlier line has
    its digit layout (fixed-width numbers)."""
    out: list[Point] = []
    start = 0
    rows = lines[1:] if fmt == "csv" else lines
    if fmt == "csv":
        start = len(lines[0])
        if cut < start:
            return None
    for index, (record, line) in enumerate(zip(records, rows, strict=True)):
        end = start + len(line) - 1  # the position of its newline
        if cut > end or (fmt == "jsonl" and cut == end) or (fmt == "text" and cut == end and index > 0):
            out.append(record)
        start = end + 1
    return out or None


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "text"])
@PROPERTY
@given(records=records_st)
def test_cut_at_every_offset_reads_exactly_the_complete_records(fmt: str, records: list[Point]) -> None:
    if fmt == "text":
        records = [r for r, ok in zip(records, text_whole(records), strict=True) if ok] or [(0.0, 1.0)]
    lines = RENDER[fmt](records)
    data = "".join(lines).encode()
    for cut in range(1, len(data) + 1):
        want = expected_after_cut(fmt, records, lines, cut)
        if want is None:
            with pytest.raises(LrdoctorError):
                read_data(fmt, data[:cut])
            continue
        got = pts(read_data(fmt, data[:cut]))
        assert same(got, want), (cut, data[:cut])


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "text"])
@PROPERTY
@given(records=records_st, data=st.data())
def test_shuffled_and_duplicated_lines_are_read_in_file_order(
    fmt: str, records: list[Point], data: st.DataObject
) -> None:
    """Readers neither sort nor dedupe; load() then keeps one value per step, steps increasing,
    every value one the file holds (at its step; where every point has one step, no step was
    given, and the values are read in write order)."""
    shuffled = data.draw(st.permutations(records + data.draw(st.lists(st.sampled_from(records), max_size=4))))
    log = read_data(fmt, "".join(RENDER[fmt](shuffled)).encode())
    assert same(pts(log), shuffled)
    run = normalize(Log(log.source, log.format, {"loss": log.series["loss"]}, log.step_kind))
    assert np.all(np.diff(run.loss.steps) > 0)
    if any("no step was given" in w for w in run.warnings):
        assert len({s for s, _ in shuffled}) == 1
        assert [repr(float(v)) for v in run.loss.values] == [repr(v) for _, v in shuffled]
        return
    if any("are spread evenly in write order" in w for w in run.warnings):  # many writes per step
        assert {repr(float(v)) for v in run.loss.values} <= {repr(v) for _, v in shuffled}
        return
    written = {(s, repr(v)) for s, v in shuffled}
    assert all((s, repr(v)) in written for s, v in pts_of(run.loss))


@PROPERTY
@given(records=records_st, data=st.data())
def test_a_corrupted_csv_cell_costs_only_that_cell(records: list[Point], data: st.DataObject) -> None:
    lines = csv_lines(records)
    row = data.draw(st.integers(min_value=0, max_value=len(records) - 1))
    junk = data.draw(st.text(alphabet="abcxyz!?#@ ", min_size=1, max_size=6).filter(lambda t: t.strip()))
    lines[row + 1] = f"{records[row][0]:g},{junk}\n"
    log = read_data("csv", "".join(lines).encode())
    if len(records) == 1:  # the only loss cell: no loss column is left
        assert "loss" not in log.series and log.warnings == []
        return
    assert same(pts(log), records[:row] + records[row + 1 :])
    assert log.warnings == [f"<test>: 1 cell(s) hold text where numbers are expected (line {row + 2}); read as missing"]


@PROPERTY
@given(records=records_st, data=st.data())
def test_a_corrupted_jsonl_line_costs_only_that_line(records: list[Point], data: st.DataObject) -> None:
    lines = jsonl_lines(records) + jsonl_lines(records[:1])  # a good last line after the damage
    row = data.draw(st.integers(min_value=0, max_value=len(records) - 1))
    at = data.draw(st.integers(min_value=1, max_value=len(lines[row]) - 2))
    lines[row] = lines[row][:at] + "\x00" + lines[row][at + 1 :]
    log = read_data("jsonl", "".join(lines).encode())
    assert same(pts(log), [*records[:row], *records[row + 1 :], records[0]])
    assert log.warnings == [f"<test>: skipped 1 line(s) that are not whole JSON objects (line {row + 1})"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "text"])
@PROPERTY
@given(records=records_st, flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4))
def test_random_corruption_gives_a_clean_error_or_a_valid_run(
    tmp_path: Path, fmt: str, records: list[Point], flips: list[tuple[int, int]]
) -> None:
    data = bytearray("".join(RENDER[fmt](records)).encode())
    for pos, byte in flips:
        data[pos % len(data)] = byte
    path = write(tmp_path, f"log.{fmt}", bytes(data))
    try:
        run = load(path)
    except LrdoctorError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert run.metric in run.series and len(run.loss) > 0
    assert np.all(np.isfinite(run.loss.steps)) and np.all(np.diff(run.loss.steps) > 0)


def test_keras_append_with_other_metrics_reads_the_first_run_and_says_why(tmp_path: Path) -> None:
    """Keras' CSVLogger(append=True) writes no header into a file that has one: a later run that
    logs more metrics (accuracy) leaves rows of 4 cells under a header of 3. The file had not been
    taken for CSV at all ("no training metrics found in this text")."""
    first = "".join(f"{e},{2.0 / (1 + e):.4f},{2.1 / (1 + e):.4f}\n" for e in range(9))
    later = "".join(f"{e},{0.5 + e / 20:.3f},{2.0 / (1 + e):.4f},{2.1 / (1 + e):.4f}\n" for e in range(9))
    path = write(tmp_path, "training.log", "epoch,loss,val_loss\n" + first + later)
    run = load(path)
    assert run.format == "keras-csv" and len(run.loss) == 9
    (note,) = [w for w in run.warnings if "appended without a header" in w]
    assert note.startswith(f"{path}:11: from this line on, 9 rows have 4 cells under a header of 3")
    assert "put that run's header line above line 11" in note


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_zip_archive_is_refused_as_one_not_read_as_its_members_text(tmp_path: Path, compression: int) -> None:
    """Stored uncompressed, a zipped metrics.csv passed for a CSV whose header began with the zip's
    own bytes (its step column lost)."""
    path = tmp_path / "run.zip"
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        z.writestr("metrics.csv", "step,loss\n" + "".join(f"{s},{2 / (1 + s / 10):.5f}\n" for s in range(100)))
    with pytest.raises(NotALog, match="a zip archive; extract the log"):
        read_log(path)


@pytest.mark.parametrize("content", ["{}\n", "d_model: 768\nlr: 0.0002363\nnum_epochs: 10\nweight_decay: 0.01\n"])
def test_a_lightning_hparams_yaml_given_alone_is_refused_as_settings(tmp_path: Path, content: str) -> None:
    """Its settings had read as one-point series ('no series looks like a training loss; found
    d_model, ...; pass --metric NAME'), or as 'an empty JSON object'. The version folder still reads
    the rate from it."""
    version = tmp_path / "version_0"
    version.mkdir()
    (version / "hparams.yaml").write_text(content)
    (version / "metrics.csv").write_text(
        "epoch,step,train_loss\n" + "".join(f"0,{s},{2 / (1 + s / 10):.5f}\n" for s in range(60))
    )
    with pytest.raises(
        NotALog, match=re.escape("a Lightning hparams.yaml, the run's settings, not its log; diagnose the metrics.csv")
    ):
        read_log(version / "hparams.yaml")
    assert len(load(version).loss) == 60


@pytest.mark.parametrize(("encoding", "word"), [("cp1251", "эпоха"), ("cp1252", "époque"), ("latin-1", "Größe")])
def test_text_in_a_single_byte_encoding_is_read_not_refused_as_binary(tmp_path: Path, encoding: str, word: str) -> None:
    """Every line with a word of a single-byte encoding: a UTF-8 decode fails on a byte in eight,
    which had read as binary data, so the hook's gate passed over a run that went NaN."""
    lines = "".join(
        f"step {s}: loss {'nan' if s >= 80 else f'{2 * math.exp(-s / 30) + 0.1:.4f}'} lr 0.01 ({word} 1)\n"
        for s in range(100)
    )
    for tail in (b"", bytes(4096)):  # (and with the block of NUL bytes a crash leaves)
        path = write(tmp_path, "train.log", lines.encode(encoding) + tail)
        run = load(path)
        assert len(run.loss) == 100 and np.isnan(run.loss.values[80:]).all()
        assert np.isfinite(run.loss.values[:80]).all()
    # Bytes that are no text (an eighth of them control bytes) are still refused.
    junk = np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    with pytest.raises(NotALog):
        read_log(write(tmp_path, "junk.log", junk))
