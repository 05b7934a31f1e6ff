"""W&B's run file (run-<id>.wandb): the sample the wandb client wrote offline, and files framed
here around hand-encoded records to reach what a short run does not (records across blocks,
damage, NaN)."""

from __future__ import annotations

import json
import math
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from lrdoctor import load
from lrdoctor.errors import DamagedLog, NoSeries
from lrdoctor.readers import read_log, sniff, wandb
from lrdoctor.readers._protobuf import fields
from lrdoctor.source import open_source
from tests.conftest import SAMPLE_LOGS

SAMPLE_DIR = SAMPLE_LOGS / "wandb" / "digits_mlp_sgd_too_high"
SAMPLES = sorted(SAMPLE_DIR.rglob("*.wandb"))


# --- the file as the wandb client writes it ---------------------------------------------------


def test_the_sample_written_by_wandb() -> None:
    """300 steps of train/loss and train/lr, val/loss every 50 steps, the config as settings."""
    (path,) = SAMPLES
    run = load(path)
    assert run.format == "wandb" and run.metric == "train/loss" and run.val_metric == "val/loss"
    assert run.loss.steps.tolist() == list(range(300)) and len(run.val_loss) == 6
    assert run.observed_lr == 20.0 and run.hparams["optimizer"] == "sgd" and run.hparams["batch_size"] == 32
    assert not run.warnings
    # Its run folder, the folder above, and wandb/ with its latest-run link: the same run, once.
    assert len(load(path.parent).loss) == 300
    assert sniff(open_source(path)) == "wandb"


def test_a_file_cut_anywhere_keeps_every_whole_record(tmp_path: Path) -> None:
    """A run killed (or still writing) leaves a file cut at any byte: every record before the cut
    is read, and the cut is said, never an error (unless no history row is whole yet)."""
    (path,) = SAMPLES
    data = path.read_bytes()
    full = read_log(path).series["train/loss"].values
    previous = 0
    for cut in range(100, len(data), 997):
        target = tmp_path / "run-cut.wandb"
        target.write_bytes(data[:cut])
        try:
            log = read_log(target)
        except NoSeries:
            assert previous == 0  # only before the first history row
            continue
        values = log.series["train/loss"].values
        assert previous <= len(values) <= len(full)
        assert np.array_equal(values, full[: len(values)], equal_nan=True)
        assert any("ends inside a record" in w or "no exit record" in w for w in log.warnings)
        previous = len(values)
    assert previous >= len(full) - 3


