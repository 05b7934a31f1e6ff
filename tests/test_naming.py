from __future__ import annotations

from pathlib import Path

import pytest

from lrdoctor import naming


@pytest.mark.parametrize(
    ("names", "loss"),
    [
        (["epoch", "loss", "val_loss", "learning_rate"], "loss"),
        (["step", "train_loss_epoch", "train_loss_step", "val_loss", "lr-Adam"], "train_loss_step"),
        (["train/loss", "eval/loss", "train/learning_rate"], "train/loss"),
        (["loss/train", "loss/val"], "loss/train"),
        (["Train Loss", "Valid Loss", "LR"], "Train Loss"),
        (["trl", "tel"], "trl"),
        (["total_loss", "loss_cls", "loss_box_reg", "lr"], "total_loss"),
        (["Conductor_Copper_loss", "mean_loss", "initial_phi_port_port1_loss"], "mean_loss"),
        (["eval_g0_loss", "eval_g1_loss", "loss", "epoch"], "loss"),
        (["progress/loss", "train_loss"], "train_loss"),
        (["run-1 - loss", "run-1 - loss__MIN", "run-1 - loss__MAX"], "run-1 - loss"),
        (["epoch_loss", "epoch_accuracy"], "epoch_loss"),
        (["train_loss_nats_per_byte", "validation_loss_nats_per_byte"], "train_loss_nats_per_byte"),
        (["accuracy", "val_accuracy"], None),
        (["val_loss", "eval_loss"], None),
        (["epoch", "train_mse", "val_mse", "lr"], "train_mse"),
        (["step", "train/ce", "val/ce"], "train/ce"),
        (["loss", "mse", "val_loss", "val_mse"], "loss"),  # Keras: the loss before a metric
        (["mse_weight", "accuracy"], None),
        (["mse", "mae"], None),  # metrics, or the loss by another name: not said
        # ... but beside a counter or a rate, a training's table: its measure is its loss
        (["step", "mse", "lr"], "mse"),
        (["epoch", "cross_entropy", "val_cross_entropy"], "cross_entropy"),
        (["step", "bce"], "bce"),
        (["step", "objective", "lr"], "objective"),
        (["step", "val_mse", "lr"], None),
        # mixed precision's loss scale, a weight, a GAN's discriminator scores: no loss
        (["step", "attempted_loss_scale", "loss_scale_window", "ppl"], None),
        (["iter", "loss_weight", "l_mos"], None),
        (["step", "loss_gamma", "focal_loss_alpha", "lr"], None),  # a loss's parameters
        (["Loss/scores/fake/mean", "Loss/G/loss/mean", "Loss/D/loss/mean"], "Loss/G/loss/mean"),
        (["loss", "loss_scale"], "loss"),
    ],
)
def test_find_loss(names: list[str], loss: str | None) -> None:
    assert naming.find_loss(names) == loss


@pytest.mark.parametrize(
    ("names", "val"),
    [
        (["loss", "val_loss", "val_accuracy"], "val_loss"),
        (["train/loss", "eval/loss"], "eval/loss"),
        (["trl", "tel"], "tel"),
        (["loss", "eval_loss", "eval_runtime"], "eval_loss"),
        (["loss", "accuracy"], None),
    ],
)
def test_find_val_loss(names: list[str], val: str | None) -> None:
    assert naming.find_val_loss(names) == val


@pytest.mark.parametrize(
    ("names", "lr"),
    [
        (["loss", "lr"], "lr"),
        (["loss", "learning_rate"], "learning_rate"),
        (["lr-Adam/pg2", "lr-Adam/pg1", "lr-Adam"], "lr-Adam"),
        (["lr-SGD-momentum", "train_loss"], "lr-SGD-momentum"),
        (["lr/group1", "lr/group0"], "lr/group0"),
        (["train/learning_rate", "train/loss"], "train/learning_rate"),
        (["LR", "Train Loss"], "LR"),
        (["loss_scale", "grad_norm"], None),
        (["lr_scale", "warmup_lr_ratio"], None),
    ],
)
def test_find_lr(names: list[str], lr: str | None) -> None:
    assert naming.find_lr(names) == lr


def test_val_loss_prefers_validation_over_a_single_test_value() -> None:
    names = ["train_loss", "valid_loss", "test_loss"]
    assert naming.find_val_loss(names, "train_loss", {"valid_loss": 20, "test_loss": 1}) == "valid_loss"
    assert naming.find_val_loss(["loss", "test_loss"]) == "test_loss"


def test_a_measure_judged_as_the_loss_pairs_with_its_own_held_out_twin() -> None:
    """Keras' appended runs under one header: '--metric mean_squared_error' had been paired with
    'val_loss', which in the judged run held another quantity, not 'val_mean_squared_error'."""
    names = ["loss", "mean_squared_error", "val_loss", "val_mean_squared_error"]
    assert naming.find_val_loss(names, "mean_squared_error") == "val_mean_squared_error"
    assert naming.find_val_loss(names, "loss") == "val_loss"
    assert naming.find_val_loss(["accuracy", "val_loss"], "accuracy") == "val_loss"  # no twin: as before
    assert naming.find_val_loss(["epoch", "mse", "test_mse", "val_mse"], "mse") == "val_mse"  # validation first


