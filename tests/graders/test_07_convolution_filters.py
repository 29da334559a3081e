"""Hidden grader of lesson 07, "Convolution and filters".

Every test scores one exercise (``@pytest.mark.exercise``) and compares the student's answer,
computed in the sandbox, with the solution notebook's answer (``reference``) or with a value
computed here from first principles (naive convolution loops, the Amari index of an unmixing),
in this trusted process. Inputs are small and random (seeded), with asymmetric kernels and
non-square shapes so that a flipped kernel, a transposition or a one-sided padding shows. No test
touches the photo or trains anything: the whole file grades a notebook in about a second.

The plain tests at the end (no exercise marker) are ignored by the grader; in CI they check the
reference against PyTorch (``conv2d``, ``unfold``), which is what makes "equal to the reference"
mean "as in PyTorch".

Points per exercise add up to the points of the exercise cell in the notebook.
"""

from __future__ import annotations

import numpy as np
import pytest

from nnlite.grading import assert_close, assert_shape, assert_true
from nnlite.grading.compare import as_array

LESSON = "07_convolution_filters"
EXERCISES = {
    "conv2d": ["im2col", "conv2d"],
    "gabor_kernel": ["gabor_kernel"],
    "orientation_tuning": ["grating", "orientation_tuning"],
    "whiten": ["whiten"],
    "fastica": ["fastica"],
}
# R13: nnlite's own versions, out of reach while the exercise is graded (nnlite.grading.ownwork).
OWN_WORK = {
    "conv2d": [
        "nnlite.filters:im2col",
        "nnlite.filters:conv2d",
        "nnlite.functional:conv2d",
        "nnlite.functional:_windows",
        "nnlite.nn:Conv2d",
    ],
    "gabor_kernel": ["nnlite.filters:gabor_kernel", "nnlite.filters:gabor_model"],
    "orientation_tuning": ["nnlite.filters:grating", "nnlite.filters:orientation_tuning"],
    "whiten": [
        "nnlite.filters:whiten",
        "nnlite.data:pca_whiten",
        "nnlite.data:zca_whiten",
        "nnlite.data:_centred_eig",
    ],
    "fastica": ["nnlite.filters:fastica", "nnlite.filters:_sym_decorrelate"],
}

HINT_FORMULA = (
    "out[n, o, i, j] = bias[o] + sum over c, u, v of weight[o, c, u, v] * "
    "x_padded[n, c, i*stride + u, j*stride + v]: reshape the weight to (O, C*kH*kW) and multiply "
    "it with the im2col columns."
)
HINT_FLIP = (
    "PyTorch's conv2d is a cross-correlation: the kernel is NOT flipped. A symmetric kernel "
    "cannot tell the two apart; these tests use asymmetric ones."
)
HINT_PADDING = (
    "padding adds zeros on every side (top and bottom, left and right): "
    "np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))); stride and padding may be pairs (h, w)."
)
HINT_ORDER = (
    "Within a column, run over (channel, kernel row, kernel column) with the channel slowest, "
    "and number the windows row by row (l = i * W_out + j), as torch.nn.functional.unfold."
)
HINT_DTYPE = "float32 inputs give float32; integers are converted to float64 first."
HINT_SHAPES = "Raise ValueError naming both shapes when x and weight are not 4-D with the same C."
HINT_Y_UP = (
    "y points UP: y = centre - row (the row index grows downwards). With y = row - centre every "
    "orientation is mirrored."
)
HINT_GABOR = (
    "x' = x cos(theta) + y sin(theta), y' = -x sin(theta) + y cos(theta); "
    "g = exp(-(x'**2 + gamma**2 * y'**2) / (2 * sigma**2)) * cos(2 * pi * freq * x' + phase)."
)
HINT_ZERO_MEAN = "With zero_mean=True subtract the kernel's own mean (over all its pixels)."
HINT_TUNING = (
    "For each theta, the largest of sum(kernel * grating(size, theta, freq, phase)) over the 8 "
    "phases 2*pi*m/8, m = 0..7."
)
HINT_WHITEN = (
    "Remove each patch's mean, then the mean patch; covariance Xc.T @ Xc / n (not n - 1); "
    "eigenvalues in descending order; fix each eigenvector's sign (largest-|.| entry positive); "
    "V = U_k / sqrt(lam_k + eps) (and @ U_k.T for ZCA)."
)
HINT_GRATING = (
    "grating = cos(2*pi*freq*(x cos(theta) + y sin(theta)) + phase), in gabor_kernel's frame: "
    "x = column - centre, y = centre - row (y points UP)."
)
HINT_SIGN = "Make each eigenvector's largest-|.| entry positive (multiply the column by -1)."
HINT_PATCH_MEAN = "Subtract each patch's (row's) own mean first, before the mean patch."
HINT_FASTICA = (
    "One update: G = tanh(Z @ W.T); W_new = G.T @ Z / n - mean(1 - G**2, axis=0)[:, None] * W, "
    "then W_new = (W_new W_new^T)^(-1/2) W_new; start from the decorrelated "
    "default_rng(seed).standard_normal((k, k))."
)
HINT_DECORRELATE = (
    "Symmetric decorrelation after every update: with W W^T = E diag(s) E^T, "
    "W <- E diag(1/sqrt(s)) E^T W."
)
HINT_STOP = (
    "Stop right after the first update with max_i | |dot(W_new[i], W[i])| - 1 | < tol, and "
    "return that W_new."
)


