"""Load the user's factory (`path/to/file.py:function`) and check what it returns."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lrdoctor.errors import ProbeError


@dataclass(frozen=True)
class Parts:
    """What a factory returned, checked: the model and how to train and score it."""

    label: str  # the SPEC as given, for messages
    model: Any  # torch.nn.Module
    loss_fn: Callable[..., Any] | None
    batches: Iterable[Any]
    optimizer: Any  # callable (params, lr) -> Optimizer, an Optimizer, or None (Adam)
    val_batches: Iterable[Any] | None


def split_spec(spec: str) -> tuple[Path, str]:
    """`path/to/file.py:function` -> (path, function); the colon is the last one (Windows drives)."""
    path, sep, func = spec.rpartition(":")
    if not sep or not path or not func.isidentifier():
        raise ProbeError(f"{spec}: expected path/to/file.py:function (e.g. train.py:make_probe)")
    return Path(path), func


def load_parts(spec: str) -> Parts:
    """Import the file, call the function with no arguments and check what it returned."""
    path, func = split_spec(spec)
    if not path.is_file():
        raise ProbeError(f"{spec}: no such file {str(path)!r}; give path/to/file.py:function")
    with _on_path(path.resolve().parent):  # the file's own imports, also inside the function
        factory = _factory(spec, _import(spec, path), path, func)
        try:
            made = factory()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit too: a script's argparse may end it
            raise ProbeError(f"{spec}: calling the factory raised {_brief(exc)}; fix it or run it alone") from exc
    return check_parts(spec, made)


@contextlib.contextmanager
def _on_path(folder: Path) -> Iterator[None]:
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(folder))


def _factory(spec: str, module: Any, path: Path, func: str) -> Callable[[], Any]:
    factory = getattr(module, func, None)
    if factory is None:
        found = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_"))[:8]
        raise ProbeError(f"{spec}: {path.name} defines no {func!r} (callables there: {', '.join(found) or 'none'})")
    if not callable(factory):
        raise ProbeError(f"{spec}: {func!r} is a {type(factory).__name__}, not a function")
    return factory


def _import(spec: str, path: Path) -> Any:
    """Import the file as a fresh module."""
    name = f"lrdoctor_probe_{abs(hash(str(path.resolve())))}"
    loader_spec = importlib.util.spec_from_file_location(name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise ProbeError(f"{spec}: {str(path)!r} cannot be imported as Python; give a .py file")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[name] = module
    try:
        loader_spec.loader.exec_module(module)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SyntaxError, ImportError, a script's SystemExit
        sys.modules.pop(name, None)
        raise ProbeError(f"{spec}: importing {path.name} raised {_brief(exc)}") from exc
    return module


def check_parts(spec: str, made: Any) -> Parts:
    """The factory's dict or object, checked key by key."""
    import torch

    get = _getter(spec, made)
    model = get("model")
    if not isinstance(model, torch.nn.Module):
        raise ProbeError(f"{spec}: 'model' is {_what(model)}, not a torch.nn.Module; return {{'model': ..., ...}}")
    if not any(p.requires_grad for p in model.parameters()):
        raise ProbeError(f"{spec}: the model has no trainable parameters")
    batches = get("batches")
    if batches is None or not isinstance(batches, Iterable) or isinstance(batches, str | bytes | Mapping):
        raise ProbeError(f"{spec}: 'batches' is {_what(batches)}; return a re-iterable of minibatches (a DataLoader)")
    if iter(batches) is batches:
        raise ProbeError(
            f"{spec}: 'batches' is a one-shot iterator; return something re-iterable (a DataLoader or a list)"
        )
    val = get("val_batches")
    if val is not None and (not isinstance(val, Iterable) or iter(val) is val):
        raise ProbeError(f"{spec}: 'val_batches' is {_what(val)}; return a re-iterable (a DataLoader or a list)")
    loss_fn = get("loss_fn")
    if loss_fn is not None and not callable(loss_fn):
        raise ProbeError(f"{spec}: 'loss_fn' is {_what(loss_fn)}, not callable (output, target) -> loss")
    optimizer = get("optimizer")
    if optimizer is not None and not (callable(optimizer) or isinstance(optimizer, torch.optim.Optimizer)):
        raise ProbeError(f"{spec}: 'optimizer' is {_what(optimizer)}; give a callable (params, lr) -> Optimizer")
    return Parts(spec, model, loss_fn, batches, optimizer, val)


def _getter(spec: str, made: Any) -> Callable[[str], Any]:
    if isinstance(made, Mapping):
        return made.get
    if made is None or isinstance(made, str | bytes | int | float | tuple | list):
        raise ProbeError(
            f"{spec}: the factory returned {_what(made)}; return a dict with 'model', 'batches' and "
            "optionally 'loss_fn', 'optimizer', 'val_batches'"
        )
    return lambda key: getattr(made, key, None)


def _what(value: Any) -> str:
    return "missing" if value is None else f"a {type(value).__name__}"


def _brief(exc: BaseException) -> str:
    """`ValueError: message` on one line, cut to a readable length."""
    text = " ".join(str(exc).split())
    text = text if len(text) <= 200 else text[:197] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
