"""The plain-text console-log reader: every style it knows, read to exact points."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from lrdoctor import load, naming
from lrdoctor.errors import UnreadableLog
from lrdoctor.normalize import normalize
from lrdoctor.readers import _textstate, read_log, text
from lrdoctor.readers._textstyles import parse_line
from lrdoctor.run import Log
from lrdoctor.source import Source
from tests.conftest import realworld_manifest

NO_METRICS = "x.log: no training metrics found in this text (expected lines like 'step 10: loss 2.31' or 'loss=2.31')"


def read(content: str | bytes) -> Log:
    data = content.encode() if isinstance(content, str) else content
    return text.read(Source("x.log", data=data))


def points(log: Log, name: str) -> list[tuple[float, float]]:
    s = log.series[name]
    return list(zip(s.steps.tolist(), s.values.tolist(), strict=True))


def same(got: list[tuple[float, float]], want: list[tuple[float, float]]) -> bool:
    """Equal point lists, NaN equal to NaN."""
    return len(got) == len(want) and all(
        gs == ws and (gv == wv or (math.isnan(gv) and math.isnan(wv)))
        for (gs, gv), (ws, wv) in zip(got, want, strict=True)
    )


# --- nanoGPT family ---------------------------------------------------------------------------


def test_nanogpt_iter_lines_and_eval_lines() -> None:
    log = read(
        "iter 120: loss 2.3456, time 12.34ms, mfu 1.23%\n"
        "iter 121: loss 2.3001, time 12.10ms, mfu -100.00%\n"
        "step 2000: train loss 2.8712, val loss 2.9034\n"
    )
    assert log.format == "text-nanogpt" and log.step_kind == "step"
    assert points(log, "loss") == [(120.0, 2.3456), (121.0, 2.3001)]
    assert points(log, "mfu") == [(120.0, 1.23), (121.0, -100.0)]  # a bare '%' is still a value
    assert points(log, "train_loss") == [(2000.0, 2.8712)]
    assert points(log, "val_loss") == [(2000.0, 2.9034)]
    assert "time" not in log.series  # 12.34ms carries a unit


def test_modded_nanogpt_nanms_is_no_nan_but_loss_nan_is() -> None:
    log = read(
        "step:0/3000 val_loss:10.8258 train_time:411ms step_avg:nanms\n"
        "step:1/3000 train_loss:10.8258 train_time:14600ms step_avg:nanms\n"
        "step:2/3000 train_loss:nan train_time:14707ms step_avg:nanms\n"
    )
    assert log.format == "text-nanogpt"
    assert set(log.series) == {"val_loss", "train_loss"}
    assert points(log, "val_loss") == [(0.0, 10.8258)]
    assert same(points(log, "train_loss"), [(1.0, 10.8258), (2.0, math.nan)])


def test_llmc_compact_lines() -> None:
    log = read("s:0 tel:10.968871\ns:0 trl:10.965596\ns:1 trl:10.814037\n")
    assert log.format == "text-llmc" and log.step_kind == "step"
    assert points(log, "trl") == [(0.0, 10.965596), (1.0, 10.814037)]
    assert points(log, "tel") == [(0.0, 10.968871)]
    assert log.series["trl"].seq.tolist() == [1.0, 2.0]  # write order across series
    assert log.hints == {"loss": "trl", "val": "tel"}


# --- key/value lines --------------------------------------------------------------------------


def test_python_logging_prefix_and_separators() -> None:
    log = read(
        "2024-05-01 12:00:00,123 INFO train: step=120 loss=2.31 lr=1e-3\n"
        "2024-05-01 12:00:01,456 INFO train: step: 130, loss: 2.2 | lr: 9e-4 - grad_norm: 1.5\n"
    )
    assert log.format == "text" and log.step_kind == "step"
    assert points(log, "loss") == [(120.0, 2.31), (130.0, 2.2)]
    assert points(log, "lr") == [(120.0, 0.001), (130.0, 0.0009)]
    assert points(log, "grad_norm") == [(130.0, 1.5)]
    assert set(log.series) == {"loss", "lr", "grad_norm"}  # no date or time read as a metric


@pytest.mark.parametrize(
    "prefix",
    [
        "2024-05-01 12:00:00,123 trainer INFO ",  # '%(asctime)s %(name)s %(levelname)s %(message)s'
        "INFO trainer ",  # '%(levelname)s %(name)s %(message)s'
        "2024-05-01 12:00:00 INFO     __main__ ",  # a padded level, then the module's name
        "my.module INFO ",  # a dotted logger name
        "INFO trainer ",  # '%(levelname)s %(name)s %(message)s'
    ],
)
def test_a_logger_name_before_the_step_is_no_word_of_its_key(prefix: str) -> None:
    """The logger's name and level that logging prints before 'step=5' had been joined into one
    key ('trainer_info_step'): the step axis was lost and the loss read against the line index."""
    log = read("".join(f"{prefix}step={s} loss={2.3 - s / 100:.4f} lr=0.001\n" for s in range(10, 110, 10)))
    assert log.step_kind == "step" and set(log.series) == {"loss", "lr"}
    assert [s for s, _ in points(log, "loss")] == [float(s) for s in range(10, 110, 10)]


@pytest.mark.parametrize("key", ["checkpoint step", "max epoch", "val step", "inference step", "INFO checkpoint step"])
def test_a_word_that_makes_a_counter_another_count_stays_in_its_key(key: str) -> None:
    """'checkpoint step=500' at a line's start is a count of its own, not the training's step; so
    is a bare word before one ('inference step=3': no level says it is a logger's name)."""
    parsed = parse_line(f"{key}=500 loss=0.5")
    assert parsed is not None and parsed.step is None and parsed.epoch is None


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("step=5 heads.cls loss: 0.52 heads.box loss: 0.31", "heads.cls_loss"),  # a dotted namespace
        ("step=5 word error rate: 0.21 loss: 0.5", "word_error_rate"),  # 'error' no level here
        ("step=5 encoder.layer1 grad_norm: 0.3 loss: 0.5", "encoder.layer1_grad_norm"),
    ],
)
def test_words_of_a_key_that_look_like_a_logging_prefix_stay_in_it(line: str, key: str) -> None:
    parsed = parse_line(line)
    assert parsed is not None and key in dict(parsed.points)


@pytest.mark.parametrize("title", ["INFO", "Train", "metrics"])
def test_a_titled_key_value_line_is_no_annotated_assignment(title: str) -> None:
    """logging's '%(levelname)s: %(message)s' prints 'INFO: step=0 loss=2.3 lr=0.001': read as a
    Python annotated assignment ('x: int = 5'), every line had been left out (no training metrics
    found); 'Validation: loss=0.7' lost the validation loss so."""
    log = read(
        "".join(
            f"{title}: step={s} loss={2.3 - s / 100:.4f} lr=0.001\n"
            + (f"Validation: loss={2.4 - s / 90:.4f}\n" if s % 50 == 40 else "")
            for s in range(0, 200, 10)
        )
    )
    assert log.step_kind == "step" and len(log.series["loss"]) == 20 and len(log.series["lr"]) == 20
    assert [s for s, _ in points(log, naming.find_val_loss(log.series, "loss"))] == [40.0, 90.0, 140.0, 190.0]


@pytest.mark.parametrize(
    "code",
    ["lr: float = 1e-3", "x: int=5", "model: nn.Module = None", "batch: Optional[int] = None", "sizes: list[int] = []"],
)
def test_annotated_assignments_of_a_code_dump_are_still_code(code: str) -> None:
    assert parse_line(code) is None


def test_lines_without_any_counter_are_indexed() -> None:
    log = read("loss=2.3\nloss=2.1 acc=0.5\nloss=inf\nloss=-inf\nloss=NaN\n")
    assert log.step_kind == "index"
    assert same(points(log, "loss"), [(0.0, 2.3), (1.0, 2.1), (2.0, math.inf), (3.0, -math.inf), (4.0, math.nan)])
    assert points(log, "acc") == [(1.0, 0.5)]


def test_tensor_reprs_are_unwrapped() -> None:
    log = read(
        "step=3 loss: tensor(2.3100, device='cuda:0', grad_fn=<NllLossBackward0>)\n"
        "step=4 loss: tensor(2.2000, device='cuda:0', grad_fn=<NllLossBackward0>)\n"
    )
    assert set(log.series) == {"loss"}  # no 'cuda' from 'cuda:0'
    assert points(log, "loss") == [(3.0, 2.31), (4.0, 2.2)]


def test_epoch_and_inner_step_become_a_running_step() -> None:
    log = read(
        "Epoch [1/2], Step [100/600], Loss: 2.3000\n"
        "Epoch [1/2], Step [600/600], Loss: 2.0000\n"
        "Epoch [2/2], Step [100/600], Loss: 1.9000\n"
    )
    assert log.step_kind == "step"
    assert points(log, "loss") == [(100.0, 2.3), (600.0, 2.0), (700.0, 1.9)]


@pytest.mark.parametrize("epochs", [3, 60])  # the second takes the cached-layout path
def test_an_epoch_summary_line_does_not_replace_the_last_batch(epochs: int) -> None:
    """'Epoch 1 done: loss=...' carries the step of the batch line before it: its epoch mean had
    replaced that batch's loss (read as a second writer). The batch lines' points stand; the
    summary's validation loss, written nowhere else, is kept at that step."""
    lines, want = [], []
    for e in range(1, epochs + 1):
        for s in range(1, 6):
            loss = round(3.0 / (5 * e + s), 4)
            lines.append(f"Epoch {e} step {s * 100}/500 loss={loss}\n")
            want.append((500.0 * (e - 1) + 100 * s, loss))
        lines.append(f"Epoch {e} done: loss={3.0 / (5 * e + 3):.4f} val_loss={3.2 / (5 * e + 3):.4f}\n")
    log = read("".join(lines))
    assert log.step_kind == "step"
    assert points(log, "loss") == want
    assert [s for s, _ in points(log, "val_loss")] == [500.0 * e for e in range(1, epochs + 1)]
    assert any("an epoch's summary, or a setting printed again" in w for w in log.warnings)
    run = normalize(log)
    assert len(run.loss) == 5 * epochs and not any("two writers" in w for w in run.warnings)


def test_a_line_that_carries_the_step_is_kept_where_it_repeats_nothing() -> None:
    """Values printed on the line after their step ('step 100' then 'loss=...') carry it and are
    the only write of that step: nothing is dropped, and no note."""
    log = read("".join(f"step {k * 10}\nloss={2.0 - k / 10:.1f} lr=0.1\n" for k in range(1, 8)))
    assert points(log, "loss") == [(k * 10.0, round(2.0 - k / 10, 1)) for k in range(1, 8)]
    assert not any("a setting printed again" in w for w in log.warnings)


# --- dict prints ------------------------------------------------------------------------------


def test_hf_trainer_dicts_old_and_new_with_summary_kept_apart() -> None:
    log = read(
        "{'loss': 2.31, 'learning_rate': 5e-05, 'epoch': 0.1}\n"
        " 20%|██        | 20/100 [00:10<00:40,  2.00it/s]\n"
        "{'loss': '0.7276', 'grad_norm': '1.2', 'learning_rate': '4e-05', 'epoch': '0.2'}\n"
        "{'eval_loss': 0.9, 'eval_runtime': 1.5, 'epoch': 0.2}\n"
        "{'loss': nan, 'learning_rate': 3e-05, 'epoch': 0.3}\n"
        "{'train_runtime': 100.0, 'train_samples_per_second': 5.0, 'train_loss': 0.85, 'epoch': 0.3}\n"
    )
    assert log.format == "text-hf" and log.step_kind == "epoch"
    assert same(points(log, "loss"), [(0.1, 2.31), (0.2, 0.7276), (0.3, math.nan)])
    assert points(log, "learning_rate") == [(0.1, 5e-05), (0.2, 4e-05), (0.3, 3e-05)]
    assert points(log, "eval_loss") == [(0.2, 0.9)]
    assert "train_loss" not in log.series and "epoch" not in log.series
    assert log.hparams["train_loss"] == 0.85 and log.hparams["train_runtime"] == 100.0
    assert log.hints == {"loss": "loss", "lr": "learning_rate", "val": "eval_loss"}