# ============================================================================== helpers (parent)


def naive_conv(x, w, b, stride, padding):
    """The formula, one output at a time (stride, padding: pairs)."""
    (sh, sw), (ph, pw) = stride, padding
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    out = np.zeros((N, O, oh, ow))
    for n, o, i, j in np.ndindex(N, O, oh, ow):
        out[n, o, i, j] = np.sum(xp[n, :, i * sh : i * sh + kh, j * sw : j * sw + kw] * w[o])
        out[n, o, i, j] += 0.0 if b is None else b[o]
    return out


def amari(W, A):
    P = np.abs(W @ A)
    k = len(P)
    rows = (P / P.max(axis=1, keepdims=True)).sum(axis=1) - 1
    cols = (P / P.max(axis=0, keepdims=True)).sum(axis=0) - 1
    return float((rows.sum() + cols.sum()) / (2 * k * (k - 1)))


def mixture(seed, n=4000, k=4):
    """Whitened Laplacian mixture: (Z, whitening matrix, mixing A)."""
    rng = np.random.default_rng(seed)
    S, A = rng.laplace(size=(n, k)), rng.normal(size=(k, k))
    X = S @ A.T
    Xc = X - X.mean(axis=0)
    lam, U = np.linalg.eigh(Xc.T @ Xc / n)
    white = U / np.sqrt(lam)
    return Xc @ white, white, A


# ============================================================================== drivers (sandbox)


def drive_tuning(ns, kernel, thetas, freq):
    """The student's orientation_tuning with a correct grating in its place: a grating bug is
    graded by the grating tests only (the same exercise, but one bug should cost once)."""
    import numpy as np

    def grating(size, theta, freq, phase=0.0):
        centre = (size - 1) / 2
        rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
        x, y = cols - centre, centre - rows
        return np.cos(2 * np.pi * freq * (x * np.cos(theta) + y * np.sin(theta)) + phase)

    tuning = ns["orientation_tuning"]
    g = getattr(tuning, "__globals__", {})
    saved = g.get("grating", None)
    g["grating"] = grating
    try:
        return tuning(kernel, thetas, freq)
    finally:
        if saved is None:
            g.pop("grating", None)
        else:
            g["grating"] = saved


# ====================================================================================== conv2d


