"""Visible checks of lesson 08, "Preferred inputs".

In the lesson::

    from nnlite.checks import lesson
    check = lesson("08_preferred_inputs")
    ...
    check("saliency", saliency)
    saliency = check.use("saliency", saliency, fallback=attribution.saliency)

The checks are smoke tests of each exercise's contract on tiny nnlite networks (shapes, an
identity that must hold exactly, one edge case), compared with :mod:`nnlite.attribution`; they
never show the answer. The hidden graders in ``tests/graders/test_08_preferred_inputs.py`` do
the real testing. Every exercise falls back to its twin in :mod:`nnlite.attribution`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnlite import attribution as A
from nnlite import nn
from nnlite.checks import visible

LESSON = "08_preferred_inputs"


def _arr(x: Any) -> np.ndarray:
    return np.asarray(getattr(x, "data", x))


def _close(got: Any, want: Any, what: str, rtol: float = 1e-7, atol: float = 1e-10) -> None:
    got, want = _arr(got), np.asarray(want)
    assert got.shape == want.shape, f"{what} has shape {got.shape}, expected {want.shape}"
    assert np.all(np.isfinite(got)), f"{what} contains NaN or inf"
    assert np.allclose(got, want, rtol=rtol, atol=atol), f"{what}: values differ from the expected"


def _linear(W: np.ndarray, b: np.ndarray) -> nn.MLP:
    model = nn.MLP([W.shape[1], W.shape[0]], seed=0)
    model[0].weight.data[...] = W
    model[0].bias.data[...] = b
    return model


def _small_net(seed: int = 0, sizes=(12, 6, 4), bias: bool = True) -> nn.MLP:
    model = nn.MLP(list(sizes), seed=seed, bias=bias)
    for p in model.parameters():  # larger weights than the default, so probabilities move
        p.data *= 3.0
    return model


# --------------------------------------------------------------------------- top_k_activating


@visible(
    "top_k_activating",
    hint="Run X through model[0], ..., model[layer] (layer % len(model) handles negative "
    "values), take column `unit`, and sort from the largest down.",
)
def top_k_values(top_k_activating):
    """returns k row indices, most activating first, for the hidden layer and the logits"""
    model, X = _small_net(), np.random.default_rng(0).normal(size=(15, 12))
    for layer, unit in ((1, 2), (-1, 3)):
        got = _arr(top_k_activating(model, X, layer, unit, 5))
        assert got.shape == (5,), f"layer {layer}: shape {got.shape}, expected (5,)"
        assert np.issubdtype(got.dtype, np.integer), f"the indices have dtype {got.dtype}"
        want = A.top_k_activating(model, X, layer, unit, 5)
        assert np.array_equal(got, want), f"layer {layer}, unit {unit}: wrong rows or wrong order"


@visible(
    "top_k_activating",
    hint="A ReLU unit is exactly 0 on many rows: equal values keep the lower index first "
    "(np.argsort(-values, kind='stable')).",
)
def top_k_ties(top_k_activating):
    """ties (ReLU zeros) keep the lower index first; k = 0 gives an empty array"""
    model, X = _small_net(), np.random.default_rng(1).normal(size=(15, 12))
    acts = A.layer_output(model, X, 1)
    unit = int(np.argmax((acts == 0).sum(axis=0)))
    got = _arr(top_k_activating(model, X, 1, unit, 15))
    assert np.array_equal(got, A.top_k_activating(model, X, 1, unit, 15)), (
        "with k = N the order of the tied (zero) rows is wrong"
    )
    assert _arr(top_k_activating(model, X, 1, unit, 0)).shape == (0,), "k = 0: expected shape (0,)"


# ------------------------------------------------------------------------------ occlusion_map


@visible(
    "occlusion_map",
    hint="H' = (H - patch) // stride + 1 positions down, W' across; entry (i, j) covers rows "
    "i*stride ... and columns j*stride ... and is p(target | x) - p(target | covered x).",
)
def occlusion_values(occlusion_map):
    """a 6 x 8 image: shape (H', W') and the drop in softmax probability at every position"""
    rng = np.random.default_rng(2)
    model, x = _linear(rng.normal(size=(3, 48)), rng.normal(size=3)), rng.random((6, 8))
    got = occlusion_map(model, x, 1, patch=3, stride=2, fill=0.5)
    _close(got, A.occlusion_map(model, x, 1, patch=3, stride=2, fill=0.5), "occlusion map")


@visible(
    "occlusion_map",
    hint="Report the drop in the softmax probability (probabilities(model, X)), not in the logit.",
)
def occlusion_full_cover(occlusion_map):
    """an occluder covering the whole image gives p(target | x) - p(target | fill image)"""
    rng = np.random.default_rng(3)
    model, x = _linear(rng.normal(size=(3, 25)), rng.normal(size=3)), rng.random((5, 5))
    p = A.probabilities(model, np.stack([x.ravel(), np.full(25, 0.3)]))[:, 2]
    got = occlusion_map(model, x, 2, patch=5, stride=1, fill=0.3)
    _close(got, [[p[0] - p[1]]], "occlusion map of a full-size patch")


# ----------------------------------------------------------------------------------- saliency


@visible(
    "saliency",
    hint="Differentiate the target's logit (not its softmax probability) with respect to x: "
    "Tensor(x, requires_grad=True), logits[target].backward(), then x.grad.",
)
def saliency_linear(saliency):
    """for a linear model the gradient of logit t is the weight row W[t]"""
    rng = np.random.default_rng(4)
    W, b, x = rng.normal(size=(3, 7)), rng.normal(size=3), rng.normal(size=7)
    got = saliency(_linear(W, b), x, 2, method="grad")
    _close(got, W[2], "saliency(..., method='grad') of a linear model")


@visible(
    "saliency",
    hint="grad_x_input is the gradient times x, element by element; for a batch, sum the "
    "chosen logit of every row (rows do not interact) and backpropagate once.",
)
def saliency_euler(saliency):
    """bias-free ReLU net, a batch: grad × input sums to the logit (Euler's theorem)"""
    model = _small_net(5, sizes=(8, 6, 3), bias=False)
    X, t = np.random.default_rng(5).normal(size=(4, 8)), np.array([0, 2, 1, 2])
    got = _arr(saliency(model, X, t, method="grad_x_input"))
    assert got.shape == (4, 8), f"shape {got.shape}, expected (4, 8) like x"
    logits = A.layer_output(model, X, -1)[np.arange(4), t]
    _close(got.sum(axis=1), logits, "the row sums of grad × input")


# ------------------------------------------------------------------------------ deletion_drop


@visible(
    "deletion_drop",
    hint="Per image: choose among the nonzero pixels only, int(frac * m) of them with the "
    "highest scores; return the mean of p(true) before minus after, as a float.",
)
def deletion_values(deletion_drop):
    """the mean drop in p(true) matches the test's definition; frac = 0 gives 0.0"""
    rng = np.random.default_rng(6)
    model = _small_net(6, sizes=(16, 6, 3))
    X = rng.random((10, 16)) * (rng.random((10, 16)) > 0.4)
    y, s = rng.integers(0, 3, size=10), rng.normal(size=(10, 16))
    for frac in (0.25, 0.5, 1.0):
        got = deletion_drop(model, X, y, s, frac)
        _close(got, A.deletion_drop(model, X, y, s, frac), f"deletion_drop at frac {frac}")
    zero = deletion_drop(model, X, y, s, 0.0)
    assert float(zero) == 0.0, f"frac = 0 deletes nothing: expected 0.0, got {zero!r}"


@visible(
    "deletion_drop",
    hint="Pixels that are already 0 are background: never choose them, whatever their score.",
)
def deletion_stroke_only(deletion_drop):
    """high scores on background (zero) pixels change nothing"""
    rng = np.random.default_rng(7)
    model = _small_net(7, sizes=(16, 6, 3))
    X = rng.random((10, 16)) * (rng.random((10, 16)) > 0.4)
    y, s = rng.integers(0, 3, size=10), rng.normal(size=(10, 16))
    s[X == 0] = 100.0
    got = deletion_drop(model, X, y, s, 0.5)
    _close(got, A.deletion_drop(model, X, y, s, 0.5), "deletion_drop with high background scores")


# -------------------------------------------------------------------- activation_maximization


@visible(
    "activation_maximization",
    hint="Ascent: x = x + lr * (gradient - l2 * x). With clip=None nothing is clipped.",
)
def am_linear_unit(activation_maximization):
    """a linear unit with an L2 penalty and no box converges to w / l2"""
    w = np.random.default_rng(8).normal(size=10)
    model, x0 = _linear(w[None], np.zeros(1)), np.zeros(10)
    got = activation_maximization(model, lambda m, x: m(x)[0], x0, 300, 0.2, l2=0.5, clip=None)
    _close(got, w / 0.5, "the optimum", rtol=1e-6, atol=1e-8)
    assert np.all(x0 == 0), "x0 was modified"


@visible(
    "activation_maximization",
    hint="Each step: the ascent step, then blur(x) on steps blur_every, 2*blur_every, ..., "
    "then np.clip into the box.",
)
def am_steps(activation_maximization):
    """a small ReLU net with blur and the box: the same iterates as specified"""
    model = _small_net(9, sizes=(16, 5, 3))
    x0 = np.full((2, 16), 0.5)

    def objective(m, x):
        return m(x)[[0, 1], [2, 0]].sum()

    got = activation_maximization(model, objective, x0, 7, 0.3, l2=0.1, blur_every=3)
    want = A.activation_maximization(model, objective, x0, 7, 0.3, l2=0.1, blur_every=3)
    _close(got, want, "x after 7 steps")
    assert _arr(got).min() >= 0.0 and _arr(got).max() <= 1.0, "x left the box [0, 1]"
