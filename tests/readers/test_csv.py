from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lrdoctor import load
from lrdoctor.cli import cli
from lrdoctor.errors import NoSeries, UnreadableLog
from lrdoctor.readers import csv_reader, read_log
from lrdoctor.source import open_source

# Lightning CSVLogger: sparse rows, step rows and epoch rows interleaved, LearningRateMonitor column.
LIGHTNING = (
    "epoch,lr-Adam,step,train_loss_epoch,train_loss_step,val_loss\r\n"
    "0,0.001,0,,,\r\n"
    "0,,9,,2.30,\r\n"
    "0,,19,,2.10,\r\n"
    "0,,19,,,2.05\r\n"
    "0,,19,2.20,,\r\n"
    "1,0.001,20,,,\r\n"
    "1,,29,,1.90,\r\n"
    "1,,39,,nan,\r\n"
    "1,,39,,,1.95\r\n"
)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_lightning_sparse_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "metrics.csv", LIGHTNING)
    (tmp_path / "hparams.yaml").write_text("lr: 0.001\nbatch_size: 32\nnested:\n  a: 1\n")
    run = load(path)
    assert run.format == "lightning-csv"
    assert run.metric == "train_loss_step"
    np.testing.assert_array_equal(run.loss.steps, [9, 19, 29, 39])
    np.testing.assert_array_equal(run.loss.values[:3], [2.30, 2.10, 1.90])
    assert np.isnan(run.loss.values[3])  # "nan" is a value, an empty cell is not
    assert run.val_metric == "val_loss" and len(run.val_loss) == 2
    assert run.lr_name == "lr-Adam" and run.observed_lr == 0.001
    assert run.hparams == {"lr": 0.001, "batch_size": 32.0, "nested": ""}


def test_lightning_version_directory(tmp_path: Path) -> None:
    write(tmp_path, "metrics.csv", LIGHTNING)
    assert load(tmp_path).metric == "train_loss_step"


def test_keras_appended_runs_and_na(tmp_path: Path) -> None:
    rows = ["epoch;learning_rate;loss;val_loss"]
    rows += [f"{e};0.01;{1.0 - 0.1 * e};NA" for e in range(3)]
    rows += [f"{e};0.001;{2.0 - 0.1 * e};{2.1 - 0.1 * e}" for e in range(5)]
    path = write(tmp_path, "training.log", "\n".join(rows) + "\n")
    run = load(path)
    assert run.format == "keras-csv" and run.step_kind == "epoch"
    assert [s.points for s in run.segments] == [3, 5]
    assert run.segment == 2 and len(run.loss) == 5 and run.loss.values[0] == 2.0
    assert run.observed_lr == 0.001
    assert any("2 runs are appended" in w for w in run.warnings)
    first = load(path, segment=1)
    assert len(first.loss) == 3 and first.observed_lr == 0.01
    assert "val_loss" not in first.series  # every cell NA in that run


def test_resumed_run_keeps_latest_write(tmp_path: Path) -> None:
    rows = ["step,loss"] + [f"{s},{10 - s}" for s in range(6)] + [f"{s},{100 + s}" for s in range(3, 8)]
    run = load(write(tmp_path, "log.csv", "\n".join(rows) + "\n"))
    np.testing.assert_array_equal(run.loss.steps, np.arange(8))
    np.testing.assert_array_equal(run.loss.values, [10, 9, 8, 103, 104, 105, 106, 107])
    assert len(run.segments) == 1
    assert any("resumed at step 3" in w for w in run.warnings)


def test_wandb_export(tmp_path: Path) -> None:
    text = (
        '"Step","cool-run-1 - loss","cool-run-1 - loss__MIN","cool-run-1 - loss__MAX","cool-run-1 - lr"\n'
        '"0","2.5","2.4","2.6","0.0003"\n"10","2.0","1.9","2.1","0.0003"\n"20","","","","0.0003"\n'
    )
    run = load(write(tmp_path, "wandb_export_2024-01-01.csv", text))
    assert run.format == "wandb-csv"
    assert run.metric == "cool-run-1 - loss" and len(run.loss) == 2
    assert run.lr_name == "cool-run-1 - lr" and run.observed_lr == 0.0003


@pytest.mark.parametrize("rows", [3, 4000])  # (pandas' one pass wants the last line ended: both are read line by line)
def test_a_wandb_export_ends_its_last_row_without_a_newline_and_keeps_it(tmp_path: Path, rows: int) -> None:
    """W&B writes its export whole and ends the last row without a line break; a log a running
    job appends to may be cut there, so it is only for an export that the row is kept."""
    lines = ['"Step","cool-run-1 - loss","cool-run-1 - loss__MIN","cool-run-1 - loss__MAX"']
    lines += [f'"{s}","{2.5 - s / 10000}","","' for s in range(rows)]
    lines = [line + '"' if k else line for k, line in enumerate(lines)]
    run = load(write(tmp_path, "wandb_export.csv", "\n".join(lines)))
    assert len(run.loss) == rows and run.loss.steps[-1] == rows - 1
    assert not any("no newline" in w for w in run.warnings)
    # ... but not one cut short inside its last row.
    torn = [*lines[:-1], lines[-1][: lines[-1].index(",") + 4]]
    run = load(write(tmp_path, "wandb_export.csv", "\n".join(torn)))
    assert len(run.loss) == rows - 1 and any("does not end as an export's rows do" in w for w in run.warnings)
    plain = ["step,loss"] + [f"{s},{2.5 - s / 10000}" for s in range(rows)]
    run = load(write(tmp_path, "log.csv", "\n".join(plain)))
    assert len(run.loss) == rows - 1 and any("the last line has no newline" in w for w in run.warnings)