@pytest.mark.exercise("conv2d")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_FORMULA)
def test_conv2d_matches_the_formula(student, reference, rng):
    """stride 1, no padding, 3 channels, a non-square input and kernel, with bias"""
    x, w, b = rng.normal(size=(2, 3, 6, 7)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    got = student.conv2d(x, w, b)
    assert_close(got, naive_conv(x, w, b, (1, 1), (0, 0)), rtol=1e-9, atol=1e-12)
    assert_close(got, reference.conv2d(x, w, b), rtol=1e-9, atol=1e-12)
    assert_close(
        student.conv2d(x, w),
        naive_conv(x, w, None, (1, 1), (0, 0)),
        rtol=1e-9,
        atol=1e-12,
        msg="conv2d without bias",
    )


@pytest.mark.exercise("conv2d")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_FLIP)
def test_conv2d_does_not_flip_the_kernel(student, rng):
    """an impulse gives back the kernel rotated by 180 degrees; an asymmetric kernel on noise"""
    x = np.zeros((1, 1, 5, 6))
    x[0, 0, 2, 3] = 1.0
    w = rng.normal(size=(1, 1, 3, 3))
    got = as_array(student.conv2d(x, w, None, 1, 1))
    assert_shape(got, (1, 1, 5, 6), public=True)
    assert_close(
        got[0, 0, 1:4, 2:5],
        w[0, 0, ::-1, ::-1],
        rtol=1e-12,
        atol=1e-15,
        msg="response to an impulse",
    )
    x, w = rng.normal(size=(1, 2, 5, 5)), rng.normal(size=(2, 2, 2, 3))
    assert_close(
        student.conv2d(x, w), naive_conv(x, w, None, (1, 1), (0, 0)), rtol=1e-9, atol=1e-12
    )


@pytest.mark.exercise("conv2d")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_PADDING)
def test_conv2d_stride_and_padding(student, rng):
    """stride 2 with padding 1, and stride/padding given as pairs"""
    x, w, b = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(2, 3, 3, 2)), rng.normal(size=2)
    got = student.conv2d(x, w, b, 2, 1)
    assert_close(
        got, naive_conv(x, w, b, (2, 2), (1, 1)), rtol=1e-9, atol=1e-12, msg="stride 2, padding 1"
    )
    got = student.conv2d(x, w, b, (1, 2), (2, 0))
    assert_close(
        got,
        naive_conv(x, w, b, (1, 2), (2, 0)),
        rtol=1e-9,
        atol=1e-12,
        msg="stride (1, 2), padding (2, 0)",
    )


@pytest.mark.exercise("conv2d")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_ORDER)
def test_im2col_column_order(student, reference, rng):
    """im2col columns in unfold's order, with 2 channels, stride 2 and padding 1"""
    x = rng.normal(size=(2, 2, 5, 6))
    got = student.im2col(x, (2, 3), 2, 1)
    assert_close(got, reference.im2col(x, (2, 3), 2, 1), rtol=1e-12, atol=0)
    assert_close(
        student.im2col(x, 2), reference.im2col(x, 2), rtol=1e-12, atol=0, msg="im2col(x, 2)"
    )


@pytest.mark.exercise("conv2d")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_DTYPE)
def test_conv2d_dtypes_and_empty_batch(student, rng):
    """float32 stays float32, integers become float64, an empty batch works"""
    x, w = rng.normal(size=(1, 2, 5, 5)), rng.normal(size=(3, 2, 2, 2))
    want = naive_conv(x, w, None, (1, 1), (0, 0))
    got = student.conv2d(x.astype(np.float32), w.astype(np.float32))
    assert_close(got, want, rtol=1e-4, atol=1e-5, dtype=np.float32, msg="float32 input")
    xi, wi = np.arange(50).reshape(1, 2, 5, 5) % 7 - 3, np.arange(24).reshape(3, 2, 2, 2) % 5 - 2
    got = student.conv2d(xi, wi)
    assert_close(
        got,
        naive_conv(xi.astype(float), wi.astype(float), None, (1, 1), (0, 0)),
        rtol=1e-12,
        dtype=np.float64,
        msg="integer input",
    )
    got = student.conv2d(np.zeros((0, 2, 5, 5)), w)
    assert_close(got, np.zeros((0, 3, 4, 4)), msg="empty batch", public=True)


@pytest.mark.exercise("conv2d")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_SHAPES)
def test_conv2d_shape_errors(student):
    """ValueError for a channel mismatch and for a 3-D input"""
    student.raises(ValueError).conv2d(np.ones((1, 2, 5, 5)), np.ones((1, 3, 2, 2)))
    student.raises(ValueError).conv2d(np.ones((2, 5, 5)), np.ones((1, 2, 2, 2)))