@pytest.mark.parametrize("dicts", [100, 3000])  # the second takes the cached-layout path
def test_hf_dicts_beside_coarser_step_lines_keep_every_point(dicts: int) -> None:
    """HF Trainer's dicts carry a fractional epoch and no step; DeepSpeed's 'step=100, ...' line
    every 100 steps gave ten dicts one step, of which one was kept. The dicts' epochs place them."""
    lines = []
    for k in range(1, dicts + 1):
        lines.append(f"{{'loss': {3 * 0.999**k:.4f}, 'learning_rate': 2e-05, 'epoch': {k / 500:.4f}}}\n")
        if k % 10 == 0:
            lines.append(
                f"[2024-01-01 12:01:40,123] [INFO] [logging.py:96:log_dist] [Rank 0] step={10 * k}, skipped=0, "
                "lr=[2e-05], mom=[(0.9, 0.999)]\n"
            )
    log = read("".join(lines))
    assert log.step_kind == "epoch" and log.format == "text-hf"
    loss = points(log, "loss")
    assert len(loss) == dicts and [s for s, _ in loss] == [round(k / 500, 4) for k in range(1, dicts + 1)]


@pytest.mark.parametrize("lines", [101, 3000])  # the second takes the cached-layout path
def test_a_step_written_with_thousands_separators(lines: int) -> None:
    """'Step 1,000/50,000 | loss 2.1' is step 1000 (it was step 1, and every point after the first
    thousand was read as a restart)."""
    total = 500 * (lines - 1)
    log = read(
        "".join(
            f"Step {500 * k:,}/{total:,} | loss {3 * 0.999**k:.4f} | lr 3.00e-04 | tokens {524288 * k:,}\n"
            for k in range(lines)
        )
    )
    assert [s for s, _ in points(log, "loss")] == [500.0 * k for k in range(lines)]
    # A comma after a step is no separator.
    assert points(read("Step 5, loss 2.3\nStep 6, loss 2.2\n"), "loss") == [(5.0, 2.3), (6.0, 2.2)]


def test_deepspeed_learning_rate_per_group_is_read() -> None:
    """DeepSpeed prints 'lr=[2e-05]', one value per parameter group: the first group's rate."""
    lines = []
    for k in range(1, 41):
        lines.append(
            f"[2024-01-01 12:00:10,123] [INFO] [logging.py:96:log_dist] [Rank 0] step={10 * k}, skipped=0, "
            f"lr=[{1e-6 * k}, {1e-7 * k}], mom=[(0.9, 0.999)]\n"
        )
        lines.append(f"step {10 * k} loss {3 * 0.99**k:.4f}\n")
    log = read("".join(lines))
    assert points(log, "lr") == [(10.0 * k, 1e-6 * k) for k in range(1, 41)]
    assert len(points(log, "loss")) == 40
    assert points(read("step=10 loss=2.3 LR=[0.001]\nstep=20 loss=2.2 LR=[0.002]\n"), "lr") == [
        (10.0, 0.001),
        (20.0, 0.002),
    ]
    assert points(read("step=10 loss=2.3 lrs=[0.001, 0.01]\n"), "lrs") == [(10.0, 0.001)]
    # Other lists are no values: 'sizes=[3, 5]' is no series.
    log = read("".join(f"step={k} sizes=[3, 5] loss={2 - k / 10:.2f}\n" for k in range(10)))
    assert set(log.series) == {"loss"}


@pytest.mark.parametrize("iterations", [100, 3000])  # the second takes the cached-layout path
def test_megatron_validation_lines_are_the_validation_loss(iterations: int) -> None:
    """Megatron-LM's ' validation loss at iteration 200 | lm loss value: 1.8E+00 |' is a validation
    point at that iteration (it was a series of no role, 'lm_loss_value')."""
    lines = []
    for k in range(1, iterations + 1):
        lines.append(
            f" iteration {k:>9}/{iterations:>8} | consumed samples: {512 * k:>12} | learning rate: 3.000000E-04 | "
            f"lm loss: {3 * 0.999**k:.6E} | loss scale: 65536.0 | grad norm: 1.230 | "
            "number of skipped iterations:   0 |\n"
        )
        if k % 50 == 0:
            lines.append("-" * 100 + "\n")
            lines.append(
                f" validation loss at iteration {k} | lm loss value: {2 * 0.999**k:.6E} | lm loss PPL: 6.0E+00 |\n"
            )
            lines.append("-" * 100 + "\n")
    run = normalize(read("".join(lines)))
    assert run.loss.name == "lm_loss" and len(run.loss) == iterations
    assert run.val_loss is not None and run.val_loss.name == "val_lm_loss"
    assert run.val_loss.steps.tolist() == [float(k) for k in range(50, iterations + 1, 50)]


@pytest.mark.parametrize("blocks", [20, 600])  # the second takes the cached-layout path
def test_composer_blocks_are_placed_at_their_batch(blocks: int) -> None:
    """Composer's console logger: '[epoch=1][batch=100/2000]:' then the block's values; the batch
    is the step (every point was at step 1, in write order)."""
    out = []
    for k in range(1, blocks + 1):
        out.append(f"[epoch={1 + k // 10}][batch={100 * k}/{100 * blocks}]:\n")
        out.append(f"\t Train time/batch: {100 * k - 1}\n")
        out.append(f"\t Train loss/train/total: {3 * 0.99**k:.4f}\n")
        out.append("\t Train lr-DecoupledAdamW/group0: 3.0000e-04\n")
    log = read("".join(out))
    assert log.step_kind == "step"
    assert [s for s, _ in points(log, "train_loss/train/total")] == [100.0 * k for k in range(1, blocks + 1)]


def test_fairseq_json_after_a_prefix() -> None:
    log = read(
        '2021-01-01 10:00:00 | INFO | train_inner | {"epoch": 1, "update": 1.5, "loss": "16.475", '
        '"lr": "2e-05", "num_updates": "100"}\n'
        '2021-01-01 10:01:00 | INFO | train_inner | {"epoch": 1, "update": 1.6, "loss": "15.1", '
        '"lr": "4e-05", "num_updates": "200"}\n'
        '2021-01-01 10:02:00 | INFO | valid | {"epoch": 1, "valid_loss": "14.2", '
        '"valid_num_updates": "200"}\n'
    )
    assert log.format == "text-fairseq" and log.step_kind == "step"
    assert points(log, "loss") == [(100.0, 16.475), (200.0, 15.1)]
    assert points(log, "lr") == [(100.0, 2e-05), (200.0, 4e-05)]
    assert points(log, "valid_loss") == [(200.0, 14.2)]


def fairseq_simple(epochs: int, per_epoch: int, *, names: bool = True) -> str:
    """fairseq's default console format ('simple', what it writes to a file), as versions from 0.10
    write it (logger names) or older ones (none): per-update windows, then each epoch's validation
    and the epoch's training means."""
    out, update = [], 0
    tag = (lambda name: f"2024-01-01 12:00:00 | INFO | {name} | ") if names else (lambda name: "| ")
    for epoch in range(1, epochs + 1):
        for k in range(1, per_epoch + 1):
            update += 100
            loss = 8.5 * 0.999 ** (update / 10)
            out.append(
                f"{tag('train_inner')}epoch {epoch:03d}:    {100 * k} / {100 * per_epoch} loss={loss:.3f}, "
                f"nll_loss={loss - 0.5:.3f}, ppl=7.31, wps=23456.7, ups=6.12, num_updates={update}, "
                f"lr={1e-5 * epoch:.4g}, gnorm=1.564, train_wall=16, wall={16 * update // 100}\n"
            )
        out.append(
            f"{tag('valid')}epoch {epoch:03d} | valid on 'valid' subset | loss {5.6 / epoch:.3f} | nll_loss 5.068 | "
            f"ppl 3.88 | wps 51234.5 | num_updates {update} | best_loss {5.5 / epoch:.3f}\n"
        )
        out.append(
            f"{tag('train')}epoch {epoch:03d} | loss {7.05 / epoch:.3f} | nll_loss 7.1 | ppl 140.3 | "
            f"num_updates {update} | lr {1e-5 * epoch:.4g} | train_wall 160 | wall {16 * update // 100}\n"
        )
    return "".join(out)


@pytest.mark.parametrize("names", [True, False])
@pytest.mark.parametrize("epochs", [3, 120])  # the second takes the cached-layout path
def test_fairseq_simple_format_keeps_validation_and_epoch_means_apart(epochs: int, names: bool) -> None:
    """The per-update loss is the training loss; each epoch's validation loss is 'valid_loss' and
    its training mean 'train_loss', as fairseq's JSON format names them: neither is a point of
    the training loss (they made a jump in it at every epoch's end)."""
    log = read(fairseq_simple(epochs, 10, names=names))
    assert log.format == "text-fairseq" and log.step_kind == "step"
    loss = points(log, "loss")
    assert len(loss) == 10 * epochs and all(v == round(8.5 * 0.999 ** (s / 10), 3) for s, v in loss)
    assert points(log, "valid_loss") == [(1000.0 * e, round(5.6 / e, 3)) for e in range(1, epochs + 1)]
    assert points(log, "train_loss") == [(1000.0 * e, round(7.05 / e, 3)) for e in range(1, epochs + 1)]
    assert len(points(log, "lr")) == 10 * epochs
    assert log.hints["loss"] == "loss" and log.hints["val"] == "valid_loss"


def test_a_pipe_separated_log_with_an_epoch_field_is_not_read_as_fairseq() -> None:
    """'step 100 | epoch 1 | loss 0.5 | lr 0.001' has fairseq's '| epoch N |' but not its
    num_updates: its keys stay as written."""
    log = read("".join(f"step {100 * k} | epoch {1 + k // 10} | loss {2 - k / 50:.3f} | lr 0.001\n" for k in range(40)))
    assert log.format != "text-fairseq" and set(log.series) >= {"loss", "lr"}
    assert not any(name.startswith("train_") for name in log.series)
    assert len(points(log, "loss")) == 40


def test_dict_printed_over_several_lines() -> None:
    log = read("{'epoch': 1,\n 'loss': 2.3,\n 'lr': 0.001}\n{'epoch': 2,\n 'loss': '2.1',\n 'lr': 0.001}\n")
    assert points(log, "loss") == [(1.0, 2.3), (2.0, 2.1)]


@pytest.mark.parametrize("lines", [3, 300])  # the second takes the cached-layout path
def test_a_dict_after_its_counter(lines: int) -> None:
    """'Step 10: {'loss': 2.3, 'lr': [0.05]}': the counter before the dict is its step (or epoch),
    and a rate listed per parameter group is the first group's."""
    log = read("".join(f"Step {10 * k}: {{'loss': {2 - k / 1000:.4f}, 'lr': [0.05, 0.01]}}\n" for k in range(lines)))
    assert log.step_kind == "step"
    assert points(log, "loss")[:2] == [(0.0, 2.0), (10.0, 1.999)] and len(points(log, "loss")) == lines
    assert points(log, "lr")[-1] == (10.0 * (lines - 1), 0.05)
    log = read("".join(f"epoch {k} {{'loss': {2 - k / 1000:.4f}}}\n" for k in range(1, lines + 1)))
    assert log.step_kind == "epoch" and points(log, "loss")[-1] == (float(lines), 2 - lines / 1000)


# --- framework consoles -----------------------------------------------------------------------


def test_torchtune_metric_lines_and_progress_description() -> None:
    log = read("Step 10 | loss:1.2345 lr:2e-05 tokens_per_second_per_gpu:1234.5\nStep 20 | loss:1.1 lr:2e-05\n")
    assert log.format == "text-torchtune"
    assert points(log, "loss") == [(10.0, 1.2345), (20.0, 1.1)]
    bar = read(
        "1|10|Loss: 1.2345:   1%|          | 10/1000 [00:10<16:30,  1.00s/it]"
        "\r1|11|Loss: 1.2:   1%|          | 11/1000 [00:11<16:30,  1.00s/it]\n"
    )
    assert bar.format == "text-torchtune"
    assert points(bar, "loss") == [(10.0, 1.2345), (11.0, 1.2)]


