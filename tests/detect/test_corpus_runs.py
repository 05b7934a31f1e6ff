"""Detectors on real corpus runs (tests/data/corpus: a few logs of benchmarks/corpus/generate.py with their labels)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from lrdoctor import load
from lrdoctor.diagnosis import diagnose

DATA = Path(__file__).resolve().parents[1] / "data" / "corpus"
RUNS = json.loads((DATA / "labels.json").read_text())


@pytest.mark.parametrize("entry", RUNS, ids=lambda e: e["run"])
def test_expected_findings(entry: dict) -> None:
    dx = diagnose(load(DATA / entry["file"], lr=entry["lr"]))
    found = {f.pathology for f in dx.findings}
    assert set(entry["findings"]) <= found, (found, dx.why)
    if not entry["findings"]:
        assert found == set()


@pytest.mark.parametrize("entry", [e for e in RUNS if e["diverged"] or not e["findings"]], ids=lambda e: e["run"])
def test_clear_runs_get_their_label(entry: dict) -> None:
    dx = diagnose(load(DATA / entry["file"], lr=entry["lr"]))
    assert dx.verdict == entry["label"]
    if entry["label"] == "too_high":
        assert dx.recommended_lr < entry["lr"]
    elif entry["label"] == "too_low":
        assert dx.recommended_lr > entry["lr"]
    else:
        assert dx.recommended_lr == entry["lr"]


@pytest.mark.parametrize("entry", [e for e in RUNS if "advice" in e], ids=lambda e: e["run"])
def test_schedule_advice_on_corpus_runs(entry: dict) -> None:
    """A healthy run overfitting (early stopping), and step decays at mid-run that came late for a
    fast rate and early for a slow one."""
    dx = diagnose(load(DATA / entry["file"], lr=entry["lr"]))
    for words in entry["advice"]:
        assert any(words in a for a in dx.advice), (words, dx.advice)


def test_a_run_that_blew_up_and_came_back_to_its_start_is_too_high_not_too_low() -> None:
    # A tanh MLP at 10x its sweep's best rate under a step schedule: its loss rose from 2.29 to
    # 80x that, and the cuts brought it back to 2.31, still creeping down. It was told it had
    # stayed near its initial level and to raise its rate 3160x.
    dx = diagnose(load(DATA / "digits_tanh__sgd_step__lr1.00e+00_s0__log.csv.gz"))
    assert dx.verdict == "too_high" and dx.recommended_lr < 1.0
    assert not any("stayed near its initial level" in f.message for f in dx.findings)
    (div,) = [f for f in dx.findings if f.pathology == "divergence"]
    assert "came back only to its initial level" in div.message and div.severity == "error"


def _every(run, k: int):  # type: ignore[no-untyped-def]
    """The run as a logger writing the training loss every k-th step would have kept it."""
    loss = run.loss
    return dataclasses.replace(run, series={**run.series, run.metric: loss.take(np.arange(0, len(loss), k))})


@pytest.mark.parametrize("k", [10, 25])
def test_a_stuck_loss_logged_sparsely_takes_its_direction_from_the_validation_loss(k: int) -> None:
    # Logged every 10th or 25th step, the digits MLP at 1e-4 (3000x below its best rate) shows a
    # loss that stayed at its initial level within its minibatch noise: it was "unknown". Its
    # validation loss fell at every evaluation.
    low = diagnose(_every(load(DATA / "digits_mlp__sgd_constant__lr1.00e-04_s0__metrics.jsonl.gz", lr=1e-4), k))
    (plateau,) = [f for f in low.findings if f.pathology == "plateau"]
    assert plateau.suggests == "too_low" and "the validation loss fell steadily" in plateau.message
    # (every 25th step leaves 16 points, whose noisy shape the verdict models may read as leaning
    # too high: unknown there, but never too high)
    assert low.verdict in (("too_low",) if k == 10 else ("too_low", "unknown"))
    assert low.verdict == "unknown" or low.recommended_lr > 1e-4
    # The digits CNN at 10x its best rate, knocked to chance at its first updates (logged every
    # step, the spike shows: a divergence), looks as stuck; its evaluations all stood above the one
    # before training, but by 1.3 standard deviations of their own jitter, which a flat noisy
    # validation loss shows as often: no direction, and above all not "too low".
    cnn = DATA / "digits_cnn__sgd_constant__lr1.00e+00_s0__events.out.tfevents.corpus"
    high = diagnose(_every(load(cnn, lr=1.0), k))
    (plateau,) = [f for f in high.findings if f.pathology == "plateau"]
    assert plateau.suggests is None and "the validation loss did not come down" in plateau.message
    assert high.verdict != "too_low"


NOISY = Path(__file__).resolve().parents[1] / "data" / "noisy"


@pytest.mark.parametrize(
    "name",
    [
        # The validation loss fell (1.004 -> 0.912); the training loss ended 26% above its first
        # minibatch, 1.1 sigmas of its noise.
        "diabetes_mlp__adam_constant__lr1.00e-05_s8__log.csv.gz",
        # No validation loss; ended 21% above its first minibatch, 0.9 sigmas of the noise there.
        "diabetes_mlp__adam_constant__lr1.00e-05_s1__noval.csv.gz",
    ],
)
def test_a_run_that_never_moved_did_not_diverge_because_its_first_minibatch_came_out_low(name: str) -> None:
    """Real runs of the corpus's diabetes regression (``diabetes_mlp``, Adam at 1e-5, 1.5 decades
    below its sweep's best rate), trained with ``benchmarks/corpus/train.py``: minibatch noise is a
    fifth of the loss, and the run barely moves, so the first minibatch loss is one draw from the
    level it ends at. Where it came out low, the run is not one that "ended above where it started"."""
    dx = diagnose(load(NOISY / name))
    assert not [f for f in dx.findings if f.pathology == "divergence"], dx.findings
    assert dx.verdict != "too_high"


def test_a_run_that_overfits_is_not_also_called_slow() -> None:
    """A real run of the diabetes regression at Adam 1e-2 (32x its sweep's best rate): the
    validation loss was lowest at step 44 and climbed 73% while the training loss kept falling. That
    falling training loss is the model fitting its training data; read as slow convergence it had
    told the user to raise a rate that was too high."""
    dx = diagnose(load(NOISY / "diabetes_mlp__adam_constant__lr1.00e-02_s0__train.log.gz", lr=0.01))
    found = {f.pathology for f in dx.findings}
    assert "overfitting" in found
    assert "slow_convergence" not in found
    assert dx.verdict != "too_low"


def test_the_recovery_from_a_blow_up_is_not_read_as_slow_convergence() -> None:
    """A two-layer character transformer at 30x its sweep's best rate (AdamW, warmup and cosine; a
    task never fitted on): its loss rose from 4.6 to 35 during the warmup, sat at its unigram level
    (3.4) and crept down as the cosine decayed. That late fall is the recovery from the blow-up;
    read as slow convergence it split the evidence, and the verdict was unknown."""
    dx = diagnose(load(DATA / "char_transformer__adamw_cosine__lr1.00e+00_s0__metrics.jsonl.gz"))
    found = {f.pathology for f in dx.findings}
    assert "divergence" in found
    assert "slow_convergence" not in found
    assert dx.verdict == "too_high" and dx.recommended_lr < 1.0


def test_a_run_that_left_the_held_out_loss_above_its_value_at_step_0_is_too_high() -> None:
    """A softmax classifier on blobs at 30x its sweep's best SGD rate (a task never fitted on): its
    minibatch loss swung within one draw's noise of its first value, while the validation loss,
    1.90 at step 0, ended at 2.43. It had been called unknown, with no finding."""
    dx = diagnose(load(DATA / "blobs_softmax__sgd_constant__lr1.00e+00_s0__train.log.gz"))
    (div,) = [f for f in dx.findings if f.pathology == "divergence"]
    assert div.severity == "error" and "worse on held-out data than no training at all" in div.message
    assert dx.verdict == "too_high" and dx.recommended_lr < 1.0


@pytest.mark.parametrize(
    "name",
    [
        # Lightning's epoch means: 4.3e11 over the first epoch, 3.8e5 over the second, 1.6e4 at the end.
        "friedman_mlp__rmsprop_constant__lr1.00e+00_s0__metrics.csv.gz",
        # A SummaryWriter's per-epoch point: 7.3e6, then 11 and swings between 2.6 and 8 (chance is 0.69).
        "moons_mlp__sgd_constant__lr1.00e+01_s0__events.out.tfevents.corpus",
    ],
)
def test_a_first_epoch_that_blew_up_is_found_in_its_mean(name: str) -> None:
    """Runs that blew up inside their first epoch, logged once per epoch: the log starts with that
    epoch's mean, so no point shows the loss rising. They had no finding and were called ok."""
    dx = diagnose(load(DATA / name))
    (div,) = [f for f in dx.findings if f.pathology == "divergence"]
    assert "blew up before the second point" in div.message
    assert dx.verdict == "too_high"


