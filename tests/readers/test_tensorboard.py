"""The TensorBoard reader against real writers (torch, tensorboardX, tensorboard's own protos),
with tensorboard's EventAccumulator as the reference, and against damaged files."""

from __future__ import annotations

import dataclasses
import gzip
import math
import struct
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrdoctor.errors import UnreadableLog
from lrdoctor.readers import _crc32c, _protobuf, _scalar_batch, _tfrecord, read_log, tensorboard
from lrdoctor.run import Log
from lrdoctor.source import Source
from tests.conftest import realworld_manifest

tb_event = pytest.importorskip("tensorboard.compat.proto.event_pb2")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2  # noqa: E402
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as tb_masked_crc  # noqa: E402
from tensorboard.summary.writer.record_writer import RecordWriter  # noqa: E402

TB_FILES = [e for e in realworld_manifest() if e["format"] == "tensorboard"]


# --- writing event files ------------------------------------------------------------------


def torch_writer(logdir: Path):  # type: ignore[no-untyped-def]
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(str(logdir))


def event_file(logdir: Path) -> Path:
    (path,) = [p for p in logdir.iterdir() if "tfevents" in p.name]
    return path


def read_file(path: Path) -> Log:
    return tensorboard.read(Source(str(path), path=path))


def read_data(data: bytes) -> Log:
    return tensorboard.read(Source("<test>", data=data))


