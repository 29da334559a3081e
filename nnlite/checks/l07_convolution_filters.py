"""Visible checks of lesson 07, "Convolution and filters".

In the lesson::

    from nnlite.checks import lesson
    check = lesson("07_convolution_filters")
    ...
    check("conv2d", im2col, conv2d)
    im2col, conv2d = check.use("conv2d", im2col, conv2d,
                               fallback=(filters.im2col, filters.conv2d))

Smoke tests of each exercise's contract on tiny inputs, compared with nnlite's own versions in
:mod:`nnlite.filters` (and :func:`nnlite.functional.conv2d`); they never show the answer. The
hidden graders in ``tests/graders/test_07_convolution_filters.py`` do the real testing. Every
fallback is a function of :mod:`nnlite.filters`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnlite import filters
from nnlite import functional as F
from nnlite.checks import visible

LESSON = "07_convolution_filters"


def _close(got: Any, want: Any, what: str, rtol: float = 1e-7, atol: float = 1e-10) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what} has shape {got.shape}, expected {want.shape}"
    assert np.all(np.isfinite(got)), f"{what} contains NaN or inf"
    assert np.all(np.abs(got - want) <= atol + rtol * np.abs(want)), (
        f"{what}: values differ from the expected result"
    )


# ------------------------------------------------------------------------------------- conv2d


@visible("conv2d", hint="Stride 1, no padding: out[n, o, i, j] = sum of w[o] * window at (i, j).")
def conv_plain(im2col, conv2d):
    """conv2d with stride 1 and no padding matches nnlite.functional.conv2d"""
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 2, 5, 6)), rng.normal(size=(3, 2, 2, 3)), rng.normal(size=3)
    _close(conv2d(x, w, b), F.conv2d(x, w, b).data, "conv2d(x, w, b)")


@visible(
    "conv2d",
    hint="PyTorch's conv2d is a cross-correlation: do not flip the kernel.",
)
def conv_not_flipped(im2col, conv2d):
    """an impulse gives back the kernel rotated by 180 degrees (cross-correlation)"""
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    out = np.asarray(conv2d(x, w, None, 1, 1))
    assert out.shape == (1, 1, 5, 5), (
        f"conv2d with padding 1 has shape {out.shape}, expected (1, 1, 5, 5)"
    )
    _close(out[0, 0, 1:4, 1:4], w[0, 0, ::-1, ::-1], "the response to an impulse")


@visible("conv2d", hint="padding zeros go on every side: top and bottom, left and right.")
def conv_stride_padding(im2col, conv2d):
    """stride 2, padding 1 and a non-square kernel match nnlite.functional.conv2d"""
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(1, 3, 7, 6)), rng.normal(size=(2, 3, 3, 2))
    _close(conv2d(x, w, None, 2, 1), F.conv2d(x, w, None, 2, 1).data, "conv2d(stride=2, padding=1)")


@visible(
    "conv2d",
    hint="Flatten each window in the order (channel, kernel row, kernel column), channel slowest.",
)
def im2col_order(im2col, conv2d):
    """im2col columns are ordered (channel, kernel row, kernel column), like torch's unfold"""
    x = np.arange(2 * 2 * 4 * 4, dtype=np.float64).reshape(2, 2, 4, 4)
    _close(im2col(x, 2, 1, 0), filters.im2col(x, 2, 1, 0), "im2col(x, 2)")


@visible("conv2d", hint="float32 inputs give a float32 output; integers become float64.")
def conv_dtype(im2col, conv2d):
    """float32 in gives float32 out"""
    out = np.asarray(conv2d(np.ones((1, 1, 4, 4), np.float32), np.ones((1, 1, 2, 2), np.float32)))
    assert out.dtype == np.float32, f"dtype {out.dtype}, expected float32"


# ------------------------------------------------------------------------------ gabor_kernel


@visible("gabor_kernel", hint="The centre is at (size - 1) / 2; the envelope is 1 there.")
def gabor_centre(gabor_kernel):
    """shape (size, size), value 1 at the centre of an even kernel without mean removal"""
    g = np.asarray(gabor_kernel(9, 0.0, 0.2, 2.0, zero_mean=False))
    assert g.shape == (9, 9), f"shape {g.shape}, expected (9, 9)"
    _close(g[4, 4], 1.0, "the centre value")
    assert abs(float(np.mean(gabor_kernel(8, 0.4, 0.2, 2.0)))) < 1e-12, (
        "zero_mean=True: mean is not 0"
    )


@visible("gabor_kernel", hint="y points UP: y = centre - row, so rows above the centre have y > 0.")
def gabor_y_up(gabor_kernel):
    """theta = pi/2 varies along y, which points up"""
    g = np.asarray(gabor_kernel(9, np.pi / 2, 0.25, 2.0, phase=-np.pi / 2, zero_mean=False))
    assert g[3, 4] > 0.5 and g[5, 4] < -0.5, (
        "an odd kernel (phase -pi/2) at theta = pi/2 should be positive one row above the centre"
    )


@visible(
    "gabor_kernel",
    hint="gamma multiplies y' (across the wave vector), inside the exponent: gamma**2 * y'**2.",
)
def gabor_values(gabor_kernel):
    """values match for theta = 0.6, gamma = 0.5, phase = 1"""
    args = (7, 0.6, 0.18, 1.7, 1.0, 0.5)
    _close(gabor_kernel(*args), filters.gabor_kernel(*args), "gabor_kernel(7, 0.6, ...)")


