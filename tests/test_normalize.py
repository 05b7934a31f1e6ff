from __future__ import annotations

import json
import math
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from lrdoctor import load
from lrdoctor.detect import log_kind
from lrdoctor.diagnosis import _signals, diagnose
from lrdoctor.errors import NoSeries
from lrdoctor.normalize import normalize, restart_positions
from lrdoctor.report.text import render_one
from lrdoctor.run import Log, Series


def series(name: str, steps: list[float], values: list[float], seq: list[float] | None = None) -> Series:
    s = np.asarray(seq if seq is not None else range(len(steps)), dtype=float)
    return Series(name, np.asarray(steps, dtype=float), np.asarray(values, dtype=float), s)


@pytest.mark.parametrize(
    ("steps", "starts"),
    [
        ([0, 1, 2, 3], []),
        ([0, 1, 2, 0, 1, 0, 1, 2], [3, 5]),
        ([19, 19, 39, 59], []),  # the first step written twice: one run (the latest write is kept)
        ([0, 0, 1, 1, 2, 2], []),  # each point written twice (a progress bar's two refreshes)
        ([0, 10, 20, 15, 25], []),  # a resume from a checkpoint at step 15, not a new run
        ([5, 6, 7, 3, 4], [3]),  # fell below the first step: a new run
    ],
)
def test_restart_positions(steps: list[float], starts: list[int]) -> None:
    assert restart_positions(np.asarray(steps, dtype=float)) == starts


def test_segments_cut_every_series_at_the_same_write() -> None:
    log = Log(
        "x",
        "csv",
        {
            "loss": series("loss", [0, 1, 2, 0, 1], [5, 4, 3, 9, 8]),
            "lr": series("lr", [0, 0], [0.1, 0.01], seq=[0, 3]),
        },
    )
    last = normalize(log)
    assert (last.segment, len(last.segments)) == (2, 2)
    np.testing.assert_array_equal(last.loss.values, [9, 8])
    assert last.observed_lr == 0.01
    first = normalize(log, segment=1)
    np.testing.assert_array_equal(first.loss.values, [5, 4, 3])
    assert first.observed_lr == 0.1
    assert normalize(log, segment=-2).segment == 1
    with pytest.raises(NoSeries, match="holds 2 run"):
        normalize(log, segment=3)
    assert any("judging run 2 (steps 0-1)" in w for w in last.warnings)
    epochs = normalize(Log("x", "csv", {"loss": log.series["loss"]}, step_kind="epoch"))
    assert any("judging run 2 (epochs 0-1)" in w for w in epochs.warnings)


def test_duplicate_step_latest_write_wins() -> None:
    log = Log("x", "csv", {"loss": series("loss", [1, 2, 2, 3], [1.0, 2.0, 2.5, 3.0])})
    run = normalize(log)
    np.testing.assert_array_equal(run.loss.values, [1.0, 2.5, 3.0])
    assert any("written again later" in w for w in run.warnings)


def test_hf_zero_loss_with_nan_grad_norm_is_nan() -> None:
    log = Log(
        "x",
        "hf-trainer-state",
        {
            "loss": series("loss", [10, 20, 30], [2.0, 0.0, 0.0]),
            "grad_norm": series("grad_norm", [10, 20, 30], [1.0, np.nan, 3.0]),
        },
    )
    run = normalize(log)
    assert run.loss.values[0] == 2.0 and np.isnan(run.loss.values[1]) and run.loss.values[2] == 0.0
    assert any("0.0 with a NaN grad norm" in w for w in run.warnings)


@pytest.mark.parametrize("fmt", ["hf-trainer-state", "text-hf"])
def test_hf_zero_loss_without_a_grad_norm_after_a_blowup_is_nan(fmt: str) -> None:
    """transformers before 4.38 logged no grad_norm: a run whose every step went NaN logged loss
    0.0 from then on, and read as a flat, healthy line (exit 0). A loss that came down to 0.0 by
    way of 1e-4 stays 0.0; so does an exact 0.0 in a log of another writer."""
    steps = [1, 5, 10, 15, 20]
    blown = {"loss": series("loss", steps, [2.32, 0.0, 0.0, 0.0, 0.0])}
    run = normalize(Log("x", fmt, blown))
    assert run.loss.values[0] == 2.32 and np.isnan(run.loss.values[1:]).all()
    assert any("read 0.0 straight after a loss above 0.01" in w for w in run.warnings)
    # Only the evaluation says so: the loss came down by way of small values, then the run died.
    evaluated = {
        "loss": series("loss", steps, [2.3, 0.5, 0.004, 0.0, 0.0]),
        "eval_loss": series("eval_loss", [10, 20], [0.6, np.nan]),
    }
    assert np.isnan(normalize(Log("x", fmt, evaluated)).loss.values[3:]).all()
    fitted = {
        "loss": series("loss", steps, [2.3, 0.5, 0.004, 0.0001, 0.0]),
        "eval_loss": series("eval_loss", [20], [0.01]),
    }
    assert normalize(Log("x", fmt, fitted)).loss.values[-1] == 0.0
    assert normalize(Log("x", "csv", blown)).loss.values[-1] == 0.0
    # A run fitting its batches to 0.0 logs small losses between its zeros (logging_steps=1): healthy.
    batches = {"loss": series("loss", list(range(1, 9)), [0.69, 0.02, 0.0, 0.0002, 0.0, 0.0, 0.0001, 0.0])}
    assert np.isfinite(normalize(Log("x", fmt, batches)).loss.values).all()


def test_parameter_groups_with_other_rates_are_noted(tmp_path: Path) -> None:
    """Lightning's LearningRateMonitor with two groups (a backbone at 1e-4, a head at 1e-3): the
    first group is read, and the note says so, since the other group's rate is ten times higher."""
    rows = ["step,train_loss,lr-AdamW/pg1,lr-AdamW/pg2"]
    rows += [f"{i},{2.0 / (1 + i / 10):.4f},0.0001,0.001" for i in range(60)]
    path = tmp_path / "metrics.csv"
    path.write_text("\n".join(rows) + "\n")
    run = load(path)
    assert run.lr_name == "lr-AdamW/pg1"
    (note,) = [w for w in run.warnings if "parameter groups" in w]
    assert "'lr-AdamW/pg2' peaks at 0.001" in note and "peak 0.0001" in note

    same = tmp_path / "same.csv"
    same.write_text(path.read_text().replace(",0.001\n", ",0.0001\n"))
    assert not [w for w in load(same).warnings if "parameter groups" in w]


def test_one_point_training_loss_points_to_the_validation_loss() -> None:
    """A HuggingFace run whose logging_steps outlasted training: one `train/train_loss` summary
    and ten evaluations. The note names the --metric that judges the evaluations."""
    evals = series("eval/loss", list(range(50, 550, 50)), [2 / (1 + i / 3) for i in range(1, 11)])
    log = Log("x", "tensorboard", {"train/train_loss": series("train/train_loss", [500], [1.2]), "eval/loss": evals})
    run = normalize(log)
    assert run.metric == "train/train_loss" and run.val_metric == "eval/loss"
    assert any("--metric 'eval/loss' judges it" in w for w in run.warnings)
    asked = normalize(log, metric="train/train_loss")  # asked for by name: no hint
    assert not any("judges it" in w for w in asked.warnings)
    text = render_one(diagnose(run))
    assert "train/train_loss: 1 point, step 500\n" in text and "eval/loss: 10 points" in text
    enough = {"train/train_loss": series("train/train_loss", list(range(50, 550, 50)), [1.0] * 10), "eval/loss": evals}
    assert not any("judges it" in w for w in normalize(Log("x", "tensorboard", enough)).warnings)