def accumulator_scalars(path: Path) -> dict[str, list[tuple[int, float]]]:
    acc = EventAccumulator(str(path), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def points(log: Log) -> dict[str, list[tuple[int, float]]]:
    return {
        name: [(int(s), float(v)) for s, v in zip(series.steps, series.values, strict=True)]
        for name, series in log.series.items()
    }


def record(payload: bytes) -> bytes:
    header = struct.pack("<Q", len(payload))
    return header + struct.pack("<I", tb_masked_crc(header)) + payload + struct.pack("<I", tb_masked_crc(payload))


def event(step: int, *values: summary_pb2.Summary.Value, wall: float = 1.0) -> bytes:
    ev = tb_event.Event(wall_time=wall, step=step)
    ev.summary.value.extend(values)
    return ev.SerializeToString()


def header_event(wall: float = 0.5) -> bytes:
    return tb_event.Event(wall_time=wall, file_version="brain.Event:2").SerializeToString()


def scalar_value(tag: str, value: float) -> summary_pb2.Summary.Value:
    return summary_pb2.Summary.Value(tag=tag, simple_value=value)


def tensor_value(tag: str, tensor: tensor_pb2.TensorProto, plugin: str | None = None) -> summary_pb2.Summary.Value:
    out = summary_pb2.Summary.Value(tag=tag, tensor=tensor)
    if plugin is not None:
        out.metadata.plugin_data.plugin_name = plugin
    return out


def write_records(path: Path, payloads: list[bytes]) -> bytes:
    with open(path, "wb") as fh:
        writer = RecordWriter(fh)
        for payload in payloads:
            writer.write(payload)
    return path.read_bytes()


def record_bounds(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every record, walked with struct alone."""
    out, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        out.append((pos, pos + 16 + length))
        pos += 16 + length
    return out


# --- real writers, EventAccumulator as the reference ----------------------------------------

STEPS = [0, 1, 127, 128, 16_383, 16_384, 2_097_152, 10**12]


def test_torch_add_scalar_matches_event_accumulator(tmp_path: Path) -> None:
    writer = torch_writer(tmp_path)
    for i, step in enumerate(STEPS):
        writer.add_scalar("train/loss", 2.0 / (i + 1), step)
        writer.add_scalar("lr", 1e-3 * 0.9**i, step)
    writer.add_scalar("train/loss", float("nan"), 10**12 + 1)
    writer.add_scalar("train/loss", float("inf"), 10**12 + 2)
    writer.close()
    path = event_file(tmp_path)
    log = read_file(path)
    ref = accumulator_scalars(path)
    assert set(ref) == {"train/loss", "lr"} == set(log.series)
    ours = points(log)
    for tag, expected in ref.items():
        assert [s for s, _ in ours[tag]] == [s for s, _ in expected]
        np.testing.assert_array_equal([v for _, v in ours[tag]], [v for _, v in expected])
    loss = log.series["train/loss"]
    assert len(loss) == 10 and np.isnan(loss.values[-2]) and loss.values[-1] == math.inf
    assert loss.values[1] == np.float32(1.0)  # float32 precision, exactly as written
    assert log.format == "tensorboard" and log.step_kind == "step" and log.warnings == []
    assert np.all(np.diff(loss.seq) > 0)  # written in this order


def test_tensorboardx_matches_event_accumulator(tmp_path: Path) -> None:
    tensorboardX = pytest.importorskip("tensorboardX")
    writer = tensorboardX.SummaryWriter(str(tmp_path))
    for step in STEPS:
        writer.add_scalar("loss", 1.0 / (step + 1), step)
        writer.add_scalar("grad_norm", step * 0.5, step)
    writer.close()
    path = event_file(tmp_path)
    ours, ref = points(read_file(path)), accumulator_scalars(path)
    assert ours == {tag: [(s, float(np.float32(v))) for s, v in pts] for tag, pts in ref.items()}
    assert ours["loss"][3] == (128, float(np.float32(1 / 129)))


def test_new_style_tensor_scalars_are_read(tmp_path: Path) -> None:
    writer = torch_writer(tmp_path)
    for step in range(5):
        writer.add_scalar("loss", 1.5 - 0.25 * step, step, new_style=True)
    writer.add_scalar("old", 7.0, 0)
    writer.close()
    path = event_file(tmp_path)
    assert "loss" not in accumulator_scalars(path)  # EventAccumulator.Scalars misses them
    log = read_file(path)
    assert points(log)["loss"] == [(s, 1.5 - 0.25 * s) for s in range(5)]
    assert points(log)["old"] == [(0, 7.0)]


def test_add_scalar_without_global_step_is_read_in_write_order(tmp_path: Path) -> None:
    from lrdoctor import load

    writer = torch_writer(tmp_path)
    for k in range(60):  # no global_step: SummaryWriter writes step 0 for every point
        writer.add_scalar("loss", 2.0 * 0.95**k + 0.1)
        writer.add_scalar("lr", 0.01)
        if k % 20 == 19:
            writer.add_scalar("val_loss", 2.0 * 0.95**k + 0.2)
    writer.close()
    run = load(tmp_path)
    assert run.loss.steps.tolist() == list(range(60)) and len(run.lr) == 60
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [19, 39, 59]
    assert any("is at step 0: no step was given (TensorBoard's add_scalar" in w for w in run.warnings)
    assert run.step_kind == "index"  # points in write order, not steps


@pytest.mark.parametrize("how", ["whole", "validating", "resumed"])
def test_ultralytics_events_read_as_its_results_csv_does(tmp_path: Path, how: str) -> None:
    """YOLOv5 writes its results.csv's values to TensorBoard too, at each epoch: the loss in parts
    and the biases' group (x/lr0, warming up from 0.1) first. Named directly, the event file had
    been judged by its box loss alone at the biases' rate, where its results.csv is judged by the
    sum of the parts at the weights' rate (x/lr1). So are a run read while it validates its last
    epoch (its losses written, its metrics not yet) and a resumed one (epochs 9 and 10 again)."""
    from lrdoctor import load

    writer = torch_writer(tmp_path)
    parts = {"box": 0.07, "obj": 0.02, "cls": 0.03}
    epochs = [*range(12), 9, 10, 11] if how == "resumed" else range(12)
    for e in epochs:
        for name, level in parts.items():
            writer.add_scalar(f"train/{name}_loss", level * (1 - 0.02 * e), e)
        for group, rate in (("x/lr0", 0.1 - 0.03 * e if e < 3 else 0.01), ("x/lr1", min(0.01 * e / 3, 0.01))):
            writer.add_scalar(group, rate, e)
        if how == "validating" and e == 11:
            continue
        for name, level in parts.items():
            writer.add_scalar(f"val/{name}_loss", level * (1.1 - 0.02 * e) if e % 4 == 3 else 0.0, e)
        writer.add_scalar("metrics/mAP_0.5", 0.1 + 0.02 * e if e % 4 == 3 else 0.0, e)
    writer.close()
    run = load(event_file(tmp_path))
    assert run.format == "tensorboard" and run.step_kind == "epoch"
    assert run.metric == "train/loss" and run.lr_name == "x/lr1" and run.observed_lr == pytest.approx(0.01)
    assert run.loss.values.tolist() == pytest.approx([0.12 * (1 - 0.02 * e) for e in range(12)])
    validated = [3, 7] if how == "validating" else [3, 7, 11]  # validated epochs only
    assert run.val_loss is not None and run.val_loss.steps.tolist() == validated
    assert any(
        "'train/loss' is the sum of 'train/box_loss', 'train/obj_loss', 'train/cls_loss'" in w for w in run.warnings
    )


def test_rate_groups_named_as_ultralytics_names_them_are_not_enough_to_read_a_log_as_its(tmp_path: Path) -> None:
    """'lr/pg0' is a common name for a rate group: a log of every step that uses it is read on its
    steps, its loss as logged."""
    from lrdoctor import load

    writer = torch_writer(tmp_path)
    for step in range(2500):
        writer.add_scalar("train/loss", 2.0 * 0.999**step, step)
        writer.add_scalar("lr/pg0", 1e-3, step)
        writer.add_scalar("lr/pg1", 1e-3, step)
        if step % 500 == 0:
            writer.add_scalar("metrics/accuracy", 0.5, step)
    writer.close()
    run = load(event_file(tmp_path))
    assert run.step_kind == "step" and run.metric == "train/loss" and len(run.loss) == 2500
    short = tmp_path / "short"  # as few points as a run has epochs
    writer = torch_writer(short)
    for step in range(300):
        writer.add_scalar("train/loss", 2.0 * 0.99**step, step)
        writer.add_scalar("lr/pg0", 1e-3, step)
        if step % 100 == 0:
            writer.add_scalar("metrics/accuracy", 0.5, step)
    writer.close()
    assert load(event_file(short)).step_kind == "step"
    every = tmp_path / "every"  # metrics at every step, beyond the epochs a run has
    writer = torch_writer(every)
    for step in range(2100):
        for tag, value in (("train/loss", 2.0 * 0.999**step), ("lr/pg0", 1e-3), ("metrics/acc", 0.5)):
            writer.add_scalar(tag, value, step)
    writer.close()
    assert load(event_file(every)).step_kind == "step"


def test_add_scalars_directory_prefixes_sub_directories(tmp_path: Path) -> None:
    writer = torch_writer(tmp_path / "run")
    for step in range(3):
        writer.add_scalar("lr", 0.1, step)
        writer.add_scalars("loss", {"train": 1.0 - 0.25 * step, "val": 2.0 - 0.25 * step}, step)
    writer.close()
    assert tensorboard.in_dir(tmp_path) == tmp_path
    log = read_log(tmp_path)
    assert log.format == "tensorboard"
    assert points(log) == {
        "lr": [(0, np.float32(0.1)), (1, np.float32(0.1)), (2, np.float32(0.1))],
        "loss_train/loss": [(0, 1.0), (1, 0.75), (2, 0.5)],
        "loss_val/loss": [(0, 2.0), (1, 1.75), (2, 1.5)],
    }


@pytest.mark.parametrize("scalar_too", [False, True])
def test_the_tutorials_add_scalars_keys_name_the_roles(tmp_path: Path, scalar_too: bool) -> None:
    """The PyTorch TensorBoard tutorial's add_scalars('Training vs. Validation Loss', {'Training':
    ..., 'Validation': ...}): the key names each series' role, not the tag, which names both. The
    training series had been taken for the validation loss (and, beside the tutorial's 'training
    loss' scalar, the run's validation loss was that scalar's copy)."""
    from lrdoctor import load

    writer = torch_writer(tmp_path / "runs" / "exp")
    for step in range(0, 200, 10):
        train, val = 2.0 / (1 + step / 20), 3.0 + step / 100
        writer.add_scalars("Training vs. Validation Loss", {"Training": train, "Validation": val}, step)
        if scalar_too:
            writer.add_scalar("training loss", train, step)
    writer.close()
    run = load(tmp_path / "runs" / "exp")
    assert run.val_loss is not None and run.val_loss.values[-1] == pytest.approx(4.9)
    assert run.loss.values[-1] == pytest.approx(2.0 / (1 + 190 / 20))
    assert run.loss.name == (
        "training loss" if scalar_too else "Training vs. Validation Loss_Training/Training vs. Validation Loss"
    )


def test_non_scalar_summaries_are_skipped_and_hparams_kept(tmp_path: Path) -> None:
    writer = torch_writer(tmp_path)
    writer.add_scalar("loss", 1.0, 0)
    writer.add_histogram("weights", np.arange(10.0), 0)
    writer.add_image("image", np.zeros((3, 4, 4)), 0)
    writer.add_text("note", "hello", 0)
    writer.add_hparams({"lr": 0.01, "batch_size": 32, "optimizer": "adam"}, {"hparam/accuracy": 0.5})
    writer.close()
    log = read_log(tmp_path)
    assert {name.split("/")[-1] for name in log.series} == {"loss", "accuracy"}
    assert log.hparams == {"lr": 0.01, "batch_size": 32.0, "optimizer": "adam"}


# --- tensor-form scalars (TF2, Keras .v2) ---------------------------------------------------


def f32_content(value: float) -> tensor_pb2.TensorProto:
    return tensor_pb2.TensorProto(
        dtype=1, tensor_content=struct.pack("<f", value), tensor_shape=tensor_shape_pb2.TensorShapeProto()
    )


TENSOR_FORMS = {
    "float tensor_content": (f32_content(0.75), 0.75),
    "float_val": (tensor_pb2.TensorProto(dtype=1, float_val=[0.5]), 0.5),
    "double_val": (tensor_pb2.TensorProto(dtype=2, double_val=[0.1]), 0.1),
    "double content": (tensor_pb2.TensorProto(dtype=2, tensor_content=struct.pack("<d", 0.1)), 0.1),
    "int64_val": (tensor_pb2.TensorProto(dtype=9, int64_val=[-3]), -3.0),
    "int_val": (tensor_pb2.TensorProto(dtype=3, int_val=[-7]), -7.0),
    "half_val": (tensor_pb2.TensorProto(dtype=19, half_val=[0x3C00]), 1.0),
    "bfloat16 content": (tensor_pb2.TensorProto(dtype=14, tensor_content=b"\x80\x3f"), 1.0),
    "shape [1, 1]": (
        tensor_pb2.TensorProto(
            dtype=1,
            float_val=[2.5],
            tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[{"size": 1}, {"size": 1}]),
        ),
        2.5,
    ),
}


