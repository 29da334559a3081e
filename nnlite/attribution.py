"""Preferred inputs and attribution: what a unit responds to, and which pixels a decision uses.

The tools of lesson 08, for a network that maps rows of pixels ``(N, D)`` to logits ``(N, C)``
(an :class:`nnlite.nn.Sequential` such as :class:`nnlite.nn.MLP`):

* :func:`layer_output`, :func:`top_k_activating`: the dataset examples that drive a unit most
  (Zeiler & Fergus 2014, in spirit);
* :func:`occlusion_map`: how much p(target) drops when a square patch is covered;
* :func:`saliency`: the gradient of a logit with respect to the input, or gradient × input
  (Simonyan et al. 2014), by nnlite's autograd;
* :func:`deletion_drop`: the deletion test of an attribution (Samek et al. 2017): delete the
  highest-scoring stroke pixels and measure how much p(true class) falls;
* :func:`activation_maximization`: gradient ascent on the input, with an optional L2 penalty,
  blur and a clip box (Erhan et al. 2009; Yosinski et al. 2015), and :func:`blur`;
* :func:`top_k_purity`, :func:`random_direction_purity`: how label-pure the top examples of the
  units are, against random directions of the same space (Szegedy et al. 2014).

Every function leaves its inputs unchanged; randomness takes a ``seed``; ties in a ranking go
to the lower index.
"""

from __future__ import annotations

import numpy as np

from .tensor import Tensor, no_grad

__all__ = [
    "probabilities",
    "layer_output",
    "top_k_activating",
    "occlusion_map",
    "saliency",
    "deletion_drop",
    "blur",
    "activation_maximization",
    "top_k_purity",
    "random_direction_purity",
]