def test_two_losses_named_and_logged_alike_are_said_to_tie() -> None:
    """A GAN's 'd_loss' and 'g_loss' (Lightning writes CSV columns sorted, TensorBoard tags in write
    order): which one is judged is said, with the --metric that judges the other. A total beside
    its terms, or one logged less often, is no tie."""
    steps = list(range(50))
    d, g = series("d_loss", steps, [1.0] * 50), series("g_loss", steps, [2 - s / 50 for s in steps])
    run = normalize(Log("x", "csv", {"g_loss": g, "d_loss": d}))
    tie = [w for w in run.warnings if "named and logged alike" in w]
    assert tie == [
        "x: 2 series are named and logged alike as a training loss (d_loss, g_loss): judging "
        f"{run.metric!r}; pass --metric NAME to judge another"
    ]
    assert not any(
        "alike" in w for w in normalize(Log("x", "csv", {"g_loss": g, "d_loss": d}), metric="g_loss").warnings
    )
    total = series("loss", steps, [3 - s / 50 for s in steps])
    assert not any("alike" in w for w in normalize(Log("x", "csv", {"loss": total, "g_loss": g, "d_loss": d})).warnings)
    runs = {f"run{k} - train/loss": series(f"run{k} - train/loss", steps, [2 - s / 50 for s in steps]) for k in "AB"}
    assert not any("alike" in w for w in normalize(Log("x", "wandb-csv", runs)).warnings)  # runs, not losses
    sparse = series("d_loss", steps[::10], [1.0] * 5)
    assert not any("alike" in w for w in normalize(Log("x", "csv", {"g_loss": g, "d_loss": sparse})).warnings)


def test_validation_loss_judged_as_the_metric_is_not_also_its_own_validation_curve() -> None:
    evals = series("eval_loss", [50, 100, 150], [1.0, 0.8, 0.7])
    log = Log(
        "x", "hf-trainer-state", {"loss": series("loss", [50], [1.1]), "eval_loss": evals}, hints={"val": "eval_loss"}
    )
    assert normalize(log).val_metric == "eval_loss"
    assert normalize(log, metric="eval_loss").val_metric is None


@pytest.mark.parametrize(
    ("fmt", "setting"),
    [
        ("lightning-csv", "log_every_n_steps=1"),
        ("hf-trainer-state", "logging_first_step=True"),
        ("tensorboard:train/loss", "logging_first_step=True"),  # the HF Trainer's own TensorBoard files
        ("csv", None),
    ],
)
def test_a_late_first_step_is_told_in_the_writer_s_own_setting(fmt: str, setting: str | None) -> None:
    steps = list(range(49, 1000, 50))
    fmt, _, name = fmt.partition(":")
    name = name or "loss"
    run = normalize(Log("x", fmt, {name: series(name, steps, [2.0 / (1 + s / 100) for s in steps])}))
    (note,) = [w for w in run.warnings if "first logged at step 49" in w]
    if setting is None:
        assert "log the first step too," in note and "Trainer" not in note
    else:
        assert setting in note


@pytest.mark.parametrize(("every", "summary", "late"), [(1, True, False), (10, True, True), (1, False, True)])
def test_hf_console_dicts_of_every_step_begin_at_the_first_update(tmp_path: Path, every, summary, late) -> None:
    """The Trainer's console dicts count epochs ('epoch': 0.05, 20 steps an epoch): a log of every
    step (logging_steps=1) had been told it began late, as one of every 10th, and judged by the
    late-start models. Its closing summary (train_runtime at train_steps_per_second) tells them apart."""
    lines = [
        f"{{'loss': {2.3 - s / 40:.4f}, 'learning_rate': 5e-05, 'epoch': {s / 20:g}}}"
        for s in range(1, 61)
        if s % every == 0
    ]
    if summary:  # 60 steps: 12.5 s at 4.8 steps a second, over 3 epochs
        lines.append(
            "{'train_runtime': 12.5, 'train_samples_per_second': 38.4, 'train_steps_per_second': 4.8, 'epoch': 3.0}"
        )
    path = tmp_path / "hf.log"
    path.write_text("\n".join(lines) + "\n")
    run = load(path)
    assert run.format == "text-hf" and run.step_kind == "epoch"
    assert run.late_start is late
    assert any("is first logged at epoch" in w for w in run.warnings) is late
    assert (log_kind(_signals(run)) == "late-no-val") is late


def test_an_hf_console_log_of_every_step_resumed_half_way_still_begins_late(tmp_path: Path) -> None:
    """The summary counts the whole run's steps (max_steps), also after a resume: a log of every
    step from step 151 of 600 has 450 points, nearly one a step of the 600, and begins late."""
    lines = [
        f"{{'loss': {2.3 - s / 600:.4f}, 'learning_rate': 5e-05, 'epoch': {round(s / 100, 2)}}}"
        for s in range(151, 601)
    ]
    lines.append(
        "{'train_runtime': 60.0, 'train_samples_per_second': 80.0, 'train_steps_per_second': 10.0, 'epoch': 6.0}"
    )
    path = tmp_path / "hf.log"
    path.write_text("\n".join(lines) + "\n")
    run = load(path)
    assert run.late_start is True and any("is first logged at epoch 1.51" in w for w in run.warnings)


@pytest.mark.parametrize("per_epoch", [110, 150, 199])
def test_hf_console_epochs_rounded_to_hundredths_keep_every_point(tmp_path: Path, per_epoch: int) -> None:
    """transformers 4.x prints round(epoch, 2): at 100-200 logs an epoch some share their epoch with
    the point before, too few to be read as a coarse axis, and were dropped as rewrites (a third to
    a half of the loss)."""
    n = 2 * per_epoch
    lines = [
        f"{{'loss': {2.3 - s / n:.6f}, 'learning_rate': 5e-05, 'epoch': {round(s / per_epoch, 2)}}}"
        for s in range(1, n + 1)
    ]
    path = tmp_path / "hf.log"
    path.write_text("\n".join(lines) + "\n")
    run = load(path)
    assert len(run.loss) == n and (np.diff(run.loss.steps) > 0).all()
    assert np.allclose(run.loss.values, [2.3 - s / n for s in range(1, n + 1)], atol=1e-6)
    assert any("printed to two decimals" in w for w in run.warnings)
    assert not any("written twice" in w for w in run.warnings)


def test_whole_epochs_written_twice_still_keep_the_latest_write() -> None:
    """An axis of whole epochs with a few repeats (two loggers, a resume) is no rounded one."""
    steps = [0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9]
    log = Log("x", "csv", {"loss": series("loss", steps, [2 - 0.1 * i for i in range(11)])}, step_kind="epoch")
    run = normalize(log)
    assert run.loss.steps.tolist() == list(range(10)) and run.loss.values[3] == pytest.approx(1.6)


def test_a_given_rate_over_a_logged_one_is_noted() -> None:
    loss, lr = series("loss", [0, 1, 2], [2.0, 1.5, 1.2]), series("lr", [0, 1, 2], [0.01] * 3)
    log = Log("x", "csv", {"loss": loss, "lr": lr})
    run = normalize(log, lr=5.0)
    assert run.observed_lr == 5.0
    assert any("--lr 5 is taken as the observed rate in place of the logged 'lr'" in w for w in run.warnings)
    assert not any("--lr" in w for w in normalize(log).warnings)


def test_pandas_empty_cells_after_a_loss_went_nan_are_nan(tmp_path: Path) -> None:
    """DataFrame.to_csv writes NaN as an empty cell: a run whose loss went NaN at step 22 of 200
    had read as a run of 22 steps, with no NaN in it."""
    rows = [f"{s},{2.0 / (1 + s / 5) if s < 22 else ''},0.1" for s in range(200)]
    path = tmp_path / "run.csv"
    path.write_text("step,loss,lr\n" + "\n".join(rows) + "\n")
    run = load(path)
    assert len(run.loss) == 200 and np.isnan(run.loss.values[22:]).all() and np.isfinite(run.loss.values[:22]).all()
    assert any("'loss' is empty from step 22 on while the learning rate 'lr' goes on" in w for w in run.warnings)
    dx = diagnose(run)
    assert dx.failed and any(f.pathology == "divergence" and "NaN" in f.message for f in dx.findings)


@pytest.mark.parametrize("tail", [True, False])
def test_pandas_empty_cells_between_a_losss_points_are_nan_too(tmp_path: Path, tail: bool) -> None:
    """A stray NaN at step 5 (a step skipped by loss scaling), written as an empty cell, had kept
    the NaN tail after it from being read: the run that went NaN at step 100 passed the gate, ok."""
    rows = [f"{s},{'' if s == 5 or (tail and s >= 100) else 2.0 / (1 + s / 5)},0.1" for s in range(200)]
    path = tmp_path / "run.csv"
    path.write_text("step,loss,lr\n" + "\n".join(rows) + "\n")
    run = load(path)
    assert len(run.loss) == 200 and np.isnan(run.loss.values[5])
    assert np.isnan(run.loss.values[100:]).all() == tail and np.isfinite(run.loss.values[101:]).all() != tail
    (note,) = [w for w in run.warnings if "read as NaN there" in w]
    assert note.startswith("'loss' is empty at step 5 between its points" + (" and from step 100 on" if tail else ","))
    dx = diagnose(run)
    (div,) = [f for f in dx.findings if f.pathology == "divergence"]
    if tail:
        assert dx.failed and div.start_step == 100 and dx.verdict == "too_high"
    else:
        assert not dx.failed and div.severity == "warning" and div.evidence["skipped"]