@pytest.mark.parametrize("form", sorted(TENSOR_FORMS))
def test_tensor_forms(tmp_path: Path, form: str) -> None:
    tensor, expected = TENSOR_FORMS[form]
    data = write_records(
        tmp_path / "events.out.tfevents.1.v2",
        [
            header_event(),
            event(3, tensor_value("epoch_loss", tensor, "scalars")),
        ],
    )
    assert points(read_data(data)) == {"epoch_loss": [(3, expected)]}


def test_tf2_plugin_named_only_with_first_value(tmp_path: Path) -> None:
    vector = tensor_pb2.TensorProto(
        dtype=1, float_val=[1.0, 2.0], tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[{"size": 2}])
    )
    text = tensor_pb2.TensorProto(dtype=7, string_val=[b"hi"])
    payloads = [header_event()]
    for step in range(4):
        first = step == 0
        payloads.append(
            event(
                step,
                tensor_value("epoch_loss", f32_content(2.0 - step), "scalars" if first else None),
                # A made-up plugin that logs one-element tensors: not a scalar, later values skipped too.
                tensor_value("custom", f32_content(9.0), "custom_plugin" if first else None),
                tensor_value("hist", vector, "histograms" if first else None),
                tensor_value("text", text, "text" if first else None),
                wall=10.0 + step,
            )
        )
    data = write_records(tmp_path / "events.out.tfevents.1.v2", payloads)
    log = read_data(data)
    assert points(log) == {"epoch_loss": [(0, 2.0), (1, 1.0), (2, 0.0), (3, -1.0)]}
    assert accumulator_scalars(tmp_path / "events.out.tfevents.1.v2") == {}


