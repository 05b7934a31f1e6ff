"""The probe's pieces on their own: reading the curve, placing candidates, replaying batches, the bar."""

from __future__ import annotations

import io
import math
import os

import numpy as np
import pytest

from lrdoctor.probe import curve, rates
from lrdoctor.probe.batches import BatchSource, hold_count
from lrdoctor.probe.progress import Progress
from lrdoctor.probe.streams import stdout_to_stderr


def test_ramp_is_exponential_between_the_ends() -> None:
    lrs = curve.ramp(1e-6, 10.0, 8)
    assert lrs[0] == pytest.approx(1e-6) and lrs[-1] == pytest.approx(10.0)
    assert np.allclose(np.diff(np.log10(lrs)), 1.0)


def test_ema_is_bias_corrected() -> None:
    # A constant series averages to itself from the first point on.
    assert np.allclose(curve.ema(np.full(5, 3.0), 0.9), 3.0)
    assert curve.ema(np.array([1.0, 3.0]), 0.5)[1] == pytest.approx((0.25 * 1 + 0.5 * 3) / 0.75)


def test_running_median_ignores_a_single_spike() -> None:
    values = np.array([5.0, 4.0, 3.0, 100.0, 2.0, 1.0, 0.5])
    smooth = curve.running_median(values, 3)
    assert smooth[3] == 3.0 and smooth[0] == 4.5 and smooth[-1] == 0.75


def test_stability_limit_is_the_lowest_point_before_the_rise() -> None:
    lrs = curve.ramp(1e-4, 1.0, 9)  # one point per half decade
    losses = np.array([2.0, 2.0, 1.9, 1.5, 0.9, 0.6, 0.7, 1.5, math.nan])
    assert curve.stability_limit(lrs, losses, window=1) == pytest.approx(1e-4 * 10**2.5)
    assert curve.stability_limit(lrs, np.full(9, math.nan), window=3) == pytest.approx(1e-4)


def test_grid_index_and_rate() -> None:
    assert curve.grid_index(0.05, step=0.5) == -3  # 10**-1.5 = 0.0316 <= 0.05 < 0.1
    assert curve.grid_index(0.1, step=0.5) == -2  # a grid rate is its own index
    assert curve.grid_rate(-3, step=0.5) == pytest.approx(0.0316227766)


def test_walk_range_starts_below_the_limit_inside_the_bounds() -> None:
    # limit 0.05: grid rate 0.0316 (k = -3); one step below is k = -4; 1e-6..10 is k = -12..2.
    assert curve.walk_range(0.05, (1e-6, 10.0), step=0.5, offset=1) == (-4, -12, 2)
    assert curve.walk_range(0.05, (1e-6, 10.0), step=0.5, offset=0) == (-3, -12, 2)
    # A limit at the bottom of the range starts at the lowest grid rate inside it, not below.
    assert curve.walk_range(2e-6, (2e-6, 10.0), step=0.5, offset=1) == (-11, -11, 2)
    # ... and a limit above the range at its highest grid rate.
    assert curve.walk_range(50.0, (1e-6, 3.0), step=0.5, offset=1) == (0, -12, 0)


def test_the_pick_unbracketed_on_a_side_is_said() -> None:
    assert curve.unbracketed({-4: 3.0, -3: 2.0, -2: 1.0}) == [1]  # still improving at the top
    assert curve.unbracketed({-4: 1.0, -3: 2.0, -2: math.inf}) == [-1]  # ... at the bottom
    assert curve.unbracketed({-4: 3.0, -3: 1.0, -2: math.inf}) == []  # a worse rate on each side
    assert curve.unbracketed({-4: 1.0}) == [1, -1]  # the only rate tried


def test_each_group_follows_the_base_rate_as_the_factory_sets_it() -> None:
    # (base rate, each group's rate): a group at lr, one at lr * 10, one at a rate of its own.
    samples = [(1e-6, [1e-6, 1e-5, 1e-3]), (1e-3, [1e-3, 1e-2, 1e-3]), (10.0, [10.0, 100.0, 1e-3])]
    found = rates.rules(samples)
    assert found is not None
    assert rates.at(found, 0.5) == pytest.approx([0.5, 5.0, 1e-3])
    assert rates.at(found, 0.5)[0] == 0.5 and rates.at(found, 7.0)[2] == 1e-3  # exactly
    # A group that is neither a multiple of the base rate nor fixed (a floor): asked each time.
    assert rates.rules([(1e-6, [1e-6, 1e-4]), (1e-3, [1e-3, 1e-3]), (10.0, [10.0, 10.0])]) is None


