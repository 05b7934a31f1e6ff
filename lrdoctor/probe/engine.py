"""Training a private copy of the user's model: optimizer, steps, scoring. The user's objects stay as they were."""

from __future__ import annotations

import contextlib
import copy
import inspect
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from lrdoctor.errors import ProbeError
from lrdoctor.probe import rates
from lrdoctor.probe.batches import to_device, versions
from lrdoctor.probe.spec import USER_ERRORS, Parts, _brief, _what


class Trainer:
    """A deep copy of the model, its initial state, and a fresh optimizer per run.

    One base rate sets every parameter group's rate as the optimizer's set-up does: a factory's
    groups are as it builds them at that rate (a group may follow it, `lr * 10`, or keep a rate of
    its own); an Optimizer instance's groups keep their ratios to its first group's rate.
    """

    def __init__(self, parts: Parts, *, device: str, amp: bool, accum: int, amp_dtype: str | None = None) -> None:
        self.parts = parts
        self.device = torch.device(device)
        if any(isinstance(p, torch.nn.parameter.UninitializedParameter) for p in parts.model.parameters()):
            raise ProbeError(
                "'model' has lazy modules not yet initialised (nn.LazyLinear, ...): pass one batch through it "
                "in the factory before returning it"
            )
        with self._guard("copying the model"):
            # A loss module, or the module whose method the loss is (`model.compute_loss`), is
            # copied together with the model: it may hold parameters the optimizer trains (a
            # learnt temperature, the weights of a metric head), which must not change, and a
            # loss that refers to the model (an L2 term over `self.parameters()`) refers to the
            # copy in training, as one deep copy keeps the references between them.
            self.loss_fn = parts.loss_fn
            self._loss_module = loss_module(parts.loss_fn, parts.model)
            if self._loss_module is None:
                self.model = copy.deepcopy(parts.model).to(self.device)
            else:
                self.model, self.loss_fn = copy.deepcopy((parts.model, parts.loss_fn))
                self.model.to(self.device)
                self._loss_module = loss_module(self.loss_fn, self.model)
                assert self._loss_module is not None
                self._loss_module.to(self.device)
        self.model.train()
        in_model = any(m is self._loss_module for m in self.model.modules())  # the model's own method
        with self._guard("copying the model's weights"):  # lazy modules have none before a forward pass
            self._initial = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            self._loss_initial = (
                {k: v.detach().clone() for k, v in self._loss_module.state_dict().items()}
                if self._loss_module is not None and not in_model
                else None
            )
            # Buffers kept out of the state dict (register_buffer(..., persistent=False): a step
            # count, an annealed temperature): each trial starts from them as they were, too.
            self._unsaved = {k: v.detach().clone() for k, v in self.model.named_buffers() if k not in self._initial}
        self._originals = {id(p): q for p, q in zip(parts.model.parameters(), self.model.parameters(), strict=True)}
        original_loss = loss_module(parts.loss_fn, parts.model)
        if original_loss is not None and self._loss_module is not None and not in_model:
            pairs = zip(original_loss.parameters(), self._loss_module.parameters(), strict=True)
            self._originals.update((id(p), q) for p, q in pairs)
        self._copies = {id(q) for q in self._originals.values()}
        self.accum = accum
        self.amp_dtype = _amp_dtype(self.device, amp_dtype) if amp else None
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp_dtype is torch.float16)
        self.opt: torch.optim.Optimizer | None = None
        # Whether the model (or the loss) changes its input tensors in place (`x.mul_(2)` in
        # forward), by mode (training, eval): seen on the first minibatch in each mode, which gets
        # a copy; if it does, every minibatch gets one, so that the cached minibatches every trial
        # replays, and the scoring ones, stay as they were read.
        self._writes_inputs: dict[bool, bool] = {}
        # How a model that computes its own loss takes a (inputs, target) pair, read once from its
        # forward's signature (not at every step): labels by keyword, and whether it takes a pair.
        self._labels_by_keyword: bool | None = None
        self._pair_checked = False
        self._factory_call: tuple[float, list[float]] | None = None  # the factory's first (lr, group rates)
        # The optimizer factory attached a learning-rate scheduler, whose peak rates the probe holds
        # constant (_at_peak).
        self.scheduled = False
        # (element, elements) where the loss was the one scalar of a tuple the model returned
        self.loss_in_tuple: tuple[int, int] | None = None

    def restart(self, lr: float) -> None:
        """Back to the initial weights (and buffers), with a new optimizer at base rate `lr`."""
        self.model.load_state_dict(self._initial)
        for name, value in self._unsaved.items():
            owner, _, leaf = name.rpartition(".")
            self.model.get_submodule(owner)._buffers[leaf] = value.clone()
        if self._loss_initial is not None and self._loss_module is not None:
            self._loss_module.load_state_dict(self._loss_initial)
        self.model.train()
        self.opt = self._optimizer(lr)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp_dtype is torch.float16)

    def set_rates(self, group_lrs: Sequence[float]) -> None:
        """Each parameter group of the current optimizer at its rate (as `ramp_rates` gives them)."""
        assert self.opt is not None
        for group, rate in zip(self.opt.param_groups, group_lrs, strict=True):
            group["lr"] = rate

    def group_lrs(self, lr: float) -> list[float]:
        """Each parameter group's rate at base rate `lr`: as the factory builds them (called at
        `lr`), or each group of an Optimizer instance at its ratio to the first group's rate."""
        given = self.parts.optimizer
        if given is None:
            return [lr]
        if isinstance(given, torch.optim.Optimizer):
            return [lr * r for r in self._instance_ratios(given)]
        return [float(g["lr"]) for g in self._built(lr).param_groups]

    def ramp_rates(self, lrs: Sequence[float]) -> list[list[float]]:
        """Each group's rate at each base rate of a range test, as `group_lrs` gives them. A
        factory is built at the ramp's ends and middle only, to see how each group follows the
        base rate (a multiple of it, or a rate of its own); it is asked at every rate only where
        some group does neither."""
        if self.parts.optimizer is None or isinstance(self.parts.optimizer, torch.optim.Optimizer):
            return [self.group_lrs(lr) for lr in lrs]
        first = self.group_lrs(lrs[0])
        if len(first) == 1:  # one group: the base rate itself, no factory built at other rates
            return [[lr] for lr in lrs]
        try:
            samples = [(lrs[0], first)] + [(lr, self.group_lrs(lr)) for lr in (lrs[len(lrs) // 2], lrs[-1])]
        except ProbeError:  # a factory that refuses a high rate: every group keeps its ratio at the start
            return [[lr * r / lrs[0] for r in first] for lr in lrs]
        found = rates.rules(samples)
        if found is None:
            return [self.group_lrs(lr) for lr in lrs]
        return [rates.at(found, lr) for lr in lrs]

    def step(self, micro: Iterable[Any]) -> float:
        """One optimizer step over `accum` minibatches; their mean loss (NaN/Inf: no step taken)."""
        assert self.opt is not None
        self.opt.zero_grad(set_to_none=True)
        total, count = 0.0, 0
        for batch in micro:
            with self._guard("a training step"), self._autocast():
                loss = self.loss(batch)
            value = float(loss.detach())
            if not math.isfinite(value):
                return value
            with self._guard("backward"):
                self.scaler.scale(loss / self.accum).backward()
            total += value
            count += 1
        with self._guard("the optimizer step"):
            self.scaler.step(self.opt)
            self.scaler.update()
        return total / max(count, 1)

    def finite_gradients(self, micro: Iterable[Any]) -> bool:
        """Whether the gradients of the loss over `micro` at the current weights are all finite;
        no step is taken, and the gradients are cleared."""
        assert self.opt is not None
        self.opt.zero_grad(set_to_none=True)
        try:
            for batch in micro:
                with self._guard("a training step"), self._autocast():
                    loss = self.loss(batch)
                with self._guard("backward"):
                    (loss / self.accum).backward()
            grads = [p.grad for g in self.opt.param_groups for p in g["params"] if p.grad is not None]
            # A sparse gradient (an embedding's, sparse=True) is finite where its stored values are.
            return all(bool(torch.isfinite(g.coalesce().values() if g.is_sparse else g).all()) for g in grads)
        finally:
            self.opt.zero_grad(set_to_none=True)

    @torch.no_grad()
    def evaluate(self, batches: Iterable[Any]) -> float:
        """Mean loss over `batches`, in eval mode; NaN/Inf as they come."""
        values = self.batch_losses(batches)
        return sum(values) / len(values)

    @torch.no_grad()
    def batch_losses(self, batches: Iterable[Any]) -> list[float]:
        """The loss of each of `batches`, in eval mode, without gradients; NaN/Inf as they come."""
        self.model.eval()
        try:
            values = []
            for batch in batches:
                with self._guard("scoring"), self._autocast():
                    values.append(float(self.loss(batch)))
        finally:
            self.model.train()
        if not values:
            raise ProbeError("the scoring batches are empty ('val_batches' gave no minibatch)")
        return values

    def loss(self, batch: Any) -> torch.Tensor:
        """The scalar loss of one minibatch: pairs (input, target), dicts as keyword arguments."""
        writes = self._writes_inputs.get(self.model.training)
        batch = to_device(batch, self.device, copy=writes is not False)
        before = versions(batch) if writes is None else None
        try:
            loss = self._loss(batch)
        except AmbiguousTuple:
            if torch.is_grad_enabled() or self.loss_in_tuple is not None:
                raise
            # An evaluation before any training step: under grad, the loss is the element that
            # requires it ((loss, accuracy)); found once, then kept for every batch.
            with torch.enable_grad():
                self._loss(batch)
            loss = self._loss(batch)
        if before is not None:
            self._writes_inputs[self.model.training] = versions(batch) != before
        return loss

    def _loss(self, batch: Any) -> torch.Tensor:
        loss_fn = self.loss_fn
        if isinstance(batch, Mapping):
            out = self.model(**batch)
            loss = loss_fn(out, batch) if loss_fn else self._loss_in(out)
        elif isinstance(batch, list | tuple) and len(batch) == 2:
            x, y = batch
            if loss_fn is None:  # the model computes its loss: HuggingFace's (inputs, labels) pairs too
                if self._labels_by_keyword is None:
                    self._labels_by_keyword = _takes_labels(self.model)
                # (a tensor of inputs and its labels: by keyword where forward's second argument is
                # something else, a HuggingFace model's attention_mask)
                keywords = bool(self._labels_by_keyword) and (isinstance(x, Mapping) or _labels_not_second(self.model))
                if not keywords and not self._pair_checked:
                    _check_takes_pair(self.model)
                    self._pair_checked = True
                if keywords:
                    out = self.model(**x, labels=y) if isinstance(x, Mapping) else self.model(x, labels=y)
                    loss = self._loss_in(out)
                else:
                    loss = self._loss_in(self.model(x, y))
            else:
                loss = loss_fn(self.model(**x) if isinstance(x, Mapping) else self.model(x), y)
        else:
            try:
                out = self.model(batch)
            except TypeError as exc:
                if isinstance(batch, torch.Tensor):
                    raise
                what = (
                    f"a {type(batch).__name__} of {len(batch)}" if isinstance(batch, list | tuple) else _what(batch, "")
                )
                raise ProbeError(
                    f"a minibatch of 'batches' is {what}, which the model does not take ({_brief(exc)}): give "
                    "(input, target) pairs, dicts of the model's keyword arguments, or tensors"
                ) from exc
            loss = loss_fn(out, batch) if loss_fn else self._loss_in(out)
        return _scalar(loss, "loss_fn" if loss_fn else "the model")

    def _loss_in(self, out: Any) -> Any:
        loss, where = _loss_in(out, self.loss_in_tuple)
        if where is not None and self.loss_in_tuple is None:
            self.loss_in_tuple = where
        return loss

    def _optimizer(self, lr: float) -> torch.optim.Optimizer:
        given = self.parts.optimizer
        if given is None:
            opt: Any = torch.optim.Adam(self.model.parameters(), lr=lr)
        elif isinstance(given, torch.optim.Optimizer):
            opt = self._rebind(given)
            for g, rate in zip(opt.param_groups, self.group_lrs(lr), strict=True):
                g["lr"] = rate
        else:
            opt = self._built(lr)
            if any(id(p) in self._originals for g in opt.param_groups for p in g["params"]):
                opt = self._rebind(opt)  # the factory used the original model's parameters
        self._owned(opt)
        return opt

    def _built(self, lr: float) -> torch.optim.Optimizer:
        """The optimizer the factory builds at `lr`, checked."""
        with self._guard("the optimizer factory"):
            opt = self.parts.optimizer(self.model.parameters(), lr)
        if not isinstance(opt, torch.optim.Optimizer):
            raise ProbeError(f"'optimizer' returned {_what(opt, 'None')}, not a torch.optim.Optimizer")
        self._at_peak(opt)
        self._follows_lr(lr, [float(g["lr"]) for g in opt.param_groups])
        return opt

    def _at_peak(self, opt: torch.optim.Optimizer) -> None:
        """Put each group of an optimizer the factory attached a scheduler to back at the
        scheduler's peak rate. A scheduler sets a group's rate when it is built (LinearLR to
        start_factor x lr, a warmup LambdaLR to 0, OneCycleLR to max_lr / div_factor) and keeps
        the rate it was given as `initial_lr` (OneCycleLR its peak as `max_lr`); the probe never
        steps it, so its trials would have run at that first rate while the rate reported is the
        one given."""
        peaks = []
        for g in opt.param_groups:
            peak = g.get("max_lr", g.get("initial_lr"))
            peaks.append(float(peak) if isinstance(peak, int | float) and not isinstance(peak, bool) else None)
        if all(p is None for p in peaks):
            return
        for g, peak in zip(opt.param_groups, peaks, strict=True):
            if peak is not None:
                g["lr"] = peak
        self.scheduled = True

    @staticmethod
    def _instance_ratios(given: torch.optim.Optimizer) -> list[float]:
        """Each group's rate over the first nonzero one. A scheduler attached to the optimizer
        keeps each group's own rate as `initial_lr` and may have set `lr` to 0 (a warmup at its
        first step); a frozen group stays at 0."""
        group_rates = [float(g.get("initial_lr", g["lr"])) for g in given.param_groups]
        base = next((r for r in group_rates if r > 0), 0.0)
        if base <= 0:
            raise ProbeError("every parameter group of 'optimizer' has learning rate 0: give it its rate")
        return [r / base for r in group_rates]

    def _follows_lr(self, lr: float, group_lrs: list[float]) -> None:
        """Refuse an optimizer factory whose rates do not change with the `lr` it is given: every
        rate the probe tried would be the same one."""
        if self._factory_call is not None:
            first_lr, first_groups = self._factory_call
            if first_lr != lr and first_groups == group_lrs:
                raise ProbeError(
                    f"the optimizer factory ignores its lr: given {first_lr:.3g} and then {lr:.3g}, it set "
                    f"{', '.join(f'{v:.3g}' for v in group_lrs)} both times; pass lr on to the optimizer"
                )
        self._factory_call = (lr, group_lrs)

    def _rebind(self, opt: torch.optim.Optimizer) -> torch.optim.Optimizer:
        """The same optimizer class and groups over the copy's parameters, with fresh state."""
        groups = []
        for g in opt.param_groups:
            params = [self._originals.get(id(p), p) for p in g["params"]]
            groups.append({**{k: v for k, v in g.items() if k != "params"}, "params": params})
        cls: Any = type(opt)
        try:
            try:
                return cls(groups, **opt.defaults)
            except TypeError:
                return cls(groups)
        except Exception as exc:  # a wrapper (SAM, Lookahead) built around another optimizer
            raise ProbeError(
                f"'optimizer' is {_what(opt)} that cannot be rebuilt over a copy of the model "
                f"({_brief(exc)}); return a callable (params, lr) -> Optimizer instead"
            ) from exc

    def _owned(self, opt: torch.optim.Optimizer) -> None:
        """Refuse an optimizer that would train tensors the probe has not copied: it would
        change them in place."""
        foreign = sum(id(p) not in self._copies for g in opt.param_groups for p in g["params"])
        if foreign:
            raise ProbeError(
                f"'optimizer' trains {foreign} tensor(s) that are neither the model's parameters nor "
                "loss_fn's; the probe works on copies and would change them in place"
            )

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    @contextlib.contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except ProbeError:
            raise
        except USER_ERRORS as exc:  # SystemExit too: a sys.exit in the model or the loss
            raise ProbeError(f"{what} raised {_brief(exc)}") from exc


def loss_module(loss_fn: Any, model: torch.nn.Module | None = None) -> torch.nn.Module | None:
    """The module a loss is, or, given `model`, the module of the model whose bound method it is
    (`model.compute_loss`, a head's method); None for a plain function, or a method of a module
    outside the model (a task wrapper holding loggers: used as it is, never copied)."""
    if isinstance(loss_fn, torch.nn.Module):
        return loss_fn
    owner = getattr(loss_fn, "__self__", None) if inspect.ismethod(loss_fn) else None
    if not isinstance(owner, torch.nn.Module):
        return None
    return owner if model is None or any(m is owner for m in model.modules()) else None


@dataclass
class OriginalGrads:
    """Whether the user's own parameters received gradients while the probe ran."""

    received: bool = False


@contextlib.contextmanager
def gradients_kept(parts: Parts) -> Iterator[OriginalGrads]:
    """The user's model's (and loss module's) gradients set aside while the probe runs and put
    back afterwards, whatever happens. A loss function that closes over the original model (a
    lambda adding an L2 term over `model.parameters()`) sends gradients there: `received` says so."""
    modules = [parts.model, loss_module(parts.loss_fn)]
    owned = list({id(p): p for m in modules if m is not None for p in m.parameters()}.values())
    # Modules the loss closes over (a learnt criterion): their gradients are put back too, unsaid.
    held = {id(p) for p in owned}
    params = owned + [p for m in _closed_over(parts.loss_fn) for p in m.parameters() if id(p) not in held]
    saved = [p.grad for p in params]
    for p in params:
        p.grad = None
    seen = OriginalGrads()
    try:
        yield seen
    finally:
        seen.received = any(p.grad is not None for p in owned)
        for p, grad in zip(params, saved, strict=True):
            p.grad = grad


def _closed_over(loss_fn: Any) -> list[torch.nn.Module]:
    """The modules a loss function holds in its closure (`lambda o, t: crit(o, t)`): their
    gradients are the user's too."""
    cells = getattr(getattr(loss_fn, "__func__", loss_fn), "__closure__", None) or ()
    found = []
    for cell in cells:
        try:
            value = cell.cell_contents
        except ValueError:  # a cell not filled yet
            continue
        if isinstance(value, torch.nn.Module):
            found.append(value)
    return found


def _inner(model: torch.nn.Module) -> torch.nn.Module:
    """The module whose forward runs, inside torch.compile's and DataParallel's wrappers."""
    inner = getattr(model, "_orig_mod", model)
    if isinstance(inner, torch.nn.DataParallel | torch.nn.parallel.DistributedDataParallel):
        inner = inner.module
    return inner


def _forward_signature(model: torch.nn.Module) -> inspect.Signature | None:
    try:
        return inspect.signature(_inner(model).forward)
    except (TypeError, ValueError):  # a forward implemented in C, or not a function
        return None


def _check_takes_pair(model: torch.nn.Module) -> None:
    """Without loss_fn, a pair (input, target) goes to forward(input, target), which must return
    the loss: refuse, before the call fails inside the model, a forward that takes one argument."""
    sig = _forward_signature(model)
    if sig is None or type(_inner(model)).__call__ is not torch.nn.Module.__call__:  # __call__ of its own
        return
    try:
        sig.bind(None, None)
    except TypeError:
        name = type(_inner(model)).__name__
        raise ProbeError(
            f"no 'loss_fn' was given, and the model does not compute its own loss from the batch: "
            f"{name}.forward({', '.join(sig.parameters)}) takes no target; return 'loss_fn' from the factory "
            "(e.g. torch.nn.MSELoss() or torch.nn.CrossEntropyLoss()), or make forward(input, target) return the loss"
        ) from None


def _labels_not_second(model: torch.nn.Module) -> bool:
    """Whether forward takes `labels` by name but not as its second argument (a HuggingFace model:
    forward(input_ids, attention_mask, ..., labels)): a (tensor, labels) pair is then passed as
    model(x, labels=y), where model(x, y) had put the labels in the attention mask."""
    sig = _forward_signature(model)
    if sig is None:
        return False
    names = [p.name for p in sig.parameters.values()]
    return "labels" in names and len(names) > 1 and names[1] != "labels"


def _takes_labels(model: torch.nn.Module) -> bool:
    """Whether forward takes `labels` by name (HuggingFace models do): a batch (dict, labels) is
    then passed as keywords; else as the two arguments forward takes."""
    sig = _forward_signature(model)
    if sig is None:
        return False
    params = sig.parameters.values()
    if any(p.name == "labels" for p in params):
        return True
    # A forward(*args, **kwargs) wrapper (PEFT's PeftModel) passes labels on to the model; one
    # that also requires arguments of its own by position does not take them by name.
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = any(p.kind in positional and p.default is inspect.Parameter.empty for p in params)
    return not required and any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def _amp_dtype(device: torch.device, name: str | None) -> torch.dtype:
    """The autocast type: `name` (float16 or bfloat16), else float16 on CUDA and bfloat16 elsewhere."""
    if name is not None:
        return getattr(torch, name)
    return torch.float16 if device.type == "cuda" else torch.bfloat16


def _loss_in(out: Any, known: tuple[int, int] | None = None) -> tuple[Any, tuple[int, int] | None]:
    """The loss inside a model's output: the output itself, `.loss`, `['loss']`, or a tuple's loss
    (`_in_tuple`); and where it was in a tuple ((element, elements), 1-based), else None. `known`:
    where earlier batches had it, kept for every batch (a last batch of one sample makes a
    prediction of one element too)."""
    if isinstance(out, torch.Tensor):
        return out, None
    if isinstance(getattr(out, "loss", None), torch.Tensor):
        return out.loss, None
    if isinstance(out, Mapping) and "loss" in out:
        return out["loss"], None
    if isinstance(out, list | tuple):
        ones = [i for i, t in enumerate(out) if isinstance(t, torch.Tensor) and t.numel() == 1]
        if known is not None and known[1] == len(out) and known[0] - 1 in ones:
            return out[known[0] - 1], known
        at = _in_tuple(out, ones)
        if at is not None:
            return out[at], (at + 1, len(out))
        if len(ones) > 1:
            raise AmbiguousTuple(
                f"the model returned a tuple whose elements {', '.join(str(i + 1) for i in ones)} are all scalars, "
                "and which of them is the loss cannot be told; return the loss alone, or as '.loss' or "
                "['loss'], or return 'loss_fn' from the factory"
            )
    raise ProbeError(
        f"the model returned {_what(out, 'None')} with no loss in it; "
        "return 'loss_fn' from the factory or make the model return the loss"
    )


class AmbiguousTuple(ProbeError):
    """A model's tuple holds several scalars, none of them told apart as the loss."""


def _in_tuple(out: list[Any] | tuple[Any, ...], ones: list[int]) -> int | None:
    """Which of a tuple's one-element tensors (`ones`) is the loss: the only one; else the only
    0-d one ((prediction, loss) where the prediction of a batch of one has one element too); else
    the only one that requires grad ((loss, accuracy)); else None."""
    for keep in (lambda t: t.dim() == 0, lambda t: t.requires_grad):
        if len(ones) == 1:
            break
        ones = [i for i in ones if keep(out[i])] or ones
    return ones[0] if len(ones) == 1 else None


def _scalar(loss: Any, who: str) -> torch.Tensor:
    if not isinstance(loss, torch.Tensor):
        raise ProbeError(f"{who} gave {_what(loss, 'None')}, not a tensor; the loss must be a scalar tensor")
    if loss.numel() != 1:
        raise ProbeError(f"{who} gave a loss of shape {tuple(loss.shape)}, not a scalar; reduce it (e.g. .mean())")
    if not loss.requires_grad and torch.is_grad_enabled():
        raise ProbeError(f"{who} gave a loss that does not require grad; is it computed from the model's output?")
    return loss.reshape(())


def device_check(device: str) -> None:
    """Fail early, with the fix, when the asked device is not there."""
    if device == "cuda" and not torch.cuda.is_available():
        raise ProbeError("--device cuda: torch sees no CUDA device here (torch.cuda.is_available() is False)")
    if device == "mps" and not torch.backends.mps.is_available():
        raise ProbeError("--device mps: torch sees no Apple MPS device here")