# --- damage -----------------------------------------------------------------------------------


def small_file(tmp_path: Path) -> tuple[bytes, list[tuple[int, int]], list[list[tuple[str, int, float]]]]:
    """A torch-written file; its record bounds and the points of each record."""
    writer = torch_writer(tmp_path)
    for step in range(4):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
        writer.add_scalar("lr", 0.5 * step, step * 200)
    writer.close()
    data = event_file(tmp_path).read_bytes()
    bounds = record_bounds(data)
    per_record = []
    for start, end in bounds:
        ev = tb_event.Event.FromString(data[start + 12 : end - 4])
        per_record.append([(v.tag, ev.step, v.simple_value) for v in ev.summary.value])
    return data, bounds, per_record


def flat(log: Log) -> list[tuple[str, int, float]]:
    out = [
        (n, int(s), float(v), q)
        for n, sr in log.series.items()
        for s, v, q in zip(sr.steps, sr.values, sr.seq, strict=True)
    ]
    return [p[:3] for p in sorted(out, key=lambda p: p[3])]


def test_cut_at_every_offset_keeps_exactly_the_complete_records(tmp_path: Path) -> None:
    data, bounds, per_record = small_file(tmp_path)
    assert len(bounds) == 9
    ends = {end for _, end in bounds}
    for cut in range(len(data) + 1):
        complete = [pts for (_, end), pts in zip(bounds, per_record, strict=True) if end <= cut]
        if not complete:
            with pytest.raises(UnreadableLog):
                read_data(data[:cut])
            continue
        log = read_data(data[:cut])
        assert flat(log) == [p for pts in complete for p in pts], cut
        cut_warnings = [w for w in log.warnings if "cut short" in w]
        assert len(cut_warnings) == (0 if cut in ends else 1), (cut, log.warnings)
        assert [w for w in log.warnings if "cut short" not in w and "no scalar" not in w] == []


def test_any_flipped_byte_loses_at_most_its_record(tmp_path: Path) -> None:
    data, bounds, per_record = small_file(tmp_path)
    for pos in range(len(data)):
        damaged = bytearray(data)
        damaged[pos] ^= 0x5A
        index = next(i for i, (s, e) in enumerate(bounds) if s <= pos < e)
        expected = [p for i, pts in enumerate(per_record) if i != index for p in pts]
        log = read_data(bytes(damaged))
        got = flat(log)
        assert got == expected, pos
        assert len(log.warnings) == 1 and "byte offset" in log.warnings[0], (pos, log.warnings)
        assert str(bounds[index][0]) in log.warnings[0]