def test_a_damaged_chunk_costs_its_record_only(tmp_path: Path) -> None:
    (path,) = SAMPLES
    data = bytearray(path.read_bytes())
    records, _ = wandb._records(bytes(data), "x")
    history = [r for r in records if any(n == wandb.HISTORY for n, *_ in fields(r, 0, len(r)))]
    at = data.index(history[len(history) // 2])
    data[at + len(history[0]) // 2] ^= 0xFF
    target = tmp_path / "run-x.wandb"
    target.write_bytes(bytes(data))
    log = read_log(target)
    assert len(log.series["train/loss"]) == 299
    assert any("1 damaged record(s) skipped" in w for w in log.warnings)


# --- files framed here -------------------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _history(step: int, values: dict[str, object]) -> bytes:
    """Record{history: HistoryRecord{item: [{nested_key, value_json}], step: {num}}}."""
    items = [{"_step": step}, values]
    body = b"".join(
        _field(1, _field(2, key.encode()) + _field(16, json.dumps(value).encode()))
        for group in items
        for key, value in group.items()
    )
    body += _field(2, bytes([0x08]) + _varint(step))
    return _field(2, body)


def _step_metric(name: str, step: str, *, glob: bool = False) -> bytes:
    """Record{metric: MetricRecord{name or glob_name, step_metric}} (wandb.define_metric)."""
    return _field(12, _field(2 if glob else 1, name.encode()) + _field(4, step.encode()))


def _media(step: int, name: str) -> bytes:
    """A history row with an image's fields beside the loss: 'img._type', 'img.width', ..."""
    items = [("_step", step), ("loss", 1.0 / (1 + step))]
    items += [(f"{name}/_type", "image-file"), (f"{name}/width", 8), (f"{name}/height", 8)]
    body = b"".join(
        _field(1, b"".join(_field(2, part.encode()) for part in key.split("/")) + _field(16, json.dumps(v).encode()))
        for key, v in items
    )
    return _field(2, body)


def _config(values: dict[str, object]) -> bytes:
    """Record{config: ConfigRecord{update: [{key, value_json}]}}."""
    body = b"".join(_field(1, _field(1, k.encode()) + _field(16, json.dumps(v).encode())) for k, v in values.items())
    return _field(5, body)


def _framed(records: list[bytes]) -> bytes:
    """The LevelDB-style log: a 7-byte header, then chunks that never cross a 32 KiB block."""
    out = bytearray(b":W&B\xe1\xbe\x00")
    for record in records:
        first = True
        while True:
            left = wandb.BLOCK - len(out) % wandb.BLOCK
            if left < 7:
                out += bytes(left)
                continue
            take = min(len(record), left - 7)
            chunk, record = record[:take], record[take:]
            kind = (1 if first else 4) if not record else (2 if first else 3)
            out += struct.pack("<IHB", zlib.crc32(bytes([kind]) + chunk), len(chunk), kind) + chunk
            first = False
            if not record:
                break
    return bytes(out)


def test_records_across_blocks_nan_and_config(tmp_path: Path) -> None:
    """A history row larger than a block (first, middle and last chunks), NaN and Infinity as
    W&B writes them (bare), nested config values, media and text left out."""
    wide = {f"layer{i}/grad_norm": 0.5 for i in range(4000)}  # about 100 KB: over three blocks
    records = [_config({"optimizer": {"lr": 3e-4, "betas": [0.9, 0.99]}, "epochs": 3})]
    for step in range(60):
        loss: object = 2.3 * math.exp(-step / 20)
        extra: dict[str, object] = {"caption": "text", "image": {"_type": "image-file"}}
        if step == 10:
            extra = wide
        records.append(_history(step, {"train/loss": loss, **extra}))
    records.append(_history(60, {"train/loss": float("nan")}))
    path = tmp_path / "run-abc.wandb"
    path.write_bytes(_framed(records))
    log = read_log(path)
    assert log.series["train/loss"].steps.tolist() == list(range(61)) and math.isnan(
        log.series["train/loss"].values[-1]
    )
    assert (
        len(log.series["layer3999/grad_norm"]) == 1 and "caption" not in log.series and "image._type" not in log.series
    )
    assert log.hparams["optimizer.lr"] == 3e-4 and log.hparams["epochs"] == 3
    run = load(path)
    assert run.observed_lr == pytest.approx(3e-4)


def test_not_a_run_file(tmp_path: Path) -> None:
    path = tmp_path / "run-abc.wandb"
    path.write_bytes(_framed([_config({"lr": 0.1})]))
    with pytest.raises(NoSeries, match="no logged metrics"):
        read_log(path)
    path.write_bytes(b":W&B\xe1\xbe")
    with pytest.raises((DamagedLog, NoSeries)):
        read_log(path)


def test_a_wandb_folder_is_a_run_per_run_folder(tmp_path: Path) -> None:
    """wandb/ holds a folder per run and a latest-run link to the newest: each run once, named by
    its own folder."""
    from click.testing import CliRunner

    from lrdoctor.cli import cli

    (path,) = SAMPLES
    root = tmp_path / "wandb"
    for name in ("offline-run-20260101_000000-aaaa", "run-20260102_000000-bbbb"):
        (root / name).mkdir(parents=True)
        (root / name / path.name).write_bytes(path.read_bytes())
    (root / "latest-run").symlink_to(root / "run-20260102_000000-bbbb", target_is_directory=True)
    (root / "run-20260102_000000-bbbb" / "logs").mkdir()
    (root / "run-20260102_000000-bbbb" / "logs" / "debug.log").write_text("INFO wandb setup\n")
    (root / "debug.log").symlink_to(root / "run-20260102_000000-bbbb" / "logs" / "debug.log")
    result = CliRunner().invoke(cli, ["diagnose", str(root)])
    assert "passed over" not in result.output  # (W&B's own debug log, linked from wandb/)
    assert result.exit_code == 1, result.output  # (the sample diverged)
    rows = [line.split()[0] for line in result.output.splitlines() if path.name in line]
    assert result.output.splitlines()[0] == f"runs in {root}/"
    assert rows == [f"{n}/{path.name}" for n in ("offline-run-20260101_000000-aaaa", "run-20260102_000000-bbbb")]


def test_watch_follows_a_run_file_as_the_client_appends_to_it(tmp_path: Path) -> None:
    """The client appends records as the run logs: a watch reads each state of the file, a record
    cut mid-write included, and stops once the loss has turned NaN for good."""
    import threading
    import time

    from click.testing import CliRunner

    from lrdoctor.cli import cli

    rows = [_history(s, {"train/loss": 2.3 * math.exp(-s / 15) + 0.1}) for s in range(40)]
    rows += [_history(s, {"train/loss": float("nan")}) for s in range(40, 46)]
    data = _framed(rows)
    run_dir = tmp_path / "wandb" / "run-20260101_000000-abcd"
    run_dir.mkdir(parents=True)
    path = run_dir / "run-abcd.wandb"
    healthy = len(_framed(rows[:40]))
    path.write_bytes(data[: healthy - 5])  # the last healthy record not yet whole

    def append() -> None:
        time.sleep(0.3)
        for end in (healthy, healthy + 40, len(data)):
            with open(path, "ab") as fh:
                fh.write(data[path.stat().st_size : end])
            time.sleep(0.2)

    writer = threading.Thread(target=append, daemon=True)
    writer.start()
    result = CliRunner().invoke(cli, ["watch", str(run_dir), "--poll", "0.05", "--timeout", "30"])
    writer.join()
    assert result.exit_code == 1, result.output
    assert (
        result.stdout.strip()
        .splitlines()[-1]
        .endswith("divergence confirmed: loss is NaN from step 40 (and every value after it); stopping")
    )


def test_the_step_metric_the_run_declared(tmp_path: Path) -> None:
    """define_metric's step metric is the axis: Lightning's WandbLogger declares every metric on
    trainer/global_step ('*'); a run may declare its loss on the epoch. Rows without it are W&B's
    own _step count, which is no step of training."""
    rows = [_history(s, {"train_loss_step": 2.0 / (1 + s), "trainer/global_step": 4 * (s + 1)}) for s in range(30)]
    path = tmp_path / "run-a.wandb"
    path.write_bytes(_framed([_step_metric("*", "trainer/global_step", glob=True), *rows]))
    log = read_log(path)
    assert log.series["train_loss_step"].steps.tolist() == [4 * (s + 1) for s in range(30)]
    rows = [_history(s, {"train_loss": 2.0 / (1 + s), "epoch": s + 1}) for s in range(30)]
    path.write_bytes(_framed([_step_metric("train_loss", "epoch"), *rows]))
    log = read_log(path)
    assert log.step_kind == "epoch" and log.series["train_loss"].steps.tolist() == list(range(1, 31))


def test_an_images_fields_are_no_metrics(tmp_path: Path) -> None:
    path = tmp_path / "run-a.wandb"
    path.write_bytes(_framed([_media(s, "samples") for s in range(20)]))
    assert set(read_log(path).series) == {"loss"}


def test_a_step_declared_for_the_validation_loss_alone_is_no_axis(tmp_path: Path) -> None:
    """define_metric("val/loss", step_metric="epoch") (W&B's own example): the training loss stays
    on _step, and the validation rows, which have no _step of their own axis, sit at theirs."""
    rows = []
    for s in range(60):
        rows.append(_history(len(rows), {"train/loss": 2.0 / (1 + s)}))
        if s % 10 == 9:
            rows.append(_history(len(rows), {"val/loss": 2.1 / (1 + s), "epoch": s // 10}))
    path = tmp_path / "run-a.wandb"
    path.write_bytes(_framed([_step_metric("val/loss", "epoch"), *rows]))
    log = read_log(path)
    assert log.step_kind == "step" and log.series["train/loss"].steps[-1] == len(rows) - 2
    assert log.series["val/loss"].steps.tolist() == [11 * k + 10 for k in range(6)]


def test_a_step_declared_for_every_metric_whatever_is_judged(tmp_path: Path) -> None:
    """define_metric("*", step_metric="trainer/global_step") places a perplexity, or a loss first
    logged after a thousand other rows, on that step; the step metric's own series holds only
    what was logged."""
    rows = [_history(s, {"train/grad_norm": 1.0, "trainer/global_step": 4 * s}) for s in range(1200)]
    rows += [_history(1200 + s, {"train_ppl": 9.0 / (1 + s), "trainer/global_step": 4 * (1200 + s)}) for s in range(60)]
    rows += [_history(1260 + s, {"val_ppl": 10.0 / (1 + s)}) for s in range(5)]
    path = tmp_path / "run-a.wandb"
    path.write_bytes(_framed([_step_metric("*", "trainer/global_step", glob=True), *rows]))
    log = read_log(path)
    assert log.series["train_ppl"].steps[0] == 4800
    assert log.series["val_ppl"].steps.tolist() == [4 * 1259] * 5
    assert len(log.series["trainer/global_step"]) == 1260


@pytest.mark.parametrize("code", [3, -9])
def test_a_failed_run_says_its_exit_code(tmp_path: Path, code: int) -> None:
    """RunExitRecord.exit_code is an int32: a negative one (killed by a signal) is sent sign-extended."""
    exit_record = _field(18, bytes([0x08]) + _varint(code % (1 << 64)))
    path = tmp_path / "run-a.wandb"
    path.write_bytes(_framed([*(_history(s, {"loss": 1.0 / (1 + s)}) for s in range(20)), exit_record]))
    assert any(f"the run exited with code {code} " in w for w in read_log(path).warnings)