def test_add_hparams_summaries_get_no_role() -> None:
    # TensorBoard's add_hparams writes its metrics as hparam/<name>, one point in a folder of its own.
    names = ["1795934157.78/hparam/val_loss", "train/loss", "val/loss", "1795934157.78/hparam/lr", "lr"]
    assert naming.find_loss(names) == "train/loss"
    assert naming.find_val_loss(names, "train/loss") == "val/loss"
    assert naming.find_lr(names) == "lr"
    assert naming.find_val_loss(["1795934157.78/hparam/val_loss", "loss"], "loss") is None


@pytest.mark.parametrize("run", ["sweep lr=3e-4", "lr-0.001", "test-run-3", "dev", "val-b"])
def test_a_wandb_run_name_does_not_decide_a_role(run: str) -> None:
    # W&B exports name columns '<run> - <metric>': the run's name is not the metric's role.
    names = [f"{run} - train/loss", f"{run} - train/loss__MIN", f"{run} - val/loss", f"{run} - lr"]
    assert naming.find_loss(names) == f"{run} - train/loss"
    assert naming.find_val_loss(names, f"{run} - train/loss") == f"{run} - val/loss"
    assert naming.find_lr(names) == f"{run} - lr"
    assert naming.find_lr([f"{run} - train/loss"]) is None


def test_a_loss_is_never_the_rate() -> None:
    assert naming.find_lr(["lr_loss", "loss"]) is None


def test_a_per_batch_loss_beside_a_sparser_epoch_loss_is_judged() -> None:
    counts = {"loss": 10, "batch_loss": 1000, "train/loss": 10, "train/loss_step": 1000}
    assert naming.find_loss(["loss", "batch_loss"], counts) == "batch_loss"
    assert naming.find_loss(["train/loss", "train/loss_step"], counts) == "train/loss_step"
    # As dense as the likelier name, or with no count: the likelier name.
    assert naming.find_loss(["loss", "batch_loss"], {"loss": 1000, "batch_loss": 1000}) == "loss"
    assert naming.find_loss(["loss", "batch_loss"]) == "loss"
    # Lightning's per-epoch mean is never preferred for being denser.
    assert naming.find_loss(
        ["train_loss_step", "train_loss_epoch"], {"train_loss_step": 2, "train_loss_epoch": 60}
    ) == ("train_loss_step")


def test_a_header_of_role_then_split_keeps_both_parts() -> None:
    names = ["Epoch", "Loss - Train", "Loss - Val", "Learning Rate - Group 0"]
    assert naming.find_loss(names) == "Loss - Train"
    assert naming.find_val_loss(names, "Loss - Train") == "Loss - Val"
    assert naming.find_lr(names) == "Learning Rate - Group 0"
    assert naming.find_lr(["lr-0.001 - epoch", "lr-0.001 - loss"]) is None  # a W&B run named for its rate
    assert naming.find_val_loss(["Epoch", "Train - Loss", "Val - Loss"], "Train - Loss") == "Val - Loss"
    assert naming.find_loss(["Epoch", "Train - Loss", "Val - Loss"]) == "Train - Loss"


@pytest.mark.parametrize("run", ["test", "eval", "val", "train"])
def test_a_wandb_run_named_like_a_role_is_still_a_run(run: str) -> None:
    names = [f"{run} - train/loss", f"{run} - train/loss__MIN", f"{run} - train/lr"]
    assert naming.find_loss(names) == f"{run} - train/loss"
    assert naming.find_lr(names) == f"{run} - train/lr"


def test_a_denser_loss_of_another_quantity_is_not_taken() -> None:
    counts = {"train_loss": 10, "kl_loss_step": 100, "kl_loss_epoch": 10}
    assert naming.find_loss(["train_loss", "kl_loss_step", "kl_loss_epoch"], counts) == "train_loss"


def test_a_validation_loss_of_the_training_loss_quantity_pairs_with_it() -> None:
    assert naming.find_val_loss(["train_mse", "val_mae", "val_mse"], "train_mse") == "val_mse"
    assert naming.find_val_loss(["train_mae", "val_mae", "val_mse"], "train_mae") == "val_mae"
    assert naming.find_val_loss(["loss", "val_total_loss", "val_loss"], "loss") == "val_loss"
    assert naming.find_val_loss(["train_loss", "val_mse", "val_acc"], "train_loss") is None  # a metric
    assert naming.find_val_loss(["train_mse", "val_loss_mae"], "train_mse") is None  # another measure
    assert naming.find_val_loss(["train_loss_mse", "val_loss_mae", "val_loss_mse"], "train_loss_mse") == "val_loss_mse"
    for loss in ("val_nll", "val_ce", "val_bce", "val_xent", "val_loss_mse"):  # losses by their names: they pair
        assert naming.find_val_loss(["train_loss", loss], "train_loss") == loss
    assert naming.find_val_loss(["train_loss", "val_mse", "val_loss"], "train_loss") == "val_loss"