def _walk(losses: dict[int, float], start: int, lowest: int = -12, highest: int = 2) -> list[int]:
    """The grid indices the walk visits when index k scores losses[k]."""
    scores: dict[int, float] = {}
    while (k := curve.next_index(scores, start=start, lowest=lowest, highest=highest)) is not None:
        scores[k] = losses[k]
    return list(scores)


def test_the_walk_climbs_while_the_top_rate_is_best() -> None:
    bowl = {k: (k + 3) ** 2 for k in range(-12, 3)}  # lowest at k = -3
    assert _walk(bowl, start=-6) == [-6, -5, -4, -3, -2]


def test_the_walk_descends_while_the_bottom_rate_is_best() -> None:
    bowl = {k: (k + 8) ** 2 for k in range(-12, 3)}  # lowest at k = -8
    assert _walk(bowl, start=-5) == [-5, -4, -6, -7, -8, -9]


def test_the_walk_descends_past_diverged_rates_and_stops_at_the_bounds() -> None:
    diverged = {k: math.inf for k in range(-12, 3)}
    assert _walk(diverged, start=-10) == [-10, -9, -11, -12]
    bowl = {k: (k + 3) ** 2 for k in range(-12, 3)}
    assert _walk(bowl, start=-6, highest=-5) == [-6, -5]


def test_vertex_shift_moves_toward_the_better_neighbour() -> None:
    # Parabola through (-1, 2), (0, 1), (1, 1.5): vertex at +0.1667 grid steps.
    assert curve.vertex_shift({-1: 2.0, 0: 1.0, 1: 1.5}, 0, fraction=1.0) == pytest.approx(1 / 6)
    assert curve.vertex_shift({-1: 2.0, 0: 1.0, 1: 1.5}, 0, fraction=0.5) == pytest.approx(1 / 12)
    assert curve.vertex_shift({-1: 2.0, 0: 1.0, 1: 1.0001}, 0, fraction=1.0) == pytest.approx(0.5, abs=1e-3)
    assert curve.vertex_shift({-1: 2.0, 0: 1.0}, 0, fraction=1.0) == 0.0  # a neighbour missing
    assert curve.vertex_shift({-1: 2.0, 0: 1.0, 1: math.inf}, 0, fraction=1.0) == 0.0


def test_the_rate_below_the_best_is_taken_when_it_scored_nearly_as_well() -> None:
    scores = {-3: 0.52, -2: 0.50, -1: 0.60}
    assert curve.lower_if_close(scores, -2, within=0.05) == -3  # 4% worse: the lower rate
    assert curve.lower_if_close(scores, -2, within=0.03) == -2
    assert curve.lower_if_close({-2: 0.50, -1: 0.60}, -2, within=0.05) == -2  # nothing tried below
    assert curve.lower_if_close({-3: math.inf, -2: 0.50}, -2, within=0.05) == -2  # below diverged
    # A score below zero (a negative log-likelihood) compares by its size, not its sign.
    assert curve.lower_if_close({-3: -0.98, -2: -1.00}, -2, within=0.05) == -3
    assert curve.lower_if_close({-3: -0.90, -2: -1.00}, -2, within=0.05) == -2
    # Given the initial weights' score, the lower rate must also have made half the best's gain:
    # trials that barely moved the loss (12.6356 at the start) all score within 5% of each other.
    barely = {-5: 12.6348, -4: 12.6339, -3: 12.6310}
    assert curve.lower_if_close(barely, -3, within=0.05) == -4
    assert curve.lower_if_close(barely, -3, within=0.05, start=12.6356, gain_share=0.5) == -3
    assert curve.lower_if_close(scores, -2, within=0.05, start=2.3, gain_share=0.5) == -3  # 0.50 and 0.52 from 2.3
    assert curve.lower_if_close(scores, -2, within=0.05, start=0.51, gain_share=0.5) == -2  # no gain to share