def test_timm_reads_the_value_not_the_running_mean() -> None:
    log = read(
        "Train: 3 [ 150/2500 (  6%)]  Loss: 4.32 (4.41)  Time: 0.789s,  324.52/s  (0.800s,  320.00/s)"
        "  LR: 1.234e-03  Data: 0.012 (0.015)\n"
        "Train: 3 [ 200/2500 (  8%)]  Loss: 4.30 (4.40)  Time: 0.789s,  324.52/s  (0.800s,  320.00/s)"
        "  LR: 1.234e-03  Data: 0.012 (0.015)\n"
        "Test: [   0/390]  Time: 0.6 (0.6)  Loss:  0.8 (0.8)  Acc@1: 85.0 (85.0)\n"
    )
    assert log.format == "text-timm" and log.step_kind == "epoch"
    assert points(log, "loss") == [(3.06, 4.32), (3.08, 4.30)]  # epoch 3 + 150/2500
    assert points(log, "lr") == [(3.06, 0.001234), (3.08, 0.001234)]
    assert points(log, "test_loss") == [(3.08, 0.8)]
    assert "time" not in log.series


def test_detectron2_event_lines() -> None:
    log = read(
        "[11/16 02:58:32] d2.utils.events INFO:  eta: 3:30:43  iter: 19  total_loss: 156.1  loss_cls: 144.7"
        "  time: 0.6774  lr: 2.5373e-05  max_mem: 11810M\n"
        "[11/16 02:58:46] d2.utils.events INFO:  eta: 3:32:07  iter: 39  total_loss: 11.32  loss_cls: 9.551"
        "  time: 0.6859  lr: 5.2039e-05  max_mem: 11810M\n"
    )
    assert log.format == "text-detectron2"
    assert points(log, "total_loss") == [(19.0, 156.1), (39.0, 11.32)]
    assert points(log, "lr") == [(19.0, 2.5373e-05), (39.0, 5.2039e-05)]
    assert set(log.series) == {"total_loss", "loss_cls", "time", "lr"}  # no eta, no max_mem
    assert log.hints == {"loss": "total_loss", "lr": "lr"}


def test_keras_console_keeps_the_epoch_end_bar() -> None:
    log = read(
        "Epoch 1/2\n"
        "  32/1000 [>.............................] - ETA: 1:23 - loss: 2.3012 - accuracy: 0.1000\n"
        "1000/1000 [==============================] - 2s 20ms/step - loss: 0.3012 - accuracy: 0.9100"
        " - val_loss: 0.2500\n"
        "Epoch 2/2\n"
        "1000/1000 [==============================] - 2s 20ms/step - loss: 0.2000 - val_loss: 0.2000\n"
    )
    assert log.format == "text-keras" and log.step_kind == "epoch"
    assert points(log, "loss") == [(1.0, 0.3012), (2.0, 0.2)]
    assert points(log, "val_loss") == [(1.0, 0.25), (2.0, 0.2)]
    assert "progress/loss" not in log.series  # the unfinished refresh was superseded


def test_keras_callback_messages_place_nothing() -> None:
    """Keras 1 printed its callbacks' messages numbered from 0 ('Epoch 00008: early stopping'),
    wherever stdout put them: here after epoch 9's header. They had moved the last epoch's values
    back onto epoch 8, and ModelCheckpoint's 'improved from inf to 0.40000' became a series 'to'."""
    lines = []
    for e in range(1, 10):
        lines.append(f"Epoch {e}/10")
        if e == 1:
            lines.append("Epoch 00000: val_loss improved from inf to 0.40000, saving model to m.h5")
        if e == 9:
            lines.append("Epoch 00008: early stopping")
        lines.append(f"3099s - loss: {0.5 / e:.4f} - acc: 0.98 - val_loss: {0.6 / e:.4f} - val_acc: 0.98")
    log = read("\n".join(lines) + "\n")
    assert [s for s, _ in points(log, "loss")] == list(range(1, 10)) and "to" not in log.series
    # Keras 2 and later number them from 1, unpadded; a line of metrics numbered so is read.
    assert parse_line("Epoch 1: val_loss improved from inf to 0.40000, saving model to m.h5") is None
    assert parse_line("Epoch 5: ReduceLROnPlateau reducing learning rate to 0.0001.") is None
    assert parse_line("Epoch 00003: loss=0.5 val_loss=0.6").points == [("loss", 0.5), ("val_loss", 0.6)]
    assert parse_line("Epoch 00003: val_f1-score improved from 0.50000 to 0.60000, saving model to m.h5") is None
    assert parse_line("Epoch 4: val_dense_1.loss did not improve from 0.40000") is None


