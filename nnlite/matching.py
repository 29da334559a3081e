"""Weight-space symmetry and matching units of two networks (lesson 10).

Two MLPs trained from different seeds compute nearly the same function with very different
weights. Part of the difference is a relabelling: permuting the hidden units of a layer (rows of
its weight and bias, columns of the next layer's weight) changes the parameters but not the
function. This module undoes such relabellings and compares networks without them:

* :func:`permute_hidden` applies a permutation to one hidden layer; :func:`num_equivalent_points`
  counts the discrete relabellings (∏ H_l!, times ∏ 2^H_l sign flips for tanh and sigmoid);
* :func:`linear_sum_assignment` solves the assignment problem exactly (shortest augmenting paths,
  O(n³)), with scipy's semantics: rectangular matrices, ``row_ind`` sorted, scipy's errors;
* :func:`match_units` pairs the hidden units of two networks by weight cosine, by the weight
  matching objective of Ainsworth et al. (2023) or by activation correlation (Li et al. 2016);
* :func:`linear_cka` compares two representations without pairing units (Kornblith et al. 2019);
* :func:`prediction_agreement` and :func:`chance_agreement` compare two classifiers' answers.

Parameters are handled as a list of numpy arrays in ``model.parameters()`` order
(``[W1, b1, W2, b2, ...]``, PyTorch's ``(out, in)`` layout): :func:`params_of` reads them from
an nnlite MLP and :func:`with_params` builds a copy of the model that holds given ones.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

__all__ = [
    "params_of",
    "with_params",
    "hidden_activations",
    "permute_hidden",
    "num_equivalent_points",
    "linear_sum_assignment",
    "match_units",
    "unit_similarity",
    "linear_cka",
    "prediction_agreement",
    "chance_agreement",
]

# Activations whose units can also be flipped in sign: tanh(-z) = -tanh(z), and
# sigmoid(-z) = 1 - sigmoid(z) (the next layer's bias absorbs the 1).
_SIGN_FLIP = {"tanh": True, "sigmoid": True, "relu": False}
_METHODS = ("weight_cos", "weight_matching", "activation_corr")


# ------------------------------------------------------------------------------- parameters


def _array(x: Any) -> np.ndarray:
    """numpy data of a Tensor or array-like (no copy when it is already an array)."""
    return np.asarray(getattr(x, "data", x))


def params_of(model: Any) -> list[np.ndarray]:
    """Copies of ``model.parameters()`` as float64 arrays; a list of arrays is copied as is."""
    items = model.parameters() if hasattr(model, "parameters") else model
    return [np.array(_array(p), dtype=np.float64) for p in items]


def with_params(model: Any, params: list[Any]) -> Any:
    """A deep copy of ``model`` whose parameters are ``params`` (in ``parameters()`` order)."""
    new = copy.deepcopy(model)
    own = list(new.parameters())
    if len(own) != len(params):
        raise ValueError(f"with_params: the model has {len(own)} parameters, got {len(params)}")
    for p, v in zip(own, params, strict=True):
        v = _array(v)
        if v.shape != p.data.shape:
            raise ValueError(f"with_params: shapes {p.data.shape} and {v.shape} differ")
        p.data = np.array(v, dtype=p.data.dtype)
    return new


def _layers(params: list[Any], who: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(W, b), ...] of an MLP's parameter list, checked for consistent shapes."""
    params = [_array(p) for p in params]
    if len(params) < 2 or len(params) % 2:
        raise ValueError(f"{who}: expected [W1, b1, W2, b2, ...], got {len(params)} arrays")
    layers = list(zip(params[0::2], params[1::2], strict=True))
    for k, (W, b) in enumerate(layers):
        if W.ndim != 2 or b.shape != (W.shape[0],):
            raise ValueError(f"{who}: layer {k} has weight {W.shape} and bias {b.shape}")
        if k and W.shape[1] != layers[k - 1][0].shape[0]:
            raise ValueError(
                f"{who}: layer {k} has weight {W.shape}, layer {k - 1} has {layers[k - 1][0].shape}"
            )
    return layers