def test_a_wandb_runs_table_is_no_run_history(tmp_path: Path) -> None:
    """W&B's runs table (the project page's export) has a row per run with its settings and last
    values; read as a curve, its rows would be points of one run."""
    header = (
        '"Name","State","Notes","User","Tags","Created","Runtime","Sweep",'
        + '"learning_rate","iter","train/loss","val/loss"'
    )
    rows = [
        f'"run-{k}","finished","-","","","2026-05-25T14:08:33.000Z","732","",'
        + f'"{10.0**-k}","5000","{1 + k / 10}","{2 + k / 10}"'
        for k in range(5)
    ]
    path = write(tmp_path, "wandb_export.csv", "\n".join([header, *rows]) + "\n")
    with pytest.raises(
        NoSeries, match=r"a W&B runs table \(one row per run: its settings and last values\), not a run's history"
    ):
        load(path)
    result = CliRunner().invoke(cli, ["diagnose", str(path)])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    # ... with columns hidden before the export, too
    hidden = [",".join(c for k, c in enumerate(line.split(",")) if k not in (1, 6)) for line in [header, *rows]]
    with pytest.raises(NoSeries, match="a W&B runs table"):
        load(write(tmp_path, "wandb_export.csv", "\n".join(hidden) + "\n"))


def test_timm_summary(tmp_path: Path) -> None:
    text = "epoch,train_loss,eval_loss,eval_top1,eval_top5,lr\n0,6.9,6.8,0.1,0.5,0.001\n1,6.5,6.4,0.3,1.2,0.002\n"
    run = load(write(tmp_path, "summary.csv", text))
    assert run.format == "timm-csv" and run.step_kind == "epoch"
    assert run.metric == "train_loss" and run.val_metric == "eval_loss" and run.observed_lr == 0.002


@pytest.mark.parametrize("sep", [",", "\t", ";", "|"])
def test_separators(tmp_path: Path, sep: str) -> None:
    text = (
        sep.join(["step", "loss", "lr"])
        + "\n"
        + "\n".join(sep.join([str(i), str(1 / (i + 1)), "0.1"]) for i in range(5))
        + "\n"
    )
    run = load(write(tmp_path, "x.txt", text))
    assert run.format == "csv" and len(run.loss) == 5 and run.observed_lr == 0.1


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_bom_and_utf16(tmp_path: Path, encoding: str) -> None:
    run = load(write(tmp_path, "x.csv", "step,loss\r\n1,0.5\r\n2,0.4\r\n", encoding))
    np.testing.assert_array_equal(run.loss.values, [0.5, 0.4])


def test_gzip(tmp_path: Path) -> None:
    path = tmp_path / "x.csv.gz"
    path.write_bytes(gzip.compress(b"step,loss\n1,0.5\n2,0.4\n"))
    assert len(load(path).loss) == 2


def test_torn_last_line_is_dropped(tmp_path: Path) -> None:
    run = load(write(tmp_path, "x.csv", "step,loss\n1,0.5\n2,0.4\n3,0.3"))
    np.testing.assert_array_equal(run.loss.steps, [1, 2])
    assert any("no newline" in w for w in run.warnings)


def test_no_step_column_uses_row_index(tmp_path: Path) -> None:
    run = load(write(tmp_path, "x.csv", "val_loss,loss\n2.3,2.4\n2.2,2.3\n"))
    assert run.step_kind == "index"
    np.testing.assert_array_equal(run.loss.steps, [0, 1])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("step,loss\n", "only a header"),
        ("step,loss\nfoo,bar\nbaz,qux\n", "no numeric column"),
    ],
)
def test_bad_csv(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UnreadableLog, match=message):
        read_log(write(tmp_path, "bad.csv", text), format="csv")


def test_sniff_accepts_csv_and_rejects_prose() -> None:
    assert csv_reader.sniff(b"epoch,loss,val_loss\n0,1.0,1.1\n1,0.9,1.0\n", "x")
    assert not csv_reader.sniff(b"iter 1: loss 2.3, time 12ms, mfu 1%\niter 2: loss 2.2, time 12ms, mfu 1%\n", "x")
    assert not csv_reader.sniff(b'{"a": 1, "b": 2}\n{"a": 2, "b": 3}\n', "x")


def test_realworld_csv(realworld: Path) -> None:
    from tests.conftest import realworld_manifest

    for entry in realworld_manifest():
        if entry["format"] not in ("lightning-csv", "keras-csv") or not entry["file"].endswith(".csv"):
            continue
        path = realworld / entry["local_path"]
        source = open_source(path)
        from lrdoctor.readers import sniff

        assert sniff(source) == "csv", entry["file"]
        run = load(path)
        assert sum(s.points for s in run.segments) == entry["loss_points"], entry["file"]


def test_decimal_commas(tmp_path: Path) -> None:
    text = "step;loss;lr\n" + "".join(f"{s};{2 / (s + 1):.4f};0,001\n".replace(".", ",") for s in range(30))
    run = load(write(tmp_path, "export.csv", text))
    assert run.format == "csv" and run.observed_lr == 0.001
    np.testing.assert_allclose(run.loss.values[:3], [2.0, 1.0, 0.6667])
    # Not with a comma separator, nor where any number has a decimal point.
    assert not csv_reader._decimal_comma(["1,2", "3,4"], ",")
    assert not csv_reader._decimal_comma(["1;0,5", "2;0.4"], ";")


