"""Each detector on curves whose truth is known: synthetic ones, edge cases and real runs."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from lrdoctor import load
from lrdoctor.detect import DETECTORS, DetectConfig, detect_all, signals
from lrdoctor.detect.plateau import PlateauConfig
from lrdoctor.diagnosis import PATHOLOGIES, diagnose
from lrdoctor.run import fmt_step
from tests.conftest import SAMPLE_LOGS
from tests.detect import curves

CFG = DetectConfig()
DATA = Path(__file__).resolve().parents[1] / "data"


def found(steps: np.ndarray, values: np.ndarray, lr: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, list]:
    sig = signals(steps, values, *(lr or (None, None)))
    out: dict[str, list] = {}
    for f in detect_all(sig, CFG):
        out.setdefault(f.pathology, []).append(f)
    return out


def diagnose_arrays(steps: np.ndarray, values: np.ndarray):  # type: ignore[no-untyped-def]
    from lrdoctor.run import Run, Series

    return diagnose(Run("x", "csv", {"loss": Series("loss", steps, values)}, metric="loss"))


def test_every_detector_names_a_contract_pathology() -> None:
    assert set(DETECTORS) <= set(PATHOLOGIES)


@pytest.mark.parametrize("seed", range(3))
def test_healthy_curve_has_no_finding(seed: int) -> None:
    assert found(*curves.converging(seed=seed)) == {}


@pytest.mark.parametrize("seed", range(3))
def test_creeping_curve_is_slow(seed: int) -> None:
    f = found(*curves.creeping(seed=seed))
    assert list(f) == ["slow_convergence"]
    (slow,) = f["slow_convergence"]
    assert slow.suggests == "too_low" and slow.evidence["kendall_tau"] < -0.3 and slow.evidence["t90"] > 0.8


def test_rebounding_curve_is_a_plateau_above_its_best() -> None:
    (plateau,) = found(*curves.rebounding())["plateau"]
    assert plateau.suggests == "too_high" and 0.3 < plateau.evidence["given_back"] < 0.6
    assert "its trend's lowest" in plateau.message and "giving back" in plateau.message


def test_a_running_mean_that_saws_within_its_last_epoch_did_not_stop_improving() -> None:
    """Each epoch's running mean, printed through the epoch: it starts low and rises a little
    within every epoch (a few percent of the run's progress). Its best at the last epoch's start
    and the saw after it are no climb back."""
    rng = np.random.default_rng(3)
    steps = np.arange(90.0, 15 * 130 + 1)
    batch = (steps - 1) % 130 + 1
    values = 4.5 - 0.25 * steps / (15 * 130) + 0.1 * (batch / 130) ** 0.7 + rng.normal(0, 0.0003, len(steps))
    assert not [f for f in found(steps, values).get("plateau", []) if "stopped improving" in f.message]


def test_a_loss_still_falling_at_its_end_did_not_stop_improving() -> None:
    """A Keras log of 100 epochs whose loss fell at every one of its last 30 (3.75 to 2.94): the
    median of its last tenth (3.12) sits above the trend's lowest (its last points), which is no
    level it gave back."""
    t = np.arange(1.0, 101.0)
    values = np.concatenate([4.2 - 0.005 * t[:70], np.linspace(3.75, 2.94, 30)])
    assert not [f for f in found(t, values).get("plateau", []) if "stopped improving" in f.message]
    # ... but one that bottomed out inside its last tenth and climbed back did.
    t = np.arange(0.0, 4000.0, 10.0)
    values = np.where(t < 3700, 3.0 * np.exp(-t / 600) + 0.85, 0.857 + (t - 3700) / 200)
    plateaus = [f for f in found(t, values).get("plateau", []) if "stopped improving" in f.message]
    assert plateaus and plateaus[0].start_step > 3600


def test_a_plateau_that_ended_above_its_start_says_so() -> None:
    """A loss that rose from its best to above where it began: no share of a progress it never
    kept ('giving back 598%'), but where it ended against its start."""
    rng = np.random.default_rng(0)
    t = np.arange(300.0)
    values = np.where(t < 60, 1.13 - 0.002 * t, 1.01 + 0.0008 * (t - 60)) + rng.normal(0, 0.003, 300)
    plateaus = [f for f in found(t, values).get("plateau", []) if "stopped improving" in f.message]
    assert plateaus and "above where it started (1.1" in plateaus[0].message
    assert "giving back" not in plateaus[0].message


def test_a_loss_at_its_floor_whose_first_value_was_a_low_draw_gave_back_nothing() -> None:
    """A fine-tune at its floor (an HF run's 34 logged losses, every 10 steps): its first value a
    low draw (0.014), its trend's lowest and its end apart by noise alone. 'stopped improving ...
    above where it started' had read it as too high (0.99). A long noisy log's clear dip and climb
    back is still a plateau above its best."""
    floor = [0.014, 0.0252, 0.0237, 0.0582, 0.0307, 0.0195, 0.0308, 0.039, 0.0172, 0.0314, 0.0357, 0.0298]
    floor += [0.0113, 0.0179, 0.0281, 0.0396, 0.0252, 0.0308, 0.0499, 0.0185, 0.0145, 0.0144, 0.0157]
    floor += [0.0231, 0.0271, 0.0419, 0.038, 0.0136, 0.0237, 0.032, 0.0307, 0.022, 0.0211, 0.0348]
    assert not found(np.arange(10.0, 350.0, 10.0), np.array(floor)).get("plateau")
    rng = np.random.default_rng(0)
    t = np.arange(2000) / 2000
    dip = np.where(t < 0.35, 1.0 - 0.4 * t / 0.35, 0.6 + 0.35 * (t - 0.35) / 0.65) + rng.normal(0, 0.15, 2000)
    dip[0] = 1.0
    assert found(np.arange(2000.0), dip).get("plateau")


def test_explosion_is_divergence() -> None:
    (div,) = found(*curves.exploding())["divergence"]
    assert div.severity == "error" and div.evidence["peak_ratio"] > 100


def _blow_up_then_recover(end: float) -> tuple[np.ndarray, np.ndarray]:
    """2.0 at the start, 1000 (500x) at step 5, then down to `end` by the last step."""
    steps = np.arange(300.0)
    values = end + (2.0 - end) * np.exp(-steps / 30)
    values[5] = 1000.0
    return steps, values


def test_explosion_that_recovered_is_a_warning_not_an_error() -> None:
    (div,) = found(*_blow_up_then_recover(0.02))["divergence"]
    assert div.severity == "warning" and div.evidence["recovered"] is True and div.strength == 0.5
    assert "recovered to 0.02" in div.message


def test_explosion_is_an_error_when_the_loss_stayed_high_or_validation_rose() -> None:
    (stayed,) = found(*_blow_up_then_recover(0.5))["divergence"]  # ended at a quarter of its start
    assert stayed.severity == "error" and stayed.evidence["recovered"] is False
    steps, values = _blow_up_then_recover(0.02)
    val = (np.arange(0.0, 300.0, 30.0), np.linspace(2.0, 5.0, 10))  # validation loss ended above its start
    (div,) = [f for f in detect_all(signals(steps, values, val=val), CFG) if f.pathology == "divergence"]
    assert div.severity == "error"


def test_a_long_flat_log_whose_first_draw_came_out_low_did_not_diverge() -> None:
    """100,000 steps of minibatch noise (sigma a fifth of the level) around a loss that never moved,
    the first draw 1.25 sigmas low: the end sits 33% above it, and far beyond the noise of the bin
    medians the curve is read as, but not beyond the noise of one draw."""
    rng = np.random.default_rng(0)
    values = 1.0 + 0.2 * rng.standard_normal(100_000)
    values[0] = 0.75
    sig = signals(np.arange(100_000.0), values)
    assert sig.curve is not None and sig.curve.binned and sig.curve.end - sig.curve.start > 5 * sig.curve.noise
    assert "divergence" not in found(np.arange(100_000.0), values)


def test_a_loss_that_rose_far_while_swinging_ended_above_its_start() -> None:
    """Smooth for a third of the run, then swinging (sigma 0.5) around a level 30% above its start:
    within the noise of the run, beyond the noise at its start."""
    rng = np.random.default_rng(1)
    values = np.concatenate([1.0 + 0.01 * rng.standard_normal(100), 1.3 + 0.5 * rng.standard_normal(200)])
    values[0] = 1.0
    (div,) = found(np.arange(300.0), values)["divergence"]
    assert "ended above where it started" in div.message and div.severity == "error"
    # ... unless the validation loss ended below its own start: the run improved, however it swung.
    val = (np.arange(0.0, 300.0, 30.0), np.linspace(2.0, 1.8, 10))
    sig = signals(np.arange(300.0), values, val=val)
    assert not [f for f in detect_all(sig, CFG) if f.pathology == "divergence"]


def test_a_loss_that_doubled_while_swinging_from_the_start_diverged_where_validation_rose_too() -> None:
    """Blown up at the first updates, then swinging (sigma 1.2) around twice its start: the rise is
    within the noise of one draw, also at the start; the validation loss rising too settles it."""
    rng = np.random.default_rng(2)
    values = 4.4 + 1.2 * rng.standard_normal(1000)
    values[0] = 2.3
    steps = np.arange(1000.0)
    assert "divergence" not in found(steps, values)
    val = (np.arange(0.0, 1000.0, 50.0), np.linspace(2.3, 4.8, 20))
    (div,) = [f for f in detect_all(signals(steps, values, val=val), CFG) if f.pathology == "divergence"]
    assert "ended above where it started" in div.message and div.severity == "error"


def _jump_into_swings(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """0.5 at the start, then heavy-tailed swings (lognormal, median 3, spikes past 20) to the end:
    a loss that blew up at its first update under gradient clipping."""
    rng = np.random.default_rng(seed)
    values = np.exp(np.log(3.0) + 0.8 * rng.standard_normal(600))
    values[0] = 0.5
    return np.arange(600.0), values


def test_a_jump_into_wide_swings_diverged_though_the_swings_hide_the_rise() -> None:
    steps, values = _jump_into_swings(3)
    sig = signals(steps, values)
    assert sig.curve is not None and sig.curve.end - sig.curve.start < 2 * sig.curve.draw_noise
    (div,) = found(steps, values)["divergence"]
    assert "ended above where it started" in div.message
    # A validation loss first measured after the first epoch, falling from the blown-up level,
    # says nothing of where the run started ...
    late_val = (np.arange(60.0, 600.0, 60.0), np.linspace(4.0, 3.0, 9))
    assert [f for f in detect_all(signals(steps, values, val=late_val), CFG) if f.pathology == "divergence"]
    # ... one measured before training that ended lower rules it out.
    val = (np.arange(0.0, 600.0, 60.0), np.linspace(0.6, 0.55, 10))
    assert not [f for f in detect_all(signals(steps, values, val=val), CFG) if f.pathology == "divergence"]


def test_the_lowest_of_28_points_coming_first_is_chance_not_a_rise() -> None:
    """A short log that never learnt (28 points wandering 2.3 to 4.0, the first one the lowest, as
    in a real Lightning log of a probe that never learnt): once in 28 such logs by chance alone."""
    rng = np.random.default_rng(4)
    values = 2.9 + 0.45 * rng.standard_normal(28)
    values[0] = values.min() - 0.01
    assert "divergence" not in found(np.arange(49.0, 49.0 + 50 * 28, 50), values)


def test_nan_tail_is_divergence_from_the_first_nan() -> None:
    steps, values = curves.converging(100)
    values[70:] = np.nan
    (div,) = found(steps, values)["divergence"]
    assert (div.start_step, div.end_step) == (70, 99) and div.evidence["nonfinite_to_end"]


def test_flat_line_after_a_spike_is_a_dead_network() -> None:
    rng = np.random.default_rng(0)
    values = np.full(300, 2.3026) + 0.001 * rng.standard_normal(300)
    values[3:8] = [9.0, 30.0, 12.0, 4.0, 2.5]
    (div,) = found(np.arange(300.0), values)["divergence"]
    assert "stopped learning" in div.message


def _blown_up_and_back(seed: int = 0, *, creeping: bool = True):  # type: ignore[no-untyped-def]
    """A rate too high under a step schedule: the loss jumps from chance (2.3) to ~40 and swings
    there; the cuts at half and three quarters of the run bring it back down to chance, which it
    approaches to the end (`creeping`: still falling there, from 2.5 to 2.25, ending within 2% of
    its start as the real run did) or sits at (2.45)."""
    rng = np.random.default_rng(seed)
    steps = np.arange(400.0)
    back = np.linspace(2.5, 2.25, 100) if creeping else np.full(100, 2.45)
    level = np.concatenate([np.full(200, 40.0), 40.0 * np.exp(-np.arange(100) / 20) + 3.4, back])
    values = level * np.exp(0.05 * rng.standard_normal(400))
    values[:3] = [2.30, 2.35, 8.0]
    lr = np.where(steps < 200, 1.0, np.where(steps < 300, 0.1, 0.01))
    return steps, values, (steps, lr)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("creeping", [True, False])
def test_a_loss_that_blew_up_and_came_back_to_its_start_did_not_recover(seed: int, creeping: bool) -> None:
    steps, values, lr = _blown_up_and_back(seed, creeping=creeping)
    f = found(steps, values, lr)
    (div,) = f["divergence"]
    assert div.severity == "error" and div.suggests == "too_high"
    assert "came back only to its initial level" in div.message and "did not recover" in div.message
    assert div.evidence["trend_peak_ratio"] > 10 and div.start_step < 3
    # It did not stay near its initial level: no plateau says so (nor that the rate is too low).
    assert not any("stayed near its initial level" in p.message for p in f.get("plateau", []))
    assert diagnose_arrays(steps, values).verdict == "too_high"
    # A validation loss measured before training that ended at its start, as a dead network's
    # does, leaves it so; one that ended well below its start says the run learnt.
    vs = np.arange(0.0, 400.0, 40.0)

    def divergences(val: np.ndarray) -> list:
        return [f for f in detect_all(signals(steps, values, *lr, val=(vs, val)), CFG) if f.pathology == "divergence"]

    assert [d.severity for d in divergences(2.30 + 0.01 * np.sin(vs))] == ["error"]
    assert divergences(np.linspace(2.30, 1.6, len(vs))) == []


def _bump(height: float, *, end: float, n: int = 400, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A loss at 2.3 whose level rises `height` times (a smooth bump around step 120) and then,
    over the second half, creeps from just above where it began to `end` times that."""
    rng = np.random.default_rng(seed)
    steps = np.arange(float(n))
    level = np.full(n, 2.3)
    level[n // 2 :] = np.linspace(2.3 * 1.08, 2.3 * end, n - n // 2)
    level += 2.3 * (height - 1) * np.exp(-(((steps - 120) / 40) ** 2))
    return steps, level * np.exp(0.03 * rng.standard_normal(n))


@pytest.mark.parametrize("height", [1.7, 1.9, 8.0])
def test_a_blow_up_that_left_the_loss_back_at_its_start_is_a_divergence(height: float) -> None:
    steps, values = _bump(height, end=1.0)
    (div,) = found(steps, values)["divergence"]
    assert div.severity == "error" and "came back only to its initial level" in div.message
    # One that went on to shed 40% of its start came back part of the way: a warning the verdict
    # model weighs (a fine-tune's warmup, a loss that starts low, can rise so and train well).
    steps, values = _bump(height, end=0.6)
    (div,) = found(steps, values)["divergence"]
    assert div.suggests == "too_high" and div.severity == "warning"
    assert "came back only to 0.6" in div.message and "may not have recovered" in div.message
    # One that went on to shed 98% of it early in its second half recovered.
    values[200:] = 2.3 * (0.02 + 1.06 * np.exp(-np.arange(200.0) / 20))
    assert "divergence" not in found(steps, values)


# A 5-class MLP with AdamW at 0.316 (label smoothing 0.3, 60 steps), logged at every step with an
# evaluation every 5 from step 0: the loss blew up at its first update and came back to its start.
BLOWN_AT_ONCE = [1.6163, 32.827, 27.62, 44.347, 18.024, 9.5657, 3.909, 2.5625, 1.765, 1.8038, 1.7012, 1.6834,
                 1.6792, 1.6194, 1.591, 1.6578, 1.6042, 1.6259, 1.6711, 1.6485, 1.6002, 1.662, 1.5985, 1.5854,
                 1.6198, 1.5919, 1.6108, 1.6071, 1.6204, 1.6081, 1.5717, 1.5855, 1.5943, 1.6087, 1.588, 1.5755,
                 1.5976, 1.5518, 1.5675, 1.5597, 1.5689, 1.5692, 1.6941, 1.5227, 1.6116, 1.5568, 1.5167, 1.5877,
                 1.5585, 1.5262, 1.5993, 1.5592, 1.5665, 1.5145, 1.5786, 1.5247, 1.4973, 1.5731, 1.536, 1.5777,
                 1.5187]  # fmt: skip
BLOWN_VAL = [1.6194, 11.2004, 1.7017, 1.663, 1.6419, 1.6171, 1.6068, 1.5913, 1.589, 1.5785, 1.5676, 1.5621, 1.5608]


def test_a_blow_up_at_the_first_update_is_measured_from_the_first_point_the_validation_loss_confirms() -> None:
    # The median of the first 3 points (27.6) had been its start level: the blow-up was measured
    # from itself, and the run read as unknown with a slow-convergence warning.
    steps, values = np.arange(61.0), np.array(BLOWN_AT_ONCE)
    val = (5.0 * np.arange(13), np.array(BLOWN_VAL))
    sig = signals(steps, values, val=val)
    (div,) = [f for f in detect_all(sig, CFG) if f.pathology == "divergence"]
    assert div.severity == "error" and div.evidence["start"] == pytest.approx(1.6163)
    assert "its first point, as the validation loss before training confirms" in div.message
    # Without the evaluation before training, the first point is one draw: the median stands.
    late_val = (5.0 + 5.0 * np.arange(12), np.array(BLOWN_VAL[1:]))
    found_late = detect_all(signals(steps, values, val=late_val), CFG)
    assert not any(f.pathology == "divergence" and f.severity == "error" for f in found_late)


def test_a_long_log_that_blew_up_and_came_back_is_read_from_its_raw_start() -> None:
    # 200,000 points, reduced to bin medians: the first bins already hold the blow-up.
    rng = np.random.default_rng(6)
    steps = np.arange(200_000.0)
    level = np.where(steps < 100_000, 10.0, np.where(steps < 150_000, 2.5 + 10 * np.exp(-(steps - 1e5) / 1e4), 2.4))
    level[:50] = 2.3
    (div,) = found(steps, level * np.exp(0.1 * rng.standard_normal(len(steps))))["divergence"]
    assert div.severity == "error" and div.evidence["start"] < 3


def test_what_is_not_a_blow_up_left_unrecovered() -> None:
    rng = np.random.default_rng(3)
    # A fine-tune at its floor from the start, still improving slowly, one minibatch 1.5x.
    steps = np.arange(600.0)
    improving = 0.5 - 0.03 * steps / 600 + 0.01 * rng.standard_normal(600)
    improving[300] = 0.75
    assert "divergence" not in found(steps, improving)
    # ... or 30 steps at 2.4x its level a third of the way in, then back to its floor.
    sustained = improving.copy()
    sustained[300] = sustained[299]
    sustained[200:230] += 0.7
    assert "divergence" not in found(steps, sustained)
    # A short log with two high points: the trend's short window does not make them a blow-up.
    short = np.linspace(2.30, 2.27, 40) + 0.002 * rng.standard_normal(40)
    short[20:22] = 6.0
    assert "divergence" not in found(np.arange(40.0), short)
    # A healthy run whose first logged value came out low: its start is the median of its first 3.
    healthy = 1.0 + 1.3 * np.exp(-np.arange(500.0) / 80) + 0.02 * rng.standard_normal(500)
    healthy[0] = 1.0
    assert all(d.severity != "error" for d in found(np.arange(500.0), healthy).get("divergence", []))
    # ... or high (a first minibatch 5x the level): the trend, padded with it at the log's start,
    # is lifted, the points after it are not.
    fast = 0.7 + 0.3 * np.exp(-np.arange(200.0) / 60) + 0.01 * rng.standard_normal(200)
    fast[0] = 5.0
    assert "divergence" not in found(np.arange(200.0), fast)
    # A loss that never moved, its minibatch losses heavy-tailed (exponential): no stretch stands
    # 1.5x above both where it began and where it ended.
    for seed in range(20):
        flat = 0.05 * np.random.default_rng(seed).exponential(size=500)
        assert "recover" not in str(found(np.arange(500.0), flat).get("divergence", []))
    # A late excursion that left the loss above its best before it, at its start: not recovered.
    late = 2.3 - 0.3 * np.minimum(np.arange(400.0), 100) / 100 + 0.01 * rng.standard_normal(400)
    late[200:260] += 3.0
    late[260:] = 2.3 + 0.01 * rng.standard_normal(140)
    (div,) = found(np.arange(400.0), late)["divergence"]
    assert "did not recover" in div.message


def test_a_flat_line_after_one_minibatch_spike_is_a_dead_network_only_at_the_start() -> None:
    rng = np.random.default_rng(0)
    values = 0.5 + 0.001 * rng.standard_normal(400)
    values[100] = 0.75  # a quarter of the way in: one minibatch
    assert "divergence" not in found(np.arange(400.0), values)
    values[100], values[2] = values[101], 0.75  # at the very start: the dead-network signature
    (div,) = found(np.arange(400.0), values)["divergence"]
    assert "flat-lined" in div.message
    # On a long log the spike's place is read from the raw points, not the bin medians.
    long = 0.5 + 0.001 * rng.standard_normal(100_000)
    long[70_000] = 0.75
    assert "divergence" not in found(np.arange(100_000.0), long)


def test_a_run_that_learnt_then_spiked_back_to_its_start_is_a_dead_network_wherever_the_spike() -> None:
    # It came down from 2.3 to 0.5, one bad update (two points) at 40% of the run, then flat at
    # chance: it lost what it had learnt. A spike that late in a run that never left its start
    # would be one minibatch.
    rng = np.random.default_rng(0)
    steps = np.arange(500.0)
    values = np.where(steps < 200, 0.5 + 1.8 * np.exp(-steps / 40), np.log(10)) + 0.01 * rng.standard_normal(500)
    values[200:202] = [30.0, 12.0]
    (div,) = found(steps, values)["divergence"]
    assert div.severity == "error" and "flat-lined" in div.message
    # Nor is a loss that fell far and climbed back said to have stayed near its initial level.
    climbed = np.interp(steps, [0, 150, 499], [2.30, 0.6, 2.30]) + 0.01 * rng.standard_normal(500)
    assert not any("stayed near its initial level" in p.message for p in found(steps, climbed).get("plateau", []))


def test_one_minibatch_spike_on_a_noisy_flat_run_is_no_dead_network() -> None:
    # The spike's width is counted around its peak, not over every noisy point above 1.3x.
    for seed in range(20):
        rng = np.random.default_rng(seed)
        values = 1.0 + 0.1 * rng.standard_normal(400)
        values[int(rng.integers(30, 120))] = 3.0
        assert "dead units" not in str(found(np.arange(400.0), values).get("divergence", []))
    # On a short, very noisy log the trend's dips are noise, not a run that learnt: a late spike
    # there is still one minibatch.
    for seed in range(40):
        rng = np.random.default_rng(seed)
        values = np.abs(1.0 + 0.3 * rng.standard_normal(60))
        values[int(rng.integers(24, 54))] = 4.6
        assert "dead units" not in str(found(np.arange(60.0), values).get("divergence", []))


def test_a_validation_loss_that_blew_up_too_does_not_clear_a_blow_up() -> None:
    steps, values, lr = _blown_up_and_back(0)
    vs = np.arange(0.0, 400.0, 40.0)
    blown_val = np.array([2.3, 35, 38, 39, 37, 30, 10, 4, 2.2, 2.05])
    sig = signals(steps, values, *lr, val=(vs, blown_val))
    assert [f.severity for f in detect_all(sig, CFG) if f.pathology == "divergence"] == ["error"]


def test_a_flat_start_with_one_spiking_minibatch_is_still_stuck_at_its_start() -> None:
    # One minibatch 3x the level does not lift the trend: the loss did stay at its initial level.
    rng = np.random.default_rng(0)
    values = 2.3 - 0.01 * np.arange(300) / 300 + 0.002 * rng.standard_normal(300)
    values[150] = 7.0
    (plateau,) = found(np.arange(300.0), values)["plateau"]
    assert "stayed near its initial level" in plateau.message


def _stuck_with_val(val: np.ndarray, *, first: float = 0.0, creep: float = 0.0, seed: int = 0) -> list:
    """The plateau findings of a training loss that stayed at its initial level in minibatch noise
    (creeping down by `creep` of it), beside the given validation loss (evaluated from step
    `first`, every 25 steps)."""
    rng = np.random.default_rng(seed)
    values = 2.3 * (1 - creep * np.arange(300) / 300) + 0.003 * rng.standard_normal(300)
    sig = signals(np.arange(1.0, 301.0), values, val=(first + 25.0 * np.arange(len(val)), val))
    return [f for f in detect_all(sig, CFG) if f.pathology == "plateau"]


KNOCKED = np.array([2.303, 2.341, 2.338, 2.346, 2.337, 2.343, 2.339, 2.35, 2.336, 2.342])


def test_a_stuck_loss_reads_its_direction_off_the_validation_loss() -> None:
    # Knocked to chance at its first updates: every later evaluation far above the one before training.
    (dead,) = _stuck_with_val(KNOCKED)
    assert dead.suggests == "too_high" and "at all 9 later ones" in dead.message
    assert dead.evidence["val_sds_above_start"] > 3
    # ... unless that first evaluation came after training began: it is no start to be knocked
    # from, and a resumed run near its end does not come down either; the training loss decides.
    (late,) = _stuck_with_val(KNOCKED, first=25.0)
    assert late.suggests is None and "no significant trend" in late.message
    (late,) = _stuck_with_val(KNOCKED, first=25.0, creep=0.01)
    assert late.suggests == "too_low" and late.message.endswith("creeping down")
    # A rate too low: minibatch noise hides the creep, the validation loss falls at every evaluation.
    (slow,) = _stuck_with_val(2.303 - 0.002 * np.arange(10))
    assert slow.suggests == "too_low" and "the validation loss fell steadily" in slow.message
    # An evaluation that never changed (a frozen model, a bug) points nowhere.
    (frozen,) = _stuck_with_val(np.full(10, 2.303))
    assert frozen.suggests is None and "no significant trend" in frozen.message
    # Too few evaluations to read: the training loss alone decides, as without a validation loss.
    # Five falling at every one are too few for a significant Kendall trend; six are enough.
    (few,) = _stuck_with_val(KNOCKED[:4])
    assert few.suggests is None and "no significant trend" in few.message
    (five,) = _stuck_with_val(2.303 - 0.002 * np.arange(5))
    assert five.suggests is None and "no significant trend" in five.message
    (six,) = _stuck_with_val(2.303 - 0.002 * np.arange(6))
    assert six.suggests == "too_low"


def test_a_validation_loss_that_rose_and_came_back_to_its_start_did_not_creep_down() -> None:
    # A network knocked to chance at its first updates (SGD at 10 with clipping, no NaN): its
    # evaluations rose 8% above the one before training, then came back to ln 10 and stood there.
    # Their fall from that peak is no creep of a rate too low (it had been told to raise 10 to
    # 3.16e4).
    back = math.log(10) + 0.02 * np.exp(-np.arange(9.0))
    val = np.concatenate([[2.3068, 2.37, 2.491, 2.41, 2.36], back])
    (plateau,) = _stuck_with_val(val)
    assert plateau.suggests == "too_high"
    assert "the validation loss rose from its evaluation before training (2.307) to 2.491 (step 50" in plateau.message
    assert plateau.evidence["val_peak"] == 2.491
    # Before that rule, its steady fall from the peak read as a creep down: too low.
    rule = dataclasses.replace(CFG.plateau, stuck_val_rise_share=math.inf)
    (before,) = [f for f in detect_plateau_of(val, rule) if f.pathology == "plateau"]
    assert before.suggests == "too_low" and "creeping down" in before.message
    # One that ended far below its start learnt: the rule is not for it.
    learnt = np.concatenate([[2.3068, 2.37, 2.491, 2.41, 2.36], np.linspace(2.0, 1.2, 9)])
    assert all("rose from its evaluation" not in f.message for f in _stuck_with_val(learnt))
    # Nor for a first evaluation after training began: it is no start to rise from.
    (late,) = _stuck_with_val(val, first=25.0)
    assert "rose from its evaluation" not in late.message


def detect_plateau_of(val: np.ndarray, rule: PlateauConfig) -> list:
    """The plateau findings of `_stuck_with_val`'s training loss beside `val`, under `rule`."""
    rng = np.random.default_rng(0)
    values = 2.3 + 0.003 * rng.standard_normal(300)
    sig = signals(np.arange(1.0, 301.0), values, val=(25.0 * np.arange(len(val)), val))
    return [f for f in detect_all(sig, dataclasses.replace(CFG, plateau=rule)) if f.pathology == "plateau"]


def test_a_flat_noisy_validation_loss_does_not_say_which_way() -> None:
    # A stuck run beside a validation loss that only jitters (a small validation set): its first
    # evaluation is one draw, below the others' median half the time. That is no sign of a rate
    # too high: at most a few in a hundred such runs may be told so.
    told = Counter()
    for seed in range(200):
        val = 0.62 + 0.01 * np.random.default_rng(1000 + seed).standard_normal(10)
        (plateau,) = _stuck_with_val(val, seed=seed)
        told[plateau.suggests] += 1
    assert told["too_high"] <= 6 and told["too_low"] <= 6, told


def test_a_training_loss_creeping_down_beside_a_validation_loss_that_did_not_is_not_too_low() -> None:
    # A classifier knocked to chance whose output bias still learns the class prior: its training
    # loss creeps down (significantly) while its evaluations stay above the first one. It was
    # told "creeping down": raise the rate.
    val = np.array([2.303, 2.35, 2.33, 2.34, 2.32, 2.33, 2.31, 2.32, 2.31, 2.31])
    (plateau,) = _stuck_with_val(val, creep=0.01)
    assert "stayed near its initial level" in plateau.message and plateau.suggests is None
    assert "the validation loss did not come down" in plateau.message and "creeping down" not in plateau.message
    # Without a validation loss, that creep is all there is to read.
    rng = np.random.default_rng(0)
    values = 2.3 * (1 - 0.01 * np.arange(300) / 300) + 0.003 * rng.standard_normal(300)
    (alone,) = found(np.arange(1.0, 301.0), values)["plateau"]
    assert alone.suggests == "too_low" and alone.message.endswith("creeping down")


def _epoch_means_at_chance(
    level: float = math.log(10) - 0.0007, *, spread: float = 5e-5, creep: float = 0.0, first: float = 2.40
) -> tuple[np.ndarray, np.ndarray]:
    """100 epoch means: a first one of `first`, then a line at `level` with noise `spread` (and a
    creep down by that share of it over the run)."""
    rng = np.random.default_rng(0)
    values = level * (1 - creep * np.arange(99) / 99) + spread * rng.standard_normal(99)
    return np.arange(1.0, 101.0), np.r_[first, values]


def test_a_loss_that_jumped_to_chance_and_flat_lined_is_a_divergence() -> None:
    (div,) = found(*_epoch_means_at_chance())["divergence"]
    assert div.severity == "error" and div.suggests == "too_high" and div.evidence["classes"] == 10
    assert "jumped to chance and flat-lined" in div.message
    # A console log printing four decimals stands exactly still: no trend, not an undefined one.
    printed = np.r_[2.4013, np.full(99, 2.3026)]
    (div,) = found(np.arange(1.0, 101.0), printed)["divergence"]
    assert div.evidence["kendall_tau"] == 0.0 and "stood still at 2.3026" in div.message
    # A long log is read on its points, not on the bin medians of its curve.
    rng = np.random.default_rng(2)
    dead = np.r_[2.45, math.log(7) + 2e-4 * rng.standard_normal(99_999)]
    (div,) = found(np.arange(100_000.0), dead)["divergence"]
    assert div.evidence["classes"] == 7 and "for 99999 points (steps 1 to 99999)" in div.message
    assert div.start_step == 1.0
    healthy = np.r_[2.45, math.log(7) * (1 + 0.01 * rng.standard_normal(99_999))]  # a 1% minibatch jitter
    assert not any("jumped to chance" in f.message for f in found(np.arange(100_000.0), healthy).get("divergence", []))


@pytest.mark.parametrize(
    "why, kwargs",
    [
        ("a rate far too low creeps down from there", {"creep": 0.005}),
        ("a line off chance is a level the run reached", {"level": 2.25}),
        ("a line that jitters by a percent is a network still moving", {"spread": 0.02}),
        ("a first point at the line is no jump", {"first": math.log(10) + 0.001}),
        ("a first epoch's mean a percent above it is an initial loss's excess", {"first": 2.33}),
        ("a binary classifier at ln 2 is as often inputs without signal", {"level": math.log(2), "first": 0.75}),
        ("above 20 classes a frozen loss sits on some ln k by chance", {"level": math.log(55), "first": 4.6}),
    ],
)
def test_lines_that_are_not_a_jump_to_chance(why: str, kwargs: dict) -> None:
    found_ = found(*_epoch_means_at_chance(**kwargs)).get("divergence", [])
    assert not any("jumped to chance" in f.message for f in found_), why


def test_a_validation_loss_that_fell_clears_a_line_at_chance() -> None:
    steps, values = _epoch_means_at_chance()
    falling = (steps, 2.3 - 0.004 * np.arange(100))
    sig = signals(steps, values, val=falling)
    assert not any("jumped to chance" in f.message for f in detect_all(sig, CFG))
    flat = (steps, np.full(100, math.log(10) - 0.0009) + 1e-4 * np.random.default_rng(1).standard_normal(100))
    sig = signals(steps, values, val=flat)
    assert any("jumped to chance" in f.message for f in detect_all(sig, CFG))


def test_isolated_spikes_are_counted() -> None:
    steps, values = curves.converging(400, noise=0.01)
    for at in (150, 250, 350):
        values[at] += 1.0
    (spike,) = found(steps, values)["loss_spike"]
    assert spike.evidence["count"] == 3 and spike.evidence["steps"] == [150.0, 250.0, 350.0]


def test_spikes_that_recover_at_once_are_minibatch_luck() -> None:
    steps, values = curves.converging(400, noise=0.01)
    values[200] += 1.0
    (spike,) = found(steps, values)["loss_spike"]
    assert spike.severity == "info" and spike.evidence["recovery"] == [1.0]
    assert spike.message.endswith("above the trend, recovering within 1 step")
    values[300] += 1.0
    (spike,) = found(steps, values)["loss_spike"]
    assert spike.message.endswith("each recovering within 1 step")
    # A spike too near the end to have come back yet is no slow recovery; the sentence says so.
    from lrdoctor.detect.spikes import _recovered

    assert (
        _recovered([1.0, math.inf], [], "step")
        == ", 1 not back by the end of the run, the others recovering within 1 step"
    )
    assert _recovered([math.inf], [], "epoch") == ", not back by the end of the run"


def test_a_spike_just_after_a_warm_restart_recovers_to_the_restarted_level() -> None:
    """Cosine annealing with warm restarts every 200 steps: the loss jumps at each restart, and a
    spike a few steps after one is back on the trend at the next point; the level before the
    restart is not the one it comes back to."""
    rng = np.random.default_rng(0)
    steps = np.arange(1000.0)
    phase = steps % 200
    values = 0.5 + 1.5 * np.exp(-steps / 100) + 0.3 * (1 - phase / 200) ** 2 + 0.002 * rng.standard_normal(1000)
    values[[405, 606]] += 0.5
    (spike,) = found(steps, values)["loss_spike"]
    assert spike.severity == "info" and spike.evidence["recovery"] == [1.0, 1.0]


@pytest.mark.parametrize("back_by", [60, None])
def test_a_spike_the_loss_took_long_to_come_back_from_is_a_warning(back_by: int | None) -> None:
    """A ViT's loss jumped 4.5 -> 5.3 at epoch 201 and took some 30 of its 300 epochs to come back
    to its level: one point beyond 8 sigmas (the trend follows the jump), but no minibatch luck."""
    rng = np.random.default_rng(0)
    steps = np.arange(300.0)
    values = 4.5 + 2.0 * np.exp(-steps / 30) + 0.002 * rng.standard_normal(300)
    jump = np.zeros(300)
    after = steps >= 202
    jump[201] = 0.8  # then at once half of it, which fades
    jump[after] = 0.45 * (np.exp(-(steps[after] - 202) / (back_by / 4)) if back_by else 1.0)
    (spike,) = found(steps, values + jump)["loss_spike"]
    assert spike.severity == "warning" and spike.start_step == 201
    if back_by:
        assert 15 <= spike.evidence["recovery"][0] <= back_by
        assert "; the loss took" in spike.message and "to come back to its level from before it" in spike.message
    else:
        assert spike.evidence["recovery"] == [math.inf]
        assert spike.message.endswith("; the loss never came back to its level from before it")


def long_noisy(n: int, seed: int, *, noise_df: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A long converging log: its curve is read as bin medians, which hide a one-step spike."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n, dtype=np.float64)
    noise = rng.standard_normal(n) if noise_df is None else rng.standard_t(noise_df, n)
    return steps, 0.5 * np.exp(-steps / (n / 5)) + 0.3 + 0.02 * noise


@pytest.mark.parametrize("n", [20_000, 200_000])
def test_one_step_spike_in_a_long_log_is_found(n: int) -> None:
    steps, values = long_noisy(n, seed=0)
    values[n // 2] += 1.0
    values[n // 2 + 1] += 0.5
    (spike,) = found(steps, values)["loss_spike"]
    assert spike.evidence["count"] == 1 and spike.evidence["steps"] == [float(n // 2)]
    assert (spike.start_step, spike.end_step) == (n // 2, n // 2 + 1)


@pytest.mark.parametrize("n", [1000, 2000, 5000])
def test_noise_that_grows_with_the_loss_is_not_spikes(n: int) -> None:
    # Minibatch noise in proportion to the loss: the fast early descent is far noisier than the
    # end, which sets the run's noise level; measured against it, the descent read as spikes.
    for seed in range(5):
        rng = np.random.default_rng(seed)
        steps = np.arange(n, dtype=np.float64)
        level = 0.3 + 2.0 * np.exp(-steps / (n / 6))
        assert "loss_spike" not in found(steps, level * (1 + 0.04 * rng.standard_normal(n))), seed


def test_the_verdict_counts_jumps_over_the_run_noise_where_the_finding_sees_no_spike() -> None:
    # The loss_spike finding measures each point against the noise around it; the verdict's
    # statistic counts the jumps against the run's own noise, as its models were fitted.
    from lrdoctor.verdict import FEATURES, features

    rng = np.random.default_rng(2)
    steps = np.arange(1000, dtype=np.float64)
    values = (0.3 + 2.0 * np.exp(-steps / 160)) * (1 + 0.04 * rng.standard_normal(1000))
    sig = signals(steps, values)
    findings = detect_all(sig, CFG)
    assert not [f for f in findings if f.pathology == "loss_spike"]
    x = features(sig, findings)
    jumps = x[FEATURES.index("jumps")]
    assert jumps >= 1 and x[FEATURES.index("high")] == pytest.approx(0.1 * min(jumps, 4))


def test_a_spike_seen_in_the_bins_and_at_full_resolution_is_one_spike() -> None:
    rng = np.random.default_rng(0)
    steps = np.arange(5000, dtype=np.float64)
    level = 0.5 + 2.0 * np.exp(-steps / 800)
    values = level + 0.02 * rng.standard_normal(5000)
    values[2001] = 3 * level[2001]
    values[[3001, 3002]] = 3 * level[[3001, 3002]]
    (spike,) = found(steps, values)["loss_spike"]
    assert spike.evidence["count"] == 2 and spike.evidence["steps"] == [2001.0, 3001.0]
    assert (spike.start_step, spike.end_step, spike.severity) == (2001, 3002, "info")


@pytest.mark.parametrize("seed", range(3))
def test_heavy_tailed_noise_in_a_long_log_is_not_spikes(seed: int) -> None:
    # Student-t noise (4 degrees of freedom) passes 8 robust sigmas at several points of 20,000:
    # hard batches, not spikes; the log's own upper tail raises the threshold.
    assert "loss_spike" not in found(*long_noisy(20_000, seed, noise_df=4))


def test_oscillation_around_a_flat_trend() -> None:
    steps, values = curves.converging(400, noise=0.0)
    values[200:] += 0.4 * np.where(np.arange(200) % 2, 1.0, -1.0)
    (osc,) = found(steps, values)["oscillation"]
    assert osc.evidence["lag1_autocorr"] < -0.5 and osc.suggests == "too_high"


@pytest.mark.parametrize("seed", [0, 1, 6])
def test_minibatch_noise_of_a_run_that_barely_moved_is_not_oscillation(seed: int) -> None:
    # A rate far too low: the loss is its initial level plus minibatch noise, after a first fall
    # of one noise sigma; the roughness (noise over a tiny progress) is large, the swings are not
    # the rate's. (Seeds whose trend makes its little progress early, as the detector requires.)
    rng = np.random.default_rng(seed)
    steps = np.arange(400.0)
    values = 1.5 + 0.25 * rng.standard_normal(400)
    values[:10] += np.linspace(0.25, 0.0, 10)
    assert "oscillation" not in found(steps, values)
    # The same noise once the loss has come down by six sigmas is the rate's doing.
    values[:20] += np.linspace(1.5, 0.0, 20)
    assert "oscillation" in found(steps, values)


def _noisy_descent(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A healthy run on noisy labels: the minibatch loss swings around its fallen trend by a
    fifth of its progress; the validation loss, on the same held-out data each time, follows the
    trend (its evaluations 1% of the swing apart)."""
    rng = np.random.default_rng(seed)
    steps = np.arange(1.0, 401.0)
    trend = 0.3 + 0.4 * np.exp(-steps / 30)
    vs = np.arange(0.0, 401.0, 20)
    val = 0.3 + 0.4 * np.exp(-vs / 30) + 0.001 * rng.standard_normal(len(vs))
    return steps, trend + 0.08 * rng.standard_normal(400), vs, val


def _oscillation(steps: np.ndarray, train: np.ndarray, val: tuple[np.ndarray, np.ndarray] | None) -> list:
    return [f for f in detect_all(signals(steps, train, val=val), CFG) if f.pathology == "oscillation"]


@pytest.mark.parametrize("seed", range(3))
def test_minibatch_noise_that_the_validation_loss_does_not_share_is_not_oscillation(seed: int) -> None:
    steps, train, vs, val = _noisy_descent(seed)
    assert _oscillation(steps, train, (vs, val)) == []
    # Without a validation loss the swings cannot be told from the rate's: the finding stands.
    assert len(_oscillation(steps, train, None)) == 1
    # Where the validation loss swings too (the weights move it), the swings are the rate's.
    rng = np.random.default_rng(seed)
    (osc,) = _oscillation(steps, train, (vs, val + 0.04 * rng.standard_normal(len(vs))))
    assert osc.evidence["val_swing_share"] >= 0.1 and "the validation loss swings" in osc.message
    # A validation loss of too few points to measure its swings leaves the finding as it was.
    assert len(_oscillation(steps, train, (vs[::3], val[::3]))) == 1
    # So does one that cannot swing: a constant, or the best value so far (a checkpoint callback's).
    assert len(_oscillation(steps, train, (vs, np.full(len(vs), 0.35)))) == 1
    best_so_far = np.minimum.accumulate(val + 0.01 * np.random.default_rng(seed).standard_normal(len(vs)))
    assert len(_oscillation(steps, train, (vs, best_so_far))) == 1


def test_a_period_two_swing_is_oscillation_whatever_phase_the_validation_loss_sees() -> None:
    # The rate makes the loss alternate step by step; evaluated every 20 steps, the validation
    # loss always lands on the same phase and does not swing.
    steps, values = curves.converging(400, noise=0.0)
    values[200:] += 0.4 * np.where(np.arange(200) % 2, 1.0, -1.0)
    vs = np.arange(0.0, 400.0, 20.0)
    val = np.interp(vs, steps, curves.converging(400, noise=0.0)[1])
    (osc,) = _oscillation(steps, values, (vs, val))
    assert osc.evidence["lag1_autocorr"] < -0.5 and "val_swing_share" not in osc.evidence


def test_a_training_loss_on_another_scale_keeps_the_weights_swings() -> None:
    # The weights wander (the validation loss follows them); the training loss is logged summed
    # over a batch of 32: in loss units its swings are 32x the validation loss's, as shares of
    # each curve's progress they match.
    rng = np.random.default_rng(0)
    steps = np.arange(1.0, 401.0)
    trend = 0.3 + 0.4 * np.exp(-steps / 30)
    wander = np.convolve(rng.standard_normal(420), np.ones(20) / 20**0.5, mode="valid")[:400] * 0.04
    vs = np.arange(0.0, 400.0, 20)
    val = (trend + wander)[vs.astype(int)]
    train = (trend + wander + 0.03 * rng.standard_normal(400)) * 32
    (osc,) = _oscillation(steps, train, (vs + 1, val))
    assert osc.evidence["val_swing_share"] >= 0.1


def test_a_healthy_run_on_flipped_labels_is_not_told_it_oscillates() -> None:
    # A real run (benchmarks/corpus, the softmax regression on make_classification with 2% of
    # labels flipped; Adam at 0.01, its sweep's best rate): the minibatch loss swings by 9% of
    # its progress, the validation loss by 0.3% as much as that.
    run = load(DATA / "noisy" / "blobs_softmax__adam_constant__lr1.00e-02_s0__metrics.csv.gz")
    dx = diagnose(run)
    assert "oscillation" not in {f.pathology for f in dx.findings}
    assert dx.verdict != "too_high"


@pytest.mark.parametrize("seed", range(3))
def test_progress_beneath_the_noise_shows_in_the_validation_loss(seed: int) -> None:
    # A rate far too low: the training loss moves less than its minibatch noise, the validation
    # loss (no minibatch noise) falls at every evaluation. Swinging the same way instead, it
    # says nothing of the rate.
    rng = np.random.default_rng(seed)
    steps = np.arange(1.0, 401.0)
    train = 1.5 - 0.05 * steps / 400 + 0.25 * rng.standard_normal(400)
    vs = np.arange(0.0, 401.0, 40)
    falling = 1.17 - 0.04 * vs / 400

    def slow(val: np.ndarray) -> list:
        return [f for f in detect_all(signals(steps, train, val=(vs, val)), CFG) if f.pathology == "slow_convergence"]

    (found_slow,) = slow(falling)
    assert found_slow.strength == 1.0 and found_slow.suggests == "too_low" and found_slow.start_step == 1
    assert found_slow.evidence["came_down_sigmas"] < 3 and found_slow.evidence["val_kendall_tau"] == -1.0
    assert "validation loss fell at nearly every evaluation" in found_slow.message
    swinging = falling + 0.02 * np.where(np.arange(len(vs)) % 2, 1.0, -1.0)
    assert all("came_down_sigmas" not in f.evidence and f.strength < 1 for f in slow(swinging))


def test_one_high_first_minibatch_does_not_make_noise_oscillation() -> None:
    # A rate far too low, its first minibatch loss 4 sigmas above the rest: the start is read
    # from medians, so the swings stay minibatch noise (the first value alone said 4 sigmas and
    # reopened the oscillation check).
    rng = np.random.default_rng(3)
    values = 1.0 + 0.1 * rng.standard_normal(400)
    values[0] = 1.45
    assert "oscillation" not in found(np.arange(400.0), values)


def _noisy_flat(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    steps = np.arange(1.0, 401.0)
    return steps, 1.5 - 0.05 * steps / 400 + 0.25 * rng.standard_normal(400)


def _beneath(steps: np.ndarray, train: np.ndarray, vs: np.ndarray, val: np.ndarray) -> list:
    return [f for f in detect_all(signals(steps, train, val=(vs, val)), CFG) if "came_down_sigmas" in f.evidence]


def test_progress_beneath_the_noise_needs_noise_and_a_falling_validation_loss() -> None:
    steps, train = _noisy_flat()
    vs = np.arange(0.0, 401.0, 40)
    falling = 1.17 - 0.04 * vs / 400
    assert _beneath(steps, train, vs, falling)  # the case itself, for the four below
    # A training loss that does not vary has no noise for progress to hide beneath.
    assert not _beneath(steps, np.full(400, 0.7), vs, falling)
    # A validation loss that does not move has no Kendall tau (NaN), and is no sign.
    assert not _beneath(steps, train, vs, np.full(len(vs), 0.6931))
    # A loss that went NaN is a blow-up, not a slow run.
    blown = train.copy()
    blown[300:] = np.nan
    assert not _beneath(steps, blown, vs, falling)
    # A log that begins late: its first value is not the start, "came down" says nothing.
    assert not _beneath(steps + 500, train, vs + 500, falling)


@pytest.mark.parametrize("seed", range(8))
def test_a_healthy_run_noisier_than_its_progress_is_not_too_slow(seed: int) -> None:
    # Noisy labels or tiny batches: per-step noise as large as the progress, while the validation
    # loss falls 40% of its start, most of it early. No sign of progress beneath the noise, and
    # the verdict does not guess from the noise's shape, even where the slow-convergence signs
    # read that shape as late progress (strength 0.6-0.7 at five of these seeds).
    rng = np.random.default_rng(seed)
    steps = np.arange(600.0)
    train = 1.6 + 0.7 * np.exp(-steps / 15) + 0.45 * rng.standard_normal(600)
    vs = np.arange(0.0, 600.0, 50)
    val = 1.4 + 0.9 * np.exp(-vs / 40)
    sig = signals(steps, train, val=(vs, val))
    findings = detect_all(sig, CFG)
    assert not [f for f in findings if "came_down_sigmas" in f.evidence]
    from lrdoctor.verdict import VerdictConfig, decide, explain

    assert decide(sig, findings, VerdictConfig()) == ("unknown", 0.0)
    assert "sigmas of its own noise" in explain(sig, findings, "unknown", VerdictConfig())


def says(verdict: str, logit: float = 5.0):  # type: ignore[no-untyped-def]
    """A verdict configuration whose models lean to `verdict` by `logit` whatever the statistics
    (every kind of log alike): a rule of `decide` tested on its own, not through a fit."""
    from lrdoctor.detect import LOG_KINDS
    from lrdoctor.verdict import CLASSES, FEATURES, VerdictConfig, VerdictModel

    n = len(FEATURES)
    model = VerdictModel(
        mean=(0.0,) * n, scale=(1.0,) * n, weights=tuple((logit * (c == verdict), *[0.0] * n) for c in CLASSES)
    )
    return VerdictConfig(models=dict.fromkeys(LOG_KINDS, model))


def test_a_log_that_is_all_warmup_gets_no_verdict() -> None:
    """A run's first 20 steps, its rate ramping from 5e-7 to 1e-5 the whole time: its loss answers a
    rate still rising (it had been told to raise the rate 134x). A warmup that ends earlier is judged."""
    from lrdoctor.verdict import VerdictConfig, decide, explain

    steps = np.arange(1.0, 21.0)
    loss = 12.64 - 0.01 * steps + 0.003 * np.sin(steps)
    ramp = 1e-5 * steps / 19
    sig = signals(steps, loss, steps, np.minimum(ramp, 1e-5))
    findings = detect_all(sig, CFG)
    assert decide(sig, findings, VerdictConfig()) == ("unknown", 0.0)
    assert explain(sig, findings, "unknown", VerdictConfig()).startswith(
        "the rate was still warming up: it reached its peak only at step 19, 95% of the way through the log"
    )
    steps = np.arange(300.0)
    sig = signals(steps, 2.3 * np.exp(-steps / 60) + 0.1, steps, np.minimum(1e-3 * (steps + 1) / 30, 1e-3))
    assert decide(sig, detect_all(sig, CFG), VerdictConfig())[0] != "unknown"
    # A loss that broke while the rate still rose has told its limit: too high where the model says
    # so; where it says another thing (ok), no verdict, and the signs are said.
    steps = np.arange(1000.0)
    rng = np.random.default_rng(0)
    broke = np.where(steps < 500, 1 + 4 * np.exp(-steps / 80), 1 + 2 * (np.maximum(steps - 500, 0) / 500) ** 1.5)
    sig = signals(steps, broke + rng.normal(0, 0.03, 1000), steps, 1e-2 * steps / 1000)
    findings = detect_all(sig, CFG)
    assert any(f.suggests == "too_high" for f in findings) and decide(sig, findings, VerdictConfig())[0] == "too_high"
    loss = np.where(steps < 500, 5.0 - 4.0 * steps / 500, 1.0 + 2.0 * (steps - 500) / 500)
    sig = signals(steps, loss, steps, 1e-2 * (steps + 1) / 1000)
    findings = detect_all(sig, CFG)
    assert any(f.suggests == "too_high" and f.severity != "info" for f in findings)
    # (A model that says ok whatever the statistics, so that the rule is tested, not a fit.)
    ok_cfg = says("ok")
    assert decide(sig, findings, ok_cfg) == ("unknown", 0.0)
    assert "its signs of a rate too high did not settle it" in explain(sig, findings, "unknown", ok_cfg)


def test_a_loss_that_blew_up_is_not_read_as_a_rate_too_low() -> None:
    """Adagrad at 3x its best rate blew up at its first updates, came back part of the way and fell
    slowly from there: a divergence warning, and a model that leaned too low (0.8) had it raise
    its rate 3160x."""
    from lrdoctor.verdict import decide, explain

    steps, values = _bump(8.0, end=0.6)
    sig = signals(steps, values)
    findings = detect_all(sig, CFG)
    assert any(f.pathology == "divergence" and f.severity == "warning" for f in findings)
    low_cfg = says("too_low")
    assert decide(sig, findings, low_cfg) == ("unknown", 0.0)
    assert "but the loss blew up (step" in explain(sig, findings, "unknown", low_cfg)
    # Without the blow-up the same lean stands.
    plain = [f for f in findings if f.pathology != "divergence"]
    assert decide(sig, plain, low_cfg)[0] == "too_low"


def test_a_slow_run_its_validation_loss_confirms_is_too_low_whatever_the_model_leans() -> None:
    # A rate too low logged as epoch means (the corpus's breast-cancer MLP with SGD at 1e-4: 0.75
    # to 0.56 in a near straight line), its validation loss falling at every evaluation to the
    # end. The models fitted on late-starting logs weigh such runs against the ill-conditioned
    # regression's slow healthy ones, and the fold that held the task out called 21 of them ok.
    from lrdoctor.verdict import decide

    epochs = np.arange(1.0, 29.0)
    loss = 0.75 - 0.0072 * (epochs - 1) + 0.002 * np.random.default_rng(0).standard_normal(28)
    val = (np.arange(0.0, 29.0, 2.0), 0.7506 - 0.0121 * np.arange(15.0))
    sig = signals(epochs, loss, val=val, step_kind="epoch")
    findings = detect_all(sig, CFG)
    assert any(f.pathology == "slow_convergence" and f.severity == "warning" and f.strength >= 0.8 for f in findings)
    ok_cfg = says("ok")
    verdict, confidence = decide(sig, findings, ok_cfg)
    assert verdict == "too_low" and confidence >= 0.8
    # A model that leans too low, but under the bar for any verdict, is overruled as well.
    assert decide(sig, findings, says("too_low", 0.15))[0] == "too_low"
    # Five evaluations are too few to confirm it.
    sig5 = signals(epochs, loss, val=(val[0][:5], val[1][:5]), step_kind="epoch")
    assert decide(sig5, detect_all(sig5, CFG), ok_cfg)[0] != "too_low"
    # A validation loss that levelled off (most of its progress early) does not confirm it.
    levelled = (val[0], 0.45 + 0.3 * np.exp(-val[0] / 3))
    sig = signals(epochs, loss, val=levelled, step_kind="epoch")
    assert decide(sig, detect_all(sig, CFG), ok_cfg)[0] == "ok"


def test_step_decay_drop_is_not_slow_convergence() -> None:
    # Levelled, then the rate is cut 10x at 80% and the loss drops again: expected, not a pathology.
    steps, values = curves.converging(400, seed=1)
    values[320:] -= 0.15 * (1 - np.exp(-np.arange(80) / 5))
    lr = (np.arange(400.0), np.where(np.arange(400) < 320, 0.1, 0.01))
    assert "slow_convergence" in found(steps, values)  # without the schedule it looks unfinished
    assert "slow_convergence" not in found(steps, values, lr)


def test_the_tail_is_read_after_a_step_decay_only() -> None:
    # A cosine schedule to zero halves its rate between its last points, where it is nearly zero:
    # not a decay after which the loss settles, so the tail statistics keep their last 30%.
    steps = np.arange(400.0)
    cosine = 0.1 * 0.5 * (1 + np.cos(np.pi * steps / 400))
    sig = signals(*curves.converging(400), steps, cosine)
    assert sig.lr.last_decay is None and sig.lr.settled_after == 0.0 and sig.shape is not None
    assert sig.shape.tail_from == pytest.approx(0.7)
    stepped = np.where(steps < 200, 0.1, np.where(steps < 300, 0.01, 0.001))
    sig = signals(*curves.converging(400), steps, stepped)
    assert sig.lr.last_decay == 300 and sig.lr.settled_after == pytest.approx(300 / 399 + 0.05)
    assert not sig.lr.constant and signals(*curves.converging(400), steps, np.full(400, 0.1)).lr.constant


def test_a_cut_too_late_to_settle_leaves_the_tail_as_it_was() -> None:
    # A rate cut in the last 5% (ReduceLROnPlateau's last cut): waiting for it to settle would
    # leave a tail of a few points; the tail is read as if the rate had been held.
    steps = np.arange(1000.0)
    late = np.where(steps < 985, 0.1, 0.01)
    sig = signals(*curves.creeping(1000), steps, late)
    assert sig.lr.last_decay == 985 and sig.lr.settled_after == 0.0
    assert "slow_convergence" in found(*curves.creeping(1000), (steps, late))
    mid = np.where(steps < 500, 0.1, 0.01)
    assert signals(*curves.creeping(1000), steps, mid).lr.settled_after == pytest.approx(500 / 999 + 0.05)


def test_a_loss_that_rose_late_is_dated_where_it_rose() -> None:
    # Falls for 70% of the run, then climbs 28% above its start: the trouble began late, not in
    # the first steps (no warmup advice, no stability limit read at the first step of a warmup).
    from lrdoctor.run import Run, Series

    steps = np.arange(500.0)
    rng = np.random.default_rng(0)
    loss = np.where(steps < 330, 2.0 - 1.5 * steps / 330, 0.5 + 2.06 * (steps - 330) / 170)
    loss = loss + 0.01 * rng.standard_normal(500)
    for lr in (np.full(500, 0.01), np.minimum((steps + 1) / 25, 1.0) * 0.01):
        run = Run(
            "x",
            "csv",
            {"loss": Series("loss", steps, loss), "lr": Series("lr", steps, lr)},
            metric="loss",
            lr_name="lr",
        )
        dx = diagnose(run)
        (div,) = [f for f in dx.findings if f.pathology == "divergence"]
        assert 300 <= div.start_step <= 360 and "rising from its best" in div.message
        assert dx.verdict == "too_high" and "stability" not in dx.because
        assert not any("warmup" in a for a in dx.advice), dx.advice


@pytest.mark.parametrize(
    ("values", "verdict"),
    [
        (np.full(50, 1.5), "unknown"),  # constant: no direction
        (np.full(50, np.nan), "unknown"),  # all NaN from step 0: before any update, no rate's doing
        (np.array([2.3, 2.2, 2.1]), "unknown"),  # 3 points
        (np.array([]), None),
    ],
)
def test_edge_cases(values: np.ndarray, verdict: str | None) -> None:
    from lrdoctor.run import Run, Series

    if verdict is None:
        return
    run = Run("x", "csv", {"loss": Series("loss", np.arange(len(values), dtype=float), values)}, metric="loss")
    assert diagnose(run).verdict == verdict


@pytest.mark.parametrize("level", [0.6931, 2.302585, 1e-4])
def test_a_constant_loss_has_no_progress_to_time(level: float) -> None:
    """A constant 0.6931 smoothed moves by 1e-13: that had been timed as progress (a slow-convergence
    warning, 93% of the run for 90% of it) beside the plateau finding."""
    dx = diagnose_arrays(np.arange(200, dtype=float), np.full(200, level))
    assert dx.verdict == "unknown" and [f.pathology for f in dx.findings] == ["plateau"]


def test_isolated_nonfinite_points_the_run_went_on_from_are_skipped_updates() -> None:
    # One NaN and two Infs in 1000 steps (mixed precision's skipped steps), the run going on at its
    # level: a warning that suggests nothing, and the curve judged over all 997 finite points.
    steps, values = curves.converging(1000)
    values[[500, 700, 701]] = [np.nan, np.inf, np.inf]
    dx = diagnose_arrays(steps, values)
    (div,) = [f for f in dx.findings if f.pathology == "divergence"]
    assert div.severity == "warning" and div.suggests is None and div.evidence["skipped"]
    assert (div.start_step, div.end_step) == (
        500,
        701,
    ) and "3 isolated non-finite value(s) (1 NaN, 2 Inf)" in div.message
    assert dx.verdict == "ok" and [f.pathology for f in dx.findings] == ["divergence"]
    sig = signals(steps, values)
    assert sig.curve is not None and sig.curve.steps[-1] == 999 and len(sig.curve.y) == 997


@pytest.mark.parametrize(
    "case",
    [
        "to_end",  # NaN from step 500 to the end
        "higher_after",  # the run came back 10x above anything before the NaN
        "too_many",  # 30 scattered NaNs in 1000 points (over 2%)
        "too_few_after",  # the last NaN two points before the end: nothing shows the run went on
        "back_near_start",  # after the NaN the loss went on near its start, far above its level before
    ],
)
def test_nonfinite_points_that_are_not_skipped_updates_stay_a_divergence(case: str) -> None:
    steps, values = curves.converging(1000)
    if case == "to_end":
        values[500:] = np.nan
    elif case == "higher_after":
        values[500] = np.nan
        values[501:] = 10 * values.max()
    elif case == "too_many":
        values[np.arange(100, 1000, 30)] = np.nan
    elif case == "too_few_after":
        values[997] = np.nan
    else:
        values[600] = np.nan
        values[601:] = values[0] * (1 + 0.01 * np.sin(np.arange(399)))
    dx = diagnose_arrays(steps, values)
    (div,) = [f for f in dx.findings if f.pathology == "divergence" and "nonfinite" in f.evidence]
    assert div.severity == "error" and not div.evidence["skipped"] and dx.verdict == "too_high"


@pytest.mark.parametrize("skipped", [[120], [120, 300, 450]])
def test_skipped_updates_then_nan_to_the_end_is_dated_where_the_nan_to_the_end_began(skipped: list[int]) -> None:
    """A stray NaN or three the run went on from, then NaN from step 700 on: the divergence had been
    dated at the first stray NaN (step 120), and the curve cut there."""
    steps, values = curves.converging(1000)
    values[skipped] = np.nan
    values[700:] = np.nan
    dx = diagnose_arrays(steps, values)
    (div,) = [f for f in dx.findings if f.pathology == "divergence" and "nonfinite" in f.evidence]
    assert div.severity == "error" and div.start_step == 700 and dx.verdict == "too_high"
    assert div.message.startswith("loss is NaN from step 700 (and every value after it); before it,")
    assert f"{len(skipped)} isolated non-finite value(s) the run went on from, at step 120" in div.message
    assert div.evidence["first_nonfinite_step"] == 120
    sig = signals(steps, values)
    assert sig.curve is not None and sig.curve.steps[-1] == 699 and len(sig.curve.y) == 700 - len(skipped)


def test_many_nans_then_nan_to_the_end_are_dated_at_the_first() -> None:
    steps, values = curves.converging(1000)
    values[np.arange(100, 700, 20)] = np.nan  # 30 of 700 before it: over 2%, no skipped updates
    values[700:] = np.nan
    (div,) = [f for f in diagnose_arrays(steps, values).findings if "nonfinite" in f.evidence]
    assert div.start_step == 100 and "isolated" not in div.message


@pytest.mark.parametrize(
    ("first", "stride", "step_kind", "verdict"),
    [
        (0, 1, "step", "unknown"),  # the first forward pass, before any update
        (1, 1, "step", "unknown"),
        (10, 10, "step", "too_high"),  # the log begins late: the first updates may have blown it up
        (1, 1, "epoch", "too_high"),  # the mean of a first epoch that blew up
    ],
)
def test_a_loss_non_finite_from_before_any_update_points_to_no_rate(
    first: int, stride: int, step_kind: str, verdict: str
) -> None:
    from lrdoctor.report.text import render_one
    from lrdoctor.run import Run, Series

    steps = np.arange(first, first + 50 * stride, stride, dtype=float)
    values = np.full(50, np.nan)
    values[0] = np.inf
    lr = Series("lr", steps, np.full(50, 0.1))
    run = Run("x", "csv", {"loss": Series("loss", steps, values), "lr": lr}, "loss", "lr", step_kind=step_kind)
    dx = diagnose(run)
    (div,) = [f for f in dx.findings if f.pathology == "divergence"]
    assert div.severity == "error" and dx.failed and dx.verdict == verdict
    if verdict == "unknown":
        assert div.suggests is None and dx.recommended_lr is None and not dx.advice
        assert "from its first value" in div.message and "no learning rate does that" in dx.why
        assert "unknown (not the rate: see below)" in render_one(dx)
    else:
        assert div.suggests == "too_high" and dx.recommended_lr is not None and dx.recommended_lr < 0.1


@pytest.mark.parametrize("at", [0, 5])
def test_a_nan_among_the_first_points_is_skipped_too(at: int) -> None:
    steps, values = curves.converging(300)
    values[at] = np.nan  # a mean over no batch, or one skipped step early on
    dx = diagnose_arrays(steps, values)
    (div,) = [f for f in dx.findings if f.pathology == "divergence"]
    assert div.severity == "warning" and dx.verdict == "ok"


def test_a_sweep_reads_a_run_with_skipped_updates_by_its_finite_values() -> None:
    from lrdoctor.sweep import final_loss

    steps, values = curves.converging(300)
    values[120] = np.nan
    assert final_loss(diagnose_arrays(steps, values)) == pytest.approx(np.median(np.delete(values, 120)[-29:]))
    values[200:] = np.nan
    assert final_loss(diagnose_arrays(steps, values)) == np.inf


def test_a_loss_that_climbed_before_going_nan_is_dated_where_it_climbed() -> None:
    # A warmup to 1.0 over 200 steps; the loss turns at step ~20 (rate ~0.1), overflows at 150:
    # the stability limit is the rate where it turned, not where it overflowed (0.75).
    from lrdoctor.run import Run, Series

    rng = np.random.default_rng(0)
    steps = np.arange(1000, dtype=np.float64)
    lr = np.minimum(1.0, (steps + 1) / 200)
    loss = 2.3 * np.exp(-steps / 15) + 0.3 + 0.02 * rng.standard_normal(1000)
    loss[20:] *= np.exp(np.minimum((steps[20:] - 20) * 0.5, 700))
    loss[150:] = np.nan
    run = Run(
        "x", "csv", {"loss": Series("loss", steps, loss), "lr": Series("lr", steps, lr)}, metric="loss", lr_name="lr"
    )
    dx = diagnose(run)
    (div,) = [f for f in dx.findings if f.pathology == "divergence"]
    assert 10 <= div.start_step <= 30 and div.evidence["first_nonfinite_step"] == 150
    assert "it climbed from step" in div.message
    assert 0.01 <= dx.recommended_lr <= 0.05 and "stability limit" in dx.because


def test_an_explosion_is_dated_where_the_loss_turned() -> None:
    steps = np.arange(300, dtype=np.float64)
    loss = np.where(steps < 100, 2.3 - 0.015 * steps, 0.8 * np.exp((steps - 100) * 0.08))
    (div,) = found(steps, loss)["divergence"]
    assert 90 <= div.start_step <= 110 and div.evidence["peak_step"] == 299 and "rising from step" in div.message


def test_a_few_epochs_that_explode_are_a_divergence() -> None:
    epochs = np.arange(1, 6, dtype=np.float64)
    dx = diagnose_arrays(epochs, np.array([2.3, 40.0, 3e3, 5e5, 1e8]))
    (div,) = [f for f in dx.findings if f.pathology == "divergence"]
    assert div.severity == "error" and dx.verdict == "too_high" and div.start_step == 1
    assert diagnose_arrays(epochs, np.array([2.3, 1.9, 1.5, 1.2, 1.0])).verdict == "unknown"  # too short


def test_nonfinite_validation_losses_are_a_warning_of_their_own() -> None:
    steps, train, vs, val = curves.overfitting()
    val = val.copy()
    val[-3:] = np.nan
    sig = signals(steps, train, val=(vs, val))
    (warn,) = [f for f in detect_all(sig, CFG) if f.pathology == "divergence"]
    assert warn.severity == "warning" and warn.suggests is None and warn.start_step == vs[-3]
    assert "3 of " in warn.message and "to the end" in warn.message
    # Training diverged too: the training loss's own error says it, once.
    train = train.copy()
    train[200:] = np.nan
    found_both = [f for f in detect_all(signals(steps, train, val=(vs, val)), CFG) if f.pathology == "divergence"]
    assert [f.severity for f in found_both] == ["error"]


def test_no_slow_convergence_for_a_loss_that_ended_above_its_start() -> None:
    steps = np.arange(400, dtype=np.float64)
    rising = 2.3 + 0.5 * steps / 400 + 0.01 * np.sin(steps)
    assert "slow_convergence" not in found(steps, rising)


def test_a_log_that_is_all_warmup_finds_no_slow_convergence() -> None:
    """detectron2's first 300 of its 1000 warmup iterations: a loss that falls late answers the rate
    still rising. Slow convergence had been a warning beside 'the rate was still warming up', which
    check --fail-on-pathology slow_convergence failed on."""
    steps = np.arange(19.0, 300.0, 20.0)
    rate = 0.02 * (steps + 1) / 1000
    loss = 4.0 - 2.5 * (steps / 300) ** 2
    findings = detect_all(signals(steps, loss, steps, rate), CFG)
    assert not [f for f in findings if f.pathology == "slow_convergence"]
    done = np.arange(19.0, 3000.0, 20.0)  # the same curve with its warmup over by a third of the log
    fall = 4.0 - 2.5 * (done / 3000) ** 2
    findings = detect_all(signals(done, fall, done, np.minimum(0.02 * (done + 1) / 1000, 0.02)), CFG)
    assert [f for f in findings if f.pathology == "slow_convergence"]


def test_skipped_updates_in_warmup_are_not_the_stability_limit() -> None:
    from lrdoctor.run import Run, Series

    steps = np.arange(400, dtype=float)
    lr = np.minimum(steps / 100, 1.0) * 0.1
    _, loss = curves.converging(400)
    loss[[10, 11]] = np.inf  # loss scaling finding its level in the first steps
    run = Run(
        "x", "csv", {"loss": Series("loss", steps, loss), "lr": Series("lr", steps, lr)}, metric="loss", lr_name="lr"
    )
    dx = diagnose(run)
    assert dx.verdict == "ok" and "stability" not in dx.because
    assert not any("warmup" in a for a in dx.advice)


def test_divergence_during_warmup_gives_the_stability_limit() -> None:
    from lrdoctor.run import Run, Series

    steps = np.arange(200, dtype=float)
    lr = np.minimum(steps / 100, 1.0) * 0.1  # warmup to 0.1 over 100 steps
    loss = np.where(steps < 60, 2.3 - 0.01 * steps, np.nan)  # blew up at step 60, lr 0.06
    run = Run(
        "x", "csv", {"loss": Series("loss", steps, loss), "lr": Series("lr", steps, lr)}, metric="loss", lr_name="lr"
    )
    dx = diagnose(run)
    assert dx.verdict == "too_high"
    # A loss answers the rate about 10 steps late: the limit is at most the rate at step 50, 0.05.
    assert dx.recommended_lr == pytest.approx(0.05 / 3)
    assert "when the rate reached 0.06" in dx.because and "stability limit is put at 0.05" in dx.because


def test_a_blow_up_in_the_first_steps_of_a_warmup_is_not_read_at_its_first_rate() -> None:
    """A warmup from 1e-6 to 0.1 that blew up at step 2 (lr 0.004): ten steps before is before the
    log, at 1e-6; the limit is kept within a margin of the turn (3.3e-7 had been recommended)."""
    from lrdoctor.run import Run, Series

    steps = np.arange(200, dtype=float)
    lr = 1e-6 + np.minimum(steps / 50, 1.0) * 0.1
    loss = np.where(steps < 3, 2.3 - 0.01 * steps, np.nan)
    run = Run(
        "x", "csv", {"loss": Series("loss", steps, loss), "lr": Series("lr", steps, lr)}, metric="loss", lr_name="lr"
    )
    dx = diagnose(run)
    assert dx.recommended_lr is not None and dx.recommended_lr >= 1e-4


def test_a_steep_warmup_reads_the_limit_where_the_loss_was_still_answering() -> None:
    """A warmup to 8 over 40 steps (0.2 per step) whose loss turned at lr 1.6: the limit was near
    0.2-0.4, and 1.6 / 3 = 0.53 diverged again. The rate ten steps before the turn is the bound."""
    from lrdoctor.run import Run, Series

    steps = np.arange(300, dtype=float)
    lr = np.minimum((steps + 1) / 40, 1.0) * 8
    loss = np.where(steps < 8, 2.3 - 0.05 * steps, np.nan)
    run = Run(
        "x", "csv", {"loss": Series("loss", steps, loss), "lr": Series("lr", steps, lr)}, metric="loss", lr_name="lr"
    )
    dx = diagnose(run)
    assert dx.verdict == "too_high" and dx.recommended_lr is not None
    assert dx.recommended_lr <= 0.1


@pytest.mark.parametrize(
    ("path", "verdict"),
    [
        ("csv/diabetes_mlp_sgd_nan.csv", "too_high"),
        ("csv/digits_mlp_sgd_too_high.csv", "too_high"),
        ("csv/digits_mlp_adam_ok.csv", "ok"),
        ("keras/digits_mlp_sgd_too_low.csv", "too_low"),
        ("tensorboard/digits_mlp_adam_too_low_tensorboardx", "too_low"),
    ],
)
def test_real_sample_runs(path: str, verdict: str) -> None:
    dx = diagnose(load(SAMPLE_LOGS / path))
    assert dx.verdict == verdict
    if verdict == "too_high" and dx.recommended_lr is not None:
        assert dx.recommended_lr < dx.run.observed_lr
    if verdict == "too_low" and dx.recommended_lr is not None:
        assert dx.recommended_lr > dx.run.observed_lr


def test_long_noisy_log_is_reduced_not_truncated() -> None:
    rng = np.random.default_rng(0)
    n = 200_000
    t = np.linspace(0, 1, n)
    values = 0.2 + 2.1 * np.exp(-t / 0.08) + 0.3 * rng.standard_normal(n)
    sig = signals(np.arange(n, dtype=float), values)
    assert sig.curve is not None and len(sig.curve.y) <= 2000 and sig.curve.n_raw == n
    assert detect_all(sig, CFG) == []


def test_unused_path_fixture_exists() -> None:
    assert Path(SAMPLE_LOGS).is_dir()


def test_advice_warmup_for_early_trouble_and_decay_for_a_late_stall() -> None:
    from lrdoctor.run import Run, Series

    steps = np.arange(300, dtype=float)
    exploding = np.where(steps < 3, 2.3, 2.3 * 1.5 ** (steps - 2))
    exploding[10:] = np.nan
    lr = Series("lr", steps, np.full(300, 5.0))
    run = Run("x", "csv", {"loss": Series("loss", steps, exploding), "lr": lr}, metric="loss", lr_name="lr")
    assert any("add a linear warmup" in a for a in diagnose(run).advice)

    s, rebound = curves.rebounding(300)
    run = Run("x", "csv", {"loss": Series("loss", s, rebound), "lr": lr}, metric="loss", lr_name="lr")
    advice = diagnose(run).advice
    assert any("decay the rate there to 0.5" in a for a in advice), advice
    # A warmup, then a constant rate: constant where the progress stalls.
    warm = Series("lr", s, np.minimum((s + 1) / 20, 1.0) * 5.0)
    run = Run("x", "csv", {"loss": Series("loss", s, rebound), "lr": warm}, metric="loss", lr_name="lr")
    assert any("decay the rate there to 0.5" in a for a in diagnose(run).advice)
    # A cosine schedule is not a constant rate, whether or not the decay advice would have fit it.
    cosine = Series("lr", s, 5.0 * 0.5 * (1 + np.cos(np.pi * s / 300)))
    run = Run("x", "csv", {"loss": Series("loss", s, rebound), "lr": cosine}, metric="loss", lr_name="lr")
    assert not any("at a constant rate" in a for a in diagnose(run).advice)


def test_validation_climbing_while_training_falls_is_overfitting() -> None:
    steps, train, vs, val = curves.overfitting()
    sig = signals(steps, train, val=(vs, val))
    (f,) = [f for f in detect_all(sig, CFG) if f.pathology == "overfitting"]
    assert f.severity == "warning" and f.suggests is None
    assert 80 <= f.evidence["val_best_step"] <= 160 and f.start_step == f.evidence["val_best_step"]
    assert f.end_step == vs[-1]
    assert 0.2 < f.evidence["rise"] < 0.6 and f.evidence["train_fall"] > 0.5 and f.evidence["p_value"] < 0.05


def test_no_overfitting_without_a_climb_or_while_training_rises_too() -> None:
    steps, train, vs, val = curves.overfitting()
    settled = np.minimum.accumulate(val) + 0.005 * np.random.default_rng(1).standard_normal(len(val))
    rising_train = train[::-1].copy()
    for sig in (
        signals(steps, train, val=(vs, settled)),  # the validation loss levels off: no trend after its best
        signals(steps, rising_train, val=(vs, val)),  # both climb: the training loss did not fall meanwhile
        signals(steps, train),  # no validation loss
    ):
        assert [f for f in detect_all(sig, CFG) if f.pathology == "overfitting"] == []


def test_overfitting_leaves_the_verdict_alone_and_advises_early_stopping() -> None:
    from lrdoctor.run import Run, Series
    from lrdoctor.verdict import features

    steps, train, vs, val = curves.overfitting()
    sig = signals(steps, train, val=(vs, val))
    findings = detect_all(sig, CFG)
    others = [f for f in findings if f.pathology != "overfitting"]
    assert len(others) < len(findings)
    assert np.array_equal(features(sig, findings), features(sig, others))
    series = {"loss": Series("loss", steps, train), "val_loss": Series("val_loss", vs, val)}
    advice = diagnose(Run("x", "csv", series, metric="loss", val_metric="val_loss")).advice
    (f,) = [f for f in findings if f.pathology == "overfitting"]
    assert any("early stopping" in a and f"at step {f.start_step:g}:" in a for a in advice), advice
    assert any(a.endswith("besides any change of rate") for a in advice), advice  # not "whatever the rate"


def test_overfitting_counts_from_the_lowest_logged_evaluation() -> None:
    steps, train, vs, val = curves.overfitting()
    dipped = val.copy()
    k = int(np.argmin(val))
    dipped[k] -= 0.1  # one evaluation well below its neighbours: the checkpoint to keep
    sig = signals(steps, train, val=(vs, dipped))
    (f,) = [f for f in detect_all(sig, CFG) if f.pathology == "overfitting"]
    assert f.start_step == vs[k] and f.evidence["val_best"] == dipped[k]
    assert f.evidence["rise"] == pytest.approx((sig.val.end - dipped[k]) / dipped[k])
    assert f"{dipped[k]:.4g} at step {vs[k]:g}" in f.message


def test_overfitting_of_a_negative_loss_is_a_share_of_its_progress() -> None:
    steps, train, vs, val = curves.overfitting()
    sig = signals(steps, train - 1.0, val=(vs, val - 1.0))  # a log-likelihood-like loss below zero
    (f,) = [f for f in detect_all(sig, CFG) if f.pathology == "overfitting"]
    assert f.evidence["rise_of"] == "progress" and "of its progress" in f.message
    best = float(np.min(val - 1.0))
    assert f.evidence["rise"] == pytest.approx((sig.val.end - best) / sig.val.span)
    # Lowest at its first evaluation, made after training began (fine-tunes evaluated every 1000
    # steps): overfitting from there.
    first_lowest = np.r_[-1.0, -1.0 + 0.1 * np.arange(1, 6)]
    sig = signals(steps, train - 1.0, val=(vs[:6] * 4 + 8, first_lowest))
    (f,) = [f for f in detect_all(sig, CFG) if f.pathology == "overfitting"]
    assert f.message.startswith("validation loss rose from its best, -1 at step 8, to -0.5, steadily")
    # Lowest at an evaluation made before any update: never better than the initial weights, a rate
    # that made things worse, not overfitting.
    sig = signals(steps, train - 1.0, val=(vs[:6] * 4, first_lowest))
    assert not [f for f in detect_all(sig, CFG) if f.pathology == "overfitting"]


def test_messages_name_the_axis_of_an_epoch_log() -> None:
    epochs, train, ve, val = curves.overfitting()  # as if each point were an epoch
    messages = [f.message for f in detect_all(signals(epochs, train, val=(ve, val), step_kind="epoch"), CFG)]
    assert any("at epoch" in m for m in messages) and not any("step" in m for m in messages)
    nan = np.r_[train[:20], np.full(20, np.nan)]
    sig = signals(epochs[:40], nan, step_kind="epoch")
    (div,) = [f for f in detect_all(sig, CFG) if f.pathology == "divergence"]
    assert div.message.startswith("loss is NaN from epoch 20")


def test_a_non_finite_evaluation_drops_that_point_only() -> None:
    steps, train, vs, val = curves.overfitting()
    holed = val.copy()
    holed[[0, 10]] = [np.nan, np.inf]  # the first evaluation and one in the climb
    sig = signals(steps, train, val=(vs, holed))
    assert sig.val is not None and len(sig.val.y) == len(val) - 2
    assert [f.pathology for f in detect_all(sig, CFG)].count("overfitting") == 1


@pytest.mark.parametrize("n", [400, 20_000])
def test_a_noisy_flat_line_that_never_learnt_is_not_a_dead_network(n: int) -> None:
    # A rate far too low on a noisy regression: the minibatch loss swings around 1.0 and once
    # reaches 1.6x its first value, which is noise (about 4 sigmas), not a blow-up; on a long log
    # too, whose curve is bin medians far less noisy than the raw point that peaked.
    rng = np.random.default_rng(0)
    values = 1.0 + 0.15 * rng.standard_normal(n)
    values[0], values[13] = 0.94, 1.54
    assert "divergence" not in found(np.arange(n, dtype=float), values)


def _with_decay(values: np.ndarray, at: int | None, *, cosine: bool = False):
    from lrdoctor.advice import AdviceConfig, decay_timing

    steps = np.arange(len(values), dtype=float)
    if cosine:
        lr = 0.1 * 0.5 * (1 + np.cos(np.pi * steps / len(steps)))
    else:
        lr = np.where(steps < (at if at is not None else len(steps)), 0.1, 0.01)
    return decay_timing(signals(steps, values, steps, lr), AdviceConfig())


def test_a_step_decay_long_after_the_loss_levelled_came_late() -> None:
    _, values = curves.converging(400, tau=0.05)  # levels off by about step 60
    (advice,) = _with_decay(values, 300)
    assert "came late" in advice and "cut at step 300" in advice
    flat_from = float(advice.split("flat from step ")[1].split()[0])
    assert 40 <= flat_from <= 150


def test_a_loss_still_falling_tenfold_toward_zero_is_not_flat_before_a_late_decay() -> None:
    """Cross-entropy on separable data: 2.3 down to 0.1 by step 60, then on down to 0.006 by the
    cut at step 300. Within 5% of the progress from 2.3 from step 65 on, but falling 15x there:
    'the decay came late, cut nearer step 65' had been said, and cutting there did worse."""
    steps = np.arange(400, dtype=float)
    values = 2.3 * np.exp(-steps / 20) + 0.1 * np.exp(-steps / 100)
    assert not any("came late" in a for a in _with_decay(values, 300))


def test_a_loss_falling_steadily_but_slowly_beside_a_large_first_drop_is_not_flat() -> None:
    """DETR's loss: 26 down to 8 in the first tenth, then 8.0 to 7.0 over the 240 epochs before
    its cut, lower at nearly every epoch. Within 5% of the progress from 26, and a fall of an
    eighth of its level, but steady: it was not flat, and 'cut nearer epoch 157' was wrong."""
    rng = np.random.default_rng(0)
    steps = np.arange(500, dtype=float)
    values = 6.0 + 20.0 * np.exp(-steps / 12) + 2.0 * np.exp(-steps / 400) + 0.02 * rng.standard_normal(500)
    assert not any("came late" in a for a in _with_decay(values, 400))
    # The same first drop and a floor the loss only drifts on, in noise: flat, and the cut late.
    flat = 6.0 + 20.0 * np.exp(-steps / 12) + 0.1 * rng.standard_normal(500)
    (late,) = _with_decay(flat, 400)
    assert "came late" in late


def test_a_late_decay_reads_alike_logged_at_every_step_or_every_hundredth() -> None:
    """A loss that comes down to within 5% of its progress by step 3600 and then drifts 3% lower,
    in noise, until the cut at step 80,000: flat either way (the bin medians of the long log hold
    no noise, and its drift had read there as a steady fall)."""
    from lrdoctor.advice import AdviceConfig, decay_timing

    rng = np.random.default_rng(0)
    steps = np.arange(100_000, dtype=float)
    lr = np.where(steps < 80_000, 0.1, 0.01)
    values = 1.0 + 2.0 * np.exp(-steps / 1000) - 0.03 * steps / 80_000 + 0.05 * rng.standard_normal(len(steps))
    values[80_000:] -= 0.27
    for every in (1, 100):
        sig = signals(steps[::every], values[::every], steps[::every], lr[::every])
        (advice,) = decay_timing(sig, AdviceConfig())
        assert "came late" in advice, every


def test_a_step_decay_while_the_loss_still_fell_steadily_came_early() -> None:
    _, values = curves.creeping(400)
    (advice,) = _with_decay(values, 200)
    assert "came early" in advice and "cut at step 200" in advice
    # The creeping line falls 0.5 over the run, its progress (start to best): the 30% of the 200
    # steps before the cut hold 60 steps of it, 0.075, or 15%.
    share = float(advice.split("tau -")[1].split(", ")[1].split("%")[0])
    assert 12 <= share <= 18


def _responding(values: np.ndarray, at: int, drop: float) -> np.ndarray:
    """The loss after a cut at `at` falls by `drop` over the next 20 steps, as a real run's does."""
    out = values.copy()
    out[at:] -= drop * (1 - np.exp(-np.arange(len(values) - at) / 5))
    return out


def test_decay_timing_reads_the_loss_before_the_cut_only() -> None:
    _, flat = curves.converging(800, tau=0.02)  # flat from about step 60
    (late,) = _with_decay(_responding(flat, 600, 0.15), 600)  # the drop after the cut is not "before"
    assert "came late" in late and "cut at step 600" in late
    percent = float(late.split("(")[1].split("%")[0])
    assert 60 <= percent <= 70  # flat from about step 60 to step 599, of 799 steps


def test_decay_timing_with_a_sparse_rate_says_between_which_steps() -> None:
    from lrdoctor.advice import AdviceConfig, decay_timing

    _, flat = curves.converging(800, tau=0.02)
    loss = _responding(flat, 610, 0.15)
    steps = np.arange(800, dtype=float)
    every50 = steps[::50]
    sig = signals(steps, loss, every50, np.where(every50 < 610, 0.1, 0.01))
    (advice,) = decay_timing(sig, AdviceConfig())
    assert "came late" in advice and "cut between step 600 and 650" in advice


def test_no_decay_timing_for_a_cut_at_the_end_or_a_run_that_never_came_down() -> None:
    _, creeping = curves.creeping(400)
    assert _with_decay(creeping, 398) == []  # nothing after the cut to judge by
    t = np.arange(400.0)
    stuck = 2.3 - 0.4 * (1 - np.exp(-t / 20)) + 0.005 * np.random.default_rng(0).standard_normal(400)
    assert _with_decay(stuck, 300) == []  # flat from step ~60 but only 17% below its start: stuck, not done


def test_no_decay_timing_for_a_timely_decay_or_a_smooth_schedule() -> None:
    _, values = curves.converging(400, tau=0.08)
    assert _with_decay(values, 100) == []  # cut as the loss levels off
    assert _with_decay(values, None, cosine=True) == []  # a cosine halves its rate near zero: no step decay
    assert _with_decay(curves.creeping(400)[1], None, cosine=True) == []
    # A cosine rate printed with six decimals holds, then halves, near zero: still no step decay.
    steps = np.arange(400.0)
    rounded = np.round(1e-3 * 0.5 * (1 + np.cos(np.pi * steps / 400)), 6)
    sig = signals(*curves.converging(400), steps, rounded)
    assert sig.lr.step_decay is None and sig.lr.last_decay is None
    # A linear decay from 5e-6 printed with six decimals (Flair): 0.000005, ..., 0.000002, 0.000001,
    # its last fall from 2 units to 1 well above 1% of the peak: rounding, no cut.
    coarse = np.round(5e-6 * (1 - 0.85 * steps / 400), 6)
    assert set(coarse) == {5e-6, 4e-6, 3e-6, 2e-6, 1e-6}
    sig = signals(*curves.converging(400), steps, coarse)
    assert sig.lr.step_decay is None and sig.lr.last_decay is None
    # ... while a step schedule is still cut: held from the start and halved (0.02, then 0.01), or
    # cut by more than one unit before its last halving (0.0010, 0.0005, 0.0002, 0.0001).
    sig = signals(*curves.converging(400), steps, np.where(steps < 200, 0.004, 0.002))
    assert sig.lr.step_decay == (199.0, 200.0)
    sig = signals(*curves.converging(400), steps, np.where(steps < 200, 0.02, 0.01))
    assert sig.lr.step_decay == (199.0, 200.0)
    # A cosine from 2e-4 printed to four decimals: 0.0002, 0.0001, then 0.0000: rounding.
    cosine = np.round(2e-4 * 0.5 * (1 + np.cos(np.pi * steps / 400)), 4)
    assert set(cosine) == {0.0002, 0.0001, 0.0}
    assert signals(*curves.converging(400), steps, cosine).lr.step_decay is None
    # ... but a rate held 0.0002 for most of the run, halved, then printed as 0: a cut.
    halved = np.select([steps < 300, steps < 350], [0.0002, 0.0001], 0.0)
    assert signals(*curves.converging(400), steps, halved).lr.step_decay == (299.0, 300.0)
    staged = np.select([steps < 100, steps < 200, steps < 300], [0.0010, 0.0005, 0.0002], 0.0001)
    sig = signals(*curves.converging(400), steps, staged)
    assert sig.lr.step_decay == (99.0, 100.0) and sig.lr.last_decay == 300.0


def test_warmup_and_decay_advice_need_trouble_that_warrants_them() -> None:
    from lrdoctor.advice import AdviceConfig, advise
    from lrdoctor.diagnosis import Finding

    steps = np.arange(300, dtype=float)
    values = curves.converging(300)[1]
    constant = signals(steps, values, steps, np.full(300, 0.1))
    spike = Finding("loss_spike", "info", 5, 12, "", suggests="too_high")
    blowup = Finding("divergence", "warning", 5, 299, "", suggests="too_high")
    assert advise(constant, [spike], None, AdviceConfig()) == []  # one spike of severity info: luck
    spread = Finding("loss_spike", "warning", 5, 250, "", suggests="too_high")
    assert advise(constant, [spread], None, AdviceConfig()) == []  # spikes all through the run: not a warmup's job
    (add,) = advise(constant, [blowup], 0.05, AdviceConfig())
    assert add.startswith("the trouble starts in the first steps: besides a lower rate, add a linear warmup over")
    assert add.endswith("(5% of the run) to 0.05")
    short = signals(steps[:10], values[:10], steps[:10], np.full(10, 0.1))  # 5% of 9 steps: one
    assert advise(short, [dataclasses.replace(blowup, start_step=0, end_step=9)], 0.05, AdviceConfig()) == [
        "the trouble starts in the first steps: besides a lower rate, add a linear warmup over the first ~1 step "
        "(5% of the run) to 0.05"
    ]
    stall = Finding("plateau", "warning", 2, 299, "", suggests="too_high")
    assert advise(constant, [stall], None, AdviceConfig()) == []  # stuck from the start: a lower rate, not a decay
    late_stall = dataclasses.replace(stall, start_step=150)
    assert advise(constant, [late_stall], None, AdviceConfig())[0].startswith("progress stalls from step 150")
    # The decay is to a tenth of the rate, but no higher than the rate recommended for the whole run
    # (0.005 here, not 0.1 / 10); and a run that broke (a divergence error: a dead network) is not
    # told to decay.
    assert "decay the rate there to 0.005 " in advise(constant, [late_stall], 0.005, AdviceConfig())[0]
    dead = Finding("divergence", "error", 150, 299, "", suggests="too_high")
    assert advise(constant, [late_stall, dead], 0.005, AdviceConfig()) == []
    warm = signals(steps, values, steps, np.minimum(0.1, 0.1 * (steps + 1) / 20))  # at 95% of its peak from step 18
    short = signals(steps, values, steps, np.minimum(0.1, 0.1 * (steps + 1) / 10))  # 95% of its peak from step 9
    assert advise(short, [dataclasses.replace(blowup, start_step=18)], None, AdviceConfig()) != []
    assert advise(short, [dataclasses.replace(blowup, start_step=25)], None, AdviceConfig()) == []  # not just after
    (longer,) = advise(warm, [dataclasses.replace(blowup, start_step=24)], None, AdviceConfig())
    assert longer.startswith(
        "the trouble starts at step 24, just after the warmup ended at step 18: lengthen it (to ~36 steps)"
    )


def test_slow_progress_is_said_by_the_signs_that_hold() -> None:
    """A run that shed 10% of its loss in its first steps, then held: slow by how little it shed,
    not by its timing ("the run took 3% of its length to make 90% of its progress" had been said)."""
    steps = np.arange(300, dtype=float)
    values = 2.0 - 0.2 * (1 - np.exp(-steps / 3))
    sig = signals(steps, values)
    (slow,) = [f for f in detect_all(sig, DetectConfig()) if f.pathology == "slow_convergence"]
    assert slow.message.startswith("loss came down only 10%") and "of its length" not in slow.message


# A training loss falling steadily (a rate too low) beside a flat, noisy validation loss with one
# evaluation that came out low at epoch 5.
NOISY_VAL = [2.248, 2.284, 2.223, 2.474, 2.255, 1.988, 2.251, 2.148, 2.158, 2.174, 2.271, 2.442]
NOISY_VAL += [2.344, 2.348, 2.19, 2.23, 2.197, 2.287, 2.145, 2.354, 2.195, 2.293, 2.444, 2.28]


def test_a_noisy_validation_drift_leaves_slow_convergence_standing() -> None:
    """Measured from the lone low point the climb looked steady (Kendall tau 0.33, +19%); its trend
    climbs 10%. Overfitting or not, so small a climb does not outweigh a training loss falling
    steadily: slow convergence stays (dropped, it had turned an unknown verdict into too high).
    A flat curve with one low evaluation is no overfitting at all."""
    epochs = np.arange(24.0)
    train = 2.29 - 0.021 * epochs
    sig = signals(epochs, train, val=(epochs, np.array(NOISY_VAL)), step_kind="epoch")
    found = {f.pathology: f for f in detect_all(sig, CFG)}
    assert "slow_convergence" in found and found["overfitting"].evidence["trend_rise"] < 0.2
    flat = 2.25 + 0.001 * epochs  # a climb of 1%: steady, but no overfitting
    flat[5] = 1.99
    sig = signals(epochs, train, val=(epochs, flat), step_kind="epoch")
    assert "overfitting" not in {f.pathology for f in detect_all(sig, CFG)}


def test_overfitting_from_the_first_evaluation_of_an_epoch_log() -> None:
    """A fine-tune evaluated at the end of each epoch, lowest at its first evaluation: on an axis of
    epochs (or of epoch means) that evaluation came after training began."""
    epochs = np.arange(10.0)
    train = 0.5 * 0.75**epochs
    val = 0.4 + 0.03 * epochs
    for sig in (
        signals(epochs, train, val=(epochs, val), step_kind="epoch"),
        signals(epochs * 22 + 21, train, val=(epochs * 22 + 21, val), epoch_means=True),
    ):
        (f,) = [f for f in detect_all(sig, CFG) if f.pathology == "overfitting"]
        assert f.start_step == sig.steps[0]
        assert not [f for f in detect_all(sig, CFG) if f.pathology == "slow_convergence"]
    assert not [f for f in detect_all(signals(epochs, train, val=(epochs, val)), CFG) if f.pathology == "overfitting"]


def test_an_evaluation_before_training_is_still_no_best_to_overfit_from() -> None:
    """Epoch means with an evaluation before the first update (the Trainer's eval_on_start, a
    Lightning validate() first): lowest there, the rate made things worse; it is not overfitting."""
    epochs = np.arange(1.0, 11.0)
    train = 0.5 * 0.75**epochs
    val = 0.45 + 0.03 * epochs
    steps = epochs * 22
    sig = signals(steps, train, val=(np.r_[0.0, steps], np.r_[0.4, val]), epoch_means=True)
    assert not [f for f in detect_all(sig, CFG) if f.pathology == "overfitting"]


def test_epoch_means_whose_validation_ended_far_above_its_evaluation_before_training_diverged() -> None:
    """The first epoch mean comes after an epoch of updates, so the training loss has no start to
    end above: an evaluation before training is the start, as in a log that begins late."""
    epochs = np.arange(1.0, 11.0)
    train = 40.0 * 0.9**epochs  # the mean of a blown-up first epoch, falling slowly after it
    val = 30.0 - epochs
    for sig in (
        signals(epochs * 22, train, val=(np.r_[0.0, epochs * 22], np.r_[2.0, val]), epoch_means=True),
        signals(epochs, train, val=(np.r_[0.0, epochs], np.r_[2.0, val]), step_kind="epoch"),
    ):
        (div,) = [f for f in detect_all(sig, CFG) if f.pathology == "divergence"]
        assert div.severity == "error" and "validation loss ended above where it started" in div.message
        assert f"(2 at {sig.unit} 0 -> 20, +900%), never below it;" in div.message
        assert f"first point, at {sig.unit} {fmt_step(sig.steps[0])}, is the mean of the first epoch" in div.message
    # The same means with no evaluation before training show no start level to judge them by.
    sig = signals(epochs * 22, train, val=(epochs * 22, val), epoch_means=True)
    assert not [f for f in detect_all(sig, CFG) if f.pathology == "divergence"]


def test_epoch_means_overfitting_from_the_first_epoch_did_not_diverge() -> None:
    """The training loss falls 0.51 -> 0.02 while the validation loss, 0.70 before training, dips
    to 0.66 after the third epoch and climbs to 1.18: overfitting, not a divergence, though it
    never came 10% below its evaluation before training."""
    epochs = np.arange(1.0, 31.0)
    train = 0.02 + 0.49 * np.exp(-(epochs - 1) / 6)
    val = 0.66 + 0.52 * np.clip(epochs - 3, 0, None) / 27 + 0.03 * (epochs < 3)
    for sig in (
        signals(epochs, train, val=(np.r_[0.0, epochs], np.r_[0.70, val]), step_kind="epoch"),
        signals(epochs * 22, train, val=(np.r_[0.0, epochs * 22], np.r_[0.70, val]), epoch_means=True),
    ):
        found = {f.pathology: f for f in detect_all(sig, CFG)}
        assert "divergence" not in found and "overfitting" in found


def test_sentences_say_which_way_a_small_change_went() -> None:
    """'1.387 -> 1.388, -0.1% lower' read as nonsense: a rise is said as one, and so is a validation
    loss that ends below the training loss."""
    from lrdoctor.verdict import _phrase

    rng = np.random.default_rng(0)
    values = 1.387 + 0.01 * rng.standard_normal(300)
    values[-20:] = 1.388
    values[0] = 1.387
    (plateau,) = found(np.arange(300.0), values)["plateau"]
    assert "(1.387 -> 1.388, 0.1% higher)" in plateau.message
    assert (
        _phrase("val_gap", -0.15)
        == "the validation loss ends below the training loss by 15% of the training loss's start"
    )
    assert (
        _phrase("val_gap", 0.19)
        == "the validation loss ends above the training loss by 19% of the training loss's start"
    )


def test_a_lean_to_too_high_against_the_only_findings_settles_nothing(tmp_path) -> None:
    """A run at 1e-5, far too low, printed to two decimals: its loss stands at 2.33 +- 0.04, the
    validation loss creeps down (2.33 to 2.31). The statistics of that rounded noise lean to too
    high (0.95) while the only finding, a plateau creeping down, points to a rate too low: it had
    been told to cut its rate 19x; the verdict is unknown, saying why."""
    from lrdoctor import load

    train = [
        [2.33, 2.35, 2.33, 2.35], [2.34, 2.37, 2.27, 2.31], [2.37, 2.34, 2.33, 2.27], [2.25, 2.34, 2.31, 2.31],
        [2.36, 2.32, 2.31, 2.36], [2.39, 2.32, 2.37, 2.36], [2.33, 2.35, 2.36, 2.28], [2.32, 2.33, 2.27, 2.31],
        [2.34, 2.31, 2.32, 2.35], [2.34, 2.32],
    ]  # fmt: skip
    val = [2.33, 2.32, 2.32, 2.32, 2.32, 2.32, 2.32, 2.32, 2.31, 2.31]
    lines = []
    for epoch, (losses, v) in enumerate(zip(train, val, strict=True), start=1):
        lines += [f"epoch: {epoch}, batch: {10 * (k + 1)}/42, loss = {x:.2f}" for k, x in enumerate(losses)]
        lines.append(f"epoch: {epoch}, val loss = {v:.2f}, val acc = 0.08")
    path = tmp_path / "train.log"
    path.write_text("\n".join(lines) + "\n")
    dx = diagnose(load(path))
    assert [f.suggests for f in dx.findings if f.severity != "info"] == ["too_low"]
    assert dx.verdict == "unknown"
    assert "lean to too high" in dx.why and "the evidence disagrees" in dx.why


def test_a_validation_gap_against_the_training_losss_own_sign_settles_nothing() -> None:
    """A fine-tune whose training loss still falls steadily (2.17 to 1.60 over 20 epochs: slow
    convergence, a sign of a rate too low) while its validation loss stays far above (2.7 to 3.7):
    the model leans too high on the validation statistics alone, against the training loss's
    sign. It had been told to cut its rate 30x; the verdict is unknown, saying why."""
    from lrdoctor.verdict import VerdictConfig, decide, explain

    train = [
        2.175,
        2.143,
        2.090,
        2.054,
        2.043,
        1.975,
        1.948,
        1.925,
        1.879,
        1.869,
        1.826,
        1.779,
        1.762,
        1.741,
        1.729,
        1.709,
        1.650,
        1.634,
        1.630,
        1.596,
    ]
    val = [
        2.867,
        2.889,
        3.031,
        2.878,
        3.069,
        3.185,
        3.089,
        2.852,
        2.853,
        2.729,
        2.860,
        3.351,
        2.917,
        3.228,
        2.882,
        2.905,
        2.911,
        3.660,
        2.888,
        2.992,
    ]
    epochs = np.arange(20.0)
    sig = signals(epochs, np.array(train), val=(epochs, np.array(val)), step_kind="epoch")
    findings = detect_all(sig, CFG)
    assert any(f.pathology == "slow_convergence" and f.severity == "warning" for f in findings)
    assert decide(sig, findings, VerdictConfig()) == ("unknown", 0.0)  # (no verdict, no confidence in one)
    assert "while the training loss shows slow convergence" in explain(sig, findings, "unknown", VerdictConfig())


def _epochs(first: float, rest: float, n: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """One point per epoch: a first epoch's mean `first` times the second's, then a steady fall of
    `rest` times over the remaining epochs."""
    later = 2.0 * np.geomspace(1.0, 1.0 / rest, n - 1) * np.exp(0.02 * np.random.default_rng(4).standard_normal(n - 1))
    return np.arange(1.0, n + 1), np.concatenate([[first * later[0]], later])


def test_a_first_epoch_that_blew_up_is_a_divergence() -> None:
    steps, values = _epochs(1e5, 4.0)
    (div,) = found(steps, values)["divergence"]
    assert div.severity == "error" and div.suggests == "too_high" and "blew up before the second point" in div.message
    assert div.evidence["first_fall"] > 9e4 and 3 < div.evidence["rest_fall"] < 5
    assert diagnose_arrays(steps, values).verdict == "too_high"
    # As few points as a curve needs no shape for (the short-log path) say it too.
    (div,) = found(steps[:5], values[:5])["divergence"]
    assert "blew up before the second point" in div.message


@pytest.mark.parametrize(
    ("first", "rest", "n"),
    [
        (115.0, 1.5, 20),  # a fast first epoch (the corpus's healthy runs fell at most 115x in theirs)
        (1e4, 1e3, 20),  # a run that went on falling about as far: a high initial loss, learnt away
        (1e5, 4.0, 200),  # a long log of steps: its first point is one minibatch, the curve's rules read it
    ],
)
def test_what_is_not_a_first_epoch_that_blew_up(first: float, rest: float, n: int) -> None:
    steps, values = _epochs(first, rest, n)
    assert "blew up before the second point" not in str(found(steps, values).get("divergence", []))


def _first_falls(steps: np.ndarray, values: np.ndarray, val: tuple[np.ndarray, np.ndarray] | None = None) -> list:
    return [f for f in detect_all(signals(steps, values, val=val), CFG) if "blew up before" in f.message]


@pytest.mark.parametrize("n", [20, 5])  # with a curve, and too short for one
def test_a_high_first_point_under_a_high_validation_loss_before_training_is_a_high_initial_loss(n: int) -> None:
    steps, values = _epochs(1e5, 4.0, n)
    before = (np.arange(0.0, n + 1), np.concatenate([[values[0] * 2], values[1:] * 1.1, [values[-1]]]))
    assert not _first_falls(steps, values, before)
    # Evaluated at the end of each epoch (Keras, Lightning), from the first point's own step: the
    # first evaluation came after the epoch that blew up, not before training.
    after = (steps, np.concatenate([[values[0] * 2], values[1:] * 1.1]))
    assert _first_falls(steps, values, after)


def test_a_log_of_every_kth_step_from_step_0_holds_the_initial_loss_first() -> None:
    # A regression on raw targets, evaluated at step 0 and every 200 steps: learning the offset
    # takes the loss down 1000x by step 200. Its first point is one loss before any update.
    _, values = _epochs(1e5, 4.0)
    assert not _first_falls(200.0 * np.arange(20.0), values)
    # The same points 200 steps apart from step 200 (a mean of the first 200 steps, as the HF
    # Trainer logs) are a blow-up's mean.
    assert _first_falls(200.0 * np.arange(1.0, 21.0), values)


def test_a_first_epoch_that_blew_up_into_a_flat_line_says_so() -> None:
    values = np.r_[1e6, np.full(19, 2.0)]
    (f,) = _first_falls(np.arange(1.0, 21.0), values)
    assert "500000x the next" in f.message and "never went below that again" in f.message


def test_a_first_epoch_that_blew_up_and_a_network_that_learnt_nothing_after_it() -> None:
    # 75x, then flat within 5%: the digits MLP with Adam at 1, logged as Lightning's epoch means
    # (184, then 2.45 to 2.34, at chance), was "ok": its loss came down 99% from its start.
    steps, values = _epochs(75.0, 1.05)
    (div,) = found(steps, values)["divergence"]
    assert div.severity == "error" and "learnt nothing after it" in div.message
    assert diagnose_arrays(steps, values).verdict == "too_high"
    # A first fall under 20x, or a run that went on to fall 1.44x more (the least that the corpus's
    # healthy runs whose first point was 10x their second fell), is not one.
    assert not _first_falls(*_epochs(15.0, 1.05))
    assert not _first_falls(*_epochs(75.0, 1.44))
    # At the edge: the rest falling 1.08x further is flat, 1.12x is not.
    flat = np.r_[150.0, 2.0 / np.linspace(1.0, 1.08, 19)]
    assert "learnt nothing after it" in str(_first_falls(np.arange(1.0, 21.0), flat))
    assert not _first_falls(np.arange(1.0, 21.0), np.r_[150.0, 2.0 / np.linspace(1.0, 1.12, 19)])


def test_a_plateau_above_the_best_is_not_read_off_one_minibatch_at_the_end() -> None:
    # Every 25th minibatch loss of a healthy corpus run (cancer_mlp, SGD at 0.01, within its sweep's
    # tolerance): 16 points, whose last tenth is the last point alone, a heavy-tailed draw 5x the
    # trend's best. It read as a loss that stopped improving and gave back 23% of its progress.
    values = np.array(
        [0.662, 0.197, 0.184, 0.059, 0.059, 0.033, 0.082, 0.041, 0.044, 0.179, 0.035, 0.046, 0.077, 0.029, 0.032, 0.181]
    )
    steps = 25.0 * np.arange(16)
    assert "plateau" not in found(steps, values)
    # The same run ending on five points back at 0.18: it gave its progress back.
    (plateau,) = found(steps, np.r_[values[:-5], [0.18, 0.2, 0.17, 0.19, 0.181]])["plateau"]
    assert plateau.suggests == "too_high" and "median of the last 5 points" in plateau.message


def test_a_first_epoch_that_blew_up_is_found_in_a_long_log_of_epochs() -> None:
    # 120 epochs (a Keras CSVLogger's rows): more points than a log of steps is read for.
    steps, values = _epochs(1e5, 4.0, 120)
    sig = signals(steps - 1, values, step_kind="epoch")
    (div,) = [f for f in detect_all(sig, CFG) if f.pathology == "divergence"]
    assert "blew up before the second point" in div.message and "at epoch 0" in div.message


def test_a_climb_over_the_last_two_epochs_is_still_a_plateau_above_the_best() -> None:
    # A Keras run stopped by EarlyStopping as its loss blew up: 17 epochs down to 0.19, then 1.2
    # and 1.8. The median of the last five points is still low; the lower of the last two is not.
    values = np.r_[2.0 * np.geomspace(1.0, 0.093, 17), [1.2, 1.8]]
    sig = signals(np.arange(19.0), values, step_kind="epoch")
    (plateau,) = [f for f in detect_all(sig, CFG) if f.pathology == "plateau"]
    assert plateau.suggests == "too_high" and "the lower of its last 2 points" in plateau.message
    assert plateau.evidence["end"] == 1.2


def test_a_long_logs_plateau_says_its_end_level_is_the_last_tenth_of_the_run() -> None:
    rng = np.random.default_rng(0)
    steps = np.arange(100_000.0)
    level = 3 * np.exp(-steps / 8000) + 0.5 + np.where(steps > 70_000, (steps - 70_000) / 30_000 * 1.2, 0.0)
    (plateau,) = found(steps, level * np.exp(0.1 * rng.standard_normal(len(steps))))["plateau"]
    assert "(median of the last tenth of the run)" in plateau.message


def test_a_first_point_on_an_axis_of_fractional_epochs_is_not_read_as_an_epochs_mean() -> None:
    # HF Trainer console lines with logging_first_step: epoch 0.0004 is step 1, the initial loss
    # (a regression on raw targets, 90000), then every 10 steps; 120 of them.
    values = np.r_[9e4, 60.0 * np.geomspace(1.0, 0.5, 119)]
    epochs = np.r_[0.0004, 0.004 * np.arange(1.0, 120.0)]
    assert not _first_falls_on(epochs, values, "epoch")
    # Whole epochs (a Keras log of 120): the first is the first epoch's mean.
    assert _first_falls_on(np.arange(120.0), values, "epoch")


def _first_falls_on(steps: np.ndarray, values: np.ndarray, step_kind: str) -> list:
    return [f for f in detect_all(signals(steps, values, step_kind=step_kind), CFG) if "blew up before" in f.message]


@pytest.mark.parametrize("fell_to", [1.9, 1.7, 1.5])
def test_a_run_that_learnt_and_went_back_to_its_start_lost_it(fell_to: float) -> None:
    """Real digits MLPs at 3x-10x their best SGD rate came down 18-34% and went back to chance,
    where they stayed, after a spike that came after the learning or before it: called unknown
    ("a flat line from its start"), or given a plateau 'creeping down' that pointed to a rate too
    low. Here the spike comes first, then the learning, then the fall back (a dead classifier's
    output bias creeps to the class prior)."""
    rng = np.random.default_rng(1)
    steps = np.arange(300.0)
    learnt = np.interp(steps, [0, 60, 100, 130, 299], [2.30, fell_to, fell_to, 2.45, 2.31])
    values = learnt + 0.04 * rng.standard_normal(300)
    values[25] = 8.3
    (div,) = found(steps, values)["divergence"]
    assert div.severity == "error" and div.suggests == "too_high" and "lost what it had learnt" in div.message
    assert not any("stayed near its initial level" in p.message for p in found(steps, values).get("plateau", []))
    # Without a blow-up on the way it is not said (a GAN's discriminator loss comes back to its
    # even odds so).
    calm = learnt + 0.04 * rng.standard_normal(300)
    assert "lost what it had learnt" not in str(found(steps, calm).get("divergence", []))
    # A run that learnt and stayed learnt, or came back only part of the way, lost nothing.
    kept = np.interp(steps, [0, 60, 299], [2.30, fell_to, fell_to - 0.1]) + 0.04 * rng.standard_normal(300)
    assert "divergence" not in found(steps, kept)
    half = np.interp(steps, [0, 60, 130, 299], [2.30, fell_to, (2.30 + fell_to) / 2, (2.30 + fell_to) / 2])
    assert "divergence" not in found(steps, half + 0.04 * rng.standard_normal(300))


def test_a_blow_up_that_came_back_to_a_plateau_and_learnt_nothing_more_did_not_recover() -> None:
    """Epoch means of a classifier at 2x its best rate: a blown-up first epoch (4.5e10, then 2e27),
    then 0.91 and flat at 0.8, worse than chance. The end is far below that start, but the run
    learnt nothing once back: an error, not a recovered blow-up."""
    steps = np.arange(40.0)
    rng = np.random.default_rng(0)
    values = np.r_[[4.5e10, 2e27, 4.3e21], 0.8 + 0.05 * rng.standard_normal(37)]
    values[3] = 0.91
    (div,) = found(steps, values)["divergence"]
    assert div.severity == "error" and div.evidence["recovered"] is False
    # One that went on learning once back recovered (a regression that blew up at its first updates).
    learning = np.r_[[4.5e10, 2e27, 4.3e21], 0.9 * np.exp(-np.arange(37) / 8) + 0.01]
    (div,) = found(steps, learning)["divergence"]
    assert div.severity == "warning" and div.evidence["recovered"] is True


def _printed_unit_reference(values: np.ndarray) -> float:
    for digits in range(13):
        unit = 10.0**-digits
        scaled = values / unit
        if scaled.max() > 1e6:
            return 0.0
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-6):
            return unit
    return 0.0


@pytest.mark.parametrize("n", [3, 999, 1000, 1001, 50_000])
@pytest.mark.parametrize("decimals", [None, 1, 4, 6, 8])
def test_the_printed_unit_read_off_the_head_first_is_the_whole_logs(n: int, decimals: int | None) -> None:
    """The unit a recorded rate is printed to is read off its first values before the whole log
    (a 10^7-step cosine took 13 passes): the same answer, including where only a late value breaks it."""
    from lrdoctor.detect.lr import _printed_unit

    values = np.cos(np.linspace(0, np.pi / 2, n)) * 1e-3 + 1e-9
    if decimals is not None:
        values = np.round(values, decimals)
    assert _printed_unit(values) == _printed_unit_reference(values)
    late = values.copy()
    late[-1] += 1.234567891e-9  # one value, past the head, off every grid
    assert _printed_unit(late) == _printed_unit_reference(late)


def test_a_spike_at_the_first_updates_the_loss_never_came_back_below_is_a_divergence() -> None:
    """A digits MLP at 10x its best SGD rate: 2.3, a jump to 108 at step 5, then 10-30% above its
    start to the end; no explosion (under 100x), no stretch 1.5x above the start: it was unknown."""
    rng = np.random.default_rng(0)
    steps = np.arange(300.0)
    swings = 2.6 + 0.3 * (-1.0) ** np.arange(294) + 0.02 * rng.standard_normal(294)  # wide minibatch swings
    values = np.r_[[2.30, 2.27, 2.23, 2.06, 4.6, 108.0], swings]
    (div,) = found(steps, values)["divergence"]
    assert div.severity == "error" and "never came back below it" in div.message
    # A spike the loss came back below its start from is no divergence (a warning at most).
    learnt = np.r_[[2.30, 2.27, 2.23, 2.06, 4.6, 108.0], 0.3 + 1.5 * np.exp(-np.arange(294) / 40)]
    assert not any(f.severity == "error" for f in found(steps, learnt).get("divergence", []))


def _cosine(kind: str, seed: int) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """A 400-step run under a linear warmup (20 steps) and a cosine decay to 0. `high`: the loss
    sits on a floor the rate holds it on, and falls only as the rate decays (the annealing a rate
    above what the loss can use shows); `low`: it falls in proportion to the rate, by the area
    under it, so it slows as the rate decays."""
    rng = np.random.default_rng(seed)
    steps = np.arange(400.0)
    lr = np.where(steps < 20, (steps + 1) / 20, 0.5 * (1 + np.cos(np.pi * (steps - 20) / 380)))
    if kind == "high":  # (a floor that the rate holds the loss on while it is above 60% of its peak)
        level = 0.5 + 1.2 * np.minimum(lr, 0.6) / 0.6 + 1.0 * np.exp(-steps / 10)
    else:
        level = 0.5 + 1.8 * np.exp(-np.cumsum(lr) / 2000)
    return steps, level * np.exp(0.03 * rng.standard_normal(400)), (steps, 0.1 * lr)


@pytest.mark.parametrize("seed", range(3))
def test_a_loss_that_fell_faster_once_the_rate_decayed_is_no_slow_run(seed: int) -> None:
    from lrdoctor.detect.lr import faster_once_decayed

    steps, values, lr = _cosine("high", seed)
    sig = signals(steps, values, *lr)
    gain = faster_once_decayed(sig.curve, sig.lr)
    assert gain is not None and gain["slope_decayed"] > gain["slope_at_peak"]
    assert "slow_convergence" not in found(steps, values, lr)
    # Without the recorded rate the same loss reads as still falling at the end: a slow run.
    assert "slow_convergence" in found(steps, values)
    # A rate too low slows down as it decays: its slow run stands, read as without the rate.
    steps, values, lr = _cosine("low", seed)
    sig = signals(steps, values, *lr)
    assert faster_once_decayed(sig.curve, sig.lr) is None
    (slow,) = found(steps, values, lr)["slow_convergence"]
    assert slow.suggests == "too_low"


def test_a_validation_loss_that_came_down_and_levelled_off_rules_out_a_slow_run() -> None:
    # A training loss still falling steadily at the end (as a rate too low leaves it), beside a
    # validation loss that came down 30% and has been flat for the last half of the run: more
    # steps at a higher rate would not bring the held-out loss down (a loss floor, a noisy task).
    rng = np.random.default_rng(0)
    epochs = np.arange(24.0)
    train = 2.29 - 0.021 * epochs
    val = 1.6 + 0.7 * np.exp(-epochs / 3) + 0.005 * rng.standard_normal(24)
    found = {f.pathology for f in detect_all(signals(epochs, train, val=(epochs, val), step_kind="epoch"), CFG)}
    assert "slow_convergence" not in found
    # Still falling at the end, it confirms the slow run.
    val = 2.3 - 0.02 * epochs + 0.005 * rng.standard_normal(24)
    (slow,) = [
        f
        for f in detect_all(signals(epochs, train, val=(epochs, val), step_kind="epoch"), CFG)
        if f.pathology == "slow_convergence"
    ]
    assert slow.suggests == "too_low"
    # Too few evaluations to read an end from: the training loss's shape stands.
    few = np.arange(0.0, 24.0, 5.0)
    found = {
        f.pathology
        for f in detect_all(signals(epochs, train, val=(few, 1.6 + 0.7 * np.exp(-few / 3)), step_kind="epoch"), CFG)
    }
    assert "slow_convergence" in found


def test_a_rate_too_low_is_no_verdict_for_a_loss_that_ended_above_its_start() -> None:
    """SGD at 50x its best rate on the digits jumped 5x at its first updates and swung above its
    start to the end, short of every divergence rule; the statistics leaned to too low (0.97) and
    the run was told to raise its rate 3160x. A rate too low moves a loss down, however little:
    without a finding of a rate too low, such a lean is "unknown"."""
    from lrdoctor.detect import LOG_KINDS
    from lrdoctor.verdict import CLASSES, FEATURES, VerdictConfig, VerdictModel, decide

    n = len(FEATURES)
    leans_low = VerdictModel(
        mean=(0.0,) * n,
        scale=(1.0,) * n,
        weights=tuple((10.0 if c == "too_low" else 0.0,) + (0.0,) * n for c in CLASSES),
    )
    cfg = VerdictConfig(models={kind: leans_low for kind in LOG_KINDS})
    rng = np.random.default_rng(3)
    steps = np.arange(300.0)
    # (wide swings from the jump on, and 8 of 299 later points below the start: no rule settles it)
    noise = np.where(steps < 30, 0.9, 0.25)
    swings = 3.0 + 3.0 * np.exp(-np.maximum(steps - 3, 0) / 12) * (steps >= 3) + noise * rng.standard_normal(300)
    swings[:4] = [2.33, 3.2, 6.5, 12.0]
    swings[[50, 90, 130, 170, 210, 250, 270, 290]] = 2.2
    sig = signals(steps, swings)
    findings = detect_all(sig, CFG)
    assert findings == [] and sig.shape is not None and sig.shape.came_down > 3
    assert decide(sig, findings, cfg)[0] == "unknown"
    # ... while a loss that came down is read by the model as before.
    falling = 2.3 * np.exp(-steps / 400) + 0.02 * rng.standard_normal(300)
    sig = signals(steps, falling)
    assert decide(sig, detect_all(sig, CFG), cfg)[0] == "too_low"


def test_a_loss_that_overflows_to_inf_then_nan_says_both() -> None:
    """An overflow to Inf, then NaN after it (inf - inf): the finding had said the loss was Inf
    'and every value after it'."""
    from lrdoctor.detect.divergence import detect_nonfinite

    loss = np.r_[np.linspace(2.0, 1.0, 8), np.inf, np.nan, np.nan]
    (finding,) = detect_nonfinite(np.arange(11.0), loss)
    assert finding.message == "loss is Inf from step 8 (and non-finite to the end: 2 NaN, 1 Inf)"
    (finding,) = detect_nonfinite(np.arange(10.0), np.r_[np.linspace(2.0, 1.0, 8), np.nan, np.nan])
    assert finding.message == "loss is NaN from step 8 (and every value after it)"


def test_a_short_log_shows_a_nan_was_gone_on_from_in_fewer_points() -> None:
    """Four epochs, 1.2, NaN, 0.8, 0.7: the run went on below where it was, but 3 finite points
    after the NaN were asked for, and the log was told it diverged (too high, exit 1)."""
    dx = diagnose_arrays(np.arange(1.0, 5.0), np.array([1.2, np.nan, 0.8, 0.7]))
    (div,) = [f for f in dx.findings if f.pathology == "divergence"]
    assert div.severity == "warning" and not dx.failed and dx.verdict != "too_high"
    late = diagnose_arrays(np.arange(1.0, 5.0), np.array([1.2, 0.9, np.nan, 0.7]))  # one point after: not enough
    assert late.failed


def _held_out(steps: np.ndarray, train: np.ndarray, val: np.ndarray, **kw) -> list:  # type: ignore[no-untyped-def]
    evals = np.linspace(0.0, float(steps[-1]), len(val))
    return [f for f in detect_all(signals(steps, train, val=(evals, val), **kw), CFG) if f.pathology == "divergence"]


def test_a_validation_loss_that_ended_above_its_evaluation_at_step_0_diverged() -> None:
    """A softmax classifier at 30x its best SGD rate: the minibatch loss fell, then swung around
    1.2x its first value, within one draw's noise; the validation loss, 1.90 at step 0, ended at
    2.43. Training left the model worse on held-out data than no training at all (the corpus: 106
    too high runs, no healthy or too low one); it had been called unknown."""
    rng = np.random.default_rng(0)
    steps = np.arange(1.0, 301.0)
    train = np.where(steps < 15, 1.3, 2.1) + 0.5 * rng.standard_normal(300)
    train[0] = 1.8
    val = np.r_[1.90, 1.84, 2.15, 2.86, 2.6, 2.26, 2.49, 2.72, 2.65, 2.36, 2.25, 2.26, 2.43]
    (div,) = _held_out(steps, train, val)
    assert div.severity == "error" and div.suggests == "too_high"
    assert "(1.9 at step 0 -> " in div.message and "worse on held-out data than no training at all" in div.message
    # Less than 20% above its start: no finding on the held-out loss alone.
    assert not _held_out(steps, train, np.minimum(val, 2.2))


def test_a_validation_loss_that_never_left_its_evaluation_at_step_0_did_not_diverge() -> None:
    """A rate far too low leaves the validation loss at 0.997-1.0x its value before training."""
    steps = np.arange(1.0, 301.0)
    train = 2.30 - 0.001 * steps / 300 + 0.05 * np.random.default_rng(1).standard_normal(300)
    assert not _held_out(steps, train, np.linspace(2.303, 2.301, 12))


def test_a_validation_loss_that_improved_then_overfit_past_its_start_did_not_diverge() -> None:
    """Improved 15% below its evaluation at step 0, then climbed to 1.7x it as the training loss
    fell to a tenth: overfitting, which the overfitting detector reports, not a divergence. An
    evaluation at 'epoch 0' may be the first epoch's end (Keras numbers them so): none there either."""
    steps = np.arange(1.0, 601.0)
    train = 0.05 + 0.65 * np.exp(-steps / 80)
    val = np.r_[0.70, 0.60, 0.58, 0.59, 0.60, np.linspace(0.64, 1.2, 8)]
    assert not _held_out(steps, train, val)
    epochs = np.arange(0.0, 30.0)  # (Keras: the training loss's mean and the evaluation both at epoch 0)
    sig = signals(epochs, 0.05 + 0.65 * np.exp(-epochs / 4), val=(epochs, np.linspace(0.7, 1.5, 30)), step_kind="epoch")
    assert not [f for f in detect_all(sig, CFG) if f.pathology == "divergence"]


def test_a_trend_s_kendall_tau_is_said_as_the_trend_it_measures() -> None:
    """'the trend over the last 30% has Kendall tau -0.99', given as a reason for an ok verdict,
    said nothing a reader could use; the words now say which way the loss went."""
    from lrdoctor.verdict import _phrase

    assert _phrase("tail_tau", -0.99) == "the loss was still falling steadily over the last 30% (Kendall tau -0.99)"
    assert _phrase("tail_tau", 0.05) == "the loss was level over the last 30% (Kendall tau 0.05)"
    assert _phrase("val_tail_tau", 0.4) == "the validation loss was rising over the last 30% (Kendall tau 0.40)"


def test_a_stuck_loss_that_ended_above_its_first_value_is_not_said_to_creep_down() -> None:
    """'(2.322 -> 2.347, 1.1% higher), creeping down' read as a contradiction: where the end
    stands above the first value, the finding says it is the trend that creeps down."""
    from lrdoctor import load
    from lrdoctor.diagnosis import diagnose
    from tests.conftest import SAMPLE_LOGS

    dx = diagnose(load(SAMPLE_LOGS / "json" / "digits_mlp_adam_too_high.json"))
    (stuck,) = [f for f in dx.findings if f.pathology == "plateau"]
    assert "% higher)" in stuck.message and "creeping down" in stuck.message
    assert "), creeping down" not in stuck.message and "though it ended above its first value" in stuck.message


def test_a_verdict_beside_a_warning_that_points_the_other_way_says_why_it_stands() -> None:
    """'ok' above an oscillation WARNING read as a contradiction: the reason says the warning did
    not weigh enough; a warning on the verdict's own side is no such thing."""
    from lrdoctor import load
    from lrdoctor.diagnosis import diagnose
    from tests.conftest import SAMPLE_LOGS

    dx = diagnose(load(SAMPLE_LOGS / "csv" / "diabetes_mlp_sgd_step_decay_ok.tsv"))
    assert dx.verdict == "ok" and any(f.pathology == "oscillation" and f.severity == "warning" for f in dx.findings)
    assert dx.why.endswith("; the oscillation warning below did not weigh enough to change it")
    low = diagnose(load(SAMPLE_LOGS / "keras" / "digits_mlp_sgd_too_low.csv"))
    assert low.verdict == "too_low" and "did not weigh enough" not in low.why


def test_a_short_validation_curve_is_said_over_its_evaluations_not_its_last_30_percent() -> None:
    """Under 12 evaluations the validation trend is read over all of them (features): the reason
    says so, not 'over the last 30%'."""
    from lrdoctor.detect import signals
    from lrdoctor.verdict import _said

    steps = np.arange(200.0)
    train = 2.0 * np.exp(-steps / 60) + 0.1
    short = signals(steps, train, None, None, val=(np.arange(0.0, 200.0, 25.0), np.linspace(1.0, 0.5, 8)))
    assert (
        _said(short, "val_tail_tau", -1.0)
        == "the validation loss was still falling steadily over its 8 evaluations (Kendall tau -1.00)"
    )
    long = signals(steps, train, None, None, val=(np.arange(0.0, 200.0, 10.0), np.linspace(1.0, 0.5, 20)))
    assert "over the last 30%" in _said(long, "val_tail_tau", -1.0)


def test_a_lean_that_no_verdict_came_of_is_not_said_to_outweigh_a_warning() -> None:
    from lrdoctor import load
    from lrdoctor.detect import detect_all
    from lrdoctor.diagnosis import Config, _signals
    from lrdoctor.verdict import explain
    from tests.conftest import SAMPLE_LOGS

    run = load(SAMPLE_LOGS / "csv" / "diabetes_mlp_sgd_step_decay_ok.tsv")
    cfg = Config.default()
    sig = _signals(run)
    findings = detect_all(sig, cfg.detect)
    assert "did not weigh enough" in explain(sig, findings, "ok", cfg.verdict)
    assert "did not weigh enough" not in explain(sig, findings, "ok", cfg.verdict, against=False)
