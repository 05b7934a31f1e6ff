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


def overfitting(n: int = 400, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A training loss that keeps falling, and a validation loss (every 20 steps) that reaches its
    best about a quarter of the way in and then climbs steadily to about 1.4 times that: (steps,
    train, val steps, val)."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n, dtype=float)
    train = 0.05 + 2.2 * np.exp(-steps / 60) + 0.01 * rng.standard_normal(n)
    vs = steps[::20]
    val = 0.5 + 1.8 * np.exp(-vs / 30) + 0.3 * np.clip((vs / n - 0.25) / 0.75, 0, None)
    return steps, train, vs, val + 0.005 * rng.standard_normal(len(vs))