def test_a_header_written_again_with_more_columns(tmp_path: Path) -> None:
    rows = ["step,loss"] + [f"{s},{1 / s}" for s in range(1, 41)]
    rows += ["step,loss,lr"] + [f"{s},{1 / s},0.01" for s in range(41, 81)]
    rows += ["lr,step,loss"] + [f"0.001,{s},{1 / s}" for s in range(81, 101)]
    path = write(tmp_path, "log.csv", "\n".join(rows) + "\n")
    run = load(path)
    np.testing.assert_array_equal(run.loss.steps, np.arange(1, 101))
    np.testing.assert_allclose(run.loss.values, 1 / np.arange(1, 101))
    np.testing.assert_array_equal(run.lr.steps, np.arange(41, 101))
    assert run.lr.values[0] == 0.01 and run.lr.values[-1] == 0.001
    assert f"{path}:42: a new header line (adds lr); the rows below it are read under it" in run.warnings
    assert not any("malformed" in w for w in run.warnings)


def test_validation_rows_without_a_step_appended_at_the_end(tmp_path: Path) -> None:
    rows = ["step,epoch,loss,val_loss"] + [f"{s},{(s - 1) // 10},{1 / s}," for s in range(1, 31)]
    rows += [f",{e},,{0.5 - e / 10}" for e in range(3)]
    run = load(write(tmp_path, "log.csv", "\n".join(rows) + "\n"))
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [10.0, 20.0, 30.0]
    # Written between the steps, each takes the step before it, as before.
    rows = ["step,epoch,loss,val_loss"]
    for e in range(3):
        rows += [f"{s},{e},{1 / s}," for s in range(e * 10 + 1, e * 10 + 11)] + [f",{e},,0.5"]
    run = load(write(tmp_path, "log2.csv", "\n".join(rows) + "\n"))
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [10.0, 20.0, 30.0]


def test_a_wandb_export_of_several_runs_says_so(tmp_path: Path) -> None:
    text = '"Step","run-a - loss","run-b - loss"\n' + "".join(
        f'"{s}","{1 / (s + 1)}","{2 / (s + 1)}"\n' for s in range(5)
    )
    run = load(write(tmp_path, "wandb_export.csv", text))
    assert run.format == "wandb-csv" and run.metric == "run-a - loss"
    assert any("this export holds 2 runs (run-a, run-b); judged: run-a" in w for w in run.warnings)


def test_a_wandb_export_note_names_the_runs_metric_and_a_run_that_went_non_finite(tmp_path: Path) -> None:
    """The note says how to choose another run with its own metric's name, and which runs not
    judged logged a non-finite loss (diagnose judges one; check judges them all)."""
    rows = ['"Step","b-run - train/loss","a-run - train/loss","c-run - train/loss"']
    for s in range(30):
        rows.append(f'"{s}","{2 / (s + 1)}","{1 / (s + 1)}","{"NaN" if s > 20 else 3 / (s + 1)}"')
    run = load(write(tmp_path, "wandb_export.csv", "\n".join(rows) + "\n"))
    assert run.metric == "b-run - train/loss"  # the first run written, not the first by name
    note = next(w for w in run.warnings if "this export holds 3 runs" in w)
    assert "choose another with --metric 'a-run - train/loss'" in note
    assert note.endswith("not judged here: c-run logged a non-finite loss")


def test_a_wandb_export_note_names_a_run_that_blew_up_to_finite_values(tmp_path: Path) -> None:
    """A run of the export that exploded without a NaN (its loss ends 40x above its first) is
    named too, with how far; a run that merely came down less is not."""
    rows = ['"Step","a-run - loss","b-run - loss","c-run - loss","d-run - loss"']
    for s in range(30):
        blown = 2.0 if s < 5 else 80.0 + s % 3
        rows.append(f'"{s}","{1 / (s + 1)}","{blown}","{"NaN" if s > 20 else 3 / (s + 1)}","{2.0 - s / 100}"')
    run = load(write(tmp_path, "wandb_export.csv", "\n".join(rows) + "\n"))
    note = next(w for w in run.warnings if "this export holds 4 runs" in w)
    assert note.endswith(
        "not judged here: c-run logged a non-finite loss; b-run (40.5x) ended with a loss above 3x its first"
    )
    assert "d-run" not in note.rpartition("not judged here")[2]


def test_a_single_named_column_is_a_csv(tmp_path: Path) -> None:
    # pandas' Series.to_csv(index=False): a header that is one name, then one number per line.
    import pandas as pd

    losses = 2.0 * np.exp(-np.arange(300) / 60) + 0.3
    path = tmp_path / "losses.csv"
    pd.Series(losses, name="train_loss").to_csv(path, index=False)
    run = load(path)
    assert run.metric == "train_loss" and run.step_kind == "index"
    np.testing.assert_allclose(run.loss.values, losses)
    text = tmp_path / "losses.txt"  # the same under a name that says nothing: read from its content
    text.write_bytes(path.read_bytes())
    assert load(text).format == "csv"
    # A word and then sentences is no such column.
    prose = tmp_path / "notes.txt"
    prose.write_text("Training\nstarted at noon\nloss went down\n")
    with pytest.raises(UnreadableLog):
        load(prose)


def test_a_batch_counter_within_each_epoch_runs_on_and_a_batch_size_is_no_step(tmp_path: Path) -> None:
    from lrdoctor import load

    rows = "".join(f"{e},{b},{2.0 / (e * 500 + b):.6f}\n" for e in (1, 2) for b in (250, 500))
    path = tmp_path / "counted.csv"
    path.write_text("epoch,batch,loss\n" + rows)
    assert load(path).loss.steps.tolist() == [250, 500, 750, 1000]
    path.write_text("epoch,batch,loss\n" + "".join(f"{e},32,{2.0 / e:.4f}\n" for e in range(1, 6)))
    run = load(path)
    assert run.step_kind == "epoch" and run.loss.steps.tolist() == [1, 2, 3, 4, 5]
    # Without an epoch to place it, a counter that restarts is no step: the rows, in order, are.
    path.write_text(
        "batch_idx,loss\n" + "".join(f"{b},{2.0 / (e * 10 + b + 1):.5f}\n" for e in range(5) for b in range(10))
    )
    run = load(path)
    assert len(run.loss) == 50 and len(run.segments) == 1
    # A running count of batches, with no epoch: the step.
    path.write_text("batch,loss\n" + "".join(f"{b},{2.0 / (b + 1):.5f}\n" for b in range(0, 500, 25)))
    run = load(path)
    assert run.step_kind == "step" and run.loss.steps.tolist() == list(range(0, 500, 25))


