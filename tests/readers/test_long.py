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


def test_add_scalars_folders_are_series_of_one_run(tmp_path) -> None:
    """tbparse of a run that used add_scalars: its keys sit in folders '<tag>_<key>' beside the
    run's own events (dir_name ''), read as one run, as the TensorBoard reader reads the folder."""
    rows = []
    for s in range(40):
        rows.append((s, "lr", 0.01, ""))
        rows.append((s, "loss", 2.0 / (1 + s), "loss_train"))
        rows.append((s, "loss", 2.2 / (1 + s) + 0.1, "loss_val"))
    path = tmp_path / "scalars.csv"
    pd.DataFrame(rows, columns=["step", "tag", "value", "dir_name"]).to_csv(path, index=False)
    log = read_log(path)
    assert set(log.series) == {"lr", "loss_train/loss", "loss_val/loss"} and not log.warnings


@pytest.mark.parametrize("step", ["STEP", "Global_Step", "Iteration"])
def test_a_counter_in_any_case_is_the_step(tmp_path, step: str) -> None:
    path = tmp_path / "history.csv"
    rows = "".join(f"{s * 10},loss,{2.0 / (1 + s)}\n{s * 10},lr,0.01\n" for s in range(40))
    path.write_text(f"\n  \n{step},tag,value\n" + rows)  # (blank lines above the header too)
    assert read_log(path).series["loss"].steps.tolist() == list(range(0, 400, 10))


