"""The probe on tiny models: the rate it picks, the user's objects left alone, every batch and optimizer shape."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from lrdoctor.errors import ProbeError
from lrdoctor.probe import ProbeOptions, probe_parts
from lrdoctor.probe.engine import Trainer
from lrdoctor.probe.spec import check_parts, load_parts

FAST = ProbeOptions(steps=120)


def _linear_parts(path: object, func: str = "make") -> dict:
    parts = load_parts(f"{path}:{func}")
    return {k: getattr(parts, k) for k in ("model", "loss_fn", "batches", "optimizer", "val_batches")}


def test_linear_regression_pick_is_stable_and_fast(linear) -> None:
    # SGD on this least-squares problem is stable up to about lr 1 and slow below 0.1 (conftest).
    result = probe_parts(_linear_parts(linear), options=FAST)
    assert 0.1 <= result.recommended_lr <= 1.0
    assert result.steps_used <= 120
    assert result.limit is not None and result.recommended_lr < result.limit
    assert result.scored_on == "val_batches"
    # The trials sit on the half-decade grid 10**(k/2); the pick is within a quarter decade of the best.
    for t in result.trials:
        assert math.log10(t.lr) * 2 == pytest.approx(round(math.log10(t.lr) * 2))
    best = min(result.trials, key=lambda t: t.loss).lr
    assert abs(math.log10(result.recommended_lr / best)) <= 0.25 + 1e-9
    # The ramp covers the default range from 1e-6 upwards, exponentially.
    assert result.lrs[0] == pytest.approx(1e-6)
    assert result.lrs[1] / result.lrs[0] == pytest.approx(result.lrs[2] / result.lrs[1])


@pytest.mark.parametrize(
    ("options", "note"),
    [
        (FAST, None),  # the best has a worse rate on each side: nothing to say
        (
            ProbeOptions(steps=120, max_lr=1e-2),
            "the highest rate tried, still the best: the best rate may lie above it; give a higher --max-lr",
        ),
        (
            ProbeOptions(steps=40, max_lr=1.0),
            "the lowest rate tried, still the best: the best rate may lie below it; give a larger --steps",
        ),
        (
            ProbeOptions(steps=30, max_lr=1.0),
            "the only rate tried: the best rate may lie above or below it; give a larger --steps",
        ),
    ],
)
def test_a_pick_at_the_edge_of_the_rates_tried_is_said(linear, options: ProbeOptions, note: str | None) -> None:
    # SGD here is best between 0.1 and 1 (conftest): a range up to 1e-2 ends below that; a range
    # up to 1 with a budget of 40 steps tries 0.316 and 1 only, of 30 steps 0.316 only.
    result = probe_parts(_linear_parts(linear), options=options)
    edge = [n for n in result.notes if n.startswith("the pick")]
    assert edge == ([] if note is None else [f"the pick {result.recommended_lr:.3g} is {note}"])
    assert not result.no_gain


def test_a_model_no_rate_can_improve_is_said_to_gain_nothing(linear) -> None:
    # At the weights the data were drawn with, every trial scores within the noise of the initial
    # weights' score: the pick reads that noise, and the result says so.
    trained = probe_parts(_linear_parts(linear, "make_trained"), options=FAST)
    assert trained.no_gain
    (note,) = [n for n in trained.notes if n.startswith("no rate tried scored measurably below")]
    assert "the pick rests on none of them" in note and "standard errors" in note
    # From fresh weights the best trial is far below the initial weights' score.
    fresh = probe_parts({**_linear_parts(linear, "make_trained"), "model": nn.Linear(4, 1)}, options=FAST)
    assert not fresh.no_gain and not any(n.startswith("no rate tried") for n in fresh.notes)


def test_paired_z_measures_a_fall_against_its_batch_to_batch_spread() -> None:
    from lrdoctor.probe.search import paired_z

    assert paired_z([1.0, 2.0, 3.0, 4.0], [0.5, 1.5, 2.5, 3.5]) == math.inf  # every batch fell alike
    assert paired_z([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 0.0
    assert math.isnan(paired_z([1.0, 2.0], [0.0, 0.0]))  # two differences: no spread to trust
    # differences 0.1, -0.1, 0.2, 0: mean 0.05, squared deviations summing to 0.05 over 3 degrees of freedom
    z = paired_z([1.0, 1.0, 1.0, 1.0], [0.9, 1.1, 0.8, 1.0])
    assert z == pytest.approx(0.05 / (math.sqrt(0.05 / 3) / 2))
    assert paired_z([1.0, 1.0, 1.0], [1.1, 1.2, 1.3]) < 0  # it rose


def test_user_model_optimizer_and_rng_are_left_byte_identical() -> None:
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x, y = torch.randn(64, 3), torch.randn(64, 1)
    nn.functional.mse_loss(model(x), y).backward()
    opt.step()  # momentum buffers exist now
    before_model = {k: v.clone() for k, v in model.state_dict().items()}
    before_opt = opt.state_dict()
    before_bufs = {k: v["momentum_buffer"].clone() for k, v in before_opt["state"].items()}
    rng = torch.get_rng_state()
    batches = [(x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)]

    result = probe_parts({"model": model, "loss_fn": nn.MSELoss(), "batches": batches, "optimizer": opt}, options=FAST)

    assert result.recommended_lr > 0
    after = model.state_dict()
    assert after.keys() == before_model.keys()
    for k, v in before_model.items():  # exact: same dtype, shape and bytes
        assert after[k].dtype == v.dtype and torch.equal(after[k], v), k
    assert model.training  # mode untouched
    state = opt.state_dict()
    assert state["param_groups"] == before_opt["param_groups"]
    for k, buf in before_bufs.items():
        assert torch.equal(state["state"][k]["momentum_buffer"], buf)
    assert all(p.grad is not None for p in model.parameters())  # the user's grads are still there
    assert torch.equal(torch.get_rng_state(), rng)


class TinyLM(nn.Module):
    """Takes keyword arguments and returns an object with `.loss`, as HuggingFace models do."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 8)
        self.head = nn.Linear(8, 10)

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor) -> SimpleNamespace:
        logits = self.head(self.emb(input_ids))
        return SimpleNamespace(logits=logits, loss=nn.functional.cross_entropy(logits.view(-1, 10), labels.view(-1)))


