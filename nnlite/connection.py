"""A weight as a connection strength: sensitivities, ablation, path products, rank correlation.

The tools of lesson 03 ("A weight is a connection strength"), and the lesson's fallbacks for its
exercises. They work on an MLP built as nnlite builds one (:class:`nnlite.nn.MLP`, or any
:class:`nnlite.nn.Sequential` of the same shape): ``model[0], model[2], ...`` are its Linear
layers and ``model[1], model[3], ...`` the activations between them. **Layer** ``l`` of such a
network is the vector of activations after ``l`` Linear layers and their activation functions:

* layer 0 is the input ``x`` itself;
* layer ``l`` (``1 <= l < L``, with ``L`` Linear layers) is ``model[:2 * l](x)``, a hidden layer;
* the pre-activation of layer ``l + 1`` is ``model[2 * l](layer l)``; for ``l = L - 1`` it is
  the output (the logits).

So unit ``i`` of layer ``l`` feeds unit ``j`` of layer ``l + 1`` through the weight
``model[2 * l].weight[j, i]``, and :func:`unit_sensitivity` shows that this weight *is* the
derivative of the one with respect to the other.

Functions:

* :func:`activations` - the activations of a layer for a batch of inputs (numpy);
* :func:`unit_sensitivity` - d(pre-activation j of layer l+1) / d(activation i of layer l),
  by autograd;
* :func:`ablate` - a forward function with some units of a layer forced to 0 (the model is
  left untouched);
* :func:`ablation_effect` - the damage (loss increase or accuracy drop) of ablating each unit
  of a layer alone;
* :func:`connection_weight_importance` - Olden's signed path products ``W_L ... W_1``;
* :func:`garson` - Garson's (1991) relative importance, one hidden layer;
* :func:`rankdata`, :func:`spearman` - average ranks and Spearman's rank correlation (no scipy);
* :func:`permutation_spearman` - Spearman's rho under random permutations (a null control).

References: Garson, G. D. (1991), Interpreting neural-network connection weights, *AI Expert*
6(4), 46-51. Olden, J. D., Joy, M. K., & Death, R. G. (2004), An accurate comparison of methods
for quantifying variable importance in artificial neural networks using simulated data,
*Ecological Modelling* 178(3-4), 389-397.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import numpy as np

from . import functional as F
from .tensor import Tensor, no_grad

__all__ = [
    "activations",
    "unit_sensitivity",
    "ablate",
    "ablation_effect",
    "connection_weight_importance",
    "garson",
    "rankdata",
    "spearman",
    "permutation_spearman",
]


# ------------------------------------------------------------------------------------ helpers


def _n_linear(model, who: str) -> int:
    """Number of layers of an MLP-shaped Sequential (Linear, act, Linear, ...)."""
    try:
        modules = list(model)
    except TypeError:
        raise TypeError(
            f"{who}: model must be an nnlite.nn.MLP (or Sequential), got {type(model).__name__}"
        ) from None
    # Even positions hold the layers (usually Linear; any module that maps one layer's
    # activations to the next pre-activations will do), odd positions the activations.
    if len(modules) % 2 != 1:
        raise TypeError(
            f"{who}: model must alternate layers and activations, like nn.MLP (an odd number "
            f"of modules), got {len(modules)} modules"
        )
    return (len(modules) + 1) // 2


def _check_layer(layer, lowest: int, n_linear: int, who: str) -> int:
    if not isinstance(layer, numbers.Integral) or isinstance(layer, bool):
        raise TypeError(f"{who}: layer must be an int, got {type(layer).__name__}")
    if not lowest <= layer < n_linear:
        raise ValueError(
            f"{who}: layer {layer} is out of range for a network with {n_linear} Linear layers "
            f"(allowed: {lowest}..{n_linear - 1})"
        )
    return int(layer)


def activations(model, X, layer: int) -> np.ndarray:
    """The activations of ``layer`` (0: the input itself) for a batch ``X``, as a numpy array.

    Args:
        model: an nnlite MLP (see the module doc for what "layer" means).
        X: inputs, array or Tensor of shape (N, in_features).
        layer: 0 <= layer <= number of Linear layers (the last one gives the logits).

    Returns:
        (N, width of the layer) float array, computed without a graph.
    """
    n = _n_linear(model, "activations")
    layer = _check_layer(layer, 0, n + 1, "activations")
    with no_grad():
        out = model[: 2 * layer](X if isinstance(X, Tensor) else Tensor(X))
    return np.array(out.data)


# -------------------------------------------------------------------------------- sensitivity


def unit_sensitivity(model, x, layer: int, i_in: int, j_out: int) -> float:
    """d(pre-activation of unit ``j_out`` in layer+1) / d(activation of unit ``i_in`` in layer).

    Computed by autograd at the input ``x``: the activations of ``layer`` become a leaf Tensor,
    the next Linear layer is applied to them, and ``backward()`` runs from unit ``j_out``.

    Args:
        model: an nnlite MLP; 0 <= layer < number of Linear layers.
        x: one input, array of shape (in_features,).
        i_in, j_out: unit indices in layer ``layer`` and in layer ``layer + 1``.

    Returns:
        A Python float. It equals ``model[2 * layer].weight[j_out, i_in]`` for every ``x``:
        the weight is exactly this derivative.
    """
    n = _n_linear(model, "unit_sensitivity")
    layer = _check_layer(layer, 0, n, "unit_sensitivity")
    x = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"unit_sensitivity: x must be one input of shape (d,), got {x.shape}")
    a = Tensor(activations(model, x[None, :], layer)[0], requires_grad=True)
    z = model[2 * layer](a)
    z[j_out].backward()
    return float(a.grad[i_in])


# ---------------------------------------------------------------------------------- ablation


def _unit_list(units, width: int | None, who: str) -> list[int]:
    units = [units] if isinstance(units, numbers.Integral) else list(units)
    for u in units:
        bad_index = not isinstance(u, numbers.Integral) or isinstance(u, bool)
        if bad_index or not 0 <= u < (width if width is not None else u + 1):
            raise ValueError(f"{who}: unit {u!r} is not an index of a layer of width {width}")
    return [int(u) for u in units]


def ablate(model, layer: int, units) -> Callable[..., Tensor]:
    """A forward function of ``model`` with ``units`` of hidden ``layer`` set to 0.

    Args:
        model: an nnlite MLP; it is not modified (no weight is touched).
        layer: a hidden layer, 1 <= layer < number of Linear layers.
        units: an int or a sequence of ints (possibly empty), unit indices of that layer.

    Returns:
        ``forward(X)``: the logits (a Tensor of shape (N, out)) of the model for inputs ``X``
        (array or Tensor (N, in)), with the activations of those units replaced by 0 for every
        input, so that they contribute nothing to the next layer. Gradients flow as usual.
    """
    n = _n_linear(model, "ablate")
    layer = _check_layer(layer, 1, n, "ablate")
    width = getattr(model[2 * (layer - 1)], "out_features", None)
    units = _unit_list(units, width, "ablate")
    below, above = model[: 2 * layer], model[2 * layer :]

    def forward(X) -> Tensor:
        a = below(X if isinstance(X, Tensor) else Tensor(X))
        keep = np.ones(a.shape[-1], dtype=a.data.dtype)
        keep[units] = 0.0
        return above(a * Tensor(keep))

    return forward


def _metric(logits: np.ndarray, y: np.ndarray, metric: str) -> float:
    if metric == "loss":
        return float(F.cross_entropy(logits, y).item())
    return float(np.mean(logits.argmax(axis=1) == y))


def ablation_effect(model, X, y, layer: int, metric: str = "loss") -> np.ndarray:
    """How much worse the model gets when each unit of ``layer`` is ablated on its own.

    Args:
        model: an nnlite MLP (not modified).
        X: inputs (N, in_features); y: integer labels (N,). N >= 1.
        layer: a hidden layer, 1 <= layer < number of Linear layers.
        metric: 'loss' (mean cross-entropy) or 'accuracy' (fraction correct, argmax).

    Returns:
        (H,) float64 array, H the width of the layer: entry j is the **damage** of ablating
        unit j alone, metric(ablated) - metric(intact) for 'loss' (a loss increase) and
        metric(intact) - metric(ablated) for 'accuracy' (an accuracy drop). Positive: the
        unit helped; 0: ablating it changes nothing (e.g. a unit that is never active).
    """
    if metric not in ("loss", "accuracy"):
        raise ValueError(f"ablation_effect: metric must be 'loss' or 'accuracy', got {metric!r}")
    n = _n_linear(model, "ablation_effect")
    layer = _check_layer(layer, 1, n, "ablation_effect")
    y = np.asarray(y)
    A = activations(model, X, layer)  # computed once; only the part above changes per unit
    above = model[2 * layer :]
    with no_grad():
        base = _metric(above(Tensor(A)).data, y, metric)
        damage = np.empty(A.shape[1])
        for j in range(A.shape[1]):
            saved = A[:, j].copy()
            A[:, j] = 0.0
            value = _metric(above(Tensor(A)).data, y, metric)
            A[:, j] = saved
            damage[j] = value - base if metric == "loss" else base - value
    return damage


# --------------------------------------------------------------------------- path products


def connection_weight_importance(weights: Sequence) -> np.ndarray:
    """Olden's connection-weight importance: the signed product ``W_L @ ... @ W_1``.

    Args:
        weights: the weight matrices in forward order, each (out, in) as in PyTorch,
            ``[W_1, ..., W_L]``; consecutive shapes must chain (W_{l+1} has as many columns as
            W_l has rows). Tensors are accepted. Not modified.

    Returns:
        (n_out, n_in) float array (float32 only if every weight is float32): entry (k, i) is
        the sum over every path from input i to output k of the product of the weights on
        it. For one hidden layer, sum_j W2[k, j] * W1[j, i] (Olden et al. 2004). For a network
        without nonlinearities it is exactly the Jacobian d(output k) / d(input i).
    """
    mats = [np.asarray(w.data if isinstance(w, Tensor) else w) for w in weights]
    if not mats:
        raise ValueError("connection_weight_importance: weights is empty")
    for k, w in enumerate(mats):
        if w.ndim != 2:
            raise ValueError(
                f"connection_weight_importance: weight {k} has shape {w.shape}, expected 2-D"
            )
    dtype = np.float32 if all(w.dtype == np.float32 for w in mats) else np.float64
    out = mats[0].astype(dtype)
    for k, w in enumerate(mats[1:], start=1):
        if w.shape[1] != out.shape[0]:
            raise ValueError(
                f"connection_weight_importance: weight {k} of shape {w.shape} does not follow "
                f"weight {k - 1} of shape {mats[k - 1].shape}"
            )
        out = w.astype(dtype) @ out
    return out


def garson(W1, W2) -> np.ndarray:
    """Garson's (1991) relative importance of each input, for each output, one hidden layer.

    For output k: each hidden unit j shares out |W1[j, i]| * |W2[k, j]| among the inputs i in
    proportion (divided by its sum over i); the shares are summed over the hidden units and
    rescaled to sum to 1 over the inputs. Unsigned: it says how much, never in which direction.
    Note that the factor |W2[k, j]| cancels in each unit's share; it matters only where it is
    0 (that unit then gives nothing to output k).

    Args:
        W1: (H, n_in) input-to-hidden weights; W2: (n_out, H) hidden-to-output weights.

    Returns:
        (n_out, n_in) float64 array, each row non-negative and summing to 1 (a row is all NaN
        when no hidden unit has both a nonzero incoming and a nonzero outgoing weight).
    """
    W1 = np.abs(np.asarray(W1.data if isinstance(W1, Tensor) else W1, dtype=np.float64))
    W2 = np.abs(np.asarray(W2.data if isinstance(W2, Tensor) else W2, dtype=np.float64))
    if W1.ndim != 2 or W2.ndim != 2 or W2.shape[1] != W1.shape[0]:
        raise ValueError(
            f"garson: W1 {W1.shape} and W2 {W2.shape} do not chain as (H, in), (out, H)"
        )
    contrib = W2[:, :, None] * W1[None, :, :]  # (out, H, in): |w_ij| * |v_jk|
    totals = contrib.sum(axis=2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(totals > 0, contrib / np.where(totals > 0, totals, 1.0), 0.0)
        summed = shares.sum(axis=1)
        return summed / summed.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- rank correlation


def rankdata(a) -> np.ndarray:
    """Ranks 1..n of a 1-D array, ties given the average of the ranks they span (float64)."""
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"rankdata: expected a 1-D array, got shape {a.shape}")
    order = np.argsort(a, kind="stable")
    sorted_a = a[order]
    # Start of each run of equal values; a run spanning positions s..e gets rank (s + e) / 2 + 1.
    starts = np.flatnonzero(np.r_[True, sorted_a[1:] != sorted_a[:-1]])
    ends = np.r_[starts[1:], len(a)] - 1
    ranks = np.empty(len(a))
    ranks[order] = np.repeat((starts + ends) / 2.0 + 1.0, ends - starts + 1)
    return ranks


def spearman(a, b) -> float:
    """Spearman's rank correlation of two 1-D arrays of the same length (no scipy).

    The Pearson correlation of the average ranks (ties share the mean of their ranks), the same
    definition as ``scipy.stats.spearmanr``. NaN when either input is constant (its ranks have
    no spread), has fewer than 2 entries, or contains NaN.

    Raises:
        ValueError: the inputs are not 1-D or differ in length (both shapes named).
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ValueError(
            f"spearman: expected two 1-D arrays of equal length, got {a.shape} and {b.shape}"
        )
    if len(a) < 2 or np.isnan(a.astype(np.float64)).any() or np.isnan(b.astype(np.float64)).any():
        return float("nan")
    ra, rb = rankdata(a), rankdata(b)
    ra -= ra.mean()
    rb -= rb.mean()
    denom = np.sqrt((ra @ ra) * (rb @ rb))
    if denom == 0.0:
        return float("nan")
    return float(np.clip((ra @ rb) / denom, -1.0, 1.0))


def permutation_spearman(score, damage, n_permutations: int = 1000, rng=None) -> np.ndarray:
    """Spearman's rho of ``damage`` against ``n_permutations`` random permutations of ``score``.

    The null distribution of :func:`spearman` when the pairing of score and damage is
    arbitrary: a measured rho above, say, its 99th percentile is not a chance pairing.
    ``rng``: a numpy Generator or a seed. Returns an (n_permutations,) array.
    """
    gen = np.random.default_rng(rng)
    score, damage = np.asarray(score), np.asarray(damage)
    if score.shape != damage.shape or score.ndim != 1:
        raise ValueError(
            f"permutation_spearman: expected two 1-D arrays of equal length, got {score.shape} "
            f"and {damage.shape}"
        )
    if len(score) < 2:
        return np.full(n_permutations, np.nan)
    # The ranks of a permuted array are the permuted ranks: rank once, permute the ranks.
    rs, rd = rankdata(score), rankdata(damage)
    rs, rd = rs - rs.mean(), rd - rd.mean()
    denom = np.sqrt((rs @ rs) * (rd @ rd))
    if denom == 0.0:
        return np.full(n_permutations, np.nan)
    return np.array([gen.permutation(rs) @ rd for _ in range(n_permutations)]) / denom
