"""Similarity of vectors: cosine similarity, normalisation, angle, pairwise cosines, top-k.

Lesson 04 ("Dot product, angle, cosine similarity") has students write these; the lesson falls
back to this module while an exercise is missing or fails its check. Every function works on
numpy arrays (anything ``np.asarray`` accepts), broadcasts where it takes two operands, and
follows the course conventions:

* float32 in, float32 out; float64 in (or mixed float32/float64) gives float64; integer or
  boolean input is computed and returned in float64. Complex input raises ``TypeError``.
* A shape error names the function and both shapes. Inputs are never modified.
* NaN in a vector gives NaN for that vector's results (``top_k`` refuses NaN scores instead).

:func:`cosine_similarity` and :func:`normalize` have PyTorch's semantics
(``torch.nn.functional.cosine_similarity`` and ``torch.nn.functional.normalize``: each norm is
clamped by ``eps`` on its own), but they are computed on vectors scaled by their largest
absolute entry first, so they stay right where PyTorch's overflow or underflow: for
``[1e200, 2e200]`` and ``[3e200, 1e200]`` PyTorch 2.13 returns a cosine of 0.0 (the true value is
0.7071) and normalises ``[1e200, 2e200]`` to zeros. The cosine is also clipped to [-1, 1], which
PyTorch does not do (it returns 1.0000004 for some float32 vectors with themselves).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "cosine_similarity",
    "normalize",
    "angle",
    "cosine_distance",
    "pairwise_cosine",
    "top_k",
]


def _float(x: Any, who: str) -> np.ndarray:
    """``x`` as a float array: float32/float64 kept, integers and bools as float64."""
    arr = np.asarray(x)
    if arr.dtype.kind == "c":
        raise TypeError(f"{who}: complex input is not supported (dtype {arr.dtype})")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{who}: expected numbers, got an array of dtype {arr.dtype}")
    if arr.dtype.kind != "f":
        return arr.astype(np.float64)
    if arr.dtype.itemsize < 4:  # float16: compute in float32
        return arr.astype(np.float32)
    return arr


def _out_dtype(*arrays: np.ndarray) -> np.dtype:
    return np.result_type(*arrays)


def _broadcast(a: np.ndarray, b: np.ndarray, who: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        return np.broadcast_arrays(a, b)
    except ValueError:
        raise ValueError(
            f"{who}: shapes {tuple(a.shape)} and {tuple(b.shape)} are not broadcastable"
        ) from None


def _axis(axis: int, ndim: int, who: str, shapes: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"{who}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{who}: axis {axis} is out of range for {shapes} ({ndim} dimensions)")
    return int(axis) % ndim


def _scaled(x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x / s, s, ||x / s||)`` with ``s = max|x|`` along ``axis`` (kept as size 1).

    Scaling first keeps the squares finite: ``||x|| = s * ||x / s||`` for any magnitude. A zero
    vector has ``s = 0``; it is divided by 1 instead, so ``x / s`` is zeros, not NaN.
    """
    s = np.max(np.abs(x), axis=axis, keepdims=True, initial=0.0)
    unit = x / np.where(s == 0, 1.0, s).astype(x.dtype)
    return unit, s, np.sqrt(np.sum(unit * unit, axis=axis, keepdims=True))


def _inverse_clamped_norm(s: np.ndarray, nhat: np.ndarray, eps: float) -> np.ndarray:
    """``s / max(||x||, eps)`` with ``||x|| = s * nhat``, without forming ``||x||`` when huge.

    Where ``||x|| >= eps`` this is ``1 / nhat``; below ``eps`` it is ``s / eps``. (``s * nhat``
    may overflow to inf, which still compares correctly with ``eps``.)
    """
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        big = ~(s * nhat < eps)  # NaN counts as big, so it propagates
        return np.where(big, 1.0 / np.where(big, nhat, 1.0), s / eps)


