from __future__ import annotations

import codecs
import json
import math
from pathlib import Path

import pytest

from lrdoctor.errors import NoSeries, UnreadableLog
from lrdoctor.readers import jsonl, read_log, sniff
from lrdoctor.source import Source, open_source

CHICKABOO = "jsonl/Chickaboo__NeuroZip__metrics.jsonl"
DETECTRON2 = "jsonl/Kevindic0214__detectron2_training__output_metrics.json"


def write(tmp_path: Path, data: str | bytes, name: str = "metrics.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def load(tmp_path: Path, data: str | bytes, name: str = "metrics.jsonl"):
    return jsonl.read(open_source(write(tmp_path, data, name)))


# --- real files -----------------------------------------------------------------------------


def test_real_chickaboo(realworld: Path) -> None:
    """9 records, steps from `step`, no key named exactly 'loss'."""
    source = open_source(realworld / CHICKABOO)
    assert sniff(source) == "jsonl"
    log = jsonl.read(source)
    loss = log.series["train_loss_nats_per_byte"]
    assert log.format == "jsonl" and log.step_kind == "step" and log.warnings == []
    assert len(loss) == 9 and loss.steps[:2].tolist() == [1, 250]
    assert loss.values[0] == pytest.approx(5.533699035644531)
    assert len(log.series["validation_loss_nats_per_byte"]) == 9


def test_real_detectron2_metrics_json(realworld: Path) -> None:
    """detectron2's metrics.json is JSON Lines; iteration 19 is written twice and both are kept."""
    source = open_source(realworld / DETECTRON2)
    assert sniff(source) == "jsonl"
    log = jsonl.read(source)
    total = log.series["total_loss"]
    assert len(total) == 16
    assert total.steps[:3].tolist() == [19, 19, 39] and total.steps[-1] == 299
    assert total.values[:2].tolist() == pytest.approx([2.1678951284848154, 2.152726454194635])
    assert total.seq.tolist() == list(range(16))


# --- damaged files --------------------------------------------------------------------------


def test_broken_last_line_is_skipped_with_a_warning(tmp_path: Path) -> None:
    log = load(tmp_path, '{"step": 1, "loss": 2.0}\n{"step": 2, "loss": 1.5}\n{"step": 3, "lo')
    assert log.series["loss"].steps.tolist() == [1, 2]
    label = tmp_path / "metrics.jsonl"
    assert log.warnings == [f"{label}:3: the last line is cut short (still being written?); skipped"]


def test_corrupt_middle_lines_are_counted(tmp_path: Path) -> None:
    text = '{"step": 1, "loss": 2.0}\ngarbage\n\n[1, 2]\n{"step": 4, "loss": 1.0}\n\n'
    log = load(tmp_path, text)
    assert log.series["loss"].steps.tolist() == [1, 4]
    assert log.series["loss"].seq.tolist() == [0, 1]
    assert log.warnings == [
        f"{tmp_path / 'metrics.jsonl'}: skipped 2 line(s) that are not whole JSON objects (line 2, 4)"
    ]


def test_no_object_at_all(tmp_path: Path) -> None:
    with pytest.raises(UnreadableLog, match=r"metrics.jsonl:2: not a JSON object"):
        load(tmp_path, "\nnot json\nnor this\n")
    with pytest.raises(NoSeries, match="only blank lines"):
        jsonl.read(Source("<stdin>", data=b"\n \n"))
    with pytest.raises(NoSeries, match="2 records, none with a numeric value"):
        load(tmp_path, '{"name": "a"}\n{"name": "b"}\n')


def test_deep_and_huge_lines(tmp_path: Path) -> None:
    """A 200,000-deep line and a 20 MB junk line are skipped; a 20 MB string value is ignored."""
    lines = [
        json.dumps({"step": 1, "loss": 2.0, "note": "x" * (20 << 20)}),
        "[" * 200_000 + "]" * 200_000,
        "{" + "z" * (20 << 20),
        json.dumps({"step": 2, "loss": 1.0}),
    ]
    log = load(tmp_path, "\n".join(lines) + "\n")
    assert log.series["loss"].values.tolist() == [2.0, 1.0]
    assert "(line 2, 3)" in log.warnings[0]


# --- values and steps -----------------------------------------------------------------------


def test_nan_tokens_numeric_strings_and_null(tmp_path: Path) -> None:
    text = (
        '{"step": 1, "loss": "0.7276", "lr": 0.1}\n{"step": 2, "loss": NaN, "lr": null}\n'
        '{"step": 3, "loss": -Infinity, "lr": true}\n{"step": 4, "loss": 1e400}\n'
    )
    loss = load(tmp_path, text).series["loss"]
    assert loss.values[0] == 0.7276 and math.isnan(loss.values[1])
    assert loss.values[2:].tolist() == [-math.inf, math.inf]
    assert load(tmp_path, text).series["lr"].steps.tolist() == [1]


@pytest.mark.parametrize(
    ("key", "kind"), [("iteration", "step"), ("_step", "step"), ("global_step", "step"), ("epoch", "epoch")]
)
def test_step_keys(tmp_path: Path, key: str, kind: str) -> None:
    log = load(tmp_path, f'{{"{key}": 5, "loss": 2.0}}\n{{"{key}": 7, "loss": 1.0}}\n')
    assert log.step_kind == kind and log.series["loss"].steps.tolist() == [5, 7]


def test_llama_factory_trainer_log_is_on_its_steps_not_its_epochs(tmp_path: Path) -> None:
    """LLaMA-Factory's trainer_log.jsonl: current_steps beside a fractional epoch."""
    rows = [
        f'{{"current_steps": {s}, "total_steps": 23800, "loss": {3.5 - s / 100}, "learning_rate": 1e-4, '
        f'"epoch": {s / 476:.2f}, "percentage": {s / 238:.2f}, "elapsed_time": "0:01:13"}}'
        for s in range(10, 110, 10)
    ]
    log = load(tmp_path, "\n".join(rows) + "\n", "trainer_log.jsonl")
    assert log.step_kind == "step" and log.series["loss"].steps.tolist() == list(range(10, 110, 10))
    # ... read while it trains: 100 of its 23800 steps
    assert any("the log ends at step 100 of the 23800 the run was set for (total_steps)" in w for w in log.warnings)
    done = [r.replace('"total_steps": 23800', '"total_steps": 100') for r in rows]
    assert not any("set for" in w for w in load(tmp_path, "\n".join(done) + "\n", "trainer_log.jsonl").warnings)


def test_record_index_when_no_step(tmp_path: Path) -> None:
    log = load(tmp_path, '{"loss": 2.0}\n\n{"loss": 1.0}\n{"loss": 0.5}\n')
    assert log.step_kind == "index" and log.series["loss"].steps.tolist() == [0, 1, 2]


def test_nested_records_are_flattened(tmp_path: Path) -> None:
    log = load(
        tmp_path,
        '{"step": 1, "train": {"loss": 2.0, "lr": [0.1, 0.01]}, "msg": "{x}"}\n{"step": 2, "train": {"loss": 1.0}}\n',
    )
    assert log.series["train/loss"].values.tolist() == [2.0, 1.0]
    assert log.series["train/lr/1"].values.tolist() == [0.01]


def test_bom_utf16_crlf_and_gzip(tmp_path: Path) -> None:
    text = '{"step": 1, "loss": 2.0}\r\n{"step": 2, "loss": 1.0}\r\n'
    for data in (codecs.BOM_UTF8 + text.encode(), codecs.BOM_UTF16_LE + text.encode("utf-16-le")):
        path = write(tmp_path, data)
        assert sniff(open_source(path)) == "jsonl"
        assert read_log(path).series["loss"].values.tolist() == [2.0, 1.0]
    import gzip

    gz = write(tmp_path, gzip.compress(text.encode()), "metrics.jsonl.gz")
    assert read_log(gz).series["loss"].steps.tolist() == [1, 2]


def test_lfs_pointer(tmp_path: Path) -> None:
    with pytest.raises(UnreadableLog, match=r"Git LFS pointer \(to a file of 12 bytes\).*git lfs pull"):
        load(tmp_path, "version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 12\n")


# --- sniffing and directories ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (b'{"a": 1}\n{"a": 2}\n', "log.txt", True),
        (b'\n\n{"a": 1}\n  {"a": 2', "metrics.json", True),
        (b'{"a": 1}\n', "history.jsonl", True),
        (b'{"a": 1}\n', "history.ndjson", True),
        (b'{"a": 1}\n', "history.json", False),
        (b'{"a": 1, "pad": "' + b"p" * 100, "big.jsonl", True),
        (b'{"a": 1, "pad": "' + b"p" * 100, "big.json", False),
        (b'{\n  "log_history": [\n', "trainer_state.json", False),
        (b'[{"a": 1},\n{"a": 2}]\n', "list.json", False),
        (b"step,loss\n1,2.0\n", "m.csv", False),
        (b"", "x.jsonl", False),
    ],
)
def test_sniff(head: bytes, name: str, expected: bool) -> None:
    assert jsonl.sniff(head, name) is expected