def test_a_denser_training_loss_beside_a_sparse_plain_one_is_judged() -> None:
    """'loss_train' at every epoch of nine runs beside a closing 'loss' of nine points."""
    names = ["loss_train", "loss_val", "loss"]
    assert naming.find_loss(names, {"loss_train": 900, "loss_val": 900, "loss": 9}) == "loss_train"
    assert naming.find_loss(names, {"loss_train": 900, "loss_val": 900, "loss": 900}) == "loss"


def test_add_scalars_series_take_their_role_from_the_key() -> None:
    assert naming.add_scalars_parts("loss_train/loss") == ("loss", "train")
    assert naming.add_scalars_parts("Loss_epoch_val/Loss/epoch") == ("Loss/epoch", "val")
    assert naming.add_scalars_parts("train/loss") is None and naming.add_scalars_parts("loss") is None
    both = "Training vs. Validation Loss"
    names = [f"{both}_Training/{both}", f"{both}_Validation/{both}"]
    assert naming.find_loss(names) == names[0] and not naming.is_eval(names[0]) and naming.is_eval(names[1])


@pytest.mark.parametrize(
    ("path", "found"),
    [
        ("/r/runs/char_gru/rmsprop_constant/lr3.16e-01_s0/events.out.tfevents.1", (0.316, "lr3.16e-01_s0")),
        ("/r/multirun/2024-01-01/optimizer.lr=0.01,seed=1/metrics.csv", (0.01, "optimizer.lr=0.01,seed=1")),
        ("/r/sweep/learning_rate-1e-3.csv", (0.001, "learning_rate-1e-3.csv")),
        ("/r/run_lr1e-3_bs32.jsonl.gz", (0.001, "run_lr1e-3_bs32.jsonl.gz")),
        ("/r/runs/exp_LR5e-4/version_0", (0.0005, "exp_LR5e-4")),
        ("/r/a/lr=0.1/b/lr=0.01.csv", (0.01, "lr=0.01.csv")),  # the nearest name that holds one
        ("/r/runs/lr0.01/lightning_logs/version_0/metrics.csv", (0.01, "lr0.01")),  # Lightning's folders below
        ("/r/x/max_lr0.1/log.csv", (0.1, "max_lr0.1")),  # OneCycle's peak: the rate trained at
        # A side rate beside the one trained at, in a Hydra folder: only the latter.
        ("/r/m/optimizer.lr=0.01,scheduler.min_lr=1e-5/metrics.csv", (0.01, "optimizer.lr=0.01,scheduler.min_lr=1e-5")),
        ("/r/m/scheduler.min_lr=1e-06/metrics.csv", None),  # a sweep over the floor of a schedule
        ("/r/x/warmup-lr1e-6/log.csv", None),
        ("/r/x/final_lr_0.001/log.csv", None),
        ("/r/x/clr0.1/log.csv", None),  # another word ending in 'lr'
        ("/r/x/lr_schedule/log.csv", None),  # no number
        ("/r/x/lr0.0/log.csv", None),  # no rate trains at 0
        ("/r/runs/lr5/log.csv", None),  # a bare integer: a version or a shorthand as often ('lr-4')
        ("/r/x/lr-4_bs32/log.csv", None),
        ("/r/lr0.1_lr0.2/log.csv", None),  # two rates in the nearest name: which?
        ("/home/lr2.0/proj/a/b/log.csv", None),  # above the run's folders: a user's or a project's name
        ("/r/x/lr2.5abc/log.csv", None),  # a number followed by more of the word
        ("/r/runs/lr1e-3_s0/../log.csv", None),  # not in that folder
        ("-", None),
        ("<stdin>", None),
    ],
)
def test_rate_in_path(path: str, found: tuple[float, str] | None) -> None:
    assert naming.rate_in_path(path) == found


def test_rate_in_a_relative_path_is_read_from_the_folder_it_stands_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'lrdoctor diagnose log.csv' run inside the run's folder: the folder's name counts, as it does
    when the log is named by its full path."""
    run = tmp_path / "lr1e-3_s0"
    run.mkdir()
    monkeypatch.chdir(run)
    assert naming.rate_in_path("log.csv") == naming.rate_in_path(str(run / "log.csv")) == (0.001, "lr1e-3_s0")


def test_a_count_of_loss_points_is_no_loss() -> None:
    """A listing's 'loss_points' (how many points a log held) or 'num_loss_points' is a count."""
    assert naming.find_loss(["loss_points", "lr"]) is None
    assert naming.find_loss(["num_loss_points", "n_loss_samples", "loss_count", "lr"]) is None
    assert naming.find_loss(["loss_points", "train_loss"]) == "train_loss"
    assert naming.find_loss(["num_epochs", "loss"]) == "loss"
