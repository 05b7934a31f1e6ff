"""The fitted linear models are not extrapolated: features are held within the range of the runs
they were fitted on, and a feature that was constant there carries no weight."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks import accuracy
from lrdoctor import _fitted
from lrdoctor.detect import signals
from lrdoctor.recommend import RateModel, RecommendConfig, decades
from lrdoctor.verdict import CLASSES, VerdictModel, probabilities, standardised


def test_features_are_held_within_the_fitted_range() -> None:
    model = RateModel(mean=(0.0, 0.0), scale=(1.0, 1.0), weights=(1.0, 1.0, 1.0), lo=(-1.0, 0.0), hi=(1.0, 2.0))
    np.testing.assert_array_equal(standardised(np.array([5.0, -3.0]), model), [1.0, 0.0])
    np.testing.assert_array_equal(standardised(np.array([0.5, 1.5]), model), [0.5, 1.5])
    unbounded = RateModel(mean=(0.0, 0.0), scale=(1.0, 1.0), weights=(1.0, 1.0, 1.0))
    np.testing.assert_array_equal(standardised(np.array([5.0, -3.0]), unbounded), [5.0, -3.0])


def _rows(rng: np.random.Generator, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """A feature that predicts the target and one that is zero up to rounding noise (as a
    validation loss that never ended above its best is over the corpus's too-low runs)."""
    signal = rng.uniform(0.0, 1.0, n)
    rounding = rng.normal(0.0, 1e-15, n)
    return np.c_[signal, rounding], 1.0 + 2.0 * signal


def test_a_feature_constant_over_the_fit_moves_no_rate() -> None:
    x, y = _rows(np.random.default_rng(0))
    model = accuracy.fit_rate(list(x), list(y), ridge=1e-3)
    assert model is not None
    cfg = RecommendConfig(min_decades=-10.0, max_decades=10.0)
    base = decades(np.array([0.5, 0.0]), model, cfg)
    assert base == pytest.approx(2.0, abs=1e-3)
    # A value of 0.01 is 1e13 spreads of the rounding noise: with neither the range nor the
    # unscaled constant column it reads as a correction of -10 decades (the clip); each alone
    # keeps it within 1e-6 of the base, so the tolerance below catches either one missing.
    assert decades(np.array([0.5, 0.01]), model, cfg) == pytest.approx(base, abs=1e-9)
    assert decades(np.array([3.0, 0.0]), model, cfg) == pytest.approx(3.0, abs=1e-2)  # held at its highest, 1


def test_a_feature_constant_over_the_fit_moves_no_verdict() -> None:
    rng = np.random.default_rng(1)
    x, _ = _rows(rng, 300)
    y = np.digitize(x[:, 0], [1 / 3, 2 / 3])  # three classes by the first feature
    model = accuracy.fit_model(x, y, l2=1.0)
    assert isinstance(model, VerdictModel)
    p = probabilities(np.array([0.5, 0.0]), model)
    np.testing.assert_allclose(probabilities(np.array([0.5, 0.01]), model), p, atol=1e-9)
    assert CLASSES[int(np.argmax(probabilities(np.array([0.95, 0.0]), model)))] == CLASSES[2]


def test_the_shipped_models_carry_their_fitted_ranges() -> None:
    models = [*_fitted.VERDICT_MODELS.values(), *(m for pair in _fitted.RATE_MODELS.values() for m in pair)]
    for m in models:
        assert m.lo is not None and m.hi is not None
        assert len(m.lo) == len(m.hi) == len(m.mean) and all(a <= b for a, b in zip(m.lo, m.hi, strict=True))
        assert min(m.scale) >= accuracy.CONSTANT_SPREAD


def test_the_shipped_table_pools_the_tasks_never_fitted_on() -> None:
    steps = np.arange(1, 201, dtype=float)
    falling = signals(steps, 2.0 * np.exp(-steps / 40.0) + 0.1)
    cases = [
        accuracy.Case("digits_mlp/a", "digits_mlp", "sgd", "ok", False, 0.1, 0.1, 0.1, falling),
        accuracy.Case("new_task/a", "new_task", "sgd", "ok", False, 0.1, 0.1, 0.1, falling),
        accuracy.Case("new_task/b", "new_task", "sgd", "too_low", False, 0.001, 0.1, 0.001, falling),
    ]
    preds = accuracy.predict(cases, accuracy.Config.default())
    rows = {line.split(" | ")[0].lstrip("| "): line for line in accuracy.shipped_table(preds).splitlines()}
    assert "digits_mlp (fitted on)" in rows and "new_task (never fitted on)" in rows
    assert rows["tasks never fitted on, pooled"].split(" | ")[1] == "2"  # the new task's two runs only


def test_the_findings_table_counts_runs_per_label() -> None:
    from lrdoctor.diagnosis import Finding

    spike = Finding("loss_spike", "info", 1, 2, "")
    nan = Finding("divergence", "error", 1, 2, "")

    def case(label: str) -> accuracy.Case:
        return accuracy.Case("t/a", "t", "sgd", label, False, 0.1, 0.1, 0.1, None)  # type: ignore[arg-type]

    preds = [
        {"case": case("ok"), "findings": [spike, spike]},  # a run counts once per pathology
        {"case": case("too_high"), "findings": [spike, nan]},
        {"case": case("too_low"), "findings": []},
    ]
    rows = {
        line.split(" | ")[0].lstrip("| "): line.rstrip(" |").split(" | ")[1:]
        for line in accuracy.findings_table(preds).splitlines()
    }
    assert rows["pathology"] == ["too_high (1 runs)", "ok (1 runs)", "too_low (1 runs)"]
    assert rows["loss_spike"] == ["1", "1", "0"] and rows["divergence"] == ["1", "0", "0"]
    assert rows["overfitting"] == ["0", "0", "0"]


def test_a_statistic_held_at_its_cap_reads_as_a_bound() -> None:
    from lrdoctor.verdict import CAPS, FEATURES, PHRASES, _phrase

    assert set(CAPS) <= set(FEATURES) <= set(PHRASES)
    for name, (lo, hi) in CAPS.items():
        assert _phrase(name, hi).endswith("(or more)"), name
        assert not _phrase(name, (lo + hi) / 2).endswith(("(or more)", "(or less)")), name
        # A negative drop, slope or gap is said by its size ("ended 100% above its start (or more)").
        at_lo = "(or more)" if name in ("drop", "tail_slope", "val_gap") else "(or less)"
        assert _phrase(name, lo).endswith(at_lo) == (lo != 0), name
    assert _phrase("val_given_back", 2.0).endswith("above its best (or more)")
    assert _phrase("drop", -1.0) == "the loss ended 100% above its start (or more)"


def test_a_statistic_that_is_zero_or_negative_reads_as_plain_words() -> None:
    """'the detectors' evidence for too low is 0.00' and 'the loss came down -4%' had been said."""
    from lrdoctor.verdict import _phrase

    assert _phrase("low", 0.0) == "no detector found a sign of a rate too low"
    assert _phrase("jumps", 0.0) == "no point jumped 8 sigmas of the run's noise above its trend"
    assert _phrase("drop", -0.04) == "the loss ended 4% above its start"
    assert _phrase("tail_slope", -0.5).startswith("the trend over the last 30% rises")
    # A share that rounds to 0% is said as what it means ('ended 0% of its progress above its best').
    assert _phrase("given_back", 0.001) == "the loss ended at its best"
    assert _phrase("val_given_back", 0.0) == "the validation loss ended at its best"
    assert _phrase("roughness", 0.004) == "it swings around its trend by under 1% of its progress"
    assert _phrase("t50", 0.0) == "half of its progress took under 1% of the run"
    assert _phrase("given_back", 0.02) == "the loss ended 2% of its progress above its best"
    assert _phrase("late_ratio", -0.001) == "the second half made 0% as much progress as the first"  # not -0%


def test_a_yes_no_statistic_is_said_only_when_it_holds() -> None:
    # A model that reads "few points" as a sign against too low: a 1000-point log (not sparse)
    # is pushed towards too low by it, but "it has few points" would be false.
    from lrdoctor.detect import log_kind
    from lrdoctor.verdict import FEATURES, VerdictConfig, VerdictModel, explain

    k = len(FEATURES)
    weights = [[0.0] * (k + 1) for _ in range(3)]
    weights[2][1 + FEATURES.index("sparse")] = -5.0  # too_low, against sparse
    weights[2][1 + FEATURES.index("drop")] = -1.0
    model = VerdictModel(mean=tuple([0.5] * k), scale=tuple([1.0] * k), weights=tuple(map(tuple, weights)))
    steps = np.arange(1000, dtype=float)
    sig = signals(steps, 2.0 - steps / 2000)
    said = explain(sig, [], "too_low", VerdictConfig(models={log_kind(sig): model}), top=3)
    assert "few points" not in said and "came down" in said


def test_features_are_held_within_their_caps() -> None:
    from lrdoctor.verdict import CAPS, FEATURES, features

    steps = np.arange(200, dtype=float)
    exploded = np.where(steps < 100, 2.0 - 0.01 * steps, 1e9)  # peaks 10^8.7 above its start, ends there
    x = features(signals(steps, exploded), [])
    for name, (lo, hi) in CAPS.items():
        assert lo <= x[FEATURES.index(name)] <= hi, name
    assert x[FEATURES.index("log_peak")] == CAPS["log_peak"][1] and x[FEATURES.index("drop")] == CAPS["drop"][0]


def test_the_advice_table_counts_runs_per_kind_and_label() -> None:
    from tests.detect import curves

    steps, creeping = curves.creeping(400)
    cut_early = signals(steps, creeping, steps, np.where(steps < 200, 0.1, 0.01))
    cases = [
        accuracy.Case("t/sgd_step/lr1e-3_s0", "t", "sgd", "too_low", False, 0.1, 1.0, 0.1, cut_early),
        accuracy.Case("t/sgd_step/lr1e-3_s1", "t", "sgd", "too_low", False, 0.1, 1.0, 0.1, cut_early),
        accuracy.Case("t/sgd_constant/lr1e-1_s0", "t", "sgd", "ok", False, 0.1, 0.1, 0.1, signals(steps, creeping)),
    ]
    rows = {
        line.split(" | ")[0].lstrip("| "): line.rstrip(" |").split(" | ")[1:]
        for line in accuracy.advice_table(cases, accuracy.Config.default()).splitlines()
    }
    assert rows["advice"] == ["too_high (0 runs)", "ok (1 runs)", "too_low (2 runs)"]
    assert rows["the step decay came early"] == ["0", "0", "2"]
    others = [v for k, v in rows.items() if k not in ("advice", "the step decay came early") and not k.startswith("-")]
    assert len(others) == len(accuracy.ADVICE_KINDS) - 1 and all(v == ["0", "0", "0"] for v in others)


def test_every_way_to_an_unknown_verdict_says_why() -> None:
    """Too few points, a flat line from the start, and evidence split below the confidence bar."""
    from lrdoctor.detect import DetectConfig, detect_all, log_kind
    from lrdoctor.verdict import FEATURES, VerdictConfig, VerdictModel, decide, explain

    def why(sig, cfg: VerdictConfig | None = None) -> str:  # type: ignore[no-untyped-def]
        cfg = cfg or VerdictConfig()
        findings = detect_all(sig, DetectConfig())
        assert decide(sig, findings, cfg) == ("unknown", 0.0)  # no confidence, whichever way it leaned
        return explain(sig, findings, "unknown", cfg)

    assert why(signals(np.arange(3.0), np.array([2.3, 2.1, 2.0]))) == (
        "3 finite point(s) are too few to read a shape from (at least 8 are needed)"
    )
    assert why(signals(np.arange(200.0), np.full(200, 1.0))).startswith("the loss is a flat line from its start")
    steps = np.arange(400.0)
    falling = signals(steps, 2.0 * np.exp(-steps / 50) + 0.1)
    k = len(FEATURES)
    even = VerdictModel(mean=(0.0,) * k, scale=(1.0,) * k, weights=((0.0,) * (k + 1),) * 3)  # 1/3 each
    said = why(falling, VerdictConfig(models={log_kind(falling): even}))
    assert said == "the evidence is split (too high 0.33, ok 0.33, too low 0.33); a verdict needs 0.40"
    a = math.log(2 * 0.398 / 0.602)  # too high 0.398: "0.40" would read as the bar it missed
    near = VerdictModel(mean=(0.0,) * k, scale=(1.0,) * k, weights=((a,) + (0.0,) * k, *((0.0,) * (k + 1),) * 2))
    said = why(falling, VerdictConfig(models={log_kind(falling): near}))
    assert said == "the evidence is split (too high 0.398, ok 0.301, too low 0.301); a verdict needs 0.40"
    a = math.log(2 * 0.3997 / 0.6003)  # three digits would round it up too
    nearer = VerdictModel(mean=(0.0,) * k, scale=(1.0,) * k, weights=((a,) + (0.0,) * k, *((0.0,) * (k + 1),) * 2))
    said = why(falling, VerdictConfig(models={log_kind(falling): nearer}))
    assert said == "the evidence is split (too high 0.3997, ok 0.3001, too low 0.3001); a verdict needs 0.40"
    a = math.log(2 * (0.4 - 3e-7) / (0.6 + 3e-7))  # six digits would round it up: it is cut
    nearest = VerdictModel(mean=(0.0,) * k, scale=(1.0,) * k, weights=((a,) + (0.0,) * k, *((0.0,) * (k + 1),) * 2))
    said = why(falling, VerdictConfig(models={log_kind(falling): nearest}))
    assert said.startswith("the evidence is split (too high 0.399999, ")
    tie = VerdictModel(  # two at the bar's edge, the third nowhere: neither may read as the bar
        mean=(0.0,) * k, scale=(1.0,) * k, weights=((0.0,) + (0.0,) * k, (0.0,) + (0.0,) * k, (-15.0,) + (0.0,) * k)
    )
    said = why(falling, VerdictConfig(models={log_kind(falling): tie}, min_confidence=0.5))
    assert "0.500000" not in said and said.endswith("a verdict needs 0.50")
    said = why(falling, VerdictConfig(models={log_kind(falling): near}, min_confidence=0.403))  # a bar in 3 digits
    assert said == "the evidence is split (too high 0.398, ok 0.301, too low 0.301); a verdict needs 0.403"


def test_the_verdict_fit_reaches_the_optimum_plain_gradient_descent_approaches() -> None:
    """The benchmark fits by L-BFGS; plain gradient descent on the same class-balanced, L2-penalised
    objective (intercepts unpenalised) must land on the same weights."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(120, 4)) * [1.0, 3.0, 0.5, 2.0]
    y = np.clip(np.round(x[:, 0] - 0.5 * x[:, 1] / 3 + rng.normal(0, 0.7, 120)), -1, 1).astype(int) + 1
    model = accuracy.fit_model(x, y, l2=5.0)
    z = np.c_[np.ones(len(x)), (x - np.array(model.mean)) / np.array(model.scale)]
    onehot = np.eye(3)[y]
    weight = (len(y) / (3 * onehot.sum(axis=0)))[y]
    w = np.zeros((3, 5))
    for _ in range(20000):
        logits = z @ w.T
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        grad = ((p - onehot) * weight[:, None]).T @ z / len(y)
        grad[:, 1:] += 5.0 * w[:, 1:] / len(y)
        w -= 0.5 * grad
    assert np.allclose(np.array(model.weights), w, atol=1e-5)


def test_the_ok_bias_is_the_smallest_on_the_grid_that_meets_the_target(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bisection over the grid finds what a scan would: the first bias whose false alarms meet the
    calibration target (here the held-out ok runs alarm fewer the higher the bias)."""
    steps = np.arange(1, 201, dtype=float)
    sigs = [signals(steps, 2.0 * np.exp(-steps / (40.0 + i)) + 0.1) for i in range(100)]
    cases = [
        accuracy.Case(f"t{i % 2}/r{i}", f"t{i % 2}", "sgd", "ok", False, 0.1, 0.1, 0.1, s) for i, s in enumerate(sigs)
    ]
    index = {id(s): i for i, s in enumerate(sigs)}
    alarms_at = {b: max(0, 40 - round(b * 10)) for b in accuracy.BIAS_GRID}
    zero = accuracy.VerdictModel((0.0,), (1.0,), ((0.0, 0.0), (0.0, 0.0), (0.0, 0.0)))
    ok = accuracy.CLASSES.index("ok")

    def decide(sig, findings, cfg):  # type: ignore[no-untyped-def]
        bias = cfg.models["val"].weights[ok][0]
        return ("too_low" if index[id(sig)] < alarms_at[bias] else "ok"), 0.9

    monkeypatch.setattr(accuracy, "fit_model", lambda x, y, **kw: zero)
    monkeypatch.setattr(accuracy, "design", lambda cases, cfg: (None, None))
    monkeypatch.setattr(accuracy, "decide", decide)
    expected = next(b for b in accuracy.BIAS_GRID if alarms_at[b] <= accuracy.CALIBRATION_TARGET * len(cases))
    assert 0 < expected < accuracy.BIAS_GRID[-1]
    assert accuracy.choose_ok_bias(cases, accuracy.Config.default()) == expected
