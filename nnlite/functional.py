"""Functions on tensors: activations, losses, a fused linear layer, convolution, pooling, dropout.

Each function here is one node in the graph with a hand-written backward (fused for speed and
numerical stability) and accepts numpy arrays wherever it accepts tensors. Semantics follow
``torch.nn.functional``; shapes are given as (N, C, H, W) = (batch, channels, height, width).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .tensor import Tensor, _axes, _make, _tensor

__all__ = [
    "relu",
    "tanh",
    "sigmoid",
    "softmax",
    "log_softmax",
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "linear",
    "conv2d",
    "max_pool2d",
    "avg_pool2d",
    "dropout",
]

_REDUCTIONS = ("mean", "sum", "none")


def relu(x) -> Tensor:
    """max(x, 0) elementwise; the gradient at exactly 0 is 0 (PyTorch)."""
    return _tensor(x).relu()


def tanh(x) -> Tensor:
    return _tensor(x).tanh()


def sigmoid(x) -> Tensor:
    """1 / (1 + exp(-x)), computed without overflow."""
    return _tensor(x).sigmoid()


def _shifted(x: Tensor, axis, dim, who: str):
    """(x - its maximum along the axis, the axis as a tuple); the axis may have length 0."""
    ax = _axes(axis if dim is None else dim, x.data.shape, who)
    # initial=-inf: an empty axis has no maximum, and its (empty) result needs none.
    return x.data - x.data.max(axis=ax, keepdims=True, initial=-np.inf), ax


def softmax(x, axis: int = -1, *, dim=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis`` (``dim`` is accepted as PyTorch's name); stable for
    any magnitude because the maximum is subtracted first."""
    x = _tensor(x)
    shifted, ax = _shifted(x, axis, dim, "softmax")
    e = np.exp(shifted)
    p = e / e.sum(axis=ax, keepdims=True)

    def backward(g):
        return (p * (g - (g * p).sum(axis=ax, keepdims=True)),)

    return _make(p, (x,), "softmax", backward)


def log_softmax(x, axis: int = -1, *, dim=None) -> Tensor:
    """x - logsumexp(x) along ``axis``, stable for logits of any magnitude (e.g. +-1000)."""
    x = _tensor(x)
    shifted, ax = _shifted(x, axis, dim, "log_softmax")
    with np.errstate(divide="ignore"):  # log(0) of an empty axis; the result is empty
        out = shifted - np.log(np.exp(shifted).sum(axis=ax, keepdims=True))

    def backward(g):
        return (g - np.exp(out) * g.sum(axis=ax, keepdims=True),)

    return _make(out, (x,), "log_softmax", backward)


def _class_targets(target, scores_shape: tuple[int, ...], who: str) -> np.ndarray:
    """Check integer class targets against scores of shape (N, C, ...) or (C,)."""
    if type(target) is np.ndarray and target.dtype.kind in "iu" and len(scores_shape) == 2:
        # The common case, checked with as few numpy calls as possible.
        C = scores_shape[1]
        if target.shape == scores_shape[:1] and (
            target.size == 0
            or (np.minimum.reduce(target, axis=None) >= 0 and np.maximum.reduce(target) < C)
        ):
            return target
    if len(scores_shape) > 1 and np.shape(target) == scores_shape:
        raise ValueError(
            f"{who}: target has the input's shape {scores_shape}, like one-hot rows or class "
            "probabilities; pass class indices, e.g. y.argmax(1)"
        )
    if isinstance(target, Tensor):
        raise TypeError(
            f"{who}: target must be a numpy array of integer class indices, got a Tensor (an "
            "nnlite Tensor always holds floats); pass the numpy labels, e.g. y.astype(int)"
        )
    t = np.asarray(target)
    if t.dtype.kind not in "iu":
        example = f" (e.g. {t.flat[0]!r})" if t.size else ""
        raise TypeError(
            f"{who}: target must hold integer class indices, got dtype {t.dtype}{example}; "
            "convert with y.astype(int)"
        )
    if len(scores_shape) == 0:
        raise ValueError(f"{who}: input must have a class axis, got a 0-d tensor")
    expected = () if len(scores_shape) == 1 else scores_shape[:1] + scores_shape[2:]
    if t.shape != expected:
        raise ValueError(
            f"{who}: input of shape {scores_shape} needs a target of shape {expected}, "
            f"got shape {t.shape}"
        )
    C = scores_shape[0] if len(scores_shape) == 1 else scores_shape[1]
    if t.size and (np.minimum.reduce(t, axis=None) < 0 or np.maximum.reduce(t, axis=None) >= C):
        value = t[(t < 0) | (t >= C)].flat[0]
        raise ValueError(
            f"{who}: target value {value} is out of range for {C} classes "
            f"(class indices must be 0..{C - 1})"
        )
    return t


