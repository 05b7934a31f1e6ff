from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from lrdoctor.errors import NoSeries, UnreadableLog
from lrdoctor.readers import json_reader, jsonl, mlflow, read_log, sniff
from lrdoctor.source import Source, open_source
from tests.conftest import realworld_manifest

HF_FILES = [e for e in realworld_manifest() if e["format"] == "hf-trainer-state"]


def write(tmp_path: Path, text: str, name: str = "log.json") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def load(tmp_path: Path, text: str, name: str = "log.json"):
    return json_reader.read(open_source(write(tmp_path, text, name)))


def trainer_state(log_history: list, **top) -> str:
    return json.dumps(
        {"global_step": 30, "logging_steps": 10, "max_steps": 30, **top, "log_history": log_history}, indent=2
    )


# --- real trainer_state.json files ----------------------------------------------------------


@pytest.mark.parametrize("entry", HF_FILES, ids=lambda e: e["file"][:40])
def test_real_trainer_state_loss_points(realworld: Path, entry: dict) -> None:
    """Every real trainer_state.json gives its manifest's loss_points for `loss`."""
    source = open_source(realworld / entry["local_path"])
    assert sniff(source) == "json"
    if entry["loss_points"] == 0:
        with pytest.raises(NoSeries, match=r"global_step 6 < logging_steps 50"):
            json_reader.read(source)
        return
    log = json_reader.read(source)
    assert log.format == "hf-trainer-state"
    assert log.step_kind == "step"
    assert len(log.series["loss"]) == entry["loss_points"]
    assert "train_runtime" not in log.series and "train_loss" not in log.series
    assert log.hints["loss"] == "loss"


def test_real_trainer_state_summary_goes_to_hparams(realworld: Path) -> None:
    """The closing summary entry of the t5 run is hyper-parameters, not a 431st loss point."""
    path = realworld / "hf-trainer-state/10844110__t5-summarization-demo__trainer_state.json"
    log = json_reader.read(open_source(path))
    assert len(log.series["loss"]) == 430
    assert log.hparams["train_loss"] == pytest.approx(1.8040490566820844)
    assert log.hparams["train_runtime"] == pytest.approx(54713.1806)
    assert log.hparams["global_step"] == 215337


def test_real_trl_and_multi_eval_keys(realworld: Path) -> None:
    """TRL keys and eval_gN_* keys are kept as written."""
    dpo_path = realworld / "hf-trainer-state/Silver-8ce__llamaTest__trainer_state.json"
    dpo = json_reader.read(open_source(dpo_path))
    assert "rewards/chosen" in dpo.series and "eval_rewards/chosen" in dpo.series
    assert len(dpo.series["eval_loss"]) == 29 and dpo.hints["val"] == "eval_loss"
    groups = json_reader.read(
        open_source(realworld / "hf-trainer-state/aigoncharov__trainer_state_viz__trainer_state.json")
    )
    assert [len(groups.series[f"eval_g{g}_loss"]) for g in range(6)] == [31] * 6
    # Evaluation entries at step 0 come before the first training entry.
    assert groups.series["eval_g0_loss"].steps[0] == 0
    assert groups.series["eval_g0_loss"].seq[0] < groups.series["loss"].seq[0]


def test_real_git_lfs_pointer(realworld: Path) -> None:
    """A Git LFS pointer saved as trainer_state.json: a clear error naming `git lfs pull`."""
    path = realworld / "other/Observer-18__nlp__trainer_state.json"
    assert sniff(open_source(path)) == "json"
    with pytest.raises(UnreadableLog, match=r"Git LFS pointer \(to a file of 58011 bytes\).*git lfs pull"):
        read_log(path)


def test_not_claimed_for_csv_and_text(realworld: Path) -> None:
    """No CSV or text log of the corpus is taken for JSON, JSON Lines or MLflow."""
    others = [
        e
        for e in realworld_manifest()
        if e["format"] in ("lightning-csv", "keras-csv", "text") and e["file"].endswith((".csv", ".txt", ".log"))
    ]
    assert others
    for entry in others:
        path = realworld / entry["local_path"]
        head = open_source(path).head()
        for reader in (json_reader, jsonl, mlflow):
            assert not reader.sniff(head, path.name), (reader.__name__, entry["file"])


# --- trainer_state layouts ------------------------------------------------------------------


