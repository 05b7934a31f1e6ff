"""Console layouts of widely copied training code, as their print statements write them."""

from __future__ import annotations

import numpy as np
import pytest

from lrdoctor import naming
from lrdoctor.errors import UnreadableLog
from lrdoctor.normalize import normalize
from lrdoctor.readers import _textstyles, text
from lrdoctor.readers._textstyles import parse_line
from lrdoctor.run import Log
from lrdoctor.source import Source
from tests.readers.test_text_fast import assert_same


def read(content: str) -> Log:
    """The log read through the layout cache, checked against reading every line in full."""
    fast = text.read(Source("train.log", data=content.encode()))
    text.PLAIN_ONLY = True
    try:
        plain = text.read(Source("train.log", data=content.encode()))
    finally:
        text.PLAIN_ONLY = False
    assert_same(plain, fast)
    return fast


def points(log: Log, name: str) -> list[tuple[float, float]]:
    s = log.series[name]
    return list(zip(s.steps.tolist(), s.values.tolist(), strict=True))


def test_imagenet_progress_meter() -> None:
    """pytorch/examples' imagenet ProgressMeter (MoCo, SimSiam): tab-separated 'Loss 7.1782e+00
    (7.1782e+00)' meters, no colon; the value is the batch's, the bracket its running mean. A
    validation's running mean at its last batch is the pass's mean."""
    lines = []
    for e in range(3):
        for i in (1, 51, 101):
            loss = 7.0 - e - i / 100
            lines.append(
                f"Epoch: [{e}][{i:3d}/101]\tTime  0.376 ( 0.376)\tData  0.013 ( 0.013)\t"
                f"Loss {loss:.4e} ({loss + 0.5:.4e})\tAcc@1   6.54 (  5.14)\tAcc@5  46.59 ( 45.78)"
            )
        for i, mean in ((1, 9.0), (11, 5.0 - e)):
            lines.append(
                f"Test: [{i:2d}/11]\tTime  0.100 ( 0.100)\tLoss 4.9721e+00 ({mean:.4e})\tAcc@1  30.39 ( 30.39)"
            )
        lines.append(" *   Acc@1 30.390 Acc@5 60.220")
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.loss.name == "loss" and run.loss.steps.tolist() == [e * 101 + i for e in range(3) for i in (1, 51, 101)]
    assert run.loss.values[0] == pytest.approx(7.0 - 0.01)  # the batch's value, not the bracketed mean
    assert run.val_loss is not None and run.val_loss.name == "test_loss"
    assert run.val_loss.values.tolist() == [5.0, 4.0, 3.0]  # the last batch's running mean, per pass


def test_a_word_shortened_with_a_dot_stays_in_the_key() -> None:
    """pytorch/examples' super_resolution: '===> Epoch 1 Complete: Avg. Loss: 0.0951' is the
    epoch's mean, not a point of the per-iteration loss ('Done. loss' still ends a sentence)."""
    assert parse_line("===> Epoch 1 Complete: Avg. Loss: 0.0951").points == [("avg_loss", 0.0951)]  # type: ignore[union-attr]
    assert parse_line("Done. loss: 0.5").points == [("loss", 0.5)]  # type: ignore[union-attr]


def test_nnunet_loss_lines() -> None:
    """nnU-Net v2's print_to_log_file: '<time>: train_loss -0.4322', one value after a timestamp."""
    lines = []
    for e in range(5):
        lines += [
            f"2024-05-01 09:00:{e:02d}.295444: Epoch {e} ",
            f"2024-05-01 09:00:{e:02d}.796187: Current learning rate: 0.01 ",
            f"2024-05-01 09:00:{e:02d}.886255: train_loss {-0.1 * e:.4f} ",
            f"2024-05-01 09:00:{e:02d}.906717: val_loss {-0.08 * e:.4f} ",
            f"2024-05-01 09:00:{e:02d}.970547: Pseudo dice [np.float32(0.08), np.float32(0.06)] ",
        ]
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.loss.name == "train_loss" and run.loss.values.tolist() == [round(-0.1 * e, 4) for e in range(5)]
    assert run.val_loss is not None and run.val_loss.name == "val_loss" and len(run.val_loss) == 5
    assert run.lr is not None and run.step_kind == "epoch"


def test_ignite_results_are_evaluations_and_its_bar_description_holds_the_loss() -> None:
    """PyTorch Ignite's mnist examples: 'Training Results - Epoch: 1 ...' and 'Validation Results
    - ...' are evaluations on each set after an epoch (they had been interleaved as one 'avg_loss'
    judged as the training loss), and 'ITERATION - loss: 2.38' describes its bar."""
    lines = []
    for e in range(1, 6):
        bars = [
            f"ITERATION - loss: {2.5 - e / 3 - k / 100:.2f}:  {k}%|#  | {k}/90 [00:00<00:11, 80.00it/s]"
            for k in (30, 60, 90)
        ]
        lines.append("\r".join(bars))
        lines.append(f"Training Results - Epoch: {e}  Avg accuracy: 0.{e}8 Avg loss: {2 - e / 4:.2f}")
        lines.append(f"Validation Results - Epoch: {e}  Avg accuracy: 0.{e}3 Avg loss: {2.2 - e / 4:.2f}")
    log = read("\n".join(lines) + "\n")
    assert "avg_loss" not in log.series and "progress/loss" in log.series
    run = normalize(log)
    assert run.loss.name == "train_avg_loss" and run.loss.values.tolist() == [round(2 - e / 4, 2) for e in range(1, 6)]
    assert run.val_loss is not None and run.val_loss.name == "val_avg_loss" and len(run.val_loss) == 5
    assert parse_line("Epoch[1] Iteration[10/938] Loss: 2.25").points == [("loss", 2.25)]  # type: ignore[union-attr]


def test_a_log_whose_every_line_is_in_one_epoch_is_read_in_write_order() -> None:
    """A pretraining log's first epoch ('ep: 0, batch: 20, ..., loss: 10.98'): every point at
    epoch 0 is no span of epochs but points one after another."""
    lines = [f"ep: 0, time: 9.17, ntokens: 485.20/513, loss: {11 - b / 5:.6f}" for b in range(1, 14)]
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.step_kind == "index" and run.loss.steps.tolist() == list(range(13))
    assert any(
        "every point of 'loss' is at epoch 0: read in write order, one point after another" in w for w in run.warnings
    )


def test_a_batch_counter_beside_the_epoch_is_the_step() -> None:
    """A hand-written loop that counts batches, not steps ('ep: 0, batch: 20, ..., loss: 10.98'):
    the batch is the step; where it restarts each epoch, each epoch's batches follow the last's."""
    lines = [f"ep: 0, batch: {b * 20}, time: 9.17, ntokens: 485.20/513, loss: {11 - b / 5:.6f}" for b in range(1, 14)]
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.step_kind == "step" and run.loss.steps.tolist() == [b * 20 for b in range(1, 14)]
    assert "batch" not in run.series
    # Each epoch restarting its count, in three ways of writing it.
    for line in (
        "epoch: {e}, batch: {b}, loss: {v:.4f}",
        "Epoch [{e}/3], Batch [{b}/100], Loss: {v:.4f}",
        "Epoch {e} | Batch: {b}/100 | Loss: {v:.4f}",
    ):
        text = "".join(line.format(e=e, b=b, v=3 - e - b / 100) + "\n" for e in range(3) for b in (20, 40, 60, 80, 100))
        run = normalize(read(text))
        assert run.step_kind == "step", line
        assert run.loss.steps.tolist() == [20.0 * k for k in range(1, 16)], line
        # (where the line writes the epoch's batches, they place the restart: nothing is guessed)
        guessed = any("the step restarts at each epoch (2 time(s))" in w for w in run.warnings)
        assert guessed == ("/100" not in line), line
    # A count logged twice an epoch ('batch: 200/400', 'batch: 400/400'): each fall is an epoch's start.
    twice = "".join(
        f"epoch: {e}, batch: {b}/400, loss: {3 - e / 10 - b / 1000:.4f}\n" for e in range(1, 6) for b in (200, 400)
    )
    run = normalize(read(twice))
    assert run.step_kind == "step" and run.loss.steps.tolist() == [200.0 * k for k in range(1, 11)]
    # An epoch's validation line, without the count: at the last count before it, as for a step.
    text = "".join(
        "".join(f"Epoch [{e}/3], Batch [{b}/300], Loss: {3 - e - b / 1000:.4f}\n" for b in (100, 200, 300))
        + f"Epoch [{e}/3], Val Loss: {2 - e / 10:.4f}\n"
        for e in (1, 2, 3)
    )
    run = normalize(read(text))
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [300, 600, 900]
    # A running count of batches with no epoch: 'batch 40 loss 2.5'.
    run = normalize(read("".join(f"batch {b} loss {3 - b / 100}\n" for b in range(0, 120, 20))))
    assert run.step_kind == "step" and run.loss.steps.tolist() == [0, 20, 40, 60, 80, 100]