@pytest.mark.parametrize("last", ["1.0", "oops"])  # the fast path, and the careful one (a text cell)
def test_a_column_named_twice_is_said(tmp_path: Path, last: str) -> None:
    path = write(tmp_path, "m.csv", f"step,loss,loss\n0,2,3\n1,1.5,2\n2,1.2,1.5\n3,1,{last}\n")
    log = read_log(path)
    assert list(log.series)[:3] == ["step", "loss", "loss.1"]
    assert f"{path}: columns named more than once: 'loss' (2 times); read as loss, loss.1, ... in order" in log.warnings


@pytest.mark.parametrize("gz", [False, True])
def test_a_header_longer_than_the_first_look_is_still_a_csv(tmp_path: Path, gz: bool) -> None:
    """1,200 columns (a model's per-layer statistics): the header alone is 73 KB, longer than
    the 64 KiB a reader is first told by."""
    names = ["step", "loss"] + [f"encoder.layer_{k:04d}.attention.output/grad_norm_mean_abs_value" for k in range(1198)]
    header = ",".join(names)
    assert len(header) > 64 * 1024
    rows = [",".join([str(s), f"{2.0 * 0.9**s:.5f}", *(["0.5"] * 1198)]) for s in range(30)]
    text = header + "\n" + "\n".join(rows) + "\n"
    path = tmp_path / ("wide.log.gz" if gz else "wide.log")  # no .csv: told from the content
    path.write_bytes(gzip.compress(text.encode(), mtime=0) if gz else text.encode())
    run = load(path)
    assert run.format == "csv" and run.metric == "loss" and len(run.loss) == 30


def test_a_header_of_20000_columns_gets_its_own_message(tmp_path: Path) -> None:
    path = tmp_path / "cols.csv"
    path.write_text(
        ",".join(["step", "loss", *(f"c{k}" for k in range(19998))]) + "\n" + ",".join(["0"] * 20000) + "\n"
    )
    with pytest.raises(UnreadableLog, match="a header of 20000 columns"):
        load(path)


