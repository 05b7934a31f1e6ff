"""The user's minibatches as a replayable stream: every trial sees the same ones, in order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import torch

from lrdoctor.errors import ProbeError
from lrdoctor.probe.spec import USER_ERRORS, _brief


class BatchSource:
    """Training minibatches, cycled over passes, cached so that each trial replays the same sequence.

    Without validation batches, the first `hold` minibatches of the first pass are held back for
    scoring and not trained on in that pass. Past `cache_bytes` minibatches are read afresh.
    """

    def __init__(self, batches: Iterable[Any], *, hold: int, cache_bytes: int) -> None:
        self._batches = batches
        self._cache: list[Any] = []
        self._cache_bytes = cache_bytes
        self._used_bytes = 0
        self.held: list[Any] = []
        self.held_apart = True  # False: too few minibatches to hold any back; `held` are trained on too
        self.cache_full = False
        self.notes: list[str] = []
        self._live = self._cycle(hold)

    def sequence(self, n: int) -> Iterator[Any]:
        """The first `n` training minibatches: from the cache, then read (and cached while room is left)."""
        for i in range(n):
            if i < len(self._cache):
                yield self._cache[i]
                continue
            batch = next(self._live)
            if not self.cache_full:
                size = nbytes(batch)
                if self._used_bytes + size <= self._cache_bytes:
                    self._cache.append(batch)
                    self._used_bytes += size
                else:
                    self.cache_full = True
                    self.notes.append(f"minibatches beyond the first {len(self._cache)} are read afresh for each trial")
            yield batch

    def prime(self) -> None:
        """Read the first pass far enough to hold batches back and to fail early on an empty loader."""
        next(iter(self.sequence(1)))

    def _cycle(self, hold: int) -> Iterator[Any]:
        it = guarded(self._batches, "'batches'")
        first = list(_take(it, hold + 1))
        if not first:
            raise ProbeError("'batches' is empty: iterating it gave no minibatch")
        if len(first) <= hold:  # too few to hold any back: score on the training batches
            self.held = first
            self.held_apart = False
            self.notes.append(f"'batches' has only {len(first)} minibatch(es); candidates are scored on them")
            yield from first
        else:
            self.held = first[:hold]
            yield from first[hold:]
        yield from it
        while True:
            count = 0
            for batch in guarded(self._batches, "'batches'"):
                count += 1
                yield batch
            if count == 0:
                raise ProbeError("'batches' gave no minibatch on a second pass; return a re-iterable (a DataLoader)")


def guarded(batches: Iterable[Any], name: str) -> Iterator[Any]:
    """The minibatches of `batches`; an error the user's loader raises while giving them (a
    dataset that fails on an item, a collate that cannot stack them) becomes a ProbeError that
    names it."""
    try:
        it = iter(batches)
    except USER_ERRORS as exc:
        raise ProbeError(f"iterating {name} raised {_brief(exc)}") from exc
    while True:
        try:
            batch = next(it)
        except StopIteration:
            return
        except ProbeError:
            raise
        except USER_ERRORS as exc:
            raise ProbeError(f"iterating {name} raised {_brief(exc)}") from exc
        yield batch


def hold_count(batches: Iterable[Any], *, most: int) -> int:
    """How many minibatches to hold back for scoring: a tenth of a pass, between 1 and `most`."""
    try:
        n = len(batches)  # type: ignore[arg-type]
    except (TypeError, NotImplementedError):  # no length (a stream): hold the most
        return most
    except USER_ERRORS as exc:
        raise ProbeError(f"len('batches') raised {_brief(exc)}") from exc
    return max(1, min(most, n // 10))


def _take(it: Iterator[Any], n: int) -> Iterator[Any]:
    for _ in range(n):
        try:
            yield next(it)
        except StopIteration:
            return


def nbytes(batch: Any) -> int:
    if isinstance(batch, torch.Tensor):
        return batch.element_size() * batch.nelement()
    if isinstance(batch, Mapping):
        return sum(nbytes(v) for v in batch.values())
    if isinstance(batch, list | tuple):
        return sum(nbytes(v) for v in batch)
    return 64


def to_device(batch: Any, device: torch.device, *, copy: bool = False) -> Any:
    """The minibatch's tensors on `device`; with `copy`, new tensors even where they are there already."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True, copy=copy)
    if isinstance(batch, Mapping):
        return {k: to_device(v, device, copy=copy) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # a namedtuple
        return type(batch)(*(to_device(v, device, copy=copy) for v in batch))
    if isinstance(batch, list | tuple):
        return type(batch)(to_device(v, device, copy=copy) for v in batch)
    return batch


def versions(batch: Any) -> list[int]:
    """The version counter of each tensor in the minibatch: it grows with every in-place change."""
    if isinstance(batch, torch.Tensor):
        return [batch._version]
    if isinstance(batch, Mapping):
        return [v for value in batch.values() for v in versions(value)]
    if isinstance(batch, list | tuple):
        return [v for value in batch for v in versions(value)]
    return []
