"""Data the course uses, all of it available offline.

* MNIST: a 10,000-image subset of the official training set and the full official test set,
  shipped inside the package (``nnlite/datafiles/``, see ``DATA.md`` there for the licence and
  provenance). :func:`load_mnist` reads them; nothing is ever downloaded.
* A natural photograph: ``grace_hopper.jpg`` from matplotlib's sample data
  (:func:`grace_hopper`), cut into random patches by :func:`image_patches`, and whitened by
  :func:`pca_whiten` / :func:`zca_whiten`.
* :func:`minibatches`: a seeded minibatch iterator.

This module needs numpy only; matplotlib is imported inside :func:`grace_hopper`, the one
function that needs it (to find and decode the JPEG).
"""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Iterator
from pathlib import Path

import numpy as np

__all__ = [
    "MNIST_MEAN",
    "MNIST_STD",
    "MNIST_SHA256",
    "MNIST_SPLITS",
    "array_sha256",
    "verify_mnist",
    "load_mnist",
    "grace_hopper",
    "image_patches",
    "pca_whiten",
    "zca_whiten",
    "minibatches",
]

#: Mean and standard deviation of the pixel values x / 255 over the full official MNIST training
#: set (60,000 images). Standardise with ``(x - MNIST_MEAN) / MNIST_STD`` after ``normalize=True``.
MNIST_MEAN: float = 0.1307
MNIST_STD: float = 0.3081

#: The splits :func:`load_mnist` knows, and the shipped file of each.
MNIST_SPLITS: dict[str, str] = {
    "train": "mnist_train10k.npz",
    "test": "mnist_test10k.npz",
}

#: sha256 of the raw C-order bytes of each shipped array (images ``X`` uint8 (10000, 28, 28),
#: labels ``y`` uint8 (10000,)), as listed in the course's data provenance record. See
#: :func:`array_sha256` and :func:`verify_mnist`.
MNIST_SHA256: dict[str, dict[str, str]] = {
    "train": {
        "X": "2f7182bf021ffc5c1f62db987487f14d899b5c639f421a80f3095affc09a7db2",
        "y": "2f345bad07338ec537641465e169cc4b7288a44244f251211c7f842641e7d927",
    },
    "test": {
        "X": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
        "y": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
    },
}

_DATA_DIR = Path(__file__).resolve().parent / "datafiles"

# Loaded once per process. The cached arrays are made read-only, and callers get copies.
_MNIST_CACHE: dict[str, tuple[np.ndarray, np.ndarray]] = {}
_IMAGE_CACHE: dict[str, np.ndarray] = {}

# ITU-R BT.601 luma weights for R, G, B.
_LUMA_601 = np.array([0.299, 0.587, 0.114])


# --------------------------------------------------------------------------------------------
# MNIST
# --------------------------------------------------------------------------------------------


def array_sha256(a: np.ndarray) -> str:
    """sha256 (hex) of an array's raw bytes in C order; dtype and shape are not hashed."""
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def _check_split(split: str) -> str:
    if split not in MNIST_SPLITS:
        valid = ", ".join(repr(s) for s in MNIST_SPLITS)
        raise ValueError(f"load_mnist: unknown split {split!r}; valid splits are {valid}")
    return split


def _read_mnist(split: str) -> tuple[np.ndarray, np.ndarray]:
    """The cached, read-only (X uint8 (N, 28, 28), y uint8 (N,)) of a split."""
    if split not in _MNIST_CACHE:
        path = _DATA_DIR / MNIST_SPLITS[split]
        if not path.is_file():
            raise FileNotFoundError(
                f"load_mnist: the shipped data file {path} is missing; reinstall nnlite "
                "(the .npz files are package data, nothing is downloaded)"
            )
        with np.load(path, allow_pickle=False) as f:
            X = np.ascontiguousarray(f["X"])
            y = np.ascontiguousarray(f["y"])
        X.setflags(write=False)
        y.setflags(write=False)
        _MNIST_CACHE[split] = (X, y)
    return _MNIST_CACHE[split]


def verify_mnist(split: str | None = None) -> None:
    """Check the shipped MNIST arrays against :data:`MNIST_SHA256`.

    ``split=None`` checks every split. Raises ``ValueError`` naming the split, the array and both
    digests on a mismatch; returns None when everything matches.
    """
    splits = list(MNIST_SPLITS) if split is None else [_check_split(split)]
    for s in splits:
        X, y = _read_mnist(s)
        for name, arr in (("X", X), ("y", y)):
            got = array_sha256(arr)
            want = MNIST_SHA256[s][name]
            if got != want:
                raise ValueError(
                    f"verify_mnist: {s} {name} has sha256 {got}, expected {want}; "
                    "the shipped data file was changed or damaged"
                )