def _rows(z: np.ndarray, t: np.ndarray):
    """Scores as a (M, C) matrix with the class axis last, and the targets as (M,)."""
    if z.ndim == 1:
        return z[None, :], t.reshape(1)
    if z.ndim == 2:
        return z, t
    C = z.shape[1]
    return np.moveaxis(z, 1, -1).reshape(-1, C), t.reshape(-1)


def _unrows(g2: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`_rows` for a gradient."""
    if g2.shape == shape:
        return g2
    if len(shape) <= 2:
        return g2.reshape(shape)
    moved = (shape[0],) + shape[2:] + (shape[1],)
    return np.moveaxis(g2.reshape(moved), -1, 1)


def _reduce(losses: np.ndarray, reduction: str, who: str):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{who}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if reduction == "mean":
        return np.add.reduce(losses, axis=None) / losses.size  # = losses.mean(), but faster
    if reduction == "sum":
        return np.add.reduce(losses, axis=None)
    return losses


def _loss_scale(g: np.ndarray, reduction: str, n: int) -> np.ndarray:
    """The upstream gradient as a per-row (M, 1) factor."""
    if reduction == "mean":
        return g / n
    if reduction == "sum":
        return g
    return g.reshape(-1, 1)


def cross_entropy(logits, target, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy between ``logits`` and integer class ``target``.

    Args:
        logits: (N, C) scores (or (C,) for one sample, or (N, C, d1, ...) with the class axis 1).
        target: integer class indices of shape (N,) (or (), or (N, d1, ...)), each in 0..C-1.
        reduction: 'mean' (default), 'sum' or 'none' (one loss per sample, shape of target).

    Equals ``-log_softmax(logits)[range(N), target]``, computed in one stable node; the
    gradient with respect to the logits is ``(softmax(logits) - onehot(target)) / N``.
    """
    x = logits if isinstance(logits, Tensor) else _tensor(logits)
    t = _class_targets(target, x.data.shape, "cross_entropy")
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"cross_entropy: reduction must be one of {_REDUCTIONS}, got {reduction!r}"
        )
    # This is every training step's hot path: (N, C) scores with mean reduction take no helper
    # calls, np.<ufunc>.reduce skips the Python wrappers of .max()/.sum(), and one array holds
    # the shifted logits and then (in place) their exponentials.
    shape = x.data.shape
    z, t2 = (x.data, t) if len(shape) == 2 else _rows(x.data, t)
    n = len(t2)
    rows = np.arange(n)
    e = z - np.maximum.reduce(z, axis=1, keepdims=True)
    picked = e[rows, t2]
    np.exp(e, out=e)
    s = np.add.reduce(e, axis=1, keepdims=True)
    losses = np.log(s[:, 0]) - picked
    if reduction == "mean":
        data = np.add.reduce(losses, axis=None) / n  # = losses.mean(), but faster
    elif reduction == "sum":
        data = np.add.reduce(losses, axis=None)
    else:
        data = losses.reshape(t.shape)

    def backward(g):
        d = e / s
        d[rows, t2] -= 1
        d *= g / n if reduction == "mean" else _loss_scale(g, reduction, n)
        return (d if len(shape) == 2 else _unrows(d, shape),)

    return _make(data, (x,), "cross_entropy", backward)