def test_trainer_state_entries(tmp_path: Path) -> None:
    """Training, evaluation and summary entries: exact points, hints and hyper-parameters."""
    text = trainer_state(
        [
            {"loss": 2.5, "learning_rate": 1e-4, "grad_norm": 3.0, "epoch": 0.5, "step": 10},
            {"eval_loss": 2.4, "eval_runtime": 1.5, "epoch": 0.5, "step": 10},
            {"loss": "0.7276", "learning_rate": 5e-5, "grad_norm": None, "epoch": 1.0, "step": 20},
            {"loss": float("nan"), "learning_rate": 0.0, "grad_norm": float("inf"), "epoch": 1.5, "step": 30},
            {"train_runtime": 12.5, "train_loss": 1.9, "total_flos": 1e12, "epoch": 1.5, "step": 30},
        ],
        trial_params={"learning_rate": 1e-4},
    )
    log = load(tmp_path, text, "trainer_state.json")
    loss = log.series["loss"]
    assert loss.steps.tolist() == [10, 20, 30]
    assert loss.values[:2].tolist() == [2.5, 0.7276] and math.isnan(loss.values[2])
    assert loss.seq.tolist() == [0, 2, 3]
    assert log.series["grad_norm"].steps.tolist() == [10, 30]
    assert log.series["grad_norm"].values[1] == math.inf
    assert log.series["eval_loss"].values.tolist() == [2.4]
    assert log.hints == {"loss": "loss", "lr": "learning_rate", "val": "eval_loss"}
    assert log.hparams["train_loss"] == 1.9 and log.hparams["learning_rate"] == 1e-4
    assert log.hparams["max_steps"] == 30 and "train_runtime" not in log.series


def test_trainer_state_empty_history(tmp_path: Path) -> None:
    with pytest.raises(NoSeries, match=r"log_history holds no points; global_step 5 < logging_steps 10"):
        load(tmp_path, trainer_state([], global_step=5))


def test_trainer_state_history_removed(tmp_path: Path) -> None:
    """An empty history after the first logging step: not blamed on logging_steps."""
    with pytest.raises(NoSeries, match="although global_step 30 >= logging_steps 5; the history was removed"):
        load(tmp_path, trainer_state([], logging_steps=5))
    with pytest.raises(NoSeries, match="the log_history entries hold no numeric values"):
        load(tmp_path, trainer_state([{"loss": "high", "step": "ten"}]))


def test_trainer_state_with_evaluations_but_no_training_loss_says_why(tmp_path: Path) -> None:
    """The Trainer's defaults on a short run (logging_steps 500, 330 steps, an evaluation per
    epoch): evaluations and the summary, no training loss. The error names logging_steps."""
    from lrdoctor.normalize import normalize

    evals = [{"eval_loss": 1.2 - e / 10, "epoch": float(e), "step": 110 * e} for e in (1, 2, 3)]
    summary = {"train_runtime": 12.3, "train_loss": 1.1, "total_flos": 1.0, "epoch": 3.0, "step": 330}
    log = load(tmp_path, trainer_state([*evals, summary], global_step=330, logging_steps=500))
    with pytest.raises(NoSeries, match=r"no training loss: global_step 330 < logging_steps 500, so the Trainer"):
        normalize(log)
    log = load(tmp_path, trainer_state([*evals, summary], global_step=330, logging_steps=50))
    with pytest.raises(NoSeries, match=r"log_history holds no training loss \(only evaluations"):
        normalize(log)


def test_trainer_state_only_summary(tmp_path: Path) -> None:
    """A run shorter than logging_steps leaves only the summary: still no points."""
    with pytest.raises(NoSeries, match="log_history holds no points"):
        load(tmp_path, trainer_state([{"train_runtime": 1.0, "train_loss": 2.0, "step": 5}]))
    with pytest.raises(NoSeries, match="log_history holds no points"):
        load(tmp_path, trainer_state([{"total_flos": 1e9, "epoch": 1.0, "step": 5}]))


def test_trainer_state_wrong_types(tmp_path: Path) -> None:
    with pytest.raises(UnreadableLog, match="log_history is a number, expected a list"):
        load(tmp_path, '{"log_history": 5}')
    log = load(tmp_path, '{"log_history": [1, "x", {"loss": 1.0, "step": 1}]}')
    assert log.series["loss"].values.tolist() == [1.0]
    assert log.warnings == [f"{tmp_path / 'log.json'}: skipped 2 log_history entries that are not objects"]


# --- plain JSON layouts ---------------------------------------------------------------------


def test_list_of_records(tmp_path: Path) -> None:
    log = load(
        tmp_path,
        '[{"step": 1, "loss": 2.3, "lr": 0.1}, {"step": 2, "loss": NaN}, {"step": 3, "loss": Infinity, "lr": null}]',
    )
    assert log.format == "json" and log.step_kind == "step"
    assert log.series["loss"].steps.tolist() == [1, 2, 3]
    assert log.series["loss"].values[0] == 2.3 and math.isnan(log.series["loss"].values[1])
    assert log.series["loss"].values[2] == math.inf
    assert log.series["lr"].steps.tolist() == [1]


def test_dict_of_lists(tmp_path: Path) -> None:
    log = load(tmp_path, '{"step": [10, 20, 30], "loss": [3.0, "2.0", 1.0], "lr": [0.1, 0.1, 0.01]}')
    assert log.series["loss"].steps.tolist() == [10, 20, 30]
    assert log.series["loss"].values.tolist() == [3.0, 2.0, 1.0]
    assert log.series["lr"].seq.tolist() == [0, 1, 2]


