"""Logs whose first point comes after the first updates are flagged and judged by their own models."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from lrdoctor import load
from lrdoctor.detect import LOG_KINDS, Signals, detect_all, log_kind, signals
from lrdoctor.detect.curve import starts_late
from lrdoctor.diagnosis import Config, Finding, diagnose
from lrdoctor.recommend import RateModel, rate_features, rate_models, recommend
from lrdoctor.verdict import CLASSES, FEATURES, VerdictConfig, VerdictModel, decide, explain
from tests.detect import curves


@pytest.mark.parametrize(
    ("steps", "late"),
    [
        (np.arange(10, 410, 10), True),  # every 10 steps from step 10
        (np.arange(49, 5000, 50), True),  # every 50 steps, at steps 49, 99, ...
        (np.r_[1, np.arange(10, 410, 10)], False),  # the first step logged too
        (np.arange(0, 400, 10), False),
        (np.arange(1, 400), False),
        (np.arange(3, 400), False),  # two steps short of a log of every step
        (np.arange(5000, 6000), True),  # begins at a resume
        (np.array([10.0, 20.0]), False),  # too short to say
        (np.arange(400, 0, -10), True),  # out of order, from step 10
        (np.array([30.0, 10.0, 20.0, 1.0]), False),  # out of order, from step 1
        (np.array([np.nan, 1.0, 11.0, 21.0, 31.0]), False),  # a NaN step is no step
        (np.arange(5, 405, 10), True),  # from half the stride on
        (np.arange(4, 404, 10), False),  # before it
    ],
)
def test_starts_late(steps: np.ndarray, late: bool) -> None:
    assert starts_late(steps.astype(float)) is late


@pytest.mark.parametrize(
    ("epochs", "late"),
    [
        (np.arange(1, 14) * 10 / 44, True),  # the HF Trainer's dicts every 10 steps of 44 an epoch
        (np.r_[1, np.arange(1, 14) * 10] / 44, False),  # ... with logging_first_step
        (np.arange(0, 20) / 4 + 2.5, True),  # four a epoch, from a resume at epoch 2.5
        (1 + np.arange(0, 200) / 94, False),  # PyTorch's MNIST example: 'Train Epoch: 1 [0/60000 (0%)]'
        (2 + np.arange(0, 200) / 94, False),  # ... or a resume at the start of an epoch
        (np.arange(1, 21, dtype=float), False),  # one point an epoch: the epochs' means
        (np.arange(0, 20, dtype=float), False),
        (np.array([0.25, 0.5]), False),  # too short to say
    ],
)
def test_starts_late_on_an_axis_of_epochs(epochs: np.ndarray, late: bool) -> None:
    assert starts_late(epochs, epochs=True) is late


def test_an_hf_console_log_is_judged_as_its_trainer_state(tmp_path: Path) -> None:
    """The Trainer's console dicts carry the epoch and no step: the same run's trainer_state.json
    and its console capture had been judged by different models (the console's first point, ten
    steps in, read as the start). Both begin late now, with the same note and verdict."""
    losses = 2.3 * np.exp(-np.arange(1, 41) / 12) + 0.1 + 0.02 * np.sin(np.arange(40))
    state = {
        "log_history": [
            {"loss": float(v), "learning_rate": 1e-3, "epoch": round(10 * k / 44, 4), "step": 10 * k}
            for k, v in enumerate(losses, start=1)
        ],
        "global_step": 400,
    }
    import json

    (tmp_path / "trainer_state.json").write_text(json.dumps(state))
    (tmp_path / "console.log").write_text(
        "".join(
            f"{{'loss': {v:.4f}, 'learning_rate': 0.001, 'epoch': {10 * k / 44:.4f}}}\n"
            for k, v in enumerate(losses, 1)
        )
    )
    a, b = load(tmp_path / "trainer_state.json"), load(tmp_path / "console.log")
    assert (a.step_kind, b.step_kind) == ("step", "epoch")
    assert any("first logged at step 10:" in w and "logging_first_step=True" in w for w in a.warnings)
    assert any("first logged at epoch 0.2273:" in w and "logging_first_step=True" in w for w in b.warnings)
    sa, sb = (signals(r.loss.steps, r.loss.values, step_kind=r.step_kind) for r in (a, b))
    assert sa.late_start and sb.late_start and log_kind(sa) == log_kind(sb) == "late-no-val"
    da, db = diagnose(a), diagnose(b)
    assert da.verdict == db.verdict and abs(da.confidence - db.confidence) < 0.05


def _model(winner: str) -> VerdictModel:
    """A model that says `winner` whatever the features."""
    n = len(FEATURES)
    rows = tuple(tuple([5.0 if c == winner else 0.0] + [0.0] * n) for c in CLASSES)
    return VerdictModel(mean=(0.0,) * n, scale=(1.0,) * n, weights=rows)


# Each kind of log gets its own verdict from these models.
SAYS = {"val": "ok", "no-val": "too_high", "late-val": "too_low", "late-no-val": "ok"}


def _sig(late: bool, val: bool) -> Signals:
    steps, values = curves.converging()
    keep = slice(9, None, 10) if late else slice(None)
    v = (steps[::20], values[::20] + 0.1) if val else None
    return signals(steps[keep], values[keep], val=v)


@pytest.mark.parametrize("late", [False, True])
@pytest.mark.parametrize("val", [False, True])
def test_each_kind_of_log_is_judged_by_its_own_model(late: bool, val: bool) -> None:
    sig = _sig(late, val)
    kind = log_kind(sig)
    assert kind == ("late-" if late else "") + ("val" if val else "no-val")
    cfg = VerdictConfig(models={k: _model(v) for k, v in SAYS.items()})
    assert decide(sig, detect_all(sig, Config.default().detect), cfg)[0] == SAYS[kind]


def test_an_epoch_log_never_starts_late() -> None:
    steps, values = curves.converging(40)
    assert signals(steps + 10, values).late_start
    assert not signals(steps + 10, values, step_kind="epoch").late_start


def test_epoch_means_on_an_axis_of_steps_are_judged_as_on_an_axis_of_epochs(tmp_path: Path) -> None:
    """The same epoch means, placed at each epoch's last step (Lightning's train_loss_epoch, the
    Trainer logging each epoch) or numbered by epoch (Keras, a plain CSV), are one log: the first
    value holds the first epoch's updates either way, so neither begins late."""
    _, values = curves.converging(20, seed=3)
    val = values * 1.05 + 0.02
    by_epoch = tmp_path / "by_epoch.csv"
    by_epoch.write_text(
        "epoch,loss,val_loss\n" + "".join(f"{e},{v},{w}\n" for e, (v, w) in enumerate(zip(values, val, strict=True)))
    )
    by_step = tmp_path / "metrics.csv"  # Lightning's CSVLogger: 22 steps an epoch
    by_step.write_text(
        "epoch,step,train_loss_epoch,val_loss\n"
        + "".join(f"{e},{22 * e + 21},{v},{w}\n" for e, (v, w) in enumerate(zip(values, val, strict=True)))
    )
    a, b = load(by_epoch), load(by_step)
    assert b.step_kind == "step" and b.epoch_means and not a.epoch_means
    assert not any("first logged at step" in w for w in b.warnings)
    da, db = diagnose(a), diagnose(b)
    assert (da.verdict, round(da.confidence, 6), da.findings and [f.pathology for f in da.findings]) == (
        db.verdict,
        round(db.confidence, 6),
        db.findings and [f.pathology for f in db.findings],
    )
    # The Trainer's TensorBoard and W&B logs name the epoch train/epoch.
    hf = tmp_path / "hf.csv"
    hf.write_text(
        "step,train/loss,train/epoch\n" + "".join(f"{22 * (e + 1)},{v},{e + 1.0}\n" for e, v in enumerate(values))
    )
    assert load(hf).epoch_means
    # A resumed run's epoch means, from epoch 10: it begins late.
    resumed = tmp_path / "resumed" / "metrics.csv"
    resumed.parent.mkdir()
    resumed.write_text(
        "epoch,step,train_loss_epoch\n" + "".join(f"{e + 10},{22 * (e + 10) + 21},{v}\n" for e, v in enumerate(values))
    )
    r = load(resumed)
    assert not r.epoch_means and any("first logged at step 241" in w for w in r.warnings)
    # ... and one counted from 0, resumed at epoch 1: the first epoch's steps come before it.
    resumed.write_text(
        "epoch,step,train_loss_epoch\n" + "".join(f"{e + 1},{22 * (e + 1) + 21},{v}\n" for e, v in enumerate(values))
    )
    assert not load(resumed).epoch_means
    # ... whose last epoch is longer (a resume at another batch size): still late.
    rows = [(e + 1, 22 * (e + 1) + 21) for e in range(11)] + [(12, 22 * 12 + 21 + 44)]
    resumed.write_text("epoch,step,train_loss_epoch\n" + "".join(f"{e},{s},{2.0 - 0.01 * e}\n" for e, s in rows))
    assert not load(resumed).epoch_means
    # A short run whose last epoch max_steps cut short is epoch means still.
    resumed.write_text("epoch,step,train_loss_epoch\n0,99,2.0\n1,199,1.9\n2,210,1.8\n")
    assert load(resumed).epoch_means
    # Every 22 steps from step 21 without an epoch beside it: a log that begins late.
    b2 = tmp_path / "steps.csv"
    b2.write_text("step,loss\n" + "".join(f"{22 * e + 21},{v}\n" for e, v in enumerate(values)))
    c = load(b2)
    assert not c.epoch_means and any("first logged at step 21" in w for w in c.warnings)