def _yolo(columns: list[str], rows: list[list[float]], width: int = 0) -> str:
    """results.csv as Ultralytics writes it (versions before 8.1 padded every cell)."""
    lines = [",".join(c.rjust(width) for c in columns)]
    lines += [",".join(f"{v:.5g}".rjust(width) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


YOLO_DETECT = [
    *("epoch", "train/box_loss", "train/cls_loss", "train/dfl_loss", "metrics/precision(B)", "metrics/recall(B)"),
    *("metrics/mAP50(B)", "metrics/mAP50-95(B)", "val/box_loss", "val/cls_loss", "val/dfl_loss"),
    *("lr/pg0", "lr/pg1", "lr/pg2"),
]


@pytest.mark.parametrize(("width", "timed"), [(0, True), (0, False), (24, False)])
def test_ultralytics_results_sum_the_loss_parts_and_take_the_weights_rate(
    tmp_path: Path, width: int, timed: bool
) -> None:
    """YOLO logs its loss in parts and no total; the biases' group (pg0) begins its warmup at
    warmup_bias_lr (0.1) while the weights' (pg1) rises to the base rate. Version 8.3 added a
    `time` column (seconds so far) after the epoch."""
    rows = []
    for e in range(6):
        bias_lr, lr = (0.1 - (0.1 - 0.01) * e / 3, 0.01 * e / 3) if e < 3 else (0.01, 0.01)
        rows.append(
            [e, 1.5 - 0.1 * e, 3.0 - 0.2 * e, 1.2 - 0.01 * e, 0.5, 0.4, 0.3, 0.2, 1.6, 2.9, 1.3, bias_lr, lr, lr]
        )
    columns = YOLO_DETECT
    if timed:
        columns = [columns[0], "time", *columns[1:]]
        rows = [[row[0], 60.0 * (row[0] + 1), *row[1:]] for row in rows]
    run = load(write(tmp_path, "results.csv", _yolo(columns, rows, width)))
    assert run.format == "ultralytics-csv" and run.step_kind == "epoch"
    assert run.metric == "train/loss" and run.loss.values.tolist() == pytest.approx([5.7 - 0.31 * e for e in range(6)])
    assert run.val_metric == "val/loss" and run.val_loss is not None
    assert run.val_loss.values.tolist() == pytest.approx([5.8] * 6)
    assert run.lr_name == "lr/pg1"
    assert any(
        "'train/loss' is the sum of 'train/box_loss', 'train/cls_loss', 'train/dfl_loss'" in w for w in run.warnings
    )


def test_ultralytics_total_covers_the_rows_that_hold_every_part(tmp_path: Path) -> None:
    text = _yolo(YOLO_DETECT, [[e, 1.0, 2.0, 3.0, 0, 0, 0, 0, 1, 1, 1, 0.01, 0.01, 0.01] for e in range(4)])
    lines = text.splitlines()
    cells = lines[2].split(",")
    cells[2] = ""  # epoch 1 without its cls_loss
    lines[2] = ",".join(cells)
    run = load(write(tmp_path, "results.csv", "\n".join(lines) + "\n"))
    assert run.loss.steps.tolist() == [0, 2, 3] and run.loss.values.tolist() == [6.0, 6.0, 6.0]


def test_ultralytics_total_sums_each_row_of_a_resumed_results_file(tmp_path: Path) -> None:
    """Resumed at epoch 3, the file holds epochs 0-5 and then 3-9 again; the first epoch 3 lacks
    its cls_loss. Its box and dfl losses are not added to the second epoch 3's cls loss."""
    rows = [[e, 1.0, 2.0, 3.0, 0, 0, 0, 0, 1, 1, 1, 0.01, 0.01, 0.01] for e in range(6)]
    rows += [[e, 10.0, 20.0, 30.0, 0, 0, 0, 0, 1, 1, 1, 0.01, 0.01, 0.01] for e in range(3, 10)]
    lines = _yolo(YOLO_DETECT, rows).splitlines()
    cells = lines[4].split(",")  # epoch 3, first written
    cells[2] = ""
    lines[4] = ",".join(cells)
    log = read_log(write(tmp_path, "results.csv", "\n".join(lines) + "\n"))
    total = log.series["train/loss"]
    assert list(zip(total.steps.tolist(), total.values.tolist(), strict=True)) == [
        (0, 6.0),
        (1, 6.0),
        (2, 6.0),
        (4, 6.0),
        (5, 6.0),
        *((e, 60.0) for e in range(3, 10)),
    ]


def test_ultralytics_classify_has_its_total_already(tmp_path: Path) -> None:
    columns = ["epoch", "train/loss", "metrics/accuracy_top1", "metrics/accuracy_top5", "val/loss"]
    columns += ["lr/pg0", "lr/pg1", "lr/pg2"]
    rows = [[e, 2.0 - 0.1 * e, 0.5, 0.9, 2.1 - 0.1 * e, 0.01, 0.01, 0.01] for e in range(5)]
    run = load(write(tmp_path, "results.csv", _yolo(columns, rows)))
    assert run.format == "ultralytics-csv"
    assert run.metric == "train/loss" and run.val_metric == "val/loss" and run.lr_name == "lr/pg1"
    assert not any("sum of" in w for w in run.warnings)


def test_yolov5_results_name_their_groups_x_lr(tmp_path: Path) -> None:
    columns = ["epoch", "train/box_loss", "train/obj_loss", "train/cls_loss", "metrics/precision"]
    columns += ["val/box_loss", "val/obj_loss", "val/cls_loss", "x/lr0", "x/lr1", "x/lr2"]
    # (biases, weights): three epochs of warmup, then the base rate
    warm = [(0.1 - 0.03 * e, 0.01 * e / 3) if e < 3 else (0.01, 0.01) for e in range(6)]
    rows = [[e, 0.1 - 0.01 * e, 0.05, 0.02, 0.5, 0.1, 0.05, 0.02, b, w, w] for e, (b, w) in enumerate(warm)]
    run = load(write(tmp_path, "results.csv", _yolo(columns, rows, 20)))
    assert run.format == "ultralytics-csv" and run.metric == "train/loss" and run.lr_name == "x/lr1"
    assert run.loss.values.tolist() == pytest.approx([0.17 - 0.01 * e for e in range(6)])
    # The biases' group warms up from 0.1 to the weights' rate: the same rate after it, no other.
    assert not any("other parameter groups" in w for w in run.warnings)


def test_ultralytics_total_part_is_the_total(tmp_path: Path) -> None:
    columns = ["epoch", "train/total_loss", "train/box_loss", "train/cls_loss", "val/total_loss", "lr/pg0"]
    rows = [[e, 3.0 - 0.1 * e, 1.0, 2.0, 3.1, 0.01] for e in range(5)]
    run = load(write(tmp_path, "results.csv", _yolo(columns, rows)))
    assert run.metric == "train/total_loss" and run.val_metric == "val/total_loss"
    assert "train/loss" not in run.series


def test_ultralytics_without_validation_writes_zeros(tmp_path: Path) -> None:
    """`val=False` validates only the last epoch and writes 0 in every validation cell before it."""
    rows = [[e, 1.5, 3.0, 1.2, 0, 0, 0, 0, 0, 0, 0, 0.01, 0.01, 0.01] for e in range(9)]
    rows.append([9, 1.4, 2.9, 1.1, 0.5, 0.4, 0.3, 0.2, 1.6, 2.9, 1.3, 0.01, 0.01, 0.01])
    run = load(write(tmp_path, "results.csv", _yolo(YOLO_DETECT, rows)))
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [9]


def test_an_ultralytics_run_folder_is_read_by_its_results_not_its_events(tmp_path: Path) -> None:
    """Ultralytics names its first run folder 'train' and writes TensorBoard events beside
    results.csv (the loss in parts, the biases' rate first): the folder, and the folders above it,
    are read by results.csv."""
    from lrdoctor.sweep import expand

    run_dir = tmp_path / "runs" / "detect" / "train"
    run_dir.mkdir(parents=True)
    rows = [[e, 1.5 - 0.1 * e, 3.0, 1.2, 0.5, 0.4, 0.3, 0.2, 1.6, 2.9, 1.3, 0.01, 0.01, 0.01] for e in range(8)]
    write(run_dir, "results.csv", _yolo(YOLO_DETECT, rows))
    (run_dir / "events.out.tfevents.1795993658.host.1.0").write_bytes(b"")
    assert load(run_dir).format == "ultralytics-csv"
    for folder in (tmp_path / "runs", tmp_path / "runs" / "detect"):
        (target,) = expand([str(folder)]).targets
        assert target.path == str(run_dir)


@pytest.mark.parametrize(("optimizer", "noted"), [("auto", True), ("SGD", False)])
def test_ultralytics_optimizer_auto_ignores_lr0(tmp_path: Path, optimizer: str, noted: bool) -> None:
    rows = [[e, 1.5 - 0.1 * e, 3.0, 1.2, 0.5, 0.4, 0.3, 0.2, 1.6, 2.9, 1.3, 0.01, 0.01, 0.01] for e in range(8)]
    path = write(tmp_path, "results.csv", _yolo(YOLO_DETECT, rows))
    (tmp_path / "args.yaml").write_text(f"task: detect\nepochs: 8\noptimizer: {optimizer}\nlr0: 0.01\n")
    run = load(path)
    assert run.hparams["lr0"] == 0.01
    assert any("optimizer=auto" in w for w in run.warnings) is noted
    assert not any("the run was set for" in w for w in run.warnings)  # epochs 0-7 of 8: finished
    (tmp_path / "args.yaml").write_text("task: detect\nepochs: 100\n")
    assert any("ends at epoch 7 of the 100 the run was set for (epochs, args.yaml)" in w for w in load(path).warnings)
    # Ultralytics 8 counts from 1: epochs 1-8 of 10 are 8 done, short of the run's 10.
    v8 = [[e, 1.5 - 0.1 * e, 3.0, 1.2, 0.5, 0.4, 0.3, 0.2, 1.6, 2.9, 1.3, 0.01, 0.01, 0.01] for e in range(1, 9)]
    path = write(tmp_path, "results.csv", _yolo(YOLO_DETECT, v8))
    (tmp_path / "args.yaml").write_text("task: detect\nepochs: 10\n")
    assert any("ends at epoch 8 of the 10 the run was set for" in w for w in load(path).warnings)


def test_ultralytics_classify_without_validation_writes_zeros_in_its_val_loss(tmp_path: Path) -> None:
    columns = ["epoch", "train/loss", "metrics/accuracy_top1", "val/loss", "lr/pg0", "lr/pg1", "lr/pg2"]
    rows = [[e, 2.0 - 0.1 * e, 0, 0, 0.01, 0.01, 0.01] for e in range(9)] + [[9, 1.1, 0.8, 1.2, 0.01, 0.01, 0.01]]
    run = load(write(tmp_path, "results.csv", _yolo(columns, rows)))
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [9]
    # A validated epoch whose loss rounds to 0 beside its metrics is an evaluation.
    rows = [[e, 2.0 - 0.1 * e, 0.9, 0.0 if e > 5 else 0.1, 0.01, 0.01, 0.01] for e in range(10)]
    run = load(write(tmp_path, "results.csv", _yolo(columns, rows)))
    assert run.val_loss is not None and len(run.val_loss) == 10


def test_a_fifo_named_results_csv_blocks_nothing(tmp_path: Path) -> None:
    """Folders are looked into for an Ultralytics results.csv: a FIFO of that name is not opened
    (it would wait for a writer). Run in a child process, so that a hang fails the test."""
    import os
    import subprocess
    import sys

    (tmp_path / "a").mkdir()
    os.mkfifo(tmp_path / "a" / "results.csv")
    code = "import sys, pathlib; from lrdoctor.readers import csv_reader; "
    code += "print(csv_reader.ultralytics_results(pathlib.Path(sys.argv[1])))"
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "a")], capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == "None", done.stderr


