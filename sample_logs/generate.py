"""Regenerate lrdoctor's sample logs by really training tiny models on offline data.

Every log here comes from a real (if tiny) PyTorch training run on one of scikit-learn's
bundled datasets (`load_digits`, `load_diabetes`, `load_breast_cancer`: no download), written
by the real writer where one is installed (torch's and tensorboardX's SummaryWriter,
Lightning's CSVLogger, HF Trainer, Keras' CSVLogger, MLflow, W&B offline, Python logging,
pandas). Layouts that only a server writes (a W&B chart export) or that are a print statement
in someone's script (nanoGPT, transformers 4.x console output) are reproduced.

    .venv/bin/pip install -r sample_logs/requirements.txt
    .venv/bin/python sample_logs/generate.py

It sweeps the learning rate of every task (SWEEP.md), trains and writes every sample, reads
each back to fill MANIFEST.json, and labels each sample's rate from the sweep. Two minutes
or so on two CPU cores.
"""

from __future__ import annotations

import os

# Before any of these libraries is imported.
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse
import json
import math
import shutil
from collections.abc import Callable
from typing import Any

import torch
from generator import library_writers as lib
from generator import plain_writers as plain
from generator.readback import OUT, Sample, manifest_entry
from generator.training import SEED, Plan, Task, load_task, sweep, sweep_markdown

# What this script writes under sample_logs/ (removed and rewritten on every run).
OWNED = (
    "tensorboard",
    "lightning",
    "hf",
    "keras",
    "wandb",
    "csv",
    "jsonl",
    "json",
    "text",
    "mlflow",
    "MANIFEST.json",
    "SWEEP.md",
)


def samples(tasks: dict[str, Task]) -> list[tuple[str, Callable[[], Sample | list[Sample]]]]:
    """Every sample log, as (the folder it is written to, the call that trains and writes it):
    three regimes per task, every writer, several schedules."""
    p = Plan
    epochs = "epochs"
    return [
        (
            "tensorboard",
            lambda: plain.write_tensorboard(
                tasks,
                p("digits", "sgd", 0.5, 450, "warmup_cosine", warmup=30),
                "digits_mlp_sgd_warmup_cosine_ok",
            ),
        ),
        (
            "tensorboard",
            lambda: plain.write_tensorboard(
                tasks,
                p("diabetes", "sgd", 1.0, 200),
                "diabetes_mlp_sgd_too_high_new_style",
                new_style=True,
            ),
        ),
        (
            "tensorboard",
            lambda: plain.write_tensorboard(
                tasks,
                p("digits", "adam", 1e-5, 450),
                "digits_mlp_adam_too_low_tensorboardx",
                tbx=True,
            ),
        ),
        (
            "lightning",
            lambda: lib.write_lightning(
                tasks,
                p("digits", "adam", 1e-2, 0, "step_decay", decay_every=4, decay_unit=epochs),
                0,
                epochs=12,
            ),
        ),
        ("lightning", lambda: lib.write_lightning(tasks, p("digits", "sgd", 20.0, 0), 1, epochs=8)),
        (
            "hf",
            lambda: lib.write_hf_state(
                tasks,
                p("digits", "adam", 5e-3, 450, "linear", warmup=50),
                "digits_mlp_adamw_linear_ok",
            ),
        ),
        (
            "hf",
            lambda: lib.write_hf_state(tasks, p("diabetes", "sgd", 1.0, 200), "diabetes_mlp_sgd_too_high"),
        ),
        (
            "keras",
            lambda: lib.write_keras(
                tasks,
                p(
                    "breast_cancer",
                    "adam",
                    1e-2,
                    0,
                    "step_decay",
                    decay_every=10,
                    decay_unit=epochs,
                ),
                "breast_cancer_logreg_adam_step_decay_ok.csv",
                epochs=40,
            ),
        ),
        (
            "keras",
            lambda: lib.write_keras(tasks, p("digits", "sgd", 1e-4, 0), "digits_mlp_sgd_too_low.csv", epochs=30),
        ),
        (
            "wandb",
            lambda: plain.write_wandb(tasks, p("diabetes", "adam", 1e-5, 400), "diabetes_mlp_adam_too_low.csv"),
        ),
        (
            "csv",
            lambda: plain.write_csv(tasks, p("digits", "adam", 1e-2, 300), "digits_mlp_adam_ok.csv"),
        ),
        (
            "csv",
            lambda: plain.write_csv(tasks, p("digits", "sgd", 20.0, 300), "digits_mlp_sgd_too_high.csv"),
        ),
        (
            "csv",
            lambda: plain.write_csv(tasks, p("diabetes", "sgd", 0.5, 100), "diabetes_mlp_sgd_nan.csv"),
        ),
        (
            "csv",
            lambda: plain.write_csv(
                tasks,
                p("diabetes", "sgd", 0.05, 400, "step_decay", decay_every=100),
                "diabetes_mlp_sgd_step_decay_ok.tsv",
                sep="\t",
            ),
        ),
        (
            "csv",
            lambda: plain.write_csv(
                tasks,
                p("breast_cancer", "sgd", 1e-4, 300),
                "breast_cancer_logreg_sgd_too_low.csv.gz",
                gz=True,
            ),
        ),
        (
            "jsonl",
            lambda: plain.write_jsonl(
                tasks,
                p("digits", "sgd", 0.5, 450, "one_cycle"),
                "digits_mlp_sgd_one_cycle_ok.jsonl",
            ),
        ),
        (
            "json",
            lambda: plain.write_json(tasks, p("digits", "adam", 1.0, 300), "digits_mlp_adam_too_high.json"),
        ),
        (
            "text",
            lambda: plain.write_nanogpt(
                tasks,
                p("digits", "adam", 1e-2, 500, "warmup_cosine", warmup=50),
                "digits_mlp_nanogpt_ok.log",
            ),
        ),
        (
            "text",
            lambda: plain.write_logging(
                tasks,
                p("diabetes", "adam", 5e-3, 400, "warmup_cosine", warmup=40),
                "diabetes_mlp_adam_logging_ok.log",
            ),
        ),
        (
            "text",
            lambda: plain.write_hf_print(
                tasks,
                p("breast_cancer", "sgd", 0.1, 300, "linear"),
                "breast_cancer_logreg_hf_print_ok.log",
            ),
        ),
        (
            "text",
            lambda: lib.write_hf_stdout(
                tasks,
                p("breast_cancer", "sgd", 50.0, 300),
                "breast_cancer_logreg_trainer_stdout_too_high.log",
            ),
        ),
        (
            "mlflow",
            lambda: lib.write_mlflow(
                tasks,
                [
                    (p("breast_cancer", "sgd", 1.0, 300, eval_every=25), "sgd_lr1"),
                    (p("breast_cancer", "sgd", 1e-3, 300, eval_every=25), "sgd_lr0.001"),
                ],
            ),
        ),
        (
            "wandb",
            lambda: lib.write_wandb_run(tasks, p("digits", "sgd", 20.0, 300), "digits_mlp_sgd_too_high"),
        ),
    ]