def _rows(X, who: str, name: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{who}: {name} must be (N, D) rows, got shape {X.shape}")
    return X


def _ranking(scores: np.ndarray) -> np.ndarray:
    """Indices of ``scores`` (1-D) from the largest down; ties keep the lower index first."""
    return np.argsort(-scores, kind="stable")


def probabilities(model, X) -> np.ndarray:
    """Softmax probabilities ``(N, C)`` of ``model`` on the rows of ``X``, without a graph."""
    X = _rows(X, "probabilities")
    with no_grad():
        z = np.asarray(model(Tensor(X)).data, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def layer_output(model, X, layer: int) -> np.ndarray:
    """The output of module ``model[layer]`` for the rows of ``X``: ``(N, units)`` float64.

    ``model`` is a Sequential (e.g. an MLP: ``model[0]`` the first Linear, ``model[1]`` its
    ReLU, ``model[-1]`` the logits); ``layer`` may be negative, as in Python indexing.
    """
    who = "layer_output"
    X = _rows(X, who)
    n = len(model)
    if not -n <= layer < n:
        raise IndexError(f"{who}: layer {layer} out of range for a model of {n} modules")
    stop = layer % n
    with no_grad():
        h = Tensor(X)
        for i in range(stop + 1):
            h = model[i](h)
    return np.asarray(h.data, dtype=np.float64)


def top_k_activating(model, X, layer: int, unit: int, k: int) -> np.ndarray:
    """Indices of the ``k`` rows of ``X`` on which ``unit`` of ``model[layer]`` is largest.

    Returns an int64 array ``(k,)``, ordered from the most activating down; equal activations
    keep the lower index first. ``0 <= k <= N``.
    """
    who = "top_k_activating"
    acts = layer_output(model, X, layer)
    if not -acts.shape[1] <= unit < acts.shape[1]:
        raise IndexError(f"{who}: unit {unit} out of range for {acts.shape[1]} units")
    if not 0 <= k <= len(acts):
        raise ValueError(f"{who}: k must lie in 0..{len(acts)}, got {k}")
    return _ranking(acts[:, unit])[:k].astype(np.int64)


def occlusion_map(model, x, target: int, patch: int = 7, stride: int = 3, fill: float = 0.0):
    """The drop in softmax p(target) when a ``patch`` × ``patch`` square of ``x`` is covered.

    Args:
        model: maps rows ``(N, H*W)`` to logits ``(N, C)``.
        x: one image ``(H, W)``.
        target: the class whose probability is watched.
        patch, stride: the occluder's side and its step, in pixels (``1 <= patch <= min(H, W)``).
        fill: the value written into the covered pixels.

    Returns:
        float64 ``(H', W')`` with ``H' = (H - patch) // stride + 1`` (``W'`` likewise): entry
        ``(i, j)`` is p(target | x) - p(target | x with rows ``i*stride ... i*stride+patch-1``
        and columns ``j*stride ... j*stride+patch-1`` set to ``fill``). Positive: covering
        that square lowers the probability.
    """
    who = "occlusion_map"
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{who}: x must be one image (H, W), got shape {x.shape}")
    H, W = x.shape
    if not (1 <= patch <= min(H, W)) or stride < 1:
        raise ValueError(f"{who}: need 1 <= patch <= {min(H, W)} and stride >= 1 for a {H}x{W} "
                         f"image, got patch {patch}, stride {stride}")  # fmt: skip
    rows = range(0, H - patch + 1, stride)
    cols = range(0, W - patch + 1, stride)
    batch = np.repeat(x[None], len(rows) * len(cols), axis=0)
    for n, (r, c) in enumerate((r, c) for r in rows for c in cols):
        batch[n, r : r + patch, c : c + patch] = fill
    p = probabilities(model, np.concatenate([x.reshape(1, -1), batch.reshape(len(batch), -1)]))
    return (p[0, target] - p[1:, target]).reshape(len(rows), len(cols))


def saliency(model, x, target, method: str = "grad") -> np.ndarray:
    """Gradient of the ``target`` logit with respect to the input, by autograd.

    Args:
        model: maps rows ``(N, D)`` (or one row ``(D,)``) to logits.
        x: one input ``(D,)`` with an int ``target``, or a batch ``(N, D)`` with ``target`` an
            int or ``(N,)`` ints (row n's logit ``target[n]``; rows do not interact).
        method: ``'grad'``: d logit_target / dx; ``'grad_x_input'``: that times x.

    Returns:
        float64, the shape of ``x``.
    """
    who = "saliency"
    if method not in ("grad", "grad_x_input"):
        raise ValueError(f"{who}: method must be 'grad' or 'grad_x_input', got {method!r}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim not in (1, 2):
        raise ValueError(f"{who}: x must be (D,) or (N, D), got shape {x.shape}")
    t = Tensor(x, requires_grad=True)
    logits = model(t)
    if x.ndim == 1:
        chosen = logits[int(target)]
    else:
        target = np.broadcast_to(np.asarray(target, dtype=np.int64), (len(x),))
        chosen = logits[np.arange(len(x)), target].sum()
    chosen.backward()
    grad = np.zeros_like(x) if t.grad is None else np.asarray(t.grad, dtype=np.float64)
    return grad * x if method == "grad_x_input" else grad


def deletion_drop(model, X, y, scores, frac: float) -> float:
    """The deletion test: the mean drop in p(true class) after deleting the top-scored strokes.

    For each image ``n``, among its ``m_n`` nonzero pixels, the ``int(frac * m_n)`` with the
    highest ``scores[n]`` (ties: lower index first) are set to 0.

    Args:
        model: maps ``(N, D)`` rows to logits.
        X: images ``(N, D)``; y: true classes ``(N,)``; scores: ``(N, D)``, higher = more
            important; frac: in [0, 1].

    Returns:
        A float: the mean over images of p(y_n | X_n) - p(y_n | X_n with those pixels deleted).
    """
    who = "deletion_drop"
    X = _rows(X, who)
    scores = np.asarray(scores, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    if scores.shape != X.shape or y.shape != (len(X),):
        raise ValueError(f"{who}: X {X.shape}, y {y.shape} and scores {scores.shape} do not "
                         "fit: expected (N, D), (N,) and (N, D)")  # fmt: skip
    if not 0.0 <= frac <= 1.0:
        raise ValueError(f"{who}: frac must lie in [0, 1], got {frac}")
    deleted = X.copy()
    for n in range(len(X)):
        stroke = np.flatnonzero(X[n])
        k = int(frac * len(stroke))
        deleted[n, stroke[_ranking(scores[n, stroke])[:k]]] = 0.0
    rows = np.arange(len(X))
    before = probabilities(model, X)[rows, y]
    after = probabilities(model, deleted)[rows, y]
    return float(np.mean(before - after)) if len(X) else 0.0


def blur(x, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Smooth images with the 3 × 3 binomial kernel [1, 2, 1]ᵀ[1, 2, 1] / 16 (zero padding).

    ``x``: one flattened image ``(H*W,)``, rows ``(N, H*W)``, or images ``(..., H, W)`` when
    ``shape`` is None and the last two axes are not a flattened square. ``shape``: ``(H, W)`` of
    a flattened image; default square. Returns float64 of ``x``'s shape.
    """
    x = np.asarray(x, dtype=np.float64)
    flat = shape is not None or x.ndim <= 2
    if flat:
        d = x.shape[-1]
        if shape is None:
            side = int(round(np.sqrt(d)))
            if side * side != d:
                raise ValueError(f"blur: {d} pixels are not a square image; pass shape=(H, W)")
            shape = (side, side)
        img = x.reshape(*x.shape[:-1], *shape)
    else:
        img = x
    p = np.pad(img, [(0, 0)] * (img.ndim - 2) + [(1, 1), (1, 1)])
    v = p[..., :-2, :] + 2 * p[..., 1:-1, :] + p[..., 2:, :]
    out = (v[..., :-2] + 2 * v[..., 1:-1] + v[..., 2:]) / 16.0
    return out.reshape(x.shape)


def activation_maximization(
    model, objective, x0, steps: int, lr: float, l2: float = 0.0, blur_every: int = 0,
    clip=(0.0, 1.0),
) -> np.ndarray:  # fmt: skip
    """Gradient ascent on the input: maximise ``objective(model, x) - (l2 / 2) * ||x||^2``.

    Args:
        model: the network (passed to ``objective``).
        objective: ``objective(model, x)`` with x an nnlite Tensor of x0's shape; returns a
            scalar Tensor, e.g. ``lambda m, x: m(x)[3]`` (the logit of class 3).
        x0: the starting input (any shape; not modified).
        steps, lr: number of steps and step size.
        l2: the L2 penalty's weight (its gradient is ``-l2 * x``).
        blur_every: if > 0, after every ``blur_every``-th step apply :func:`blur` (square images).
        clip: ``(low, high)``: after every step clip x into the box; None: no box.

    Each step t = 1..steps: ``x = x + lr * (grad objective at x - l2 * x)``; then, if
    ``blur_every`` and ``t % blur_every == 0``, ``x = blur(x)``; then the clip.

    Returns:
        float64, the shape of ``x0``.
    """
    x = np.array(x0, dtype=np.float64)
    for t in range(1, steps + 1):
        xt = Tensor(x, requires_grad=True)
        objective(model, xt).backward()
        grad = np.zeros_like(x) if xt.grad is None else np.asarray(xt.grad, dtype=np.float64)
        x = x + lr * (grad - l2 * x)
        if blur_every and t % blur_every == 0:
            x = blur(x)
        if clip is not None:
            x = np.clip(x, clip[0], clip[1])
    return x


def top_k_purity(acts, y, k: int, directions=None) -> np.ndarray:
    """Label purity of the top-``k`` examples of each direction in activation space.

    Args:
        acts: activations ``(N, H)``; y: labels ``(N,)``.
        directions: ``(n_dirs, H)``; the score of example n along direction d is
            ``acts[n] @ directions[d]``. Default: the H units themselves (the identity).

    Returns:
        float64 ``(n_dirs,)``: for each direction, the fraction of its top-``k`` examples
        (ties: lower index) that carry the most common label among them.
    """
    acts = _rows(acts, "top_k_purity", "acts")
    y = np.asarray(y, dtype=np.int64)
    scores = acts if directions is None else acts @ np.asarray(directions, dtype=np.float64).T
    top = np.argsort(-scores, axis=0, kind="stable")[:k].T  # (n_dirs, k)
    labels = y[top]
    counts = np.stack([np.bincount(row, minlength=y.max() + 1) for row in labels])
    return counts.max(axis=1) / k


def random_direction_purity(acts, y, k: int, n_dirs: int, seed: int) -> np.ndarray:
    """:func:`top_k_purity` along ``n_dirs`` random Gaussian directions of the same space.

    The control of Szegedy et al. (2014): if single units were special, their top examples
    would be purer than those of random directions (combinations of units).
    """
    acts = _rows(acts, "random_direction_purity", "acts")
    directions = np.random.default_rng(seed).normal(size=(n_dirs, acts.shape[1]))
    return top_k_purity(acts, y, k, directions)