def test_in_dir(tmp_path: Path) -> None:
    assert jsonl.in_dir(tmp_path) is None
    write(tmp_path, '{\n  "not": "lines"\n}\n', "metrics.json")
    assert jsonl.in_dir(tmp_path) is None
    lines = '{"iteration": 19, "total_loss": 2.0}\n{"iteration": 39, "total_loss": 1.5}\n'
    write(tmp_path, lines, "metrics.json")
    assert jsonl.in_dir(tmp_path) == tmp_path / "metrics.json"
    other = tmp_path / "sub"
    other.mkdir()
    write(other, '{"loss": 1}\n', "run.jsonl")
    assert jsonl.in_dir(other) == other / "run.jsonl"
    write(other, '{"loss": 1}\n', "run2.jsonl")
    assert jsonl.in_dir(other) is None  # two candidates: name the file


def test_many_records_in_order(tmp_path: Path) -> None:
    """20,000 records keep their order and values (and read in well under a test's time)."""
    text = "".join(json.dumps({"step": i, "loss": 1.0 / (i + 1)}) + "\n" for i in range(20_000))
    loss = load(tmp_path, text).series["loss"]
    assert len(loss) == 20_000 and loss.steps[-1] == 19_999 and loss.values[9] == 0.1


def test_ms_swift_logging_jsonl_counts_its_steps_of_their_total(tmp_path: Path) -> None:
    """ms-swift's logging.jsonl: '"global_step/max_steps": "1/2353"' on every record, and only its
    closing summary holds a 'global_step' (the last): each record is at its own step."""
    from lrdoctor import load

    rows = [
        {"loss": 2.0 - s / 100, "learning_rate": 1e-5, "global_step/max_steps": f"{s}/60", "epoch": s / 30}
        for s in range(1, 61)
    ]
    rows.append({"train_runtime": 100.0, "global_step": 60, "log_history": []})
    path = tmp_path / "logging.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = load(path)
    assert run.step_kind == "step" and run.loss.steps.tolist() == list(range(1, 61))