@pytest.mark.parametrize(
    "line", ["[Epoch {e}][Batch {b}/42] loss: {v:.4f}", "epoch: {e}, batch: {b}/42, loss: {v:.4f}"]
)
def test_the_batch_of_the_epoch_out_of_its_total_beside_a_global_step(line: str) -> None:
    """Training lines that count the batch of the epoch out of its total ('batch: 10/42'), beside
    evaluation lines that count the global step ('step 42: val_loss=0.21'): each training line is
    at its epoch's start plus its batch. The batches after the first epoch had taken the step of
    the evaluation before them (one point an epoch kept), and the first epoch's had been dropped."""
    lines = []
    for e in range(1, 5):
        lines += [line.format(e=e, b=b, v=3 - e / 2 - b / 100) for b in (10, 20, 30, 40)]
        lines.append(f"step {42 * e}: val_loss={3 - e / 2:.4f}")
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.step_kind == "step"
    assert run.loss.steps.tolist() == [42.0 * e + b for e in range(4) for b in (10, 20, 30, 40)]
    assert run.loss.values[:2].tolist() == [2.4, 2.3]
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [42.0, 84.0, 126.0, 168.0]
    assert "batch" not in run.series


def test_the_pytorch_tutorial_epoch_and_minibatch() -> None:
    """PyTorch's CIFAR-10 tutorial prints '[1,  2000] loss: 2.190': the epoch, then the minibatch
    of that epoch (a count that restarts each epoch), then the loss; each epoch's minibatches
    follow the last's."""
    lines = [
        f"[{e + 1}, {b:5d}] loss: {2.3 - e / 2 - b / 20000:.3f}" for e in range(2) for b in range(2000, 12001, 2000)
    ]
    lines.append("Finished Training")
    lines.append("Accuracy of the network on the 10000 test images: 54 %")
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.step_kind == "step"
    assert run.loss.steps.tolist() == [2000.0 * k for k in range(1, 13)]
    assert run.loss.values[0] == 2.2 and run.loss.values[-1] == 1.2
    assert run.loss.name == "loss" and run.val_loss is None


def test_a_batch_that_is_no_counter_is_not_the_step() -> None:
    """A batch size printed on every line, a count that goes back with no epoch beside it, and
    a loss also written on lines without the count (an epoch's summary) place nothing."""
    size = "".join(f"epoch: {e}, batch: 32, loss: {3 - e - k / 10:.2f}\n" for e in range(3) for k in range(5))
    run = normalize(read(size))
    assert run.step_kind != "step" and "batch" in run.series
    # ... a batch size whose epoch ends on a smaller batch, or that grows in stages
    last = "".join(
        f"epoch: {e}, batch: {17 if k == 4 else 32}, loss: {3 - e - k / 10:.2f}\n" for e in range(3) for k in range(5)
    )
    assert read(last).step_kind == "epoch"
    ramp = "".join(f"batch: {32 * 2 ** (k // 10)}, loss: {3 - k / 100:.2f}\n" for k in range(30))
    assert read(ramp).step_kind == "index"
    # ... and one that opens with its small last batch, then falls back to it at each epoch's end
    first = "epoch: 0, batch: 8, loss: 3.0\n" + "".join(
        f"epoch: {e}, batch: {8 if k == 3 else 32}, loss: {3 - e / 10 - k / 100:.2f}\n"
        for e in range(1, 11)
        for k in range(4)
    )
    assert read(first).step_kind == "epoch"
    back = "".join(f"batch: {b}, loss: {3 - r - b / 100:.2f}\n" for r in range(2) for b in (20, 40, 60))
    assert read(back).step_kind == "index"
    summary = "".join(
        "".join(f"Epoch {e} Batch {b} Loss {3 - e - b / 1000:.4f}\n" for b in (0, 100, 200))
        + f"Epoch {e} Loss {2.9 - e}\n"
        for e in range(1, 4)
    )
    log = read(summary)
    assert log.step_kind == "epoch" and len(log.series["loss"]) == 12


def test_the_pytorch_quickstart_test_error_block_is_the_test_loss() -> None:
    """The PyTorch Quickstart tutorial prints 'Test Error: ' on a line of its own and the test
    set's ' Accuracy: 56.5%, Avg loss: 1.305452' on the next."""
    lines = []
    for e in range(1, 5):
        lines += [f"Epoch {e}", "-------------------------------"]
        lines += [f"loss: {2.3 - e / 5 - k / 1000:>7f}  [{k * 64:>5d}/60000]" for k in range(0, 1000, 100)]
        lines += ["Test Error: ", f" Accuracy: {50 + e}.5%, Avg loss: {1.5 - e / 10:>8f} ", ""]
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.loss.name == "loss" and len(run.loss) == 40
    assert run.val_loss is not None and run.val_loss.name == "test_avg_loss"
    assert run.val_loss.values.tolist() == [round(1.5 - e / 10, 6) for e in range(1, 5)]


@pytest.mark.parametrize(
    "prefix",
    [
        "[2024-05-01 10:00:00,000][trainer.py:120][INFO] ",
        "2024-05-01 10:00:00,000 - trainer.py:120 - INFO - ",
        "I0501 10:00:00.000 1234 trainer.py:120] ",
        "[gpu01] 2024-03-01 10:04:15,618 (trainer:732) INFO: ",
        "[2024-04-02 01:59:26][INFO][trainer:837] - ",
        "[2024-04-02 01:59:26][INFO][__main__:113] - ",
    ],
)
def test_a_loggers_source_location_is_no_metric(prefix: str) -> None:
    log = read("".join(f"{prefix}step={k} loss={2 - k / 100:.2f}\n" for k in range(1, 21)))
    assert set(log.series) == {"loss"} and points(log, "loss")[-1] == (20.0, 1.8)
    assert parse_line("loss=2.3 (step:5)").step == 5.0  # type: ignore[union-attr]  # a counter in brackets stays one


def test_espnet2_reporter_lines() -> None:
    """ESPnet2: per window of batches ('1epoch:train:601-700batch: ... loss=161.0, ...,
    optim0_lr0=5.6e-04'), and each epoch's '[train] ... [valid] ...' means: the validation loss
    had been read as a point of the training loss, and the rate from a config dump."""
    prefix = "[gpu01] 2024-03-01 10:04:15,618 (trainer:{}) INFO: "
    lines = ["[gpu01] 2024-03-01 10:00:00,000 (abs_task:1200) INFO: Optimizer:\n    lr: 8e-08"]
    for e in range(1, 4):
        for b in range(100, 501, 100):
            loss = 200 - 20 * e - b / 50
            lines.append(
                prefix.format(732)
                + f"{e}epoch:train:{b - 99}-{b}batch: iter_time=1.200e-04, loss_ctc={loss + 40:.3f}, "
                f"loss={loss:.3f}, optim0_lr0={e * 1e-3:.3e}, train_time=0.345"
            )
        lines.append(
            prefix.format(338) + f"{e}epoch results: [train] iter_time=1.200e-04, loss={190 - 20 * e:.3f}, "
            f"time=5 minutes and 50.12 seconds, total_count=1000, [valid] loss_ctc=168.347, loss={150 - 20 * e:.3f}, "
            "time=12.34 seconds, total_count=50"
        )
    log = read("\n".join(lines) + "\n")
    assert "trainer" not in log.series and naming.find_lr(log.series) == "optim0_lr0"
    run = normalize(log)
    assert run.loss.name == "loss" and len(run.loss) == 15 and max(run.loss.values) < 190
    assert run.val_loss is not None and run.val_loss.name == "valid_loss"
    assert run.val_loss.values.tolist() == [130.0, 110.0, 90.0]
    assert run.lr is not None and run.lr.name == "optim0_lr0"


