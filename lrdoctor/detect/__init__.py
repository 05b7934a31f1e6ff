"""Detectors: pure functions over (steps, values) arrays that return findings.

Each takes the step axis and the metric values of one run (NaN/Inf included) and returns a
list of :class:`lrdoctor.diagnosis.Finding`; no I/O, no pandas, no printing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lrdoctor.detect.nonfinite import detect_nonfinite
from lrdoctor.diagnosis import Finding

Detector = Callable[[np.ndarray, np.ndarray], list[Finding]]

DETECTORS: dict[str, Detector] = {
    "nonfinite": detect_nonfinite,
}
