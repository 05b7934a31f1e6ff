"""Small PyTorch training tasks that need no download, as factories.

Each task builds, for an optimizer name and a seed, everything one training run needs:
``{"model", "loss_fn", "batches", "val_batches", "optimizer"}`` where ``batches`` is a
re-iterable DataLoader of ``(x, y)`` minibatches (shuffled by a generator seeded from `seed`)
and ``optimizer`` is a callable ``(params, lr) -> torch.optim.Optimizer``.

The data splits do not depend on the seed (they use ``DATA_SEED``); the seed fixes the model's
initial weights and the minibatch order. The corpus generator and the learning-rate probe
benchmark import the same factories, so both see the same problems.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

# Splits and synthetic data are drawn once with this seed, whatever the run's seed.
DATA_SEED = 0
VAL_BATCH = 512

OptimizerFactory = Callable[[Any, float], torch.optim.Optimizer]

OPTIMIZERS: dict[str, OptimizerFactory] = {
    "sgd": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9),
    "adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
    "rmsprop": lambda params, lr: torch.optim.RMSprop(params, lr=lr),
    "adagrad": lambda params, lr: torch.optim.Adagrad(params, lr=lr),
    # The outside tasks' (plan.OUTSIDE_SWEEPS): as transformers and vision recipes set them.
    "adamw": lambda params, lr: torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.95), weight_decay=0.05),
    "nesterov": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4),
}

Arrays = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class Task:
    """One problem: its data, its model, its loss and its training budget."""

    name: str
    description: str
    data: Callable[[], Arrays]
    model: Callable[[], nn.Module]
    loss: Callable[[], nn.Module]
    batch_size: int
    epochs: int
    eval_every: int = 1  # epochs between validation passes


# ---------------------------------------------------------------- data


def _split(n: int, val_frac: float) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(DATA_SEED).permutation(n)
    n_val = round(n * val_frac)
    return order[n_val:], order[:n_val]


def _tensors(x: np.ndarray, y: np.ndarray, idx: tuple[np.ndarray, np.ndarray], y_dtype: torch.dtype) -> Arrays:
    tr, va = idx
    xt = torch.as_tensor(x, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=y_dtype)
    return xt[tr], yt[tr], xt[va], yt[va]


@functools.cache
def digits_data() -> Arrays:
    """sklearn's 8x8 digits, pixels scaled to [0, 1]; 80/20 split."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return _tensors(d.data / 16.0, d.target, _split(len(d.target), 0.2), torch.long)


@functools.cache
def digits_images() -> Arrays:
    xt, yt, xv, yv = digits_data()
    return xt.view(-1, 1, 8, 8), yt, xv.view(-1, 1, 8, 8), yv


@functools.cache
def digits_pixels() -> Arrays:
    """Digits as their own targets, for the autoencoder."""
    xt, _, xv, _ = digits_data()
    return xt, xt, xv, xv


def _classes_table(data: Any) -> Arrays:
    """A scikit-learn classification table, features standardised with the training split's mean
    and std; 80/20 split."""
    tr, va = _split(len(data.target), 0.2)
    mu, sd = data.data[tr].mean(axis=0), data.data[tr].std(axis=0)
    return _tensors((data.data - mu) / sd, data.target, (tr, va), torch.long)


def _regression_table(x: np.ndarray, y: np.ndarray, *, scale_features: bool) -> Arrays:
    """A regression table, the target (and with `scale_features` the features) standardised with
    the training split's mean and std; 80/20 split."""
    tr, va = _split(len(y), 0.2)
    if scale_features:
        x = (x - x[tr].mean(axis=0)) / x[tr].std(axis=0)
    y = (y - y[tr].mean()) / y[tr].std()
    return _tensors(x, y[:, None], (tr, va), torch.float32)


@functools.cache
def cancer_data() -> Arrays:
    """sklearn's breast-cancer table (569 tumours, 30 features, 2 classes)."""
    from sklearn.datasets import load_breast_cancer

    return _classes_table(load_breast_cancer())


@functools.cache
def diabetes_data() -> Arrays:
    """sklearn's diabetes table (442 patients, 10 features, disease progression), features and
    target standardised with the training split's mean and std; 80/20 split."""
    from sklearn.datasets import load_diabetes

    d = load_diabetes()
    return _regression_table(d.data, d.target, scale_features=True)


@functools.cache
def wine_data() -> Arrays:
    """sklearn's wine table (178 wines, 13 features, 3 cultivars)."""
    from sklearn.datasets import load_wine

    return _classes_table(load_wine())