@pytest.mark.parametrize("tty", [True, False])
def test_keras_3_bar_keeps_the_epoch_end_refresh(tty: bool) -> None:
    """Keras 3 draws '16/32 ━━━━━━━━━━ 0s 3ms/step - loss: 2.49' in colour, redrawn with
    backspaces on a terminal: each epoch is its last refresh (the running means before it are
    not points; they were read as points at fractional epochs)."""
    out = []
    for epoch in range(1, 11):
        out.append(f"Epoch {epoch}/10\n")
        for seen in (1, 16, 32):
            done = "\x1b[32m" + "━" * (seen * 20 // 32) + "\x1b[0m\x1b[37m" + "━" * (20 - seen * 20 // 32) + "\x1b[0m"
            loss = 2.5 / epoch + (32 - seen) / 100
            bar = f"\x1b[1m{seen:>2}/32\x1b[0m {done} \x1b[1m0s\x1b[0m 3ms/step - loss: {loss:.4f}"
            if seen == 32:
                out.append(("\r" if tty else "") + bar + f" - val_loss: {2.6 / epoch:.4f}\n")
            elif tty:
                out.append("\r" + bar + "\b" * len(bar))
    log = read("".join(out))
    assert log.format == "text-keras" and log.step_kind == "epoch"
    assert points(log, "loss") == [(float(e), round(2.5 / e, 4)) for e in range(1, 11)]
    assert points(log, "val_loss") == [(float(e), round(2.6 / e, 4)) for e in range(1, 11)]


# --- blocks, bars, noise ----------------------------------------------------------------------


def test_the_unfinished_note_reads_runs_off_the_training_lines() -> None:
    """A closing 'Best model at epoch 4, val_loss: 0.45' starts no run of its own; a next fit()
    that printed only its header ('Epoch 1/50') before the log was read lends no total to the
    finished run before it."""
    lines = [f"Epoch [{e}/100], loss: {1 / e:.4f}, val_loss: {1.1 / e:.4f}" for e in range(1, 11)]
    log = read("\n".join([*lines, "Best model at epoch 4, val_loss: 0.4512"]) + "\n")
    assert any("the log ends at epoch 10 of the 100" in w for w in log.warnings)
    lines = []
    for e in range(1, 21):
        lines += [f"Epoch {e}/20", f"100/100 [==============================] - 1s 5ms/step - loss: {1 / e:.4f}"]
    log = read("\n".join([*lines, "Epoch 1/50", " 12/100 [==>...........................] - ETA: 4s"]) + "\n")
    assert not any("the run was set for" in w for w in log.warnings)


@pytest.mark.parametrize(("last", "noted"), [(10, False), (9, False), (4, True)])
def test_a_console_log_that_stops_short_of_the_epochs_it_prints_says_so(last: int, noted: bool) -> None:
    """'Epoch 4/10' as the last header: a run still training, or stopped early."""
    lines = []
    for e in range(1, last + 1):
        lines += [f"Epoch {e}/10", f"100/100 [==============================] - 2s - loss: {1 / e:.4f}"]
    log = read("\n".join(lines) + "\n")
    assert log.hparams["epochs"] == 10.0
    said = [w for w in log.warnings if "the run was set for" in w]
    assert bool(said) is noted
    if noted:
        assert f"the log ends at epoch {last} of the 10 the run was set for (the total its lines print)" in said[0]


@pytest.mark.parametrize(
    ("first", "second", "stop", "said"),
    [
        (50, 100, 10, "the last run in this log ends at epoch 10 of the 100"),
        (100, 50, 10, "the last run in this log ends at epoch 10 of the 50"),
        (10, 50, 50, None),  # the first run stopped short; the last, judged by default, did not
    ],
)
def test_the_unfinished_note_is_of_the_last_run(first: int, second: int, stop: int, said: str | None) -> None:
    """Two runs appended, the first run in full (or not), the second to `stop` of its `second`:
    the note speaks of the last run, by its own total, not the first total printed or the
    highest epoch in the file."""
    lines = [f"Epoch [{e}/{first}], Train Loss: {1 / e:.4f}" for e in range(1, first + 1)]
    lines += [f"Epoch [{e}/{second}], Train Loss: {1 / e:.4f}" for e in range(1, stop + 1)]
    notes = [w for w in read("\n".join(lines) + "\n").warnings if "the run was set for" in w]
    assert [said in n for n in notes] == ([True] if said else [])
    # Judging the first run, the note of the last is not shown.
    first_run = normalize(read("\n".join(lines) + "\n"), segment=1)
    assert not any("the run was set for" in w for w in first_run.warnings)


def test_epoch_blocks_set_the_context_and_config_goes_to_hparams() -> None:
    log = read(
        "lr: 0.0001\n"
        "batch_size: 32\n"
        "Epoch: 1/20\n"
        "Train Loss: 7.3251 - Train Perplexity: 1517.94\n"
        "Valid Loss: 6.5378 - Valid Perplexity: 690.77\n"
        "Time: 122.57s - LR: 9.94e-05\n"
        "Epoch 2/20\n"
        "Train Loss: 6.2979 - Train Perplexity: 543.44\n"
    )
    assert log.step_kind == "epoch"
    assert points(log, "train_loss") == [(1.0, 7.3251), (2.0, 6.2979)]
    assert points(log, "valid_loss") == [(1.0, 6.5378)]
    assert points(log, "lr") == [(1.0, 9.94e-05)]
    assert log.hparams == {"lr": 0.0001, "batch_size": 32.0, "epochs": 20.0}  # 'Epoch: 1/20'
    assert any("the log ends at epoch 2 of the 20 the run was set for" in w for w in log.warnings)
    assert "time" not in log.series


def test_progress_bars_keep_the_last_refresh_under_progress() -> None:
    log = read(
        "\x1b[32mEpoch 2: 50%|█████     | 467/935 [00:35<00:35, 13.24it/s, loss=5.5, v_num=3]"
        "\rEpoch 2: 100%|██████████| 935/935 [01:10<00:00, 13.24it/s, loss=5.2, v_num=3]\x1b[0m\n"
        "Epoch 3: 100%|##########| 935/935 [01:10<00:00, 13.24it/s, loss=5.1, v_num=3]\n"
        "step=10 loss=4.9\n"
    )
    assert points(log, "progress/loss") == [(0.0, 5.2), (0.0, 5.1)]  # no step known yet: 0
    assert points(log, "loss") == [(10.0, 4.9)]
    assert naming.find_loss(log.series) == "loss"


def test_progress_bar_epochs_when_nothing_else_counts() -> None:
    log = read(
        "Epoch 0: 100%|##########| 10/10 [00:01<00:00, loss=2.5]\n"
        "Epoch 1: 100%|##########| 10/10 [00:01<00:00, loss=2.1]\n"
    )
    assert log.step_kind == "epoch"
    assert points(log, "progress/loss") == [(0.0, 2.5), (1.0, 2.1)]
    assert log.warnings == [
        "x.log: only progress-bar values found (running values of unfinished epochs); "
        "log the loss per step or per epoch for a sharper diagnosis"
    ]


def test_source_code_tracebacks_and_tables_are_skipped() -> None:
    log = read(
        "import torch\n"
        "def zeropower(G, steps=10, eps=1e-7):\n"
        "    logits = 30 * torch.tanh(logits / 30)\n"
        "optimizer = torch.optim.Adam(params, lr=0.6, betas=(0.9, 0.95))\n"
        "    val_loss_every : int = 125 # every how many steps\n"
        "Traceback (most recent call last):\n"
        '  File "train.py", line 12, in <module>\n'
        "|   butterfly   | 453          |   guitar    | 295          |\n"
        "copypaste: 1.2881,3.3935,0.7004\n"
        "Loaded best model with validation loss: 5.3239\n"
        "step:1/10 train_loss:3.0\n"
    )
    assert set(log.series) == {"train_loss"}
    assert points(log, "train_loss") == [(1.0, 3.0)]
    assert "lr" not in log.hparams and "eps" not in log.hparams


def test_module_reprs_and_namespaces_go_to_hparams() -> None:
    log = read(
        "Namespace(lr=0.01, batch_size=32)\n"
        "  (norm): FrozenBatchNorm2d(num_features=64, eps=1e-05)\n"
        "  BASE_LR: 0.004\n"
        "epoch=1 loss=2.3\n"
        "  (norm): FrozenBatchNorm2d(num_features=64, eps=1e-05)\n"
        "  MAX_ITER: 100\n"
        "epoch=2 loss=2.1\n"
    )
    assert set(log.series) == {"loss"}
    assert log.hparams == {
        "lr": 0.01,
        "batch_size": 32.0,
        "num_features": 64.0,
        "eps": 1e-05,
        "base_lr": 0.004,
        "max_iter": 100.0,
    }


def test_units_dates_and_versions_are_no_values() -> None:
    with pytest.raises(UnreadableLog) as err:
        read("date: 2024-05-01 time: 12:00:00 version: 1.2.3 mem: 11810M took: 0.4 s eta: 3:30:43\n")
    assert str(err.value) == NO_METRICS


@pytest.mark.parametrize("content", ["", "just some words\n", "Traceback (most recent call last):\n  x\n"])
def test_no_metric_at_all(content: str) -> None:
    with pytest.raises(UnreadableLog) as err:
        read(content)
    assert str(err.value) == NO_METRICS


def test_crlf_and_utf16_files(tmp_path: Path) -> None:
    body = "step=1 loss=2.5\r\nstep=2 loss=2.25\r\n"
    path = tmp_path / "train.log"
    path.write_bytes(body.encode("utf-16"))
    log = read_log(path)
    assert log.format == "text"
    assert points(log, "loss") == [(1.0, 2.5), (2.0, 2.25)]


@pytest.mark.parametrize(
    "line",
    [
        "a" * 1_000_000,
        "ab " * 300_000,
        "loss: " + "1" * 1_000_000,
        "loss: 1" + ",1" * 500_000,
        "a: " * 300_000,
        "step" + " " * 1_000_000 + "x",
        "f(" * 300_000 + "a=1",
        "{'a': " + "[" * 100_000,
        "Epoch 1: 50%|" + "#" * 1_000_000 + "| 1/2 [00:01<00:01, loss=2.3]",
        "loss: 1." + "." * 1_000_000,
        "x=" + "1e" * 500_000,
        "Epoch: [0][1/5]" + "\t" * 1_000_000 + "x",
        "Test: [1/5]" + "\t" * 1_000_000 + "x",
        "(x:1)" * 200_000 + " loss=1",
        "a.py:1 " * 150_000,
        "-" * 1_000_000 + ".py:1",
        "Epoch: [0][  1/501]\tLoss " + "1" * 1_000_000 + "x",
        "Test: [ 1/40]\tLoss " + "1" * 1_000_000 + "x",
        "2024-05-01 09:00:10.886255: train_loss " + "1" * 1_000_000 + "x",
        "loss " + "1" * 1_000_000 + "x",
    ],
    ids=[
        "letters",
        "words",
        "digits",
        "list",
        "colons",
        "spaces",
        "parens",
        "brackets",
        "bar",
        "dots",
        "exp",
        "meter-tabs",
        "test-meter-tabs",
        "source-locations",
        "source-files",
        "dashes",
        "meter-digits",
        "test-meter-digits",
        "stamped-loss-digits",
        "bare-loss-digits",
    ],
)
def test_one_huge_line_is_read_in_linear_time(line: str) -> None:
    # A pattern that backtracks across the line would take hours on a megabyte; these take a second.
    log = read(line + "\nstep=1 loss=2.0\n")
    assert points(log, "loss")[-1] == (1.0, 2.0)


# --- sniffing and the registry ----------------------------------------------------------------


def test_sniff_wants_two_loss_lines() -> None:
    assert text.sniff(b"iter 0: loss 2.3\niter 1: loss 2.1\n", "train.log")
    assert text.sniff(b"s:0 trl:10.9\ns:1 trl:10.8\n", "x")
    assert not text.sniff(b"iter 0: loss 2.3\n", "train.log")
    assert not text.sniff(b"hello\nworld\n", "train.log")


def test_registry_falls_back_to_text(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("iter 0: loss 2.3000, time 10ms\niter 1: loss 2.1000, time 10ms\n")
    log = read_log(path)
    assert log.format == "text-nanogpt" and points(log, "loss") == [(0.0, 2.3), (1.0, 2.1)]
    assert text.in_dir(tmp_path) is None


def test_points_keep_write_order_and_are_float64() -> None:
    log = read("step=5 loss=1.0\nstep=3 loss=2.0\nstep=5 loss=3.0\n")  # a resume: no sort, no dedupe
    s = log.series["loss"]
    assert s.steps.tolist() == [5.0, 3.0, 5.0] and s.values.tolist() == [1.0, 2.0, 3.0]
    assert s.seq.tolist() == [0.0, 1.0, 2.0]
    assert s.steps.dtype == s.values.dtype == s.seq.dtype == np.float64


# --- real logs --------------------------------------------------------------------------------

# Primary series (lrdoctor.naming must pick it) and other series with their exact counts.
REAL = {
    "0Xero7__slm_training__classic.txt": ("train_loss", {"valid_loss": 20, "lr": 20, "progress/loss": 19}),
    "0Xero7__slm_training__logs_2025-02-16_10_43_29.611931.log": ("train_loss", {"valid_loss": 30, "lr": 30}),
    "HaowenGuan__NYU-Semi-Supervise-Object-Detection__output_log_supervised_lr_0.004_warmup.txt": (
        "total_loss",
        {"lr": 2097, "loss_cls": 2097},
    ),
    "KellerJordan__modded-nanogpt__records_track_1_short_2024-06-06_AdamW_f66d43d7-e449-4029-8adf-e8537bab49ea.log": (
        "trl",
        {"tel": 76},
    ),
    "KellerJordan__modded-nanogpt__records_track_1_short_2024-11-10_UNetDoubleLr_"
    "c87bb826-797b-4f37-98c7-d3a5dad2de74.txt": ("train_loss", {"val_loss": 25}),
}
TEXT_ENTRIES = [e for e in realworld_manifest() if e["format"] == "text"]


@pytest.mark.parametrize("entry", TEXT_ENTRIES, ids=[e["file"][:40] for e in TEXT_ENTRIES])
def test_real_text_logs(realworld: Path, entry: dict) -> None:
    log = read_log(realworld / entry["local_path"], format="text")
    primary, others = REAL[entry["file"]]
    counts = {k: len(v) for k, v in log.series.items()}
    assert counts[primary] == entry["loss_points"]
    assert {k: counts.get(k) for k in others} == others
    assert (log.hints.get("loss") or naming.find_loss(log.series, counts)) == primary
    assert naming.find_loss(log.series, counts) == primary


def test_real_log_values(realworld: Path) -> None:
    d2 = read_log(realworld / "text" / next(f for f in REAL if f.startswith("HaowenGuan")), format="text")
    assert points(d2, "total_loss")[:3] == [(19.0, 156.1), (39.0, 11.32), (59.0, 1.473)]
    assert d2.hparams["base_lr"] == 0.004
    unet = read_log(realworld / "text" / next(f for f in REAL if "UNet" in f), format="text")
    assert set(unet.series) == {"train_loss", "val_loss"}  # no step_avg:nanms, nothing from the code dump
    assert points(unet, "train_loss")[-1] == (3000.0, 3.2425)
    assert points(unet, "val_loss")[0] == (0.0, 10.8258)
    blocks = read_log(realworld / "text" / next(f for f in REAL if f.endswith(".611931.log")), format="text")
    assert blocks.step_kind == "epoch" and blocks.hparams["lr"] == 0.0001
    assert points(blocks, "train_loss")[-1] == (30.0, 4.2363)


def test_nonfinite_value_is_not_part_of_a_key(tmp_path: Path) -> None:
    path = tmp_path / "train.log"
    path.write_text("step 15: loss 2.1000 lr 1.0e+01\nstep 16: loss inf lr 1.0e+01\nstep 17: loss nan lr 1.0e+01\n")
    log = read_log(path)
    assert sorted(log.series) == ["loss", "lr"]
    values = log.series["loss"].values
    assert values[0] == 2.1 and np.isposinf(values[1]) and np.isnan(values[2])


def test_a_line_printed_right_after_a_tqdm_refresh_is_read(tmp_path: Path) -> None:
    # print() while tqdm draws to the same stream: '\r<bar>[...]' and the line, with no break between.
    lines = [
        f"\r{i // 3:3d}%|#         | {i}/300 [00:00<00:09, 30.00it/s]iter {i}: loss {4 - i / 100:.4f}, time 30.00ms\n"
        for i in range(0, 300, 10)
    ]
    path = tmp_path / "train.log"
    path.write_text("".join(lines))
    run = load(path)
    assert run.metric == "loss" and len(run.loss) == 30
    np.testing.assert_array_equal(run.loss.steps, np.arange(0, 300, 10))


def test_llmc_and_build_nanogpt_validation_lines(tmp_path: Path) -> None:
    rows = ["val loss 4.000000"]
    for s in range(1, 21):
        rows.append(f"step {s:4d}/20 | train loss {4 - s / 10:.6f} | norm 1.2345 | lr 6.00e-04 | (388.12 ms)")
        if s % 10 == 0:
            rows.append(f"val loss {3.5 - s / 20:.6f}")
    path = tmp_path / "llmc.log"
    path.write_text("\n".join(rows) + "\n")
    run = load(path)
    assert run.val_metric == "val_loss" and run.val_loss is not None
    assert run.val_loss.steps.tolist() == [1.0, 10.0, 20.0]  # the one before training at the first step
    rows = ["validation loss: 4.1000"] + [f"step {s:5d} | loss {4 - s / 10:.6f} | lr 6.0000e-04" for s in range(20)]
    path = tmp_path / "build.log"
    path.write_text("\n".join(rows) + "\n")
    run = load(path)
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [0.0] and "validation_loss" not in run.hparams


def test_a_step_that_restarts_each_epoch_is_one_run(tmp_path: Path) -> None:
    # An iteration within the epoch, printed without its total: each epoch's steps follow the last's.
    lines = [
        f"epoch={e} step={s} loss={2.0 * 0.98 ** (50 * e + s // 10):.4f}"
        for e in range(1, 6)
        for s in range(50, 501, 50)
    ]
    path = tmp_path / "train.log"
    path.write_text("\n".join(lines) + "\n")
    run = load(path)
    assert len(run.loss) == 50 and len(run.segments) == 1
    assert run.loss.steps[:12].tolist() == [*range(50, 501, 50), 550, 600]
    assert any("the step restarts at each epoch" in w for w in run.warnings)


def metric_logger(epochs: int, batches: int, every: int) -> str:
    """torchvision's MetricLogger as DeiT's training script prints it: a window median and the
    running mean of each meter, the epoch's means, then the evaluation and its means."""
    out = ["Namespace(batch_size=128, epochs=4, lr=0.0005)\n", f"Start training for {epochs} epochs\n"]
    for epoch in range(epochs):
        for i in range(0, batches, every):
            loss = 3 * 0.9995 ** (epoch * batches + i)
            out.append(
                f"Epoch: [{epoch}]  [{i:>{len(str(batches))}}/{batches}]  eta: 0:04:53  lr: 0.000101  "
                f"loss: {loss:.4f} ({loss + 0.1:.4f})  time: 0.2006  data: 0.0446  max mem: 5123\n"
            )
        out.append(f"Epoch: [{epoch}] Total time: 0:01:40 (0.2000 s / it)\n")
        out.append(f"Averaged stats: lr: 0.000500  loss: {9 + epoch:.4f} ({9 + epoch:.4f})\n")
        for i in (0, 50):
            out.append(
                f"Test:  [{i:>2}/66]  eta: 0:00:20  loss: {8 + epoch:.4f} ({8 + epoch:.4f})  acc1: 50.0000 (50.0000)\n"
            )
        out.append("Test: Total time: 0:00:20 (0.3000 s / it)\n")
        out.append(f"* Acc@1 {50 + epoch:.3f} Acc@5 75.000 loss {2 / (epoch + 1):.3f}\n")
    return "".join(out)


@pytest.mark.parametrize("epochs", [3, 60])  # the second takes the cached-layout path
def test_torchvision_metric_logger_steps_and_epoch_means(epochs: int) -> None:
    """'Epoch: [e]  [i/N]' is step e * N + i; the epoch's means ('Averaged stats:') are no points
    of the training loss (they made a jump in it at every epoch's end), and the evaluation's
    loss is the mean its last line prints."""
    log = read(metric_logger(epochs, 500, 100))
    assert log.step_kind == "step"
    loss = points(log, "loss")
    assert [s for s, _ in loss] == [500.0 * e + i for e in range(epochs) for i in range(0, 500, 100)]
    assert all(v == round(3 * 0.9995**s, 4) for s, v in loss)
    assert [v for _, v in points(log, "averaged_loss")] == [9.0 + e for e in range(epochs)]
    run = normalize(log)
    assert run.loss.name == "loss" and run.val_loss is not None
    assert list(run.val_loss.values) == [round(2 / (e + 1), 3) for e in range(epochs)]


def test_mmcv_iterations_within_each_epoch_run_on() -> None:
    lines = [
        f"2022-03-01 10:00:00,123 - mmdet - INFO - Epoch [{e}][{i}/1000]\tlr: 2.000e-02, eta: 1:23:45, "
        f"time: 0.512, data_time: 0.021, memory: 3500, loss_cls: 0.3012, loss: {2.0 / (e * 1000 + i):.6f}"
        for e in (1, 2)
        for i in (500, 1000)
    ]
    log = read("\n".join(lines) + "\n")
    assert [s for s, _ in points(log, "loss")] == [500, 1000, 1500, 2000]
    assert points(log, "lr")[0] == (500, 0.02)


def test_mmengine_iterations_are_steps() -> None:
    line = "2023/01/01 10:00:00 - mmengine - INFO - Iter(train) [  {}/3000]  lr: 1.0000e-02  eta: 0:10:00  loss: {}"
    log = read("\n".join(line.format(i, 2.0 - i / 100) for i in (10, 20, 30)) + "\n")
    assert points(log, "loss") == [(10, 1.9), (20, 1.8), (30, 1.7)]


def test_the_format_label_is_the_style_of_most_metric_lines() -> None:
    """mmengine prints its environment with a dict or two ("dist_cfg: {'backend': 'nccl'}") before
    its training lines: those are no HF Trainer log."""
    head = ["    mp_cfg: {'mp_start_method': 'fork', 'opencv_num_threads': 0}", "    dist_cfg: {'backend': 'nccl'}"]
    line = "2023/01/01 10:00:00 - mmengine - INFO - Epoch(train)  [1][{}/3505]  lr: 1.9820e-03  loss: {}"
    log = read("\n".join(head + [line.format(i, 2.0 - i / 1000) for i in range(50, 700, 50)]) + "\n")
    assert log.format == "text" and "opencv_num_threads" not in log.series
    settings = "{'seed': 42, 'loss_weight': 1.0, 'lr': 0.02}"  # a setting of the loss is no loss
    log = read("\n".join([settings] + [f"step {k} loss {2 - k / 100}" for k in range(1, 30)]) + "\n")
    assert log.format != "text-hf"
    # A dict that is no HF record leaves the line to the plain parser: the loss before it, the rate
    # in it.
    lines = [
        f"Epoch {e}: train_loss={2 - e / 10:.4f}, val_metrics={{'accuracy': 0.51, 'f1': 0.41}}" for e in range(1, 9)
    ]
    lines += [f"{{'lr': {0.001 / e}, 'val_acc': 0.51}}" for e in range(1, 9)]
    log = read("\n".join(lines) + "\n")
    assert len(points(log, "train_loss")) == 8 and len(points(log, "lr")) == 8
    hf = "{{'loss': {}, 'learning_rate': 5e-05, 'epoch': {}}}"
    log = read("\n".join([head[1]] + [hf.format(2.0 - e / 10, e / 10) for e in range(1, 9)]) + "\n")
    assert log.format == "text-hf"


def test_pytorch_examples_mnist_lines_are_read_as_fractions_of_an_epoch() -> None:
    text = (
        "Train Epoch: 1 [0/60000 (0%)]\tLoss: 2.305\n"
        "Train Epoch: 1 [30000/60000 (50%)]\tLoss: 0.5\n"
        "Train Epoch: 2 [0/60000 (0%)]\tLoss: 0.25\n"
    )
    log = read(text)
    assert log.step_kind == "epoch" and points(log, "loss") == [(1.0, 2.305), (1.5, 0.5), (2.0, 0.25)]


def test_a_log_of_progress_bars_alone_is_read_at_every_refresh() -> None:
    # `python train.py > train.log` where tqdm's postfix is the only place the loss shows.
    refreshes = [
        f"Epoch {e}: {n * 2}%|#    | {n}/50 [00:01<00:00, 9.9it/s, loss={2.0 / (1 + e * 50 + n):.4f}]"
        for e in (0, 1)
        for n in range(1, 51)
    ]
    log = read("\r".join(refreshes) + "\n")
    assert log.step_kind == "step" and "read at every refresh" in log.warnings[0]
    got = points(log, "progress/loss")
    assert len(got) == 100 and got[0] == (1.0, 1.0) and got[50][0] == 51.0 and got[-1][0] == 100.0
    assert "progress/__n" not in log.series


def test_settings_printed_before_the_bars_leave_them_read_at_every_refresh() -> None:
    """diffusers' and accelerate's scripts log their settings ('Num examples = 833'), then one
    tqdm bar shows the loss of every step: the settings are settings, not what the log holds
    besides its bars (the 600 steps had become one point)."""
    head = "".join(
        f"05/01/2024 10:00:05 - INFO - __main__ -   {k} = {v}\n"
        for k, v in (("Num examples", 833), ("Num Epochs", 3), ("Total optimization steps", 60))
    )
    bars = [f"Steps: {n}%|#  | {n}/60 [00:01<00:00,  1.00s/it, lr=1e-05, step_loss={1 / n:.4f}]" for n in range(1, 61)]
    log = read(head + "Steps:   0%|   | 0/60 [00:00<?, ?it/s]\r" + "\r".join(bars) + "\n")
    assert set(log.series) == {"progress/step_loss", "progress/lr"}
    assert points(log, "progress/step_loss") == [(float(n), round(1 / n, 4)) for n in range(1, 61)]
    assert log.hparams["num_examples"] == 833 and log.hparams["total_optimization_steps"] == 60
    # A value printed after the bars began is no setting: it stands at the refresh drawn before it,
    # and the bar, which alone shows the loss, is still read at every refresh.
    later = read(head + "\r".join(bars[:30]) + "\nINFO - eval score = 0.5\n" + "\r".join(bars[30:]) + "\n")
    assert points(later, "eval_score") == [(30.0, 0.5)] and len(points(later, "progress/step_loss")) == 60


def test_mmcv_evaluation_lines_are_validation_values_at_the_step_they_follow() -> None:
    train = "2022-03-01 10:00:00,123 - mmdet - INFO - Epoch [{}][{}/500]\tlr: 2.000e-02, loss_cls: 0.3, loss: {}"
    lines = [
        train.format(1, 250, 1.5),
        train.format(1, 500, 1.1358),
        "2022-03-01 10:01:00,123 - mmdet - INFO - Epoch(val) [1][125]\tloss_cls: 0.5, loss: 1.0",
        train.format(2, 250, 0.8),
        train.format(2, 500, 0.6707),
    ]
    log = read("\n".join(lines) + "\n")
    assert points(log, "loss") == [(250, 1.5), (500, 1.1358), (750, 0.8), (1000, 0.6707)]
    assert points(log, "val_loss") == [(500, 1.0)]


@pytest.mark.parametrize("written", ["step {k}: val_loss {v:.4f}", "val_loss={v:.4f}"])
def test_a_bar_that_alone_shows_the_loss_is_read_at_every_refresh_beside_other_lines(written: str) -> None:
    """One tqdm bar over the run, the loss in its postfix, and `tqdm.write` lines of validation
    values every 100 steps: the training loss had kept the bar's refresh before each line only
    (4 points of 400), its start lost; the other lines' values stand at the refresh before them."""
    text = ""
    for k in range(1, 401):
        text += f"\r{k // 4:3d}%|#   | {k}/400 [00:01<00:00, 99.00it/s, loss={2.3 * 0.99**k:.4f}, lr=0.05]"
        if k % 100 == 0:
            text += "\r" + " " * 60 + "\r" + written.format(k=k, v=0.2 + 10 / k) + "\n"
    log = read(text + "\n")
    assert points(log, "progress/loss") == [(float(k), round(2.3 * 0.99**k, 4)) for k in range(1, 401)]
    assert points(log, "val_loss") == [(float(k), round(0.2 + 10 / k, 4)) for k in (100, 200, 300, 400)]
    assert any("the training loss is shown by the progress bar alone" in w for w in log.warnings)


def test_epoch_bars_and_a_validation_line_per_epoch_read_every_refresh() -> None:
    """A bar per epoch and one 'Epoch N: val_loss=...' line after it: a run that blew up in its first
    epoch (2.35 to 1e20) had kept each epoch's last refresh, starting at 1e20, and read as unknown."""
    text = ""
    for e in range(1, 11):
        for n in range(1, 43):
            step = (e - 1) * 42 + n
            loss = 2.35 * 10 ** min(step / 2, 20)
            text += f"\rEpoch {e}: {100 * n // 42:3d}%|#   | {n}/42 [00:01<00:00, loss={loss:.4g}, lr=10]"
        text += f"\nEpoch {e}: val_loss={3e20 * e:.4g}\n"
    log = read(text)
    assert [s for s, _ in points(log, "progress/loss")] == [float(k) for k in range(1, 421)]
    assert points(log, "progress/loss")[0] == (1.0, round(2.35 * 10**0.5, 3))
    assert [s for s, _ in points(log, "val_loss")] == [42.0 * e for e in range(1, 11)]


def test_a_validation_bar_advances_no_step_and_keeps_its_last_value() -> None:
    refreshes = []
    for e in range(2):
        refreshes += [f"Epoch {e}: {n}%|#    | {n}/10 [00:01<00:00, loss={2.0 - e - n / 20:.3f}]" for n in range(11)]
        refreshes += [
            f"Validation: {n * 20}%|#  | {n}/5 [00:01<00:00, val_loss={1.5 - e / 2 + n / 100:.3f}]" for n in range(1, 6)
        ]
    log = read("\r".join(refreshes) + "\n")
    assert [s for s, _ in points(log, "progress/loss")] == list(range(21))
    assert points(log, "progress/val_loss") == [(10.0, 1.55), (20.0, 1.05)]
    assert points(log, "progress/loss")[10] == (10.0, 1.5)  # epoch 0's last refresh, not epoch 1's count 0


def test_a_validation_value_shown_on_the_training_bar_is_a_point_where_it_changed() -> None:
    """Lightning shows the last validation loss in every refresh of the training bar after it:
    one point per validation, not one per refresh."""
    refreshes = []
    for e in range(5):
        shown = "" if e == 0 else f", val_loss={1.2 / e:.3f}"
        for n in range(11):
            loss = 3 / (1 + e + n / 10)
            refreshes.append(
                f"Epoch {e}: {n * 10}%|#  | {n * 5}/50 [00:01<00:00, v_num=0, train_loss={loss:.3f}{shown}]"
            )
    log = read("\r".join(refreshes) + "\n")
    assert len(points(log, "progress/train_loss")) == 51
    assert [v for _, v in points(log, "progress/val_loss")] == [round(1.2 / e, 3) for e in range(1, 5)]


def test_a_stuck_validation_value_is_a_point_after_each_validation_bar() -> None:
    """A run stuck at chance shows the same validation loss after every validation: one point per
    validation (the validation bar that ran, showing no values, says when), not one in all."""
    refreshes = []
    for e in range(4):
        shown = "" if e == 0 else ", val_loss=0.693"
        refreshes += [
            f"Epoch {e}: {n * 10}%|#  | {n}/10 [00:01<00:00, v_num=0, train_loss=0.69{n % 3}{shown}]" for n in range(11)
        ]
        refreshes += [f"Validation DataLoader 0: {n * 50}%|#  | {n}/2 [00:00<00:00, 30.00it/s]" for n in range(3)]
    log = read("\r".join(refreshes) + "\n")
    assert [v for _, v in points(log, "progress/val_loss")] == [0.693] * 3


@pytest.mark.parametrize("title", ["Epoch {e} [val]", "Validation", "Evaluating"])
def test_a_validation_bars_postfix_is_the_validation_loss_not_a_training_point(title: str) -> None:
    """A loop's own tqdm bars, 'Epoch 3 [train]' then 'Epoch 3 [val]', each with set_postfix(loss=...):
    the validation bar's loss had been written over the training loss at the step it follows."""
    refreshes = []
    for e in range(4):
        refreshes += [
            f"Epoch {e} [train]: {n * 10}%|#  | {n}/10 [00:01<00:00, loss={2 - (10 * e + n) / 50:.3f}]"
            for n in range(1, 11)
        ]
        name = title.format(e=e)
        refreshes += [f"{name}: {n * 50}%|#  | {n}/2 [00:00<00:00, loss={3 - e / 10 - n / 100:.3f}]" for n in (1, 2)]
    log = read("\r".join(refreshes) + "\n")
    train = points(log, "progress/loss")
    assert [v for _, v in train] == [round(2 - k / 50, 3) for k in range(1, 41)]
    assert points(log, "progress/val_loss") == [(10.0 * (e + 1), round(3 - e / 10 - 0.02, 3)) for e in range(4)]


def test_a_validation_value_is_one_point_per_validation_whatever_other_bars_refresh() -> None:
    """Lightning 1.x's training bar counts on through the validation (its total holds both), its
    refreshes drawn between the validation bar's; a data-loading bar refreshes during training.
    Neither repeats the last validation loss as a new point: one point per validation."""
    refreshes = []
    for e in range(4):
        shown = "" if e == 0 else f", val_loss={1.2 / e:.3f}"
        for n in range(1, 41):
            refreshes.append(
                f"Epoch {e}: {n * 2}%|#  | {n}/50 [00:01<00:00, loss={2 / (1 + e + n / 40):.3f}, v_num=0{shown}]"
            )
            if n % 10 == 0:
                refreshes.append(f"Map: {n * 2}%|#  | {n}/40 [00:00<00:00, 100.00ex/s]")
        for n in range(41, 51):  # validating: the training bar counts on, the validation bar between
            refreshes.append(f"Validating: {(n - 40) * 10}%|#  | {n - 40}/10 [00:00<00:00, 30.00it/s]")
            refreshes.append(f"Epoch {e}: {n * 2}%|#  | {n}/50 [00:01<00:00, loss={2 / (2 + e):.3f}, v_num=0{shown}]")
    log = read("\r".join(refreshes) + "\n")
    assert [v for _, v in points(log, "progress/val_loss")] == [round(1.2 / e, 3) for e in range(1, 4)]


def test_bars_read_at_every_refresh_follow_the_bar_refreshed_most() -> None:
    # An evaluation bar before training, and a description that changes with each refresh.
    val = [f"Validation: {n * 50}%|#  | {n}/2 [00:01<00:00, val_loss={2.3 - n / 100:.3f}]" for n in range(1, 3)]
    train = [
        f"Epoch 0 lr {1e-3 * (1 - n / 40):.2e}: {n}%|#    | {n}/40 [00:01<00:00, loss={2.0 - n / 40:.3f}]"
        for n in range(41)
    ]
    log = read("\r".join(val + train) + "\n")
    assert [s for s, _ in points(log, "progress/loss")] == list(range(41))
    assert points(log, "progress/val_loss") == [(0.0, 2.28)]


def test_a_loss_in_the_bars_description_is_read() -> None:
    refreshes = [f"Epoch 0 loss {2.0 - n / 40:.4f}: {n}%|#    | {n}/40 [00:01<00:00, 9.9it/s]" for n in range(41)]
    log = read("\r".join(refreshes) + "\n")
    assert len(points(log, "progress/loss")) == 41 and points(log, "progress/loss")[-1] == (40.0, 1.0)


def test_pytorch_examples_test_lines_are_the_test_loss() -> None:
    log = read(
        "Train Epoch: 1 [0/60000 (0%)]\tLoss: 2.305\n"
        "Train Epoch: 1 [30000/60000 (50%)]\tLoss: 0.5\n"
        "\nTest set: Average loss: 0.1000, Accuracy: 9700/10000 (97%)\n\n"
    )
    assert points(log, "test_loss") == [(1.5, 0.1)]


def test_the_training_bar_is_the_one_with_the_loss_whatever_else_refreshes() -> None:
    refreshes = []
    refreshes += [f"Map (num_proc=4): {n}%|#  | {n * 10}/1000 [00:01<00:00]" for n in range(1, 101)]
    for e in range(2):
        refreshes += [
            f"Epoch {e} GPU 0: {n * 10}%|# | {n}/10 [00:01<00:00, loss={2.0 - e - n / 20:.3f}]" for n in range(11)
        ]
        refreshes += [
            f"Epoch {e} [valid]: {n}%|# | {n}/30 [00:01<00:00, val_loss={1.5 - e / 2:.3f}]" for n in range(1, 31)
        ]
    refreshes += [f"Epoch 2 GPU 0: {n * 10}%|# | {n}/10 [00:01<00:00, loss={v}]" for n, v in ((5, "nan"), (6, "inf"))]
    log = read("\r".join(refreshes) + "\n")
    assert [s for s, _ in points(log, "progress/loss")] == [*range(21), 25, 26]
    assert points(log, "progress/val_loss") == [(10.0, 1.5), (20.0, 1.0)]
    assert set(log.series) == {"progress/loss", "progress/val_loss"}  # no 'num_proc', no 'gpu'
    assert _textstate._bar_kind("Epoch 3 loss nan") == _textstate._bar_kind("Epoch 4 loss -2.5e-03")


@pytest.mark.parametrize("lines", [10, 3000])  # the second takes the cached-layout path
@pytest.mark.parametrize("missing", ["N/A", "None", "null", "n/a"])
def test_a_missing_value_does_not_glue_onto_the_next_key(tmp_path: Path, lines: int, missing: str) -> None:
    """'loss=N/A lr=0.001' is a missing loss and lr=0.001, not a series named 'N/A lr'."""
    rows = [
        f"2024-01-01 INFO step={10 * k} loss={missing if k % 10 == 0 else f'{2.3 * 0.999**k:.5f}'} lr=0.001"
        for k in range(lines)
    ]
    path = tmp_path / "train.log"
    path.write_text("\n".join(rows) + "\n")
    log = read_log(path)
    assert set(log.series) == {"loss", "lr"}
    assert len(log.series["lr"]) == lines
    assert len(log.series["loss"]) == lines - lines // 10
    colon = tmp_path / "colon.log"
    colon.write_text("\n".join(r.replace("=", ": ") for r in rows) + "\n")
    assert set(read_log(colon).series) == {"loss", "lr"}


@pytest.mark.parametrize("lines", [10, 3000])
def test_a_placeholder_that_opens_the_line_does_not_glue_onto_the_first_key(tmp_path: Path, lines: int) -> None:
    """'None step=0 loss=2.3' (a value printed before the pairs, such as a function's None) keeps
    its step: the x axis is the step, not the line number."""
    path = tmp_path / "train.log"
    path.write_text("".join(f"None step={10 * k} loss={2.3 * 0.999**k:.5f}\n" for k in range(lines)))
    log = read_log(path)
    assert set(log.series) == {"loss"}
    assert log.series["loss"].steps[-1] == 10 * (lines - 1)


@pytest.mark.parametrize("lines", [10, 3000])
@pytest.mark.parametrize("counter", ["step", "epoch"])
def test_a_counter_after_a_word_value_is_the_counter(tmp_path: Path, lines: int, counter: str) -> None:
    """'mode: train step: 5 loss: 2.3': 'train' is the value of 'mode', and the step is the step,
    not a metric 'train_step'."""
    path = tmp_path / "train.log"
    path.write_text("".join(f"mode: train {counter}: {k} loss: {2.3 * 0.999**k:.5f}\n" for k in range(lines)))
    run = load(path)
    assert set(run.series) == {"loss"}
    assert run.step_kind == counter and run.loss.steps[-1] == lines - 1


EVAL_FORMS = {
    "colon": ("mode: train step: {s} loss: {v} lr: 0.001", "mode: val step: {k} loss: {v}"),
    "stamped": (
        "[2024-05-01 10:00:00] mode: train step: {s} loss: {v} lr: 0.001",
        "[2024-05-01 10:00:00] mode: val step: {k} loss: {v}",
    ),
    "equals": ("mode=train step={s} loss={v} lr=0.001", "mode=val step={k} loss={v}"),
    "commas": ("mode: train, step: {s}, loss: {v}, lr: 0.001", "mode: val, step: {k}, loss: {v}"),
    "counter": ("INFO: train step: {s} loss: {v} lr: 0.001", "INFO: val step: {k} loss: {v}"),
    "lightning": ("stage: fit step: {s} loss: {v} lr: 0.001", "stage: validate step: {k} loss: {v}"),
}


@pytest.mark.parametrize("form", sorted(EVAL_FORMS))
@pytest.mark.parametrize("epochs", [3, 300])  # the second takes the cached-layout path
def test_a_line_of_an_evaluation_holds_its_values_at_the_training_step(epochs: int, form: str) -> None:
    """'mode: val step: 2 loss: 1.17' counts validation batches: its step is no training step (the
    run read as appended runs) and its loss is the validation loss at the training step it
    follows, not a point of the training loss; whatever the separators and the line's prefix."""
    train, evaluate = EVAL_FORMS[form]
    lines = []
    for e in range(epochs):
        lines += [train.format(s=10 * (e * 10 + k), v=f"{3 * 0.99 ** (e * 10 + k):.4f}") + "\n" for k in range(1, 11)]
        lines += [evaluate.format(k=k, v=f"{2 * 0.99**e:.4f}") + "\n" for k in (1, 2, 3)]
    run = normalize(read("".join(lines)))
    assert run.loss.name == "loss" and len(run.loss) == 10 * epochs and len(run.segments) == 1
    assert run.loss.values.tolist() == [round(3 * 0.99**k, 4) for k in range(1, 10 * epochs + 1)]
    assert run.val_loss is not None and run.val_loss.values.tolist() == [round(2 * 0.99**e, 4) for e in range(epochs)]
    assert run.val_loss.steps.tolist() == [100.0 * (e + 1) for e in range(epochs)]


TITLED_EVALS = {
    "dash": ("Validation - Loss: {v}, Acc: 0.91", "val_loss"),
    "bracket": ("[Val] loss: {v}", "val_loss"),
    "arrow": ("==> Validation: loss={v} acc=0.9", "val_loss"),
    "bracket-epoch": ("[VAL] Epoch 3: loss={v}", "val_loss"),
    "epoch-title": ("Epoch 3 validation: loss {v}", "val_loss"),
    "eval-colon": ("eval: loss: {v}, acc: 0.9", "val_loss"),
    "evaluating": ("Evaluating on dev set... loss={v}", "val_loss"),
    "test-colon": ("Test: loss: {v}", "test_loss"),
    "caffe": ("    Test net output #0: loss = {v} (* 1 = {v} loss)", "test_loss"),
    # ... and their values written without a colon, each name a space before its value
    "colon-spaced": ("Val: loss {v} acc 0.62", "val_loss"),
    "pipe-spaced": ("valid | loss {v} | ppl 8.2", "val_loss"),
    "test-spaced": ("Test: loss {v}", "test_loss"),
    "percent-spaced": ("Val: loss {v}, acc 62.0%", "val_loss"),
}


@pytest.mark.parametrize("form", sorted(TITLED_EVALS))
@pytest.mark.parametrize("epochs", [3, 300])  # the second takes the cached-layout path
def test_a_line_titled_as_an_evaluation_holds_no_training_loss(form: str, epochs: int) -> None:
    """An evaluation line that names its phase only as its title ('Validation - Loss: 0.12')
    had its loss read as a point of the training loss: at a training line's step it replaced it."""
    line, name = TITLED_EVALS[form]
    lines = []
    for e in range(epochs):
        lines += [f"step={10 * (e * 10 + k)} loss={3 * 0.99 ** (e * 10 + k):.4f} lr=0.001\n" for k in range(1, 11)]
        lines.append(line.format(v=f"{9 + 0.5 * 0.99**e:.4f}") + "\n")
    run = normalize(read("".join(lines)))
    assert run.loss.values.tolist() == [round(3 * 0.99**k, 4) for k in range(1, 10 * epochs + 1)]
    assert len(points(read("".join(lines)), name)) == epochs
    assert run.val_loss is not None and run.val_loss.name == name and run.val_loss.values.min() > 9


@pytest.mark.parametrize("placeholder", ["nan", "n/a", "-", "None", "inf"])
def test_a_value_named_as_an_evaluation_is_no_title(placeholder: str) -> None:
    """'val: 0.5' is a value, not the title of an evaluation line; so is its placeholder until the
    first evaluation ('val: n/a', 'val: nan'), before the training loss on the same line."""
    log = read("".join(f"step={k} loss={2 - k / 100:.3f} val: {1 - k / 100:.3f}\n" for k in range(1, 31)))
    assert len(points(log, "loss")) == 30 and len(points(log, "val")) == 30
    lines = [
        f"step {k} | lr 1.0e-03 | val: {placeholder if k < 10 else 0.9} | loss {2 - k / 100:.4f}" for k in range(30)
    ]
    log = read("\n".join(lines) + "\n")
    assert [s for s, _ in points(log, "loss")] == [float(k) for k in range(30)]


def test_training_lines_that_mention_an_evaluation_stay_training_lines() -> None:
    """A setting after the training values ('eval_step=500'), a validation's values after the
    training's on one line, and a counter named after something else ('checkpoint step') do not
    make a training line an evaluation's, nor its counter the step."""
    log = read(
        "".join(f"step={10 * k} loss={2 - k / 100:.3f} lr=0.1 eval_step=500 test_step=7\n" for k in range(1, 31))
    )
    assert len(points(log, "loss")) == 30 and points(log, "loss")[-1][0] == 300.0
    both = read(
        "".join(
            f"step: {10 * k} loss: {2 - k / 100:.3f} | val step: {10 * k} val loss: {2.5 - k / 100:.3f}\n"
            for k in range(1, 31)
        )
    )
    assert len(points(both, "loss")) == 30 and len(points(both, "val_loss")) == 30
    lines = [f"INFO: step: {10 * k} loss: {2 - k / 100:.3f}\n" for k in range(1, 31)]
    lines.insert(20, "INFO: checkpoint step: 100 loss: 1.9\n")
    log = read("".join(lines))
    steps = [s for s, _ in points(log, "loss")]
    assert "checkpoint_step" in log.series and steps == sorted(steps) and steps[-1] == 300.0  # no restart


@pytest.mark.parametrize(
    "form",
    [
        "Epoch {e} | train: loss {t:.4f} acc 0.5 | val: loss {v:.4f} acc 0.6",
        "Epoch {e}/12 Train - loss: {t:.4f}, acc: 0.5 | Val - loss: {v:.4f}, acc: 0.6",
        "epoch {e} [train] loss={t:.4f} acc=0.5 [valid] loss={v:.4f} acc=0.6",
        "Epoch {e}: (train) loss={t:.4f} (val) loss={v:.4f}",
        "Epoch {e}: Training: loss={t:.4f} acc=0.5 | Validation: loss={v:.4f} acc=0.6",
        "Epoch {e} | loss {t:.4f} | ppl 7.4 | valid | loss {v:.4f} | ppl 8.2",  # a field of its own
        "epoch {e}, loss={t:.4f}, acc=0.5, val, loss={v:.4f}, acc=0.6",
    ],
)
def test_an_evaluations_values_after_the_trainings_on_one_line_are_the_evaluations(form: str) -> None:
    """Both halves of the line name a 'loss': the later, the evaluation's, had overwritten the
    training loss, and no validation loss was read."""
    rows = [(e, 2.3 - e / 10, 2.4 - e / 20) for e in range(12)]
    log = read("".join(form.format(e=e, t=t, v=v) + "\n" for e, t, v in rows))
    assert log.step_kind == "epoch"
    assert points(log, "loss") == [(float(e), round(t, 4)) for e, t, _ in rows]
    val = naming.find_val_loss(log.series, "loss")
    assert val is not None and points(log, val) == [(float(e), round(v, 4)) for e, _, v in rows]


@pytest.mark.parametrize(
    ("form", "kind"),
    [
        ("[train] loss={t:.4f} acc=0.3 [val] loss={v:.4f} acc=0.2 step={k}", "step"),
        ("loss: {t:.4f} - acc: 0.3 - val: loss: {v:.4f} - acc: 0.2 - epoch: {k}", "epoch"),
    ],
)
def test_a_counter_after_both_halves_of_a_line_stays_its_axis(form: str, kind: str) -> None:
    rows = [(k, 2.3 - k / 50, 2.4 - k / 60) for k in range(1, 31)]
    log = read("".join(form.format(k=k, t=t, v=v) + "\n" for k, t, v in rows))
    assert log.step_kind == kind
    assert points(log, "loss") == [(float(k), round(t, 4)) for k, t, _ in rows]


def test_a_step_line_that_ends_an_epoch_with_its_evaluation_keeps_its_training_loss() -> None:
    lines = [
        f"step {s} | train: loss {2.3 - s / 100:.4f}" + (" | val: loss 2.1 acc 0.6" if s % 40 == 0 else "")
        for s in range(10, 130, 10)
    ]
    log = read("\n".join(lines) + "\n")
    assert points(log, "loss") == [(float(s), round(2.3 - s / 100, 4)) for s in range(10, 130, 10)]
    assert points(log, naming.find_val_loss(log.series, "loss")) == [(40.0, 2.1), (80.0, 2.1), (120.0, 2.1)]


def test_an_evaluation_line_keeps_its_epoch_and_a_global_step() -> None:
    log = read(
        "".join(
            f"epoch: {e} loss: {2 - e / 10:.2f}\nmode: val epoch: {e} loss: {1.5 - e / 10:.2f} lr: 0.1\n"
            for e in range(1, 9)
        )
    )
    assert points(log, "val_loss") == [(float(e), round(1.5 - e / 10, 2)) for e in range(1, 9)]
    assert "val_epoch" not in log.series and "lr" in log.series
    log = read(
        "".join(
            f"global_step={100 * k} loss={2 - k / 10:.2f}\nphase=eval global_step={100 * k} loss={1.5 - k / 10:.2f}\n"
            for k in range(1, 9)
        )
    )
    assert points(log, "val_loss") == [(100.0 * k, round(1.5 - k / 10, 2)) for k in range(1, 9)]
    log = read(
        "".join(
            f"global_step: {100 * k} loss: {2 - k / 10:.2f}\n"
            f"mode: val global_step: {100 * k + 50} loss: {1.5 - k / 10:.2f}\n"
            for k in range(1, 9)
        )
    )
    assert points(log, "val_loss") == [(100.0 * k + 50, round(1.5 - k / 10, 2)) for k in range(1, 9)]
    # 'eval mode' is another key ('eval mode: test' on a training line is a setting of it).
    assert set(read("step: 10 loss: 0.5 eval mode: test\nstep: 20 loss: 0.4 eval mode: test\n").series) == {"loss"}


@pytest.mark.parametrize("lines", [8, 3000])  # the second takes the cached-layout path
@pytest.mark.parametrize(
    ("form", "kind"),
    [
        ("split=val step={s} loss={v}", "step"),
        ("phase=eval step={s} loss={v} lr=0.001", "step"),
        ("INFO: val step: {s} loss: {v}", "index"),  # 'val step' names no training step: read in order
    ],
)
def test_a_log_whose_every_loss_is_marked_as_an_evaluation_is_the_runs_own(lines: int, form: str, kind: str) -> None:
    """A validation-only loop, or a script printing 'split=val' on its training lines: with no
    other loss in the log, the marked lines are the run's loss, in order, with a note, not 'no
    series looks like a training loss'."""
    log = read("".join(form.format(s=10 * k, v=f"{2 * 0.999**k:.5f}") + "\n" for k in range(1, lines + 1)))
    run = normalize(log)
    assert run.loss.name == "loss" and len(run.loss) == lines
    assert run.loss.values.tolist() == [round(2 * 0.999**k, 5) for k in range(1, lines + 1)]
    assert run.step_kind == kind and len(run.segments) == 1
    if kind == "step":
        assert run.loss.steps.tolist() == [10.0 * k for k in range(1, lines + 1)]
    assert any("marked as an evaluation" in w for w in log.warnings)


def test_a_setting_after_a_logging_level_is_no_counter() -> None:
    """'INFO: max epoch: 3' is a setting printed before training, not an epoch record."""
    log = read(
        "INFO: max epoch: 3\nINFO: warmup step: 50\n"
        + "".join(f"INFO: step: {10 * k} loss: {2 - k / 10:.2f}\n" for k in range(1, 9))
    )
    assert set(log.series) == {"loss"} and len(points(log, "loss")) == 8


def test_a_key_that_begins_with_a_placeholder_word_after_a_value_is_kept_whole(tmp_path: Path) -> None:
    """'NA loss' (a region's loss) after loss's value is a key of its own: only a placeholder right
    after '=' or ':' is a missing value."""
    path = tmp_path / "regions.log"
    path.write_text(
        "".join(f"step {k}: loss: {2.1 - k / 100:.4f} NA loss: {5 + k / 10:.2f} lr: 0.001\n" for k in range(60))
    )
    log = read_log(path)
    assert set(log.series) >= {"loss", "na_loss", "lr"}
    assert log.series["loss"].values.max() < 2.2 and log.series["na_loss"].values.min() >= 5


def test_a_word_value_does_not_glue_onto_the_next_key(tmp_path: Path) -> None:
    """'run=exp1 step=10 loss=...': the step stays the step (two appended runs are told apart), and
    'optimizer=adam lr=0.001' is lr."""
    lines = [f"run=exp{r} optimizer=adam step={s} loss={2.0 * 0.99**s:.4f} lr=0.001" for r in (1, 2) for s in range(80)]
    path = tmp_path / "train.log"
    path.write_text("\n".join(lines) + "\n")
    log = read_log(path)
    assert {"loss", "lr"} <= set(log.series) and not any(k.startswith(("exp", "adam")) for k in log.series)
    run = load(path)
    assert len(run.segments) == 2 and len(run.loss) == 80


def test_a_log_in_gbk_is_text(tmp_path: Path) -> None:
    """A YOLOX log written on a Chinese system: its config table in GBK box characters and Chinese
    (no UTF-8 at all), then its training lines. It had been refused as binary data."""
    from lrdoctor.source import looks_binary

    table = "\n".join(f"│ {'参数' * 3} │ 值{k} │ ─────── │" for k in range(60))
    lines = [f"epoch: 1/300, iter: {i}/1000, total_loss: {9 - i / 100:.1f}, lr: 1.5e-04" for i in range(10, 400, 10)]
    data = (table + "\n" + "\n".join(lines) + "\n").encode("gbk")
    assert not looks_binary(data[:4096])
    (tmp_path / "train_log.txt").write_bytes(data)
    run = normalize(read_log(tmp_path / "train_log.txt"))
    assert run.loss.name == "total_loss" and len(run.loss) == 39


def test_a_utf8_log_with_a_stray_byte_stays_utf8(tmp_path: Path) -> None:
    """A Keras 3 log (its bars drawn in '━', UTF-8) with one byte of another encoding is no GBK."""
    lines = [f"Epoch {e}/20\n32/32 ━━━━━━━━━━━━━━━━━━━━ 1s 3ms/step - loss: {2 / e:.4f}" for e in range(1, 21)]
    data = "caf\xe9 ".encode("latin-1") + "\n".join(lines).encode("utf-8") + b"\n"
    (tmp_path / "console.txt").write_bytes(data)
    log = read_log(tmp_path / "console.txt")
    assert len(log.series["loss"]) == 20


def test_a_batch_counter_that_is_never_a_number_places_nothing(tmp_path: Path) -> None:
    """'batch: nan' on every line: no counter, the lines in write order (it raised IndexError)."""
    from lrdoctor import load

    path = tmp_path / "train.log"
    path.write_text("".join(f"batch: nan, loss: {2.0 / (1 + i / 20):.4f}\n" for i in range(60)))
    run = load(path)
    assert len(run.loss) == 60 and run.step_kind == "index"


def test_lightning_bar_padding_of_nan_and_inf() -> None:
    """Lightning's progress bar pads a number printed without a decimal point: NaN as 'nan.0', Inf
    as 'inf.0', -Inf as '-inf.'. A run whose loss went NaN had read as no loss at all, and passed
    the check that skips what is not a training log; '2.0.1' (a version) is still no number."""
    refreshes = [f"{2.3 * 1.8**k:.3g}" if k < 8 else "nan.0" for k in range(12)]
    bar = "".join(
        f"\rEpoch 0: {100 * (k + 1) // 12:3d}%|###| {k + 1}/12 [00:00<00:00, 150.0it/s, v_num=0, "
        f"train_loss_step={value}]"
        for k, value in enumerate(refreshes)
    )
    log = read("TPU available: False, using: 0 TPU cores\n" + bar + "\n")
    loss = points(log, "progress/train_loss_step")
    assert len(loss) == 12 and math.isnan(loss[-1][1]) and loss[0][1] == 2.3
    assert parse_line("step 3 loss=inf.0 lr=0.1").points == [("loss", math.inf), ("lr", 0.1)]
    assert parse_line("step 3 loss=-inf. lr=0.1").points == [("loss", -math.inf), ("lr", 0.1)]
    assert parse_line("step 3 torch: 2.0.1").points == []


def test_it_and_ep_counters() -> None:
    """print(f"it {i} loss {l:.4f}") and 'ep 0 it 5 loss ...': short counters head the line as
    'iter' and 'epoch' do. Such logs had been refused whole ("no training metrics found")."""
    log = read("".join(f"it {i} loss {2 - i / 100:.4f}\n" for i in range(30)))
    assert points(log, "loss")[:2] == [(0.0, 2.0), (1.0, 1.99)] and log.step_kind == "step"
    log = read("".join(f"ep {i // 10} it {i} loss {2 - i / 100:.4f}\n" for i in range(30)))
    assert points(log, "loss")[-1] == (29.0, 1.71)
    log = read("".join(f"Ep {e} | trn_loss {2 - e / 10:.3f} | val_loss {2.1 - e / 10:.3f}\n" for e in range(10)))
    assert log.step_kind == "epoch" and points(log, "val_loss")[-1] == (9.0, 1.2)


@pytest.mark.parametrize("every", [10, 50])
def test_ascii_progress_bars_are_no_pipe_separated_table(tmp_path: Path, every: int) -> None:
    """tqdm draws its bars in ASCII ('3%|3    | 10/300 [00:00<...]') under ascii=True or an output
    that is not UTF-8: split at '|', the refreshes before the first dict print had read as a CSV
    ('0%', 'column_2'), and the log as one with no training loss."""
    out = []
    for k in range(301):  # as tqdm writes them: each refresh after a carriage return, from 0/300
        bar = f"\r{k * 100 // 300:3d}%|{'#' * (k * 10 // 300):<10}| {k}/300 [00:00<00:00, 99.00it/s]"
        out.append(bar)
        if k and k % every == 0:  # tqdm.write: the bar cleared, the line, the bar drawn again
            out.append(
                f"\r{' ' * 50}\r{{'loss': {2.3 * 0.99**k:.4f}, 'learning_rate': 5e-05, 'epoch': {k / 100:.2f}}}\n"
            )
            out.append(bar)
    path = tmp_path / "train.log"
    path.write_text("".join(out))
    log = read_log(path)
    assert log.format == "text-hf" and len(log.series["loss"]) == 300 // every


@pytest.mark.parametrize(
    "layout",
    [
        "Epoch {e} | {phase} | loss {v}",
        "Epoch {e} - {phase} - loss: {v}",
        "Epoch {e} [{phase}] loss: {v}",
        "Epoch {e} ({phase}) loss={v}",
        "epoch {e}, {phase}, loss={v}",
    ],
)
@pytest.mark.parametrize("epochs", [10, 80])  # the second takes the cached-layout path
def test_a_phase_word_after_the_counter_names_the_validation_loss(layout: str, epochs: int) -> None:
    """'Epoch 1 | val | loss 1.8' beside 'Epoch 1 | train | loss 1.7': both had been one 'loss',
    zig-zagging at epochs 1, 1.5, 2, ..., and no validation loss."""
    lines = []
    for e in range(1, epochs + 1):
        lines.append(layout.format(e=e, phase="train", v=round(2.0 / e, 4)) + "\n")
        lines.append(layout.format(e=e, phase="val", v=round(2.1 / e, 4)) + "\n")
    log = read("".join(lines))
    assert log.step_kind == "epoch"
    assert points(log, "loss") == [(float(e), round(2.0 / e, 4)) for e in range(1, epochs + 1)]
    assert points(log, "val_loss") == [(float(e), round(2.1 / e, 4)) for e in range(1, epochs + 1)]


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("train epoch={k} loss={v}", "epoch"),
        ("Train Epoch: {k} loss: {v}", "epoch"),
        ("training step={k} loss={v}", "step"),
        ("train iter={k} loss={v}", "step"),
    ],
)
def test_the_trainings_counter_after_its_phase_word_is_the_counter(line: str, kind: str) -> None:
    """'train epoch=1' had read as a metric 'train_epoch' and the log on an axis of positions."""
    log = read("".join(line.format(k=k, v=round(2.0 / k, 4)) + "\n" for k in range(1, 11)))
    assert log.step_kind == kind and "train_epoch" not in log.series
    assert points(log, "loss") == [(float(k), round(2.0 / k, 4)) for k in range(1, 11)]