def test_keras_history_dict(tmp_path: Path) -> None:
    """Keras' history.history: no step key, so the record number is the step."""
    log = load(tmp_path, '{"history": {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7, 0.6]}}')
    assert log.step_kind == "index"
    assert log.series["val_loss"].steps.tolist() == [0, 1, 2]
    assert any("different lengths (2 to 3)" in w for w in log.warnings)


@pytest.mark.parametrize("key", ["history", "log_history", "metrics", "records"])
def test_wrapped_list(tmp_path: Path, key: str) -> None:
    records = [{"epoch": 1, "loss": 1.5}, {"epoch": 2, "loss": 1.0}]
    log = load(tmp_path, json.dumps({"config": {"lr": 0.01}, key: records}))
    assert log.series["loss"].values.tolist() == [1.5, 1.0]
    assert log.step_kind == "epoch"
    assert log.format == ("hf-trainer-state" if key == "log_history" else "json")
    if key != "log_history":
        assert log.hparams == {"lr": 0.01}


def test_several_record_lists(tmp_path: Path) -> None:
    log = load(tmp_path, '{"train": [{"step": 1, "loss": 2.0}], "val": [{"step": 1, "loss": 2.5}]}')
    assert log.series["train/loss"].values.tolist() == [2.0]
    assert log.series["val/loss"].values.tolist() == [2.5]
    assert log.series["val/loss"].seq.tolist() == [1]


def test_step_keyed_dict_and_nested_records(tmp_path: Path) -> None:
    log = load(tmp_path, '{"100": {"loss": 2.0}, "200": {"loss": 1.0}}')
    assert log.series["loss"].steps.tolist() == [100, 200]
    nested = load(tmp_path, '[{"step": 1, "train": {"loss": 2.0}, "lr": [0.1, 0.2]}]')
    assert nested.series["train/loss"].values.tolist() == [2.0]
    assert nested.series["lr/1"].values.tolist() == [0.2]


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("{}", NoSeries, "an empty JSON object"),
        ("[]", NoSeries, "the top-level list is empty"),
        ("[1, 2, 3]", UnreadableLog, r"holds no records \(its first item is a number\)"),
        ('"loss"', UnreadableLog, "the JSON document is a string, not records"),
        ("12.5", UnreadableLog, "the JSON document is a number, not records"),
        ('{"history": []}', NoSeries, "the lists under 'history' are empty"),
        ('{"name": "x", "config": {"a": 1}}', UnreadableLog, "none a list of records or of numbers"),
        ('[{"step": "one", "loss": "low"}]', NoSeries, "no numeric values"),
    ],
)
def test_bad_documents(tmp_path: Path, text: str, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        load(tmp_path, text)


def test_truncated_json_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '{\n  "log_history": [\n    {"loss": 2.0, "step": 1},\n    {"loss": 1.')
    assert sniff(open_source(path)) == "json"
    with pytest.raises(UnreadableLog, match=rf"^{path}:4:\d+: not valid JSON"):
        read_log(path)


def test_deep_nesting_is_unreadable(tmp_path: Path) -> None:
    path = write(tmp_path, "[" * 200_000 + "]" * 200_000)
    assert sniff(open_source(path)) == "json"
    with pytest.raises(UnreadableLog, match="nested too deeply"):
        read_log(path)
    with pytest.raises(UnreadableLog, match="nested too deeply"):
        json_reader.read(Source("<stdin>", data=b'{"a":' * 200_000 + b"1" + b"}" * 200_000))


def test_twenty_megabyte_line(tmp_path: Path) -> None:
    """A 20 MB string value is ignored; a 20 MB integer is an error, not a hang or traceback."""
    blob = "x" * (20 << 20)
    log = load(tmp_path, f'[{{"step": 1, "loss": 2.0, "note": "{blob}"}}]')
    assert log.series["loss"].values.tolist() == [2.0]
    with pytest.raises(UnreadableLog, match="a number too long"):
        load(tmp_path, '[{"step": 1, "loss": ' + "9" * (20 << 20) + "}]")


# --- sniffing and directories ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (b'{\n  "log_history": [', "trainer_state.json", True),
        (b'\xef\xbb\xbf  [{"step": 1, "loss": 2.0}]', "x", True),
        (b'{"step": 1, "loss": 2.0}\n', "x.json", True),
        (b'{"step": 1, "loss": 2.0}\n', "x.jsonl", False),
        (b'{"step": 1}\n{"step": 2}\n', "metrics.json", False),
        (b"[2024-01-01 12:00:00] step 1 loss 2.3\n", "train.log", False),
        (b"[INFO] starting\n", "train.log", False),
        (b"step,loss\n1,2.0\n", "m.csv", False),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 3\n", "trainer_state.json", True),
    ],
)
def test_sniff(head: bytes, name: str, expected: bool) -> None:
    assert json_reader.sniff(head, name) is expected


def test_sniff_head_cut_inside_a_large_document() -> None:
    records = json.dumps([{"step": i, "loss": 1.0 / (i + 1), "tag": "a" * 50} for i in range(5000)])
    head = records.encode()[: 64 * 1024]
    assert json_reader.sniff(head, "history.json")