@functools.cache
def friedman_data() -> Arrays:
    """scikit-learn's Friedman #1 regression (2000 draws, 10 features of which 5 matter, noise 0.5),
    target standardised with the training split's mean and std; 80/20 split."""
    from sklearn.datasets import make_friedman1

    x, y = make_friedman1(n_samples=2000, n_features=10, noise=0.5, random_state=DATA_SEED)
    return _regression_table(x, y, scale_features=False)


@functools.cache
def moons_data() -> Arrays:
    """scikit-learn's two interleaving half-moons (1500 points, noise 0.3), 2 classes; 80/20 split."""
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=1500, noise=0.3, random_state=DATA_SEED)
    return _tensors(x, y, _split(len(y), 0.2), torch.long)


@functools.cache
def blobs_data() -> Arrays:
    """scikit-learn's make_classification: 2000 points, 40 features (15 informative, 10 redundant),
    6 classes, 2% of labels flipped; features standardised with the training split's statistics."""
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=2000,
        n_features=40,
        n_informative=15,
        n_redundant=10,
        n_classes=6,
        n_clusters_per_class=1,
        flip_y=0.02,
        random_state=DATA_SEED,
    )
    tr, va = _split(len(y), 0.2)
    x = (x - x[tr].mean(axis=0)) / x[tr].std(axis=0)
    return _tensors(x, y, (tr, va), torch.long)


@functools.cache
def circles_data() -> Arrays:
    """scikit-learn's two concentric circles (1500 points, noise 0.1, inner radius 0.5), 2 classes."""
    from sklearn.datasets import make_circles

    x, y = make_circles(n_samples=1500, noise=0.1, factor=0.5, random_state=DATA_SEED)
    return _tensors(x, y, _split(len(y), 0.2), torch.long)


@functools.cache
def friedman3_data() -> Arrays:
    """scikit-learn's Friedman #3 regression (2000 draws, 4 features on their own scales, noise
    0.1), features and target standardised with the training split's statistics."""
    from sklearn.datasets import make_friedman3

    x, y = make_friedman3(n_samples=2000, noise=0.1, random_state=DATA_SEED)
    return _regression_table(x, y, scale_features=True)


# Condition number of the least-squares Hessian (the feature covariance).
@functools.cache
def waves_data() -> Arrays:
    """3000 noisy waveforms of 64 samples, 4 classes (sine, square, sawtooth, triangle) at random
    frequency, phase and amplitude, Gaussian noise of 0.8 added; shaped (n, 1, 64)."""
    rng = np.random.default_rng(DATA_SEED)
    n, length = 3000, 64
    kind = rng.integers(0, 4, n)
    freq, phase, amp = rng.uniform(1.5, 5, n), rng.uniform(0, 2 * np.pi, n), rng.uniform(0.5, 1.5, n)
    arg = 2 * np.pi * freq[:, None] * np.linspace(0, 1, length)[None] + phase[:, None]
    cycle = (arg / (2 * np.pi)) % 1
    shapes = np.stack([np.sin(arg), np.sign(np.sin(arg)), 2 * cycle - 1, 2 * np.abs(2 * cycle - 1) - 1])
    x = amp[:, None] * shapes[kind, np.arange(n)] + rng.normal(0, 0.8, (n, length))
    return _tensors(x[:, None, :], kind, _split(n, 0.2), torch.long)


@functools.cache
def noisy_classes_data() -> Arrays:
    """scikit-learn's make_classification: 3000 points, 20 features (10 informative), 4 classes,
    15% of labels flipped; features standardised with the training split's statistics."""
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=3000, n_features=20, n_informative=10, n_classes=4, flip_y=0.15, random_state=DATA_SEED
    )
    tr, va = _split(len(y), 0.2)
    x = (x - x[tr].mean(axis=0)) / x[tr].std(axis=0)
    return _tensors(x, y, (tr, va), torch.long)


@functools.cache
def swissroll_data() -> Arrays:
    """scikit-learn's swiss roll (3000 points, noise 0.5): its 3-D points to the roll's parameter."""
    from sklearn.datasets import make_swiss_roll

    x, t = make_swiss_roll(n_samples=3000, noise=0.5, random_state=DATA_SEED)
    return _regression_table(x, t, scale_features=True)


@functools.cache
def iris_data() -> Arrays:
    """sklearn's iris table (150 flowers, 4 features, 3 classes)."""
    from sklearn.datasets import load_iris

    return _classes_table(load_iris())


LINREG_COND = 1e3
LINREG_DIM = 20


