"""Filters: convolution by im2col, Gabor kernels and gratings, whitening, FastICA, filter measures.

Lesson 07 ("Convolution and filters") builds these itself; this module holds nnlite's own
versions (the lesson falls back to them while an exercise is unfinished) and the one helper too
long for an exercise, :func:`fit_gabor`.

**Coordinate convention** (every function here): an image or filter of ``size x size`` pixels
is indexed ``[row r, column c]``; its centre is ``cx = cy = (size - 1) / 2``; the coordinates of a
pixel are ``x = c - cx`` (to the right) and ``y = cy - r`` (**up**, as in a mathematics plot, not
down as the row index). An orientation ``theta`` (radians) is the direction of the wave vector
``(cos theta, sin theta)`` in that frame: ``theta = 0`` varies along x (vertical stripes),
``theta = pi / 2`` along y (horizontal stripes). Stripes run perpendicular to the wave vector,
so at ``theta = pi / 4`` they run from the upper left to the lower right. Measuring y downwards
instead would mirror every orientation (theta -> -theta).

Filters as data: a bank of ``n`` square filters of side ``p`` is an array ``(n, p * p)``, one
filter per row in row-major order (``F[i].reshape(p, p)``), like the patches of
:func:`nnlite.data.image_patches`.

numpy only.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "im2col",
    "conv2d",
    "SOBEL_X",
    "coordinates",
    "gabor_kernel",
    "grating",
    "orientation_tuning",
    "whiten",
    "fastica",
    "amari_index",
    "phase_scramble",
    "orientation_selectivity",
    "locality",
    "gabor_model",
    "fit_gabor",
    "gabor_like",
]

#: The Sobel kernel for a horizontal derivative (responds to vertical edges), as it is applied
#: by cross-correlation: dark on the left, bright on the right gives a positive response.
SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


# --------------------------------------------------------------------------------------------
# Convolution (cross-correlation, PyTorch's semantics) by im2col
# --------------------------------------------------------------------------------------------


def _pair(v, name: str, who: str, minimum: int) -> tuple[int, int]:
    pair = (v, v) if isinstance(v, numbers.Integral) else tuple(v)
    if len(pair) != 2 or not all(
        isinstance(i, numbers.Integral) and not isinstance(i, bool) and i >= minimum for i in pair
    ):
        raise ValueError(f"{who}: {name} must be an int >= {minimum} or a pair of them, got {v!r}")
    return int(pair[0]), int(pair[1])


def _float(a) -> np.ndarray:
    a = np.asarray(a)
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)


def im2col(x, kernel_size, stride=1, padding=0) -> np.ndarray:
    """Every kernel-sized window of ``x`` as a column: (N, C, H, W) -> (N, C*kH*kW, L).

    Zero padding of ``padding`` pixels on every side first. Column ``l`` is the window whose top
    left corner is at padded position ``(i * sH, j * sW)`` with ``l = i * W_out + j``; within a
    column the entries run over (channel, kernel row, kernel column), channel slowest: the order
    of ``torch.nn.functional.unfold``. float32 stays float32, integers become float64.
    """
    who = "im2col"
    x = _float(x)
    if x.ndim != 4:
        raise ValueError(f"{who}: input must be 4-D (N, C, H, W), got shape {x.shape}")
    kh, kw = _pair(kernel_size, "kernel_size", who, 1)
    sh, sw = _pair(stride, "stride", who, 1)
    ph, pw = _pair(padding, "padding", who, 0)
    N, C, H, W = x.shape
    oh, ow = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    if oh < 1 or ow < 1:
        raise ValueError(
            f"{who}: kernel ({kh}, {kw}) is larger than the padded input of shape {x.shape} "
            f"(padding {(ph, pw)})"
        )
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    i = np.arange(kh)[:, None] + sh * np.arange(oh)[None, :]  # (kh, oh) rows read
    j = np.arange(kw)[:, None] + sw * np.arange(ow)[None, :]  # (kw, ow) columns read
    cols = xp[:, :, i[:, None, :, None], j[None, :, None, :]]  # (N, C, kh, kw, oh, ow)
    return cols.reshape(N, C * kh * kw, oh * ow)


def conv2d(x, weight, bias=None, stride=1, padding=0) -> np.ndarray:
    """2-D cross-correlation of a batch with a filter bank, as ``torch.nn.functional.conv2d``.

    ``out[n, o, i, j] = bias[o] + sum_{c, u, v} weight[o, c, u, v] * xp[n, c, i*sH + u, j*sW + v]``
    where ``xp`` is ``x`` zero-padded by ``padding`` on every side: the kernel is **not** flipped.
    Computed as one matrix product with :func:`im2col`.

    Args:
        x: (N, C, H, W) array; weight: (O, C, kH, kW); bias: (O,) or None.
        stride, padding: int or (h, w) pair.

    Returns:
        (N, O, H_out, W_out), ``H_out = (H + 2 * pH - kH) // sH + 1`` (same for W); float32 when
        both inputs are float32, else float64.
    """
    who = "conv2d"
    x, w = _float(x), _float(weight)
    if x.ndim != 4 or w.ndim != 4 or x.shape[1] != w.shape[1]:
        raise ValueError(
            f"{who}: input of shape {x.shape} and weight of shape {w.shape} do not fit; "
            "expected (N, C, H, W) and (O, C, kH, kW) with the same C"
        )
    dtype = np.result_type(x, w)
    O, C, kh, kw = w.shape
    cols = im2col(x.astype(dtype, copy=False), (kh, kw), stride, padding)
    N = x.shape[0]
    sh, sw = _pair(stride, "stride", who, 1)
    ph, pw = _pair(padding, "padding", who, 0)
    oh, ow = (x.shape[2] + 2 * ph - kh) // sh + 1, (x.shape[3] + 2 * pw - kw) // sw + 1
    out = np.matmul(w.astype(dtype, copy=False).reshape(O, C * kh * kw), cols)
    out = out.reshape(N, O, oh, ow)
    if bias is not None:
        b = _float(bias)
        if b.shape != (O,):
            raise ValueError(f"{who}: bias of shape {b.shape} does not fit weight {w.shape}")
        out = out + b.astype(dtype, copy=False)[:, None, None]
    return out


# --------------------------------------------------------------------------------------------
# Gabor kernels, gratings, tuning curves
# --------------------------------------------------------------------------------------------


def _size(size, who: str) -> int:
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"{who}: size must be an int >= 1, got {size!r}")
    return int(size)


def coordinates(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, y), each (size, size): x = c - (size-1)/2 to the right, y = (size-1)/2 - r upwards."""
    size = _size(size, "coordinates")
    centre = (size - 1) / 2
    r, c = np.mgrid[0:size, 0:size].astype(np.float64)
    return c - centre, centre - r