def test_litgpt_iterations_are_the_axis_its_validation_shares() -> None:
    """litgpt prints 'Epoch 1 | iter 4 step 1 | loss train: 1.626, ...' and 'iter 100: val loss
    1.1631, ...': the training lines counted optimizer steps and the validation iterations, so
    the validation fell past the training's end."""
    lines = []
    for it in range(1, 201):
        step = it // 4
        lines.append(
            f"Epoch 1 | iter {it} step {step} | loss train: {2 - it / 200:.3f}, val: n/a | iter time: 484.88 ms"
            + (" (step)" if it % 4 == 0 else "")
        )
        if it % 50 == 0:
            lines += ["Validating ...", f"iter {it}: val loss {1.8 - it / 250:.4f}, val time: 8983.52 ms"]
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.loss.steps.tolist() == list(range(1, 201))
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [50.0, 100.0, 150.0, 200.0]
    assert parse_line("step 5 iter 20: loss 2.0").step == 20.0  # type: ignore[union-attr]  # in either order


def test_build_nanogpt_log_txt() -> None:
    """build-nanogpt's log file: '<step> train <loss>', '<step> val <loss>', '<step> hella <acc>'."""
    lines = []
    for step in range(0, 300):
        if step % 100 == 0:
            lines += [f"{step} val {4 - step / 100:.4f}", f"{step} hella 0.25{step // 100}0"]
        lines.append(f"{step} train {4.2 - step / 100:.6f}")
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.loss.name == "train_loss" and run.loss.steps.tolist() == list(range(300))
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [0.0, 100.0, 200.0]


def test_opennmt_cross_entropy_is_the_loss() -> None:
    """OpenNMT-py: 'Step 50/15000; acc: 10.8; ppl: 3076.9; xent: 8.0; lr: 0.00001; ...'."""
    prefix = "[2024-06-01 10:00:49,483 INFO] "
    lines = [
        f"{prefix}Step {s}/1000; acc: 10.8; ppl: 3076.9; xent: {8 - s / 200:.1f}; lr: 0.00100;"
        for s in range(50, 1001, 50)
    ]
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.loss.name == "xent" and len(run.loss) == 20 and run.lr is not None
    assert naming.find_loss(["ppl", "nll", "acc"]) == "nll"


# What the rules above must not catch: logs that were read right before them.


@pytest.mark.parametrize(
    "line",
    [
        "INFO: train.py:120 step={s} loss={v}",
        "INFO (trainer:732): step={s} loss={v}",
        "rank0: train.py:120 step={s} loss={v}",
        "trainer (train.py:120): step={s} loss={v}",
    ],
)
def test_a_line_without_its_source_location_is_no_python_code(line: str) -> None:
    log = read("".join(line.format(s=s, v=f"{2 - s / 100:.2f}") + "\n" for s in range(1, 21)))
    assert set(log.series) == {"loss"} and points(log, "loss")[-1] == (20.0, 1.8)


def test_a_counter_in_brackets_is_no_source_location() -> None:
    log = read("".join(f"Train (ep:{e}) loss: {2 - e / 10:.2f}\n" for e in range(1, 10)))
    assert log.step_kind == "epoch" and points(log, "loss")[-1] == (9.0, 1.1)


def test_a_results_or_error_word_marks_only_the_values_after_it() -> None:
    log = read(
        "".join(f"Epoch {e} | Train Loss: {2 - e / 10:.4f} | Test Error: {5 - e / 5:.2f}%\n" for e in range(1, 9))
    )
    assert normalize(log).loss.name == "train_loss" and "test_error" in log.series
    log = read("".join(f"step {s} loss {2 - s / 100:.3f} lr 0.001 | Test Results saved\n" for s in range(1, 30)))
    assert {"loss", "lr"} <= set(log.series)
    both = parse_line("[1] train_loss: 1.9 | Validation Results: val_loss: 2.0 acc: 0.5")
    assert both is not None and both.points == [("train_loss", 1.9), ("val_loss", 2.0), ("val_acc", 0.5)]


@pytest.mark.parametrize(
    "line", ["Validation: loss {v}", "Eval: loss {v}", "Best so far: val_loss {v}", "Evaluation on dev set: loss {v}"]
)
def test_a_worded_prefix_before_a_loss_is_no_timestamp(line: str) -> None:
    """Only a prefix of no words (nnU-Net's timestamp) heads a bare 'name value' loss line: an
    evaluation's 'Validation: loss 3.5' had joined the training loss. A title that names an
    evaluation makes its values the evaluation's, at the step before; other words, nothing."""
    lines = [f"step {s}: loss={3 - s / 500:.4f} lr=0.001" for s in range(10, 1001, 10)]
    lines += [line.format(v=0.5)]
    log = read("\n".join(lines) + "\n")
    assert len(points(log, "loss")) == 100
    if line.startswith(("Validation:", "Eval:")):
        assert points(log, "val_loss") == [(1000.0, 0.5)]
    else:
        assert "val_loss" not in log.series


def test_a_numbered_line_of_words_is_no_step() -> None:
    lines = [f"Epoch {e}: train_loss={2 - e / 20:.3f} val_loss={2.1 - e / 20:.3f}" for e in range(1, 31)]
    lines += ["Per-class accuracy:", "0 plane 0.80", "1 car 0.81", "2 bird 0.82", "12 Jan 2024", "50000 train 10000"]
    log = read("\n".join(lines) + "\n")
    assert log.step_kind == "epoch" and set(log.series) == {"train_loss", "val_loss"}