def test_json_lines_with_a_long_first_line_are_json_lines(tmp_path: Path) -> None:
    """JSON Lines whose first line outgrows the first 64 KiB looked at are read whole, as JSON Lines."""
    line = json.dumps({"step": 1, "loss": 2.0, "pad": "p" * 70_000})
    path = write(tmp_path, line + "\n" + json.dumps({"step": 2, "loss": 1.0}) + "\n", "metrics.json")
    assert sniff(open_source(path)) == "jsonl"
    log = read_log(path)
    assert log.format == "jsonl" and log.series["loss"].values.tolist() == [2.0, 1.0]


def test_in_dir(tmp_path: Path) -> None:
    assert json_reader.in_dir(tmp_path) is None
    for n in (500, 1000, 50):
        (tmp_path / f"checkpoint-{n}").mkdir()
        write(tmp_path / f"checkpoint-{n}", trainer_state([{"loss": 1.0, "step": n}]), "trainer_state.json")
    (tmp_path / "checkpoint-final").mkdir()
    assert json_reader.in_dir(tmp_path) == tmp_path / "checkpoint-1000" / "trainer_state.json"
    log = read_log(tmp_path)
    assert log.series["loss"].steps.tolist() == [1000]
    write(tmp_path, trainer_state([{"loss": 1.0, "step": 3}]), "trainer_state.json")
    assert json_reader.in_dir(tmp_path) == tmp_path / "trainer_state.json"


def hf_state(steps: range, start: float = 3.0) -> str:
    """trainer_state.json as HF's TrainerState writes it (sorted keys, indent 2)."""
    history = [{"epoch": s / 100, "learning_rate": 1e-4, "loss": start * 0.99**s, "step": s} for s in steps]
    return json.dumps({"global_step": steps[-1], "log_history": history, "max_steps": 200}, indent=2, sort_keys=True)


def test_a_checkpoint_further_along_than_the_top_level_state_is_read(tmp_path: Path) -> None:
    """A run resumed in the same output folder without save_state() leaves the first training's
    trainer_state.json at the top; its latest checkpoint goes further, and is read, with a note."""
    top = write(tmp_path, hf_state(range(5, 100, 5)), "trainer_state.json")
    os.utime(top, (1_000, 1_000))
    for n in (96, 192):
        (tmp_path / f"checkpoint-{n}").mkdir()
        state = write(tmp_path / f"checkpoint-{n}", hf_state(range(5, n, 5)), "trainer_state.json")
        os.utime(state, (2_000 + n, 2_000 + n))
    log = read_log(tmp_path)
    assert log.series["loss"].steps[-1] == 190
    assert any("stops at step 95, where checkpoint-192 reached step 190" in w for w in log.warnings)
    # A checkpoint behind the top-level state (the run saved its state at the end) is not read.
    top = write(tmp_path, hf_state(range(5, 300, 5)), "trainer_state.json")
    log = read_log(tmp_path)
    assert log.series["loss"].steps[-1] == 295 and not any("instead" in w for w in log.warnings)


def test_an_output_folder_with_tensorboard_sessions_is_read_by_its_trainer_state(tmp_path: Path) -> None:
    """`report_to="tensorboard"` (the Trainer's default where tensorboard is installed) writes a
    runs/<date> folder per session beside trainer_state.json. A training resumed from a
    checkpoint had been read from the two sessions' events, merged, its rate from the other one."""
    pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter

    write(tmp_path, hf_state(range(5, 200, 5)), "trainer_state.json")
    for session, steps in (("Dec01_04-42-41_vm", range(5, 60, 5)), ("Dec01_04-43-01_vm", range(45, 200, 5))):
        writer = SummaryWriter(str(tmp_path / "runs" / session))
        for s in steps:
            writer.add_scalar("train/loss", 3.0 * 0.99**s + (1.0 if session.endswith("01_vm") else 0.0), s)
        writer.close()
    log = read_log(tmp_path)
    assert log.format == "hf-trainer-state" and log.series["loss"].steps.tolist() == list(range(5, 200, 5))
    # The events named themselves are still read.
    assert read_log(tmp_path / "runs" / "Dec01_04-43-01_vm").format == "tensorboard"


def test_a_checkpoint_that_begins_alike_but_is_older_is_named_not_read(tmp_path: Path) -> None:
    """A shorter rerun of the same settings begins as an earlier, longer training's checkpoint
    does, and is written later: the top-level state is read, with a note naming the checkpoint
    (a copy that did not keep file times looks the same, so the note says both)."""
    (tmp_path / "checkpoint-2000").mkdir()
    state = write(tmp_path / "checkpoint-2000", hf_state(range(10, 2001, 10)), "trainer_state.json")
    os.utime(state, (1_000, 1_000))
    top = write(tmp_path, hf_state(range(10, 1001, 10)), "trainer_state.json")
    os.utime(top, (8_200, 8_200))
    log = read_log(tmp_path)
    assert log.series["loss"].steps[-1] == 1000
    note = next(w for w in log.warnings if "checkpoint-2000 goes further (step 2000)" in w)
    assert "begins as the top one's but is the older file" in note and "name the checkpoint" in note