@pytest.mark.exercise("conv2d")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_FORMULA)
def test_conv2d_nan_and_large_values(student, reference, rng):
    """a NaN spoils exactly the windows that contain it; values of 1e200 stay finite"""
    x, w = rng.normal(size=(1, 1, 6, 6)), rng.normal(size=(2, 1, 3, 2))
    x[0, 0, 1, 4] = np.nan
    assert_close(
        student.conv2d(x, w, None, 1, 1),
        reference.conv2d(x, w, None, 1, 1),
        rtol=1e-9,
        atol=1e-12,
        equal_nan=True,
        msg="input with a NaN",
    )
    big = rng.normal(size=(1, 1, 4, 5)) * 1e200
    small = rng.normal(size=(1, 1, 2, 2)) * 1e-3
    assert_close(
        student.conv2d(big, small),
        naive_conv(big, small, None, (1, 1), (0, 0)),
        rtol=1e-9,
        msg="inputs of size 1e200",
    )


# ================================================================================ gabor_kernel


@pytest.mark.exercise("gabor_kernel")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_GABOR)
def test_gabor_values(student, reference):
    """odd and even sizes, orientations in every quadrant, even and odd phases"""
    for args in [
        (9, 0.0, 0.2, 2.0),
        (8, 0.7, 0.15, 2.5, 0.3),
        (11, 2.5, 0.1, 3.0, -1.2),
        (7, 4.0, 0.25, 1.5, 1.0),
    ]:
        for zero_mean in (False, True):
            got = student.gabor_kernel(*args, zero_mean=zero_mean)
            assert_close(
                got, reference.gabor_kernel(*args, zero_mean=zero_mean), rtol=1e-9, atol=1e-12
            )


@pytest.mark.exercise("gabor_kernel")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_Y_UP)
def test_gabor_y_points_up(student, reference):
    """an odd kernel at 60 degrees: the frame's y axis points up"""
    got = as_array(student.gabor_kernel(9, np.pi / 3, 0.2, 2.0, -np.pi / 2, 1.0, False))
    assert_close(
        got,
        reference.gabor_kernel(9, np.pi / 3, 0.2, 2.0, -np.pi / 2, 1.0, False),
        rtol=1e-9,
        atol=1e-12,
    )
    # The carrier grows towards the upper right (theta = 60 degrees): positive above the centre.
    assert_true(
        bool(got[3, 4] > 0) and bool(got[5, 4] < 0),
        "an odd kernel at theta = 60 degrees should be positive just above its centre",
    )


@pytest.mark.exercise("gabor_kernel")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_ZERO_MEAN)
def test_gabor_zero_mean(student):
    """zero_mean=True subtracts the mean of the zero_mean=False kernel"""
    raw = as_array(student.gabor_kernel(10, 1.1, 0.12, 2.2, 0.4, 1.0, False))
    centred = as_array(student.gabor_kernel(10, 1.1, 0.12, 2.2, 0.4, 1.0, True))
    assert_close(centred, raw - raw.mean(), rtol=1e-9, atol=1e-13)
    assert_true(bool(abs(raw.mean()) > 1e-3), "zero_mean=False should keep the kernel's mean")


@pytest.mark.exercise("gabor_kernel")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_GABOR)
def test_gabor_gamma_and_sigma(student, reference):
    """an elongated envelope (gamma 0.5 and 2) and a narrow one"""
    for args in [(9, 0.4, 0.2, 2.0, 0.0, 0.5), (9, 0.4, 0.2, 1.2, 0.0, 2.0)]:
        got = student.gabor_kernel(*args, zero_mean=False)
        assert_close(got, reference.gabor_kernel(*args, zero_mean=False), rtol=1e-9, atol=1e-13)


