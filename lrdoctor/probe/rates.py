"""How each parameter group's rate follows the base rate the probe moves. No torch here."""

from __future__ import annotations

import math
from collections.abc import Sequence

# Group rates whose ratios to the base rate agree to this relative tolerance are one multiple of
# it (the factory's `lr * 10` in floating point); the tolerance only has to absorb rounding.
RATIO_TOLERANCE = 1e-6

Rule = tuple[float, float]  # a group's rate at base rate lr: ratio * lr + fixed


def rules(samples: Sequence[tuple[float, Sequence[float]]]) -> list[Rule] | None:
    """How each group's rate follows the base rate, read off the rates an optimizer factory set at
    a few base rates (`samples`: (base rate, the rate of each group)): the same rate at every base
    rate (a rate of its own), or the same multiple of the base rate. None when some group does
    neither (its rate is then to be asked of the factory at each base rate)."""
    (lr0, first), *rest = samples
    found: list[Rule] = []
    for i, rate in enumerate(first):
        seen = [(lr, rates[i]) for lr, rates in rest]
        if all(r == rate for _, r in seen):
            found.append((0.0, rate))
        elif all(math.isclose(r / lr, rate / lr0, rel_tol=RATIO_TOLERANCE) for lr, r in seen):
            found.append((rate / lr0, 0.0))
        else:
            return None
    return found


def at(found: Sequence[Rule], lr: float) -> list[float]:
    """The rate of each group at base rate `lr` (exactly its own rate for a fixed group)."""
    return [ratio * lr + fixed for ratio, fixed in found]