def test_a_checkpoint_of_another_training_is_not_read_though_it_went_further(tmp_path: Path) -> None:
    """A longer training at another rate left checkpoint-5000 in the same folder: its history
    begins otherwise, so the top-level state is read, with a note that names the checkpoint."""
    (tmp_path / "checkpoint-5000").mkdir()
    write(tmp_path / "checkpoint-5000", hf_state(range(5, 5001, 5), start=2.0), "trainer_state.json")
    write(tmp_path, hf_state(range(5, 2001, 5)), "trainer_state.json")
    log = read_log(tmp_path)
    assert log.series["loss"].steps[-1] == 2000
    assert any("checkpoint-5000 goes further (step 5000)" in w and "another training's" in w for w in log.warnings)


def test_a_newer_checkpoint_of_another_training_behind_the_top_state_is_named(tmp_path: Path) -> None:
    """A second run in the same output folder saved checkpoint-100 over the first run's and
    crashed before saving its state: the top-level state (the first run's, further on) is read, and
    the note names the newer checkpoint; it had been left out without a word. Checkpoints of the
    top state's own training, however new their files (a copy), are not named."""
    for n in (100, 200):
        (tmp_path / f"checkpoint-{n}").mkdir()
        state = write(tmp_path / f"checkpoint-{n}", hf_state(range(5, n + 1, 5)), "trainer_state.json")
        os.utime(state, (3_000, 3_000))
    top = write(tmp_path, hf_state(range(5, 226, 5)), "trainer_state.json")
    os.utime(top, (2_000, 2_000))
    log = read_log(tmp_path)
    assert log.series["loss"].steps[-1] == 225 and not any("written after" in w for w in log.warnings)
    state = write(tmp_path / "checkpoint-100", hf_state(range(5, 101, 5), start=1.4), "trainer_state.json")
    os.utime(state, (4_000, 4_000))
    log = read_log(tmp_path)
    assert log.series["loss"].steps[-1] == 225
    note = next(w for w in log.warnings if "checkpoint-100/trainer_state.json was written after" in w)
    assert "holds another training" in note and "name the checkpoint" in note


def test_a_top_level_state_that_logged_nothing_gives_way_to_a_checkpoint_further_on(tmp_path: Path) -> None:
    write(tmp_path, json.dumps({"global_step": 300, "log_history": []}, indent=2, sort_keys=True), "trainer_state.json")
    (tmp_path / "checkpoint-1500").mkdir()
    write(tmp_path / "checkpoint-1500", hf_state(range(500, 1501, 500)), "trainer_state.json")
    assert read_log(tmp_path).series["loss"].steps.tolist() == [500, 1000, 1500]