def load_mnist(
    split: str = "train",
    flatten: bool = False,
    normalize: bool = False,
    dtype: type | np.dtype = np.float64,
    n: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load the shipped MNIST images and labels.

    Args:
        split: ``"train"`` (the first 10,000 official training images, in their original order)
            or ``"test"`` (the complete official test set, 10,000 images).
        flatten: return images as rows of 784 pixels, shape (N, 784), instead of (N, 28, 28).
        normalize: return pixels as floats in [0, 1] (x / 255) of ``dtype`` instead of the raw
            uint8 values 0..255.
        dtype: the floating dtype used when ``normalize=True``; ignored otherwise.
        n: keep only the first ``n`` images (0 <= n <= 10,000); None keeps all.

    Returns:
        ``(X, y)``: X is uint8 (N, 28, 28) by default ((N, 784) when flattened; floating when
        normalized); y holds the labels 0..9 as int64, shape (N,). Both are fresh copies: changing
        them does not affect later calls.

    Example:
        >>> X, y = load_mnist("test", flatten=True, normalize=True)
        >>> X.shape, X.dtype, y[:5]
        ((10000, 784), dtype('float64'), array([7, 2, 1, 0, 4]))
    """
    _check_split(split)
    X, y = _read_mnist(split)
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"load_mnist: n must be an int or None, got {type(n).__name__}")
        if not 0 <= n <= len(X):
            raise ValueError(
                f"load_mnist: n must be between 0 and {len(X)} (the size of the {split!r} "
                f"split), got {n}"
            )
        X, y = X[:n], y[:n]
    if normalize:
        dt = np.dtype(dtype)
        if not np.issubdtype(dt, np.floating):
            raise TypeError(
                f"load_mnist: dtype must be a floating dtype when normalize=True, got {dt}"
            )
        X = X.astype(dt) / dt.type(255)
    else:
        X = X.copy()
    if flatten:
        X = X.reshape(len(X), -1)
    return X, y.astype(np.int64)


# --------------------------------------------------------------------------------------------
# Natural images
# --------------------------------------------------------------------------------------------


def _block_average(img: np.ndarray, k: int, who: str) -> np.ndarray:
    """Average non-overlapping k x k blocks of an (H, W[, C]) image; crops H, W to multiples."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"{who}: downsample must be an int >= 1, got {k!r}")
    k = int(k)
    if k == 1:
        return img
    H, W = img.shape[0] // k, img.shape[1] // k
    if H == 0 or W == 0:
        raise ValueError(f"{who}: downsample={k} is larger than the image, shape {img.shape[:2]}")
    img = img[: H * k, : W * k]
    return img.reshape(H, k, W, k, *img.shape[2:]).mean(axis=(1, 3))


def _read_grace_hopper() -> np.ndarray:
    """matplotlib's grace_hopper.jpg as read-only float64 RGB in [0, 1], shape (600, 512, 3)."""
    if "grace_hopper" not in _IMAGE_CACHE:
        try:
            from matplotlib import cbook, image
        except ImportError as e:  # pragma: no cover - matplotlib is a course dependency
            raise ImportError(
                "grace_hopper needs matplotlib (its sample data holds the photo): "
                "pip install matplotlib"
            ) from e
        # asfileobj=False gives the path of the file inside matplotlib's mpl-data folder.
        try:
            path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
            raw = np.asarray(image.imread(path))
        except OSError as e:
            raise FileNotFoundError(
                "grace_hopper: could not read grace_hopper.jpg from matplotlib's sample data "
                f"({e}); some matplotlib packagings leave the sample data out, reinstall "
                "matplotlib with pip to get it"
            ) from e
        if raw.dtype == np.uint8:
            rgb = raw[..., :3].astype(np.float64) / 255.0
        else:  # already floats in [0, 1] (a PNG would be read this way)
            rgb = raw[..., :3].astype(np.float64)
        rgb.setflags(write=False)
        _IMAGE_CACHE["grace_hopper"] = rgb
    return _IMAGE_CACHE["grace_hopper"]


def grace_hopper(gray: bool = True, downsample: int = 1) -> np.ndarray:
    """The photo of Grace Hopper that ships with matplotlib, as float64 in [0, 1].

    Args:
        gray: convert to grayscale with the ITU-R BT.601 luma weights
            0.299 R + 0.587 G + 0.114 B; otherwise keep the three colour channels.
        downsample: average non-overlapping ``downsample x downsample`` pixel blocks (rows and
            columns that do not fill a block are dropped).

    Returns:
        (600 // downsample, 512 // downsample) when gray, with a trailing axis of 3 otherwise.
        A fresh array each call. The file is read from the local matplotlib installation; the
        image is public domain (see ``nnlite/datafiles/DATA.md``).
    """
    rgb = _read_grace_hopper()
    img = rgb @ _LUMA_601 if gray else rgb.copy()
    img = _block_average(img, downsample, "grace_hopper")
    return np.ascontiguousarray(img)


def _as_rng(seed: int | None, rng: np.random.Generator | None) -> np.random.Generator:
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                f"got {type(rng).__name__}"
            )
        return rng
    return np.random.default_rng(seed)