def setup() -> None:
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def clean() -> None:
    for name in OWNED:
        target = OUT / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def check(entry: dict[str, Any]) -> None:
    """The largest logged rate is the configured one, except where the writer logs it late (HF Trainer)."""
    if not entry["lr_recorded"]:
        return
    peak, base = entry["lr_max_logged"], entry["base_lr"]
    if "transformers" in entry["writer"] and entry["schedule"] != "constant":
        assert peak <= base * (1 + 1e-6), entry
    else:
        assert math.isclose(peak, base, rel_tol=1e-6), entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate lrdoctor's sample logs (see sample_logs/README.md).")
    parser.add_argument("--sweep-only", action="store_true", help="run the sweep and print it; write nothing")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="FOLDER",
        choices=sorted({folder for folder, _ in samples({})}),
        help="rewrite only the samples in these folders (e.g. wandb), keeping the others and their manifest entries",
    )
    args = parser.parse_args(argv)
    setup()
    tasks = {name: load_task(name) for name in ("digits", "diabetes", "breast_cancer")}
    rows = sweep(tasks)
    if args.sweep_only:
        print(sweep_markdown(rows))
        return 0
    only = set(args.only or ())
    kept: list[dict[str, Any]] = []
    if only:
        old = json.loads((OUT / "MANIFEST.json").read_text())["files"]
        kept = [e for e in old if e["path"].split("/", 1)[0] not in only]
        for folder in only:
            shutil.rmtree(OUT / folder, ignore_errors=True)
    else:
        clean()
        (OUT / "SWEEP.md").write_text(sweep_markdown(rows))
    labels = {(r.task, r.optimizer, r.lr): r.label for r in rows}
    entries = []
    for folder, write in samples(tasks):
        if only and folder not in only:
            continue
        written = write()
        for sample in written if isinstance(written, list) else [written]:
            plan = sample.plan
            label = labels[(plan.task, plan.optimizer, plan.lr)]
            entry = manifest_entry(sample, label=label, model=tasks[plan.task].model_desc)
            check(entry)
            print(f"{entry['label']:9s} {entry['loss_points']:4d}  {entry['path']}\n          {entry['curve']}")
            entries.append(entry)
    manifest = {
        "about": "Sample logs from real tiny training runs; see README.md. Regenerate with generate.py.",
        "files": kept + entries,
    }
    (OUT / "MANIFEST.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