def test_flair_loss_tsv(tmp_path: Path) -> None:
    """Flair's loss.tsv: an EPOCH column, the rate printed as 0.0000 (too few decimals for 5e-6),
    and the line break written before each row, so that a finished file ends its last row without
    one: that row, printed to the width of the rows before it, is kept."""
    header = "EPOCH\tTIMESTAMP\tBAD_EPOCHS\tLEARNING_RATE\tTRAIN_LOSS\tTEST_LOSS\tTEST_F1"
    rows = [
        f"{e}\t12:33:21\t4\t0.0000\t{0.36 / e:.16f}\t{0.17 + e / 100:.16f}\t{0.9 + e / 1000:.4f}" for e in range(1, 21)
    ]
    path = write(tmp_path, "loss.tsv", "\n".join([header, *rows]))
    run = load(path)
    assert run.step_kind == "epoch" and run.loss.steps.tolist() == list(range(1, 21))
    assert not any("no newline" in w for w in run.warnings)
    assert run.observed_lr is None and any("'LEARNING_RATE' is 0 at every point" in w for w in run.warnings)
    # A last row cut while written (its last cell shorter than the rest) is still skipped.
    path = write(tmp_path, "loss.tsv", "\n".join([header, *rows])[:-2])
    run = load(path)
    assert len(run.loss) == 19 and any("no newline" in w for w in run.warnings)
    # ... and so is one cut at a digit that leaves its cell as wide ('10000' as '1000' after '9900'),
    # where the cell is a count that goes back.
    steps = ["loss,lr,step", *(f"{1 - s / 20000:.4f},0.0100,{s}" for s in range(100, 10001, 100))]
    path = write(tmp_path, "cut.csv", "\n".join(steps)[:-1])
    run = load(path)
    assert run.loss.steps[-1] == 9900 and any("no newline" in w for w in run.warnings)
    # ... but a last column that rose and then holds (a rate's warmup) may repeat its value, and a
    # column before it, which no cut reaches, counts as it likes.
    warm = ["epoch,loss,lr", *(f"{s},{1 - s / 200:.4f},{min(s, 24) / 10000:.4f}" for s in range(1, 26))]
    run = load(write(tmp_path, "warm.csv", "\n".join(warm)))
    assert len(run.loss) == 25 and not any("no newline" in w for w in run.warnings)


