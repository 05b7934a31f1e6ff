"""The offline replay of the probe's walk (benchmarks/probe_sim.py) used to study its scoring rules."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("torch")  # benchmarks.probe imports it

from benchmarks import probe_sim


def test_extrapolate_follows_a_power_law_exactly() -> None:
    def law(t: float) -> float:
        return 0.3 + 2.0 * t**-0.7

    got = probe_sim.extrapolate((12, 25, 50), [law(12), law(25), law(50)], 400)
    assert got == pytest.approx(law(400), rel=1e-9)


def test_extrapolate_follows_a_log_linear_fall_exactly() -> None:
    def line(t: float) -> float:
        return 3.0 - 0.2 * math.log(t)

    got = probe_sim.extrapolate((12, 25, 50), [line(12), line(25), line(50)], 400)
    assert got == pytest.approx(line(400), rel=1e-9)


def test_extrapolate_keeps_a_score_that_got_worse_and_refuses_nonfinite() -> None:
    assert probe_sim.extrapolate((12, 25, 50), [1.0, 0.5, 0.6], 400) == 0.6
    assert probe_sim.extrapolate((12, 25, 50), [1.0, math.nan, 0.6], 400) == math.inf
    assert probe_sim.extrapolate((12, 25, 50), [1.0, 0.8, 0.6], 50) == 0.6


def _case(best_k: int, limit_k: int) -> dict:
    trials = [
        {"k": k, "lr": 10 ** (k / 2), "train": [1.0] * 100, "scores": {"50": 1.0 + (k - best_k) ** 2}}
        for k in range(limit_k - 8, limit_k + 4)
    ]
    limit = 1.2 * 10 ** (limit_k / 2)  # just above the grid rate of index limit_k
    return {"task": "t", "optimizer": "sgd", "steps": 400, "limit": limit, "ramp_steps": 100, "trials": trials}


@pytest.mark.parametrize(("best_k", "limit_k"), [(-3, -2), (-4, -2), (-2, -2), (-1, -2)])
def test_walk_finds_the_best_grid_rate_as_the_probe_does(best_k: int, limit_k: int) -> None:
    scores = probe_sim.walk(_case(best_k, limit_k), probe_sim.shipped)
    assert probe_sim.grid_pick(scores, 400) == pytest.approx(10 ** (best_k / 2))
    # The walk starts one grid step below the limit and stops once the best has worse neighbours.
    assert limit_k - 1 in scores and best_k - 1 in scores and best_k + 1 in scores


def test_walk_stops_when_the_budget_is_spent() -> None:
    case = _case(-8, -2)  # the best lies far below: the walk runs out of budget on the way down
    scores = probe_sim.walk(case, probe_sim.shipped)
    assert len(scores) == (probe_sim.BUDGET - case["ramp_steps"]) // probe_sim.STEPS


def test_a_trial_that_went_non_finite_is_charged_the_steps_it_ran() -> None:
    case = {**_case(-8, -2), "ramp_steps": 110}  # 190 steps left for trials
    for trial in case["trials"]:
        if trial["k"] == -2:  # the second trial blows up after 10 steps
            trial["train"], trial["scores"] = [1.0] * 9 + [math.nan], {}
    scores = probe_sim.walk(case, probe_sim.shipped)
    assert scores[-2] == math.inf
    # 190 - 50 - 10 leaves room for two more 50-step trials; charged 50, it would leave one.
    assert sorted(scores) == [-5, -4, -3, -2]


def test_replay_takes_its_numbers_from_the_probe() -> None:
    from lrdoctor.probe import ProbeConfig, ProbeOptions

    assert ProbeOptions().steps == probe_sim.BUDGET
    assert ProbeConfig().grid_step == probe_sim.GRID
    assert probe_sim.STEPS == 50  # (300 - 100) // 4 trials