def test_undecodable_payload_with_valid_checksum_is_skipped(tmp_path: Path) -> None:
    data = record(header_event()) + record(event(1, scalar_value("loss", 1.0)))
    data += record(b"\x0a\xff\xff\xff\x0f") + record(event(2, scalar_value("loss", 0.5)))
    log = read_data(data)
    assert points(log) == {"loss": [(1, 1.0), (2, 0.5)]}
    assert len(log.warnings) == 1 and "no valid event" in log.warnings[0]


def test_hostile_length_allocates_nothing(tmp_path: Path) -> None:
    header = struct.pack("<Q", 2**63)
    hostile = header + struct.pack("<I", tb_masked_crc(header)) + b"\0" * 64
    with pytest.raises(UnreadableLog):
        read_data(hostile)
    log = read_data(hostile + record(event(5, scalar_value("loss", 3.0))))
    assert points(log) == {"loss": [(5, 3.0)]}
    assert "damaged" in log.warnings[0] and "offset 0" in log.warnings[0]


@pytest.mark.parametrize(
    "junk",
    [
        b"not an event file at all\n" * 10,
        bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)),
        b"\0" * 100,
        b"x",
    ],
)
def test_junk_is_unreadable(tmp_path: Path, junk: bytes) -> None:
    with pytest.raises(UnreadableLog, match="no valid TensorBoard record"):
        read_data(junk)
    assert not tensorboard.sniff(junk[: 64 * 1024], "log.txt")


def test_zero_filled_hole_is_crossed(tmp_path: Path) -> None:
    first = record(event(1, scalar_value("loss", 1.0)))
    log = read_data(first + b"\0" * 100_000 + record(event(2, scalar_value("loss", 0.5))))
    assert points(log) == {"loss": [(1, 1.0), (2, 0.5)]}
    assert log.warnings == [
        f"<test>: skipped 100000 damaged byte(s) at byte offset {len(first)}; reading resumed at the next valid record"
    ]


# --- files, directories, compression ------------------------------------------------------------


def test_resumed_run_two_files_in_write_order(tmp_path: Path) -> None:
    # The later file's name sorts first; wall times say it was written second.
    first = [header_event(100.0)] + [event(s, scalar_value("loss", 1.0 - 0.1 * s), wall=100.0 + s) for s in range(5)]
    second = [header_event(200.0)] + [
        event(s, scalar_value("loss", 0.7 - 0.1 * s), wall=200.0 + s) for s in range(3, 7)
    ]
    write_records(tmp_path / "events.out.tfevents.1700000000.b.1.0", first)
    write_records(tmp_path / "events.out.tfevents.1600000000.a.2.0", second)
    loss = read_log(tmp_path).series["loss"]
    np.testing.assert_array_equal(loss.steps, [0, 1, 2, 3, 4, 3, 4, 5, 6])
    np.testing.assert_allclose(loss.values, np.float32([1.0, 0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1]))
    assert np.all(np.diff(loss.seq) > 0)


def test_equal_wall_times_follow_file_then_record_order(tmp_path: Path) -> None:
    for index, name in enumerate(["events.out.tfevents.1600000000.a", "events.out.tfevents.1600000001.a"]):
        write_records(tmp_path / name, [event(s, scalar_value("loss", index * 10 + s), wall=5.0) for s in range(3)])
    loss = read_log(tmp_path).series["loss"]
    np.testing.assert_array_equal(loss.values, [0, 1, 2, 10, 11, 12])
    assert np.all(np.diff(loss.seq) > 0)


def test_non_finite_wall_times_keep_record_order(tmp_path: Path) -> None:
    walls = [math.nan, 3.0, math.inf, 1.0, -math.inf]
    data = b"".join(record(event(i, scalar_value("loss", i), wall=w)) for i, w in enumerate(walls))
    loss = read_data(data).series["loss"]
    np.testing.assert_array_equal(loss.steps, [0, 1, 2, 3, 4])
    assert np.all(np.diff(loss.seq) > 0)


def test_gzip_compressed_event_file(tmp_path: Path) -> None:
    data, _, per_record = small_file(tmp_path / "run")
    path = tmp_path / "events.out.tfevents.1.gz"
    path.write_bytes(gzip.compress(data))
    log = read_log(path)
    assert log.format == "tensorboard"
    assert flat(log) == [p for pts in per_record for p in pts]