def test_a_loss_logged_every_tenth_row_beside_a_rate_on_every_row_gains_no_nan(tmp_path: Path) -> None:
    """The rate on every row, the loss on every tenth: the rows between are not NaN (a loss logged
    less often), nor are the rate's rows after the loss's last (no NaN tail either)."""
    rows = [f"{s},{2.0 / (1 + s / 5) if s % 10 == 0 else ''},0.1" for s in range(300)]
    path = tmp_path / "run.csv"
    path.write_text("step,loss,lr\n" + "\n".join(rows) + "\n")
    run = load(path)
    assert len(run.loss) == 30 and np.isfinite(run.loss.values).all()
    assert not any("read as NaN there" in w for w in run.warnings)


@pytest.mark.parametrize(
    ("name", "write"),
    [
        ("run.json", lambda df, path: df.to_json(path, orient="records")),
        ("run.jsonl", lambda df, path: df.to_json(path, orient="records", lines=True)),
        ("columns.json", lambda df, path: df.to_json(path)),  # pandas' default: a dict of columns
    ],
)
@pytest.mark.parametrize("step_column", [True, False])
def test_pandas_nulls_after_a_loss_went_nan_are_nan(tmp_path: Path, name, write, step_column: bool) -> None:
    """DataFrame.to_json writes NaN as null: a run whose loss went NaN at step 200 of 330 (an
    evaluation every 22 steps, null between) had read as a healthy run of 200 steps, exit 0; and
    so had one whose frame holds no step column (records read on an axis of positions)."""
    pd = pytest.importorskip("pandas")
    steps = np.arange(330)
    loss = np.where(steps < 200, 2.3 * np.exp(-steps / 60) + 0.05, np.nan)
    val = np.where(steps % 22 == 21, 0.4, np.nan)
    frame = pd.DataFrame({"step": steps, "loss": loss, "val_loss": val, "lr": 0.1})
    if not step_column:
        frame = frame.drop(columns="step")
    path = tmp_path / name
    write(frame, path)
    assert b"null" in path.read_bytes()
    run = load(path)
    assert len(run.loss) == 330 and np.isnan(run.loss.values[200:]).all() and np.isfinite(run.loss.values[:200]).all()
    assert any("'loss' is null from step 200 on while the learning rate 'lr' goes on" in w for w in run.warnings)
    assert run.val_loss is not None and len(run.val_loss) == 15  # the validation loss's nulls: not logged there
    dx = diagnose(run)
    assert dx.failed and any(f.pathology == "divergence" and "NaN" in f.message for f in dx.findings)


@pytest.mark.parametrize(
    ("name", "write"),
    [
        ("history.csv", lambda df, path: df.to_csv(path)),  # with its index, as Keras users save it
        ("history_noindex.csv", lambda df, path: df.to_csv(path, index=False)),
        ("history.json", lambda df, path: df.to_json(path)),
        ("history.jsonl", lambda df, path: df.to_json(path, orient="records", lines=True)),
    ],
)
@pytest.mark.parametrize("companion", ["accuracy", "grad_norm"])
def test_pandas_empty_loss_cells_beside_a_column_that_goes_on_are_nan(tmp_path: Path, name, write, companion) -> None:
    """`pd.DataFrame(history.history).to_csv("history.csv")` of a run whose loss went NaN at epoch
    8 of 20, no learning rate logged: its loss and validation loss cells are empty from there while
    the accuracy (or another measure of the training) goes on. It had read as a run of 8 epochs,
    ok, and passed `check`. A counter or a clock going on says nothing (the next test's file)."""
    pd = pytest.importorskip("pandas")
    epochs = np.arange(20)
    frame = pd.DataFrame(
        {
            companion: np.where(epochs < 8, 0.1 + 0.1 * epochs, 0.098),
            "loss": np.where(epochs < 8, 2.3 / (1 + epochs), np.nan),
            "val_loss": np.where(epochs < 8, 2.2 / (1 + epochs), np.nan),
        }
    )
    path = tmp_path / name
    write(frame, path)
    run = load(path)
    assert len(run.loss) == 20 and np.isnan(run.loss.values[8:]).all() and np.isfinite(run.loss.values[:8]).all()
    (note,) = [w for w in run.warnings if "read as NaN there" in w]
    assert f"from step 8 on while the column {companion!r} goes on for 12 more rows" in note
    dx = diagnose(run)
    assert dx.failed and dx.verdict == "too_high"


def test_rows_of_their_own_after_training_are_no_nan_tail(tmp_path: Path) -> None:
    """Test evaluations written after training on rows that hold a column of their own: the loss
    is not NaN there, whatever column goes on."""
    rows = [f"{s},{2.0 / (1 + s / 5)}," for s in range(40)] + [f"{s},,{0.3 + s / 1000}" for s in range(40, 44)]
    path = tmp_path / "run.csv"
    path.write_text("step,loss,test_loss\n" + "\n".join(rows) + "\n")
    run = load(path)
    assert len(run.loss) == 40 and np.isfinite(run.loss.values).all()
    assert not any("read as NaN there" in w for w in run.warnings)


def test_a_shorter_run_of_a_wandb_export_ends_where_it_ended(tmp_path: Path) -> None:
    """W&B's export leaves a run's cells empty after its last step while a longer run's go on, and
    its 'Step' with them: no NaN tail for the shorter run."""
    rows = [
        f'"{s}","{2.0 / (1 + s / 5)}","{1.5 / (1 + s / 5)}"' if s < 50 else f'"{s}","","{1.5 / (1 + s / 5)}"'
        for s in range(200)
    ]
    path = tmp_path / "export.csv"
    path.write_text('"Step","short-run-1 - loss","long-run-2 - loss"\n' + "\n".join(rows) + "\n")
    run = load(path, metric="short-run-1 - loss")
    assert len(run.loss) == 50 and np.isfinite(run.loss.values).all()
    assert not any("read as NaN there" in w for w in run.warnings)


def test_json_lists_of_two_lengths_hold_no_null(tmp_path: Path) -> None:
    """A loss logged every 10 steps beside a rate logged every step, as a dict of lists: the loss's
    list is shorter, with no null in it; it had read as NaN from its 100th point on (divergence)."""
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"loss": [2.0 / (1 + k) for k in range(100)], "lr": [1e-3] * 1000}))
    run = load(path)
    assert len(run.loss) == 100 and np.isfinite(run.loss.values).all()
    assert not any("read as NaN there" in w for w in run.warnings)


