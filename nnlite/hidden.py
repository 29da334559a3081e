"""Hidden units as images, and how well a layer's features separate classes (lesson 06).

Tools to look at the first layer of an MLP and to measure what it computes:

* :func:`unit_images`: each unit's incoming weights (or their change during training,
  ``W - W_init``) as images;
* :func:`roughness`: how rough an image is, the norm of its discrete Laplacian over its norm;
* :func:`top_k_examples`: the dataset examples that activate each unit most;
* :func:`nearest_class_mean_accuracy`, :func:`scatter_ratio` and :func:`linear_probe`: three
  ways to measure how well features (pixels, or a hidden layer's activations) separate classes.

These are the lesson's exercises; the notebook falls back to them while a student's version is
missing or fails its check. Everything takes numpy arrays (an nnlite Tensor is accepted too);
float32 in gives float32 out where an array is returned, integers become float64.

    >>> from nnlite import hidden, zoo
    >>> run = zoo.mnist_mlp(seed=0)
    >>> dW = hidden.unit_images(run.model[0].weight, run.init[0].weight)   # (128, 28, 28)
    >>> hidden.roughness(dW).shape
    (128,)
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "unit_images",
    "roughness",
    "top_k_examples",
    "nearest_class_mean_accuracy",
    "scatter_ratio",
    "linear_probe",
]


def _array(x: Any) -> np.ndarray:
    """The numpy data of a Tensor, or ``np.asarray(x)``; integers and bools become float64."""
    a = np.asarray(getattr(x, "data", x))
    if a.dtype.kind not in "fc":
        a = a.astype(np.float64)
    return a


def _labels(y: Any, n: int, who: str, what: str) -> np.ndarray:
    y = np.asarray(getattr(y, "data", y))
    if y.shape != (n,):
        raise ValueError(f"{who}: {what} has shape {y.shape}, expected ({n},), one label per row")
    return y


def unit_images(W1: Any, W1_init: Any = None, shape: tuple[int, int] = (28, 28)) -> np.ndarray:
    """The incoming weights of each unit as an image: ``W1`` (or ``W1 - W1_init``) reshaped.

    Args:
        W1: first-layer weights (H, h*w), one unit per row (PyTorch's ``(out, in)`` layout);
            a numpy array or an nnlite Tensor/Parameter.
        W1_init: the same layer's initial weights, same shape; when given, the images show what
            training added, ``W1 - W1_init``.
        shape: (h, w) of one image; h * w must equal the number of columns of ``W1``.

    Returns:
        A new array (H, h, w) (row-major reshape: pixel ``i`` of a row goes to
        ``(i // w, i % w)``); float32 stays float32, integers become float64. The inputs are
        left unchanged.

    Raises:
        ValueError: W1 is not 2-D, W1_init has another shape, or h * w does not fit.
    """
    who = "unit_images"
    W = _array(W1)
    if W.ndim != 2:
        raise ValueError(f"{who}: W1 must be (H, h*w), got shape {W.shape}")
    if W1_init is not None:
        W0 = _array(W1_init)
        if W0.shape != W.shape:
            raise ValueError(f"{who}: W1 of shape {W.shape} and W1_init of shape {W0.shape} differ")
        W = W - W0
    h, w = (int(s) for s in shape)
    if h * w != W.shape[1]:
        raise ValueError(f"{who}: shape {tuple(shape)} does not fit rows of W1 {W.shape}")
    return W.reshape(W.shape[0], h, w).copy()


def roughness(images: Any) -> np.ndarray:
    """Roughness of each image: ‖discrete Laplacian‖ / ‖image‖ (Frobenius norms).

    The Laplacian is the 5-point stencil ``up + down + left + right - 4 * centre`` at the
    interior pixels only (an (h, w) image gives an (h-2, w-2) Laplacian; no padding, no
    wrap-around). A constant image has roughness 0, a smooth one little, independent noise
    about ``sqrt(20 (h-2)(w-2) / (h w))`` (4.15 for 28 × 28), a ±1 checkerboard exactly
    ``8 sqrt((h-2)(w-2) / (h w))`` (7.4286 for 28 × 28). The measure does not depend on the
    image's scale, and is computed so that it stays finite for values as large as 1e200 or as
    small as 1e-200. An all-zero image has roughness 0; a NaN pixel gives NaN for its image.

    Args:
        images: (H, h, w) with h, w >= 3, a numpy array or Tensor.

    Returns:
        (H,) array; float32 stays float32, otherwise float64.
    """
    who = "roughness"
    T = _array(images)
    if T.ndim != 3 or T.shape[1] < 3 or T.shape[2] < 3:
        raise ValueError(f"{who}: images must be (H, h, w) with h, w >= 3, got shape {T.shape}")
    dtype = T.dtype
    if len(T) == 0:
        return np.zeros(0, dtype=dtype)
    T = T.astype(np.float64)
    # Divide each image by its largest |value| first: the ratio is scale-free, and the squares
    # of 1e200 (or 1e-200) would overflow (underflow) otherwise.
    with np.errstate(invalid="ignore"):
        scale = np.abs(T).max(axis=(1, 2), keepdims=True)
        T = np.divide(T, scale, out=np.zeros_like(T), where=scale > 0)
        T[np.isnan(scale[:, 0, 0])] = np.nan
    c = T[:, 1:-1, 1:-1]
    lap = T[:, :-2, 1:-1] + T[:, 2:, 1:-1] + T[:, 1:-1, :-2] + T[:, 1:-1, 2:] - 4 * c
    num = np.sqrt((lap**2).sum(axis=(1, 2)))
    den = np.sqrt((T**2).sum(axis=(1, 2)))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    out[np.isnan(den)] = np.nan
    return out.astype(dtype if dtype == np.float32 else np.float64)


def top_k_examples(acts: Any, k: int) -> np.ndarray:
    """For each unit, the indices of the ``k`` examples that activate it most.

    Args:
        acts: activations (N, H), one row per example, one column per unit.
        k: how many examples per unit, 0 <= k <= N.

    Returns:
        int64 array (k, H): column j lists unit j's examples by decreasing activation; equal
        activations keep the lower index first; NaN ranks below every number.

    Raises:
        ValueError: acts is not 2-D, or k is negative or larger than N.
    """
    who = "top_k_examples"
    A = _array(acts)
    if A.ndim != 2:
        raise ValueError(f"{who}: acts must be (N, H), got shape {A.shape}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 <= k <= A.shape[0]:
        raise ValueError(f"{who}: k must be an int in 0..N = {A.shape[0]}, got {k!r}")
    # A stable sort of -acts: largest first, ties in index order, NaN last.
    return np.argsort(-A, axis=0, kind="stable")[: int(k)].astype(np.int64)


def nearest_class_mean_accuracy(F_train: Any, y_train: Any, F_test: Any, y_test: Any) -> float:
    """Accuracy of the nearest-class-mean rule: each test row gets the class whose mean
    training row is nearest (Euclidean distance).

    Args:
        F_train: features (N, D) of the training examples; y_train: their labels (N,).
        F_test: features (M, D) of the examples to classify; y_test: their labels (M,).
        Labels may be any integers (not necessarily 0..C-1): the classes are the distinct values
        of ``y_train``. A test label that does not occur in training is always counted wrong.

    Returns:
        The fraction (a Python float in [0, 1]) of test rows whose nearest class mean is their
        own class. Equal distances go to the smaller label. NaN for M = 0.

    Raises:
        ValueError: the feature widths differ, labels do not fit, or N = 0.
    """
    who = "nearest_class_mean_accuracy"
    Xtr, Xte = _array(F_train), _array(F_test)
    if Xtr.ndim != 2 or Xte.ndim != 2 or Xtr.shape[1] != Xte.shape[1]:
        raise ValueError(
            f"{who}: F_train of shape {Xtr.shape} and F_test of shape {Xte.shape} must be "
            "(N, D) and (M, D)"
        )
    ytr = _labels(y_train, len(Xtr), who, "y_train")
    yte = _labels(y_test, len(Xte), who, "y_test")
    if len(Xtr) == 0:
        raise ValueError(f"{who}: no training examples (F_train has shape {Xtr.shape})")
    if len(Xte) == 0:
        return float("nan")
    classes = np.unique(ytr)
    means = np.stack([Xtr[ytr == c].mean(axis=0) for c in classes]).astype(np.float64)
    Xte = Xte.astype(np.float64)
    # One class at a time: an (M, C, D) array of differences would not fit in memory for MNIST.
    dist = np.stack([((Xte - m) ** 2).sum(axis=1) for m in means], axis=1)
    return float(np.mean(classes[dist.argmin(axis=1)] == yte))


def scatter_ratio(F: Any, y: Any) -> float:
    """Between-class over within-class sum of squares of features ``F`` with labels ``y``.

    ``between = Σ_c n_c ‖μ_c - μ‖²`` with μ_c the mean of class c's n_c rows and μ the mean of
    all rows; ``within = Σ_i ‖F_i - μ_{y_i}‖²``. The two add up to the total sum of squares
    ``Σ_i ‖F_i - μ‖²``. Large when classes lie far apart compared with their spread.

    Args:
        F: features (N, D), N >= 1; y: labels (N,), any integers.

    Returns:
        A Python float >= 0: ``between / within``; ``inf`` when within is 0 and between is not,
        NaN when both are 0.
    """
    who = "scatter_ratio"
    X = _array(F)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"{who}: F must be (N, D) with N >= 1, got shape {X.shape}")
    labels = _labels(y, len(X), who, "y")
    X = X.astype(np.float64)
    mu = X.mean(axis=0)
    between = within = 0.0
    for c in np.unique(labels):
        rows = X[labels == c]
        m = rows.mean(axis=0)
        between += len(rows) * float(((m - mu) ** 2).sum())
        within += float(((rows - m) ** 2).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(between) / np.float64(within))


def linear_probe(
    F_train: Any,
    y_train: Any,
    F_test: Any,
    y_test: Any,
    epochs: int,
    seed: int = 0,
    lr: float = 0.1,
    batch_size: int = 128,
    l2: float = 0.0,
) -> float:
    """Accuracy of a softmax-regression classifier trained on features (a "linear probe").

    Each feature is standardised with the *training* rows' mean and standard deviation (a
    constant feature is only centred), so that one learning rate suits pixels and hidden
    activations alike; then lesson 05's :func:`nnlite.templates.train_softmax_regression`
    (zero initialisation, minibatch SGD) is trained on the training rows, and the test rows
    are classified by the largest score ``F @ W.T + b``.

    Args:
        F_train, y_train: features (N, D) and labels 0..C-1 (N,) to train on.
        F_test, y_test: features (M, D) and labels (M,) to measure on.
        epochs, seed, lr, batch_size, l2: passed to ``train_softmax_regression``; C is
            ``max(y_train) + 1``.

    Returns:
        The test accuracy, a Python float in [0, 1].
    """
    from nnlite.templates import train_softmax_regression

    who = "linear_probe"
    Xtr, Xte = _array(F_train).astype(np.float64), _array(F_test).astype(np.float64)
    if Xtr.ndim != 2 or Xte.ndim != 2 or Xtr.shape[1] != Xte.shape[1]:
        raise ValueError(
            f"{who}: F_train of shape {Xtr.shape} and F_test of shape {Xte.shape} must be "
            "(N, D) and (M, D)"
        )
    ytr = _labels(y_train, len(Xtr), who, "y_train").astype(np.int64)
    yte = _labels(y_test, len(Xte), who, "y_test")
    mean, sd = Xtr.mean(axis=0), Xtr.std(axis=0)
    sd[sd == 0] = 1.0
    W, b = train_softmax_regression(
        (Xtr - mean) / sd, ytr, int(ytr.max()) + 1, lr, epochs, batch_size, l2=l2, seed=seed
    )
    scores = ((Xte - mean) / sd) @ np.asarray(W).T + np.asarray(b)
    return float(np.mean(scores.argmax(axis=1) == yte))