@pytest.mark.exercise("gabor_kernel")
@pytest.mark.points(0.25)
@pytest.mark.hint("size 1 is a single pixel at the centre: [[cos(phase)]] before the mean removal.")
def test_gabor_size_one(student):
    """size 1"""
    assert_close(
        student.gabor_kernel(1, 0.3, 0.2, 2.0, 0.5, 1.0, False),
        [[np.cos(0.5)]],
        rtol=1e-12,
        public=True,
    )
    assert_close(student.gabor_kernel(1, 0.3, 0.2, 2.0), [[0.0]], atol=1e-15, public=True)


# ========================================================================== orientation_tuning


@pytest.mark.exercise("orientation_tuning")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_GRATING)
def test_grating_values(student, reference):
    """gratings of odd and even size at several orientations and phases"""
    for args in [(7, 0.0, 0.2, 0.0), (8, np.pi / 3, 0.15, 0.5), (9, 2.2, 0.3, -1.0)]:
        assert_close(student.grating(*args), reference.grating(*args), rtol=1e-9, atol=1e-12)


@pytest.mark.exercise("orientation_tuning")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_Y_UP)
def test_grating_y_points_up(student):
    """at theta = 90 degrees the phase grows upwards"""
    g = as_array(student.grating(5, np.pi / 2, 0.25, 0.0))
    assert_shape(g, (5, 5), public=True)
    assert_close(
        g[:, 0],
        np.cos(2 * np.pi * 0.25 * np.array([2.0, 1, 0, -1, -2])),
        atol=1e-12,
        msg="first column of grating(5, pi/2, 0.25)",
    )
    g = as_array(student.grating(5, np.pi / 2, 0.25, np.pi / 2))
    assert_true(bool(g[1, 2] < -0.5), "grating(5, pi/2, 0.25, pi/2) one row above the centre")


@pytest.mark.exercise("orientation_tuning")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_TUNING)
def test_tuning_values(student, reference, rng):
    """the tuning curve of a random 7 x 7 kernel and of a Gabor, at 10 orientations"""
    thetas = np.sort(rng.uniform(0, np.pi, size=10))
    k = rng.normal(size=(7, 7))
    got = student.run(drive_tuning, k, thetas, 0.2)
    assert_close(got, reference.orientation_tuning(k, thetas, 0.2), rtol=1e-9, atol=1e-12)
    g = reference.gabor_kernel(11, 1.0, 0.15, 2.5)
    got = student.run(drive_tuning, g, thetas, 0.15)
    assert_close(got, reference.orientation_tuning(g, thetas, 0.15), rtol=1e-9, atol=1e-12)


@pytest.mark.exercise("orientation_tuning")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_TUNING)
def test_tuning_peak_and_period(student, reference):
    """a Gabor at 120 degrees peaks at 120 degrees; theta and theta + pi respond alike"""
    thetas = np.arange(12) * np.pi / 12
    g = reference.gabor_kernel(13, 2 * np.pi / 3, 0.2, 3.0)
    curve = as_array(student.run(drive_tuning, g, thetas, 0.2))
    assert_shape(curve, (12,), public=True)
    assert_true(int(np.argmax(curve)) == 8, "the tuning curve does not peak at the kernel's theta")
    shifted = student.run(drive_tuning, g, thetas + np.pi, 0.2)
    assert_close(shifted, curve, rtol=1e-7, atol=1e-9, msg="curve at theta + pi")


@pytest.mark.exercise("orientation_tuning")
@pytest.mark.points(0.25)
@pytest.mark.hint("Accept any sequence of thetas (even empty) and an integer kernel.")
def test_tuning_edge_inputs(student, reference):
    """no orientations, a list of orientations and an integer kernel"""
    k = np.arange(25).reshape(5, 5) % 4 - 1
    assert_close(student.run(drive_tuning, k, np.zeros(0), 0.2), np.zeros(0), public=True)
    assert_close(
        student.run(drive_tuning, k, [0.1, 1.3], 0.2),
        reference.orientation_tuning(k, [0.1, 1.3], 0.2),
        rtol=1e-9,
        atol=1e-12,
    )


# ===================================================================================== whiten


def _patches(rng, n=300, d=7):
    # Correlated patches whose own means are already 0, so that forgetting to remove each
    # patch's mean costs only the test made for it.
    P = rng.normal(size=(n, d)) @ rng.normal(size=(d, d))
    return P - P.mean(axis=1, keepdims=True)