@functools.cache
def linreg_data() -> Arrays:
    """y = x.w + noise with feature covariance eigenvalues log-spaced over LINREG_COND."""
    rng = np.random.default_rng(DATA_SEED)
    n, d = 3072, LINREG_DIM
    eig = np.logspace(0.0, -np.log10(LINREG_COND), d)
    rot, _ = np.linalg.qr(rng.standard_normal((d, d)))
    x = rng.standard_normal((n, d)) * np.sqrt(eig) @ rot.T
    # Every eigen-direction adds the same variance to y (unit total): the flat ones matter as much.
    w = rot @ (rng.standard_normal(d) / np.sqrt(eig * d))
    y = x @ w + 0.1 * rng.standard_normal(n)
    return _tensors(x, y[:, None], _split(n, 1 / 6), torch.float32)


TEXT_SEQ = 32


@functools.cache
def corpus_text() -> str:
    """The descriptions of the datasets bundled with scikit-learn, concatenated in name order."""
    root = importlib.resources.files("sklearn.datasets") / "descr"
    names = sorted(p.name for p in root.iterdir() if p.name.endswith(".rst"))
    return "\n".join((root / name).read_text(encoding="utf-8") for name in names)


def text_sha256() -> str:
    return hashlib.sha256(corpus_text().encode("utf-8")).hexdigest()


def text_vocab() -> list[str]:
    return sorted(set(corpus_text()))