def test_without_a_counter_each_tag_counts_its_own_points(tmp_path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(
        "wall_time,tag,value\n" + "".join(f"{1.7e9 + s},loss,{2.0 / (1 + s)}\n{1.7e9 + s},lr,0.01\n" for s in range(40))
    )
    log = read_log(path)
    assert log.step_kind == "index" and log.series["loss"].steps.tolist() == list(range(40))


def test_a_record_without_a_value_is_no_point(tmp_path) -> None:
    """In JSON a null value is a logged NaN; a record with no value key at all logged nothing."""
    import json

    records = [{"step": s, "tag": "loss", "value": 2.0 / (1 + s)} for s in range(40)]
    records[24] = {"step": 24, "tag": "loss"}
    path = tmp_path / "scalars.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    log = read_log(path)
    assert len(log.series["loss"]) == 39 and not np.isnan(log.series["loss"].values).any()


def test_runs_named_like_add_scalars_folders_stay_runs(tmp_path) -> None:
    """A sweep's runs 'loss_lr0.1' and 'loss_lr0.01' (tag 'loss') are two runs, not one run's
    add_scalars folders: no run '' holds rows beside them. A tag's '/' is '_' in the folder
    add_scalars writes ('Loss/epoch' -> 'Loss_epoch_train')."""
    rows = [
        (s, "loss", 2.0 / (1 + s) + k, run) for k, run in enumerate(["loss_lr0.01", "loss_lr0.1"]) for s in range(40)
    ]
    path = tmp_path / "sweep.csv"
    pd.DataFrame(rows, columns=["step", "tag", "value", "dir_name"]).to_csv(path, index=False)
    log = read_log(path)
    assert set(log.series) == {"loss"} and any("a table of 2 runs" in w for w in log.warnings)
    rows = [(s, "lr", 0.1, "") for s in range(40)]
    rows += [(s, "Loss/epoch", 2.0 / (1 + s), "Loss_epoch_train") for s in range(40)]
    pd.DataFrame(rows, columns=["step", "tag", "value", "dir_name"]).to_csv(path, index=False)
    assert set(read_log(path).series) == {"lr", "Loss_epoch_train/Loss/epoch"}


@pytest.mark.parametrize(
    "damage",
    [
        "short row",
        "tab line above the header",
        "#N/A value",
        "blank line",
        "stray carriage return",
        "tabs alone",
        "a wide first row balanced by a short one",
    ],
)
def test_a_large_damaged_table_reads_as_a_small_one(tmp_path, damage: str) -> None:
    """pandas pads a short row with NaN, takes a first line of blanks for the header, reads '#N/A'
    as missing and skips a blank line; the large-file reading must see what the line-by-line
    reading sees (the damaged line skipped with a note, '#N/A' no number)."""
    sep = "\t" if damage in ("tab line above the header", "tabs alone") else ","
    rows = [(s, tag, v) for s in range(40_000) for tag, v in (("loss", 2.0 / (1 + s)), ("lr", 0.01))]
    lines = [sep.join(("step", "tag", "value"))] + [sep.join(map(str, row)) for row in rows]
    if damage == "short row":
        lines[30_001] = sep.join(("15000", "loss"))
    elif damage == "tab line above the header":
        lines.insert(0, "\t")
    elif damage == "#N/A value":
        lines[30_001] = sep.join(("15000", "loss", "#N/A"))
    elif damage == "stray carriage return":
        lines[30_001] = sep.join(("15000", "loss\r", "1.0"))
    elif damage == "tabs alone":
        lines.insert(30_001, "\t\t")
    elif damage.startswith("a wide first row"):  # (pandas would take the first cell for an index)
        lines = ["tag,value,wall_time"] + [f"loss,{2.0 / (1 + s)},{1e9 + s}" for s in range(60_000)]
        lines[1] = "a,loss,0.5,1000000000.0"
        lines[30_001] = "x,"
    else:
        lines.insert(30_001, "")
    big = tmp_path / "big.csv"
    big.write_text("\n".join(lines) + "\n")
    assert big.stat().st_size > 1 << 20
    small = tmp_path / "small.csv"
    small.write_text(big.read_text().replace("value", '"value"', 1))  # (a quote: read line by line)
    fast, slow = read_log(big), read_log(small)
    assert fast.warnings == [w.replace("small", "big") for w in slow.warnings]
    for name in slow.series:
        assert np.array_equal(fast.series[name].values, slow.series[name].values, equal_nan=True)
        assert not np.isnan(fast.series[name].values).any()


@pytest.mark.parametrize("size", ["small", "large"])
def test_add_scalars_beside_the_logging_folder_itself(tmp_path, size: str) -> None:
    """tbparse names the logging folder's own events '' (an empty cell, which pandas reads as
    missing): the add_scalars folders beside it are its series, in a large file as in a small one."""
    steps = 14_000 if size == "large" else 400
    rows = [(s, "lr", 0.1, "") for s in range(steps)]
    rows += [(s, "loss", 2.0 / (1 + s), "loss_train") for s in range(steps)]
    rows += [(s, "loss", 2.2 / (1 + s), "loss_val") for s in range(steps)]
    path = tmp_path / "scalars.csv"
    pd.DataFrame(rows, columns=["step", "tag", "value", "dir_name"]).to_csv(path, index=False)
    assert (path.stat().st_size > 1 << 20) == (size == "large")
    log = read_log(path)
    assert set(log.series) == {"lr", "loss_train/loss", "loss_val/loss"} and not log.warnings


def test_a_row_without_a_tag_names_no_run(tmp_path) -> None:
    """Only rows with a tag count among the table's runs, in both readings."""
    rows = [(0, "", np.nan, "runA")]
    rows += [(s, "loss", 2.0 / (1 + s), f"runA/loss_{k}") for k in ("train", "val") for s in range(40)]
    path = tmp_path / "scalars.csv"
    pd.DataFrame(rows, columns=["step", "tag", "value", "dir_name"]).to_csv(path, index=False)
    log = read_log(path)
    assert set(log.series) == {"loss"} and any("a table of 2 runs" in w for w in log.warnings)


def test_long_records_whose_first_has_no_step(tmp_path) -> None:
    import json

    records = [{"tag": "lr", "value": 0.001}] + [
        {"step": 10 * s, "tag": "loss", "value": 2.0 / (1 + s)} for s in range(200)
    ]
    path = tmp_path / "scalars.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    log = read_log(path)
    assert log.series["loss"].steps[-1] == 1990 and "lr" not in log.series
    assert any("left out 1 row(s) with no step" in w for w in log.warnings)