@pytest.mark.parametrize("rows", [40, 2_000_000 // 16])  # the line-by-line reader, and pandas' (over 1 MiB)
def test_a_loss_empty_on_every_row_is_a_training_log_with_no_loss_yet(tmp_path: Path, rows: int) -> None:
    """Every cell of the loss empty beside a logged rate: NaN from the first step as pandas writes
    it, or a loss logged at each epoch's end in a file still in its first epoch. Neither is "no
    training log": check does not pass it over (the pre-commit hook had, and passed), and watch
    waits for it. A loss column of text is another matter: no number, ever."""
    from click.testing import CliRunner

    from lrdoctor.cli import cli
    from lrdoctor.errors import EmptyLog, NoLossYet

    path = tmp_path / "run.csv"
    path.write_text("step,loss,lr\n" + "".join(f"{s},,0.001\n" for s in range(rows)))
    with pytest.raises(NoLossYet, match="holds no number yet, every cell empty"):
        load(path)
    checked = CliRunner().invoke(cli, ["check", "--skip-unreadable", str(path)])
    assert checked.exit_code == 2 and "skipped" not in checked.output
    path.write_text("step,loss,lr\n" + "".join(f"{s},tensor(2.3),0.001\n" for s in range(40)))
    with pytest.raises(NoSeries, match="holds no number") as info:
        load(path)
    assert not isinstance(info.value, EmptyLog)


@pytest.mark.parametrize(
    "orient", ["records", "lines", "columns", "index", "split", "table", "dict of lists", "only the loss"]
)
def test_a_json_loss_null_on_every_record_is_a_training_log_with_no_loss_yet(tmp_path: Path, orient: str) -> None:
    """pandas' to_json writes NaN as null: a run NaN from its first step had its loss dropped as a
    key with no number, read as a file with no training loss, and passed the hook's gate."""
    import json

    import pandas as pd
    from click.testing import CliRunner

    from lrdoctor.cli import cli
    from lrdoctor.errors import NoLossYet

    frame = pd.DataFrame({"step": range(50), "loss": [np.nan] * 50, "lr": [0.01] * 50})
    path = tmp_path / ("run.jsonl" if orient in ("lines", "only the loss") else "run.json")
    if orient == "lines":
        frame.to_json(path, orient="records", lines=True)
    elif orient == "dict of lists":
        path.write_text(json.dumps({"step": list(range(50)), "loss": [None] * 50, "lr": [0.01] * 50}))
    elif orient == "only the loss":
        path.write_text('{"loss": null}\n' * 5)
    else:
        frame.to_json(path, orient=orient)
    with pytest.raises(NoLossYet, match="'loss' holds no number yet"):
        load(path)
    checked = CliRunner().invoke(cli, ["check", "--skip-unreadable", str(path)])
    assert checked.exit_code == 2 and "skipped" not in checked.output


@pytest.mark.parametrize("finite", [1, 2, 8])
def test_a_loss_that_went_nan_within_its_first_points_is_nan_too(tmp_path: Path, finite: int) -> None:
    """A log of epochs, NaN after the first few (pandas' empty cells): it had read as a log of one
    to nine points, judged unknown, and passed the gate."""
    rows = [f"{e},{2.0 / (1 + e) if e < finite else ''},5.0" for e in range(80)]
    path = tmp_path / "run.csv"
    path.write_text("epoch,loss,lr\n" + "\n".join(rows) + "\n")
    run = load(path)
    assert len(run.loss) == 80 and np.isnan(run.loss.values[finite:]).all()
    assert diagnose(run).failed


def test_a_loss_logged_less_often_than_another_series_is_not_nan(tmp_path: Path) -> None:
    """Lightning-like: the loss every row until step 99, a validation loss on rows of its own after.
    The step sets differ before the loss's end, so no NaN is made up."""
    rows = [f"{s},{2.0 / (1 + s / 5)}," for s in range(100)] + [f"{s},,{1.0 / (1 + s)}" for s in range(100, 120)]
    path = tmp_path / "run.csv"
    path.write_text("step,loss,val_loss\n" + "\n".join(rows) + "\n")
    run = load(path)
    assert len(run.loss) == 100 and np.isfinite(run.loss.values).all()


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # W&B: the wall clock goes on through the evaluation and test rows after training
        (
            "wandb.csv",
            "_step,train/loss,_runtime\n"
            + "".join(f"{s},{2 / (1 + s / 9)},{s}\n" for s in range(100))
            + "".join(f"{s},,{s}\n" for s in range(100, 104)),
        ),
        # JSON Lines whose last records hold other keys (no value was ever written)
        (
            "sparse.jsonl",
            "".join(f'{{"step": {s}, "loss": {2 / (1 + s / 9)}, "lr": 0.1}}\n' for s in range(100))
            + "".join(f'{{"step": {s}, "test_acc": 0.9}}\n' for s in range(100, 104)),
        ),
    ],
)
def test_columns_that_go_on_after_training_make_no_nan(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    run = load(path)
    assert np.isfinite(run.loss.values).all() and not diagnose(run).failed


@pytest.mark.parametrize("bad", ["inf", "nan"])
def test_a_loss_non_finite_on_most_rows_after_a_dense_start_is_no_placeholder(tmp_path: Path, bad: str) -> None:
    """Finite on every row to step 15, then non-finite on 2 rows of 3: a divergence, not a sparse
    column (it had been read as one, and judged ok with exit 0)."""
    rows = [f"{s},{2 / (1 + s / 9) if s < 16 or s % 3 == 0 else bad}" for s in range(90)]
    path = tmp_path / "m.csv"
    path.write_text("step,loss\n" + "\n".join(rows) + "\n")
    dx = diagnose(load(path))
    assert dx.failed and not any("between its" in w for w in dx.run.warnings)


def test_no_val_hint_beside_a_training_loss_that_went_nan() -> None:
    steps = list(range(10))
    log = Log(
        "x",
        "csv",
        {
            "train_loss": series("train_loss", steps, [2.0, 1.8, 1.7, 1.6, 1.5] + [np.nan] * 5),
            "val_loss": series("val_loss", steps, [2.0 - 0.1 * s for s in steps]),
        },
    )
    assert not any("judges it" in w for w in normalize(log).warnings)


def test_a_sparse_column_written_with_nan_placeholders_is_read_as_sparse() -> None:
    """pandas' na_rep='nan': the validation loss is NaN on every row without an evaluation. It had
    been a divergence warning (NaN at 1484 of 1500 evaluations) on a healthy run."""
    steps = list(range(300))
    val = [1.0 / (1 + s / 50) if s % 20 == 19 else np.nan for s in steps]
    log = Log(
        "x",
        "csv",
        {
            "loss": series("loss", steps, [2.0 / (1 + s / 30) for s in steps]),
            "val_loss": series("val_loss", steps, val),
        },
    )
    run = normalize(log)
    assert run.val_metric == "val_loss" and len(run.series["val_loss"]) == 15
    assert any("'val_loss' is NaN in 285 rows between its 15 finite values" in w for w in run.warnings)
    assert not any(f.pathology == "divergence" for f in diagnose(run).findings)
    tail = [*val[:-1], np.nan]  # NaN after the last finite value (step 279) is kept: a run that went NaN
    run = normalize(
        Log(
            "x",
            "csv",
            {
                "loss": series("loss", steps, [2.0 / (1 + s / 30) for s in steps]),
                "val_loss": series("val_loss", steps, tail),
            },
        )
    )
    assert np.isnan(run.series["val_loss"].values[-20:]).all() and len(run.series["val_loss"]) == 34


def test_the_step_column_asked_for_as_the_metric_is_refused(tmp_path: Path) -> None:
    """It had been judged: a rising line, "too high", a divergence, exit 1."""
    path = tmp_path / "m.csv"
    path.write_text("step,loss\n" + "".join(f"{s},{2.0 / (1 + s)}\n" for s in range(30)))
    with pytest.raises(NoSeries, match="'step' is the log's step counter, not a loss"):
        load(path, metric="step")


def test_metric_override_and_errors() -> None:
    log = Log(
        "x",
        "csv",
        {"acc": series("acc", [0, 1], [0.1, 0.2]), "Train Loss": series("Train Loss", [0, 1], [2, 1])},
    )
    assert normalize(log).metric == "Train Loss"
    assert normalize(log, metric="acc").metric == "acc"
    assert normalize(log, metric="train_loss").metric == "Train Loss"  # spelling folded
    with pytest.raises(NoSeries, match="no series named 'x'; found Train Loss, acc"):
        normalize(log, metric="x")
    with pytest.raises(NoSeries, match="pass --metric NAME"):
        normalize(Log("x", "csv", {"acc": series("acc", [0], [0.1])}))


def test_a_metric_logged_on_step_and_on_epoch_by_lightning() -> None:
    """self.log("train_loss", on_step=True, on_epoch=True) writes train_loss_step and
    train_loss_epoch: --metric train_loss (and [tool.lrdoctor] metric = "train_loss") means the
    per-step series; it had been refused on every Lightning run, exit 2."""
    steps, epochs = [0, 1, 2, 3], [1, 3]
    log = Log(
        "metrics.csv",
        "lightning-csv",
        {
            "train_loss_epoch": series("train_loss_epoch", epochs, [2.0, 1.0]),
            "train_loss_step": series("train_loss_step", steps, [2.2, 1.8, 1.2, 0.8]),
        },
    )
    assert normalize(log, metric="train_loss").metric == "train_loss_step"
    del log.series["train_loss_step"]
    assert normalize(log, metric="train_loss").metric == "train_loss_epoch"


def test_a_text_column_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("step,loss,note,acc\n1,a,x,0.1\n2,b,y,0.2\n3,c,z,0.3\n")
    for metric in (None, "loss", "note"):
        name = metric or "loss"
        with pytest.raises(NoSeries, match=f"the column '{name}' holds no number"):
            load(path, metric=metric)


def test_observed_lr_sources() -> None:
    s = {"loss": series("loss", [0, 1], [2, 1])}
    assert normalize(Log("x", "csv", s, hparams={"learning_rate": 3e-4})).observed_lr == 3e-4
    assert normalize(Log("x", "csv", s), lr=0.1).observed_lr == 0.1
    assert normalize(Log("x", "csv", s)).observed_lr is None
    # a rate setting under a prefix (MLflow's Keras autolog), not a floor or a warmup's start
    hparams = {"opt_learning_rate": 0.002, "min_lr": 1e-6, "warmup_lr": 1e-5, "opt_name": "Adam"}
    assert normalize(Log("x", "mlflow", s, hparams=hparams)).observed_lr == 0.002
    assert normalize(Log("x", "mlflow", s, hparams={"min_lr": 1e-6, "lr_decay": 0.1})).observed_lr is None
    others = {"minimum_learning_rate": 1e-6, "start_lr": 1e-7, "end_lr": 10.0, "lower_lr": 1e-5}
    assert normalize(Log("x", "mlflow", s, hparams=others)).observed_lr is None
    groups = {"backbone_lr": 1e-5, "head_lr": 1e-3}
    assert normalize(Log("x", "mlflow", s, hparams=groups)).observed_lr == 1e-3


@pytest.mark.parametrize(
    ("steps", "kind", "noted"),
    [
        (list(range(10, 410, 10)), "step", True),  # logged every 10 steps from step 10
        (list(range(49, 5000, 50)), "step", True),  # every 50 steps, at steps 49, 99, ...
        ([1, *range(10, 410, 10)], "step", False),  # the first step logged too
        (list(range(0, 400, 10)), "step", False),  # from step 0
        (list(range(1, 400)), "step", False),  # every step
        (list(range(3, 400)), "step", False),  # two steps missing from a log of every step
        (list(range(5000, 6000)), "step", True),  # a log that begins at a resume
        (list(range(10, 40)), "epoch", False),  # one point per epoch, from epoch 10
    ],
)
def test_a_loss_first_logged_after_the_first_updates_gets_a_note(steps: list[int], kind: str, noted: bool) -> None:
    log = Log("x", "csv", {"loss": series("loss", steps, list(np.linspace(2.0, 0.5, len(steps))))}, step_kind=kind)
    notes = [w for w in normalize(log).warnings if "first logged" in w]
    assert bool(notes) == noted
    if noted:
        assert f"first logged at step {steps[0]}" in notes[0]


@pytest.mark.parametrize("first", [1, 10])
def test_a_batch_counter_printed_on_a_global_cadence_restarts_at_each_epoch(tmp_path: Path, first: int) -> None:
    """'epoch {e} batch {i}' printed every 10 global steps, 42 batches an epoch: the batch of an
    epoch's first line moves (10, 8, 6, 4, 2, 10, ...), so the count does not always fall back to
    the run's first batch; those epochs had read as the run written again (16 of 40 points kept)."""
    lines = []
    for step in range(first, 421, 10):
        epoch, batch = divmod(step - 1, 42)
        lines.append(f"epoch {epoch + 1} batch {batch + 1}: loss {2.0 / (1 + step / 50):.4f}")
    path = tmp_path / "train.log"
    path.write_text("\n".join(lines) + "\n")
    run = load(path)
    assert len(run.segments) == 1 and len(run.loss) == len(lines)
    assert not any("written again" in w for w in run.warnings)
    assert np.all(np.diff(run.loss.steps) > 0) and run.loss.steps[-1] >= 400


def test_a_step_that_restarts_at_each_epoch_is_put_on_one_axis(tmp_path: Path) -> None:
    rows = ["epoch,iteration,loss,lr"]
    rows += [f"{e},{i},{3.0 / (1 + e + i / 100)},0.01" for e in range(5) for i in range(0, 100, 10)]
    path = tmp_path / "log.csv"
    path.write_text("\n".join(rows) + "\n")
    run = load(path)
    assert len(run.segments) == 1 and len(run.loss) == 50
    np.testing.assert_array_equal(run.loss.steps, np.arange(0, 500, 10))
    assert any("the step restarts at each epoch (4 time(s))" in w for w in run.warnings)
    # mmcv's JSON lines: iterations counted from the stride within each epoch, 1-based epochs.
    lines = [
        json.dumps({"mode": "train", "epoch": e, "iter": i, "loss": 1.0 / (e * i), "lr": 0.02})
        for e in (1, 2, 3)
        for i in (50, 100, 150)
    ]
    path = tmp_path / "20240101.log.json"
    path.write_text("\n".join(lines) + "\n")
    run = load(path)
    np.testing.assert_array_equal(run.loss.steps, [50, 100, 150, 200, 250, 300, 350, 400, 450])
    # Runs appended one after another (the epoch starts again too) stay separate runs.
    rows = ["epoch,iteration,loss"] + [f"{e},{i},1.0" for _ in range(2) for e in range(2) for i in range(3)]
    path = tmp_path / "two.csv"
    path.write_text("\n".join(rows) + "\n")
    run = load(path)
    assert [(s.first_step, s.last_step) for s in run.segments] == [(0, 5), (0, 5)]


def test_a_per_step_series_sparser_than_its_per_epoch_one_gives_way(tmp_path: Path) -> None:
    # Lightning with log_every_n_steps=50 and 20 batches an epoch: 2 step points, 6 epoch points.
    rows = ["epoch,step,train_loss_step,train_loss_epoch,val_loss"]
    for e in range(6):
        end = 20 * e + 19
        rows.append(f"{e},{end},,{2.0 / (e + 1)},")
        rows.append(f"{e},{end},,,{2.1 / (e + 1)}")
    rows += ["2,49,1.1,,", "4,99,0.5,,"]
    path = tmp_path / "metrics.csv"
    path.write_text("\n".join(rows) + "\n")
    run = load(path)
    assert run.metric == "train_loss_epoch" and len(run.loss) == 6
    assert any("'train_loss_step' holds 2 point(s) and 'train_loss_epoch' 6" in w for w in run.warnings)
    assert load(path, metric="train_loss_step").metric == "train_loss_step"  # asked for: kept


def test_each_step_written_twice_in_a_row_is_not_a_resume() -> None:
    steps = np.repeat(np.arange(50.0), 2)
    values = np.repeat(2.0 * np.exp(-np.arange(50) / 10) + 0.3, 2)
    run = normalize(Log("x", "csv", {"loss": Series("loss", steps, values)}))
    assert len(run.loss) == 50
    (note,) = [w for w in run.warnings if "point(s) of 'loss'" in w]
    assert "written twice in a row" in note and "resumed" not in note


def test_a_rounded_epoch_spreads_its_points_in_write_order(tmp_path: Path) -> None:
    # HF's console prints the epoch to two decimals: here 20 losses per printed value.
    rows = [{"loss": 2.0 * 0.999**k + 0.1, "learning_rate": 1e-3, "epoch": (k // 20) / 100} for k in range(400)]
    rows[200:200] = [{"eval_loss": 1.5, "epoch": 0.05}]
    path = tmp_path / "console.log"
    path.write_text("".join(f"{row}\n" for row in rows))
    run = load(path)
    assert len(run.loss) == 400 and len(run.lr) == 400
    assert np.all(np.diff(run.loss.steps) > 0) and run.loss.steps[0] == 0.0
    assert run.loss.steps[20] == pytest.approx(0.01) and run.loss.steps[30] == pytest.approx(0.015)
    assert run.val_loss is not None and run.val_loss.steps[0] == run.loss.steps[199]
    assert any("are spread evenly in write order" in w for w in run.warnings)


def test_pairs_written_at_one_step_are_still_two_writers() -> None:
    steps = np.repeat(np.arange(50.0), 2)
    values = 2.0 * np.exp(-np.arange(100) / 20) + 0.3
    run = normalize(Log("x", "csv", {"loss": Series("loss", steps, values)}))
    assert len(run.loss) == 50 and run.loss.values[0] == values[1]


def test_shares_read_as_a_person_says_them() -> None:
    from lrdoctor.run import fmt_share

    assert fmt_share(1.3, "its progress") == "130% of its progress"
    assert fmt_share(118.0, "its progress") == "118 times its progress"
    assert fmt_share(1.02e15) == "1.02e+15 times"


def test_factors_read_as_a_person_says_them() -> None:
    from lrdoctor.run import fmt_factor

    assert [fmt_factor(x) for x in (1.0, 3.24, 909.4, 999.6, 1000.0, 3162.3)] == [
        "1",
        "3.24",
        "909",
        "1000",
        "1000",
        "3160",
    ]


def test_a_header_shared_by_appended_runs_of_other_metrics_is_said(tmp_path: Path) -> None:
    # Keras' CSVLogger(append=True): the first run's header, a later run's accuracy under 'loss'.
    first = [f"{e};{1 / (e + 1):.4f};{1 / (e + 1):.4f}" for e in range(20)]
    later = [f"{e};{0.3 + 0.02 * e:.4f};{1 / (e + 2):.4f}" for e in range(20)]
    path = tmp_path / "history.csv"
    path.write_text("epoch;loss;mean_squared_error\n" + "\n".join(first + later) + "\n")
    run = load(path, metric="loss")
    assert any("'loss' equals 'mean_squared_error' point for point in run(s) 1" in w for w in run.warnings)
    assert not any("point for point" in w for w in load(path, segment=1).warnings)
    # Its 'loss' rises within [0, 1] as an accuracy does while the column it equalled falls: that
    # column holds the loss, and is judged (a divergence error had been read off the accuracy).
    run = load(path)
    assert run.metric == "mean_squared_error"
    assert [w for w in run.warnings if "as an accuracy does" in w] == [
        f"{path}: in run 2, 'loss' rises within [0, 1] (from 0.32 at its start to 0.64 in its last quarter) as an "
        "accuracy does, while 'mean_squared_error' falls: judging 'mean_squared_error', the column 'loss' equalled "
        "in the other runs; pass --metric loss to judge 'loss'"
    ]
    assert not any("point for point" in w for w in run.warnings)  # (the same note, told from the other column)
    falling = [f"{e};{0.9 / (e + 1):.4f};{1 / (e + 2):.4f}" for e in range(20)]  # a loss of its own: kept
    path.write_text("epoch;loss;mean_squared_error\n" + "\n".join(first + falling) + "\n")
    run = load(path)
    assert run.metric == "loss" and any("point for point in run(s) 1" in w for w in run.warnings)
    # A first run that logged both as NaN alone: no column equals another there.
    nan_first = [f"{e};nan;nan" for e in range(20)]
    later = [f"{e};{1 / (e + 2):.4f};{2 / (e + 2):.4f}" for e in range(20)]
    path.write_text("epoch;loss;perplexity\n" + "\n".join(nan_first + later) + "\n")
    assert not any("point for point" in w for w in load(path).warnings)


def test_a_first_step_written_twice_is_no_resume() -> None:
    steps = np.array([19.0, 19.0, 39.0, 59.0, 79.0])
    run = normalize(Log("x", "jsonl", {"loss": Series("loss", steps, np.array([3.0, 2.9, 2.0, 1.5, 1.2]))}))
    (note,) = [w for w in run.warnings if "point(s) of 'loss'" in w]
    assert "written twice in a row at step 19" in note and "resumed" not in note


def test_eight_ranks_writing_each_step_keep_the_latest_write() -> None:
    steps = np.repeat(np.arange(0.0, 200.0), 8)
    values = np.tile(np.linspace(1.0, 1.1, 8), 200) * np.repeat(2.0 * np.exp(-np.arange(200) / 50), 8)
    run = normalize(Log("x", "jsonl", {"loss": Series("loss", steps, values)}))
    assert len(run.loss) == 200 and run.loss.steps[-1] == 199.0


def test_a_log_sorted_newest_first_is_read_in_step_order(tmp_path: Path) -> None:
    """Not 99 restarts of one run: every point, the lr beside its own step, and a NaN tail found."""
    steps = np.arange(100)
    loss = np.where(steps < 71, 2.0 * np.exp(-steps / 30) + 0.1, np.nan)
    rows = [f"{s},{v},{0.1 * (1 - s / 200)}" for s, v in zip(steps, loss, strict=True)][::-1]
    path = tmp_path / "newest_first.csv"
    path.write_text("step,loss,lr\n" + "\n".join(rows) + "\n")
    run = load(path)
    assert list(run.loss.steps) == list(range(100)) and len(run.segments) == 1
    assert run.lr is not None and run.lr.values[0] == 0.1 and run.lr.values[-1] == pytest.approx(0.1 * (1 - 99 / 200))
    assert any("from its last step to its first (newest first" in w for w in run.warnings)
    assert not any("written again" in w for w in run.warnings)
    (div,) = [f for f in diagnose(run).findings if f.pathology == "divergence"]
    assert div.severity == "error" and div.start_step <= 71


def test_two_points_going_back_are_not_read_as_newest_first() -> None:
    log = Log("x", "csv", {"loss": series("loss", [5, 3], [1.0, 2.0])})
    assert not any("newest first" in w for w in normalize(log).warnings)


def test_each_run_of_a_wandb_export_gets_its_own_rate_and_validation_loss() -> None:
    """Run names holding ' - ' themselves ('sweep - lr=0.1'), and a learning rate and validation
    loss per run: the run judged reads its own, never the first run's."""
    from lrdoctor.normalize import runs_to_judge

    steps = list(range(50))
    runs = {"sweep - lr=0.1": 0.1, "sweep - lr=0.001": 0.001}
    cols: dict[str, Series] = {}
    for run, rate in runs.items():
        cols[f"{run} - loss"] = series(f"{run} - loss", steps, [2.0 * (1 - rate) ** s for s in steps])
        cols[f"{run} - val_loss"] = series(f"{run} - val_loss", steps, [2.1 * (1 - rate) ** s for s in steps])
        cols[f"{run} - lr"] = series(f"{run} - lr", steps, [rate] * 50)
    log = Log("export.csv", "wandb-csv", cols)
    assert runs_to_judge(log, "sweep - lr=0.1 - loss") == [
        ("sweep - lr=0.1", "sweep - lr=0.1 - loss"),
        ("sweep - lr=0.001", "sweep - lr=0.001 - loss"),
    ]
    for run, rate in runs.items():
        judged = normalize(log, metric=f"{run} - loss")
        assert judged.val_metric == f"{run} - val_loss" and judged.lr_name == f"{run} - lr"
        assert judged.observed_lr == rate


@pytest.mark.parametrize("schedule", ["cosine to 0", "plateau to a shared min_lr"])
def test_groups_that_end_at_one_rate_still_logged_other_rates(tmp_path: Path, schedule: str) -> None:
    """A backbone at 1e-4 and a head at 1e-3 whose schedule ends both at 0 (or at one min_lr) ran
    at different rates: the note stays. A group that joins the judged group's rate by its peak (a
    warmup of its own) is the same rate."""
    n = 40
    if schedule == "cosine to 0":
        shape = 0.5 * (1 + np.cos(np.pi * np.arange(n) / (n - 1)))
        low, high = 1e-4 * shape, 1e-3 * shape
    else:
        low = np.where(np.arange(n) < 15, 1e-4, 1e-6)
        high = np.where(np.arange(n) < 15, 1e-3, 1e-6)
    rows = "".join(
        f"{e},{22 * e + 21},{2.0 - 0.01 * e},{a},{b}\n" for e, (a, b) in enumerate(zip(low, high, strict=True))
    )
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,step,train_loss_epoch,lr-AdamW/pg1,lr-AdamW/pg2\n" + rows)
    assert any("'lr-AdamW/pg2' peaks at 0.001" in w for w in load(path).warnings)
    warm = np.minimum(np.arange(n) / 3, 1.0) * 1e-3
    bias = np.where(np.arange(n) < 3, 0.1 - (0.1 - 1e-3) * np.arange(n) / 3, 1e-3)
    rows = "".join(
        f"{e},{22 * e + 21},{2.0 - 0.01 * e},{a},{b}\n" for e, (a, b) in enumerate(zip(warm, bias, strict=True))
    )
    path.write_text("epoch,step,train_loss_epoch,lr-SGD/pg1,lr-SGD/pg2\n" + rows)
    assert not any("other parameter groups" in w for w in load(path).warnings)


def test_yolo_sgd_biases_end_their_warmup_at_the_weights_rate(tmp_path: Path) -> None:
    """Ultralytics warms up per iteration and logs the rate at each epoch's end: the weights' group
    peaks in the last warmup epoch, a little above the first value after it, where the biases'
    group (0.1 at the start) is still a little higher; from the next epoch on they are one rate.
    Logged on steps of their own (odd and even), they are one rate too."""
    n = 30
    weights = np.r_[0.0033, 0.0066, 0.009588, 0.01 * (1 - 0.99 * np.arange(3, n) / n)]
    biases = np.r_[0.07, 0.04, 0.0097547, weights[3:]]
    path = tmp_path / "results.csv"
    rows = "".join(f"{e + 1},{2.0 - 0.01 * e},{a},{b}\n" for e, (a, b) in enumerate(zip(biases, weights, strict=True)))
    path.write_text("epoch,train/loss,lr/pg0,lr/pg1\n" + rows)
    run = load(path)
    assert run.lr_name == "lr/pg1" and not any("other parameter groups" in w for w in run.warnings)
    odd = tmp_path / "odd.csv"  # a constant rate after the warmup, the groups on steps of their own
    weights, biases = np.r_[weights[:3], np.full(n - 3, 0.01)], np.r_[biases[:3], np.full(n - 3, 0.01)]
    rows = "".join(
        f"{2 * e},{2.0 - 0.01 * e},,{a}\n{2 * e + 1},,{b},\n"
        for e, (a, b) in enumerate(zip(weights, biases, strict=True))
    )
    odd.write_text("step,loss,lr-SGD/pg2,lr-SGD/pg1\n" + rows)
    run = load(odd)
    assert run.lr_name == "lr-SGD/pg1" and not any("other parameter groups" in w for w in run.warnings)


def test_a_group_with_a_warmup_of_its_own_is_one_rate_even_when_both_start_at_0(tmp_path: Path) -> None:
    """Both groups start at 0 (agreeing there), the other overshoots in its own warmup, and from
    the judged group's peak on they are one rate; logged on steps of their own, one cosine is one
    rate too, between the other's neighbouring values."""
    judged = [0.0, 0.005, 0.01, 0.009, 0.008, 0.007]
    other = [0.0, 0.02, 0.01, 0.009, 0.008, 0.007]
    path = tmp_path / "metrics.csv"
    rows = "".join(
        f"{e},{22 * e + 21},{2.0 - 0.1 * e},{a},{b}\n" for e, (a, b) in enumerate(zip(judged, other, strict=True))
    )
    path.write_text("epoch,step,train_loss_epoch,lr-AdamW/pg1,lr-AdamW/pg2\n" + rows)
    assert not any("other parameter groups" in w for w in load(path).warnings)
    cosine = 0.01 * 0.5 * (1 + np.cos(np.pi * np.arange(80) / 79))
    rows = "".join(f"{s},{2.0 - 0.01 * s},{v},\n" if s % 2 == 0 else f"{s},,,{v}\n" for s, v in enumerate(cosine))
    path.write_text("step,loss,lr-SGD/pg1,lr-SGD/pg2\n" + rows)
    assert not any("other parameter groups" in w for w in load(path).warnings)


def test_points_all_at_one_step_are_numbered_from_0() -> None:
    """Forty points all at step 100 are points in write order: 0 to 39, as a log without steps."""
    log = Log("x", "csv", {"loss": series("loss", [100.0] * 40, [2.0 - k / 40 for k in range(40)])})
    run = normalize(log)
    assert run.step_kind == "index" and run.loss.steps.tolist() == list(range(40))
    assert any("every point of 'loss' is at step 100: no step was given" in w for w in run.warnings)


def test_a_validation_loss_printed_again_on_every_line_is_each_evaluation_once() -> None:
    """A console log carrying the last evaluation on every training line: 'step=10 loss=3.66
    val_loss=4.2905' from the evaluation at step 0 until the next."""
    steps = [float(s) for s in range(5, 105, 5)]
    val = [4.2905] * 10 + [3.1] * 10
    log = Log(
        "x",
        "text",
        {
            "loss": series("loss", steps, [3.7 - s / 100 for s in steps]),
            "val_loss": series("val_loss", steps, val),
        },
    )
    run = normalize(log)
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [5.0, 55.0]
    assert any("18 of the 20 points of 'val_loss' repeat the one before exactly" in w for w in run.warnings)
    # A table's validation column is not a console's: its values stand as written.
    assert len(normalize(replace(log, format="csv")).val_loss) == 20
    # A line an epoch evaluates at each: a value printed to one decimal repeats, each an evaluation.
    assert len(normalize(replace(log, step_kind="epoch")).val_loss) == 20
    # Evaluations on lines of their own that score alike are each an evaluation.
    apart = series("val_loss", steps, val, seq=[k + 0.5 for k in range(20)])
    run = normalize(replace(log, series={"loss": log.series["loss"], "val_loss": apart}))
    assert run.val_loss is not None and len(run.val_loss) == 20


@pytest.mark.parametrize("placeholder", [math.nan, math.inf])
def test_a_non_finite_value_carried_until_the_first_evaluation_is_a_placeholder(placeholder: float) -> None:
    """'val_loss nan' printed on every training line until the first evaluation has run: 10 of 14
    evaluations read as NaN, and a divergence warning on a healthy run."""
    steps = [float(s) for s in range(10, 410, 10)]
    val = [placeholder] * 9 + [0.1224] * 11 + [0.09] * 10 + [0.085] * 10
    log = Log(
        "x",
        "text",
        {
            "loss": series("loss", steps, [2.0 / (1 + s / 20) for s in steps]),
            "val_loss": series("val_loss", steps, val),
        },
    )
    run = normalize(log)
    assert run.val_loss is not None and run.val_loss.values.tolist() == [0.1224, 0.09, 0.085]
    assert run.val_loss.steps.tolist() == [100.0, 210.0, 310.0]
    assert any(
        f"the {placeholder} printed before the first evaluation is left out as a placeholder" in w for w in run.warnings
    )
    assert not [f for f in diagnose(run).findings if f.pathology == "divergence"]
    # One non-finite evaluation, not carried: an evaluation, kept.
    once = [placeholder] + [0.1224] * 19 + [0.09] * 20
    run = normalize(replace(log, series={"loss": log.series["loss"], "val_loss": series("val_loss", steps, once)}))
    assert run.val_loss is not None and len(run.val_loss) == 3 and not np.isfinite(run.val_loss.values[0])


@pytest.mark.parametrize(
    ("x", "said"),
    [
        *((1234567.0, "1234567"), (2.5, "2.5"), (12.92857143, "12.9286"), (0.07142857143, "0.07143")),
        *((3.0, "3"), (3.5025, "3.5025"), (5.9975, "5.9975")),  # the ends of a range kept apart
        *((123456.75, "123456.75"), (1234567.5, "1234567.5"), (99999.95, "99999.95")),  # no whole part lost
    ],
)
def test_a_step_reads_no_finer_than_a_reader_needs(x: float, said: str) -> None:
    """Points spread within their epoch had printed as 'epochs 1 to 12.92857143'."""
    from lrdoctor.run import fmt_step

    assert fmt_step(x) == said


def _epoch_axis_run(writer_dir: Path) -> None:
    """The PyTorch tutorials' pattern: the training loss against the global step, the
    validation loss against the epoch; the validation loss is lowest after epoch 25, rising after."""
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(writer_dir)) as w:
        for step in range(1320):
            w.add_scalar("Loss/train", 2.3 * np.exp(-step / 100) + 0.01, step)
            w.add_scalar("lr", 0.03, step)
        for epoch in range(60):
            w.add_scalar("Loss/val", 0.1 + 0.002 * abs(epoch - 25) + 0.3 * np.exp(-epoch), epoch)


def test_a_validation_loss_logged_against_the_epoch_is_placed_at_the_epochs_ends(tmp_path: Path) -> None:
    """Its steps 0-59 had read as the run's first 60 steps of 1320: overfitting was dated at step 25."""
    pytest.importorskip("tensorboard")
    _epoch_axis_run(tmp_path)
    run = load(tmp_path)
    assert run.val_loss is not None
    assert run.val_loss.steps[:3].tolist() == [21.0, 43.0, 65.0] and run.val_loss.steps[-1] == 1319.0
    assert any(
        "'Loss/val' is logged at steps 0-59 while the training loss runs to step 1319" in w for w in run.warnings
    )
    overfit = [f for f in diagnose(run).findings if f.pathology == "overfitting"]
    assert overfit and overfit[0].start_step == 571.0  # the end of epoch 25 (26 epochs of 22 steps)


@pytest.mark.parametrize(
    ("val_steps", "remapped"),
    [
        (list(range(1, 11)), True),  # epochs counted from 1
        (list(range(0, 100, 10)), False),  # every 10 steps: logged against the step already
        (list(range(5, 15)), False),  # not from the start
        ([0, 1], False),  # too few to tell
        (list(range(30)), False),  # 30 evaluations over 100 steps: no epochs of 4 steps or more
    ],
)
def test_only_evaluations_at_consecutive_whole_steps_from_the_start_are_remapped(val_steps, remapped) -> None:
    loss = series("loss", list(range(100)), [2.0 / (1 + s) for s in range(100)])
    val = series("val_loss", val_steps, [1.0] * len(val_steps))
    run = normalize(Log("x", "tensorboard", {"loss": loss, "val_loss": val}))
    assert run.val_loss is not None
    moved = run.val_loss.steps.tolist() != [float(s) for s in val_steps]
    assert moved is remapped
    if remapped:
        assert run.val_loss.steps.tolist() == [9.0 + 10 * k for k in range(10)]  # each epoch's last step


def test_json_lists_of_two_lengths_place_the_shorter_at_the_epochs_ends(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"loss": [2.0 / (1 + s) for s in range(200)], "val_loss": [1.0, 0.8, 0.7, 0.65, 0.6]}))
    run = load(path)
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [39.0, 79.0, 119.0, 159.0, 199.0]
    assert any("at points 0-4 while the training loss runs to point 199" in w for w in run.warnings)


def test_a_resume_on_an_axis_of_epochs_is_named_in_epochs() -> None:
    """An HF console log resumed from a checkpoint counts epochs: the note had said 'resumed at
    step 2.333'."""
    epochs = [0.667, 1.333, 2.0, 2.667, 3.333, 2.333, 3.0, 3.667, 4.333]
    log = Log("x", "text-hf", {"loss": series("loss", epochs, np.linspace(2.0, 1.0, 9))}, step_kind="epoch")
    run = normalize(log)
    assert any(
        "written again later (resumed at epoch 2.333); keeping the latest write of each epoch" in w
        for w in run.warnings
    )
    assert not any("resumed at step" in w for w in run.warnings)


@pytest.mark.parametrize("first", [0, 1])
def test_a_rate_logged_against_the_epoch_is_placed_at_each_epochs_start(first: int) -> None:
    """`add_scalar("lr", scheduler.get_last_lr()[0], epoch)` beside a loss logged per step: a
    StepLR schedule over 12 epochs of 30 steps had read as one over the run's first 12 steps."""
    rates = [0.1] * 4 + [0.03] * 4 + [0.009] * 4
    # (written as the loop writes them: each epoch's rate, then its 30 losses)
    loss = series(
        "train/loss", list(range(360)), list(2.0 / (1 + np.arange(360) / 30)), [k + k // 30 + 1 for k in range(360)]
    )
    lr = series("lr", [first + e for e in range(12)], rates, [31.0 * e for e in range(12)])
    run = normalize(Log("x", "tensorboard", {"train/loss": loss, "lr": lr}))
    assert run.lr is not None and run.lr.steps.tolist() == [30.0 * e for e in range(12)]
    assert run.lr.values.tolist() == rates
    assert any("'lr' is logged at steps" in w and "12 epochs of 30 steps" in w for w in run.warnings)
    # A rate logged on every step is left where it is.
    every = series("lr", list(range(360)), [0.1] * 360)
    run = normalize(Log("x", "tensorboard", {"train/loss": loss, "lr": every}))
    assert run.lr is not None and run.lr.steps.tolist() == list(range(360))
    assert not any("read as logged against the epoch" in w for w in run.warnings)


@pytest.mark.parametrize(("loss_from", "every"), [(1, 1), (10, 10)])
def test_epochs_beside_a_loss_that_begins_within_the_first_epoch(loss_from: int, every: int) -> None:
    """The PyTorch tutorial's logging: the loss every k batches from step k (or from step 1, the
    step counted after the update), the rate and the validation loss against the epoch from 0.
    Both had stood at the run's first steps (a rate doubling each epoch squeezed into steps 0-7:
    a recommendation 15x to 37x too high)."""
    steps = list(range(loss_from, 800 + loss_from, every))
    n = len(steps)
    # (written as the loop writes them: each epoch's rate, then its losses)
    epoch_of = [k * 8 // n for k in range(n)]
    loss = series("Loss/train", steps, list(2.0 / (1 + np.arange(n) / 30)), [k + e + 1 for k, e in enumerate(epoch_of)])
    lr = series("lr", list(range(8)), [0.02 * 2**e for e in range(8)], [epoch_of.index(e) + e for e in range(8)])
    val = series("Loss/val", list(range(8)), list(np.linspace(1.0, 0.5, 8)))
    run = normalize(Log("x", "tensorboard", {"Loss/train": loss, "lr": lr, "Loss/val": val}))
    per = (steps[-1] + 1) / 8  # the epochs begin at the counter's step 0
    assert run.lr is not None and run.lr.steps.tolist() == [round(per * e) for e in range(8)]
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [round(per * (e + 1) - 1) for e in range(8)]
    # A loss that begins epochs after the counter's first (a resumed run) is not read so.
    late = series("Loss/train", [5000 + k for k in range(800)], list(np.linspace(2.0, 1.0, 800)))
    run = normalize(Log("x", "tensorboard", {"Loss/train": late, "lr": lr}))
    assert run.lr is not None and run.lr.steps.tolist() == list(range(8))


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_an_evaluation_row_that_carries_the_rate_is_no_nan_training_loss(tmp_path: Path, suffix: str) -> None:
    """An evaluation's row ('1925,,0.001,0.45': step, no loss, the rate, a validation loss) between
    training rows every 50 steps had been read as a NaN training loss: a healthy run diverged."""
    rows = [{"step": s, "loss": 2.6 * np.exp(-s / 600) + 0.3, "lr": 1e-3} for s in range(0, 3001, 50)]
    rows.insert(40, {"step": 1925, "lr": 1e-3, "val_loss": 0.45})
    rows.insert(20, {"step": 936, "lr": 1e-3, "val_loss": 0.83})  # an epoch's end, off the stride
    path = tmp_path / f"run{suffix}"
    if suffix == ".csv":
        path.write_text(
            "step,loss,lr,val_loss\n"
            + "".join(f"{r['step']},{r.get('loss', '')},{r['lr']},{r.get('val_loss', '')}\n" for r in rows)
        )
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = load(path)
    assert np.isfinite(run.loss.values).all() and len(run.loss) == 61
    assert not any("read as NaN there" in w for w in run.warnings)
    assert not diagnose(run).failed


def test_a_rate_logged_during_a_warmup_alone_stays_at_its_steps() -> None:
    """A rate written at each of a warmup's 100 steps (then no more) beside a loss over 1000: its
    writes come with the first steps' losses, not one per epoch over the run."""
    steps = list(range(1000))
    loss = series("loss", steps, list(2.0 / (1 + np.arange(1000) / 50)), seq=[2.0 * k for k in steps])
    lr = series("lr", steps[:100], [1e-3 * (k + 1) / 100 for k in range(100)], seq=[2.0 * k + 1 for k in range(100)])
    run = normalize(Log("x", "tensorboard", {"loss": loss, "lr": lr}))
    assert run.lr is not None and run.lr.steps.tolist() == list(range(100))
    assert not any("read as logged against the epoch" in w for w in run.warnings)


def test_a_loss_that_starts_and_stays_astronomical_is_noted_as_a_scale_problem() -> None:
    """A physics-informed loss at 3.8e25 that moved 0.0% was told "too low, 3160x higher": a
    note says that a loss this large has a term unscaled. A run whose loss blew up to that size
    from 2.3, or came down from it, gets none."""
    steps = np.arange(500.0)
    stuck = 3.767e25 * (1 - 1e-5 * steps / 500)
    assert any("starts at about 3.8e+25" in w and "unscaled" in w for w in normalize(_loss_log(steps, stuck)).warnings)
    blown = 2.3 * 10 ** np.minimum(steps / 10, 30)  # from 2.3 to 2.3e30
    trained = 1e13 * np.exp(-steps / 20) + 0.5  # from 1e13 down to 0.5: trained, whatever its units
    fell = 1e15 * np.exp(-steps / 80) + 3e12  # from 1e15 to 3e12: a thousandfold fall is training
    for values in (blown, trained, fell):
        assert not any("unscaled" in w for w in normalize(_loss_log(steps[: len(values)], values)).warnings)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the middle two of 1e308s average past the float's top: no overflow said
        top = np.array([1e300, 1e308, 1.7e308, 1e308, 1.7e308, 1e308])
        said = [w for w in normalize(_loss_log(np.arange(6.0), top)).warnings if "unscaled" in w]
    assert not any("inf" in w for w in said)


def _loss_log(steps: np.ndarray, values: np.ndarray) -> Log:
    return Log("x.csv", "csv", {"loss": Series("loss", steps, values)})