def test_a_top_level_state_cut_off_falls_back_to_the_latest_checkpoint(tmp_path: Path) -> None:
    full = hf_state(range(5, 100, 5))
    write(tmp_path, full[: len(full) // 2], "trainer_state.json")
    (tmp_path / "checkpoint-96").mkdir()
    write(tmp_path / "checkpoint-96", full, "trainer_state.json")
    log = read_log(tmp_path)
    assert log.series["loss"].steps[-1] == 95
    assert any("trainer_state.json is cut off; read" in w for w in log.warnings)


def test_a_latest_checkpoint_killed_while_written_falls_back_to_the_one_before(tmp_path: Path) -> None:
    """A run killed while it saved checkpoint-200 leaves its trainer_state.json empty (or cut):
    the checkpoint before it is read, with a note (it was 'nothing written yet')."""
    (tmp_path / "checkpoint-100").mkdir()
    write(tmp_path / "checkpoint-100", hf_state(range(5, 101, 5)), "trainer_state.json")
    (tmp_path / "checkpoint-200").mkdir()
    write(tmp_path / "checkpoint-200", "", "trainer_state.json")
    log = read_log(tmp_path)
    assert log.series["loss"].steps[-1] == 100
    assert any("checkpoint-200/trainer_state.json is empty or cut off; read" in w for w in log.warnings)


def test_reads_gzip_and_stdin_bytes(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "trainer_state.json.gz"
    path.write_bytes(gzip.compress(trainer_state([{"loss": 1.5, "step": 1}]).encode()))
    assert read_log(path).series["loss"].values.tolist() == [1.5]
    log = json_reader.read(Source("<stdin>", data=b'[{"step": 4, "loss": 0.5}]'))
    assert log.source == "<stdin>" and np.array_equal(log.series["loss"].steps, [4.0])


def test_a_batch_size_in_step_keyed_records_leaves_the_key_as_the_step(tmp_path: Path) -> None:
    from lrdoctor import load

    path = tmp_path / "history.json"
    path.write_text(json.dumps({str(s): {"loss": 2.0 / (s + 1), "batch": 32} for s in range(0, 200, 10)}))
    assert load(path).loss.steps.tolist() == list(range(0, 200, 10))


@pytest.mark.parametrize(
    ("top", "said"),
    [
        ({"global_step": 300, "max_steps": 1000}, "a checkpoint of a run still training, or one stopped early"),
        (
            {
                "global_step": 300,
                "max_steps": 1000,
                "stateful_callbacks": {"TrainerControl": {"args": {"should_training_stop": True}}},
            },
            "a callback (early stopping, most often) ended it there",
        ),
        ({"global_step": 950, "max_steps": 1000}, None),  # saved a few steps before the end
        ({"global_step": 1000, "max_steps": 1000}, None),
        ({"global_step": 300, "max_steps": -1}, None),
        ({"global_step": 300}, None),
        ({"global_step": True, "max_steps": 1000}, None),
        ({"global_step": 300, "max_steps": True}, None),
    ],
)
def test_a_state_that_ends_before_its_planned_steps_says_so(tmp_path: Path, top: dict, said: str | None) -> None:
    history = [
        {"loss": 2.0 - 0.001 * s, "learning_rate": 1e-4, "epoch": s / 100, "step": s} for s in range(10, 301, 10)
    ]
    log = load(tmp_path, trainer_state(history, **top), "trainer_state.json")
    notes = [w for w in log.warnings if "the run was set for (max_steps)" in w]
    if said is None:
        assert not notes
    else:
        (note,) = notes
        assert f"ends at step 300 of the {top['max_steps']} the run was set for" in note and said in note


def test_sacred_metrics_json_and_its_run_folder(tmp_path: Path) -> None:
    """Sacred's FileStorageObserver: runs/<id>/metrics.json holds each metric's steps, values and
    timestamps, beside run.json and config.json; the folder is that run."""
    from lrdoctor import load

    steps = list(range(1, 61))
    doc = {
        "training.loss": {"steps": steps, "values": [2.0 / s for s in steps], "timestamps": ["t"] * 60},
        "validation.loss": {"steps": steps[9::10], "values": [2.2 / s for s in steps[9::10]], "timestamps": ["t"] * 6},
    }
    run_dir = tmp_path / "runs" / "79"
    run_dir.mkdir(parents=True)
    (run_dir / "metrics.json").write_text(json.dumps(doc, indent=2))
    (run_dir / "run.json").write_text('{"status": "COMPLETED"}')
    (run_dir / "config.json").write_text('{"lr": 0.01}')
    run = load(run_dir)
    assert run.metric == "training.loss" and run.loss.steps.tolist() == steps
    assert run.val_loss is not None and run.val_loss.steps.tolist() == [10, 20, 30, 40, 50, 60]
    # Lists of two lengths: each value at its step, as far as both go, and said.
    doc["training.loss"]["steps"] = steps[:50]
    (run_dir / "metrics.json").write_text(json.dumps(doc))
    run = load(run_dir)
    assert run.loss.steps.tolist() == steps[:50]
    assert any("'training.loss': not as many steps as values" in w for w in run.warnings)
    # An empty list of steps: the values at their positions, said where other metrics list steps.
    doc["training.loss"]["steps"] = []
    (run_dir / "metrics.json").write_text(json.dumps(doc))
    run = load(run_dir)
    assert len(run.loss) == 60 and any(
        "no steps listed for 'training.loss', unlike the other" in w for w in run.warnings
    )
    # A metric with no values at all is no metric placed anywhere: no note of it.
    doc["training.loss"]["steps"] = steps
    doc["test.accuracy"] = {"steps": [], "values": [], "timestamps": []}
    (run_dir / "metrics.json").write_text(json.dumps(doc))
    assert not any("no steps listed" in w for w in load(run_dir).warnings)


@pytest.mark.parametrize("orient", ["columns", "index", "records", "split", "table"])
@pytest.mark.parametrize("step_index", [False, True])
def test_pandas_to_json_layouts(tmp_path: Path, orient: str, step_index: bool) -> None:
    """Every layout of pandas' DataFrame.to_json that names its columns reads as the frame:
    by column (the default), by index, records, split and table, with the step as a column or
    as the index."""
    pd = pytest.importorskip("pandas")
    steps = np.arange(0, 600, 10)
    frame = pd.DataFrame({"step": steps, "loss": 2.3 * np.exp(-steps / 200) + 0.1, "lr": 1e-3})
    if step_index:
        frame = frame.set_index("step")
    log = load(tmp_path, frame.to_json(orient=orient))
    # (records leave the index out: its rows are at their positions)
    expected_steps = np.arange(60) if step_index and orient == "records" else steps
    assert log.series["loss"].steps.tolist() == expected_steps.tolist()
    assert np.allclose(log.series["loss"].values, 2.3 * np.exp(-steps / 200) + 0.1)
    assert np.allclose(log.series["lr"].values, 1e-3)


def test_pandas_column_layout_index_is_the_step_only_without_an_axis_column(tmp_path: Path) -> None:
    """{"loss": {"0": ..}, "epoch": {"0": ..}}: the epoch column is the axis, not the row index."""
    doc = {"loss": {str(i): 2.0 / (i + 1) for i in range(12)}, "epoch": {str(i): i + 1 for i in range(12)}}
    log = load(tmp_path, json.dumps(doc))
    assert log.step_kind == "epoch" and log.series["loss"].steps.tolist() == list(range(1, 13))
    split = {
        "columns": ["epoch", "loss"],
        "index": list(range(12)),
        "data": [[i + 1, 2.0 / (i + 1)] for i in range(12)],
    }
    log = load(tmp_path, json.dumps(split))
    assert log.step_kind == "epoch" and log.series["loss"].steps.tolist() == list(range(1, 13))


def test_megatron_golden_values(tmp_path: Path) -> None:
    """Megatron-LM's golden values: each metric's points under "values", keyed by iteration."""
    doc = {
        "lm loss": {
            "start_step": 1,
            "end_step": 100,
            "step_interval": 5,
            "values": {str(s): 10.4 - 0.05 * s for s in range(1, 101, 5)},
        },
        "num-zeros": {"start_step": 1, "end_step": 100, "step_interval": 5, "values": {"1": "nan", "6": 41.0}},
    }
    log = load(tmp_path, json.dumps(doc, indent=4), "golden_values_dev_dgx_h100.json")
    assert log.series["lm loss"].steps.tolist() == list(range(1, 101, 5))
    assert log.series["lm loss"].values[0] == pytest.approx(10.35)
    # A value array (pandas' orient="values") names nothing: refused, saying why.
    with pytest.raises(UnreadableLog, match="holds no records"):
        load(tmp_path, json.dumps([[0, 2.3], [10, 2.1]]))


def test_tensorboard_download_json(tmp_path: Path) -> None:
    """TensorBoard's page downloads a scalar as JSON too: [[wall time, step, value], ...], named
    by the tag in run-<run>-tag-<tag>.json; other arrays of numbers stay refused."""
    from lrdoctor import load as load_run

    points = [[1.6e9 + 2.0 * s, s, 2.0 / (1 + s / 100)] for s in range(0, 800, 10)]
    run = load_run(write(tmp_path, json.dumps(points), "run-version_0-tag-Loss_train.json"))
    assert run.format == "tensorboard-json" and run.metric == "Loss_train"
    assert run.loss.steps.tolist() == list(range(0, 800, 10))
    with pytest.raises(NoSeries, match="pass --metric Value"):
        load_run(write(tmp_path, json.dumps(points), "scalars.json"))
    # Not a download: a step that is no whole number, or a first column too small to be a time.
    for rows in ([[1.6e9, 0.5, 2.0]] * 3, [[3.0, 1, 2.0]] * 3):
        with pytest.raises(UnreadableLog, match="holds no records"):
            load(tmp_path, json.dumps(rows))


@pytest.mark.parametrize("lines", [False, True])
def test_long_records(tmp_path: Path, lines: bool) -> None:
    """Records of a long table ({"step": 10, "tag": "train/loss", "value": 2.3}), as JSON or
    JSON Lines: a series per tag."""
    from lrdoctor import load as load_run

    records = [
        {"step": s, "tag": tag, "value": v}
        for s in range(0, 300, 10)
        for tag, v in (("train/loss", 2.0 / (1 + s / 50)), ("lr", 0.01))
    ]
    text = "".join(json.dumps(r) + "\n" for r in records) if lines else json.dumps(records)
    run = load_run(write(tmp_path, text, "scalars.jsonl" if lines else "scalars.json"))
    assert run.metric == "train/loss" and run.loss.steps.tolist() == list(range(0, 300, 10))
    assert run.observed_lr == pytest.approx(0.01)


def test_step_keyed_rows_of_numbered_columns_stay_step_keyed(tmp_path: Path) -> None:
    """{"0": {"0": 2.3, "1": 2.4}, "10": {...}}: per-rank losses under each step, not pandas
    columns (the top-level keys are steps too)."""
    doc = {str(s): {"0": 2.0 / (1 + s / 50), "1": 2.1 / (1 + s / 50)} for s in range(0, 1500, 10)}
    log = load(tmp_path, json.dumps(doc))
    assert log.series["0"].steps.tolist() == list(range(0, 1500, 10))


def test_megatron_golden_values_in_their_list_form(tmp_path: Path) -> None:
    """Older golden values list the points with a start_step and a step_interval; a timing figure
    may sit beside the metrics, and a metric may have no value."""
    doc = {
        "lm loss": {
            "start_step": 0,
            "end_step": 745,
            "step_interval": 5,
            "values": [10.4 - 0.01 * i for i in range(150)],
        },
        "num-zeros": {"start_step": 0, "end_step": 745, "step_interval": 5, "values": []},
        "iteration_timing_avg": 0.12,
    }
    log = load(tmp_path, json.dumps(doc))
    assert log.series["lm loss"].steps.tolist() == list(range(0, 750, 5))
    assert log.hparams["iteration_timing_avg"] == 0.12


def test_a_step_too_large_for_a_float_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(UnreadableLog, match="holds no records"):
        load(tmp_path, json.dumps([[1.7e9, 10**400, 2.0], [1.7e9, 1, 2.0]]))


def test_a_first_record_does_not_make_a_log_a_long_table(tmp_path: Path) -> None:
    """A JSON Lines log that opens with a settings record ({"key": "lr", "value": 0.001}) is no
    long table: most of its records name no metric."""
    from lrdoctor import load as load_run

    lines = [json.dumps({"key": "lr", "value": 0.001})]
    lines += [json.dumps({"step": s, "loss": 2.0 / (1 + s / 20)}) for s in range(200)]
    run = load_run(write(tmp_path, "\n".join(lines) + "\n", "log.jsonl"))
    assert run.metric == "loss" and len(run.loss) == 200


@pytest.mark.parametrize(
    "doc",
    [
        {"epoch": 3.0, "eval_loss": 0.41, "train_loss": 0.52, "train_runtime": 120.5},  # HF all_results.json
        {"_step": 299, "_runtime": 31.2, "loss": 0.11, "lr": 0.001},  # wandb-summary.json
        {"lr": 0.01, "batch_size": 32, "epochs": 10},  # a config
    ],
)
def test_a_summary_or_a_config_is_no_log(tmp_path: Path, doc: dict) -> None:
    """One object of final values or settings holds no curve: refused, saying what it expected."""
    with pytest.raises(UnreadableLog, match="none a list of records"):
        load(tmp_path, json.dumps(doc))


@pytest.mark.filterwarnings("ignore:'epoch' date format is deprecated", "ignore:The default formatting of datetime")
@pytest.mark.parametrize("orient", ["columns", "split", "index"])
@pytest.mark.parametrize(("date_format", "date_unit"), [("epoch", "ms"), ("epoch", "s"), ("iso", "ms")])
def test_pandas_time_index_is_no_step(tmp_path: Path, orient: str, date_format: str, date_unit: str) -> None:
    """A DatetimeIndex, written as epoch seconds or milliseconds or as ISO dates, in any layout
    that keeps the index, orders the rows; it is no step."""
    pd = pytest.importorskip("pandas")
    index = pd.date_range("2024-01-01", periods=50, freq="min")
    frame = pd.DataFrame({"loss": 2.0 / (1 + np.arange(50) / 10)}, index=index)
    log = load(tmp_path, frame.to_json(orient=orient, date_format=date_format, date_unit=date_unit))
    assert log.step_kind == "index" and len(log.series["loss"]) == 50
    assert log.series["loss"].values[0] == pytest.approx(2.0)


def test_a_history_by_phase_reads_as_prefixed_columns(tmp_path: Path) -> None:
    """{"train": {"loss": [...], "lr": [...]}, "val": {"loss": [...]}}: a history dict kept by
    phase had been refused ("none a list of records or of numbers")."""
    doc = {
        "train": {"loss": [2.0 / (1 + k) for k in range(40)], "lr": [0.01] * 40},
        "val": {"loss": [1.0, 0.7, 0.6, 0.55]},
        "seed": 3,
    }
    log = load(tmp_path, json.dumps(doc))
    assert set(log.series) == {"train/loss", "train/lr", "val/loss"}
    assert len(log.series["train/loss"]) == 40 and log.series["val/loss"].values.tolist() == [1.0, 0.7, 0.6, 0.55]
    assert log.hparams == {"seed": 3}
    with pytest.raises(UnreadableLog, match="none a list of records or of numbers"):
        load(tmp_path, json.dumps({"train": {"loss": [2.0, 1.0]}, "meta": {"name": "run"}}))


def test_a_history_by_phase_with_its_own_steps_places_each_phase_at_them(tmp_path: Path) -> None:
    doc = {
        "train": {"step": list(range(0, 200, 10)), "loss": [2.0 / (1 + k) for k in range(20)], "lr": [0.01] * 20},
        "val": {"step": [0, 100, 200], "loss": [2.1, 0.9, 0.7]},
    }
    log = load(tmp_path, json.dumps(doc))
    assert log.series["val/loss"].steps.tolist() == [0.0, 100.0, 200.0]
    assert log.series["train/loss"].steps.tolist() == [float(s) for s in range(0, 200, 10)]


def test_a_config_with_a_list_of_one_null_is_no_training_log(tmp_path: Path) -> None:
    """Lists of nulls stand for a loss NaN from the start only beside a list of numbers: a config
    whose settings hold [null] is still no training log, which the hook's gate passes over."""
    from click.testing import CliRunner

    from lrdoctor.cli import cli

    path = write(tmp_path, json.dumps({"model": "resnet", "layers": [None], "loss": [None]}), "config.json")
    result = CliRunner().invoke(cli, ["check", "--skip-unreadable", str(path)])
    assert result.exit_code == 0 and "none a list of records or of numbers" in result.output, result.output