def cosine_similarity(a: Any, b: Any, axis: int = -1, eps: float = 1e-8) -> np.ndarray:
    """Cosine of the angle between the vectors of ``a`` and ``b`` along ``axis``.

    ``a . b / (max(||a||, eps) * max(||b||, eps))``, as ``torch.nn.functional.cosine_similarity``
    (each norm clamped by ``eps`` on its own, so a zero vector gives 0 and two parallel vectors
    of norm 1e-10 give 1e-20 / 1e-16 = 1e-4), computed on the broadcast shape of ``a`` and
    ``b``, with ``axis`` removed. Each vector is divided by its largest absolute entry first,
    so the result is right for magnitudes from 1e-300 to 1e300 (where the plain formula
    overflows or underflows), and it is clipped to [-1, 1].

    Args:
        a, b: array-likes whose shapes broadcast; the vectors lie along ``axis``.
        axis: the axis of the broadcast shape that holds the vectors (negative counts from the
            end).
        eps: the smallest norm divided by, as in PyTorch.

    Returns:
        An array of the broadcast shape without ``axis`` (0-d for two vectors), float32 for
        float32 inputs, else float64. A vector with NaN gives NaN. A size-0 ``axis`` gives 0.

    Raises:
        ValueError: shapes that do not broadcast (the message names both), an axis out of
            range, or 0-d inputs.
    """
    who = "cosine_similarity"
    a, b = _float(a, who), _float(b, who)
    dtype = _out_dtype(a, b)
    shapes = f"shapes {tuple(a.shape)} and {tuple(b.shape)}"
    a, b = _broadcast(a, b, who)
    if a.ndim == 0:
        raise ValueError(f"{who}: needs vectors, got 0-d inputs ({shapes})")
    ax = _axis(axis, a.ndim, who, shapes)
    a, b = a.astype(np.float64), b.astype(np.float64)  # float32 too: one rounding, at the end
    ua, sa, na = _scaled(a, ax)
    ub, sb, nb = _scaled(b, ax)
    dot = np.sum(ua * ub, axis=ax, keepdims=True)
    # One product of the two factors first, so that swapping a and b gives the same bits.
    cos = dot * (_inverse_clamped_norm(sa, na, eps) * _inverse_clamped_norm(sb, nb, eps))
    cos = np.clip(np.squeeze(cos, axis=ax), -1.0, 1.0)
    return np.asarray(cos, dtype=dtype)


def normalize(x: Any, axis: int = -1, eps: float = 1e-12) -> np.ndarray:
    """``x / max(||x||, eps)`` along ``axis``, as ``torch.nn.functional.normalize`` (p = 2).

    Vectors of norm at least ``eps`` become unit vectors; smaller ones are divided by ``eps``
    (a zero vector stays zero). Computed on ``x`` scaled by its largest absolute entry, so it is
    right for magnitudes from 1e-300 to 1e300 (PyTorch returns zeros for ``[1e200, 2e200]``).

    Returns an array of ``x``'s shape: float32 for float32 input, else float64. NaN in a vector
    gives NaN for the whole vector. Raises ValueError for 0-d input or an axis out of range.
    """
    who = "normalize"
    x = _float(x, who)
    dtype = x.dtype
    if x.ndim == 0:
        raise ValueError(f"{who}: needs vectors, got a 0-d input")
    ax = _axis(axis, x.ndim, who, f"shape {tuple(x.shape)}")
    x = x.astype(np.float64)
    unit, s, nhat = _scaled(x, ax)
    with np.errstate(over="ignore", invalid="ignore"):
        big = ~(s * nhat < eps)  # NaN counts as big, so the whole vector becomes NaN
        out = np.where(big, unit / np.where(big, nhat, 1.0), x / eps)
    return np.asarray(out, dtype=dtype)


