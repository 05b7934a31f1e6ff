"""Writers that are training frameworks: Lightning's CSVLogger, HF Trainer (trainer_state.json
and its console prints), Keras' CSVLogger (torch backend), MLflow's file store and the W&B
client's run file (offline)."""

from __future__ import annotations

import contextlib
import io
import logging
import math
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from generator.plain_writers import T0
from generator.readback import (
    OUT,
    Readback,
    Sample,
    all_matches,
    read_columns,
    read_hf_state,
    read_mlflow,
    read_wandb,
    rel,
)
from generator.training import SEED, Plan, Task, make_optimizer, train


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence the libraries' progress chatter and warnings (not their files)."""
    names = ("pytorch_lightning", "lightning.pytorch", "lightning_fabric", "transformers", "mlflow")
    levels = {name: logging.getLogger(name).level for name in names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names:
            logging.getLogger(name).setLevel(logging.ERROR)
        try:
            yield
        finally:
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)


def write_lightning(tasks: dict[str, Task], plan: Plan, version_no: int, epochs: int) -> Sample:
    import pytorch_lightning as pl
    from pytorch_lightning.callbacks import LearningRateMonitor
    from pytorch_lightning.loggers import CSVLogger
    from torch.utils.data import DataLoader, TensorDataset

    task = tasks[plan.task]

    class DigitsModule(pl.LightningModule):
        def __init__(self, optimizer: str, lr: float, decay_every_epochs: int, gamma: float) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = task.make_model()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net(x)

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            x, y = batch
            loss = task.loss_fn(self(x), y)
            self.log("train_loss", loss, on_step=True, on_epoch=True)
            return loss

        def validation_step(self, batch: Any, batch_idx: int) -> None:
            x, y = batch
            self.log("val_loss", task.loss_fn(self(x), y))

        def configure_optimizers(self) -> Any:
            hp = self.hparams
            opt = make_optimizer(hp.optimizer, self.parameters(), hp.lr)
            if not hp.decay_every_epochs:
                return opt
            step = torch.optim.lr_scheduler.StepLR(opt, step_size=hp.decay_every_epochs, gamma=hp.gamma)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": step, "interval": "epoch"}}

    pl.seed_everything(SEED, workers=True)
    module = DigitsModule(plan.optimizer, plan.lr, plan.decay_every, plan.gamma)
    gen = torch.Generator().manual_seed(SEED)
    train_dl = DataLoader(
        TensorDataset(task.x_train, task.y_train),
        batch_size=plan.batch,
        shuffle=True,
        drop_last=True,
        generator=gen,
    )
    val_dl = DataLoader(TensorDataset(task.x_val, task.y_val), batch_size=len(task.x_val))
    logger = CSVLogger(save_dir=str(OUT / "lightning"), name="lightning_logs", version=version_no)
    trainer = pl.Trainer(
        max_epochs=epochs,
        log_every_n_steps=5,
        logger=logger,
        accelerator="cpu",
        devices=1,
        callbacks=[LearningRateMonitor(logging_interval="step")],
        deterministic=True,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    with quiet():
        trainer.fit(module, train_dl, val_dl)
    run_dir = Path(logger.log_dir)
    lr_col = "lr-Adam" if plan.optimizer == "adam" else "lr-SGD"
    rb = read_columns((run_dir / "metrics.csv").read_text(), ",", "train_loss_step", lr_col, "step")
    per_epoch = len(task.x_train) // plan.batch
    return Sample(
        rel(run_dir),
        "csv",
        f"pytorch-lightning {pl.__version__} CSVLogger + LearningRateMonitor",
        replace(plan, steps=epochs * per_epoch),
        "train_loss_step",
        rb,
        True,
        f"LightningModule, {epochs} epochs of {per_epoch} steps, log_every_n_steps=5; sparse rows: "
        f"train_loss_step, {lr_col}, val_loss + train_loss_epoch at each epoch end; hparams.yaml beside it",
    )


class HFModel(nn.Module):
    """A plain torch module returning a dict with `loss`, as HF Trainer expects."""

    def __init__(self, task: Task) -> None:
        super().__init__()
        self.task_loss = task.loss_fn
        self.net = task.make_model()

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.net(x)
        return {"loss": self.task_loss(out, labels), "logits": out}


def hf_trainer(tasks: dict[str, Task], plan: Plan, out_dir: Path, *, logging_steps: int) -> Any:
    from transformers import Trainer, TrainingArguments

    task = tasks[plan.task]
    train_ds = [{"x": x, "labels": y} for x, y in zip(task.x_train, task.y_train, strict=True)]
    val_ds = [{"x": x, "labels": y} for x, y in zip(task.x_val, task.y_val, strict=True)]
    args = TrainingArguments(
        output_dir=str(out_dir),
        per_device_train_batch_size=plan.batch,
        per_device_eval_batch_size=512,
        max_steps=plan.steps,
        learning_rate=plan.lr,
        optim="sgd" if plan.optimizer == "sgd" else "adamw_torch",
        weight_decay=0.0,
        lr_scheduler_type="linear" if plan.schedule == "linear" else "constant",
        warmup_steps=plan.warmup,
        max_grad_norm=0.0,  # no clipping, as in the sweep
        logging_steps=logging_steps,
        eval_strategy="steps",
        eval_steps=plan.eval_every,
        save_strategy="no",
        report_to="none",
        seed=SEED,
        data_seed=SEED,
        use_cpu=True,
        disable_tqdm=True,
        remove_unused_columns=False,
        prediction_loss_only=True,
        dataloader_num_workers=0,
    )
    return Trainer(model=HFModel(task), args=args, train_dataset=train_ds, eval_dataset=val_ds)


def hf_optimizer(plan: Plan) -> str:
    """The Trainer's name of the optimizer `hf_trainer` picks for `plan`."""
    return "SGD (optim='sgd')" if plan.optimizer == "sgd" else "AdamW (optim='adamw_torch', weight_decay 0)"


def write_hf_state(tasks: dict[str, Task], plan: Plan, name: str) -> Sample:
    import transformers

    out_dir = OUT / "hf" / name
    trainer = hf_trainer(tasks, plan, out_dir, logging_steps=5)
    with quiet(), contextlib.redirect_stdout(io.StringIO()):
        trainer.train()
    trainer.save_state()
    state_path = out_dir / "trainer_state.json"
    logged = state_path.read_text()
    notes = (
        "log_history: loss, grad_norm, learning_rate every 5 steps, eval_loss every "
        f"{plan.eval_every}, a final train_loss summary; the logged learning_rate is the rate after "
        "the step, so a schedule's peak shows one logging step late or not at all"
    )
    if '"loss": 0.0' in logged:
        notes += "; after the loss turns NaN the Trainer logs loss 0.0 with grad_norm NaN"
    return Sample(
        rel(out_dir / "trainer_state.json"),
        "json",
        f"transformers {transformers.__version__} Trainer.save_state",
        plan,
        "loss",
        read_hf_state(state_path),
        True,
        notes,
        optimizer=hf_optimizer(plan),
    )


def write_hf_stdout(tasks: dict[str, Task], plan: Plan, name: str) -> Sample:
    """What transformers' Trainer prints with disable_tqdm=True (its PrinterCallback)."""
    import transformers

    path = OUT / "text" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = OUT / ".hf_scratch"
    trainer = hf_trainer(tasks, plan, scratch, logging_steps=10)
    buf = io.StringIO()
    with quiet(), contextlib.redirect_stdout(buf):
        trainer.train()
    shutil.rmtree(scratch, ignore_errors=True)
    path.write_text(buf.getvalue())
    printed = path.read_text()
    loss = all_matches(printed, r"\{'loss': '([^']+)'")
    lrs = all_matches(printed, r"'learning_rate': '([^']+)'")
    rb = Readback([float(i) for i in range(len(loss))], loss, lrs)
    return Sample(
        rel(path),
        "text",
        f"transformers {transformers.__version__} Trainer PrinterCallback (stdout captured)",
        plan,
        "loss",
        rb,
        True,
        "this version prints every value as a quoted string with 4 significant digits; no step key "
        "(epoch only); eval lines and a final summary with wall-clock runtimes",
        optimizer=hf_optimizer(plan),
    )


def write_keras(tasks: dict[str, Task], plan: Plan, name: str, epochs: int) -> Sample:
    import keras

    path = OUT / "keras" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    task = tasks[plan.task]
    keras.utils.set_random_seed(SEED)
    if plan.task == "digits":
        layers = [keras.Input((64,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10)]
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    else:
        layers = [keras.Input((30,)), keras.layers.Dense(1)]
        loss = keras.losses.BinaryCrossentropy(from_logits=True)
    model = keras.Sequential(layers)
    opt = keras.optimizers.SGD(plan.lr) if plan.optimizer == "sgd" else keras.optimizers.Adam(plan.lr)
    model.compile(optimizer=opt, loss=loss)
    callbacks: list[Any] = []
    if plan.schedule == "step_decay":
        base, every, gamma = plan.lr, plan.decay_every, plan.gamma
        callbacks.append(keras.callbacks.LearningRateScheduler(lambda e, lr: base * gamma ** (e // every)))
    callbacks.append(keras.callbacks.CSVLogger(str(path)))
    model.fit(
        task.x_train.numpy(),
        task.y_train.numpy(),
        validation_data=(task.x_val.numpy(), task.y_val.numpy()),
        epochs=epochs,
        batch_size=plan.batch,
        shuffle=True,
        verbose=0,
        callbacks=callbacks,
    )
    recorded = plan.schedule == "step_decay"
    rb = read_columns(path.read_text(), ",", "loss", "learning_rate" if recorded else None, "epoch")
    per_epoch = math.ceil(len(task.x_train) / plan.batch)
    notes = (
        f"Keras {keras.__version__} on the torch backend; {epochs} epochs of {per_epoch} steps; "
        "one row per epoch; Keras initialises its own weights (glorot uniform), so the label comes from "
        "the torch sweep of the same task and rate"
    )
    notes += "; learning_rate column from LearningRateScheduler (float32)" if recorded else "; no lr column"
    return Sample(
        rel(path),
        "csv",
        f"keras {keras.__version__} keras.callbacks.CSVLogger",
        replace(plan, steps=epochs * per_epoch),
        "loss",
        rb,
        recorded,
        notes,
    )


def write_mlflow(tasks: dict[str, Task], plans: list[tuple[Plan, str]]) -> list[Sample]:
    import mlflow

    store = OUT / "mlflow" / "mlruns"
    store.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(store.as_uri())
    exp = mlflow.set_experiment("breast_cancer_logreg")
    samples = []
    for plan, run_name in plans:
        with quiet(), mlflow.start_run(run_name=run_name, tags={"mlflow.user": "lrdoctor"}) as active:
            mlflow.log_params(
                {"optimizer": plan.optimizer, "lr": plan.lr, "steps": plan.steps, "batch_size": plan.batch}
            )

            def log(kind: str, step: int, values: dict[str, float]) -> None:
                ts = int((T0 + 0.01 * step) * 1000)
                if kind == "train":
                    mlflow.log_metrics({"train_loss": values["loss"], "lr": values["lr"]}, step=step, timestamp=ts)
                else:
                    mlflow.log_metric("val_loss", values["loss"], step=step, timestamp=ts)

            train(tasks[plan.task], plan, log)
        run_dir = store / exp.experiment_id / active.info.run_id
        rb = read_mlflow(run_dir, "train_loss", "lr")
        samples.append(
            Sample(
                rel(run_dir),
                "mlflow",
                f"mlflow-skinny {mlflow.__version__} log_metric, file store (MLFLOW_ALLOW_FILE_STORE=true)",
                plan,
                "train_loss",
                rb,
                True,
                f"run name {run_name!r}; metrics/train_loss, metrics/lr every step, "
                f"metrics/val_loss every {plan.eval_every}; params/lr; metric timestamps from a fixed clock",
            )
        )
    # Empty folders (.trash, artifacts/) cannot be committed; drop them so the tree matches a checkout.
    for folder in sorted(store.rglob("*"), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return samples


def write_wandb_run(tasks: dict[str, Task], plan: Plan, name: str) -> Sample:
    """The W&B client's own run file, written offline (no server, no account): the run folder
    wandb/offline-run-<time>-<id>/ with run-<id>.wandb, under sample_logs/wandb/<name>/."""
    import os

    import wandb

    root = OUT / "wandb" / name
    root.mkdir(parents=True, exist_ok=True)
    settings = wandb.Settings(
        mode="offline",
        silent=True,
        console="off",
        x_disable_stats=True,  # no system-metrics records
        x_disable_meta=True,  # no host, user or program path in the file
        disable_git=True,
        save_code=False,
    )
    os.environ["WANDB_DIR"] = str(root)
    run = wandb.init(
        project="lrdoctor-samples",
        id=name.replace("_", "-")[:32],
        dir=str(root),
        config={
            "task": plan.task,
            "optimizer": plan.optimizer,
            "lr": plan.lr,
            "batch_size": plan.batch,
        },
        settings=settings,
    )

    def log(kind: str, step: int, values: dict[str, float]) -> None:
        if kind == "train":
            run.log({"train/loss": values["loss"], "train/lr": values["lr"]}, step=step)
        else:
            run.log({"val/loss": values["loss"]}, step=step)

    with quiet():
        train(tasks[plan.task], plan, log)
        run.finish()
    (run_dir,) = (p for p in (root / "wandb").iterdir() if p.is_dir() and not p.is_symlink())
    # Only the run file is kept: the debug logs name this machine's paths, the rest is bookkeeping.
    for child in [*(root / "wandb").iterdir(), *run_dir.iterdir()]:
        if child == run_dir or child.suffix == ".wandb":
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    (path,) = run_dir.glob("*.wandb")
    return Sample(
        rel(run_dir),
        "wandb",
        f"wandb {wandb.__version__} offline (wandb.init(mode='offline'), run.log)",
        plan,
        "train/loss",
        read_wandb(path, "train/loss", "train/lr"),
        True,
        "the client's own run file (run-<id>.wandb, LevelDB-style log of protobuf records); train/loss and "
        f"train/lr every step, val/loss every {plan.eval_every}; the run folder keeps only that file",
    )
