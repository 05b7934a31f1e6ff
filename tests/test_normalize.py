from __future__ import annotations

import numpy as np
import pytest

from lrdoctor.errors import NoSeries
from lrdoctor.normalize import normalize, restart_positions
from lrdoctor.run import Log, Series


def series(name: str, steps: list[float], values: list[float], seq: list[float] | None = None) -> Series:
    s = np.asarray(seq if seq is not None else range(len(steps)), dtype=float)
    return Series(name, np.asarray(steps, dtype=float), np.asarray(values, dtype=float), s)


@pytest.mark.parametrize(
    ("steps", "starts"),
    [
        ([0, 1, 2, 3], []),
        ([0, 1, 2, 0, 1, 0, 1, 2], [3, 5]),
        ([19, 19, 39, 59], [1]),  # an aborted run logged step 19 once, then the full run
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


def test_observed_lr_sources() -> None:
    s = {"loss": series("loss", [0, 1], [2, 1])}
    assert normalize(Log("x", "csv", s, hparams={"learning_rate": 3e-4})).observed_lr == 3e-4
    assert normalize(Log("x", "csv", s), lr=0.1).observed_lr == 0.1
    assert normalize(Log("x", "csv", s)).observed_lr is None


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
