"""The accuracy benchmark's re-logging: what loggers that skip steps would have kept of a run."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import accuracy
from lrdoctor.detect import signals

STEPS = np.arange(1, 401, dtype=float)
VALUES = 1000.0 - STEPS  # value i is 1000 - step i


def test_every_k_keeps_the_first_step_and_every_kth_after_it() -> None:
    steps, values = accuracy.relog(STEPS, VALUES, "every", 10)
    np.testing.assert_array_equal(steps, np.arange(1, 401, 10))
    np.testing.assert_array_equal(values, 1000.0 - steps)


def test_from_k_leaves_out_the_first_steps() -> None:
    steps, values = accuracy.relog(STEPS, VALUES, "from-k", 10)
    np.testing.assert_array_equal(steps, np.arange(10, 401, 10))
    np.testing.assert_array_equal(values, 1000.0 - steps)


def test_mean_logs_each_window_mean_at_its_last_step() -> None:
    steps, values = accuracy.relog(STEPS, VALUES, "mean", 10)
    np.testing.assert_array_equal(steps, np.arange(10, 401, 10))
    np.testing.assert_allclose(values, 1000.0 - (steps - 4.5))  # the mean of steps k-9 .. k
    first_steps, first_values = accuracy.relog(STEPS, VALUES, "mean+first", 10)
    np.testing.assert_array_equal(first_steps, np.r_[1.0, steps])
    np.testing.assert_allclose(first_values, np.r_[999.0, values])


def test_ema_is_a_debiased_moving_average() -> None:
    steps, values = accuracy.relog(STEPS, np.full(len(STEPS), 3.0), "ema", 50)
    np.testing.assert_array_equal(steps, STEPS)
    np.testing.assert_allclose(values, 3.0)  # debiased: a constant stays itself from the first step
    _, ramp = accuracy.relog(STEPS, VALUES, "ema", 10)
    assert ramp[0] == VALUES[0] and np.all(ramp[1:] > VALUES[1:])  # a falling line is followed from above
    nan = VALUES.copy()
    nan[100] = np.nan
    assert np.isnan(accuracy.relog(STEPS, nan, "ema", 10)[1][100:]).all()


def test_a_relogged_case_holds_the_relogged_values() -> None:
    case = accuracy.Case("r", "task", "sgd", "ok", False, 0.1, 0.1, 0.1, signals(STEPS, VALUES))
    smoothed = accuracy.relogged(case, "ema", 50)
    np.testing.assert_allclose(smoothed.sig.values, accuracy.relog(STEPS, VALUES, "ema", 50)[1])
    assert len(accuracy.relogged(case, "every", 10).sig.values) == 40
    short = accuracy.Case("s", "task", "sgd", "ok", False, 0.1, 0.1, 0.1, signals(STEPS[:50], VALUES[:50]))
    assert accuracy.relogged(short, "ema", 50) is short


def test_short_logs_stay_as_they_are() -> None:
    steps, values = accuracy.relog(STEPS[:50], VALUES[:50], "every", 10)
    assert len(steps) == 50 and len(values) == 50


def test_an_unknown_way_of_logging_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown relog"):
        accuracy.relog(STEPS, VALUES, "sometimes", 10)


def _case(run_id: str, steps: np.ndarray, values: np.ndarray, steps_per_epoch: int = 20) -> accuracy.Case:
    return accuracy.Case(run_id, "task", "sgd", "ok", False, 0.1, 0.1, 0.1, signals(steps, values), steps_per_epoch)


def test_the_late_start_models_learn_from_relogged_runs_that_start_late() -> None:
    per_step = _case("per-step", STEPS, 2.0 / np.sqrt(STEPS))
    epochs = _case("epochs", np.arange(1.0, 15.0), 2.0 / np.sqrt(np.arange(1.0, 15.0)))
    late = _case("late", np.arange(21.0, 400.0, 22.0), 2.0 / np.sqrt(np.arange(21.0, 400.0, 22.0)))
    out = accuracy.late_cases([per_step, epochs, late])
    assert all(c.sig.late_start for c in out)
    assert [c.run_id for c in out] == ["late"] + ["per-step"] * len(accuracy.LATE_RELOGS)
    assert sorted(float(c.sig.steps[0]) for c in out) == [10.0, 10.0, 20.0, 21.0, 25.0]  # 20: epoch means


def test_epoch_means_are_logged_at_each_epochs_last_step() -> None:
    case = _case("per-step", STEPS, VALUES, steps_per_epoch=20)
    epochs = accuracy.relogged(case, "mean", accuracy.EPOCH)
    np.testing.assert_array_equal(epochs.sig.steps, np.arange(20, 401, 20))
    np.testing.assert_allclose(epochs.sig.values, 1000.0 - (epochs.sig.steps - 9.5))
    first = accuracy.relogged(case, "mean+first", accuracy.EPOCH)
    np.testing.assert_array_equal(first.sig.steps, np.r_[1.0, np.arange(20, 401, 20)])
    unknown = _case("per-step", STEPS, VALUES, steps_per_epoch=0)
    assert accuracy.relogged(unknown, "mean", accuracy.EPOCH) is unknown
    too_few = _case("per-step", STEPS, VALUES, steps_per_epoch=200)  # two epochs
    assert accuracy.relogged(too_few, "mean", accuracy.EPOCH) is too_few


def test_a_late_log_that_cannot_be_relogged_is_kept_once() -> None:
    late = _case("late", np.arange(10.0, 400.0), 2.0 / np.sqrt(np.arange(10.0, 400.0)), steps_per_epoch=0)
    relogs = sum(k != accuracy.EPOCH for _, k in accuracy.LATE_RELOGS)  # the epoch means need a known epoch
    assert [c.run_id for c in accuracy.late_cases([late])].count("late") == 1 + relogs


def test_each_log_kind_learns_from_the_runs_logged_that_way() -> None:
    steps = np.arange(1.0, 401.0)
    val = (np.arange(0.0, 401.0, 20.0), 2.0 / np.sqrt(np.arange(1.0, 22.0)))
    with_val = accuracy.Case(
        "v", "task", "sgd", "ok", False, 0.1, 0.1, 0.1, signals(steps, 2.0 / np.sqrt(steps), val=val), 20
    )
    kinds = accuracy.kind_cases([with_val])
    assert {k: len(v) for k, v in kinds.items()} == {
        "val": 1,
        "no-val": 1,
        "late-val": len(accuracy.LATE_RELOGS),
        "late-no-val": len(accuracy.LATE_RELOGS),
    }
    assert kinds["no-val"][0].sig.val is None and kinds["no-val"][0].sig.curve is with_val.sig.curve


def test_no_fold_fits_on_its_held_out_task_or_its_relogs(monkeypatch: pytest.MonkeyPatch) -> None:
    steps = np.arange(1.0, 401.0)
    val = (np.arange(0.0, 401.0, 20.0), 2.0 / np.sqrt(np.arange(1.0, 22.0)))
    cases = [
        accuracy.Case(f"{t}/r", t, "sgd", "ok", False, 0.1, 0.1, 0.1, signals(steps, 2.0 / np.sqrt(steps), val=val), 20)
        for t in ("a", "b", "c")
    ]
    seen: list[set[str]] = []

    def tune(train: list[accuracy.Case], cfg: object, *, kinds: dict[str, list[accuracy.Case]]) -> object:
        seen.append({c.task for c in train} | {c.task for v in kinds.values() for c in v})
        return cfg

    judged: list[set[str]] = []

    def predict(held: list[accuracy.Case], cfg: object) -> list[dict]:
        judged.append({c.task for c in held})
        return []

    monkeypatch.setattr(accuracy, "tune", tune)
    monkeypatch.setattr(accuracy, "predict", predict)
    accuracy.leave_one_task_out(cases)
    assert judged == [{"a"}, {"b"}, {"c"}]
    assert seen == [{"b", "c"}, {"a", "c"}, {"a", "b"}]
