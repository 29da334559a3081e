"""The loss surface over weight space: lines, barriers, random planes and the rescaling symmetry.

A network with P parameters is a point theta in R^P (all its parameters flattened and
concatenated in ``parameters()`` order), and its training loss is a function over that space.
Nobody can look at a surface in 101,770 dimensions, only at low-dimensional slices of it:

* a **line** between two points, ``theta(t) = (1 - t) theta_a + t theta_b``
  (:func:`interpolate`, :func:`loss_on_line`; Goodfellow, Vinyals & Saxe 2015), and the
  **loss barrier** on it, the largest rise of the loss above the straight chord joining the two
  ends (:func:`loss_barrier`; Frankle et al. 2020, Entezari et al. 2022);
* a **plane** through theta spanned by two random directions,
  ``theta + alpha d1 + beta d2`` (:func:`loss_plane`), with the directions *filter-normalised*
  (:func:`random_direction`; Li et al. 2018): each row of each weight matrix of the direction
  gets the norm of the same row of theta, and the biases get 0;
* the **ReLU rescaling symmetry** (Dinh et al. 2017): multiplying a hidden layer's incoming
  weights and biases by alpha > 0 and its outgoing weights by 1/alpha changes theta but not the
  function (:func:`rescale_hidden`). It is why the size of a raw random direction means nothing
  by itself, and why filter normalisation is needed.

These are the fallbacks of lesson 09 (students write each one there) and the tools lesson 10
builds on. Every function leaves its inputs unchanged; the functions that evaluate a model at
other points put the model's own parameters back before they return.

Example::

    from nnlite import landscape, zoo
    a, b = zoo.mnist_mlp(seed=0).model, zoo.mnist_mlp(seed=1).model
    ts = np.linspace(0, 1, 11)
    losses = landscape.loss_on_line(a, landscape.flatten_params(a),
                                    landscape.flatten_params(b), ts, X, y)
    landscape.loss_barrier(ts, losses)
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from nnlite.functional import cross_entropy
from nnlite.tensor import Tensor, no_grad

__all__ = [
    "flatten_params",
    "load_flat_params",
    "interpolate",
    "loss_on_line",
    "loss_barrier",
    "random_direction",
    "loss_plane",
    "rescale_hidden",
]


def _params(model: Any, who: str) -> list:
    if not hasattr(model, "parameters"):
        raise TypeError(f"{who}: expected an nnlite Module, got {type(model).__name__}")
    return list(model.parameters())


def _vector(v: Any, name: str, who: str) -> np.ndarray:
    v = np.asarray(v.data if isinstance(v, Tensor) else v)
    if v.ndim != 1:
        raise ValueError(f"{who}: {name} must be a flat vector (P,), got shape {v.shape}")
    if not (np.issubdtype(v.dtype, np.number) or v.dtype == bool):
        raise TypeError(f"{who}: {name} must be numeric, got dtype {v.dtype}")
    return v


def flatten_params(model: Any) -> np.ndarray:
    """All parameters of ``model`` as one flat vector theta, in ``parameters()`` order.

    Args:
        model: an nnlite Module.

    Returns:
        A new 1-D array of shape (P,), P = the number of scalar parameters (0 for a model
        without parameters), each parameter raveled in C order. Its dtype is the parameters'
        (float64 for nnlite's default). It is a copy: changing it leaves the model unchanged.
    """
    params = _params(model, "flatten_params")
    if not params:
        return np.zeros(0)
    return np.concatenate([np.asarray(p.data).ravel() for p in params])


def load_flat_params(model: Any, vec: Any) -> None:
    """Write the flat vector ``vec`` into ``model``'s parameters, in ``parameters()`` order.

    The inverse of :func:`flatten_params`: ``load_flat_params(m, flatten_params(m))`` changes
    nothing. The values are copied into the existing Parameters (``p.data[...] = ...``), so an
    optimizer holding them sees the new values, and changing ``vec`` later does not change the
    model. Each parameter keeps its shape and dtype.

    Raises:
        ValueError: ``vec`` is not 1-D, or its length is not the model's number of parameters
            (the message names both).
    """
    who = "load_flat_params"
    params = _params(model, who)
    vec = np.asarray(vec.data if isinstance(vec, Tensor) else vec)
    total = sum(int(np.size(p.data)) for p in params)
    if vec.shape != (total,):
        raise ValueError(
            f"{who}: vec has shape {vec.shape} but the model has {total} parameters ({total},)"
        )
    offset = 0
    for p in params:
        n = int(np.size(p.data))
        p.data[...] = vec[offset : offset + n].reshape(p.data.shape)
        offset += n


def interpolate(theta_a: Any, theta_b: Any, t: Any) -> np.ndarray:
    """The point ``(1 - t) * theta_a + t * theta_b`` on the line through two points.

    Args:
        theta_a, theta_b: arrays of the same shape (flat parameter vectors, typically).
        t: a real number. t = 0 gives theta_a, t = 1 gives theta_b (both exactly), values in
            between lie on the segment, values outside it extend the line.

    Returns:
        A new array of that shape; float32 inputs stay float32, integers become float64.

    Raises:
        ValueError: the shapes differ, or t is not a single real number.
    """
    who = "interpolate"
    a, b = np.asarray(theta_a), np.asarray(theta_b)
    if a.shape != b.shape:
        raise ValueError(f"{who}: theta_a and theta_b have shapes {a.shape} and {b.shape}")
    if np.ndim(t) != 0 or isinstance(t, bool) or not np.isrealobj(t):
        raise ValueError(f"{who}: t must be a real number, got {t!r}")
    t = float(t)
    # (1 - t) a + t b (not a + t (b - a)): the endpoints come out exactly, and b - a cannot
    # overflow for huge entries of opposite sign.
    return (1.0 - t) * a + t * b


def _mean_loss(model: Any, X: Any, y: Any) -> float:
    with no_grad():
        return float(cross_entropy(model(Tensor(X)), y).item())


def _check_data(X: Any, y: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim < 1 or y.ndim != 1 or len(X) != len(y) or len(y) == 0:
        raise ValueError(
            f"{who}: X of shape {X.shape} and y of shape {y.shape} do not fit; expected "
            "(N, ...) and (N,) with N >= 1"
        )
    return X, y


def loss_on_line(model: Any, theta_a: Any, theta_b: Any, ts: Any, X: Any, y: Any) -> np.ndarray:
    """Mean cross-entropy of ``model`` at the points ``interpolate(theta_a, theta_b, t)``.

    Args:
        model: an nnlite Module whose parameters flatten to theta_a's shape (P,).
        theta_a, theta_b: flat parameter vectors (P,).
        ts: 1-D sequence of positions on the line (0 = theta_a, 1 = theta_b).
        X: inputs (N, ...); y: integer labels (N,).

    Returns:
        float64 array of shape (len(ts),): the loss averaged over the N examples, computed
        without a graph. The model's parameters are put back as they were.

    Raises:
        ValueError: shapes that do not fit (named in the message).
    """
    who = "loss_on_line"
    a = _vector(theta_a, "theta_a", who)
    b = _vector(theta_b, "theta_b", who)
    if a.shape != b.shape:
        raise ValueError(f"{who}: theta_a and theta_b have shapes {a.shape} and {b.shape}")
    ts = np.asarray(ts, dtype=np.float64)
    if ts.ndim != 1:
        raise ValueError(f"{who}: ts must be 1-D, got shape {ts.shape}")
    X, y = _check_data(X, y, who)
    saved = flatten_params(model)
    if saved.shape != a.shape:
        raise ValueError(f"{who}: theta_a has shape {a.shape} but the model has {saved.shape}")
    out = np.empty(len(ts))
    try:
        for i, t in enumerate(ts):
            load_flat_params(model, interpolate(a, b, t))
            out[i] = _mean_loss(model, X, y)
    finally:
        load_flat_params(model, saved)
    return out


def loss_barrier(ts: Any, losses: Any) -> float:
    """Height of the loss barrier on a line: ``max_t [L(t) - chord(t)]``.

    The chord is the straight line joining the first and the last sample, ``(ts[0], losses[0])``
    and ``(ts[-1], losses[-1])``; with ts running from 0 to 1 it is
    ``(1 - t) L(0) + t L(1)`` (Frankle et al. 2020; Entezari et al. 2022).

    Args:
        ts: 1-D, strictly increasing positions, at least 2.
        losses: the losses at ts, same shape.

    Returns:
        A Python float >= 0 (the ends lie on the chord): 0 for a linear or convex L(t), positive
        when the loss rises above the chord somewhere in between. NaN in the losses gives NaN.

    Raises:
        ValueError: shapes differ, fewer than 2 points, or ts not strictly increasing.
    """
    who = "loss_barrier"
    ts = np.asarray(ts, dtype=np.float64)
    losses = np.asarray(losses, dtype=np.float64)
    if ts.ndim != 1 or ts.shape != losses.shape:
        raise ValueError(
            f"{who}: ts and losses must be 1-D of the same length, got shapes {ts.shape} and "
            f"{losses.shape}"
        )
    if len(ts) < 2:
        raise ValueError(f"{who}: need at least 2 points, got {len(ts)}")
    if not np.all(np.diff(ts) > 0):
        raise ValueError(f"{who}: ts must be strictly increasing")
    s = (ts - ts[0]) / (ts[-1] - ts[0])  # 0 at the first sample, 1 at the last
    chord = (1.0 - s) * losses[0] + s * losses[-1]
    gap = losses - chord
    return float("nan") if np.isnan(gap).any() else float(gap.max())


def random_direction(model: Any, rng: Any, filter_normalize: bool = True) -> np.ndarray:
    """A random direction in weight space, shaped like ``flatten_params(model)``.

    One Gaussian draw ``g = rng.standard_normal(P)`` (float64), split into the model's
    parameters in ``parameters()`` order. Then:

    * ``filter_normalize=True`` (Li et al. 2018): in every parameter with 2 or more axes (a
      weight matrix (out, in), or a conv kernel), each filter, i.e. each slice ``[i]`` along the
      first axis (row i: the incoming weights of unit i), is rescaled to the norm of the same
      filter of the model's parameters, ``g_i * ||theta_i|| / ||g_i||``; every 1-D parameter
      (the biases) is set to 0. A zero filter of theta gives a zero filter.
    * ``filter_normalize=False``: the same draw ``g``, rescaled as a whole so that its norm is
      that of the filter-normalised direction (the norm of the model's weight matrices); a
      "raw" direction of the same overall size with no structure per filter.

    Args:
        model: an nnlite Module (its parameters are read, not changed).
        rng: a numpy Generator or an int seed (``np.random.default_rng(rng)``).
        filter_normalize: see above.

    Returns:
        float64 array (P,).
    """
    params = [np.asarray(p.data, dtype=np.float64) for p in _params(model, "random_direction")]
    gen = np.random.default_rng(rng)
    g = gen.standard_normal(sum(p.size for p in params))
    parts, offset = [], 0
    for p in params:
        d = g[offset : offset + p.size].reshape(p.shape)
        offset += p.size
        if p.ndim >= 2:
            axes = tuple(range(1, p.ndim))
            theta_norm = np.sqrt((p**2).sum(axis=axes, keepdims=True))
            d_norm = np.sqrt((d**2).sum(axis=axes, keepdims=True))
            with np.errstate(divide="ignore", invalid="ignore"):
                d = np.where(theta_norm > 0, d * (theta_norm / d_norm), 0.0)
        else:
            d = np.zeros_like(d)
        parts.append(d.ravel())
    normalized = np.concatenate(parts) if parts else np.zeros(0)
    if filter_normalize:
        return normalized
    g_norm = np.linalg.norm(g)
    return g * (np.linalg.norm(normalized) / g_norm) if g_norm > 0 else g


def loss_plane(
    model: Any,
    theta: Any,
    d1: Any,
    d2: Any,
    alphas: Any,
    betas: Any,
    X: Any,
    y: Any,
) -> np.ndarray:
    """Mean cross-entropy on the plane ``theta + alpha * d1 + beta * d2``.

    Args:
        model: an nnlite Module with P parameters.
        theta, d1, d2: flat vectors (P,): the centre and the two directions.
        alphas, betas: 1-D grids of coefficients.
        X: inputs (N, ...); y: integer labels (N,).

    Returns:
        float64 array of shape (len(alphas), len(betas)); entry [i, j] is the loss at
        ``theta + alphas[i] * d1 + betas[j] * d2``, computed without a graph. The model's
        parameters are put back as they were.

    Raises:
        ValueError: shapes that do not fit (named in the message).
    """
    who = "loss_plane"
    theta = _vector(theta, "theta", who).astype(np.float64)
    d1 = _vector(d1, "d1", who).astype(np.float64)
    d2 = _vector(d2, "d2", who).astype(np.float64)
    if not theta.shape == d1.shape == d2.shape:
        raise ValueError(
            f"{who}: theta, d1 and d2 have shapes {theta.shape}, {d1.shape} and {d2.shape}"
        )
    alphas = np.asarray(alphas, dtype=np.float64)
    betas = np.asarray(betas, dtype=np.float64)
    if alphas.ndim != 1 or betas.ndim != 1:
        raise ValueError(f"{who}: alphas and betas must be 1-D, got {alphas.shape}, {betas.shape}")
    X, y = _check_data(X, y, who)
    saved = flatten_params(model)
    if saved.shape != theta.shape:
        raise ValueError(f"{who}: theta has shape {theta.shape} but the model has {saved.shape}")
    out = np.empty((len(alphas), len(betas)))
    try:
        for i, a in enumerate(alphas):
            for j, b in enumerate(betas):
                load_flat_params(model, theta + a * d1 + b * d2)
                out[i, j] = _mean_loss(model, X, y)
    finally:
        load_flat_params(model, saved)
    return out


def rescale_hidden(params: Any, layer: int, alpha: Any) -> list[np.ndarray]:
    """Rescale hidden layer ``layer`` of an MLP without changing the function it computes.

    ``params`` lists an MLP's parameters in ``parameters()`` order, ``[W_0, b_0, W_1, b_1, ...]``
    with PyTorch's layout ``W_l`` of shape (out, in). Hidden layer ``layer`` is the output of
    ``W_layer``, ``b_layer``; its ReLU is positively homogeneous, ``relu(a z) = a relu(z)`` for
    a > 0, so multiplying ``W_layer`` and ``b_layer`` by alpha and the next weight matrix
    ``W_{layer+1}`` by 1/alpha leaves every output unchanged (Dinh et al. 2017). The next bias is
    unchanged.

    Args:
        params: list of arrays (or Tensors) [W_0, b_0, W_1, b_1, ...], not modified.
        layer: index of the hidden layer, 0 <= layer < number of weight matrices - 1.
        alpha: a positive number, or an array (H,) with one positive factor per unit of that
            layer (row j of W_layer and b_layer[j] times alpha[j], column j of W_{layer+1}
            divided by alpha[j]).

    Returns:
        A new list of float64 arrays of the same shapes.

    Raises:
        ValueError: alpha <= 0, not finite, or of the wrong shape; ``layer`` out of range;
            params not alternating weight matrices and bias vectors.
    """
    who = "rescale_hidden"
    arrays = [np.array(getattr(p, "data", p), dtype=np.float64) for p in params]
    n_layers = len(arrays) // 2
    if len(arrays) % 2 or any(
        w.ndim != 2 or b.shape != (w.shape[0],)
        for w, b in zip(arrays[::2], arrays[1::2], strict=True)
    ):
        shapes = [a.shape for a in arrays]
        raise ValueError(f"{who}: params must be [W_0, b_0, W_1, b_1, ...], got shapes {shapes}")
    if isinstance(layer, bool) or not isinstance(layer, numbers.Integral):
        raise ValueError(f"{who}: layer must be an int, got {layer!r}")
    if not 0 <= layer < n_layers - 1:
        raise ValueError(
            f"{who}: layer {layer} is not a hidden layer of an MLP with {n_layers} weight "
            f"matrices (0..{n_layers - 2})"
        )
    W, b, W_next = arrays[2 * layer], arrays[2 * layer + 1], arrays[2 * layer + 2]
    alpha = np.asarray(alpha, dtype=np.float64)
    if alpha.ndim not in (0, 1) or (alpha.ndim == 1 and alpha.shape != b.shape):
        raise ValueError(
            f"{who}: alpha must be a number or one factor per unit {b.shape}, got {alpha.shape}"
        )
    if not (np.all(np.isfinite(alpha)) and np.all(alpha > 0)):
        raise ValueError(f"{who}: alpha must be positive and finite, got {alpha}")
    arrays[2 * layer] = W * (alpha[:, None] if alpha.ndim else alpha)
    arrays[2 * layer + 1] = b * alpha
    arrays[2 * layer + 2] = W_next / alpha
    return arrays