def test_dict_batches_and_a_model_returning_loss() -> None:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 10, (128, 6), generator=g)
    batches = [{"input_ids": ids[i : i + 16], "labels": (ids[i : i + 16] + 1) % 10} for i in range(0, 128, 16)]
    torch.manual_seed(0)
    result = probe_parts({"model": TinyLM(), "batches": batches}, options=FAST)
    assert "held-back" in result.scored_on  # no val_batches: scored on held-back training batches
    best = min(t.loss for t in result.trials)
    assert math.isfinite(best) and best < math.log(10)  # learned something below chance
    assert result.steps_used <= 120


def test_pairs_of_an_input_dict_and_labels_for_a_model_that_computes_its_loss() -> None:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 10, (128, 6), generator=g)
    batches = [({"input_ids": ids[i : i + 16]}, (ids[i : i + 16] + 1) % 10) for i in range(0, 128, 16)]
    torch.manual_seed(0)
    result = probe_parts({"model": TinyLM(), "batches": batches}, options=FAST)
    assert min(t.loss for t in result.trials) < math.log(10)


class DictNet(nn.Module):
    """Takes a dict and the target as two arguments and returns its own loss (no `labels`)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 1)

    def forward(self, inputs: dict, target: torch.Tensor) -> torch.Tensor:
        return nn.functional.mse_loss(self.fc(inputs["image"]), target)


def test_pairs_of_a_dict_and_a_target_for_a_model_without_labels_go_as_two_arguments() -> None:
    torch.manual_seed(0)
    x = torch.randn(128, 4)
    batches = [({"image": x[i : i + 32]}, x[i : i + 32].sum(1, keepdim=True)) for i in range(0, 128, 32)]
    result = probe_parts({"model": DictNet(), "batches": batches}, options=FAST)
    assert math.isfinite(min(t.loss for t in result.trials))


class TupleNet(nn.Module):
    """Returns (prediction, scalar) as nanoGPT's (logits, loss) does, and as a model returning an
    auxiliary term beside its output does too."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.fc(x)
        return out, nn.functional.mse_loss(out, y)