def test_the_pick_goes_below_a_near_tie_with_the_configured_margin() -> None:
    from lrdoctor.probe.config import ProbeConfig
    from lrdoctor.probe.result import Trial
    from lrdoctor.probe.search import _pick

    trials = [Trial(lr=10 ** (k / 2), loss=v, steps=50) for k, v in ((-5, 0.52), (-4, 0.50), (-3, 0.70))]
    assert _pick(trials, ProbeConfig()) == pytest.approx(10**-2.5)
    assert _pick(trials, ProbeConfig(lower_within=0.0)) == pytest.approx(10**-2.0)


def test_the_method_says_how_the_pick_was_read() -> None:
    from lrdoctor.probe.config import ProbeConfig
    from lrdoctor.probe.search import _pick_text

    assert _pick_text(ProbeConfig()) == (
        "the best-scoring rate, or the rate below it where that scored within 5% of it and made 50% of its gain on "
        "the initial weights"
    )
    assert _pick_text(ProbeConfig(lower_within=0.0)) == "the best-scoring rate"
    assert "within 2.5% of it and made 50% of its gain on the initial weights, moved 0.5 of the way" in _pick_text(
        ProbeConfig(lower_within=0.025, interpolate=0.5)
    )


def test_the_note_of_an_unbracketed_best_names_it_when_the_pick_is_below_it() -> None:
    from lrdoctor.probe.config import ProbeConfig
    from lrdoctor.probe.result import Trial
    from lrdoctor.probe.search import _beyond, _pick

    # The walk stopped with its highest rate the best; the one below scored within 5% of it.
    trials = [Trial(lr=10 ** (k / 2), loss=v, steps=50) for k, v in ((-6, 0.9), (-5, 0.52), (-4, 0.50))]
    pick = _pick(trials, ProbeConfig())
    assert pick == pytest.approx(10**-2.5)
    (note,) = _beyond(trials, pick, 1.0, (1e-6, 10.0), ProbeConfig())
    assert note.startswith("the best-scoring rate 0.01 (the pick, 0.00316, is the rate below it")
    assert "is the highest rate tried, still the best" in note


def test_divergence_stop() -> None:
    assert curve.diverged(math.inf, 1.0, factor=4.0)
    assert curve.diverged(4.1, 1.0, factor=4.0) and not curve.diverged(3.9, 1.0, factor=4.0)
    assert not curve.diverged(2.0, math.inf, factor=4.0)


def test_batch_source_holds_back_the_first_batches_and_replays_the_rest() -> None:
    data = list(range(20))
    src = BatchSource(data, hold=2, cache_bytes=1 << 20)
    assert list(src.sequence(5)) == [2, 3, 4, 5, 6]
    assert src.held == [0, 1]
    # Every trial sees the same sequence; past the first pass, whole passes follow.
    assert list(src.sequence(22)) == [*range(2, 20), 0, 1, 2, 3]
    assert list(src.sequence(3)) == [2, 3, 4]


def test_batch_source_with_too_few_batches_scores_on_them() -> None:
    src = BatchSource([7], hold=1, cache_bytes=1 << 20)
    assert list(src.sequence(3)) == [7, 7, 7] and src.held == [7]
    assert "only 1 minibatch" in src.notes[0]


def test_hold_count_is_a_tenth_between_one_and_the_cap() -> None:
    assert hold_count(list(range(22)), most=8) == 2
    assert hold_count(list(range(3)), most=8) == 1
    assert hold_count(list(range(1000)), most=8) == 8
    assert hold_count(iter([]), most=8) == 8  # no length: the cap


def test_progress_bar_draws_on_one_line() -> None:
    out = io.StringIO()
    bar = Progress(10, stream=out, enabled=True, width=10)
    bar.advance(5, label="trial lr=0.01")
    assert bar.line() == "[#####.....] 5/10 steps  trial lr=0.01"
    bar.close()
    assert out.getvalue().startswith("\r[#####") and out.getvalue().endswith("\n")
    quiet = io.StringIO()
    Progress(10, stream=quiet).advance(3, label="x")  # not a terminal: nothing drawn
    assert quiet.getvalue() == ""


def test_stdout_is_standard_error_inside_and_comes_back_on_ctrl_c(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(KeyboardInterrupt), stdout_to_stderr():
        os.write(1, b"inside\n")
        raise KeyboardInterrupt
    os.write(1, b"after\n")
    assert capfd.readouterr() == ("after\n", "inside\n")
