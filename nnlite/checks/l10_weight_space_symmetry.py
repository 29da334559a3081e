"""Visible checks of lesson 10, "Weight space II: retraining, permutation symmetry and matching".

In the lesson::

    from nnlite.checks import lesson
    check = lesson("10_weight_space_symmetry")
    ...
    check("linear_sum_assignment", linear_sum_assignment)
    linear_sum_assignment = check.use("linear_sum_assignment", linear_sum_assignment,
                                      fallback=matching.linear_sum_assignment)

The checks are smoke tests of each exercise's contract on tiny inputs (shapes, an easy value, one
edge case), compared with :mod:`nnlite.matching`, the fallbacks of every exercise; they never show
the answer. The hidden graders in ``tests/graders/test_10_weight_space_symmetry.py`` do the real
testing.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from nnlite import matching, nn
from nnlite.checks import visible
from nnlite.tensor import Tensor

LESSON = "10_weight_space_symmetry"


def _net(sizes: list[int], seed: int) -> nn.MLP:
    return nn.MLP(sizes, rng=seed)


def _logits(params: list[Any], sizes: list[int], X: np.ndarray) -> np.ndarray:
    return matching.with_params(_net(sizes, 0), params)(Tensor(X)).data


def _raises(func: Any, *args: Any, **kwargs: Any) -> str | None:
    """The message of the ValueError ``func`` raises, or None when it returns."""
    try:
        func(*args, **kwargs)
    except NotImplementedError:
        raise
    except ValueError as exc:
        return str(exc)
    return None


# ------------------------------------------------------------------------ prediction_agreement


@visible("prediction_agreement", hint="Compare the argmax of each row of the two logit arrays.")
def agreement_value(prediction_agreement):
    """prediction_agreement is a float in [0, 1]: 1 for a net with itself, the fraction otherwise"""
    a, b = _net([5, 6, 4], 0), _net([5, 6, 4], 1)
    X = np.random.default_rng(0).normal(size=(40, 5))
    same = prediction_agreement(a, a, X)
    assert isinstance(same, float), f"returned a {type(same).__name__}, not a Python float"
    assert same == 1.0, f"a network with itself gave {same}, expected 1.0"
    got, want = prediction_agreement(a, b, X), matching.prediction_agreement(a, b, X)
    assert abs(got - want) < 1e-12, f"two different networks: got {got}, expected {want}"


@visible("prediction_agreement", hint="Return the mean (a fraction), not the count.")
def agreement_fraction(prediction_agreement):
    """the result is a fraction between 0 and 1, not a count"""
    a, b = _net([3, 4, 2], 2), _net([3, 4, 2], 3)
    X = np.random.default_rng(1).normal(size=(25, 3))
    got = prediction_agreement(a, b, X)
    assert 0.0 <= got <= 1.0, f"got {got}: a fraction lies between 0 and 1"


# ------------------------------------------------------------------------------ permute_hidden


@visible(
    "permute_hidden",
    hint="Permute the rows of this layer's weight, its bias, and the COLUMNS of the next weight.",
)
def permute_same_function(permute_hidden):
    """the permuted network computes the same logits, with permuted weights"""
    sizes = [6, 5, 3]
    params = matching.params_of(_net(sizes, 0))
    perm = [3, 0, 4, 1, 2]
    out = permute_hidden(params, perm, 0)
    assert len(out) == 4, f"returned {len(out)} arrays, expected 4"
    X = np.random.default_rng(0).normal(size=(7, 6))
    diff = np.abs(_logits(out, sizes, X) - _logits(params, sizes, X)).max()
    assert diff < 1e-12, f"the logits changed by up to {diff:.3g}"
    want = matching.permute_hidden(params, perm, 0)
    for name, g, w in zip(["W1", "b1", "W2", "b2"], out, want, strict=True):
        assert np.array_equal(np.asarray(g), w), f"{name} differs from the expected relabelling"


@visible("permute_hidden", hint="Work on copies: np.array(p) copies, np.asarray does not.")
def permute_leaves_input(permute_hidden):
    """the input arrays are not modified"""
    params = matching.params_of(_net([4, 3, 2], 1))
    before = [p.copy() for p in params]
    permute_hidden(params, [2, 0, 1], 0)
    for p, b in zip(params, before, strict=True):
        assert np.array_equal(p, b), "permute_hidden modified its input"


@visible("permute_hidden", hint="Check that sorted(perm) is 0..H-1 and raise ValueError if not.")
def permute_rejects(permute_hidden):
    """a perm that is not a permutation raises ValueError"""
    params = matching.params_of(_net([4, 3, 2], 1))
    assert _raises(permute_hidden, params, [0, 0, 1], 0) is not None, "[0, 0, 1] did not raise"


# ----------------------------------------------------------------------- num_equivalent_points


@visible("num_equivalent_points", hint="Multiply H! over the layers (math.factorial is exact).")
def count_relu(num_equivalent_points):
    """ReLU: the product of H! over the hidden layers, as an exact int"""
    got = num_equivalent_points([3, 4])
    assert isinstance(got, int), f"returned a {type(got).__name__}, not an int"
    assert got == 6 * 24, f"[3, 4] with ReLU: got {got}"
    assert num_equivalent_points([]) == 1, "no hidden layer: one point"


@visible("num_equivalent_points", hint="tanh and sigmoid add 2**H sign flips per layer.")
def count_tanh(num_equivalent_points):
    """tanh: sign flips multiply by 2**H per layer"""
    got = num_equivalent_points([3], "tanh")
    assert got == 6 * 8, f"[3] with tanh: got {got}"
    assert num_equivalent_points([128]) == math.factorial(128), "[128]: not exactly 128!"


# ----------------------------------------------------------------------- linear_sum_assignment


def _best(C: np.ndarray, maximize: bool) -> float:
    n, m = C.shape
    if n > m:
        return _best(C.T, maximize)
    totals = [C[np.arange(n), list(p)].sum() for p in itertools.permutations(range(m), n)]
    return max(totals) if maximize else min(totals)


@visible(
    "linear_sum_assignment",
    hint="Greedy pairing is not optimal: see the 3 × 3 example in the text.",
)
def lsa_optimal(linear_sum_assignment):
    """finds an optimal assignment (small matrices, both directions, a greedy trap)"""
    rng = np.random.default_rng(0)
    cases = [np.array([[9.0, 8.0, 0.0], [8.0, 0.0, 0.0], [0.0, 0.0, 1.0]])]
    cases += [rng.integers(-5, 6, size=(4, 4)).astype(float), rng.normal(size=(5, 5))]
    for C in cases:
        for maximize in (False, True):
            r, c = linear_sum_assignment(C, maximize=maximize)
            r, c = np.asarray(r), np.asarray(c)
            assert r.shape == c.shape == (len(C),), f"returned {r.shape} and {c.shape} indices"
            assert len(set(c.tolist())) == len(c), "a column is used twice"
            total, best = C[r, c].sum(), _best(C, maximize)
            word = "largest" if maximize else "smallest"
            assert abs(total - best) < 1e-9, f"total {total:g}, but the {word} is {best:g}"


@visible(
    "linear_sum_assignment",
    hint="n > m: solve the transpose, then swap the two index arrays and sort them by row.",
)
def lsa_rectangular(linear_sum_assignment):
    """rectangular matrices give min(n, m) pairs with sorted rows"""
    C = np.random.default_rng(1).normal(size=(3, 5))
    for M in (C, C.T):
        r, c = (np.asarray(v) for v in linear_sum_assignment(M))
        assert r.shape == (3,), f"shape {M.shape}: {r.shape[0]} pairs, expected 3"
        assert np.all(np.diff(r) > 0), f"shape {M.shape}: row_ind is not sorted"
        assert abs(M[r, c].sum() - _best(M, False)) < 1e-9, f"shape {M.shape}: not optimal"


@visible("linear_sum_assignment", hint="See the Raises section of the docstring.")
def lsa_errors(linear_sum_assignment):
    """NaN and an infeasible matrix raise ValueError"""
    msg = _raises(linear_sum_assignment, np.array([[np.nan, 1.0], [1.0, 2.0]]))
    assert msg is not None and "invalid numeric entries" in msg, "NaN: no matching ValueError"
    inf = np.inf
    msg = _raises(linear_sum_assignment, np.array([[1, inf, inf], [2, inf, inf], [3, 4, 5.0]]))
    assert msg is not None and "infeasible" in msg, "an infeasible matrix: no matching ValueError"


# ---------------------------------------------------------------------------------- match_units


@visible(
    "match_units",
    hint="perm[i] is the unit of model_b paired with unit i of model_a; maximise the similarity.",
)
def match_recovers_permutation(match_units):
    """each method recovers a known relabelling of the same network"""
    sizes = [8, 6, 3]
    a = _net(sizes, 0)
    perm = np.array([4, 2, 0, 5, 1, 3])
    params_b = matching.permute_hidden(matching.params_of(a), np.argsort(perm), 0)
    b = matching.with_params(a, params_b)
    X = np.random.default_rng(0).normal(size=(30, 8))
    for method in ("weight_cos", "weight_matching", "activation_corr"):
        got = np.asarray(match_units(a, b, 0, method, X=X))
        assert got.shape == (6,), f"{method}: returned shape {got.shape}, expected (6,)"
        assert np.array_equal(got, perm), f"{method}: did not recover the relabelling"


@visible("match_units", hint="Compare with nnlite's unit_similarity definitions in the docstring.")
def match_like_reference(match_units):
    """on two independent networks each method gives the optimal pairing"""
    sizes = [8, 6, 3]
    a, b = _net(sizes, 1), _net(sizes, 2)
    X = np.random.default_rng(1).normal(size=(30, 8))
    for method in ("weight_cos", "weight_matching", "activation_corr"):
        got = np.asarray(match_units(a, b, 0, method, X=X))
        want = matching.match_units(a, b, 0, method, X=X)
        assert np.array_equal(got, want), f"{method}: not the optimal pairing"


# ----------------------------------------------------------------------------------- linear_cka


@visible("linear_cka", hint="Centre each column (subtract the mean over the rows) first.")
def cka_values(linear_cka):
    """CKA(X, X) = 1 and two unrelated representations match nnlite's value"""
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(30, 4)) + 3.0, rng.normal(size=(30, 6)) - 1.0
    got = linear_cka(X, X)
    assert isinstance(got, float), f"returned a {type(got).__name__}, not a Python float"
    assert abs(got - 1) < 1e-12, f"CKA(X, X) = {got}"
    got, want = linear_cka(X, Y), matching.linear_cka(X, Y)
    assert abs(got - want) < 1e-9, f"CKA of two random matrices: got {got:.6f}"


@visible("linear_cka", hint="Square the numerator's Frobenius norm; not the denominators'.")
def cka_invariance(linear_cka):
    """CKA is 1 for a rotated and scaled copy, below 1 for a stretched one"""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 5))
    Q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    got = linear_cka(X, 3.0 * X @ Q)
    assert abs(got - 1) < 1e-9, f"CKA(X, 3 X Q) = {got}, expected 1"
    got = linear_cka(X, X * np.array([1, 1, 1, 1, 10.0]))
    want = matching.linear_cka(X, X * np.array([1, 1, 1, 1, 10.0]))
    assert abs(got - want) < 1e-9, f"one column stretched 10×: got {got:.6f}"