@pytest.mark.exercise("whiten")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_WHITEN)
def test_whiten_pca(student, reference, rng):
    """PCA whitening of 300 patches of 7 pixels, keeping 4 directions"""
    P = _patches(rng)
    assert_close(student.whiten(P, 4), reference.whiten(P, 4), rtol=1e-7, atol=1e-9, hint=HINT_SIGN)


@pytest.mark.exercise("whiten")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_WHITEN)
def test_whiten_zca(student, reference, rng):
    """ZCA whitening: V is (d, d) and symmetric"""
    P = _patches(rng)
    got = student.whiten(P, 5, "zca")
    assert_close(got, reference.whiten(P, 5, "zca"), rtol=1e-7, atol=1e-9)
    V = as_array(got[1])
    assert_true(bool(np.allclose(V, V.T, atol=1e-10)), "the ZCA matrix V should be symmetric")


@pytest.mark.exercise("whiten")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_WHITEN)
def test_whiten_identity_covariance(student, rng):
    """with eps = 0 the whitened data has identity covariance"""
    P = _patches(rng, n=400, d=6)
    Z = as_array(student.whiten(P, 5)[0])
    assert_shape(Z, (400, 5), public=True)
    assert_close(Z.T @ Z / 400, np.eye(5), atol=1e-8, msg="Z.T @ Z / n")


@pytest.mark.exercise("whiten")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_PATCH_MEAN)
def test_whiten_removes_each_patch_mean(student, reference, rng):
    """patches whose brightness differs by a constant per patch give the same result"""
    P = _patches(rng)
    shifted = P + 10 * rng.normal(size=(len(P), 1))
    assert_close(student.whiten(shifted, 4), reference.whiten(P, 4), rtol=1e-6, atol=1e-8)


@pytest.mark.exercise("whiten")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_WHITEN)
def test_whiten_defaults_and_eps(student, reference, rng):
    """k=None keeps d - 1 directions; eps = 0.5 damps the small ones"""
    P = _patches(rng, n=200, d=5)
    got = student.whiten(P)
    assert_close(got, reference.whiten(P), rtol=1e-7, atol=1e-9)
    got = student.whiten(P, 3, "pca", 0.5)
    assert_close(got, reference.whiten(P, 3, "pca", 0.5), rtol=1e-7, atol=1e-9)


@pytest.mark.exercise("whiten")
@pytest.mark.points(0.25)
@pytest.mark.hint("Raise ValueError for a method other than 'pca' or 'zca'.")
def test_whiten_unknown_method(student, rng):
    """an unknown method raises ValueError"""
    student.raises(ValueError).whiten(_patches(rng), 3, "ica")


@pytest.mark.exercise("whiten")
@pytest.mark.points(0.25)
@pytest.mark.hint("Convert integer patches to float64 before subtracting means.")
def test_whiten_integer_patches(student, reference, rng):
    """integer patches (pixel values 0..255, every patch with the same mean)"""
    base = rng.integers(0, 256, size=6)
    P = np.array([rng.permutation(base) for _ in range(40)])
    assert_close(student.whiten(P, 4), reference.whiten(P, 4), rtol=1e-7, atol=1e-9)


# ==================================================================================== fastica


@pytest.mark.exercise("fastica")
@pytest.mark.points(1.25)
@pytest.mark.hint(HINT_FASTICA)
def test_fastica_first_updates(student, reference):
    """three updates (tol 0) from seed 2 match, on a whitened 4-source mixture"""
    Z, _, _ = mixture(0, n=2000)
    got = student.fastica(Z, 3, 0.0, 2)
    assert_close(got, reference.fastica(Z, 3, 0.0, 2), rtol=1e-6, atol=1e-8)
    got = student.fastica(Z, 1, 0.0, 5)
    assert_close(got, reference.fastica(Z, 1, 0.0, 5), rtol=1e-6, atol=1e-8, msg="one update")