def nll_loss(log_probs, target, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood ``-log_probs[range(N), target]`` for (N, C) log-probabilities
    (e.g. the output of :func:`log_softmax`) and integer targets; reductions as in
    :func:`cross_entropy`."""
    x = _tensor(log_probs)
    t = _class_targets(target, x.data.shape, "nll_loss")
    z, t2 = _rows(x.data, t)
    n = len(t2)
    rows = np.arange(n)
    data = _reduce(-z[rows, t2], reduction, "nll_loss")
    if reduction == "none":
        data = data.reshape(t.shape)
    shape = x.data.shape

    def backward(g):
        d = np.zeros(z.shape, dtype=np.result_type(z, g))
        d[rows, t2] = -_loss_scale(g, reduction, n).reshape(-1)
        return (_unrows(d, shape),)

    return _make(data, (x,), "nll_loss", backward)


def mse_loss(input, target, reduction: str = "mean") -> Tensor:  # noqa: A002 (PyTorch's name)
    """Mean squared error ``mean((input - target)**2)``; the shapes must be equal (a (N, 1)
    prediction against a (N,) target would silently broadcast to (N, N))."""
    x = _tensor(input)
    y = _tensor(target)
    if x.data.shape != y.data.shape:
        raise ValueError(
            f"mse_loss: shapes {x.data.shape} and {y.data.shape} differ; the prediction and "
            "target must have the same shape"
        )
    diff = x.data - y.data
    data = _reduce(diff * diff, reduction, "mse_loss")
    n = diff.size

    def backward(g):
        if reduction == "mean":
            gd = diff * (2 * g / n)
        elif reduction == "sum":
            gd = diff * (2 * g)
        else:
            gd = 2 * g * diff
        return (gd if x.requires_grad else None), (-gd if y.requires_grad else None)

    return _make(data, (x, y), "mse_loss", backward)


def linear(x, weight, bias=None) -> Tensor:
    """``x @ weight.T + bias`` as one node.

    Args:
        x: (..., in_features) input.
        weight: (out_features, in_features), PyTorch's layout.
        bias: (out_features,) or None.

    Returns:
        (..., out_features).
    """
    x = x if isinstance(x, Tensor) else _tensor(x)
    w = weight if isinstance(weight, Tensor) else _tensor(weight)
    X, W = x.data, w.data
    if W.ndim != 2 or X.ndim == 0 or X.shape[-1] != W.shape[1]:
        if W.ndim != 2:
            raise ValueError(
                f"linear: weight must be 2-D (out_features, in_features), got {W.shape}"
            )
        raise ValueError(
            f"linear: input of shape {X.shape} does not match weight of shape {W.shape}: the "
            f"input's last axis must have in_features = {W.shape[1]} elements"
        )
    out = X @ W.T
    if bias is None:
        parents = (x, w)
    else:
        b = bias if isinstance(bias, Tensor) else _tensor(bias)
        if b.data.shape != W.shape[:1]:
            raise ValueError(
                f"linear: bias of shape {b.data.shape} does not match weight of shape "
                f"{W.shape}: it must have shape ({W.shape[0]},)"
            )
        if b.data.dtype == out.dtype:
            out += b.data  # out is a fresh array: add in place, no second temporary
        else:
            out = out + b.data
        parents = (x, w, b)

    def backward(g):
        gx = g @ W if x.requires_grad else None
        gw = gb = None
        if w.requires_grad:
            if X.ndim == 1:
                gw = np.outer(g, X)
            elif X.ndim == 2:
                gw = g.T @ X
            else:  # explicit row counts, not -1: a feature axis may be empty
                rows = math.prod(X.shape[:-1])
                gw = g.reshape(rows, g.shape[-1]).T @ X.reshape(rows, X.shape[-1])
        if len(parents) == 3 and parents[2].requires_grad:
            if g.ndim == 2:
                gb = np.add.reduce(g, axis=0)
            else:
                gb = g.sum(axis=tuple(range(g.ndim - 1))) if g.ndim > 1 else g.copy()
        return gx, gw, gb

    return _make(out, parents, "linear", backward)


# ---------------------------------------------------------------------------------------------
# Convolution and pooling
# ---------------------------------------------------------------------------------------------


def _pair(v, name: str, who: str, minimum: int) -> tuple[int, int]:
    pair = (v, v) if isinstance(v, numbers.Integral) else tuple(v)
    if len(pair) != 2 or not all(isinstance(i, numbers.Integral) and i >= minimum for i in pair):
        raise ValueError(f"{who}: {name} must be an int >= {minimum} or a pair of them, got {v!r}")
    return int(pair[0]), int(pair[1])


def _check_4d(x: np.ndarray, who: str) -> None:
    if x.ndim != 4:
        raise ValueError(f"{who}: input must be 4-D (N, C, H, W), got shape {x.shape}")


def _out_size(size: int, k: int, s: int, p: int, who: str, shape) -> int:
    n = (size + 2 * p - k) // s + 1
    if n < 1:
        raise ValueError(
            f"{who}: kernel size {k} is larger than the padded input ({size} + 2*{p}) of an "
            f"input of shape {shape}"
        )
    return n


def _pad_hw(a: np.ndarray, ph: int, pw: int, value: float = 0.0) -> np.ndarray:
    if ph == 0 and pw == 0:
        return a
    return np.pad(a, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _windows(xp, kh, kw, sh, sw, oh, ow):
    """Read-only view (N, C, kh, kw, oh, ow) of every kernel-sized window of xp (N, C, H, W)."""
    s0, s1, s2, s3 = xp.strides
    shape = xp.shape[:2] + (kh, kw, oh, ow)
    return as_strided(xp, shape, (s0, s1, s2, s3, s2 * sh, s3 * sw), writeable=False)


def _col2im(d6, shape_p, sh, sw):
    """Sum window gradients d6 (N, C, kh, kw, oh, ow) back onto the padded input."""
    N, C, kh, kw, oh, ow = d6.shape
    dxp = np.zeros(shape_p, dtype=d6.dtype)
    for i in range(kh):  # loops over kernel offsets only, never over pixels
        for j in range(kw):
            dxp[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw] += d6[:, :, i, j]
    return dxp


def conv2d(x, weight, bias=None, stride=1, padding=0) -> Tensor:
    """2-D cross-correlation (PyTorch's ``conv2d``; the kernel is not flipped), via im2col.

    Args:
        x: (N, C, H, W) input.
        weight: (O, C, kH, kW) filters.
        bias: (O,) or None.
        stride, padding: int or (h, w) pair; zero padding on both sides.

    Returns:
        (N, O, H_out, W_out) with H_out = (H + 2*padding - kH) // stride + 1 (same for W).
    """
    x, w = _tensor(x), _tensor(weight)
    X, Wt = x.data, w.data
    _check_4d(X, "conv2d")
    if Wt.ndim != 4:
        raise ValueError(f"conv2d: weight must be 4-D (O, C, kH, kW), got shape {Wt.shape}")
    N, C, H, W = X.shape
    O, Cw, kh, kw = Wt.shape
    if C != Cw:
        raise ValueError(
            f"conv2d: input of shape {X.shape} has {C} channels but weight of shape "
            f"{Wt.shape} expects {Cw}"
        )
    sh, sw = _pair(stride, "stride", "conv2d", 1)
    ph, pw = _pair(padding, "padding", "conv2d", 0)
    oh = _out_size(H, kh, sh, ph, "conv2d", X.shape)
    ow = _out_size(W, kw, sw, pw, "conv2d", X.shape)
    xp = _pad_hw(X, ph, pw)
    K = C * kh * kw
    cols = _windows(xp, kh, kw, sh, sw, oh, ow).reshape(N, K, oh * ow)  # the im2col copy
    W2 = Wt.reshape(O, K)
    out = (W2 @ cols).reshape(N, O, oh, ow)
    parents = (x, w)
    if bias is not None:
        b = _tensor(bias)
        if b.data.shape != (O,):
            raise ValueError(f"conv2d: bias must have shape ({O},), got {b.data.shape}")
        if b.data.dtype == out.dtype:
            out += b.data[:, None, None]  # out is fresh: in place
        else:
            out = out + b.data[:, None, None]
        parents = (x, w, b)

    def backward(g):
        g3 = g.reshape(N, O, oh * ow)
        gx = gw = gb = None
        if w.requires_grad:
            gw = np.add.reduce(g3 @ cols.transpose(0, 2, 1), axis=0).reshape(Wt.shape)
        if x.requires_grad:
            d6 = (W2.T @ g3).reshape(N, C, kh, kw, oh, ow)
            dxp = _col2im(d6, xp.shape, sh, sw)
            gx = dxp[:, :, ph : ph + H, pw : pw + W]
        if len(parents) == 3 and parents[2].requires_grad:
            gb = g.sum(axis=(0, 2, 3))
        return gx, gw, gb

    return _make(out, parents, "conv2d", backward)


def _pool_setup(x, kernel_size, stride, padding, who):
    X = x.data
    _check_4d(X, who)
    kh, kw = _pair(kernel_size, "kernel_size", who, 1)
    sh, sw = (kh, kw) if stride is None else _pair(stride, "stride", who, 1)
    ph, pw = _pair(padding, "padding", who, 0)
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(
            f"{who}: padding {padding!r} must be at most half the kernel size {(kh, kw)}"
        )
    N, C, H, W = X.shape
    oh = _out_size(H, kh, sh, ph, who, X.shape)
    ow = _out_size(W, kw, sw, pw, who, X.shape)
    return X, (N, C, H, W), (kh, kw), (sh, sw), (ph, pw), (oh, ow)


def max_pool2d(x, kernel_size, stride=None, padding=0) -> Tensor:
    """Maximum over each kernel window of (N, C, H, W); ``stride`` defaults to ``kernel_size``,
    padding uses -inf. The gradient goes to the first maximum of each window (row-major order),
    as in PyTorch."""
    x = _tensor(x)
    X, (N, C, H, W), (kh, kw), (sh, sw), (ph, pw), (oh, ow) = _pool_setup(
        x, kernel_size, stride, padding, "max_pool2d"
    )
    xp = _pad_hw(X, ph, pw, -np.inf)
    win = _windows(xp, kh, kw, sh, sw, oh, ow)  # (N, C, kh, kw, oh, ow)
    flat = win.reshape(N, C, kh * kw, oh, ow)
    idx = flat.argmax(axis=2)
    out = np.take_along_axis(flat, idx[:, :, None], axis=2)[:, :, 0]
    Hp, Wp = xp.shape[2:]

    def backward(g):
        # Linear index into the padded input of each window's winner; bincount sums the
        # gradients of overlapping windows that pick the same pixel.
        r = np.arange(oh)[:, None] * sh + idx // kw
        c = np.arange(ow) * sw + idx % kw
        nc = np.arange(N * C).reshape(N, C, 1, 1)
        lin = (nc * Hp + r) * Wp + c
        dxp = np.bincount(lin.ravel(), weights=g.ravel(), minlength=N * C * Hp * Wp)
        dxp = dxp.astype(g.dtype, copy=False).reshape(N, C, Hp, Wp)
        return (dxp[:, :, ph : ph + H, pw : pw + W],)

    return _make(out, (x,), "max_pool2d", backward)


def avg_pool2d(x, kernel_size, stride=None, padding=0) -> Tensor:
    """Mean over each kernel window of (N, C, H, W); ``stride`` defaults to ``kernel_size``;
    zero padding counts towards the mean (PyTorch's ``count_include_pad=True``)."""
    x = _tensor(x)
    X, (N, C, H, W), (kh, kw), (sh, sw), (ph, pw), (oh, ow) = _pool_setup(
        x, kernel_size, stride, padding, "avg_pool2d"
    )
    xp = _pad_hw(X, ph, pw)
    out = _windows(xp, kh, kw, sh, sw, oh, ow).mean(axis=(2, 3))
    scale = 1.0 / (kh * kw)

    def backward(g):
        gs = g * scale
        d6 = np.broadcast_to(gs[:, :, None, None], (N, C, kh, kw, oh, ow))
        dxp = _col2im(d6, xp.shape, sh, sw)
        return (dxp[:, :, ph : ph + H, pw : pw + W],)

    return _make(out, (x,), "avg_pool2d", backward)


def dropout(x, p: float = 0.5, training: bool = True, rng=None, seed=None) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p) ("inverted"
    dropout, so eval needs no rescaling). Identity when ``training`` is False.

    Args:
        rng: a ``np.random.Generator`` drawing the mask; or ``seed`` for a fresh one.
    """
    x = _tensor(x)
    if not (isinstance(p, numbers.Real) and 0.0 <= p <= 1.0):
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    if not training or p == 0.0:
        return x
    gen = _generator(rng, seed, "dropout")
    if p == 1.0:
        mask = np.zeros(x.data.shape, dtype=x.data.dtype)
    else:
        keep = gen.random(x.data.shape) >= p
        mask = keep.astype(x.data.dtype) * (1.0 / (1.0 - p))
    return _make(x.data * mask, (x,), "dropout", lambda g: (g * mask,))


def _generator(rng, seed, who: str) -> np.random.Generator:
    """A numpy Generator from ``rng`` (a Generator, or an int seed) or ``seed``."""
    if rng is None:
        return np.random.default_rng(seed)
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{who}: rng must be a numpy.random.Generator (np.random.default_rng(seed)) or an int "
        f"seed, got {type(rng).__name__}"
    )