def _hidden_index(layer: Any, n_hidden: int, who: str) -> int:
    if isinstance(layer, bool) or not isinstance(layer, int | np.integer):
        raise TypeError(f"{who}: layer must be an int, got {type(layer).__name__}")
    if not 0 <= layer < n_hidden:
        raise ValueError(f"{who}: layer {layer} is not a hidden layer (0 .. {n_hidden - 1})")
    return int(layer)


def _act(z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return np.maximum(z, 0.0)
    if activation == "tanh":
        return np.tanh(z)
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # sigmoid, without overflow


def hidden_activations(
    params: list[Any], X: Any, layer: int = 0, activation: str = "relu"
) -> np.ndarray:
    """The activations (N, H_layer) of hidden layer ``layer`` of an MLP with ``params`` on X."""
    layers = _layers(params, "hidden_activations")
    layer = _hidden_index(layer, len(layers) - 1, "hidden_activations")
    h = np.asarray(X, dtype=np.float64)
    for W, b in layers[: layer + 1]:
        h = _act(h @ W.T + b, activation)
    return h


def permute_hidden(params: list[Any], perm: Any, layer: int = 0) -> list[np.ndarray]:
    """Relabel the units of hidden layer ``layer``: unit i of the result is unit ``perm[i]``.

    Args:
        params: ``[W1, b1, W2, b2, ...]`` (arrays or Tensors, PyTorch's ``(out, in)`` layout).
        perm: a permutation of ``0 .. H-1``, H the width of that layer.
        layer: which hidden layer (0 is the first), ``0 <= layer < number of layers - 1``.

    Returns:
        A new list of float64 arrays (the input is not modified) where the layer's weight rows
        and bias entries and the next layer's weight columns are taken in the order ``perm``:
        the network computes exactly the same function.
    """
    layers = _layers(params, "permute_hidden")
    layer = _hidden_index(layer, len(layers) - 1, "permute_hidden")
    H = layers[layer][0].shape[0]
    perm = np.asarray(perm)
    if perm.shape != (H,) or not np.issubdtype(perm.dtype, np.integer) and perm.size:
        raise ValueError(f"permute_hidden: perm has shape {perm.shape}, expected ({H},) ints")
    if not np.array_equal(np.sort(perm), np.arange(H)):
        raise ValueError(f"permute_hidden: perm is not a permutation of 0..{H - 1}")
    out = [np.array(p, dtype=np.float64) for p in (a for wb in layers for a in wb)]
    out[2 * layer] = out[2 * layer][perm]
    out[2 * layer + 1] = out[2 * layer + 1][perm]
    out[2 * layer + 2] = out[2 * layer + 2][:, perm]
    return out


def num_equivalent_points(hidden_sizes: Any, activation: str = "relu") -> int:
    """How many relabellings map an MLP to itself: ∏ H_l! (× ∏ 2^H_l for tanh and sigmoid).

    Permuting the H_l units of each hidden layer gives ∏ H_l! parameter vectors with the same
    function. For tanh (odd) and sigmoid (odd up to a constant the next bias absorbs), flipping
    the sign of a unit's incoming weights and bias and of its outgoing weights is a symmetry too,
    2^H_l more per layer (Bishop 2006, §5.1.1). ReLU has no sign flip; its rescaling symmetry
    (α > 0 in, 1/α out) is a continuum and is not counted here. The count is exact for networks
    whose units are all distinct and non-zero; returns a Python int.
    """
    if activation not in _SIGN_FLIP:
        raise ValueError(
            f"num_equivalent_points: activation must be one of {sorted(_SIGN_FLIP)}, "
            f"got {activation!r}"
        )
    sizes = list(hidden_sizes)
    count = 1
    for h in sizes:
        if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 0:
            raise ValueError(f"num_equivalent_points: hidden sizes must be ints >= 0, got {h!r}")
        count *= math.factorial(int(h)) * (2 ** int(h) if _SIGN_FLIP[activation] else 1)
    return count


# ---------------------------------------------------------------------- linear sum assignment


def linear_sum_assignment(cost: Any, maximize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Solve the linear assignment problem exactly, with scipy.optimize's semantics.

    Pairs each row with a distinct column (min(n, m) pairs for an (n, m) matrix) so that the
    total ``cost[row_ind, col_ind].sum()`` is smallest (largest with ``maximize=True``).

    Returns ``(row_ind, col_ind)``, int arrays of length min(n, m), ``row_ind`` sorted
    ascending (``arange(n)`` when n <= m). Entries may be +inf when minimising (-inf when
    maximising): that pair is forbidden. Raises ValueError for a matrix that is not 2-D, for
    NaN or an infinity of the wrong sign ("matrix contains invalid numeric entries"), and when
    no assignment has a finite total ("cost matrix is infeasible"). With ties, any optimal
    assignment may be returned.

    The algorithm is the shortest augmenting path method (Jonker & Volgenant 1987; Crouse 2016,
    the one behind scipy): each row is added by a Dijkstra search over reduced costs, keeping
    dual potentials u, v with cost[i, j] - u[i] - v[j] >= 0; O(n² m) overall.
    """
    C = np.asarray(cost)
    if C.ndim != 2:
        raise ValueError(
            f"linear_sum_assignment: expected a matrix (2-D array), got shape {C.shape}"
        )
    if C.dtype == object or not (np.issubdtype(C.dtype, np.number) or C.dtype == bool):
        raise ValueError(f"linear_sum_assignment: cost must be numeric, got dtype {C.dtype}")
    if np.iscomplexobj(C):
        raise ValueError("linear_sum_assignment: cost must be real, got a complex matrix")
    C = np.array(C, dtype=np.float64)
    if maximize:
        C = -C
    if np.isnan(C).any() or np.isneginf(C).any():
        raise ValueError("linear_sum_assignment: matrix contains invalid numeric entries")
    transposed = C.shape[0] > C.shape[1]
    if transposed:
        C = C.T
    if C.shape[0] == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty.copy()
    # Scale so that the largest finite |entry| is 1: sums of entries near 1e308 cannot overflow,
    # and the optimal assignment does not change under a positive scale.
    finite = np.isfinite(C)
    top = np.abs(C[finite]).max() if finite.any() else 0.0
    if top > 0:
        C = C / top
    col4row = _augment(C)
    rows = np.arange(C.shape[0], dtype=np.intp)
    if not transposed:
        return rows, col4row
    order = np.argsort(col4row, kind="stable")
    return col4row[order], rows[order]


def _augment(C: np.ndarray) -> np.ndarray:
    """col4row of a minimum-cost assignment of every row of C (n <= m, no NaN or -inf)."""
    n, m = C.shape
    u = np.zeros(n)
    v = np.zeros(m)
    col4row = np.full(n, -1, dtype=np.intp)
    row4col = np.full(m, -1, dtype=np.intp)
    for start in range(n):
        shortest = np.full(m, np.inf)  # shortest path length to each column so far
        path = np.full(m, -1, dtype=np.intp)  # the row a column is reached from
        scanned = np.zeros(m, dtype=bool)
        rows_seen = []
        i, reach, sink = start, 0.0, -1
        while sink < 0:
            rows_seen.append(i)
            reduced = reach + C[i] - u[i] - v
            better = ~scanned & (reduced < shortest)
            shortest[better] = reduced[better]
            path[better] = i
            candidates = np.where(scanned, np.inf, shortest)
            reach = candidates.min()
            if not np.isfinite(reach):
                raise ValueError("linear_sum_assignment: cost matrix is infeasible")
            # Among the nearest columns prefer a free one: the path ends there (fewer steps).
            nearest = np.flatnonzero(candidates == reach)
            free = nearest[row4col[nearest] < 0]
            j = int(free[0] if free.size else nearest[0])
            scanned[j] = True
            if row4col[j] < 0:
                sink = j
            else:
                i = int(row4col[j])
        # Update the potentials so that every reduced cost stays >= 0 and the path is tight.
        u[start] += reach
        for r in rows_seen[1:]:
            u[r] += reach - shortest[col4row[r]]
        v[scanned] -= reach - shortest[scanned]
        # Flip the augmenting path: every column on it takes the row it was reached from.
        j = sink
        while True:
            i = int(path[j])
            row4col[j] = i
            col4row[i], j = j, col4row[i]
            if i == start:
                break
    return col4row


# ------------------------------------------------------------------------------ matching units


def _rows_cosine(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """cos(A[i], B[j]) for every pair of rows; a zero row has cosine 0 with everything."""
    A = A / np.maximum(np.abs(A).max(axis=1, keepdims=True), np.finfo(float).tiny)
    B = B / np.maximum(np.abs(B).max(axis=1, keepdims=True), np.finfo(float).tiny)
    na, nb = np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1)
    na[na == 0], nb[nb == 0] = np.inf, np.inf
    return (A @ B.T) / na[:, None] / nb[None, :]


def _columns_correlation(Ha: np.ndarray, Hb: np.ndarray) -> np.ndarray:
    """Pearson correlation of every column of Ha with every column of Hb; constant columns 0."""
    Ha = Ha - Ha.mean(axis=0)
    Hb = Hb - Hb.mean(axis=0)
    return _rows_cosine(Ha.T, Hb.T)


def unit_similarity(
    model_a: Any,
    model_b: Any,
    layer: int = 0,
    method: str = "weight_cos",
    X: Any = None,
    activation: str | None = None,
) -> np.ndarray:
    """The (H, H) matrix S[i, j]: how alike unit i of ``model_a`` and unit j of ``model_b`` are.

    ``weight_cos``: cosine of the units' incoming weights with the bias appended,
    ``[W[i] | b[i]]``. ``weight_matching``: ⟨W_a[i], W_b[j]⟩ + b_a[i] b_b[j] +
    ⟨V_a[:, i], V_b[:, j]⟩ with V the next layer's weight (Ainsworth et al. 2023; its sum over
    a pairing is ⟨θ_a, π θ_b⟩ up to terms the pairing does not change). ``activation_corr``:
    Pearson correlation of the units' activations on the inputs ``X`` (Li et al. 2016).
    Models are nnlite MLPs or parameter lists; ``activation`` defaults to the model's.
    """
    if method not in _METHODS:
        raise ValueError(f"unit_similarity: method must be one of {_METHODS}, got {method!r}")
    pa, pb = params_of(model_a), params_of(model_b)
    la, lb = _layers(pa, "match_units"), _layers(pb, "match_units")
    if [W.shape for W, _ in la] != [W.shape for W, _ in lb]:
        raise ValueError(
            f"match_units: the models differ in shape: {[W.shape for W, _ in la]} and "
            f"{[W.shape for W, _ in lb]}"
        )
    layer = _hidden_index(layer, len(la) - 1, "match_units")
    (Wa, ba), (Va, _) = la[layer], la[layer + 1]
    (Wb, bb), (Vb, _) = lb[layer], lb[layer + 1]
    if method == "weight_cos":
        return _rows_cosine(np.column_stack([Wa, ba]), np.column_stack([Wb, bb]))
    if method == "weight_matching":
        return Wa @ Wb.T + np.outer(ba, bb) + Va.T @ Vb
    if X is None:
        raise ValueError("match_units: method 'activation_corr' needs the inputs X")
    act = activation or getattr(model_a, "activation", "relu")
    Ha = hidden_activations(pa, X, layer, act)
    Hb = hidden_activations(pb, X, layer, act)
    return _columns_correlation(Ha, Hb)


def match_units(
    model_a: Any,
    model_b: Any,
    layer: int = 0,
    method: str = "weight_cos",
    X: Any = None,
) -> np.ndarray:
    """The permutation ``perm`` that pairs unit i of ``model_a`` with unit ``perm[i]`` of ``b``.

    Maximises the summed :func:`unit_similarity` over all pairings with
    :func:`linear_sum_assignment`, so ``permute_hidden(params_of(model_b), perm, layer)`` is
    model b with its units in model a's order (same function as b). For a deeper network,
    match the hidden layers in order, permuting b after each: for ``weight_matching`` that is
    one sweep of Ainsworth et al.'s coordinate descent (their Algorithm 1 repeats sweeps).
    """
    S = unit_similarity(model_a, model_b, layer, method, X)
    _, perm = linear_sum_assignment(S, maximize=True)
    return perm


# ------------------------------------------------------------------ comparing without pairing


def linear_cka(X: Any, Y: Any) -> float:
    """Linear centred kernel alignment of two representations of the same n examples.

    CKA = ‖Ycᵀ Xc‖²_F / (‖Xcᵀ Xc‖_F ‖Ycᵀ Yc‖_F), with Xc, Yc the column-centred X (n, p) and
    Y (n, q) (Kornblith et al. 2019). Between 0 and 1; 1 when Y is an orthogonal transform of
    X times a scale. Invariant to permuting columns, orthogonal transforms and isotropic
    scaling; not to anisotropic scaling. NaN when a centred matrix is all zero (no variance)
    or an input contains NaN.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise ValueError(
            f"linear_cka: expected X (n, p) and Y (n, q) with the same n, got shapes {X.shape} "
            f"and {Y.shape}"
        )
    Xc = X - X.mean(axis=0)
    Yc = Y - Y.mean(axis=0)
    # Scale each to largest |entry| 1 (CKA does not change) so that 1e±200 neither overflows
    # nor underflows in the squares.
    for M in (Xc, Yc):
        top = np.abs(M).max() if M.size else 0.0
        if np.isfinite(top) and top > 0:
            M /= top
    if X.shape[0] < max(X.shape[1], Y.shape[1]):  # the n × n Gram form is the cheaper one
        K, L = Xc @ Xc.T, Yc @ Yc.T
        cross = float(np.sum(K * L))
        norms = float(np.linalg.norm(K) * np.linalg.norm(L))
    else:
        cross = float(np.linalg.norm(Yc.T @ Xc) ** 2)
        norms = float(np.linalg.norm(Xc.T @ Xc) * np.linalg.norm(Yc.T @ Yc))
    if norms == 0 or not np.isfinite(cross):
        return float("nan")
    return cross / norms


def _logits(model: Any, X: Any) -> np.ndarray:
    from nnlite.tensor import Tensor, no_grad

    with no_grad():
        return np.asarray(_array(model(Tensor(np.asarray(X, dtype=np.float64)))))


def prediction_agreement(model_a: Any, model_b: Any, X: Any) -> float:
    """Fraction of the inputs X on which two classifiers predict the same class (argmax)."""
    za, zb = _logits(model_a, X), _logits(model_b, X)
    if za.shape != zb.shape or za.ndim != 2:
        raise ValueError(f"prediction_agreement: logits of shapes {za.shape} and {zb.shape}")
    if len(za) == 0:
        return float("nan")
    return float(np.mean(za.argmax(axis=1) == zb.argmax(axis=1)))


def chance_agreement(pred_a: Any, pred_b: Any, y: Any, n_classes: int | None = None) -> float:
    """Agreement two classifiers would reach if their answers were independent given the label.

    With p_a(k | c) the fraction of class-c examples classifier a calls k (its confusion
    matrix, rows normalised), and P(c) the class frequencies:

        E = Σ_c P(c) Σ_k p_a(k | c) p_b(k | c).

    The k = c terms are the chance that both are right (≈ acc_a · acc_b); the others the chance
    that both err *the same way*, given how each of them errs on that class.
    """
    pred_a, pred_b, y = (np.asarray(v).astype(np.intp) for v in (pred_a, pred_b, y))
    if not pred_a.shape == pred_b.shape == y.shape or y.ndim != 1:
        raise ValueError(
            f"chance_agreement: shapes {pred_a.shape}, {pred_b.shape} and {y.shape} differ"
        )
    K = n_classes or int(max(pred_a.max(), pred_b.max(), y.max())) + 1
    total = 0.0
    for c in np.unique(y):
        sel = y == c
        pa = np.bincount(pred_a[sel], minlength=K) / sel.sum()
        pb = np.bincount(pred_b[sel], minlength=K) / sel.sum()
        total += sel.mean() * float(pa @ pb)
    return total
