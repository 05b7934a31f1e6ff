"""Non-finite loss values (NaN, +/-Inf): the plainest sign of divergence."""

from __future__ import annotations

import numpy as np

from lrdoctor.diagnosis import Finding


def detect_nonfinite(steps: np.ndarray, values: np.ndarray) -> list[Finding]:
    bad = ~np.isfinite(values)
    if not bad.any():
        return []
    idx = np.flatnonzero(bad)
    first = int(idx[0])
    n_nan = int(np.isnan(values).sum())
    n_inf = int(bad.sum()) - n_nan
    kind = "NaN" if np.isnan(values[first]) else "Inf"
    to_end = bool(bad[first:].all())
    tail = "and every value after it" if to_end and len(idx) > 1 else f"{len(idx)} non-finite value(s) in all"
    return [
        Finding(
            pathology="divergence",
            severity="error",
            start_step=float(steps[first]),
            end_step=float(steps[idx[-1]]),
            message=f"loss is {kind} from step {steps[first]:g} ({tail})",
            evidence={
                "nonfinite": int(bad.sum()),
                "nan": n_nan,
                "inf": n_inf,
                "first_nonfinite_step": float(steps[first]),
                "last_finite_value": float(values[first - 1])
                if first > 0 and np.isfinite(values[first - 1])
                else None,
                "nonfinite_to_end": to_end,
            },
        )
    ]
