"""Seeded synthetic loss curves, each returned with the truth it illustrates."""

from __future__ import annotations

import numpy as np


def converging(n: int = 400, *, seed: int = 0, noise: float = 0.02, tau: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    """Healthy: most progress in the first fifth, then level (minibatch noise on top)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, n)
    return np.arange(n, dtype=float), 0.2 + 2.1 * np.exp(-t / tau) + noise * rng.standard_normal(n)


def creeping(n: int = 400, *, seed: int = 0, noise: float = 0.005) -> tuple[np.ndarray, np.ndarray]:
    """Too low: a steady, nearly linear decrease that never levels off."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, n)
    return np.arange(n, dtype=float), 2.3 - 0.5 * t + noise * rng.standard_normal(n)


def rebounding(n: int = 400, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Too high: comes down fast, then climbs back up, giving back half its progress."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, n)
    return np.arange(n, dtype=float), 0.3 + 2.0 * np.exp(-t / 0.05) + 1.0 * t + 0.02 * rng.standard_normal(n)


def exploding(n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(n, dtype=float)
    return t, np.where(t < 50, 2.3 - 0.01 * t, 2.3 * 1.2 ** (t - 50))