@pytest.mark.parametrize("points", [80, 40_000])  # the line-by-line reader and pandas' for large files
@pytest.mark.parametrize("compress", [False, True])
def test_tensorboard_download_csv(tmp_path: Path, points: int, compress: bool) -> None:
    """TensorBoard's page downloads a scalar as `Wall time,Step,Value` in run-<run>-tag-<tag>.csv:
    the value is the tag's, the wall time no metric; a download of the validation run (Keras'
    `validation/epoch_loss`) is not taken for the training loss; with no tag in the name, the
    error says how to judge it."""
    steps = np.arange(points) * 10
    loss = 2.3 * np.exp(-steps / (steps[-1] / 3)) + 0.1
    text = "Wall time,Step,Value\n" + "".join(
        f"{1.6e9 + 1.5 * s:.6f},{s},{v:.6f}\n" for s, v in zip(steps, loss, strict=True)
    )
    suffix = ".csv.gz" if compress else ".csv"

    def put(name: str) -> Path:
        path = tmp_path / (name + suffix)
        path.write_bytes(gzip.compress(text.encode()) if compress else text.encode())
        return path

    run = load(put("run-lightning_logs_version_0-tag-train_loss"))
    assert run.format == "tensorboard-csv" and run.metric == "train_loss"
    assert run.loss.steps.tolist() == steps.tolist() and np.allclose(run.loss.values, loss, atol=1e-6)
    assert "Wall time" not in read_log(put("run-train-tag-epoch_loss")).series
    with pytest.raises(NoSeries, match="found Step, validation/epoch_loss"):
        load(put("run-logs_validation-tag-epoch_loss"))
    # A run named for what it tests is no evaluation run; a browser's " (1)" is no part of the tag.
    assert load(put("run-lr_test-tag-train_loss")).metric == "train_loss"
    assert load(put("run-x-tag-train_loss (1)")).metric == "train_loss"
    with pytest.raises(NoSeries, match=r"downloaded from TensorBoard.*pass --metric Value"):
        load(put("export"))
    assert load(put("export"), metric="Value").loss.steps.tolist() == steps.tolist()


def test_numpy_savetxt_header(tmp_path: Path) -> None:
    """numpy's savetxt(header="step,loss") writes the header as a comment line, "# step,loss":
    the first column is still the step."""
    path = tmp_path / "loss.csv"
    steps = np.arange(0, 400, 10)
    np.savetxt(path, np.c_[steps, 2.0 / (1 + steps / 50)], delimiter=",", header="step,loss")
    assert path.read_text().startswith("# step,loss\n")
    run = load(path)
    assert run.step_kind == "step" and run.loss.steps.tolist() == steps.tolist()
    # A first column named "# of samples" keeps its name.
    path.write_text("# of samples,loss\n" + "".join(f"{s},{2.0 / (1 + s / 50)}\n" for s in steps))
    assert "# of samples" in read_log(path).series


@pytest.mark.parametrize("index", [False, True])
def test_long_tables_of_tbparse_and_mlflow(tmp_path: Path, index: bool) -> None:
    """A row per point with the metric named in a column: tbparse's SummaryReader(...).scalars
    (step, tag, value; wall_time and dir_name where asked for) and MLflow's metric history (key,
    value, step, timestamp), saved with to_csv. Each tag is a series; of several runs in one table,
    the first is judged, said in a note."""
    pd = pytest.importorskip("pandas")
    rows = []
    for run in ("version_0", "version_1"):
        for s in range(0, 300, 10):
            rows.append(
                (s, "train/loss", 2.3 * np.exp(-s / 100) + (0.1 if run == "version_0" else 0.5), 1.7e9 + s, run)
            )
            rows.append((s, "lr", 1e-3, 1.7e9 + s, run))
            if s % 50 == 0:
                rows.append((s, "val/loss", 2.4 * np.exp(-s / 100) + 0.2, 1.7e9 + s, run))
    frame = pd.DataFrame(rows, columns=["step", "tag", "value", "wall_time", "dir_name"])
    path = tmp_path / "scalars.csv"
    frame.to_csv(path, index=index)
    run = load(path)
    assert run.metric == "train/loss" and run.loss.steps.tolist() == list(range(0, 300, 10))
    assert run.loss.values[-1] == pytest.approx(2.3 * np.exp(-2.9) + 0.1)  # version_0's
    assert run.val_metric == "val/loss" and len(run.val_loss) == 6 and run.observed_lr == pytest.approx(1e-3)
    assert any("a table of 2 runs ('dir_name'); judged the first, 'version_0'" in w for w in run.warnings)
    one = frame[frame.dir_name == "version_0"].rename(columns={"tag": "key", "wall_time": "timestamp"})
    one[["key", "value", "step", "timestamp"]].to_csv(path, index=index)
    run = load(path)
    assert run.metric == "train/loss" and len(run.loss) == 30 and not run.warnings


def test_long_tables_as_pandas_and_tbparse_write_them(tmp_path: Path) -> None:
    """In a long table every row is a logged point: an empty value (pandas' NaN) is a NaN. A run
    column of phases (tbparse's dir_name of a Keras run: train, validation) names the phases of
    one run. A damaged line, a bare carriage return or a row with no step costs only itself."""
    pd = pytest.importorskip("pandas")
    rows = []
    for s in range(60):
        rows.append((s, "epoch_loss", np.nan if s >= 48 else 2.3 * np.exp(-s / 15) + 0.1, "train"))
        rows.append((s, "epoch_loss", 0.9 + 0.004 * (s - 8) ** 2, "validation"))
    frame = pd.DataFrame(rows, columns=["step", "tag", "value", "dir_name"])
    path = tmp_path / "scalars.csv"
    frame.to_csv(path, index=False)
    run = load(path)
    assert run.metric == "train/epoch_loss" and run.val_metric == "validation/epoch_loss"
    assert np.isnan(run.loss.values[48:]).all() and not run.warnings
    text = path.read_text().splitlines()
    text[41] = text[41].replace("train", '"train')  # a torn quote
    text[43] = text[43] + "\r" + text[44]  # a bare carriage return between two rows
    del text[44]
    text[45] = "," + text[45].split(",", 1)[1]  # no step
    path.write_text("\n".join(text) + "\n")
    run = load(path)
    # (the torn line is the training point of step 20; the row with no step, validation's of step 22)
    assert 20 not in run.loss.steps and len(run.loss) == 59 and 21 in run.loss.steps
    assert run.val_loss is not None and 22 not in run.val_loss.steps and len(run.val_loss) == 59
    assert any("skipped 1 damaged line(s) (line 42)" in w for w in run.warnings)
    assert any("left out 1 row(s) with no step" in w for w in run.warnings)