def test_sniff_and_in_dir(tmp_path: Path) -> None:
    data, _, _ = small_file(tmp_path / "a" / "b" / "c")
    assert tensorboard.sniff(data[: 64 * 1024], "whatever.bin")
    assert tensorboard.sniff(data[:12], "x")
    assert not tensorboard.sniff(data[:11], "x") and tensorboard.sniff(data[:11], "events.out.tfevents.1")
    assert not tensorboard.sniff(b"step,loss\n0,1.0\n", "events.out.tfevents.1")
    damaged = bytearray(data)
    damaged[3] ^= 1  # first header broken: the name and a later valid record decide
    assert tensorboard.sniff(bytes(damaged), "events.out.tfevents.1") and not tensorboard.sniff(bytes(damaged), "x")
    assert tensorboard.in_dir(tmp_path) == tmp_path  # three levels down
    assert tensorboard.in_dir(tmp_path / "a" / "b" / "c") == tmp_path / "a" / "b" / "c"
    (tmp_path / "deep" / "1" / "2" / "3" / "4").mkdir(parents=True)
    (tmp_path / "deep" / "1" / "2" / "3" / "4" / "events.out.tfevents.1").write_bytes(data)
    assert tensorboard.in_dir(tmp_path / "deep") is None
    assert tensorboard.in_dir(tmp_path / "deep" / "1") is not None


@pytest.mark.parametrize("entry", TB_FILES, ids=[e["file"][:40] for e in TB_FILES])
def test_real_event_files_loss_points(realworld: Path, entry: dict) -> None:
    log = read_log(realworld / entry["local_path"])
    primary = entry["primary_series"].split()[0]
    assert log.format == "tensorboard" and log.warnings == []
    assert len(log.series[primary]) == entry["loss_points"]
    assert np.isfinite(log.series[primary].values).all()


# --- the pieces -------------------------------------------------------------------------------


def test_crc_fallbacks_match_the_library_and_tensorboard() -> None:
    rng = np.random.default_rng(7)
    buf = rng.integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    lengths = np.concatenate([rng.integers(0, 400, 2000), [0, 1, 7, 8, 9, 100_000]])
    starts = rng.integers(0, len(buf) - 100_001, len(lengths))
    native = _crc32c.masked_many(buf, starts, lengths)
    fallback = _crc32c.masked_many(buf, starts, lengths, native=False)
    np.testing.assert_array_equal(native, fallback)
    for i in range(0, len(starts), 40):
        piece = buf[starts[i] : starts[i] + lengths[i]]
        assert _crc32c.mask(_crc32c.crc32c_py(piece)) == tb_masked_crc(piece) == native[i]
    assert _crc32c.crc32c_py(b"123456789") == 0xE3069283  # the CRC-32C check value


@settings(max_examples=200, deadline=None)
@given(
    tag=st.text(max_size=40),
    step=st.integers(-(2**63), 2**63 - 1),
    value=st.floats(width=32),
    wall=st.floats(allow_nan=False),
)
def test_fast_and_general_decoders_agree_with_protobuf(tag: str, step: int, value: float, wall: float) -> None:
    payload = event(step, scalar_value(tag, value), wall=wall)
    data = record(payload)
    starts, lengths = np.array([12]), np.array([len(payload)])
    got_wall, got_step, values = _protobuf.decode_event(data, 12, 12 + len(payload))
    assert (got_wall, got_step) == (wall, step)
    assert values == [(tag.encode(), _protobuf.SIMPLE, values[0][2], None, b"")]
    assert values[0][2] == value or (math.isnan(value) and math.isnan(values[0][2]))
    batch = _scalar_batch.decode_scalar_batch(data, starts, lengths)
    if batch.ok[0]:  # one-byte lengths and a non-negative step: the vectorised path
        assert batch.walls[0] == wall and batch.steps[0] == float(step)
        assert batch.values[0] == value or (math.isnan(value) and math.isnan(batch.values[0]))
        assert data[batch.tag_starts[0] : batch.tag_starts[0] + batch.tag_lens[0]] == tag.encode()
    else:  # proto3 leaves out a zero wall time and an empty tag; a long tag needs two-byte lengths
        assert wall == 0 or step < 0 or not tag or len(tag.encode()) > 118
    # Steps are float64 in a Series: exact up to 2**53.
    assert points(read_data(data)) == {tag: [(int(float(step)), values[0][2])]} or math.isnan(value)


def test_framing_reports_records_and_tail() -> None:
    data = record(b"abc") + record(b"") + record(b"defg")[:-2]
    framing = _tfrecord.frame(data)
    assert framing.starts.tolist() == [12, 31] and framing.lengths.tolist() == [3, 0]
    assert framing.truncated == (35, 18, 20)


def assert_same_series(a: Log, b: Log) -> None:
    assert list(a.series) == list(b.series)
    for name in a.series:
        for field in ("steps", "values", "seq"):  # NaN equals NaN here
            np.testing.assert_array_equal(getattr(a.series[name], field), getattr(b.series[name], field))


def slow_only(buf: bytes, starts: np.ndarray, lengths: np.ndarray) -> _scalar_batch.ScalarBatch:
    """The vectorised decoder, declining every record."""
    empty = _scalar_batch.decode_scalar_batch(buf, starts[:0], lengths[:0])
    return dataclasses.replace(empty, ok=np.zeros(len(starts), dtype=bool))