@pytest.mark.parametrize("title", ["eval", "[eval]", "Validation |"])
def test_an_evaluation_line_is_placed_at_the_training_step_it_names(title: str) -> None:
    """'eval step=25 val_loss=2.3' every 25 steps between training lines every 100: the evaluations
    had been stacked at the training step before them (4 of 12 kept, each up to 75 steps early)."""
    lines = []
    for s in range(301):
        if s % 100 == 0:
            lines.append(f"step={s} loss={2.3 - s / 200:.3f} lr=0.1\n")
        if s % 25 == 0 and s:
            lines.append(f"{title} step={s} val_loss={2.4 - s / 250:.3f}\n")
    run = normalize(read("".join(lines)))
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [25.0 * k for k in range(1, 13)]


def test_an_evaluations_own_count_of_its_batches_is_not_the_step() -> None:
    """'val step=1 ... val step=3' within each evaluation counts its batches: those lines stay at the
    training step before them."""
    lines = []
    for s in range(0, 1001, 100):
        lines.append(f"step={s} loss={2.3 - s / 1000:.3f}\n")
        lines += [f"val step={b} val_loss={2.4 - s / 1000 + b / 100:.3f}\n" for b in (1, 2, 3)]
    run = normalize(read("".join(lines)))
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [100.0 * k for k in range(11)]