def image_patches(
    n: int,
    size: int = 8,
    seed: int | None = 0,
    downsample: int = 2,
    remove_dc: bool = True,
    image: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Random square patches of a grayscale image, one flattened patch per row.

    Args:
        n: number of patches.
        size: patch side in pixels; each row of the result holds ``size * size`` pixels in
            row-major order (``P[i].reshape(size, size)`` is the patch).
        seed: seed of the patch positions (ignored when ``rng`` is given).
        downsample: block-average the source image by this factor first (2 halves the
            resolution of the photo, which makes edges span several pixels). It is applied to
            ``image`` too when one is given: pass ``downsample=1`` to use its pixels as they are.
        remove_dc: subtract each patch's own mean (its DC component), so every row sums to 0.
        image: a 2-D grayscale array to cut patches from; default :func:`grace_hopper`.
        rng: a numpy Generator to draw positions from, instead of ``seed``.

    Returns:
        float64 array (n, size * size) (float32 if ``image`` is float32). Positions are drawn
        uniformly (top-left corner in [0, H - size] x [0, W - size]), with replacement.
    """
    who = "image_patches"
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"{who}: n must be an int >= 0, got {n!r}")
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"{who}: size must be an int >= 1, got {size!r}")
    if image is None:
        img = grace_hopper(gray=True, downsample=1)
    else:
        img = np.asarray(image)
        if img.ndim != 2:
            raise ValueError(
                f"{who}: image must be a 2-D grayscale array (H, W), got shape {img.shape}"
            )
        if not np.issubdtype(img.dtype, np.floating):
            img = img.astype(np.float64)
    img = _block_average(img, downsample, who)
    H, W = img.shape
    if size > H or size > W:
        raise ValueError(f"{who}: patch size {size} does not fit in an image of shape {(H, W)}")
    gen = _as_rng(seed, rng)
    r = gen.integers(0, H - size + 1, size=n)
    c = gen.integers(0, W - size + 1, size=n)
    offs = np.arange(size)
    rows = r[:, None, None] + offs[None, :, None]  # (n, size, 1)
    cols = c[:, None, None] + offs[None, None, :]  # (n, 1, size)
    P = img[rows, cols].reshape(n, size * size)
    if remove_dc:
        P = P - P.mean(axis=1, keepdims=True)
    return np.ascontiguousarray(P)


# --------------------------------------------------------------------------------------------
# Whitening
# --------------------------------------------------------------------------------------------


def _centred_eig(X: np.ndarray, who: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre the columns of X (n, d); eigen-decompose the covariance (divided by n).

    Returns (Xc (n, d), eigenvalues (d,) descending, eigenvectors (d, d) as columns), with each
    eigenvector's sign fixed so its largest-magnitude entry (lowest index on ties) is positive.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{who}: X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if len(X) < 2:
        raise ValueError(f"{who}: need at least 2 samples to estimate a covariance, got {len(X)}")
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(np.float64)
    Xc = X - X.mean(axis=0)
    C = (Xc.T @ Xc) / len(X)
    lam, U = np.linalg.eigh(C)
    lam, U = lam[::-1], U[:, ::-1]
    lam = np.clip(lam, 0.0, None)  # round-off can make zero eigenvalues slightly negative
    pivot = np.argmax(np.abs(U), axis=0)
    signs = np.sign(U[pivot, np.arange(U.shape[1])])
    signs[signs == 0] = 1
    return Xc, lam, U * signs


def _inv_sqrt(lam: np.ndarray, eps: float, who: str) -> np.ndarray:
    """1 / sqrt(lam + eps), with directions of (numerically) zero variance mapped to 0."""
    if not np.isfinite(eps) or eps < 0:
        raise ValueError(f"{who}: eps must be a finite number >= 0, got {eps!r}")
    tiny = lam.max(initial=0.0) * len(lam) * np.finfo(lam.dtype).eps
    keep = (lam + eps) > tiny
    out = np.zeros_like(lam)
    out[keep] = 1.0 / np.sqrt(lam[keep] + eps)
    return out


def pca_whiten(
    X: np.ndarray, k: int | None = None, eps: float = 1e-2
) -> tuple[np.ndarray, np.ndarray]:
    """PCA whitening: project centred data on the top-k principal axes, scaled to unit variance.

    Args:
        X: data (n, d), one sample per row (e.g. :func:`image_patches`).
        k: number of components to keep; None keeps every direction with non-zero variance
            (63 for DC-removed 8x8 patches, since removing the mean loses one dimension).
        eps: regulariser added to each eigenvalue before dividing, in the units of X's
            variance; it damps the low-variance (high-frequency, noisy) directions. With
            ``eps=0`` the output covariance is exactly the identity.

    Returns:
        ``(Z, V)``: Z (n, k) = (X - X.mean(0)) @ V, and V (d, k) whose column j is the j-th
        eigenvector of the covariance (descending eigenvalue) divided by sqrt(eigenvalue + eps).
        The covariance is divided by n. Eigenvector signs are fixed (largest entry positive), so
        the result is deterministic.
    """
    who = "pca_whiten"
    Xc, lam, U = _centred_eig(X, who)
    d = len(lam)
    if k is None:
        tiny = lam.max(initial=0.0) * d * np.finfo(lam.dtype).eps
        k = int(np.count_nonzero(lam > tiny))
    elif isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= d:
        raise ValueError(f"{who}: k must be an int between 1 and {d} (the dimension), got {k!r}")
    V = U[:, :k] * _inv_sqrt(lam[:k], eps, who)
    return Xc @ V, V


def zca_whiten(X: np.ndarray, eps: float = 1e-2) -> tuple[np.ndarray, np.ndarray]:
    """ZCA whitening: decorrelate data while staying as close as possible to the pixel basis.

    Args:
        X: data (n, d), one sample per row.
        eps: regulariser added to each eigenvalue (see :func:`pca_whiten`). Directions with
            zero variance (e.g. the DC direction of mean-removed patches) are mapped to 0.

    Returns:
        ``(X_white, W_zca)``: W_zca (d, d) = U diag(1 / sqrt(lam + eps)) U^T is symmetric, and
        X_white (n, d) = (X - X.mean(0)) @ W_zca. Whiten new data with the same mean and W_zca.
        The rows of W_zca are centre-surround "whitening kernels".
    """
    who = "zca_whiten"
    Xc, lam, U = _centred_eig(X, who)
    W = (U * _inv_sqrt(lam, eps, who)) @ U.T
    W = (W + W.T) / 2  # exactly symmetric despite round-off
    return Xc @ W, W


# --------------------------------------------------------------------------------------------
# Minibatches
# --------------------------------------------------------------------------------------------


def minibatches(
    X: np.ndarray,
    y: np.ndarray | None,
    batch_size: int,
    shuffle: bool = True,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Iterate over ``(X_batch, y_batch)`` pairs covering the data once (one epoch).

    Args:
        X: inputs, first axis = samples (N, ...).
        y: targets (N, ...) or None (then every y_batch is None).
        batch_size: samples per batch (>= 1); the last batch may be smaller.
        shuffle: visit the samples in a random order; otherwise in their stored order.
        seed: seed of the order when shuffling (ignored when ``rng`` is given). With neither
            ``seed`` nor ``rng`` the order is different on every call.
        rng: a numpy Generator to draw the order from, e.g. one shared across epochs.
        drop_last: skip a last batch smaller than ``batch_size``.

    Yields:
        ``(X[idx], y[idx])`` for consecutive slices ``idx`` of the (shuffled) order; the batches
        are copies when shuffling and views of X, y otherwise.

    The arguments are checked when ``minibatches`` is called, not at the first batch; the order
    is drawn at call time too, so equal seeds give equal batches.
    """
    who = "minibatches"
    X = np.asarray(X)
    if X.ndim == 0:
        raise ValueError(f"{who}: X must have a samples axis, got a 0-d array")
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 0 or len(y) != len(X):
            ny = "a 0-d array" if y.ndim == 0 else f"{len(y)} samples"
            raise ValueError(f"{who}: X has {len(X)} samples but y has {ny}; they must match")
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"{who}: batch_size must be an int, got {type(batch_size).__name__}")
    if batch_size < 1:
        raise ValueError(f"{who}: batch_size must be >= 1, got {batch_size}")
    N, bs = len(X), int(batch_size)
    order = _as_rng(seed, rng).permutation(N) if shuffle else None
    stop = N - N % bs if drop_last else N

    def batches() -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        for start in range(0, stop, bs):
            if order is None:
                sl = slice(start, min(start + bs, N))
                yield X[sl], (None if y is None else y[sl])
            else:
                idx = order[start : start + bs]
                yield X[idx], (None if y is None else y[idx])

    return batches()