def gabor_kernel(size, theta, freq, sigma, phase=0.0, gamma=1.0, zero_mean=True) -> np.ndarray:
    """A Gabor kernel: a cosine carrier under a Gaussian envelope, (size, size) float64.

    With the module's convention (x right, y up, centre (size-1)/2),
    ``x' = x cos(theta) + y sin(theta)``, ``y' = -x sin(theta) + y cos(theta)``::

        g = exp(-(x'**2 + gamma**2 * y'**2) / (2 * sigma**2)) * cos(2 pi freq x' + phase)

    freq is in cycles per pixel, sigma in pixels (the envelope's width along x'), gamma the
    ratio of the widths along x' and y' (gamma < 1 makes the envelope longer along the
    stripes). With
    ``zero_mean`` the kernel's mean is subtracted, so it ignores uniform brightness.
    """
    x, y = coordinates(_size(size, "gabor_kernel"))
    xr = x * np.cos(theta) + y * np.sin(theta)
    yr = -x * np.sin(theta) + y * np.cos(theta)
    g = np.exp(-(xr**2 + gamma**2 * yr**2) / (2.0 * sigma**2)) * np.cos(
        2 * np.pi * freq * xr + phase
    )
    return g - g.mean() if zero_mean else g


def grating(size, theta, freq, phase=0.0) -> np.ndarray:
    """A sinusoidal grating cos(2 pi freq (x cos(theta) + y sin(theta)) + phase), (size, size)."""
    x, y = coordinates(_size(size, "grating"))
    return np.cos(2 * np.pi * freq * (x * np.cos(theta) + y * np.sin(theta)) + phase)