def test_runs_appended_keep_their_own_evaluations() -> None:
    """nanoGPT's 'step 0: train loss ..., val loss ...' of the next run, printed before its first
    'iter 0', had ended the run before it: every evaluation of that run superseded by step 0's."""
    text = ""
    for run in range(3):
        for s in range(0, 301):
            if s % 50 == 0:
                text += f"step {s}: train loss {2.3 - run * s / 400:.4f}, val loss {2.3 - run * s / 380:.4f}\n"
            if s < 300:
                text += f"iter {s}: loss {2.3 - run * s / 400:.4f}, time 12.00ms, mfu 1.20%\n"
    log = read(text)
    for k in (1, 2, 3):
        run = normalize(log, segment=k)
        assert run.val_loss is not None and run.val_loss.steps.tolist() == [50.0 * j for j in range(7)], k
        assert run.val_loss.values[-1] == pytest.approx(2.3 - (k - 1) * 300 / 380, abs=1e-4)


def test_lightning_bars_of_runs_appended_are_runs_of_their_own() -> None:
    """A second run's 'Epoch 0' bar after the first's 'Epoch 4': counted on from the first run's end,
    the two had been read as one run of 470 steps."""
    text = ""
    for scale in (4.0, 1.0):
        for e in range(5):
            for n in range(0, 48):
                loss = scale * 2.0 / (1 + e * 47 + n)
                text += f"\rEpoch {e}: {n * 2}%|#    | {n}/47 [00:01<00:00, 30.00it/s, train_loss={loss:.4f}]"
            text += "\n"
    log = read(text)
    runs = [normalize(log, segment=k) for k in (1, 2)]
    assert [len(r.loss) for r in runs] == [236, 236] and len(normalize(log).segments) == 2
    assert runs[0].loss.values[0] == pytest.approx(4.0 * 2.0, abs=1e-3)