def test_the_rate_comes_from_the_rate_models_of_the_kind_of_log() -> None:
    sig = _sig(True, False)
    n = len(rate_features(sig, []))

    def model(decades: float) -> RateModel:
        return RateModel(mean=(0.0,) * n, scale=(1.0,) * n, weights=(decades,) + (0.0,) * n)

    rates = {k: (model(1.0 + i / 2), model(1.0 + i / 2)) for i, k in enumerate(LOG_KINDS)}  # within the clips
    cfg = replace(Config.default().recommend, rates=rates)
    assert rate_models(sig, cfg) == rates["late-no-val"]
    assert recommend("too_low", 1e-3, sig, [], cfg).factor == pytest.approx(10**2.5)
    assert recommend("too_high", 1e-3, sig, [], cfg).factor == pytest.approx(10**-2.5)


def test_the_explanation_names_no_validation_statistic_when_there_is_none() -> None:
    sig = _sig(False, False)
    findings = detect_all(sig, Config.default().detect)
    n = len(FEATURES)
    # A model that leans on nothing but the validation placeholders.
    rows = tuple(
        tuple([0.0] + [(3.0 if c == "ok" else 0.0) if f.startswith("val_") else 0.0 for f in FEATURES]) for c in CLASSES
    )
    leaning = VerdictModel(mean=(-1.0,) * n, scale=(1.0,) * n, weights=rows)  # a zero feature pushes to ok
    text = explain(sig, findings, "ok", VerdictConfig(models=dict.fromkeys(LOG_KINDS, leaning)))
    assert "validation" not in text
    with_val = _sig(False, True)  # where the log has one, the same model names it
    assert "validation" in explain(with_val, findings, "ok", VerdictConfig(models=dict.fromkeys(LOG_KINDS, leaning)))