def tf2_file(tmp_path: Path) -> Path:
    """A TF2-like file: metadata with each tag's first value only, tensor_content floats."""
    payloads = [header_event()]
    for step in range(6):
        first = step == 0
        payloads.append(
            event(step, tensor_value("epoch_loss", f32_content(1.0 / (step + 1)), "scalars" if first else None))
        )
        payloads.append(event(step, tensor_value("lr", tensor_pb2.TensorProto(dtype=1, float_val=[0.1]), "scalars")))
        payloads.append(event(-step, scalar_value("neg", step), scalar_value("two", 2.0 * step)))
    path = tmp_path / "events.out.tfevents.2.v2"
    write_records(path, payloads)
    return path


def test_vectorised_and_general_decoders_give_the_same_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, _, _ = small_file(tmp_path / "torch")
    paths = [event_file(tmp_path / "torch"), tf2_file(tmp_path)]
    fast = [read_file(p) for p in paths]
    assert _scalar_batch.decode_scalar_batch(data, np.array([12]), np.array([0])).ok.tolist() == [False]
    monkeypatch.setattr(tensorboard, "decode_scalar_batch", slow_only)
    slow = [read_file(p) for p in paths]
    for a, b in zip(fast, slow, strict=True):
        assert_same_series(a, b)
    assert points(fast[1])["neg"] == [(-s, s) for s in range(6)]
    assert points(fast[1])["epoch_loss"] == [(s, float(np.float32(1.0 / (s + 1)))) for s in range(6)]


def test_reader_without_a_native_crc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, _, per_record = small_file(tmp_path)
    monkeypatch.setattr(_crc32c, "NATIVE", None)
    monkeypatch.setattr(_crc32c, "crc32c", _crc32c.crc32c_py)
    assert flat(read_data(data)) == [p for pts in per_record for p in pts]
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0xFF
    log = read_data(bytes(damaged))
    assert len(log.warnings) == 1 and len(flat(log)) == sum(map(len, per_record)) - 1


@settings(max_examples=150, deadline=None)
@given(payloads=st.lists(st.binary(max_size=60), min_size=1, max_size=6), seed=st.integers(0, 2**32 - 1))
def test_any_payload_with_valid_checksums_is_read_or_refused_cleanly(payloads: list[bytes], seed: int) -> None:
    # Valid events with bytes changed, then framed with correct checksums: the decoders face
    # garbage, and the vectorised one must agree with the general one on every record.
    rng = np.random.default_rng(seed)
    base = [
        event(3, scalar_value("loss", 1.0)),
        event(300, tensor_value("t", f32_content(2.0), "scalars")),
        event(4, tensor_value("t", f32_content(3.0))),
        event(5, tensor_value("t", tensor_pb2.TensorProto(dtype=1, float_val=[4.0]))),
        event(6, tensor_value("h", tensor_pb2.TensorProto(dtype=9, int64_val=[1, 2]), "histograms")),
    ]
    mutated = []
    for payload in base + payloads:
        raw = bytearray(payload)
        for _ in range(int(rng.integers(0, 3))):
            if raw:
                raw[int(rng.integers(len(raw)))] = int(rng.integers(256))
        mutated.append(bytes(raw))
    data = b"".join(record(p) for p in mutated)
    try:
        log = read_data(data)
    except UnreadableLog as exc:
        assert "\n" not in str(exc)
        return
    with mock.patch.object(tensorboard, "decode_scalar_batch", slow_only):
        slow = read_data(data)
    assert_same_series(log, slow)
    assert log.warnings == slow.warnings
    for series in log.series.values():
        assert len(series.steps) == len(series.values) == len(series.seq)


def test_directory_with_a_broken_file(tmp_path: Path) -> None:
    write_records(tmp_path / "events.out.tfevents.1.a", [event(1, scalar_value("loss", 1.0))])
    (tmp_path / "events.out.tfevents.2.b").write_bytes(b"garbage" * 10)
    (tmp_path / "events.out.tfevents.3.c").write_bytes(b"")
    log = read_log(tmp_path)
    assert points(log) == {"loss": [(1, 1.0)]}
    assert len(log.warnings) == 2
    assert any("tfevents.2.b: no valid TensorBoard record" in w for w in log.warnings)
    assert any("tfevents.3.c" in w and "empty" in w for w in log.warnings)
    (tmp_path / "events.out.tfevents.1.a").unlink()
    with pytest.raises(UnreadableLog, match="none of the 2 event file"):
        read_log(tmp_path)