@pytest.mark.exercise("fastica")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_DECORRELATE)
def test_fastica_rows_orthonormal(student):
    """W has orthonormal rows after any number of updates"""
    Z, _, _ = mixture(1, n=2000)
    for iters in (1, 4):
        W = as_array(student.fastica(Z, iters, 0.0, 0))
        assert_shape(W, (4, 4), public=True)
        assert_close(W @ W.T, np.eye(4), atol=1e-8, msg=f"W @ W.T after {iters} updates")


@pytest.mark.exercise("fastica")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_FASTICA)
def test_fastica_unmixes_sources(student):
    """recovers 4 mixed Laplacian sources: Amari index < 0.05"""
    Z, white, A = mixture(3)
    W = as_array(student.fastica(Z))
    assert_shape(W, (4, 4), public=True)
    err = amari(W @ white.T, A)
    assert_true(bool(err < 0.05), "the sources were not recovered (Amari index >= 0.05)")


@pytest.mark.exercise("fastica")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_STOP)
def test_fastica_stopping_rule(student, reference):
    """a loose tolerance stops early, exactly where the rule says"""
    Z, _, _ = mixture(4, n=2000)
    for tol in (0.3, 1e-3):
        got = student.fastica(Z, 50, tol, 1)
        assert_close(got, reference.fastica(Z, 50, tol, 1), rtol=1e-6, atol=1e-8, msg=f"tol={tol}")


@pytest.mark.exercise("fastica")
@pytest.mark.points(0.5)
@pytest.mark.hint("Draw the start from np.random.default_rng(seed), nothing else.")
def test_fastica_seeded(student, reference):
    """the same seed gives the same W, another seed another start"""
    Z, _, _ = mixture(5, n=1000, k=3)
    a, b = as_array(student.fastica(Z, 2, 0.0, 3)), as_array(student.fastica(Z, 2, 0.0, 3))
    c = as_array(student.fastica(Z, 2, 0.0, 4))
    assert_close(a, b, rtol=0, atol=0, msg="two runs with seed 3")
    assert_true(bool(np.abs(a - c).max() > 1e-6), "seeds 3 and 4 gave the same W")
    assert_close(c, reference.fastica(Z, 2, 0.0, 4), rtol=1e-6, atol=1e-8, msg="seed 4")


# ================================================================ reference vs PyTorch (CI only)


@pytest.mark.torch
def test_reference_conv2d_and_im2col_match_torch(reference):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    for stride, padding in [(1, 0), (2, 1), ((1, 2), (2, 0))]:
        want = torch.nn.functional.conv2d(
            torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=stride, padding=padding
        ).numpy()
        np.testing.assert_allclose(reference.conv2d(x, w, b, stride, padding), want, atol=1e-12)
        cols = torch.nn.functional.unfold(torch.tensor(x), (3, 2), padding=padding, stride=stride)
        np.testing.assert_allclose(
            reference.im2col(x, (3, 2), stride, padding), cols.numpy(), atol=1e-12
        )


def test_reference_matches_nnlite_filters(reference):
    """The solution and nnlite.filters (the fallbacks) agree."""
    from nnlite import filters

    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(1, 2, 6, 5)), rng.normal(size=(3, 2, 2, 3))
    np.testing.assert_allclose(reference.conv2d(x, w, None, 2, 1), filters.conv2d(x, w, None, 2, 1))
    np.testing.assert_allclose(
        reference.gabor_kernel(9, 0.5, 0.2, 2.0, 0.3, 0.7),
        filters.gabor_kernel(9, 0.5, 0.2, 2.0, 0.3, 0.7),
    )
    thetas, k = np.linspace(0, 3, 7), rng.normal(size=(5, 5))
    np.testing.assert_allclose(
        reference.orientation_tuning(k, thetas, 0.2), filters.orientation_tuning(k, thetas, 0.2)
    )
    P = rng.normal(size=(100, 6))
    for method in ("pca", "zca"):
        for a, b in zip(reference.whiten(P, 4, method), filters.whiten(P, 4, method), strict=True):
            np.testing.assert_allclose(a, b, atol=1e-10)
    Z, _, _ = mixture(0, n=1000)
    np.testing.assert_allclose(reference.fastica(Z), filters.fastica(Z), atol=1e-10)