def _mmcv_log_json(path: Path) -> Path:
    """mmcv's TextLoggerHook log.json, workflow [('train', 1), ('val', 1)]: an env-info line, the
    training records of each epoch ('iter' within the epoch), then the epoch's validation record,
    whose 'iter' is the validation loader's length and whose values are under the same names."""
    lines = [json.dumps({"env_info": "sys.platform: linux", "seed": 0})]
    for epoch in range(1, 4):
        for it in range(10, 101, 10):
            loss = 2.0 * math.exp(-(100 * (epoch - 1) + it) / 150)
            lines.append(
                json.dumps({"mode": "train", "epoch": epoch, "iter": it, "lr": 0.01, "loss": loss, "time": 0.2})
            )
        lines.append(json.dumps({"mode": "val", "epoch": epoch, "iter": 25, "lr": 0.01, "loss": 5.0 + epoch}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_evaluation_records_named_by_their_mode_are_the_validation_loss(tmp_path: Path) -> None:
    """A record whose 'mode' (or 'phase', 'split', 'stage') names an evaluation holds validation
    values under the training's names: they are val_* series at the end of their epoch, not
    training points (which took the loss to 5+ at each epoch's end and its step from 'iter')."""
    from lrdoctor import load

    run = load(_mmcv_log_json(tmp_path / "20240101_000000.log.json"))
    assert len(run.loss.values) == 30 and run.loss.values.max() < 2.0
    assert run.val_loss is not None and run.val_loss.values.tolist() == [6.0, 7.0, 8.0]
    assert run.val_loss.steps.tolist() == [100.0, 200.0, 300.0]
    assert run.lr is not None and len(run.lr.values) == 30
    # A step written with the record, and no epoch: kept.
    rows = [{"step": s, "split": "train", "loss": 1.0 / (s + 1)} for s in range(40)]
    rows += [{"step": s, "split": "validation", "loss": 9.0} for s in (19, 39)]
    rows.sort(key=lambda r: r["step"])
    (tmp_path / "split.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = load(tmp_path / "split.jsonl")
    assert len(run.loss.values) == 40 and run.loss.values.max() == 1.0
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [19.0, 39.0]
    # An evaluation's step that advances, beside an epoch, is the training's: kept (the evaluation
    # before training stays at step 0, not after the first training record).
    rows = [{"step": s, "epoch": s // 20, "split": "train", "loss": 1.0 / (s + 1)} for s in range(1, 41)]
    rows = [
        {"step": 0, "epoch": 0, "split": "val", "loss": 9.0},
        *rows,
        {"step": 40, "epoch": 2, "split": "val", "loss": 8.0},
    ]
    (tmp_path / "tidy.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = load(tmp_path / "tidy.jsonl")
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [0.0, 40.0]
    # A log that names its evaluations' values itself: its 'mode' is something else (model.training
    # stamped on each record), and nothing is split.
    rows = [
        {"step": s, "mode": "eval" if s % 10 == 9 else "train", "loss": 1.0 / (s + 1), "val_loss": 2.0}
        for s in range(40)
    ]
    (tmp_path / "stamped.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = load(tmp_path / "stamped.jsonl")
    assert len(run.loss) == 40 and run.val_loss is not None and run.val_loss.values.min() == 2.0
    # Records all of one phase: nothing to split.
    only = [{"step": s, "mode": "train", "loss": 1.0 / (s + 1)} for s in range(40)]
    (tmp_path / "only.jsonl").write_text("".join(json.dumps(r) + "\n" for r in only))
    assert load(tmp_path / "only.jsonl").val_loss is None