@pytest.mark.parametrize("distinct", [1, 3, 70])  # 70: past the whole-array passes, one at a time
def test_tag_numbers_match_a_dict_in_first_appearance_order(distinct: int) -> None:
    from lrdoctor.readers.tensorboard import tag_numbers

    rng = np.random.default_rng(distinct)
    names = [f"train/loss_{i}".encode()[: 5 + i % 9] + bytes([65 + i % 26, 48 + i // 26]) for i in range(distinct)]
    picks = rng.integers(0, distinct, 500)
    buf, starts, lens = b"", [], []
    for k in picks:
        buf += b"\x00\x01" + names[k]
        starts.append(len(buf) - len(names[k]))
        lens.append(len(names[k]))
    index: dict[bytes, int] = {}
    got = tag_numbers(buf, np.array(starts), np.array(lens), index)
    want: dict[bytes, int] = {}
    expected = [want.setdefault(names[k], len(want)) for k in picks]
    assert got.tolist() == expected
    assert list(index) == list(want)


def test_an_epoch_given_as_the_step_of_every_batch_is_spread(tmp_path: Path) -> None:
    from lrdoctor import load

    writer = torch_writer(tmp_path)
    for epoch in range(10):
        for batch in range(30):  # add_scalar(tag, value, epoch) called every batch
            writer.add_scalar("Loss/train", 2.0 * 0.99 ** (epoch * 30 + batch) + 0.1, epoch)
    writer.close()
    run = load(tmp_path)
    assert len(run.loss) == 300 and run.loss.steps[30] == 1.0 and run.loss.steps[45] == 1.5


def test_lightning_tensorboard_logger_settings_beside_the_events(tmp_path: Path) -> None:
    """Lightning's TensorBoardLogger saves the module's hparams to hparams.yaml in the version
    folder: the rate is read from it, for the folder and for an event file named alone; a rate the
    events carry themselves (add_hparams) prevails."""
    from lrdoctor import load

    pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter

    folder = tmp_path / "lightning_logs" / "version_0"
    writer = SummaryWriter(str(folder))
    for s in range(60):
        writer.add_scalar("train_loss", 2.3 * math.exp(-s / 20) + 0.1, s)
    writer.close()
    (folder / "hparams.yaml").write_text("lr: 0.003\nbatch_size: 32\nnet:\n  width: 64\n")
    assert load(folder).observed_lr == pytest.approx(0.003)
    (event,) = folder.glob("*tfevents*")
    assert load(event).observed_lr == pytest.approx(0.003)
    writer = SummaryWriter(str(folder))
    writer.add_hparams({"lr": 0.01}, {"hparam/loss": 0.1}, run_name=".")
    writer.close()
    assert load(folder).observed_lr == pytest.approx(0.01)


def test_a_validation_loss_written_without_a_step_follows_the_training_steps(tmp_path: Path) -> None:
    """add_scalar('val/loss', v) without global_step writes step 0: six evaluations had collapsed
    to the last of them, at step 0, as if measured before training. Each is placed at the step of
    the training point written before it, with a note; a series with steps keeps them."""
    pytest.importorskip("torch")
    from lrdoctor import load

    w = torch_writer(tmp_path)
    for step in range(60):
        w.add_scalar("train/loss", 2.0 / (1 + step), step)
        if step % 10 == 9:
            w.add_scalar("val/loss", 2.5 / (1 + step))
    w.close()
    log = read_file(event_file(tmp_path))
    assert points(log)["val/loss"] == [(s, pytest.approx(2.5 / (1 + s))) for s in range(9, 60, 10)]
    assert any("'val/loss' was written without a step" in w for w in log.warnings)
    assert points(log)["train/loss"] == [(s, pytest.approx(2.0 / (1 + s))) for s in range(60)]
    run = load(tmp_path)
    assert run.val_loss is not None and len(run.val_loss) == 6


def test_a_dense_series_without_a_step_keeps_its_write_order(tmp_path: Path) -> None:
    """Only sparse series (evaluations) borrow the steps of a denser one: a training loss written
    without a step beside an epoch counter every 50 steps is read in write order, as before."""
    pytest.importorskip("torch")
    w = torch_writer(tmp_path)
    for i in range(300):
        w.add_scalar("train/loss", 2.0 / (1 + i))
        if i % 50 == 49:
            w.add_scalar("epoch", i // 50, i)
    w.close()
    log = read_file(event_file(tmp_path))
    assert (log.series["train/loss"].steps == 0).all() and not any("without a step" in m for m in log.warnings)


def test_a_run_folder_of_git_lfs_pointers_fails_the_gate_unread(tmp_path: Path) -> None:
    """A clone without Git LFS leaves pointer text where the event files were: not damage, but a
    stand-in for a run's log. check --skip-unreadable had passed the folder over, and a CI
    checkout without Git LFS passed every log unread; it fails (exit 2), saying why."""
    from click.testing import CliRunner

    from lrdoctor.cli import cli

    run = tmp_path / "runs" / "Jan01_x"
    run.mkdir(parents=True)
    (run / "events.out.tfevents.1700000000.host.1.0").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 4096\n"
    )
    result = CliRunner().invoke(cli, ["check", "--skip-unreadable", str(tmp_path / "runs")])
    assert result.exit_code == 2 and "skipped" not in result.output and "git lfs pull" in result.output, result.output