def test_an_iteration_beside_a_step_is_the_step_only_in_litgpts_layout() -> None:
    """Elsewhere the optimizer step stays the step: validation lines may count steps."""
    lines = []
    for it in range(4, 801, 4):
        lines.append(f"iter {it} step {it // 4} | loss {3 - it / 400:.3f} | lr 0.0003")
        if (it // 4) % 50 == 0:
            lines.append(f"step {it // 4} | val_loss {3.1 - it / 400:.3f}")
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.loss.steps[-1] == 200.0 and run.val_loss is not None and run.val_loss.steps[-1] == 200.0


def test_a_log_with_training_lines_keeps_its_evaluations_named_so() -> None:
    """Training lines that log no loss (a perplexity) do not make the evaluations the run's loss."""
    lines = []
    for s in range(1, 51):
        lines.append(f"mode: train step: {s * 10} ppl: {30 - s / 5:.2f} lr: 0.001")
        if s % 5 == 0:
            lines.append(f"mode: val step: 1 loss: {3 - s / 50:.3f} acc: 0.5")
    log = read("\n".join(lines) + "\n")
    assert "val_loss" in log.series and "loss" not in log.series
    assert not any("marked as an evaluation" in w for w in log.warnings)


def test_loss_and_rate_names_from_counted_words() -> None:
    # a weight, not a loss; the cross-entropy beside a step and a rate is the training's loss
    assert naming.find_loss(["step", "ce", "nll_weight", "lr"]) == "ce"
    assert naming.find_loss(["nll_weight", "accuracy"]) is None
    assert naming.find_loss(["step", "mlm_loss", "nsp_loss", "nll"]) == "mlm_loss"
    assert naming.find_loss(["step", "val_nll", "train_nll"]) == "train_nll"
    assert naming.find_lr(["step", "loss", "acc_lr0.1"]) is None  # a rate in a name, not a rate
    assert naming.find_lr(["lr0.1", "lr0.01"]) is None
    assert naming.find_lr(["x/lr1", "x/lr0"]) == "x/lr0" and naming.find_lr(["optim0_lr0"]) == "optim0_lr0"


def test_a_sentence_ending_in_an_abbreviation_still_ends() -> None:
    assert parse_line("Took 3 min. loss: 2.3").points == [("loss", 2.3)]  # type: ignore[union-attr]


def test_lightnings_plain_test_table_leaves_a_bar_only_log_read_at_every_refresh() -> None:
    """Lightning without `rich` ends with a table ('        test_loss           0.3456789'): no
    timestamp heads that row, so it is no nnU-Net line, and the bars stay read at every refresh."""
    out = []
    for e in range(3):
        out.append(
            "\r".join(
                f"Epoch {e}: {s // 2:3d}%|#  | {s}/200 [00:10<00:12, train_loss_step={2.5 - e / 2 - s / 1e3:.3f}]"
                for s in range(0, 201, 10)
            )
        )
    out += [
        "─" * 40,
        "       Test metric             DataLoader 0",
        "─" * 40,
        "        test_loss           0.3456789",
        "─" * 40,
    ]
    log = read("\n".join(out) + "\n")
    assert set(log.series) == {"progress/train_loss_step"} and len(points(log, "progress/train_loss_step")) > 60


def test_a_total_shortened_with_a_dot_is_still_the_total() -> None:
    log = read(
        "".join(
            f"Step {s}: CE loss: {2 - s / 100:.4f}, KL loss: 0.3000, Tot. loss: {2.3 - s / 100:.4f}\n"
            for s in range(50)
        )
    )
    assert normalize(log).loss.name == "tot_loss"
    log = read(
        "".join(
            f"Iter {s}: cls loss: {1 - s / 100:.3f}, box loss: 0.5, Ave. loss: {1.5 - s / 100:.3f}\n" for s in range(50)
        )
    )
    assert normalize(log).loss.name == "ave_loss"


def test_each_marker_names_only_the_values_up_to_the_next() -> None:
    line = "Epoch {e} | Train Loss: {v:.4f} | Train Error: 27.15 | Test Loss: {w:.4f} | Test Error: 28.95"
    log = read("".join(line.format(e=e, v=2.6 - e / 10, w=2.8 - e / 10) + "\n" for e in range(1, 9)))
    assert set(log.series) == {"train_loss", "train_error", "test_loss", "test_error"}
    both = parse_line("Training Results - Epoch: 1  Avg loss: 1.5 | Validation Results - Epoch: 1  Avg loss: 1.7")
    assert both is not None and both.points == [("train_avg_loss", 1.5), ("val_avg_loss", 1.7)]


_FASTAI = """Some weights of the model checkpoint were not used
epoch     train_loss  valid_loss  accuracy  time
0         0.571278    1.090870    0.556250  00:23
Better model found at epoch 0 with valid_loss value: 1.0908700227737427.
epoch     train_loss  valid_loss  accuracy  time
0         0.477181    0.990721    0.606250  00:22
1         0.322664    0.800471    0.668750  00:22
Better model found at epoch 1 with valid_loss value: 0.800471.
2         0.252664    0.700471    0.708750  00:22
3         #na#        0.650471    0.728750  00:22

Evaluating Network..
              precision    recall  f1-score   support

           0       0.61      0.60      0.61      1000
           1       0.72      0.69      0.71      1000
"""
# fastai pads every cell, the last one too.
FASTAI = "".join(line + "     \n" for line in _FASTAI.splitlines())


def test_fastai_console_table() -> None:
    """fastai's training loop in a terminal: a header of column names over one row per epoch. A
    callback's line between rows is no row, `#na#` and times are no values, and a classification
    report printed after training is not read as epochs. `fine_tune` prints a second table counted
    from 0 again: a run of its own (the unfrozen model's), judged as appended runs are."""
    log = read(FASTAI)
    assert log.format == "text-table" and log.step_kind == "epoch"
    assert points(log, "train_loss") == [(0, 0.571278), (0, 0.477181), (1, 0.322664), (2, 0.252664)]
    assert points(log, "valid_loss")[-1] == (3, 0.650471)
    assert sorted(log.series) == ["accuracy", "train_loss", "valid_loss"]
    run = normalize(log)
    assert run.loss.name == "train_loss" and run.val_loss is not None and run.val_loss.name == "valid_loss"
    assert run.loss.steps.tolist() == [0, 1, 2] and run.val_loss.steps.tolist() == [0, 1, 2, 3]


REPORT = """
              precision    recall  f1-score   support

           3       0.99      1.00      1.00      1010
           7       1.00      0.99      1.00      1028
"""


def test_a_classification_report_after_one_epoch_is_no_row() -> None:
    """After a one-epoch table, a report row's class label (3, 7) counts up like an epoch, and it
    has as many cells as fastai's header; its support is no time."""
    table = "epoch     train_loss  valid_loss  error_rate  time\n0         0.045112    0.027335    0.008832  00:05\n"
    log = read(table + "1         0.021587    0.014985    0.004416  00:05\n" + REPORT)
    assert points(log, "train_loss") == [(0, 0.045112), (1, 0.021587)]
    assert "time" not in log.series


def test_a_loss_printed_once_beside_a_table_leaves_the_table_read() -> None:
    rows = "".join(f"{e:<10d}{2.0 - 0.1 * e:<12.6f}{2.1 - 0.1 * e:<12.6f}00:05\n" for e in range(6))
    log = read("Epoch 1 loss: 0.5\nepoch     train_loss  valid_loss  time\n" + rows + "Final loss: 0.2\n")
    assert log.format == "text-table" and len(log.series["train_loss"]) == 6


@pytest.mark.parametrize("prefix", ["2024-05-01T12:00:00.123Z ", "[default0]:", "2024-05-01 12:00:00,123 INFO "])
def test_a_table_under_a_prefix_on_every_line(prefix: str) -> None:
    """Timestamps (docker logs -t), torchrun --tee's rank, a logging format's fields."""
    lines = ["epoch     train_loss  valid_loss  <lambda>  time"]
    lines += [f"{e:<10d}{2.0 - 0.1 * e:<12.6f}{2.1 - 0.1 * e:<12.6f}0.5  00:05" for e in range(5)]
    log = read("".join(prefix + line + "\n" for line in lines))
    assert [s for s, _ in points(log, "train_loss")] == [0, 1, 2, 3, 4]
    assert "<lambda>" in log.series


def test_a_table_of_several_rows_an_epoch_takes_its_step_column() -> None:
    lines = ["epoch  iter  loss    lr"] + [
        f"{i // 3}      {100 * (i + 1)}   {2.3 - 0.1 * i:.2f}    0.001" for i in range(9)
    ]
    log = read("\n".join(lines) + "\n")
    assert log.step_kind == "step" and [s for s, _ in points(log, "loss")] == [100 * (i + 1) for i in range(9)]
    assert "iter" not in log.series and log.series["epoch"].values.tolist() == [i // 3 for i in range(9)]


def test_a_table_with_times_in_seconds_and_a_step_counted_within_each_epoch() -> None:
    rows = "".join(f"{e:<7d}{2.3 - 0.1 * e:<12.4f}{2.5 - 0.1 * e:<10.4f}0.8    {12.3 + e / 10:.2f}\n" for e in range(8))
    log = read("epoch  train_loss  val_loss  val_acc  time\n" + rows)
    assert len(log.series["train_loss"]) == 8 and log.series["time"].values[0] == 12.3
    lines = ["epoch  iter  loss"] + [f"{i // 3}      {100 * (i % 3 + 1)}   {2.3 - 0.1 * i:.2f}" for i in range(9)]
    log = read("\n".join(lines) + "\n")
    assert [s for s, _ in points(log, "loss")] == [100 * (i + 1) for i in range(9)]
    lines = ["epoch  iter  loss"] + [f"{i // 3}      {100 * (i % 3)}   {2.3 - 0.1 * i:.2f}" for i in range(9)]
    log = read("\n".join(lines) + "\n")  # counted from 0 in each epoch
    assert [s for s, _ in points(log, "loss")] == [100 * i for i in range(9)]
    # Logged every 30 of 100 steps an epoch, counted within it: each epoch's first row a stride on.
    lines = ["epoch  iter  loss"] + [
        f"{e}  {it}  2.0" for e, it in ((0, 0), (0, 30), (0, 60), (0, 90), (1, 20), (1, 50))
    ]
    assert [s for s, _ in points(read("\n".join(lines) + "\n"), "loss")] == [0, 30, 60, 90, 120, 150]
    # One row an epoch with the count at its end (391 iterations an epoch): an epoch a count long.
    lines = ["epoch  iter  loss"] + [f"{e}  391  {2.2 - 0.1 * e:.1f}" for e in range(4)]
    assert [s for s, _ in points(read("\n".join(lines) + "\n"), "loss")] == [391, 782, 1173, 1564]
    # A global step whose every epoch repeats the last step of the one before: no count within
    # an epoch; the table ends there, as any counter that goes back ends one.
    lines = ["epoch  iter  loss", "0  0  2.3", "0  100  2.2", "1  100  2.1", "1  200  2.0"]
    assert [s for s, _ in points(read("\n".join(lines) + "\n"), "loss")] == [0, 100]
    rows = "".join(f"{e:<7d}{2.3 - 0.1 * e:<12.4f}{2.5 - 0.1 * e:<10.4f}{12 + e}\n" for e in range(8))
    log = read("epoch  train_loss  val_loss  time\n" + rows)  # whole seconds
    assert len(log.series["train_loss"]) == 8


def test_a_long_digit_run_in_a_cell_is_read_in_linear_time() -> None:
    """The number pattern backtracks over a digit run followed by a letter: cells are capped."""
    with pytest.raises(UnreadableLog):
        text.read(Source("train.log", data=("step loss\n1 " + "1" * 200_000 + "x\n").encode()))


def test_fastai_v1_table_counts_from_one_and_has_no_time_column() -> None:
    rows = "".join(f"{e:<10d}{3.3 - 0.1 * e:<12.6f}{3.4 - 0.05 * e:<12.6f}{0.38 + 0.01 * e:.6f}\n" for e in range(1, 6))
    log = read(
        "Training lm from random weights\nepoch     train_loss  valid_loss  accuracy\n" + rows + "Total time: 02:58\n"
    )
    assert [s for s, _ in points(log, "train_loss")] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "content",
    [
        "epoch     train_loss  valid_loss  time\n",  # a header, no row
        "epoch     train_loss  valid_loss\nfoo       bar         baz\n",
        "name      size  loss\n0         1     2\n",  # no counter first
        "0         0.61      0.60      0.61      1000\n",  # rows under no header
    ],
)
def test_no_table_without_a_header_and_rows_of_numbers(content: str) -> None:
    with pytest.raises(UnreadableLog, match="no training metrics"):
        text.read(Source("train.log", data=content.encode()))


def _yolov5_results(epochs: int, of: int, *, notest: bool = False) -> str:
    """results.txt as YOLOv5 (up to v5.0) wrote it: no header, a line per epoch."""
    rows = []
    for e in range(epochs):
        box, obj, cls = 0.1 - 0.002 * e, 0.05 - 0.001 * e, 0.03 - 0.0005 * e
        val = [0.0] * 7 if notest and e < of - 1 else [0.5, 0.6, 0.4, 0.2, 0.09, 0.05, 0.03]
        cells = [f"{e}/{of - 1}", "4.54G", box, obj, cls, box + obj + cls, 78, 640, *val]
        rows.append("".join(f"{c:>10.4g}" if isinstance(c, float) else f"{c:>10}" for c in cells))
    return "\n".join(rows) + "\n"


def test_yolov5_results_txt_is_read_by_its_columns() -> None:
    """A headerless table of numbers had given 'no training metrics found'."""
    log = read(_yolov5_results(30, 30))
    assert log.format == "text-yolov5" and log.step_kind == "epoch"
    run = normalize(log)
    assert run.metric == "train/loss" and run.loss.steps.tolist() == list(range(30))
    assert run.loss.values[0] == pytest.approx(0.18) and run.val_metric == "val/loss"
    assert run.val_loss is not None and run.val_loss.values[0] == pytest.approx(0.17)
    assert not any("the run was set for" in w for w in run.warnings)
    damaged = normalize(read("\x00\x00garbled\n" + _yolov5_results(30, 30)))  # a first line damaged
    assert damaged.format == "text-yolov5" and len(damaged.loss) == 30
    assert any("skipped 1 line(s) not in the layout of the others" in w for w in damaged.warnings)
    short = normalize(read(_yolov5_results(10, 300)))  # 10 of 300 epochs
    assert any("the log ends at epoch 9 of the 300 the run was set for" in w for w in short.warnings)


def test_yolov5_results_txt_of_a_run_without_validation_keeps_its_one_evaluation() -> None:
    run = normalize(read(_yolov5_results(12, 12, notest=True)))
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [11]


def test_yolov5_results_txt_of_a_diverged_run_keeps_its_nan_rows() -> None:
    """YOLOv5 prints a NaN loss as 'nan' ('%10.4g'): those rows are the divergence, not lines to skip."""
    text = _yolov5_results(20, 20)
    lines = text.splitlines()
    for k in range(15, 20):
        cells = lines[k].split()
        cells[2:6] = ["nan"] * 4
        lines[k] = "  ".join(cells)
    run = normalize(read("\n".join(lines) + "\n"))
    assert len(run.loss) == 20 and np.isnan(run.loss.values[15:]).all()
    assert not any("skipped" in w for w in run.warnings)


def _yolo_console(v8: bool, epochs: int, of: int) -> str:
    """YOLOv5's (v6 and later) or Ultralytics' console output: a header before each epoch's bar,
    the bar refreshed in place (carriage returns), its last refresh the epoch's running mean."""
    if v8:
        header = "      Epoch    GPU_mem   box_loss   cls_loss   dfl_loss  Instances       Size"
    else:
        header = "     Epoch   gpu_mem       box       obj       cls    labels  img_size"
    out = ["Model Summary: 280 layers, 7276605 parameters", "AutoAnchor: 4.95 anchors/target"]
    for e in range(epochs):
        shown = e + 1 if v8 else e
        refreshes = []
        for done in (10, 100):
            parts = [1.5 - 0.02 * e + (100 - done) / 1000, 1.0 - 0.01 * e, 1.2 - 0.005 * e]
            row = f"{shown:>10}/{of - (0 if v8 else 1)}     5.05G" + "".join(f"{p:>11.4g}" for p in parts)
            refreshes.append(f"{row}         25        640: {done:>3}%|##########| {done}/100 [00:02<00:00]")
        out += [header, "\r".join(refreshes)]
        out.append("                 Class     Images  Instances      Box(P          R      mAP50  mAP50-95)")
        out.append("                   all        128        929      0.651      0.554      0.612      0.451")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("v8", [False, True])
def test_yolo_console_output_is_read_by_its_header(v8: bool) -> None:
    """It had given 'no series looks like a training loss; found autoanchor, model_summary ...'."""
    run = normalize(read(_yolo_console(v8, 20, 20)))
    assert run.metric == "train/loss" and run.step_kind == "epoch" and len(run.loss) == 20
    assert run.loss.steps[0] == (1 if v8 else 0)
    assert run.loss.values[0] == pytest.approx(3.7)  # the sum of the parts at the epoch's last refresh
    assert not any("the run was set for" in w for w in run.warnings)
    short = normalize(read(_yolo_console(v8, 5, 100)))
    assert any("ends at epoch" in w and "of the 100 the run was set for" in w for w in short.warnings)


def test_word_language_model_batches_are_the_step() -> None:
    """pytorch/examples' word_language_model: '| epoch 1 | 200/ 2983 batches | lr 20.00 | ... |
    loss 7.71 |', the batch of the epoch counted on over the epochs, the end-of-epoch validation at
    the last batch before it."""
    lines = []
    for e in (1, 2):
        for b in (200, 400, 600):
            lines.append(
                f"| epoch {e:3d} | {b:5d}/  700 batches | lr 20.0000 | ms/batch 11.43 | loss {8 - e - b / 1000:5.2f} |"
                f" ppl {3000 - e * 100 - b:8.2f}"
            )
        lines.append("-" * 89)
        lines.append(f"| end of epoch {e:3d} | time: 35.24s | valid loss {7.5 - e:5.2f} | valid ppl   241.84")
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.step_kind == "step" and run.loss.steps.tolist() == [200, 400, 600, 900, 1100, 1300]
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [600, 1300]
    assert not any("share their step" in w for w in run.warnings)


def test_pix2pix_cyclegan_loss_log_reads_its_capitalised_losses() -> None:
    """pytorch-CycleGAN-and-pix2pix's loss_log.txt: '(epoch: 1, iters: 100, time: 0.857, data:
    2.929) D_A: 0.111 G_A: 0.660 cycle_A: 1.700': every loss a series (a settings dump's
    'BATCH_SIZE: 32' is none), the images of the epoch so far as the step."""
    lines = ["================ Training Loss (Thu Jun 10 10:26:25 2021) ================", "BATCH_SIZE: 4"]
    for e in (1, 2):
        for i in (100, 200, 300, 400):
            g = 1.5 - e / 4 - i / 2000
            lines.append(f"(epoch: {e}, iters: {i}, time: 0.857, data: 0.001) D_A: 0.111 G_A: {g:.3f} cycle_A: 1.700 ")
    log = read("\n".join(lines) + "\n")
    assert [k for k in log.series if k != "epoch"][-3:] == ["d_a", "g_a", "cycle_a"] and "iters" not in log.series
    assert log.hparams["batch_size"] == 4.0 and "batch_size" not in log.series
    run = normalize(log, metric="G_A")
    assert run.step_kind == "step" and run.loss.steps.tolist() == [100, 200, 300, 400, 500, 600, 700, 800]
    # Each loss on a line of its own, the count repeated on each: still the step.
    repeated = [
        f"(epoch: {e}, iters: {i}) {name}: {v:.4f}"
        for e in (1, 2)
        for i in (100, 200, 300, 400)
        for name, v in (("G_loss", 2 - i / 1000), ("D_loss", 1.0), ("loss", 3 - i / 1000))
    ]
    run = normalize(read("\n".join(repeated) + "\n"))
    assert run.step_kind == "step" and run.loss.steps.tolist() == [100, 200, 300, 400, 500, 600, 700, 800]
    # A run started again within its first epoch (a new 'Training Loss' header): a new run, the count
    # still the step.
    again = [f"(epoch: 1, iters: {i}, time: 0.8) G_A: {1.5 - i / 2000:.3f}" for i in (100, 200)]
    again += [
        f"(epoch: {e}, iters: {i}, time: 0.8) G_A: {1.5 - e / 4 - i / 2000:.3f}"
        for e in (1, 2)
        for i in (100, 200, 300)
    ]
    run = normalize(read("\n".join(again) + "\n"), metric="G_A")
    assert run.step_kind == "step" and len(run.loss) == 6 and any("2 runs are appended" in w for w in run.warnings)


def test_progress_meter_without_the_epochs_total_and_with_a_rate_pair() -> None:
    """SwAV: 'Epoch: [0][50]\\tTime 2.376 (1.927)\\t...\\tLoss 4.2079 (4.2377)\\tLr: 0.0019': the
    batch of the epoch with no total (each epoch's after the last), the meters beside the pair."""
    lines = [
        f"INFO - 09/02/20 14:18:08 - 0:00:30 - Epoch: [{e}][{b}]\tTime 5.399 (5.399)\tData 0.725 (0.725)\t"
        f"Loss {4.3 - e / 2 - b / 1000:.4f} (4.2811)\tLr: {0.0019 * (e + 1):.4f}"
        for e in range(3)
        for b in (0, 50, 100)
    ]
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.loss.name == "loss" and run.loss.values[:3].tolist() == [4.3, 4.25, 4.2]
    assert run.loss.steps.tolist() == [0, 50, 100, 150, 200, 250, 300, 350, 400]
    assert run.lr is not None and run.lr.values[-1] == 0.0057


def test_a_value_said_with_is() -> None:
    """Paddle's tutorials: 'epoch: 0,  loss is: 2.5047, acc is: 0.0708' ('best loss was' stays no series)."""
    assert parse_line("epoch: 0,  loss is: 2.504774796962738, acc is: 0.0708582267165184").points == [  # type: ignore[union-attr]
        ("loss", 2.504774796962738),
        ("acc", 0.0708582267165184),
    ]
    assert parse_line("best loss was: 0.25") is None or not parse_line("best loss was: 0.25").points  # type: ignore[union-attr]


@pytest.mark.parametrize("iteration_lr", [True, False])
def test_flair_training_log(iteration_lr: bool) -> None:
    """Flair's ModelTrainer: 'epoch 1 - iter 504/5049 - loss 0.85 - samples/sec: 9.54 - lr:
    0.000005' (older versions print no rate there), then 'EPOCH 1 done: loss 0.3592 - lr
    0.0000050' (the epoch's mean) and 'DEV : loss 0.6743 - score 0.7667': the iterations are the
    loss, the evaluations the validation loss, the epoch's line no second point of either."""
    lines = []
    for e in (1, 2, 3):
        for i in (100, 200, 300):
            rate = " - lr: 0.100000" if iteration_lr else ""
            lines.append(
                f"2020-06-23 12:11:11,945 epoch {e} - iter {i}/300 - loss {2 - e / 2 - i / 1000:.8f} - "
                f"samples/sec: 129.35{rate}"
            )
        lines.append(f"2020-06-23 12:11:12,547 EPOCH {e} done: loss {1.9 - e / 2:.4f} - lr 0.1000")
        lines.append(f"2020-06-23 12:11:31,969 DEV : loss {1.2 - e / 10} - score 0.7667")
        lines.append("2020-06-23 12:11:32,118 BAD EPOCHS (no improvement): 0")
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.loss.name == "loss" and run.loss.steps.tolist() == [100, 200, 300, 400, 500, 600, 700, 800, 900]
    assert run.loss.values[2] == 2 - 0.5 - 0.3
    assert run.val_loss is not None and run.val_loss.name == "dev_loss" and len(run.val_loss) == 3
    assert run.lr is not None and run.lr.values.max() == 0.1
    assert not any("written twice" in w for w in run.warnings)


def test_hf_dicts_after_a_scripts_numbered_stages_are_read_on_their_epochs() -> None:
    """A fine-tuning script printing its stages ('Step 3: Configuring ... learning_rate: 0.0002',
    'Step 4: Creating trainer...') before the Trainer's dicts, which name an epoch and no step:
    the stage's number is no step of theirs."""
    lines = ["Step 3: Configuring training arguments...", "   learning_rate: 0.0002", "Step 4: Creating trainer..."]
    for k in range(1, 41):
        lines.append(
            f"{{'loss': {2.1 - k / 50:.4f}, 'learning_rate': {2e-4 * (1 - k / 41):.6g}, 'epoch': {k * 0.075:.3f}}}"
        )
    lines += ["Step 7: Saving final model..."]
    log = read("\n".join(lines) + "\n")
    run = normalize(log)
    assert run.step_kind == "epoch" and run.loss.steps[0] == 0.075 and len(run.loss) == 40
    # the stage's setting is a setting, not a point of the rate at epoch 0
    assert run.lr is not None and run.lr.steps[0] == 0.075 and log.hparams["learning_rate"] == 0.0002


def test_a_phase_field_first_on_a_line_of_fields_marks_an_evaluation() -> None:
    """Demucs: '- Train | Epoch 1 | 143/573 | 1.45 it/sec | Loss 0.2343 | ...' and '- Valid | Epoch 1
    | 1/3 | 0.31 it/sec | Loss 0.2213 | ...': the Valid lines are the validation loss, not points
    of the training loss."""
    lines = []
    for e in range(1, 6):
        lines += [
            f"- Train | Epoch {e} | {b}/573 | 1.45 it/sec | Loss {0.3 - e / 50 - b / 10000:.4f}" for b in (143, 286)
        ]
        lines += [f"- Valid | Epoch {e} | {b}/3 | 0.31 it/sec | Loss {0.5 + b / 100:.4f} | Nsdr 3.922" for b in (1, 2)]
        lines.append(f"- Train Summary | Epoch {e} | Loss={0.3 - e / 50 - 0.03:.4f} | Reco=0.19")
        lines.append(f"- Valid Summary | Epoch {e} | Loss={0.5:.4f} | Nsdr=2.727")
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.loss.name == "loss" and len(run.loss) == 10 and run.loss.values.max() < 0.3
    assert not any("written twice" in w for w in run.warnings)  # (the summary is the epoch's mean)
    assert run.val_loss is not None and run.val_loss.name == "val_loss" and len(run.val_loss) == 5


def test_lerobot_lines_are_read_on_their_epochs() -> None:
    """LeRobot: 'step:1K smpl:32K ep:101 epch:2.53 loss:1.226 ... lr:1.0e-05': the step and the
    episodes ('ep') print rounded to thousands past 1000; 'epch' is the epoch."""
    lines = []
    for k in range(2, 60):
        step = k * 200
        shown = f"{step}" if step < 1000 else f"{step // 1000}K"
        episodes = f"{k * 20}" if k * 20 < 1000 else "1K"
        lines.append(
            f"INFO 2026-06-12 10:53:24 ot_train.py:357 step:{shown} smpl:13K ep:{episodes} epch:{k * 0.2525:.2f} "
            f"loss:{2.3 / k:.3f} grdn:49.836 lr:1.0e-05 updt_s:0.504 data_s:0.083"
        )
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.step_kind == "epoch" and len(run.loss) == 58 and run.loss.steps[0] == 0.51
    assert not any("written twice" in w or "share their step" in w for w in run.warnings)


def test_slowfast_json_stats_lines_count_their_epochs() -> None:
    """SlowFast (PySlowFast) prints 'json_stats: {"_type": "train_epoch", "epoch": "3/300",
    "loss": 2.75, "lr": 0.0002, ...}': the epoch is the count of "3/300", 300 the epochs planned."""
    lines = [
        f'json_stats: {{"RAM": "13.62/31.07G", "_type": "train_epoch", "epoch": "{e}/300", "eta": "3:35:56", '
        f'"loss": {2.8 - e / 100:.5f}, "lr": {1e-4 * e:.7f}}}'
        for e in range(1, 41)
    ]
    log = read("\n".join(lines) + "\n")
    run = normalize(log)
    assert run.step_kind == "epoch" and run.loss.steps.tolist() == list(range(1, 41))
    assert any("ends at epoch 40 of the 300 the run was set for" in w for w in log.warnings)


def test_a_sweeps_closing_test_results_are_no_training_loss() -> None:
    """A GCN script's runs, each 'Epoch: 0001 loss_train: 1.81 loss_val: 1.79 val_acc: 0.23' per
    epoch and 'Test set results_1hop: loss= 1.7505 accuracy= 0.2310' at its end: the test loss is
    the test set's, and the per-epoch training loss, not the closing one, is judged."""
    lines = []
    for run in range(3):
        lines += [
            f"Epoch: {e:04d} loss_train: {1.8 - e / 100:.4f} loss_val: {1.79 - e / 200:.4f} val_acc: 0.2"
            for e in range(1, 41)
        ]
        lines.append(f"Test set results_1hop: loss= {1.75 - run / 10:.4f} accuracy= 0.2310")
    log = read("\n".join(lines) + "\n")
    assert "test_loss" in log.series and "loss" not in log.series
    run = normalize(log)
    assert run.loss.name == "loss_train" and len(run.loss) == 40
    assert run.val_loss is not None and run.val_loss.name == "loss_val"


def test_deepspeed_steps_lines() -> None:
    """DeepSpeed's 'steps: 2 loss: 12.6592 iter time (s): 15.221 samples/sec: 1.051': 'steps' is
    the step (it had placed each loss at the step before)."""
    lines = [f"steps: {s} loss: {12.7 - s / 100:.4f} iter time (s): 15.221 samples/sec: 1.051" for s in range(1, 31)]
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.step_kind == "step" and run.loss.steps.tolist() == list(range(1, 31))
    assert run.loss.values[1] == 12.68
    # ... and steps that count within an epoch heading the line run on over the epochs
    for head in (
        "epoch {e} steps: ",
        "epoch {e} step: ",
        "epoch {e} iter: ",
        "Epoch {e}/5 steps: ",
        "Epoch {e}/5 step=",
    ):
        lines = [
            head.format(e=e) + f"{s} loss: {1.3 - e / 10 - s / 1000:.4f}"
            for e in range(1, 6)
            for s in range(10, 101, 10)
        ]
        run = normalize(read("\n".join(lines) + "\n"))
        assert len(run.loss) == 50 and run.loss.steps[-1] == 500, head


def test_a_rate_glued_to_a_closing_angle_bracket_and_a_schedulers_cut_message() -> None:
    """KAIR's '<epoch:  1, lr:1.000e-04> loss: 3.731e-01' holds the rate; PyTorch's
    ReduceLROnPlateau 'Epoch 00043: reducing learning rate of group 0 to 5.0000e-04.' no series."""
    lines = [f"<epoch: {e:2d}, lr:{1e-4 if e < 20 else 5e-5:.3e}> loss: {0.4 - e / 100:.3e}" for e in range(1, 31)]
    lines.insert(20, "Epoch 00020: reducing learning rate of group 0 to 5.0000e-05.")
    log = read("\n".join(lines) + "\n")
    assert set(log.series) == {"lr", "loss"}
    run = normalize(log)
    assert run.lr is not None and run.lr.values.max() == 1e-4 and run.lr.values.min() == 5e-5


def test_settings_on_a_counter_line_alone_stay_settings() -> None:
    """'step 0: MAX_STEPS: 3000, WARMUP_STEPS: 300, LEARNING_RATE: 0.001': settings printed at the
    first step, not points of series (unlike pix2pix's losses beside other values)."""
    lines = ["step 0: MAX_STEPS: 3000, WARMUP_STEPS: 300, LEARNING_RATE: 0.001, LOSS_SCALE: 65536, LOSS_GAMMA: 2.0"]
    lines += [f"step {s}: loss {2.5 - s / 1000:.4f} lr 0.001" for s in range(10, 400, 10)]
    log = read("\n".join(lines) + "\n")
    assert set(log.series) == {"loss", "lr"} and log.hparams["max_steps"] == 3000.0
    # ... while upper-case losses at every step are points, with the settings printed beside them
    caps = [
        f"step {s}: TRAIN_LOSS: {2.5 - s / 1000:.4f}, VAL_LOSS: {2.6 - s / 1000:.4f}, LEARNING_RATE: 0.001, "
        "LOSS_SCALE: 65536"
        for s in range(10, 400, 10)
    ]
    run = normalize(read("\n".join(caps) + "\n"))
    assert run.loss.name == "train_loss" and len(run.loss) == 39 and run.val_loss is not None
    one = [
        f"step {s}: TRAIN_LOSS: {2.5 - s / 1000:.4f}, LEARNING_RATE: 0.001, LOSS_SCALE: 65536, GRAD_NORM: 0.5"
        for s in range(10, 400, 10)
    ]
    run = normalize(read("\n".join(one) + "\n"))
    assert run.loss.name == "train_loss" and len(run.loss) == 39


# --- counters read where a review found them misplaced --------------------------------------------


def test_titled_training_and_validation_lines() -> None:
    """'train: loss 2.1 acc 0.3' beside 'val: loss 1.9 acc 0.4': each title names its values. With
    the validation lines read alone, they had been taken for the run's own loss."""
    lines = []
    for e in range(1, 31):
        lines += [f"Epoch {e}/30", f"train: loss {2 / e:.4f} acc 0.5", f"val: loss {2 / e + 0.1:.4f} acc 0.4"]
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.loss.name == "loss" and run.loss.values.tolist()[:2] == [2.0, 1.0]
    assert run.val_loss is not None and run.val_loss.values.tolist()[:2] == [2.1, 1.1]
    # A sentence after the title holds no values ('over 500 samples' is no metric).
    assert read("step=1 loss=2.0\nVal: loss 0.3 over 500 samples\n").series.keys() == {"loss"}


def test_a_logging_prefix_in_brackets_keeps_the_epoch_and_its_total() -> None:
    lines = [
        f"[2024-01-01 10:00:{k:02d}] Epoch [{e}/2], Iter [{b}/42], Loss: {2.1 - k / 10:.2f}"
        for k, (e, b) in enumerate((e, b) for e in (1, 2) for b in (20, 40))
    ]
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.loss.steps.tolist() == [20.0, 40.0, 62.0, 82.0] and len(run.segments) == 1


def test_the_counters_before_a_dict() -> None:
    """'Epoch 1, Step 20: {...}' holds both counters; a closing 'Best epoch 3: {...}' names a point
    written before and moves no axis back; a counter inside a name ('warmup_step 100') is none."""
    lines = [f"Epoch {1 + s // 42}, Step {s}: {{'loss': {2 - s / 100:.2f}}}" for s in (20, 40, 62, 82)]
    lines.insert(2, "Step 42: {'eval_loss': 1.95}")
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.loss.steps.tolist() == [20.0, 40.0, 62.0, 82.0]
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [42.0]
    best = [f"Epoch {e}: {{'loss': {2 / e:.3f}, 'val_loss': {abs(e - 6) / 5 + 1:.2f}}}" for e in range(1, 21)]
    run = normalize(read("\n".join([*best, "Best epoch 6: {'loss': 0.333, 'val_loss': 1.0}"]) + "\n"))
    assert len(run.loss) >= 20 and run.loss.steps.tolist()[:3] == [1.0, 2.0, 3.0]
    assert not any("written again" in w for w in run.warnings)
    assert _textstyles._counters_before("warmup_step 100 ") == (None, None)
    assert _textstyles._counters_before("Step 3/3: final evaluation ") == (None, None)
    assert _textstyles._counters_before("2024-01-01 12:00:00 - trainer - INFO - step 10 ") == (10.0, None)


def test_a_batch_count_that_is_no_training_step() -> None:
    """Upper-case keys beside the count keep their places; a validation loop's own count
    ('Epoch 1 | Batch 5/10 | Val Loss: 1.95') places nothing; a rank pair is no tutorial counter."""
    caps = normalize(
        read(
            "".join(
                f"epoch: {e}, TRAIN_LOSS: {3 - e / 10 - b / 100:.3f}, batch: {b}/42\n"
                for e in range(1, 4)
                for b in (20, 40)
            )
        )
    )
    assert caps.loss.name == "train_loss" and caps.loss.steps.tolist() == [20.0, 40.0, 62.0, 82.0, 104.0, 124.0]
    lines = []
    for e in (1, 2):
        lines += [f"Epoch {e} | Batch {b}/100 | Train Loss: {2.1 - e / 5 - b / 1000:.3f}" for b in (50, 100)]
        lines += [f"Epoch {e} | Batch {b}/10 | Val Loss: {2 - e / 5 - b / 1000:.3f}" for b in (5, 10)]
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.loss.steps.tolist() == [50.0, 100.0, 150.0, 200.0]
    assert run.val_loss is not None and max(run.val_loss.steps) <= 200
    ranked = read("".join(f"[0, 0] step {s} loss: {2 - s / 100:.2f}\n" for s in range(5, 45, 5)))
    assert points(ranked, "loss")[:2] == [(5.0, 1.95), (10.0, 1.9)]


def test_where_a_count_that_restarts_each_epoch_begins() -> None:
    """The count runs on from the epoch of its first line: a checkpoint's '(epoch 5)' or an
    evaluation before training names no epoch of it. And a count that runs on over the epochs
    ('Epoch 6 Batch 250/420') falls back on a resume with its epoch: no restart."""
    banner = "=> loaded checkpoint 'ckpt.pth' (epoch 5)\n" + "".join(
        f"epoch: {e}, batch: {b}/42, loss: {2 - e / 10 - b / 1000:.3f}\n" for e in (6, 7) for b in (20, 40)
    )
    assert normalize(read(banner)).loss.steps.tolist() == [20.0, 40.0, 62.0, 82.0]
    lines = [f"Epoch {1 + b // 84} Batch {b}/420 loss: {2 - b / 1000:.3f}" for b in range(10, 260, 10)]
    lines += [f"Epoch {1 + b // 84} Batch {b}/420 loss: {1.9 - b / 1000:.3f}" for b in range(170, 420, 10)]
    run = normalize(read("\n".join(lines) + "\n"))
    assert run.loss.steps.max() == 410.0


def test_loguru_default_format_keeps_its_evaluations() -> None:
    """loguru's '<time> | INFO     | __main__:train:11 - validation loss 2.2414': the source
    location had been read as a series 'train' valued at its line number, and every evaluation lost."""
    head, lines = "2026-12-01 04:35:06.888 | INFO     | __main__:train", []
    for s in range(0, 200, 5):
        lines.append(f"{head}:9 - step {s} loss {2.3 - s / 100:.4f} lr 0.05")
        if s % 10 == 5:
            lines.append(f"{head}:11 - validation loss {2.2 - s / 100:.4f}")
    lines.insert(0, "2026-12-01 04:35:06.888 | INFO     | __main__:<module>:13 - starting")
    log = read("\n".join(lines) + "\n")
    assert len(points(log, "loss")) == 40 and points(log, "lr")[0] == (0.0, 0.05)
    val = points(log, "validation_loss")
    assert val[:2] == [(5.0, 2.15), (15.0, 2.05)] and len(val) == 20
    assert "train" not in log.series and "main" not in log.hparams


def test_a_progress_word_before_a_bare_loss_names_the_evaluation() -> None:
    lines = [f"step {s} loss {2.3 - s / 100:.4f}" for s in range(0, 100, 5)]
    lines.insert(5, "Evaluating... loss 2.2414")
    log = read("\n".join(lines) + "\n")
    assert points(log, "eval_loss") == [(20.0, 2.2414)] and len(points(log, "loss")) == 20


@pytest.mark.parametrize("printed", ["lr: [{v}]", "LR [{v}]", "lr=[{v}]", "learning rate: [{v}, 0.5]"])
def test_a_rate_printed_as_get_last_lrs_list_is_read(printed: str) -> None:
    """print(..., "lr:", scheduler.get_last_lr()): the list had been read only after 'lr='."""
    lines = [f"step {s} loss {2.3 - s / 100:.4f} " + printed.format(v=0.1 * 0.5 ** (s // 50)) for s in range(0, 200, 5)]
    log = read("\n".join(lines) + "\n")
    name = "learning_rate" if printed.startswith("learning") else "lr"
    assert points(log, name)[0] == (0.0, 0.1) and points(log, name)[-1] == (195.0, 0.0125)


@pytest.mark.parametrize("prefix", ["", "INFO: ", "[rank: 0] ", "INFO:lightning.pytorch.callbacks:"])
def test_lightning_checkpoint_and_early_stopping_messages_are_no_points(prefix: str) -> None:
    """ModelCheckpoint(verbose=True) says the monitored value only where it is a new best ('val_loss'
    reached 2.14814): series 'reached' and 'best' had been read off it, and a series of bests alone
    would hide a climb of the validation loss. EarlyStopping(verbose=True) says a best so far
    ('min_delta = 0.0. New best score: 2.148'). Neither is a point of anything."""
    lines = []
    for e in range(4):
        lines += [
            f"step {s}: loss={2.3 - s / 400:.4f} val_loss={2.2 - e / 10 + 0.2 * (e == 3):.4f}"
            for s in range(44 * e + 4, 44 * (e + 1) + 1, 4)
        ]
        val = 2.2 - e / 10
        if e < 3:
            lines.append(
                f"{prefix}Epoch {e}, global step {44 * (e + 1)}: 'val_loss' reached {val:.5f} (best {val:.5f}), "
                f"saving model to '/tmp/ckpt/epoch={e}-step={44 * (e + 1)}.ckpt' as top 1"
            )
            lines.append(f"{prefix}Metric val_loss improved by 0.100 >= min_delta = 0.0. New best score: {val:.3f}")
        else:
            lines.append(f"{prefix}Epoch {e}, global step {44 * (e + 1)}: 'val_loss' was not in top 1")
    log = read("\n".join(lines) + "\n")
    assert set(log.series) == {"loss", "val_loss"}
    assert len(log.series["loss"]) == 44 and len(log.series["val_loss"]) == 44
    assert log.series["val_loss"].values[-1] == pytest.approx(2.1)  # the climb the bests leave out


def test_lightning_rich_bar_on_a_terminal_keeps_the_value_it_wrapped() -> None:
    """Lightning's RichProgressBar, captured from a terminal: the postfix wraps, 'val_loss: ' ending
    one line and its value starting the next, each refresh drawn over the last with cursor codes.
    Only the sanity check's value had been read; every later evaluation was lost."""
    refreshes = []
    for e in range(5):
        val = "" if e == 0 else f"{2.2 - e / 10:.3f}"
        for n in range(1, 23):
            bar = f"\x1b[35m{'━' * n}\x1b[0m\x1b[90m{'━' * (22 - n)}\x1b[0m"
            refreshes.append(
                f"\x1b[2K\x1b[1A\x1b[2KEpoch {e}/5  {bar} {n}/22 \x1b[2m0:00:01 • 0:00:00\x1b[0m "
                f"\x1b[3mtrain_loss: {2.3 - (22 * e + n) / 200:.3f} lr: 0.050"
                + (f" val_loss: \x1b[0m\n{' ' * 82}\x1b[3m{val}{' ' * 30}\x1b[0m" if val else "\x1b[0m")
            )
    run = normalize(read("\r".join(refreshes) + "\n"))
    assert run.metric == "train_loss" and len(run.loss) >= 100
    assert run.val_loss is not None and run.val_loss.values.tolist() == pytest.approx([2.1, 2.0, 1.9, 1.8])
    assert any("the last evaluation printed again on each line" in w for w in run.warnings)