def test_a_loss_that_stalled_after_an_early_fall_is_too_high() -> None:
    """An autoencoder at 3x its sweep's best Adam rate: its loss fell from 0.29 to 0.076 in 9 steps
    and then shed 2% of that level over the 387 steps left, its network giving every image the
    mean one. It had a plateau warning, read as a run that converged early: ok."""
    dx = diagnose(load(DATA / "digits_ae__adam_constant__lr1.00e-01_s0__train.log.gz"))
    (plateau,) = [f for f in dx.findings if f.pathology == "plateau"]
    assert "the network stopped learning" in plateau.message and "it shed 2% of it" in plateau.message
    assert plateau.evidence["shed_after"] < 0.05
    assert dx.verdict == "too_high" and dx.recommended_lr < 0.1
    assert dx.why.startswith("the loss stalled after an early fall")


def test_a_loss_that_kept_falling_after_an_early_fall_did_not_stall() -> None:
    """The counterpart, labelled ok: a breast-cancer MLP at 3x its sweep's best RMSprop rate made
    90% of its progress in 3% of the run too, then went on from 0.037 to 0.0014. Not stalled."""
    dx = diagnose(load(DATA / "cancer_mlp__rmsprop_constant__lr1.00e-02_s0__train.log.gz"))
    (plateau,) = [f for f in dx.findings if f.pathology == "plateau"]
    assert "stayed flat" in plateau.message and "shed_after" not in plateau.evidence
    assert dx.verdict == "ok"