def angle(a: Any, b: Any, axis: int = -1, degrees: bool = False, eps: float = 1e-8) -> np.ndarray:
    """The angle between the vectors of ``a`` and ``b``: ``arccos(cosine_similarity(a, b))``.

    In radians, in [0, pi] (or degrees, in [0, 180]). Same shapes, dtypes, broadcasting and
    errors as :func:`cosine_similarity`. Between nonzero vectors the angle is a metric on
    directions: it satisfies the triangle inequality, unlike :func:`cosine_distance`. A zero
    vector has cosine 0 with everything, so it sits at a right angle to every vector.
    """
    cos = cosine_similarity(a, b, axis=axis, eps=eps)
    out = np.arccos(cos)
    if degrees:
        out = np.degrees(out)
    return np.asarray(out, dtype=cos.dtype)


def cosine_distance(a: Any, b: Any, axis: int = -1, eps: float = 1e-8) -> np.ndarray:
    """``1 - cosine_similarity(a, b)``, in [0, 2].

    Widely used, but not a metric: it breaks the triangle inequality, e.g. for the unit
    vectors at 0, 45 and 90 degrees, d(0, 90) = 1 > d(0, 45) + d(45, 90) = 0.586.
    """
    cos = cosine_similarity(a, b, axis=axis, eps=eps)
    return np.asarray(1.0 - cos, dtype=cos.dtype)


def pairwise_cosine(A: Any, B: Any = None, eps: float = 1e-8) -> np.ndarray:
    """All cosines between the rows of ``A`` (n, d) and the rows of ``B`` (m, d): shape (n, m).

    Entry ``[i, j]`` equals ``cosine_similarity(A[i], B[j], eps=eps)`` (up to round-off): rows
    are normalised with the same eps clamp, then multiplied as one matrix product. ``B=None``
    compares ``A`` with itself. Raises ValueError unless both are 2-D with the same d (the
    message names both shapes).
    """
    who = "pairwise_cosine"
    A = _float(A, who)
    B = A if B is None else _float(B, who)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[1]:
        raise ValueError(
            f"{who}: expected (n, d) and (m, d) arrays, got shapes {tuple(A.shape)} and "
            f"{tuple(B.shape)}"
        )
    dtype = _out_dtype(A, B)
    An = normalize(A.astype(np.float64), axis=1, eps=eps)
    Bn = normalize(B.astype(np.float64), axis=1, eps=eps)
    return np.asarray(np.clip(An @ Bn.T, -1.0, 1.0), dtype=dtype)


def top_k(scores: Any, k: int, axis: int = 0) -> np.ndarray:
    """Indices of the ``k`` largest entries of ``scores`` along ``axis``, largest first.

    Ties go to the lower index (a stable order), so the result is deterministic; this is a
    stronger promise than ``torch.topk``, which leaves the order of ties unspecified.

    Args:
        scores: a numeric array with at least one dimension, without NaN.
        k: how many, 0 <= k <= scores.shape[axis].
        axis: the axis to rank along (negative counts from the end).

    Returns:
        An int64 array of ``scores``' shape with ``axis`` of length ``k``: for each position
        along the other axes, the indices along ``axis`` in descending order of score.

    Raises:
        ValueError: NaN scores, ``k`` out of range, 0-d ``scores`` or an axis out of range.
    """
    who = "top_k"
    x = np.asarray(scores)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{who}: expected real numbers, got an array of dtype {x.dtype}")
    if x.ndim == 0:
        raise ValueError(f"{who}: needs at least one axis, got a 0-d array")
    ax = _axis(axis, x.ndim, who, f"shape {tuple(x.shape)}")
    n = x.shape[ax]
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 <= k <= n:
        raise ValueError(f"{who}: k must be an int in 0..{n} for axis {axis} of shape {x.shape}")
    if x.dtype.kind == "f" and np.isnan(x).any():
        raise ValueError(f"{who}: scores contain NaN, which has no rank")
    # A stable ascending sort of the negated scores gives descending order, ties by index.
    # Integers are negated as ~x (= -x - 1 for signed ints, max - x for unsigned ones, `not`
    # for bools): the same order, without -x's overflow at the smallest int.
    key = -x if x.dtype.kind == "f" else ~x
    order = np.argsort(key, axis=ax, kind="stable")
    return np.take(order, np.arange(int(k)), axis=ax).astype(np.int64)
