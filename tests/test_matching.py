"""Tests of nnlite.matching: permutations, the assignment solver, unit matching, CKA, agreement."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from nnlite import nn
from nnlite.matching import (
    chance_agreement,
    hidden_activations,
    linear_cka,
    linear_sum_assignment,
    match_units,
    num_equivalent_points,
    params_of,
    permute_hidden,
    prediction_agreement,
    unit_similarity,
    with_params,
)
from nnlite.tensor import Tensor


def logits(params, X, activation="relu"):
    model = with_params(
        nn.MLP(
            [p.shape[1] for p in params[0::2]] + [len(params[-1])], activation=activation, rng=0
        ),
        params,
    )
    return model(Tensor(X)).data


def brute_force(C, maximize=False):
    """The optimal total of an assignment problem by trying every assignment."""
    C = np.asarray(C, dtype=float)
    if C.shape[0] > C.shape[1]:
        C = C.T
    n, m = C.shape
    totals = [C[np.arange(n), list(cols)].sum() for cols in itertools.permutations(range(m), n)]
    return max(totals) if maximize else min(totals)


# --------------------------------------------------------------------------- permute_hidden


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_permute_hidden_keeps_the_function(activation):
    rng = np.random.default_rng(0)
    model = nn.MLP([6, 5, 4, 3], activation=activation, rng=1)
    params = params_of(model)
    X = rng.normal(size=(7, 6))
    for layer in (0, 1):
        perm = rng.permutation(params[2 * layer].shape[0])
        new = permute_hidden(params, perm, layer)
        np.testing.assert_allclose(
            logits(new, X, activation), logits(params, X, activation), rtol=0, atol=1e-12
        )
        assert not np.array_equal(new[2 * layer], params[2 * layer])
        np.testing.assert_array_equal(new[2 * layer], params[2 * layer][perm])
        np.testing.assert_array_equal(new[2 * layer + 2], params[2 * layer + 2][:, perm])


def test_permute_hidden_leaves_its_input_and_accepts_tensors():
    model = nn.MLP([4, 3, 2], rng=0)
    before = params_of(model)
    out = permute_hidden(list(model.parameters()), [2, 0, 1])
    for p, b in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, b)
    np.testing.assert_array_equal(out[1], before[1][[2, 0, 1]])


@pytest.mark.parametrize(
    "perm,layer,match",
    [
        ([0, 0, 1], 0, "not a permutation"),
        ([0, 1], 0, "shape"),
        ([0, 1, 2], 1, "hidden layer"),
        ([0, 1, 2], -1, "hidden layer"),
    ],
)
def test_permute_hidden_rejects_bad_input(perm, layer, match):
    with pytest.raises(ValueError, match=match):
        permute_hidden(params_of(nn.MLP([4, 3, 2], rng=0)), perm, layer)


def test_permute_hidden_rejects_inconsistent_parameters():
    W1, b1, W2, b2 = params_of(nn.MLP([4, 3, 2], rng=0))
    with pytest.raises(ValueError, match=r"permute_hidden: layer 1 has weight \(2, 4\)"):
        permute_hidden([W1, b1, W2[:, :2].repeat(2, axis=1), b2], [0, 1, 2])


# ---------------------------------------------------------------------- num_equivalent_points


def test_num_equivalent_points():
    assert num_equivalent_points([128]) == math.factorial(128)
    assert num_equivalent_points([3, 2], "tanh") == 6 * 8 * 2 * 4
    assert num_equivalent_points([]) == 1
    assert num_equivalent_points([0]) == 1
    assert isinstance(num_equivalent_points([5]), int)
    with pytest.raises(ValueError, match="activation"):
        num_equivalent_points([3], "gelu")
    with pytest.raises(ValueError, match="ints >= 0"):
        num_equivalent_points([-1])


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_sign_flips_are_symmetries_of_tanh_and_sigmoid(activation):
    # Flip unit j: negate its incoming weights and bias and its outgoing weights; for sigmoid,
    # 1 - s(z) = s(-z), so the next bias gains the outgoing weights.
    rng = np.random.default_rng(3)
    W1, b1, W2, b2 = params_of(nn.MLP([5, 4, 3], activation=activation, rng=2))
    X = rng.normal(size=(6, 5))
    j = 1
    W1f, b1f, W2f, b2f = W1.copy(), b1.copy(), W2.copy(), b2.copy()
    W1f[j], b1f[j], W2f[:, j] = -W1[j], -b1[j], -W2[:, j]
    if activation == "sigmoid":
        b2f = b2 + W2[:, j]
    np.testing.assert_allclose(
        logits([W1f, b1f, W2f, b2f], X, activation),
        logits([W1, b1, W2, b2], X, activation),
        atol=1e-12,
    )


def test_relu_rescaling_is_a_continuum_the_count_leaves_out():
    W1, b1, W2, b2 = params_of(nn.MLP([5, 4, 3], rng=2))
    X = np.random.default_rng(0).normal(size=(6, 5))
    for alpha in (0.5, 2.0, 7.3):
        scaled = [W1 * alpha, b1 * alpha, W2 / alpha, b2]
        np.testing.assert_allclose(logits(scaled, X), logits([W1, b1, W2, b2], X), atol=1e-12)


# ---------------------------------------------------------------------- linear_sum_assignment


@pytest.mark.parametrize("maximize", [False, True])
def test_lsa_agrees_with_brute_force(maximize):
    rng = np.random.default_rng(0)
    for trial in range(150):
        n, m = rng.integers(1, 7, size=2)
        kind = trial % 3
        if kind == 0:
            C = rng.integers(-4, 5, size=(n, m))  # integers, negatives, many ties
        elif kind == 1:
            C = rng.normal(size=(n, m))
        else:
            C = np.round(rng.normal(size=(n, m)), 1) * 1e200
        r, c = linear_sum_assignment(C, maximize=maximize)
        assert len(r) == len(c) == min(n, m)
        assert np.all(np.diff(r) > 0) and len(set(c.tolist())) == len(c)
        want = brute_force(C, maximize)
        assert np.isclose(np.asarray(C, float)[r, c].sum(), want, rtol=1e-12, atol=1e-9)


def test_lsa_seven_by_seven_and_greedy_trap():
    C = np.array([[1, 2, 100], [2, 100, 100], [100, 3, 4]])  # greedy takes (0,0) first: 105
    r, c = linear_sum_assignment(C)
    assert C[r, c].sum() == 8 == brute_force(C)
    C7 = np.random.default_rng(1).random((7, 7))
    r, c = linear_sum_assignment(C7)
    assert np.isclose(C7[r, c].sum(), brute_force(C7))


def test_lsa_rectangular_scipy_layout():
    C = np.arange(40.0).reshape(5, 8) % 7
    r, c = linear_sum_assignment(C)
    np.testing.assert_array_equal(r, np.arange(5))
    r, c = linear_sum_assignment(C.T)
    assert len(r) == 5 and np.all(np.diff(r) > 0)
    assert np.isclose(C.T[r, c].sum(), brute_force(C))
    assert r.dtype == np.intp and c.dtype == np.intp


def test_lsa_empty_and_inputs():
    for shape in [(0, 0), (0, 3), (3, 0)]:
        r, c = linear_sum_assignment(np.zeros(shape))
        assert r.shape == c.shape == (0,)
    C = np.array([[3.0, 1.0], [1.0, 3.0]])
    keep = C.copy()
    assert linear_sum_assignment(C)[1].tolist() == [1, 0]
    np.testing.assert_array_equal(C, keep)
    assert linear_sum_assignment([[True, False], [False, True]])[1].tolist() == [1, 0]
    assert linear_sum_assignment(C.astype(np.float32), maximize=True)[1].tolist() == [0, 1]


def test_lsa_errors_as_scipy():
    inf = np.inf
    with pytest.raises(ValueError, match="invalid numeric entries"):
        linear_sum_assignment([[np.nan, 1.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="invalid numeric entries"):
        linear_sum_assignment([[-inf, 1.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="invalid numeric entries"):
        linear_sum_assignment([[inf, 1.0], [1.0, 1.0]], maximize=True)
    with pytest.raises(ValueError, match="cost matrix is infeasible"):
        linear_sum_assignment([[1, inf, inf], [2, inf, inf], [3, 4, 5]])
    with pytest.raises(ValueError, match="cost matrix is infeasible"):
        linear_sum_assignment([[inf, inf], [1.0, 2.0]])
    with pytest.raises(ValueError, match=r"linear_sum_assignment: expected a matrix.*\(3,\)"):
        linear_sum_assignment([1.0, 2.0, 3.0])
    # Forbidden (infinite) entries are allowed as long as an assignment avoids them.
    r, c = linear_sum_assignment([[inf, 1.0], [1.0, inf]])
    assert c.tolist() == [1, 0]
    r, c = linear_sum_assignment([[-inf, 1.0], [1.0, -inf]], maximize=True)
    assert c.tolist() == [1, 0]


def test_lsa_matches_scipy_where_installed():
    scipy_optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(5)
    for n, m in [(5, 8), (8, 5), (30, 30), (1, 4)]:
        C = rng.normal(size=(n, m))
        for maximize in (False, True):
            r, c = linear_sum_assignment(C, maximize=maximize)
            rs, cs = scipy_optimize.linear_sum_assignment(C, maximize=maximize)
            np.testing.assert_array_equal(r, rs)
            assert np.isclose(C[r, c].sum(), C[rs, cs].sum())
    for bad, maximize in [
        ([[1, np.inf, np.inf], [2, np.inf, np.inf], [3, 4, 5]], False),
        ([[np.nan]], False),
        ([[np.inf]], True),
    ]:
        with pytest.raises(ValueError) as ours:
            linear_sum_assignment(bad, maximize=maximize)
        with pytest.raises(ValueError) as theirs:
            scipy_optimize.linear_sum_assignment(bad, maximize=maximize)
        assert str(theirs.value) in str(ours.value)


# ------------------------------------------------------------------------------ match_units


@pytest.mark.parametrize("method", ["weight_cos", "weight_matching", "activation_corr"])
def test_match_units_recovers_a_hidden_permutation(method):
    rng = np.random.default_rng(0)
    model = nn.MLP([10, 8, 3], rng=4)
    params = params_of(model)
    perm = rng.permutation(8)
    # b is a with its units relabelled: b's unit i is a's unit inv[i]; matching undoes it.
    inv = np.argsort(perm)
    shuffled = permute_hidden(params, inv)
    X = rng.normal(size=(50, 10))
    got = match_units(params, shuffled, 0, method, X=X)
    np.testing.assert_array_equal(got, perm)
    np.testing.assert_allclose(permute_hidden(shuffled, got)[0], params[0])


def test_unit_similarity_values_and_errors():
    a = params_of(nn.MLP([4, 3, 2], rng=0))
    S = unit_similarity(a, a, method="weight_cos")
    np.testing.assert_allclose(np.diag(S), 1.0)
    zero = [p.copy() for p in a]
    zero[0][1], zero[1][1] = 0.0, 0.0
    assert np.all(unit_similarity(a, zero)[:, 1] == 0.0)
    X = np.random.default_rng(0).normal(size=(20, 4))
    H = hidden_activations(a, X)
    S = unit_similarity(a, a, method="activation_corr", X=X)
    live = H.std(axis=0) > 0
    np.testing.assert_allclose(np.diag(S)[live], 1.0)
    with pytest.raises(ValueError, match="needs the inputs X"):
        match_units(a, a, method="activation_corr")
    with pytest.raises(ValueError, match="method"):
        match_units(a, a, method="greedy")
    with pytest.raises(ValueError, match="differ in shape"):
        match_units(a, params_of(nn.MLP([4, 5, 2], rng=0)))


# ------------------------------------------------------------------------------- linear_cka


def test_linear_cka_invariances():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 6)) @ rng.normal(size=(6, 6))
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    assert np.isclose(linear_cka(X, X), 1.0)
    assert np.isclose(linear_cka(X, X[:, rng.permutation(6)]), 1.0)
    assert np.isclose(linear_cka(X, X @ Q), 1.0)
    assert np.isclose(linear_cka(X, 3.7 * X + 5.0), 1.0)
    assert linear_cka(X, X * np.array([1, 1, 1, 1, 1, 10.0])) < 0.99
    Y = rng.normal(size=(100, 3))
    assert np.isclose(linear_cka(X, Y), linear_cka(Y, X))
    assert np.isclose(linear_cka(X * 1e200, Y * 1e-200), linear_cka(X, Y))
    wide = rng.normal(size=(10, 40))  # n < p: the Gram form
    assert np.isclose(linear_cka(wide, wide @ np.linalg.qr(rng.normal(size=(40, 40)))[0]), 1.0)


def test_linear_cka_centres():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(50, 4)), rng.normal(size=(50, 5))
    uncentred = np.linalg.norm((Y + 10).T @ (X + 10)) ** 2 / (
        np.linalg.norm((X + 10).T @ (X + 10)) * np.linalg.norm((Y + 10).T @ (Y + 10))
    )
    assert abs(linear_cka(X + 10, Y + 10) - linear_cka(X, Y)) < 1e-12
    assert uncentred > linear_cka(X, Y) + 0.5


def test_linear_cka_edge_cases():
    assert np.isnan(linear_cka(np.ones((5, 2)), np.random.default_rng(0).normal(size=(5, 3))))
    with pytest.raises(ValueError, match=r"linear_cka: .*\(5, 2\) and \(4, 2\)"):
        linear_cka(np.zeros((5, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="linear_cka"):
        linear_cka(np.zeros(5), np.zeros((5, 1)))


# ------------------------------------------------------------------------------- agreement


def test_prediction_agreement_and_chance():
    a, b = nn.MLP([4, 6, 3], rng=0), nn.MLP([4, 6, 3], rng=1)
    X = np.random.default_rng(0).normal(size=(200, 4))
    assert prediction_agreement(a, a, X) == 1.0
    pa, pb = a(Tensor(X)).data.argmax(1), b(Tensor(X)).data.argmax(1)
    assert prediction_agreement(a, b, X) == pytest.approx(np.mean(pa == pb))
    y = np.array([0, 0, 1, 1])
    # Both right on everything: agreement 1 = chance agreement (nothing left to chance).
    assert chance_agreement(y, y, y) == 1.0
    # a is right half the time on class 0 and says 1 otherwise; b always says 1.
    assert chance_agreement([0, 1, 1, 1], [1, 1, 1, 1], y) == pytest.approx(0.5 * 0.5 + 0.5 * 1)
