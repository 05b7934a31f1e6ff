"""Load the user's factory (`path/to/file.py:function`) and check what it returns."""

from __future__ import annotations

import contextlib
import importlib.util
import keyword
import re
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
    ignored: tuple[str, ...] = ()  # keys of a returned dict that the probe does not read


def split_spec(spec: str) -> tuple[Path, str]:
    """`path/to/file.py:function` -> (path, function); the colon is the last one (Windows drives)."""
    path, sep, func = spec.rpartition(":")
    if not sep or not path or not func.isidentifier():
        raise ProbeError(f"{spec}: expected path/to/file.py:function (e.g. train.py:make_probe)")
    return Path(path), func


def check_spec(spec: str) -> tuple[Path, str]:
    """`split_spec`, and the file exists: what can be said of a SPEC before any work is done."""
    path, func = split_spec(spec)
    if not path.is_file():
        raise ProbeError(f"{spec}: no such file {str(path)!r}; give path/to/file.py:function")
    return path, func


def load_parts(spec: str, *, seed: int | None = None) -> Parts:
    """Import the file, call the function with no arguments and check what it returned. With
    `seed`, the function runs with torch's, numpy's and Python's random numbers seeded by it (the
    model's initial weights and any shuffling are the same each time), and their states are put
    back afterwards."""
    path, func = check_spec(spec)
    # The file's own imports, also inside the function; its argv is its own (a script's argparse
    # at import would read lrdoctor's arguments).
    with _on_path(path.resolve().parent), _argv([str(path)]):
        factory = _factory(spec, _import(spec, path), path, func)
        try:
            with _seeded(seed):
                made = factory()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit too: a script's argparse may end it
            raise ProbeError(f"{spec}: calling the factory raised {_brief(exc)}; fix it or run it alone") from exc
    return check_parts(spec, made)


@contextlib.contextmanager
def _seeded(seed: int | None) -> Iterator[None]:
    if seed is None:
        yield
        return
    import torch

    with torch.random.fork_rng(devices=[]), host_rng(seed):
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def host_rng(seed: int) -> Iterator[None]:
    """numpy's and Python's random numbers seeded (a factory, or a data pipeline that augments
    with them in this process, repeats with --seed), and put back afterwards."""
    import random

    import numpy as np

    python_state, numpy_state = random.getstate(), np.random.get_state()
    seed_host(seed)
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


def seed_host(seed: int) -> None:
    """numpy's and Python's global random numbers seeded by `seed`, as torch.manual_seed seeds torch's."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)


@contextlib.contextmanager
def _argv(argv: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = argv
    try:
        yield
    finally:
        sys.argv = saved


@contextlib.contextmanager
def on_path(spec: str) -> Iterator[None]:
    """The factory file's folder on sys.path, and its own argv, for as long as the probe runs:
    DataLoader workers started by spawn (macOS, Windows) import the file's module by its name
    from there, with the parent's argv (a script's argparse at import would read lrdoctor's)."""
    path, _ = split_spec(spec)
    with _on_path(path.resolve().parent), _argv([str(path)]):
        yield


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
        raise ProbeError(f"{spec}: {func!r} is {_what(factory)}, not a function")
    return factory


def _import(spec: str, path: Path) -> Any:
    """Import the file as a fresh module, under its own name where that is free (so that worker
    processes can import it again), else under a name of its own."""
    name = path.stem
    if not name.isidentifier() or keyword.iskeyword(name) or name in sys.modules:
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
    # An iterator is spent after one pass. Told apart by its type, not by calling iter(): a
    # DataLoader's iter() draws from torch's global random state and may start worker processes.
    if isinstance(batches, Iterator):
        raise ProbeError(
            f"{spec}: 'batches' is a one-shot iterator; return something re-iterable (a DataLoader or a list)"
        )
    val = get("val_batches")
    if val is not None and (not isinstance(val, Iterable) or isinstance(val, Iterator)):
        raise ProbeError(f"{spec}: 'val_batches' is {_what(val)}; return a re-iterable (a DataLoader or a list)")
    loss_fn = get("loss_fn")
    if loss_fn is not None and not callable(loss_fn):
        raise ProbeError(f"{spec}: 'loss_fn' is {_what(loss_fn)}, not callable (output, target) -> loss")
    optimizer = get("optimizer")
    if optimizer is not None and not (callable(optimizer) or isinstance(optimizer, torch.optim.Optimizer)):
        raise ProbeError(f"{spec}: 'optimizer' is {_what(optimizer)}; give a callable (params, lr) -> Optimizer")
    ignored = tuple(str(k) for k in made if k not in KEYS) if isinstance(made, Mapping) else ()
    return Parts(spec, model, loss_fn, batches, optimizer, val, ignored)


# What a factory may return.
KEYS = ("model", "batches", "loss_fn", "optimizer", "val_batches")
# What the user's code may raise that the probe reports as one line naming the factory:
# SystemExit too (a script's sys.exit), never KeyboardInterrupt.
USER_ERRORS = (Exception, SystemExit)


def _getter(spec: str, made: Any) -> Callable[[str], Any]:
    if isinstance(made, Mapping):
        other = [str(k) for k in made if k not in KEYS]

        def get(key: str) -> Any:
            value = _read(spec, made, key, made.get)
            if key in ("model", "batches") and value is None and other:
                raise ProbeError(
                    f"{spec}: the factory's dict has no {key!r} (it has {', '.join(map(str, made))}); "
                    f"the keys read are {', '.join(KEYS)}"
                )
            return value

        return get
    named = isinstance(made, tuple) and hasattr(made, "_fields")  # a namedtuple: an object with these attributes
    if made is None or isinstance(made, str | bytes | int | float | list) or (isinstance(made, tuple) and not named):
        raise ProbeError(
            f"{spec}: the factory returned {_what(made, 'None')}; return a dict with "
            "'model', 'batches' and optionally 'loss_fn', 'optimizer', 'val_batches'"
        )
    return lambda key: _read(spec, made, key, lambda name: getattr(made, name, None))


def _read(spec: str, made: Any, key: str, get: Callable[[str], Any]) -> Any:
    """One key of what the factory returned; a property (or a mapping) that raises is the factory's error."""
    try:
        return get(key)
    except USER_ERRORS as exc:
        raise ProbeError(
            f"{spec}: reading {key!r} from the factory's {type(made).__name__} raised {_brief(exc)}"
        ) from exc


def _what(value: Any, none: str = "missing") -> str:
    if value is None:
        return none
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _raised(traceback: str) -> str:
    """The error a traceback ends with: its lines after the last indented one (the last frame's
    source line), which hold the error's type and its message, over several lines where the
    message has them."""
    lines = [ln for ln in traceback.splitlines() if ln.strip()]
    indented = [i for i, ln in enumerate(lines) if ln[:1].isspace()]
    return " ".join(lines[indented[-1] + 1 :] if indented and indented[-1] + 1 < len(lines) else lines[-1:])


def _brief(exc: BaseException) -> str:
    """`ValueError: message` on one line, cut to a readable length. An error a DataLoader worker
    raised comes back with the worker's traceback in its message: its last line is the error."""
    raw = str(exc)
    if "Original Traceback" in raw:
        last = _raised(raw)
        if last:
            worker = re.search(r"DataLoader worker process \d+", raw)
            where = f" (in {worker.group(0)})" if worker else ""
            text = " ".join(last.split())
            return (text if len(text) <= 200 else text[:197] + "...") + where
    text = " ".join(raw.split())
    text = text if len(text) <= 200 else text[:197] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