# ------------------------------------------------------------------------ orientation_tuning


@visible("orientation_tuning", hint="grating uses gabor_kernel's coordinates: y points up.")
def grating_values(grating, orientation_tuning):
    """grating values for theta = 1.1 and phase 0.3"""
    _close(
        grating(6, 1.1, 0.2, 0.3), filters.grating(6, 1.1, 0.2, 0.3), "grating(6, 1.1, 0.2, 0.3)"
    )


@visible(
    "orientation_tuning",
    hint="For each theta take the largest response over the 8 phases 2*pi*m/8.",
)
def tuning_values(grating, orientation_tuning):
    """the tuning curve of a random kernel"""
    k = np.random.default_rng(0).normal(size=(7, 7))
    thetas = np.linspace(0, np.pi, 6, endpoint=False)
    _close(
        orientation_tuning(k, thetas, 0.2),
        filters.orientation_tuning(k, thetas, 0.2),
        "orientation_tuning(kernel, thetas, 0.2)",
    )


@visible("orientation_tuning", hint="A Gabor kernel's tuning curve peaks at its own theta.")
def tuning_peak(grating, orientation_tuning):
    """a Gabor kernel at 60 degrees is tuned to 60 degrees"""
    thetas = np.linspace(0, np.pi, 12, endpoint=False)
    curve = np.asarray(
        orientation_tuning(filters.gabor_kernel(11, np.pi / 3, 0.2, 2.5), thetas, 0.2)
    )
    assert curve.shape == (12,), f"shape {curve.shape}, expected (12,)"
    peak = int(np.argmax(curve))
    assert peak == 4, f"the curve peaks at {15 * peak} degrees, expected 60"


# ------------------------------------------------------------------------------------ whiten


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(200, 6)) @ rng.normal(size=(6, 6))


@visible("whiten", hint="Z.T @ Z / n must be the identity: divide by sqrt(eigenvalue), not by it.")
def whiten_identity(whiten):
    """PCA-whitened data has identity covariance, shapes (n, k) and (d, k)"""
    Z, V = whiten(_data(), k=4)
    Z, V = np.asarray(Z), np.asarray(V)
    assert Z.shape == (200, 4) and V.shape == (6, 4), f"shapes {Z.shape}, {V.shape}"
    _close(Z.T @ Z / 200, np.eye(4), "Z.T @ Z / n", atol=1e-8)


@visible("whiten", hint="Remove each patch's own mean first, then the mean patch.")
def whiten_patch_mean(whiten):
    """adding a constant to a patch changes nothing"""
    P = _data()
    shifted = P + np.arange(200.0)[:, None]
    _close(whiten(shifted, k=4)[0], whiten(P, k=4)[0], "Z of shifted patches", atol=1e-8)


@visible(
    "whiten",
    hint="Eigenvalues in descending order (np.linalg.eigh gives ascending), and fix each "
    "eigenvector's sign so that its largest-|.| entry is positive.",
)
def whiten_values(whiten):
    """PCA and ZCA results match"""
    P = _data()
    for method in ("pca", "zca"):
        Z, V = whiten(P, k=5, method=method)
        Zr, Vr = filters.whiten(P, k=5, method=method)
        _close(V, Vr, f"V ({method})", atol=1e-9)
        _close(Z, Zr, f"Z ({method})", atol=1e-9)


# ----------------------------------------------------------------------------------- fastica


def _mixture():
    rng = np.random.default_rng(0)
    S = rng.laplace(size=(3000, 3))
    A = rng.normal(size=(3, 3))
    Xc = S @ A.T
    Xc = Xc - Xc.mean(axis=0)
    lam, U = np.linalg.eigh(Xc.T @ Xc / len(Xc))
    white = U / np.sqrt(lam)
    return Xc @ white, white, A


@visible("fastica", hint="Decorrelate symmetrically after every update: W <- (W W^T)^(-1/2) W.")
def fastica_orthonormal(fastica):
    """W is (k, k) with orthonormal rows"""
    Z, _, _ = _mixture()
    W = np.asarray(fastica(Z, max_iter=5, tol=0.0, seed=0))
    assert W.shape == (3, 3), f"shape {W.shape}, expected (3, 3)"
    _close(W @ W.T, np.eye(3), "W @ W.T", atol=1e-8)


@visible("fastica", hint="The update: G.T @ Z / n - mean(1 - G**2, axis=0)[:, None] * W.")
def fastica_steps(fastica):
    """three updates from seed 1 match"""
    Z, _, _ = _mixture()
    _close(
        fastica(Z, max_iter=3, tol=0.0, seed=1),
        filters.fastica(Z, max_iter=3, tol=0.0, seed=1),
        "W after 3 updates",
        atol=1e-8,
    )


@visible("fastica", hint="Run until the rows stop turning (or max_iter), then return W.")
def fastica_unmixes(fastica):
    """recovers three mixed Laplacian sources (Amari index < 0.05)"""
    Z, white, A = _mixture()
    W = np.asarray(fastica(Z, seed=0))
    err = filters.amari_index(W @ white.T, A)
    assert err < 0.05, f"Amari index {err:.3f}, expected < 0.05"