def test_a_loss_taken_from_a_tuple_the_model_returned_is_named_in_a_note() -> None:
    """The one scalar of a returned tuple is taken as the loss: said, so that an auxiliary term
    returned beside the logits is not trained on unseen."""
    torch.manual_seed(0)
    x = torch.randn(128, 4)
    batches = [(x[i : i + 32], x[i : i + 32].sum(1, keepdim=True)) for i in range(0, 128, 32)]
    result = probe_parts({"model": TupleNet(), "batches": batches}, options=FAST)
    assert [n for n in result.notes if "tuple" in n] == [
        "the model returned a tuple: its scalar element 2 of 2 was taken as the loss; "
        "if that is not the training loss, return 'loss_fn' from the factory"
    ]
    plain = probe_parts({"model": DictNet(), "batches": [({"image": a}, b) for a, b in batches]}, options=FAST)
    assert not any("tuple" in n for n in plain.notes)


class LossAndAccuracy(nn.Module):
    """Returns (loss, accuracy): two scalars, the loss the one that requires grad."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.fc(x)
        return nn.functional.cross_entropy(logits, y), (logits.argmax(1) == y).float().mean()


def test_the_loss_of_a_tuple_is_the_scalar_that_requires_grad_and_stays_where_it_was() -> None:
    """(loss, accuracy) had been refused as a tuple 'with no loss in it'; and (prediction, loss),
    whose last batch held one sample, failed there: its prediction had one element too."""
    torch.manual_seed(0)
    x = torch.randn(130, 4)
    labels = (x[:, 0] > 0).long()
    batches = [(x[i : i + 32], labels[i : i + 32]) for i in range(0, 130, 32)]
    result = probe_parts({"model": LossAndAccuracy(), "batches": batches}, options=FAST)
    assert any("its scalar element 1 of 2 was taken as the loss" in n for n in result.notes)
    targets = x.sum(1, keepdim=True)
    odd = [(x[i : i + 32], targets[i : i + 32]) for i in range(0, 130, 32)]  # the last batch holds 2 rows
    odd[-1] = (x[128:129], targets[128:129])  # ... now one
    result = probe_parts({"model": TupleNet(), "batches": odd}, options=FAST)
    assert any("its scalar element 2 of 2 was taken as the loss" in n for n in result.notes)


class TwoLosses(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.fc(x)
        return nn.functional.mse_loss(out, y), nn.functional.l1_loss(out, y)


def test_a_tuple_of_two_losses_is_refused_naming_its_scalars() -> None:
    torch.manual_seed(0)
    x = torch.randn(64, 4)
    batches = [(x[i : i + 32], x[i : i + 32].sum(1, keepdim=True)) for i in range(0, 64, 32)]
    with pytest.raises(ProbeError, match=r"elements 1, 2 are all scalars, and which of them is the loss"):
        probe_parts({"model": TwoLosses(), "batches": batches}, options=FAST)


def _two_layers() -> tuple[nn.Module, list]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    x = torch.randn(128, 4)
    return model, [(x[i : i + 32], x[i : i + 32].sum(1, keepdim=True)) for i in range(0, 128, 32)]


def test_an_optimizer_whose_warmup_scheduler_set_its_rate_to_zero_is_probed_at_its_own_rates() -> None:
    model, batches = _two_layers()
    opt = torch.optim.SGD([{"params": model[0].parameters(), "lr": 0.0}, {"params": model[2].parameters(), "lr": 0.01}])
    torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, step / 100))  # every group at 0 now
    assert [g["lr"] for g in opt.param_groups] == [0.0, 0.0]
    result = probe_parts({"model": model, "loss_fn": nn.MSELoss(), "batches": batches, "optimizer": opt}, options=FAST)
    assert result.group_lrs[0] == 0.0 and result.group_lrs[1] == result.recommended_lr  # the frozen group stays
    assert len({t.loss for t in result.trials}) > 1  # the rates tried made a difference
    zero = torch.optim.SGD(model.parameters(), lr=0.0)
    with pytest.raises(ProbeError, match="every parameter group of 'optimizer' has learning rate 0"):
        probe_parts({"model": model, "loss_fn": nn.MSELoss(), "batches": batches, "optimizer": zero}, options=FAST)


@pytest.mark.parametrize(
    "attach",
    [
        lambda opt: torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1),  # a warmup from a tenth
        lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, step / 100)),  # ... from 0
        # (cycle_momentum would set SGD's momentum too: another optimizer than the plain one)
        lambda opt: torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=opt.defaults["lr"], total_steps=300, cycle_momentum=False
        ),
    ],
)
def test_a_factory_that_attaches_a_scheduler_is_probed_at_the_schedules_peak(linear, attach) -> None:
    # A scheduler sets the groups' rates when it is built (to a tenth, to 0, to max_lr / 25) and the
    # probe never steps it: its trials had run there while reporting the rate given (3.16 where
    # the plain factory picks 0.316), or it refused the factory as one that ignores its lr.
    plain = probe_parts(_linear_parts(linear), options=FAST)

    def scheduled(params: object, lr: float) -> torch.optim.Optimizer:
        opt = torch.optim.SGD(params, lr=lr)  # type: ignore[arg-type]
        attach(opt)
        return opt

    result = probe_parts({**_linear_parts(linear), "optimizer": scheduled}, options=FAST)
    assert result.recommended_lr == plain.recommended_lr and result.group_lrs == (result.recommended_lr,)
    assert [t.loss for t in result.trials] == [t.loss for t in plain.trials]
    assert any(n.startswith("the optimizer factory attaches a learning-rate scheduler") for n in result.notes)
    assert not any("scheduler" in n for n in plain.notes)


def test_a_gain_is_read_as_a_share_of_each_batchs_loss() -> None:
    from lrdoctor.probe.search import gain_z, paired_z

    # A validation set in order of its targets' scale: every batch fell 16x to 25x, by amounts
    # so unlike that their differences' spread hid the fall (z 2.2).
    before, after = [10.1, 54.5, 143.0, 244.0], [0.43, 2.17, 7.31, 15.0]
    assert paired_z(before, after) < 3 < gain_z(before, after)
    # A loss that can be negative (a log-likelihood) is compared by its differences.
    assert gain_z([-1.0, 2.0, 3.0], [-2.0, 1.0, 2.0]) == paired_z([-1.0, 2.0, 3.0], [-2.0, 1.0, 2.0])


def test_several_parameter_groups_keep_their_ratios() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))

    def two_groups(params: object, lr: float) -> torch.optim.Optimizer:
        params = list(params)  # type: ignore[call-overload]
        return torch.optim.SGD([{"params": params[:2]}, {"params": params[2:], "lr": lr / 10}], lr=lr)

    x = torch.randn(128, 4)
    batches = [(x[i : i + 32], x[i : i + 32].sum(1, keepdim=True)) for i in range(0, 128, 32)]
    result = probe_parts(
        {"model": model, "loss_fn": nn.MSELoss(), "batches": batches, "optimizer": two_groups}, options=FAST
    )
    assert len(result.group_lrs) == 2
    assert result.group_lrs[0] == result.recommended_lr
    assert result.group_lrs[1] == pytest.approx(result.recommended_lr / 10)


def test_a_group_at_a_rate_of_its_own_keeps_it_in_the_range_test_and_the_trials() -> None:
    model, batches = _two_layers()
    seen: list[list[float]] = []  # each group's rate at every optimizer step the probe takes

    class Recording(torch.optim.SGD):
        def step(self, closure: object = None) -> object:  # type: ignore[override]
            seen.append([g["lr"] for g in self.param_groups])
            return super().step(closure)  # type: ignore[arg-type]

    def fine_tune(params: object, lr: float) -> torch.optim.Optimizer:  # the backbone at a fixed rate
        return Recording([{"params": model[2].parameters()}, {"params": model[0].parameters(), "lr": 1e-3}], lr=lr)

    parts = {"model": model, "loss_fn": nn.MSELoss(), "batches": batches, "optimizer": fine_tune}
    result = probe_parts(parts, options=FAST)
    assert {rates[1] for rates in seen} == {1e-3}  # in the range test and in every trial
    assert [rates[0] for rates in seen[:10]] == pytest.approx(result.lrs[:10])  # the head follows the ramp
    assert result.group_lrs == (result.recommended_lr, 1e-3)  # as the factory builds them at the pick


def test_a_group_whose_rate_is_no_multiple_of_lr_is_set_by_the_factory_at_each_rate() -> None:

    model, batches = _two_layers()

    def floored(params: object, lr: float) -> torch.optim.Optimizer:
        return torch.optim.SGD(
            [{"params": model[2].parameters()}, {"params": model[0].parameters(), "lr": max(lr, 1e-4)}], lr=lr
        )

    parts = check_parts("t", {"model": model, "loss_fn": nn.MSELoss(), "batches": batches, "optimizer": floored})
    trainer = Trainer(parts, device="cpu", amp=False, accum=1)
    assert trainer.ramp_rates([1e-6, 1e-5, 1e-3, 1.0]) == [[1e-6, 1e-4], [1e-5, 1e-4], [1e-3, 1e-3], [1.0, 1.0]]


def test_an_optimizer_instance_over_the_users_model_is_rebuilt_on_the_copy() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = torch.optim.Adam(
        [{"params": model[0].parameters(), "lr": 1e-3}, {"params": model[2].parameters(), "lr": 3e-3}]
    )
    x = torch.randn(128, 4)
    batches = [(x[i : i + 32], x[i : i + 32].sum(1, keepdim=True)) for i in range(0, 128, 32)]
    result = probe_parts({"model": model, "loss_fn": nn.MSELoss(), "batches": batches, "optimizer": opt}, options=FAST)
    assert result.group_lrs[1] == pytest.approx(3 * result.group_lrs[0])
    assert [g["lr"] for g in opt.param_groups] == [1e-3, 3e-3]
    assert opt.state == {} or all(not s for s in opt.state.values())


def test_accumulation_and_amp_run_and_count_optimizer_steps(linear) -> None:
    result = probe_parts(_linear_parts(linear), options=ProbeOptions(steps=60, accum=2, amp=True))
    assert result.steps_used <= 60
    assert 0.01 <= result.recommended_lr <= 1.0


@pytest.mark.parametrize(
    ("name", "dtype", "scaled"), [("float16", torch.float16, True), ("bfloat16", torch.bfloat16, False)]
)
def test_amp_dtype_chooses_the_autocast_type_and_float16_scales_the_loss(linear, name, dtype, scaled) -> None:
    parts = check_parts("linear_probe.py:make", _linear_parts(linear))
    trainer = Trainer(parts, device="cpu", amp=True, accum=1, amp_dtype=name)
    assert trainer.amp_dtype is dtype and trainer.scaler.is_enabled() is scaled
    assert Trainer(parts, device="cpu", amp=True, accum=1).amp_dtype is torch.bfloat16  # the CPU's default
    # The type alone turns autocast on; the pick is float32's within a grid step.
    half = probe_parts(_linear_parts(linear), options=ProbeOptions(steps=120, amp_dtype=name))
    full = probe_parts(_linear_parts(linear), options=ProbeOptions(steps=120))
    assert all(math.isfinite(v) for v in half.losses[:10])
    assert half.losses[0] != full.losses[0]  # the first loss computed in the lower precision
    assert half.losses[0] == pytest.approx(full.losses[0], rel=0.02)
    assert 10**-0.5 <= half.recommended_lr / full.recommended_lr <= 10**0.5 * (1 + 1e-9)


def test_validation_mode_records_the_validation_loss_on_the_ramp(linear) -> None:
    result = probe_parts(_linear_parts(linear), options=ProbeOptions(steps=60, val=True))
    # The first ramp point is the validation loss after one step at 1e-6: the initial val loss.
    assert result.losses[0] > 1.0
    assert 0.1 <= result.recommended_lr <= 1.0


def test_same_seed_same_answer(linear) -> None:
    a = probe_parts(_linear_parts(linear), options=FAST)
    b = probe_parts(_linear_parts(linear), options=FAST)
    assert a.recommended_lr == b.recommended_lr and a.losses == b.losses


def test_wrapped_models_are_seen_to_take_labels() -> None:
    from lrdoctor.probe.engine import _takes_labels

    class Wrapper(nn.Module):  # as PEFT's PeftModel: forward(*args, **kwargs) passed on
        def __init__(self) -> None:
            super().__init__()
            self.inner = TinyLM()

        def forward(self, *args: object, **kwargs: object) -> object:
            return self.inner(*args, **kwargs)

    compiled = SimpleNamespace(_orig_mod=TinyLM())  # what torch.compile's wrapper holds
    assert _takes_labels(TinyLM()) and _takes_labels(Wrapper()) and _takes_labels(compiled)  # type: ignore[arg-type]
    assert not _takes_labels(DictNet())


def test_an_adapter_with_arguments_of_its_own_is_called_with_them() -> None:
    from lrdoctor.probe.engine import _takes_labels

    class Adapter(nn.Module):  # keeps an HF-style model as .module, takes (inputs, targets)
        def __init__(self) -> None:
            super().__init__()
            self.module = TinyLM()

        def forward(self, inputs: dict, targets: torch.Tensor, **kwargs: object) -> object:
            return self.module(**inputs, labels=targets)

    assert not _takes_labels(Adapter())


def test_one_minibatch_is_scored_on_and_says_it_trained_on_it() -> None:
    """With one minibatch there is none to hold back: the trials are scored on the batch they train
    on, and scored_on says so (it said 'held-back training batches')."""
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 10, (16, 6), generator=g)
    torch.manual_seed(0)
    result = probe_parts({"model": TinyLM(), "batches": [{"input_ids": ids, "labels": (ids + 1) % 10}]}, options=FAST)
    assert "held-back" not in result.scored_on and "trained on" in result.scored_on


def test_each_trial_starts_from_the_buffers_kept_out_of_the_state_dict(linear) -> None:
    """A buffer registered with persistent=False (an annealing step count) is not in the state dict:
    trials had started with the count the trial before left (29, 44, 59), not from 0."""

    class Counted(nn.Module):
        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.inner = inner
            self.register_buffer("t", torch.zeros(()), persistent=False)
            self.seen: list[int] = []

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if self.training:
                self.seen.append(int(self.t))
                self.t += 1
            return self.inner(x)

    parts = _linear_parts(linear)
    parts["model"] = Counted(parts["model"])
    seen: list[list[int]] = []
    original = Trainer.restart

    def restart(self: Trainer, lr: float) -> None:
        original(self, lr)
        seen.append(self.model.seen)
        self.model.seen = []

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Trainer, "restart", restart)
        probe_parts(parts, options=FAST)
    trials = [s for s in seen[1:] if s]  # each restart's forwards (the first restart opens the range test)
    assert len(trials) >= 2 and all(s[0] == 0 for s in trials)
    assert int(parts["model"].t) == 0  # the user's model untouched


def test_a_factory_may_return_a_namedtuple_as_an_object_with_the_keys_as_attributes(linear) -> None:
    """CONTRACT.md: 'a dict (or an object with these attributes)'. A namedtuple is such an object;
    it had been refused as a tuple. A plain tuple still is."""
    from collections import namedtuple

    parts = _linear_parts(linear)
    Setup = namedtuple("Setup", list(parts))
    checked = check_parts("t", Setup(**parts))
    assert checked.model is parts["model"] and checked.batches is parts["batches"]
    with pytest.raises(ProbeError, match="the factory returned a tuple"):
        check_parts("t", tuple(parts.values()))


def test_trials_that_all_ended_far_above_the_initial_weights_diverged(linear) -> None:
    """Every trial's score ending 4x the initial weights' or more (the range test's own divergence
    stop) is every rate diverging, with finite losses: it had exited 0 recommending the rate that
    scored 3360x the initial loss (a budget of 40 steps tries 1 and 3.16 only). The advice names
    what kept lower rates from being tried."""
    with pytest.raises(
        ProbeError,
        match=r"every rate tried diverged, down to 1 \(the best, at 1, scored .*x the "
        r"initial weights'\); give a larger --steps, so that lower rates are tried",
    ):
        probe_parts(_linear_parts(linear), options=ProbeOptions(steps=40))
    with pytest.raises(ProbeError, match=r"every rate tried diverged, down to 3.16 .*; pass a lower --min-lr"):
        probe_parts(_linear_parts(linear), options=ProbeOptions(steps=120, min_lr=3.0, max_lr=100.0))