@pytest.mark.parametrize(
    "header",
    [
        "run_id,key,value,timestamp,step,model_id,dataset_name,dataset_digest",  # MLflow 3
        "index,step,tag,value",  # pandas orient="table" flattened
        "Step,Tag,Value",
    ],
)
def test_long_table_headers(tmp_path: Path, header: str) -> None:
    columns = header.split(",")
    lines = [header]
    for s in range(40):
        cells = {
            "run_id": "abc",
            "key": "loss",
            "tag": "loss",
            "Tag": "loss",
            "value": 2.0 / (1 + s),
            "Value": 2.0 / (1 + s),
        }
        cells |= {"timestamp": 1_700_000_000_000 + s, "step": s, "Step": s, "index": s}
        lines.append(",".join(str(cells.get(c, "")) for c in columns))
    path = tmp_path / "history.csv"
    path.write_text("\n".join(lines) + "\n")
    run = load(path)
    assert run.metric == "loss" and run.loss.steps.tolist() == list(range(40))


def test_long_table_with_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(
        "step;tag;value\n" + "".join(f"{s};loss;{2.0 / (1 + s):.4f}".replace(".", ",") + "\n" for s in range(40))
    )
    assert load(path).loss.values[1] == pytest.approx(1.0)


def test_rows_named_by_a_phase_column_split_into_training_and_validation(tmp_path: Path) -> None:
    """`step,phase,loss,lr` with a row per phase: the validation rows' loss is val_loss, not a
    second write of the training loss at the same step (which replaced it)."""
    from lrdoctor import load

    lines = ["step,phase,loss,lr"]
    for s in range(60):
        lines.append(f"{s},train,{1.0 / (s + 1):.6f},0.01")
        if s % 20 == 19:
            lines.append(f"{s},val,3.5,")
    (tmp_path / "log.csv").write_text("\n".join(lines) + "\n")
    run = load(tmp_path / "log.csv")
    assert len(run.loss.values) == 60 and run.loss.values.max() == 1.0
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [19.0, 39.0, 59.0]


@pytest.mark.parametrize("name", ["train/global_step", "train/step", "train_step", "Iteration"])
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_common_step_names_are_the_step_axis(tmp_path: Path, name: str, suffix: str) -> None:
    """HF's step as W&B records it (train/global_step) and other common names carry the steps: a
    run resumed at step 1500 is read as resumed, not as 350 points in the order written."""
    from lrdoctor import load

    steps = [*range(0, 2000, 10), *range(1500, 3000, 10)]
    points = [(s, 2.0 / (1 + s / 300)) for s in steps]
    path = tmp_path / f"run{suffix}"
    if suffix == ".csv":
        path.write_text(f"{name},train/loss\n" + "".join(f"{s},{v}\n" for s, v in points))
    else:
        path.write_text("".join(json.dumps({name: s, "train/loss": v}) + "\n" for s, v in points))
    run = load(path)
    assert run.step_kind == "step" and run.loss.steps[-1] == 2990 and len(run.loss) == 300


@pytest.mark.parametrize(
    "line", ["INFO train step={s} loss={v:.4f}", "Train Step: {s} Loss: {v:.4f}", "train_step={s} train_loss={v:.4f}"]
)
def test_a_training_step_named_so_in_console_lines_is_the_step(tmp_path: Path, line: str) -> None:
    from lrdoctor import load

    path = tmp_path / "train.log"
    path.write_text("".join(line.format(s=s, v=2.0 / (1 + s / 300)) + "\n" for s in range(0, 3000, 10)))
    run = load(path)
    assert run.step_kind == "step" and run.loss.steps[-1] == 2990


@pytest.mark.parametrize(
    "comment", ["# experiment exp1, seed 0", "# lr=0.05 batch_size=32", "# run 3\n# notes: baseline"]
)
def test_comment_lines_above_the_header_are_passed_over(tmp_path: Path, comment: str) -> None:
    """A script's '#' lines above its table: the header below them is the header (the file was
    refused as 'only a header', or read as a key=value console log of its comment)."""
    from lrdoctor import load

    path = tmp_path / "run.csv"
    path.write_text(comment + "\nstep,loss,lr\n" + "".join(f"{s},{2.0 / (1 + s / 20):.5f},0.05\n" for s in range(100)))
    run = load(path)
    assert run.format == "csv" and len(run.loss) == 100 and run.observed_lr == 0.05
    # Excel's line naming the separator.
    path.write_text("sep=;\nstep;loss;lr\n" + "".join(f"{s};{2.0 / (1 + s / 20):.5f};0.05\n" for s in range(100)))
    assert len(load(path).loss) == 100
    # numpy's savetxt(header=...) writes the header itself as a comment: still the header.
    path.write_text("# step,loss\n" + "".join(f"{s},{2.0 / (1 + s / 20):.5f}\n" for s in range(100)))
    assert len(load(path).loss) == 100
