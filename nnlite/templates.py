"""Linear-classifier weights as class templates (Lesson 05).

Softmax regression trained with nnlite's autograd, and the tools to read its weight rows as
images: class means, the similarity of each weight row to each class mean, Haufe et al.'s
(2014) activation patterns, and a grid of weight images with 0 at mid-grey.

* :func:`train_softmax_regression`: zero-initialised softmax regression, minibatch SGD, L2 on W.
* :func:`class_means`: the mean input of every class.
* :func:`template_similarity`: cosines between centred weight rows and centred class means.
* :func:`haufe_patterns`: ``Cov(X) Wᵀ`` (as rows), without forming the D×D covariance.
* :func:`weights_to_image_grid`: weight rows laid out as one grey-scale image in [0, 1].

Every function returns numpy arrays and leaves its inputs unchanged.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import functional as F
from .data import minibatches
from .nn import Parameter
from .optim import SGD

__all__ = [
    "train_softmax_regression",
    "class_means",
    "template_similarity",
    "haufe_patterns",
    "weights_to_image_grid",
]

#: norms below this count as zero in :func:`template_similarity` (PyTorch's cosine eps).
COS_EPS = 1e-8


def _int(value, name: str, minimum: int, who: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{who}: {name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{who}: {name} must be >= {minimum}, got {value}")
    return int(value)


def _real(value, name: str, who: str, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{who}: {name} must be a finite number, got {value!r}")
    if (value <= 0) if positive else (value < 0):
        raise ValueError(f"{who}: {name} must be {'> 0' if positive else '>= 0'}, got {value}")
    return float(value)


def _matrix(X, name: str, who: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{who}: {name} must be 2-D (N, D), got shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{who}: {name} must be numeric, got dtype {X.dtype}")
    return X


def _labels(y, n: int, n_classes: int, X_shape: tuple, who: str) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"{who}: X has shape {X_shape} but y has shape {y.shape}; expected ({n},)")
    if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
        raise TypeError(f"{who}: y must hold integer class indices, got dtype {y.dtype}")
    y = y.astype(np.int64)
    bad = y[(y < 0) | (y >= n_classes)]
    if bad.size:
        raise ValueError(f"{who}: label {bad[0]} is outside 0..{n_classes - 1}")
    return y


def train_softmax_regression(X, y, n_classes, lr, epochs, batch_size, l2=0.0, seed=0):
    """Train softmax regression ``logits = X @ W.T + b`` by minibatch SGD, from zero weights.

    Args:
        X: (N, D) inputs (converted to float64).
        y: (N,) integer class indices in ``0 .. n_classes - 1``.
        n_classes: number of classes C (>= 1).
        lr: learning rate (> 0) of plain SGD (no momentum).
        epochs: passes over the data (>= 0; 0 returns the zero initialisation).
        batch_size: examples per step (>= 1; the last batch of an epoch may be smaller).
        l2: strength of the penalty ``(l2 / 2) * ||W||²`` added to the mean cross-entropy
            (the bias is not penalised); the same as SGD weight decay ``l2`` on W.
        seed: seeds the order of the minibatches (one generator for all epochs), the only
            randomness: the same arguments give bit-identical weights.

    Returns:
        ``(W, b)``: float64 numpy arrays of shapes (C, D) and (C,).

    W and b start at exactly 0 and are nnlite Parameters trained by autograd
    (``nnlite.functional.cross_entropy``, ``nnlite.optim.SGD``). Because every gradient step of
    softmax cross-entropy sums to zero over the classes, the columns of W (and b) keep summing
    to 0 up to round-off, and the weight of an input that is 0 in every example stays exactly 0.
    """
    who = "train_softmax_regression"
    X = _matrix(X, "X", who)
    n_classes = _int(n_classes, "n_classes", 1, who)
    y = _labels(y, len(X), n_classes, X.shape, who)
    lr = _real(lr, "lr", who, positive=True)
    epochs = _int(epochs, "epochs", 0, who)
    batch_size = _int(batch_size, "batch_size", 1, who)
    l2 = _real(l2, "l2", who, positive=False)
    X = X.astype(np.float64)  # a copy: the caller's array is never touched
    W = Parameter(np.zeros((n_classes, X.shape[1])))
    b = Parameter(np.zeros(n_classes))
    opt = SGD([W, b], lr=lr)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        for xb, yb in minibatches(X, y, batch_size, rng=rng):
            loss = F.cross_entropy(xb @ W.T + b, yb)
            if l2:
                loss = loss + (0.5 * l2) * (W * W).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return W.data.copy(), b.data.copy()


def class_means(X, y, n_classes):
    """The mean of the rows of X in each class: row k is ``X[y == k].mean(axis=0)``.

    Args:
        X: (N, D) inputs; float32 gives float32, everything else float64.
        y: (N,) integer class indices in ``0 .. n_classes - 1``.
        n_classes: number of classes C (>= 1).

    Returns:
        (C, D) array of class means.

    Raises:
        ValueError: a class without examples (naming it), a label out of range, or shapes that
            do not match.
    """
    who = "class_means"
    X = _matrix(X, "X", who)
    n_classes = _int(n_classes, "n_classes", 1, who)
    y = _labels(y, len(X), n_classes, X.shape, who)
    counts = np.bincount(y, minlength=n_classes)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        raise ValueError(f"{who}: class {empty[0]} has no examples; its mean is undefined")
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    sums = np.zeros((n_classes, X.shape[1]), dtype=np.float64)
    np.add.at(sums, y, X.astype(np.float64))
    return (sums / counts[:, None]).astype(dtype)


def _unit_rows(A: np.ndarray) -> np.ndarray:
    """Each row divided by max(its norm, COS_EPS), as PyTorch's cosine_similarity does.

    The norm is computed on the row scaled by its largest |entry|, so 1e±200 neither
    overflows nor underflows."""
    scale = np.max(np.abs(A), axis=1, keepdims=True)
    scale = np.where(scale > 0, scale, 1.0)
    norm = np.linalg.norm(A / scale, axis=1, keepdims=True) * scale
    return A / np.maximum(norm, COS_EPS)


def template_similarity(W, M, X_mean=None):
    """Cosine of every centred weight row with every centred class mean.

    ``S[k, j] = cos(W[k] - W.mean(axis=0), M[j] - X_mean)``.

    Args:
        W: (C, D) weights, one row per class (``Linear.weight`` layout).
        M: (K, D) class means (or any reference images).
        X_mean: (D,) the vector subtracted from every row of M, e.g. the mean of all training
            inputs. Default ``M.mean(axis=0)``; pass zeros for uncentred class means.

    Returns:
        (C, K) float64 array in [-1, 1]. Each norm is clamped at 1e-8 before dividing, as in
        ``torch.nn.functional.cosine_similarity``, so a row that is zero after centring has
        cosine 0 with everything.

    Why centre: softmax is unchanged when the same vector is added to every weight row, and
    every class mean shares the average digit; both would otherwise dominate the cosines.
    """
    who = "template_similarity"
    W = _matrix(W, "W", who).astype(np.float64)
    M = _matrix(M, "M", who).astype(np.float64)
    if W.shape[1] != M.shape[1]:
        raise ValueError(f"{who}: W has shape {W.shape} and M has shape {M.shape}; "
                         "their rows must have the same length")  # fmt: skip
    if X_mean is None:
        X_mean = M.mean(axis=0)
    X_mean = np.asarray(X_mean, dtype=np.float64)
    if X_mean.shape != (M.shape[1],):
        raise ValueError(f"{who}: X_mean has shape {X_mean.shape}, expected ({M.shape[1]},) "
                         f"for M of shape {M.shape}")  # fmt: skip
    if len(W) == 0 or len(M) == 0:
        return np.zeros((len(W), len(M)))
    U = _unit_rows(W - W.mean(axis=0))
    V = _unit_rows(M - X_mean)
    return np.clip(U @ V.T, -1.0, 1.0)


def haufe_patterns(X, W):
    """Activation patterns ``A = (Cov(X) Wᵀ)ᵀ`` of the linear scores ``s = X Wᵀ`` (Haufe 2014).

    Args:
        X: (N, D) data, N >= 2; it is centred here (column means subtracted).
        W: (C, D) weights, one row per output, or one weight vector (D,).

    Returns:
        (C, D) float64 (or (D,) for a 1-D W): row k is ``Cov(X) @ W[k]``, the covariance of
        every input with score k, with the unbiased (N - 1) covariance.

    Computed as ``((Xc @ W.T).T @ Xc) / (N - 1)``: two (N, D)-by-(D, C) products instead of
    the D×D covariance matrix. On whitened data (``Cov(X) = I``) the patterns equal W.
    Haufe et al. also divide by the covariance of the scores; for one score that only rescales
    the pattern, which a cosine ignores.
    """
    who = "haufe_patterns"
    X = _matrix(X, "X", who).astype(np.float64)
    W = np.asarray(W)
    if W.dtype.kind not in "biuf" or W.ndim not in (1, 2):
        raise ValueError(f"{who}: W must be a numeric (C, D) or (D,) array, got shape {W.shape}")
    if W.shape[-1] != X.shape[1]:
        raise ValueError(f"{who}: X has shape {X.shape} and W has shape {W.shape}; "
                         "W's rows must have X's number of columns")  # fmt: skip
    if len(X) < 2:
        raise ValueError(f"{who}: the covariance needs N >= 2 examples, got X of shape {X.shape}")
    W2 = np.atleast_2d(W).astype(np.float64)
    Xc = X - X.mean(axis=0)
    A = (Xc @ W2.T).T @ Xc / (len(X) - 1)
    return A[0] if W.ndim == 1 else A


def weights_to_image_grid(W, shape=(28, 28), ncols=5, symmetric=True):
    """Lay the rows of W out as image tiles in one grey-scale array with values in [0, 1].

    Args:
        W: (n, h*w) weights, one image per row.
        shape: (h, w) of one tile.
        ncols: tiles per grid row (>= 1); tile i goes to grid row i // ncols, column i % ncols.
        symmetric: map each tile's values by ``0.5 + 0.5 * w / max|w|`` (over that tile), so
            weight 0 is mid-grey 0.5 and +max|w| / -max|w| are white 1 / black 0. Otherwise
            min-max scale each tile to [0, 1]. A constant tile becomes 0.5 either way.

    Returns:
        float64 array of shape (nrows*h + nrows - 1, ncols*w + ncols - 1) with
        ``nrows = ceil(n / ncols)``: one row/column of NaN separates neighbouring tiles, and
        unused cells of the last grid row are NaN (matplotlib leaves NaN transparent).
    """
    who = "weights_to_image_grid"
    W = _matrix(W, "W", who).astype(np.float64)
    h, w = (_int(s, "shape", 1, who) for s in shape)
    if W.shape[1] != h * w:
        raise ValueError(f"{who}: W has shape {W.shape}; rows of {h * w} values are needed "
                         f"for tiles of shape {(h, w)}")  # fmt: skip
    ncols = _int(ncols, "ncols", 1, who)
    n = len(W)
    if n and symmetric:
        m = np.max(np.abs(W), axis=1, keepdims=True)
        T = 0.5 + 0.5 * W / np.where(m > 0, m, 1.0)
    elif n:
        lo, hi = W.min(axis=1, keepdims=True), W.max(axis=1, keepdims=True)
        T = np.where(hi > lo, (W - lo) / np.where(hi > lo, hi - lo, 1.0), 0.5)
    nrows = max(1, math.ceil(n / ncols))
    grid = np.full((nrows * (h + 1) - 1, ncols * (w + 1) - 1), np.nan)
    for i in range(n):
        r, c = divmod(i, ncols)
        grid[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = T[i].reshape(h, w)
    return grid
