"""Visible checks of lesson 03, "A weight is a connection strength".

In the lesson::

    from nnlite.checks import lesson
    check = lesson("03_connection_strength")
    ...
    check("ablate", ablate)                                       # feedback after the exercise
    ablate = check.use("ablate", ablate, fallback=connection.ablate)  # the chapter runs on

The checks are smoke tests of each exercise's contract (shape, type, one easy value, one edge
case) on tiny networks, compared with :mod:`nnlite.connection`; they never show the answer. The
hidden graders in ``tests/graders/test_03_connection_strength.py`` do the real testing. Every
exercise falls back to its twin in :mod:`nnlite.connection`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnlite import connection, nn
from nnlite.checks import visible
from nnlite.tensor import Tensor, no_grad

LESSON = "03_connection_strength"


def _net(sizes=(5, 4, 3), activation="relu", seed=0) -> nn.MLP:
    return nn.MLP(list(sizes), activation=activation, rng=seed)


def _params(model) -> list[np.ndarray]:
    return [np.array(p.data, copy=True) for p in model.parameters()]


def _data(out: Any) -> np.ndarray:
    return np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64)


# ------------------------------------------------------------------------ unit_sensitivity


@visible("unit_sensitivity", hint="Return float(a.grad[i_in]) after backward() from unit j_out.")
def sensitivity_is_a_float(unit_sensitivity):
    """returns a Python float"""
    got = unit_sensitivity(_net(), np.ones(5), 0, 1, 2)
    assert isinstance(got, float), f"returned {type(got).__name__}, expected float"


@visible(
    "unit_sensitivity",
    hint="Differentiate the PRE-activation of layer + 1 (model[2 * layer] applied to the "
    "activations), with respect to layer `layer`'s activations, not to the input or the weight.",
)
def sensitivity_values(unit_sensitivity):
    """matches autograd on a 5-4-3 network, layers 0 and 1, a non-square layer"""
    model, x = _net(seed=1), np.linspace(-1.0, 2.0, 5)
    for layer, i, j in [(0, 4, 1), (1, 0, 2), (1, 3, 0)]:
        got = unit_sensitivity(model, x, layer, i, j)
        want = connection.unit_sensitivity(model, x, layer, i, j)
        assert np.isclose(got, want, rtol=1e-12, atol=1e-15), (
            f"layer {layer}, i_in {i}, j_out {j}: got {got!r}, expected another value"
        )


@visible("unit_sensitivity", hint="Backpropagate from z[j_out], then read a.grad[i_in].")
def sensitivity_inactive_unit(unit_sensitivity):
    """is not 0 where the upper unit is inactive (the pre-activation is differentiated)"""
    model = _net((3, 4, 2), seed=2)
    x = np.array([1.0, -1.0, 0.5])
    with no_grad():
        u = model[0](Tensor(x)).data
    j = int(np.argmin(u))  # a hidden unit whose ReLU is off for this input
    assert u[j] < 0, "internal: the check needs an inactive unit"
    got = unit_sensitivity(model, x, 0, 0, j)
    want = connection.unit_sensitivity(model, x, 0, 0, j)
    assert np.isclose(got, want, rtol=1e-12), f"got {got!r} for a unit whose pre-activation < 0"


# ------------------------------------------------------------------------------------ ablate


@visible("ablate", hint="forward(X) returns the logits as a Tensor of shape (N, out_features).")
def ablate_returns_logits(ablate):
    """forward(X) gives a Tensor of the logits' shape; no units silenced = the model's output"""
    model, X = _net(seed=3), np.random.default_rng(3).normal(size=(6, 5))
    out = ablate(model, 1, [])(X)
    assert isinstance(out, Tensor), f"forward(X) returned {type(out).__name__}, not a Tensor"
    with no_grad():
        want = model(Tensor(X)).data
    assert out.shape == want.shape, f"shape {out.shape}, expected {want.shape}"
    assert np.allclose(_data(out), want, rtol=1e-12), "with no unit silenced the logits differ"


@visible(
    "ablate",
    hint="Set the unit's ACTIVATION to 0 (what it sends on), not its incoming weights: a ReLU "
    "unit with zero incoming weights still sends relu(bias).",
)
def ablate_values(ablate):
    """silencing units gives the expected logits, also when a unit's bias is positive"""
    model, X = _net((5, 4, 3), seed=4), np.random.default_rng(4).normal(size=(6, 5))
    model[0].bias.data[:] = [0.8, -0.3, 0.5, 0.9]
    for units in ([0], [2, 3], [0, 1, 2, 3]):
        with no_grad():
            got = _data(ablate(model, 1, units)(X))
            want = connection.ablate(model, 1, units)(X).data
        assert np.allclose(got, want, rtol=1e-12, atol=1e-14), f"units {units}: wrong logits"


@visible("ablate", hint="Never change model's weights: mask the activations in forward instead.")
def ablate_leaves_the_model(ablate):
    """the model's weights and biases are unchanged after ablate(...) and forward(X)"""
    model, X = _net(seed=5), np.random.default_rng(5).normal(size=(3, 5))
    before = _params(model)
    forward = ablate(model, 1, [1, 2])
    forward(X)
    after = _params(model)
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True)), (
        "the model's parameters changed"
    )


