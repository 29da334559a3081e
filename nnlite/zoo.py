"""Trained networks for the lessons that open a network up: lesson 02's MLP, trained on demand.

Lessons 03-10 study the weights of the network that lesson 02 trains. Nothing is downloaded:
:func:`mnist_mlp` trains it from the shipped MNIST images with lesson 02's procedure (same split,
initialisation, batch order and optimiser), so the same seed gives the same weights as lesson 02.
Results are cached in the process, so asking twice costs one training.

    >>> from nnlite import zoo
    >>> X_train, y_train, X_val, y_val = zoo.mnist_split()
    >>> run = zoo.mnist_mlp(seed=0)              # about 3-5 s the first time
    >>> run.model, run.init                      # trained and initial network (fresh copies)
    >>> run.val_accuracy                         # accuracy on the 2,000 validation images
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import functional as F
from .data import load_mnist
from .nn import MLP
from .optim import SGD
from .tensor import Tensor
from .train import evaluate

#: Lesson 02's split of the 10,000 shipped training images: this seed picks the validation set.
SPLIT_SEED = 2026
N_VAL = 2000
#: Lesson 02's training configuration (its learning rate was chosen on the validation split).
DEFAULTS = {"hidden": (128,), "epochs": 10, "lr": 0.2, "momentum": 0.9, "batch_size": 128}
LABELS = ("true", "shuffled")


@functools.lru_cache(maxsize=1)
def _split() -> tuple[np.ndarray, ...]:
    X, y = load_mnist("train", flatten=True, normalize=True)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(X))
    return X[order[N_VAL:]], y[order[N_VAL:]], X[order[:N_VAL]], y[order[:N_VAL]]


def mnist_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lesson 02's split: ``(X_train, y_train, X_val, y_val)``.

    The 10,000 shipped training images, permuted with seed ``SPLIT_SEED``: 8,000 for training and
    2,000 for validation. Images are float64 rows of 784 pixels in [0, 1]; labels int64 0..9.
    Fresh copies on every call.
    """
    return tuple(a.copy() for a in _split())


def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 official MNIST test images as ``(X_test, y_test)``, like :func:`mnist_split`."""
    return load_mnist("test", flatten=True, normalize=True)


@dataclass(frozen=True)
class TrainedMLP:
    """One training run of :func:`mnist_mlp`.

    Attributes:
        model: the trained :class:`nnlite.nn.MLP`, in eval mode (a fresh copy per call).
        init: the same MLP at its initial weights, before any step: the untrained control.
        seed: the seed of the initial weights, the batch order and (if any) the label shuffle.
        config: the training configuration (sizes, labels, epochs, lr, momentum, batch size,
            weight decay).
        train_loss, val_loss, val_accuracy: of the final network, on the 8,000 training images
            (with the labels it was trained on) and the 2,000 validation images.
    """

    model: MLP
    init: MLP
    seed: int
    config: dict = field(repr=False)
    train_loss: float
    val_loss: float
    val_accuracy: float


def _network(sizes: tuple[int, ...], state: dict[str, np.ndarray]) -> MLP:
    net = MLP(list(sizes), seed=0)
    net.load_state_dict(state)
    return net.eval()


def _train_epoch(net: MLP, X: np.ndarray, y: np.ndarray, opt: SGD, batch_size: int, rng) -> float:
    # Lesson 02's train_epoch exactly (same use of rng), so the seeds give lesson 02's weights.
    order = rng.permutation(len(X))
    total = 0.0
    for start in range(0, len(X), batch_size):
        idx = order[start : start + batch_size]
        loss = F.cross_entropy(net(Tensor(X[idx])), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    return total / len(X)


@functools.lru_cache(maxsize=64)
def _train(seed, hidden, labels, epochs, lr, weight_decay) -> tuple[dict, dict, dict]:
    X, y, X_val, y_val = _split()
    rng = np.random.default_rng(seed)
    if labels == "shuffled":
        y = rng.permutation(y)
    sizes = (784, *hidden, 10)
    net = MLP(list(sizes), rng=rng)
    init_state = net.state_dict()
    opt = SGD(net.parameters(), lr=lr, momentum=DEFAULTS["momentum"], weight_decay=weight_decay)
    for _ in range(epochs):
        _train_epoch(net, X, y, opt, DEFAULTS["batch_size"], rng)
    train_loss, _ = evaluate(net, X, y)
    val_loss, val_accuracy = evaluate(net, X_val, y_val)
    metrics = {"train_loss": train_loss, "val_loss": val_loss, "val_accuracy": val_accuracy}
    return init_state, net.state_dict(), metrics


def _check_args(seed, hidden, labels, epochs, lr, weight_decay) -> tuple:
    who = "mnist_mlp"
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{who}: seed must be a non-negative int, got {seed!r}")
    if isinstance(hidden, (int, np.integer)):
        hidden = (hidden,)
    hidden = tuple(hidden)
    if not hidden or any(
        isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1 for h in hidden
    ):
        raise ValueError(
            f"{who}: hidden must be positive layer widths such as (128,), got {hidden}"
        )
    if labels not in LABELS:
        raise ValueError(f"{who}: labels must be one of {LABELS}, got {labels!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"{who}: epochs must be a non-negative int, got {epochs!r}")
    if not lr > 0 or not weight_decay >= 0:
        raise ValueError(f"{who}: need lr > 0 and weight_decay >= 0, got {lr} and {weight_decay}")
    hidden = tuple(int(h) for h in hidden)
    return int(seed), hidden, labels, int(epochs), float(lr), float(weight_decay)


def mnist_mlp(
    seed: int = 0,
    hidden: Any = DEFAULTS["hidden"],
    labels: str = "true",
    epochs: int = DEFAULTS["epochs"],
    lr: float = DEFAULTS["lr"],
    weight_decay: float = 0.0,
) -> TrainedMLP:
    """Lesson 02's MNIST network, trained with lesson 02's procedure.

    ``MLP([784, *hidden, 10])`` (ReLU) initialised from ``np.random.default_rng(seed)``, trained
    on the 8,000 training images of :func:`mnist_split` with SGD (momentum 0.9, batch 128, a new
    batch order from the same generator every epoch) and cross-entropy.

    Args:
        seed: seeds the initial weights, the batch order and the label shuffle.
        hidden: hidden layer widths, e.g. ``(128,)`` (the default) or ``(64, 64)``.
        labels: ``"true"``, or ``"shuffled"`` for the control trained on a random permutation of
            the training labels (drawn from the seeded generator before the initial weights).
        epochs, lr, weight_decay: as in lesson 02 (10 epochs, learning rate 0.2, no decay).

    Returns:
        A :class:`TrainedMLP` with fresh copies of the trained and the initial network: changing
        them never changes what a later call returns. The training itself runs once per set of
        arguments in a process.
    """
    args = _check_args(seed, hidden, labels, epochs, lr, weight_decay)
    init_state, state, metrics = _train(*args)
    seed, hidden, labels, epochs, lr, weight_decay = args
    sizes = (784, *hidden, 10)
    config = {
        "sizes": sizes,
        "labels": labels,
        "epochs": epochs,
        "lr": lr,
        "momentum": DEFAULTS["momentum"],
        "batch_size": DEFAULTS["batch_size"],
        "weight_decay": weight_decay,
    }
    return TrainedMLP(
        model=_network(sizes, state),
        init=_network(sizes, init_state),
        seed=seed,
        config=config,
        **metrics,
    )