def test_an_evaluation_before_the_first_epoch_is_at_epoch_0() -> None:
    """'val_loss=2.3185' printed before 'Epoch 1: ...' had been taken for a setting: the validation
    loss before training, the start level a blow-up in the first epoch is read against, was lost."""
    log = read(
        "lr: 0.1\nval_loss=2.3185\n"
        + "".join(f"Epoch {e}: train_loss={2.0 / e:.4f}, val_loss={2.1 / e:.4f}\n" for e in range(1, 6))
    )
    assert log.step_kind == "epoch"
    assert points(log, "val_loss")[0] == (0.0, 2.3185) and len(log.series["val_loss"]) == 6
    assert [s for s, _ in points(log, "train_loss")] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert log.hparams.get("lr") == 0.1  # a setting further up is still one


@pytest.mark.parametrize("desc", ["loss: {loss:.4f}", "train loss: {loss:.3f}", "lr {lr:.1e}"])
def test_a_bar_description_that_opens_with_a_value_starts_no_run(desc: str) -> None:
    """A bar per epoch described by its loss or rate ('loss: 0.4123'), falling from one epoch to the
    next, had been read as a new run at each epoch (only the last judged)."""
    text, k = "", 0
    for e in range(4):
        for n in range(51):
            loss, lr = 2.5 * math.exp(-k / 60) + 0.2, 1e-3 * 0.5**e
            name = desc.format(loss=loss, lr=lr)
            text += f"\r{name}: {n * 2}%|#   | {n}/50 [00:01<00:00, 30.00it/s, loss={loss:.4f}]"
            k += n > 0
        text += "\n"
    run = normalize(read(text))
    assert len(run.segments) == 1 and len(run.loss) >= 200


@pytest.mark.parametrize(("line", "kind"), [("train_steps: 5000", "setting"), ("Best: loss=0.31 (step 400)", "none")])
def test_a_total_or_a_best_so_far_is_no_point(line: str, kind: str) -> None:
    """'train_steps: 5000' is a setting, not the step; 'Best: loss=0.31 (step 400)' repeats a best
    value, and had replaced the loss logged at step 400."""
    text = "".join(f"step {s}: loss {2.0 - s / 1000:.4f}\n" for s in range(0, 500, 100))
    log = read(line + "\n" + text if kind == "setting" else text + line + "\n")
    assert points(log, "loss") == [(float(s), round(2.0 - s / 1000, 4)) for s in range(0, 500, 100)]
    if kind == "setting":
        assert log.hparams.get("train_steps") == 5000