# --------------------------------------------------------------------------- ablation_effect


@visible("ablation_effect", hint="Return one float per unit of the layer, as a numpy array.")
def ablation_effect_shape(ablation_effect):
    """returns a float array with one entry per unit of the layer"""
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(10, 5)), rng.integers(0, 3, size=10)
    got = np.asarray(ablation_effect(_net(seed=6), X, y, 1))
    assert got.shape == (4,), f"shape {got.shape}, expected (4,)"


@visible(
    "ablation_effect",
    hint="Damage = loss(silenced) - loss(intact) (positive when the unit helped); silence one "
    "unit at a time and restore it before the next; the loss is the mean cross-entropy.",
)
def ablation_effect_loss(ablation_effect):
    """'loss': the loss increase of silencing each unit alone"""
    rng = np.random.default_rng(7)
    model = _net((5, 6, 3), seed=7)
    X, y = rng.normal(size=(12, 5)), rng.integers(0, 3, size=12)
    got = np.asarray(ablation_effect(model, X, y, 1), dtype=np.float64)
    want = connection.ablation_effect(model, X, y, 1)
    assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}"
    assert np.allclose(got, want, rtol=1e-9, atol=1e-12), "the damages differ from the expected"


@visible(
    "ablation_effect",
    hint="'accuracy': accuracy(intact) - accuracy(silenced), as a fraction between -1 and 1.",
)
def ablation_effect_accuracy(ablation_effect):
    """'accuracy': the accuracy drop of silencing each unit alone"""
    rng = np.random.default_rng(8)
    model = _net((5, 6, 3), seed=8)
    X, y = rng.normal(size=(40, 5)), rng.integers(0, 3, size=40)
    got = np.asarray(ablation_effect(model, X, y, 1, metric="accuracy"), dtype=np.float64)
    want = connection.ablation_effect(model, X, y, 1, metric="accuracy")
    assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}"
    assert np.allclose(got, want, atol=1e-12), "the accuracy drops differ from the expected"


# ---------------------------------------------------------------------------------- spearman


@visible("spearman", hint="Return a Python float.")
def spearman_simple(spearman):
    """a monotone relation gives 1.0, a reversed one -1.0"""
    got = spearman([1.0, 2.0, 3.0, 4.0], [1.0, 4.0, 9.0, 16.0])
    assert isinstance(got, float), f"returned {type(got).__name__}, expected float"
    assert np.isclose(got, 1.0), f"spearman(x, x**2) for positive x is {got!r}, expected 1.0"
    got = spearman([1, 2, 3, 4], [8, 6, 4, 2])
    assert np.isclose(got, -1.0), f"a reversed order gave {got!r}, expected -1.0"


@visible(
    "spearman",
    hint="Tied values get the average of the ranks they span (5, 10, 10, 20 -> 1, 2.5, 2.5, 4); "
    "then take the Pearson correlation of the ranks (the 1 - 6 sum d^2 / ... shortcut is "
    "exact only without ties).",
)
def spearman_ties(spearman):
    """ties get average ranks"""
    a, b = [3, 1, 3, 2, 5, 3], [1, 2, 2, 4, 5, 0]
    got = spearman(a, b)
    want = connection.spearman(a, b)
    assert np.isclose(got, want, rtol=1e-12), f"spearman{(a, b)} = {got!r}, expected another value"


@visible("spearman", hint="A constant input has ranks without spread: return float('nan').")
def spearman_constant(spearman):
    """a constant input gives nan"""
    got = spearman([2.0, 2.0, 2.0], [1.0, 5.0, 3.0])
    assert isinstance(got, float) and np.isnan(got), f"got {got!r}, expected nan"


# --------------------------------------------------------------- connection_weight_importance


@visible(
    "connection_weight_importance",
    hint="Multiply in forward order from the right: W2 @ W1, then W3 @ (W2 @ W1); the result "
    "has shape (n_out, n_in).",
)
def olden_shape_and_values(connection_weight_importance):
    """a 4-3-2 chain gives W2 @ W1, shape (2, 4)"""
    rng = np.random.default_rng(9)
    W1, W2 = rng.normal(size=(3, 4)), rng.normal(size=(2, 3))
    got = np.asarray(connection_weight_importance([W1, W2]))
    assert got.shape == (2, 4), f"shape {got.shape}, expected (2, 4)"
    want = connection.connection_weight_importance([W1, W2])
    assert np.allclose(got, want, rtol=1e-12), "the values differ from the expected"


@visible(
    "connection_weight_importance",
    hint="Keep the signs: Olden's importance is the signed sum of path products (absolute "
    "values give another quantity).",
)
def olden_signed_deep(connection_weight_importance):
    """signed, and every matrix of a 3-layer chain is used"""
    rng = np.random.default_rng(10)
    Ws = [rng.normal(size=(4, 5)), rng.normal(size=(3, 4)), rng.normal(size=(2, 3))]
    got = np.asarray(connection_weight_importance(Ws))
    want = connection.connection_weight_importance(Ws)
    assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}"
    assert np.allclose(got, want, rtol=1e-12), "the values differ from the expected"