def orientation_tuning(kernel, thetas, freq, n_phases: int = 8) -> np.ndarray:
    """Tuning curve: the largest response of ``kernel`` to gratings of each orientation.

    The response to a grating is the dot product ``sum(kernel * grating(size, theta, freq,
    phase))``; for each theta it is maximised over ``n_phases`` phases ``2 pi k / n_phases``.
    kernel must be square (size, size). Returns float64 (len(thetas),).
    """
    k = _float(kernel)
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise ValueError(f"orientation_tuning: kernel must be square (size, size), got {k.shape}")
    thetas = np.asarray(thetas, dtype=np.float64).reshape(-1)
    phases = 2 * np.pi * np.arange(n_phases) / n_phases
    out = np.empty(len(thetas))
    for i, t in enumerate(thetas):
        out[i] = max(float(np.sum(k * grating(k.shape[0], t, freq, ph))) for ph in phases)
    return out


# --------------------------------------------------------------------------------------------
# Whitening and FastICA
# --------------------------------------------------------------------------------------------


def whiten(P, k=None, method: str = "pca", eps: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Whiten patches: each patch's mean removed, then the dataset mean, then PCA or ZCA.

    Args:
        P: (n, d) patches, one per row. Not modified.
        k: number of principal directions kept (1 <= k <= d); None keeps d - 1 (removing each
            patch's mean loses one dimension).
        method: 'pca' -> V (d, k) = U_k diag(1/sqrt(lam_k + eps)); 'zca' -> V (d, d) =
            U_k diag(1/sqrt(lam_k + eps)) U_k^T (symmetric).
        eps: added to each eigenvalue before the square root.

    The covariance is ``Xc.T @ Xc / n`` of the centred data ``Xc``; ``lam`` its eigenvalues in
    descending order, ``U`` the unit eigenvectors as columns, each with the sign that makes its
    largest-magnitude entry positive (the first such entry on a tie).

    Returns:
        (Z, V) with Z = Xc @ V: (n, k) for 'pca', (n, d) for 'zca'. float64.
    """
    who = "whiten"
    X = np.asarray(P, dtype=np.float64)
    if X.ndim != 2 or len(X) < 2:
        raise ValueError(f"{who}: P must be (n, d) with n >= 2, got shape {X.shape}")
    if method not in ("pca", "zca"):
        raise ValueError(f"{who}: method must be 'pca' or 'zca', got {method!r}")
    d = X.shape[1]
    k = d - 1 if k is None else k
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= d:
        raise ValueError(f"{who}: k must be an int between 1 and {d}, got {k!r}")
    X = X - X.mean(axis=1, keepdims=True)
    Xc = X - X.mean(axis=0)
    lam, U = np.linalg.eigh(Xc.T @ Xc / len(Xc))
    lam, U = lam[::-1][:k], U[:, ::-1][:, :k]
    pivot = np.argmax(np.abs(U), axis=0)
    U = U * np.where(U[pivot, np.arange(k)] < 0, -1.0, 1.0)
    V = U / np.sqrt(lam + eps)
    if method == "zca":
        V = V @ U.T
    return Xc @ V, V


def _sym_decorrelate(W: np.ndarray) -> np.ndarray:
    """(W W^T)^(-1/2) W: the nearest matrix with orthonormal rows."""
    s, E = np.linalg.eigh(W @ W.T)
    return (E / np.sqrt(s)) @ E.T @ W


def fastica(Z, max_iter: int = 300, tol: float = 1e-4, seed: int = 0) -> np.ndarray:
    """Symmetric FastICA with the tanh nonlinearity (Hyvarinen & Oja 2000) on whitened data.

    Args:
        Z: (n, k) whitened data (zero mean, identity covariance), e.g. from :func:`whiten`.
        max_iter, tol: stop after max_iter updates, or as soon as
            ``max |(|diag(W_new W^T)| - 1)| < tol``.
        seed: W starts as ``_sym(np.random.default_rng(seed).standard_normal((k, k)))``.

    One update, with Y = Z W^T, G = tanh(Y), n rows::

        W_new = _sym(G^T Z / n - diag(mean(1 - G**2, axis=0)) W),  _sym(W) = (W W^T)^(-1/2) W

    Returns:
        W (k, k) with orthonormal rows: the unmixing filters in whitened space; the sources are
        Z @ W.T. Their order and signs are arbitrary.
    """
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2:
        raise ValueError(f"fastica: Z must be 2-D (n, k), got shape {Z.shape}")
    n, k = Z.shape
    W = _sym_decorrelate(np.random.default_rng(seed).standard_normal((k, k)))
    for _ in range(max_iter):
        G = np.tanh(Z @ W.T)
        W_new = _sym_decorrelate(G.T @ Z / n - (1.0 - G**2).mean(axis=0)[:, None] * W)
        change = np.max(np.abs(np.abs(np.einsum("ij,ij->i", W_new, W)) - 1.0))
        W = W_new
        if change < tol:
            break
    return W


def amari_index(W, A) -> float:
    """Amari et al.'s (1996) error of an unmixing W for a mixing A, in [0, 1]; 0 = perfect.

    0 exactly when W A is a scaled permutation, so the sources are recovered up to order and
    sign. The normalisation by 2 k (k - 1) is the usual one.
    """
    P = np.abs(np.asarray(W, dtype=np.float64) @ np.asarray(A, dtype=np.float64))
    k = P.shape[0]
    rows = (P / P.max(axis=1, keepdims=True)).sum(axis=1) - 1
    cols = (P / P.max(axis=0, keepdims=True)).sum(axis=0) - 1
    return float((rows.sum() + cols.sum()) / (2 * k * (k - 1)))


def phase_scramble(image, seed: int = 0) -> np.ndarray:
    """The image with the same Fourier amplitudes and random phases: its power spectrum stays,
    its edges go.

    The random phases are those of the FFT of white noise (so they have the Hermitian symmetry of
    a real image and the result is real); the image mean is kept.
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2:
        raise ValueError(f"phase_scramble: image must be 2-D (H, W), got shape {img.shape}")
    noise = np.fft.fft2(np.random.default_rng(seed).standard_normal(img.shape))
    spectrum = np.fft.fft2(img - img.mean())
    out = np.fft.ifft2(np.abs(spectrum) * np.exp(1j * np.angle(noise))).real
    return out + img.mean()


# --------------------------------------------------------------------------------------------
# Filter measures
# --------------------------------------------------------------------------------------------


def _bank(F, p, who: str) -> np.ndarray:
    F = np.asarray(F, dtype=np.float64)
    if F.ndim == 1:
        F = F[None]
    if F.ndim == 3:
        F = F.reshape(len(F), -1)
    if F.ndim != 2 or F.shape[1] != p * p:
        raise ValueError(f"{who}: filters of shape {F.shape} are not (n, {p}*{p}) = (n, {p * p})")
    return F


def orientation_selectivity(F, p: int, pad: int = 32) -> np.ndarray:
    """Orientation selectivity index of each filter: |sum P e^{2i phi}| / sum P over its spectrum.

    Each p x p filter is zero-padded to pad x pad and Fourier transformed; P(k) = |FFT|^2 at every
    frequency k except DC, and phi is the angle of k. 1 for a single orientation (a grating), 0
    for a radially symmetric filter (orientations cancel). Returns (n,).
    """
    F = _bank(F, p, "orientation_selectivity")
    if pad < p:
        raise ValueError(f"orientation_selectivity: pad={pad} is smaller than p={p}")
    P = np.abs(np.fft.fft2(F.reshape(-1, p, p), s=(pad, pad))) ** 2
    f = np.fft.fftfreq(pad)
    phi = np.arctan2(f[:, None] * np.ones(pad), np.ones(pad)[:, None] * f[None, :])
    P[:, 0, 0] = 0.0  # DC excluded
    total = P.sum(axis=(1, 2))
    z = np.abs((P * np.exp(2j * phi)).sum(axis=(1, 2)))
    return np.divide(z, total, out=np.zeros_like(z), where=total > 0)


def locality(F, p: int) -> np.ndarray:
    """Energy-weighted RMS spread of each filter around its energy centre, relative to a flat
    filter: sqrt(sum e r^2) / sqrt((p^2 - 1) / 6), with e = F^2 / sum F^2.

    0 for a single pixel, about 1 for noise or any filter spread over the whole square. (n,).
    """
    F = _bank(F, p, "locality")
    E = F**2
    total = E.sum(axis=1, keepdims=True)
    E = np.divide(E, total, out=np.full_like(E, 1.0 / (p * p)), where=total > 0)
    r, c = np.divmod(np.arange(p * p), p)
    mr, mc = E @ r, E @ c
    spread = E @ (r**2 + c**2) - mr**2 - mc**2
    return np.sqrt(np.clip(spread, 0, None) / ((p * p - 1) / 6.0)) if p > 1 else np.zeros(len(F))


# --------------------------------------------------------------------------------------------
# Gabor fit
# --------------------------------------------------------------------------------------------

# Nonlinear parameters of the fit, per filter: x0, y0, theta, freq, log sigma_x, log sigma_y.
# Amplitude and phase enter linearly as a cos + b sin and are solved exactly (variable projection).


def gabor_model(params, p: int) -> np.ndarray:
    """Gabor functions from fitted parameters, (n, p*p).

    params (n, 8): x0, y0 (centre, in the module's x-right / y-up frame), theta, freq (cycles
    per pixel), sigma_x (envelope width along the wave vector), sigma_y (across it), amplitude,
    phase: ``A exp(-x'^2/2sx^2 - y'^2/2sy^2) cos(2 pi f x' + phase)`` around (x0, y0).
    """
    q = np.asarray(params, dtype=np.float64)
    x, y = coordinates(p)
    env, car = _parts(q[:, :6].copy(), x.ravel(), y.ravel(), log_sigma=False)
    return q[:, 6:7] * env * np.cos(car + q[:, 7:8])


def _parts(q, x, y, log_sigma=True):
    """Envelope (n, m) and carrier phase (n, m) for nonlinear parameters q (n, 6)."""
    dx, dy = x[None] - q[:, 0:1], y[None] - q[:, 1:2]
    ct, st = np.cos(q[:, 2:3]), np.sin(q[:, 2:3])
    xr, yr = dx * ct + dy * st, -dx * st + dy * ct
    sx, sy = (np.exp(q[:, 4:5]), np.exp(q[:, 5:6])) if log_sigma else (q[:, 4:5], q[:, 5:6])
    env = np.exp(-0.5 * (xr / sx) ** 2 - 0.5 * (yr / sy) ** 2)
    return env, 2 * np.pi * q[:, 3:4] * xr


def _project(q, T, x, y):
    """Best a cos + b sin for each row: residuals (n, m) and the coefficients (n, 2)."""
    env, car = _parts(q, x, y)
    B = np.stack([env * np.cos(car), env * np.sin(car)], axis=-1)  # (n, m, 2)
    G = np.einsum("nmi,nmj->nij", B, B) + 1e-12 * np.eye(2)
    coef = np.linalg.solve(G, np.einsum("nmi,nm->ni", B, T)[..., None])[..., 0]
    return T - np.einsum("nmi,ni->nm", B, coef), coef


def _clip(q, p):
    half = (p - 1) / 2
    q[:, 0:2] = np.clip(q[:, 0:2], -half - 1, half + 1)
    q[:, 3] = np.clip(q[:, 3], 0.0, 0.5)
    q[:, 4:6] = np.clip(q[:, 4:6], np.log(0.3), np.log(2.0 * p))
    return q


def fit_gabor(F, p: int, n_iter: int = 40, pad: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares Gabor fit of every filter at once (batched Levenberg-Marquardt, multi-start).

    Args:
        F: (n, p*p) filters (or (n, p, p)).
        p: filter side.
        n_iter: Levenberg-Marquardt iterations per start.
        pad: FFT size used to find the starting orientation and frequency.

    Each filter gets 4 starts: centre at its energy centroid, width p/4, and (orientation,
    frequency) at the peak of its zero-padded power spectrum, at that peak rotated by 90 degrees,
    at half the peak frequency, and at frequency 0 (a blob). Amplitude and phase are solved
    exactly for each guess of the other six parameters (variable projection); the Jacobian of the
    six is taken by central differences, vectorised over all filters and starts. The start with
    the smallest residual wins.

    Returns:
        (params (n, 8) as in :func:`gabor_model`, r2 (n,)) with
        ``r2 = 1 - |F - fit|^2 / |F - mean(F)|^2`` per filter (1 is a perfect fit).
    """
    F = _bank(F, p, "fit_gabor")
    n = len(F)
    x, y = (a.ravel() for a in coordinates(p))
    # Starting points from the spectrum and the energy centroid.
    P = np.abs(np.fft.fft2(F.reshape(n, p, p), s=(pad, pad))) ** 2
    P[:, 0, 0] = 0.0
    peak = P.reshape(n, -1).argmax(axis=1)
    f = np.fft.fftfreq(pad)
    fy_idx, fx_idx = np.divmod(peak, pad)
    # FFT rows run down the image: a wave vector (u, v) in (column, row) is (u, -v) in x-right/y-up.
    fx, fy = f[fx_idx], -f[fy_idx]
    theta0, freq0 = np.arctan2(fy, fx), np.hypot(fx, fy)
    E = F**2 / np.maximum((F**2).sum(axis=1, keepdims=True), 1e-300)
    x0, y0 = E @ x, E @ y
    ls = np.full(n, np.log(p / 4))
    starts = [
        (theta0, freq0),
        (theta0 + np.pi / 2, freq0),
        (theta0, freq0 / 2),
        (theta0, np.zeros(n)),
    ]
    q = np.concatenate([np.stack([x0, y0, t, fr, ls, ls], axis=1) for t, fr in starts])
    T = np.tile(F, (len(starts), 1))
    q = _clip(q, p)
    lam = np.full(len(q), 1e-2)
    res, _ = _project(q, T, x, y)
    cost = (res**2).sum(axis=1)
    h = 1e-5
    for _ in range(n_iter):
        J = np.empty(res.shape + (6,))
        for j in range(6):
            dq = np.zeros(6)
            dq[j] = h
            rp, _ = _project(q + dq, T, x, y)
            rm, _ = _project(q - dq, T, x, y)
            J[..., j] = (rp - rm) / (2 * h)
        JtJ = np.einsum("nmi,nmj->nij", J, J)
        Jtr = np.einsum("nmi,nm->ni", J, res)
        diag = np.einsum("nii->ni", JtJ) + 1e-12
        A = JtJ + lam[:, None, None] * diag[:, :, None] * np.eye(6)
        step = np.linalg.solve(A, -Jtr[..., None])[..., 0]
        q_new = _clip(q + step, p)
        res_new, _ = _project(q_new, T, x, y)
        cost_new = (res_new**2).sum(axis=1)
        better = cost_new < cost
        q[better], res[better], cost[better] = q_new[better], res_new[better], cost_new[better]
        lam = np.where(better, lam / 3, lam * 4)
    # Best start per filter.
    cost = cost.reshape(len(starts), n)
    best = cost.argmin(axis=0)
    q = q.reshape(len(starts), n, 6)[best, np.arange(n)]
    _, coef = _project(q, F, x, y)
    params = np.empty((n, 8))
    params[:, :4] = q[:, :4]
    params[:, 4:6] = np.exp(q[:, 4:6])
    params[:, 6] = np.hypot(coef[:, 0], coef[:, 1])
    params[:, 7] = np.arctan2(-coef[:, 1], coef[:, 0])  # a cos c + b sin c = A cos(c + phase)
    params[:, 2] = np.mod(params[:, 2], np.pi)
    # theta mod pi flips the carrier's sign direction; refit the phase for the stored theta.
    flip = np.mod(q[:, 2], 2 * np.pi) >= np.pi
    params[flip, 7] = -params[flip, 7]
    fit = gabor_model(params, p)
    sst = ((F - F.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    sse = ((F - fit) ** 2).sum(axis=1)
    r2 = 1.0 - np.divide(sse, sst, out=np.ones_like(sse), where=sst > 0)
    return params, r2


def gabor_like(r2, osi, loc, r2_min=0.7, osi_min=0.3, loc_max=0.8) -> np.ndarray:
    """Boolean mask: Gabor fit R^2 >= r2_min and OSI >= osi_min and locality <= loc_max."""
    return (np.asarray(r2) >= r2_min) & (np.asarray(osi) >= osi_min) & (np.asarray(loc) <= loc_max)