# Per case: the strength of a sign of a rate too high, each class's weight on it, the verdict it
# must not be given as a reason for, and the one it is.
SIDED_CASES = [
    (1.0, {"ok": 3.0, "too_high": 1.0, "too_low": -3.0}, "ok", "too_high"),  # present: no reason for ok
    (0.0, {"ok": -3.0, "too_high": -3.0, "too_low": 3.0}, "too_high", "ok"),  # absent: none for too high
]


@pytest.mark.parametrize(("strength", "weights", "not_for", "for_"), SIDED_CASES)
def test_a_sign_of_one_side_is_no_reason_for_another_verdict(
    strength: float, weights: dict[str, float], not_for: str, for_: str
) -> None:
    """A model can credit "ok" with a detector's sign of a rate too high (where "too low" weighs
    it far less); the explanation does not give that sign as a reason for ok, nor its absence as
    one for too high."""
    sig = _sig(False, False)
    found = [Finding("oscillation", "warning", 0.0, 1.0, "swings", {}, suggests="too_high", strength=strength)]
    n, at = len(FEATURES), FEATURES.index("high")
    rows = tuple(tuple([0.0] + [weights[c] if i == at else 0.0 for i in range(n)]) for c in CLASSES)
    cfg = VerdictConfig(models=dict.fromkeys(LOG_KINDS, VerdictModel(mean=(0.5,) * n, scale=(1.0,) * n, weights=rows)))
    assert "a rate too high" not in explain(sig, found, not_for, cfg)
    assert "a rate too high" in explain(sig, found, for_, cfg)


def _blown_up_then_down() -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """A run that blew up in its first steps: logged from step 10, coming down from 40 to 8,
    while its validation loss went from 2.3 at step 0 (before any update) to 7.5."""
    steps = np.arange(10.0, 410.0, 10.0)
    values = 8.0 + 32.0 * np.exp(-steps / 80.0)
    val_steps = np.arange(0.0, 410.0, 40.0)
    val_values = np.r_[2.3, 7.5 + 20.0 * np.exp(-val_steps[1:] / 80.0)]
    return steps, values, (val_steps, val_values)


def _divergence(sig: Signals) -> list:
    return [f for f in detect_all(sig, Config.default().detect) if f.pathology == "divergence"]