@functools.cache
def text_data() -> Arrays:
    """Character windows of TEXT_SEQ+1: inputs and next characters; first 90% trains, rest validates."""
    text = corpus_text()
    index = {c: i for i, c in enumerate(text_vocab())}
    codes = torch.tensor([index[c] for c in text], dtype=torch.long)
    cut = int(len(codes) * 0.9)

    def windows(seq: torch.Tensor, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
        starts = range(0, len(seq) - TEXT_SEQ - 1, stride)
        w = torch.stack([seq[s : s + TEXT_SEQ + 1] for s in starts])
        return w[:, :-1], w[:, 1:]

    xt, yt = windows(codes[:cut], TEXT_SEQ)
    xv, yv = windows(codes[cut:], TEXT_SEQ)
    return xt, yt, xv, yv


# ---------------------------------------------------------------- models


class DigitsCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16 * 4 * 4, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class CharGRU(nn.Module):
    """Embedding, one GRU layer, a linear read-out; logits shaped (batch, vocab, time)."""

    def __init__(self, vocab: int, emb: int = 32, hidden: int = 96) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.rnn = nn.GRU(emb, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.rnn(self.emb(x))
        return self.out(h).transpose(1, 2)


class DigitsLSTM(nn.Module):
    """The 8x8 digits read row by row: one LSTM layer over 8 steps of 8 pixels, a linear read-out."""

    def __init__(self, hidden: int = 64) -> None:
        super().__init__()
        self.rnn = nn.LSTM(8, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.rnn(x.view(-1, 8, 8))
        return self.out(h[-1])


class CharTransformer(nn.Module):
    """Two pre-norm causal transformer layers (width 64, 4 heads, dropout 0.1) over character
    embeddings with learnt positions; logits shaped (batch, vocab, time)."""

    def __init__(self, vocab: int, width: int = 64) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, width)
        self.pos = nn.Parameter(torch.zeros(TEXT_SEQ, width))
        layer = nn.TransformerEncoderLayer(width, 4, 2 * width, dropout=0.1, batch_first=True, norm_first=True)
        self.body = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.out = nn.Linear(width, vocab)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(TEXT_SEQ))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(self.emb(x) + self.pos[: x.shape[1]], mask=self.mask, is_causal=True)
        return self.out(self.norm(h)).transpose(1, 2)


class WavesCNN(nn.Module):
    """Three 1-D convolutions with BatchNorm, global average pooling, a linear read-out."""

    def __init__(self) -> None:
        super().__init__()

        def block(a: int, b: int, k: int) -> list[nn.Module]:
            return [nn.Conv1d(a, b, k, padding=k // 2), nn.BatchNorm1d(b), nn.ReLU()]

        self.body = nn.Sequential(
            *block(1, 16, 5), *block(16, 32, 5), nn.MaxPool1d(2), *block(32, 32, 3), nn.AdaptiveAvgPool1d(1)
        )
        self.out = nn.Linear(32, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x).flatten(1))


def _mlp(
    *sizes: int, activation: type[nn.Module] = nn.ReLU, layer_norm: bool = False, dropout: float = 0.0
) -> nn.Module:
    """Linear layers of these sizes, each but the last followed by (LayerNorm,) the activation
    (and Dropout)."""
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(sizes):
        layers += [nn.Linear(a, b), *([nn.LayerNorm(b)] if layer_norm else []), activation()]
        layers += [nn.Dropout(dropout)] if dropout else []
    while not isinstance(layers[-1], nn.Linear):
        layers.pop()
    return nn.Sequential(*layers)


TASKS: dict[str, Task] = {
    t.name: t
    for t in [
        Task(
            "digits_mlp",
            "MLP 64-128-10 on sklearn digits",
            digits_data,
            lambda: _mlp(64, 128, 10),
            nn.CrossEntropyLoss,
            batch_size=64,
            epochs=18,
        ),
        Task(
            "digits_cnn",
            "two-conv CNN on 8x8 digit images",
            digits_images,
            DigitsCNN,
            nn.CrossEntropyLoss,
            batch_size=64,
            epochs=14,
        ),
        Task(
            "cancer_mlp",
            "MLP 30-32-2 on standardised breast-cancer table",
            cancer_data,
            lambda: _mlp(30, 32, 2),
            nn.CrossEntropyLoss,
            batch_size=32,
            epochs=28,
            eval_every=2,
        ),
        Task(
            "linreg_illcond",
            f"linear regression, Hessian condition number {LINREG_COND:.0e}",
            linreg_data,
            lambda: nn.Linear(LINREG_DIM, 1),
            nn.MSELoss,
            batch_size=64,
            epochs=10,
        ),
        Task(
            "char_gru",
            "character GRU language model on scikit-learn's dataset descriptions",
            text_data,
            lambda: CharGRU(len(text_vocab())),
            nn.CrossEntropyLoss,
            batch_size=32,
            epochs=8,
        ),
        Task(
            "digits_ae",
            "autoencoder 64-32-8-32-64 on digits pixels",
            digits_pixels,
            lambda: _mlp(64, 32, 8, 32, 64),
            nn.MSELoss,
            batch_size=64,
            epochs=18,
        ),
        Task(
            "diabetes_mlp",
            "MLP 10-64-64-1 regression on standardised diabetes table",
            diabetes_data,
            lambda: _mlp(10, 64, 64, 1),
            nn.MSELoss,
            batch_size=32,
            epochs=30,
        ),
        Task(
            "wine_mlp",
            "MLP 13-32-3 on standardised wine table",
            wine_data,
            lambda: _mlp(13, 32, 3),
            nn.CrossEntropyLoss,
            batch_size=16,
            epochs=40,
            eval_every=2,
        ),
        Task(
            "friedman_mlp",
            "MLP 10-64-64-1 regression on scikit-learn's Friedman #1 problem",
            friedman_data,
            lambda: _mlp(10, 64, 64, 1),
            nn.MSELoss,
            batch_size=64,
            epochs=25,
        ),
        Task(
            "digits_cnn_b16",
            "two-conv CNN on 8x8 digit images, batch 16",
            digits_images,
            DigitsCNN,
            nn.CrossEntropyLoss,
            batch_size=16,
            epochs=8,
        ),
        Task(
            "digits_ae_b128",
            "autoencoder 64-128-16-128-64 on digits pixels, batch 128",
            digits_pixels,
            lambda: _mlp(64, 128, 16, 128, 64),
            nn.MSELoss,
            batch_size=128,
            epochs=40,
            eval_every=2,
        ),
        Task(
            "digits_deep_long",
            "MLP 64-64-64-10 on sklearn digits, batch 32, 1320 steps",
            digits_data,
            lambda: _mlp(64, 64, 64, 10),
            nn.CrossEntropyLoss,
            batch_size=32,
            epochs=30,
        ),
        Task(
            "moons_mlp",
            "MLP 2-32-32-2 on scikit-learn's two moons, noise 0.3",
            moons_data,
            lambda: _mlp(2, 32, 32, 2),
            nn.CrossEntropyLoss,
            batch_size=32,
            epochs=10,
        ),
        Task(
            "digits_lstm",
            "LSTM 64 reading the digits row by row",
            digits_data,
            DigitsLSTM,
            nn.CrossEntropyLoss,
            batch_size=64,
            epochs=14,
        ),
        Task(
            "blobs_softmax",
            "softmax regression 40-6 on make_classification, 6 classes",
            blobs_data,
            lambda: nn.Linear(40, 6),
            nn.CrossEntropyLoss,
            batch_size=64,
            epochs=12,
        ),
        Task(
            "circles_mlp",
            "MLP 2-32-32-2 on scikit-learn's two circles, noise 0.1",
            circles_data,
            lambda: _mlp(2, 32, 32, 2),
            nn.CrossEntropyLoss,
            batch_size=32,
            epochs=10,
        ),
        Task(
            "digits_tanh",
            "tanh MLP 64-128-64-10 on sklearn digits",
            digits_data,
            lambda: _mlp(64, 128, 64, 10, activation=nn.Tanh),
            nn.CrossEntropyLoss,
            batch_size=64,
            epochs=18,
        ),
        Task(
            "friedman3_mlp",
            "MLP 4-64-1 regression on scikit-learn's Friedman #3 problem",
            friedman3_data,
            lambda: _mlp(4, 64, 1),
            nn.MSELoss,
            batch_size=64,
            epochs=16,
        ),
        # The outside tasks (plan.OUTSIDE_SWEEPS): other model families, each with the optimizer
        # and schedule it is usually trained with.
        Task(
            "char_transformer",
            "two-layer causal transformer, character language model on the dataset descriptions",
            text_data,
            lambda: CharTransformer(len(text_vocab())),
            nn.CrossEntropyLoss,
            batch_size=32,
            epochs=10,
        ),
        Task(
            "waves_cnn_bn",
            "1-D CNN with BatchNorm on noisy synthetic waveforms, 4 classes",
            waves_data,
            WavesCNN,
            nn.CrossEntropyLoss,
            batch_size=64,
            epochs=11,
        ),
        Task(
            "noisy_dropout_mlp",
            "MLP 20-128-128-4 with dropout 0.3 on make_classification, 15% of labels flipped",
            noisy_classes_data,
            lambda: _mlp(20, 128, 128, 4, dropout=0.3),
            nn.CrossEntropyLoss,
            batch_size=64,
            epochs=11,
        ),
        Task(
            "swissroll_mlp",
            "MLP 3-64-64-1 with LayerNorm and SiLU regressing the swiss roll's parameter",
            swissroll_data,
            lambda: _mlp(3, 64, 64, 1, activation=nn.SiLU, layer_norm=True),
            nn.MSELoss,
            batch_size=64,
            epochs=11,
        ),
        Task(
            "iris_tanh",
            "tanh MLP 4-32-3 on standardised iris table",
            iris_data,
            lambda: _mlp(4, 32, 3, activation=nn.Tanh),
            nn.CrossEntropyLoss,
            batch_size=16,
            epochs=43,
            eval_every=2,
        ),
    ]
}


# ---------------------------------------------------------------- factories


def _loader(x: torch.Tensor, y: torch.Tensor, *, batch_size: int, seed: int | None) -> DataLoader:
    """Whole-batch indexing (no per-sample collate); shuffled by a seeded generator when seed is set."""
    data = TensorDataset(x, y)
    if seed is None:
        sampler = BatchSampler(SequentialSampler(data), batch_size, drop_last=False)
    else:
        gen = torch.Generator().manual_seed(seed)
        sampler = BatchSampler(RandomSampler(data, generator=gen), batch_size, drop_last=True)
    return DataLoader(data, batch_size=None, sampler=sampler)


def steps_per_epoch(task: str) -> int:
    t = TASKS[task]
    return len(t.data()[0]) // t.batch_size


def total_steps(task: str) -> int:
    return steps_per_epoch(task) * TASKS[task].epochs


def chance_loss(task: str) -> float:
    """Validation loss of the best constant prediction fitted on the training split.

    Class frequencies (Laplace-smoothed) for classifiers and the language model, the mean
    target for regression and the autoencoder: the level a run that learned nothing stalls at.
    """
    _, yt, _, yv = TASKS[task].data()
    if yt.dtype == torch.long:
        n = int(max(yt.max(), yv.max())) + 1
        freq = torch.bincount(yt.flatten(), minlength=n).double() + 1.0
        return float(-torch.log(freq / freq.sum())[yv.flatten()].mean())
    return float(((yv - yt.mean(dim=0)) ** 2).mean())


def make(task: str, *, optimizer: str, seed: int) -> dict[str, Any]:
    """A fresh model, loss, data loaders and optimizer factory for one run of `task`."""
    if task not in TASKS:
        raise KeyError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    if optimizer not in OPTIMIZERS:
        raise KeyError(f"unknown optimizer {optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}")
    t = TASKS[task]
    xt, yt, xv, yv = t.data()
    torch.manual_seed(seed)
    np.random.seed(seed)
    return {
        "model": t.model(),
        "loss_fn": t.loss(),
        "batches": _loader(xt, yt, batch_size=t.batch_size, seed=seed),
        "val_batches": _loader(xv, yv, batch_size=VAL_BATCH, seed=None),
        "optimizer": OPTIMIZERS[optimizer],
    }