def test_a_late_start_log_diverged_when_its_validation_loss_ended_above_its_step_0_value() -> None:
    steps, values, val = _blown_up_then_down()
    sig = signals(steps, values, val=val)
    assert sig.late_start
    (found,) = _divergence(sig)
    assert found.severity == "error" and found.evidence["val_start"] == 2.3
    assert "only from step 10" in found.message
    # The training curve alone reads as a run that came down.
    assert _divergence(signals(steps, values)) == []
    # A validation loss first measured after the first logged training loss gives no start level,
    # even where it ends far above its first value.
    rising = (val[0] + 15.0, np.linspace(2.3, 7.5, len(val[0])))
    assert _divergence(signals(steps, values, val=rising)) == []
    # One measured at step 0 that rose the same way is a divergence...
    assert _divergence(signals(steps, values, val=(val[0], rising[1])))[0].severity == "error"
    # ... but not one that first came well below its start, then rose: that is overfitting.
    overfit = np.r_[2.3, 1.2, 1.1, 1.3, 1.8, 2.4, 3.0, 3.4, 3.6, 3.8, 4.0]
    assert _divergence(signals(steps, values, val=(val[0], overfit))) == []
    # A log from the first update is judged by its own start, as before.
    assert _divergence(signals(np.r_[1.0, steps], np.r_[2.3, values], val=val))[0].evidence.get("val_start") is None


def _leaning(winner: str, strength: float) -> VerdictModel:
    """A model that says `winner` with about this probability whatever the features."""
    n = len(FEATURES)
    lift = float(np.log(2 * strength / (1 - strength)))  # softmax of (lift, 0, 0)
    rows = tuple(tuple([lift if c == winner else 0.0] + [0.0] * n) for c in CLASSES)
    return VerdictModel(mean=(0.0,) * n, scale=(1.0,) * n, weights=rows)


@pytest.mark.parametrize("side", ["too_high", "too_low"])
def test_a_rate_verdict_no_finding_points_to_needs_a_strong_lean(side: str) -> None:
    """A healthy run's noisy shape can lean either way: a rate too high or too low with no
    finding that points to it stands only at 0.90 or more, else the verdict is unknown and says
    which way it leaned. Divergence, oscillation or slow convergence found: the lean stands."""
    sig = _sig(False, False)
    findings = detect_all(sig, Config.default().detect)
    assert not [f for f in findings if f.suggests is not None]
    for strength, want, confidence in ((0.7, "unknown", 0.0), (0.95, side, 0.95)):  # (unknown: none)
        cfg = VerdictConfig(models={k: _leaning(side, strength) for k in LOG_KINDS})
        verdict, p = decide(sig, findings, cfg)
        assert verdict == want and p == pytest.approx(confidence)
    cfg = VerdictConfig(models={k: _leaning(side, 0.7) for k in LOG_KINDS})
    assert f"lean to {side.replace('_', ' ')} (0.70" in explain(sig, findings, "unknown", cfg)
    close = VerdictConfig(models={k: _leaning(side, 0.8996) for k in LOG_KINDS})  # never shown as the bar it missed
    assert "(0.8996" in explain(sig, findings, "unknown", close) and "only at confidence 0.90 or more" in explain(
        sig, findings, "unknown", close
    )
    sign = Finding("oscillation" if side == "too_high" else "slow_convergence", "info", 0, 1, "", suggests=side)
    assert decide(sig, [*findings, sign], cfg)[0] == side
    other = replace(sign, suggests="too_low" if side == "too_high" else "too_high")  # points the other way
    assert decide(sig, [*findings, other], cfg)[0] == "unknown"
    assert decide(sig, findings, replace(cfg, unsupported_confidence=0.5))[0] == side


def test_overfitting_alone_is_no_rate_too_high() -> None:
    """A fine-tune whose training loss fell smoothly to its floor while its validation loss rose
    at each of 5 evaluations (38 epochs on a small set): the statistics lean to too high on the
    validation loss alone, which overfitting explains at any rate; it had been told to lower its
    rate 44x."""
    steps = np.arange(25.0, 5001.0, 25.0)
    train = 0.3 * np.exp(-steps / 300) + 0.0002
    lr_steps = steps
    lr = np.where(steps < 500, 1e-5 * steps / 500, 1e-5 * (5000 - steps) / 4500)
    val = (np.array([1000.0, 2000, 3000, 4000, 5000]), np.array([0.321, 0.358, 0.394, 0.412, 0.42]))
    sig = signals(steps, train, lr_steps, lr, val=val, step_kind="step")
    cfg = Config.default()
    findings = detect_all(sig, cfg.detect)
    assert [f.pathology for f in findings if f.severity != "info"] == ["overfitting"]
    assert decide(sig, findings, cfg.verdict) == ("unknown", 0.0)
    said = explain(sig, findings, "unknown", cfg.verdict)
    assert "which the overfitting found explains: a model overfits at any rate" in said
    assert "ended above its first evaluation, its best" in said  # no share of a progress it never made
