"""nnlite.attribution: exact identities (Euler for bias-free ReLU nets, linear models, the AM
fixed point w / l2), edge cases, input immutability and error messages."""

from __future__ import annotations

import numpy as np
import pytest

from nnlite import attribution as A
from nnlite import nn


def linear_model(W, b):
    model = nn.MLP([W.shape[1], W.shape[0]], seed=0)
    model[0].weight.data[...] = W
    model[0].bias.data[...] = b
    return model


def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_layer_output_and_top_k_order_ties_and_negative_layer(rng):
    model = nn.MLP([5, 4, 3], seed=1)
    X = rng.normal(size=(20, 5))
    h = np.maximum(X @ model[0].weight.data.T + model[0].bias.data, 0)
    np.testing.assert_allclose(A.layer_output(model, X, 1), h, rtol=1e-12)
    np.testing.assert_allclose(A.layer_output(model, X, -2), h, rtol=1e-12)
    got = A.top_k_activating(model, X, 1, 2, 20)
    assert got.dtype == np.int64
    assert np.all(np.diff(h[got, 2]) <= 0)
    zeros = np.flatnonzero(h[:, 2] == 0)
    assert list(got[-len(zeros) :]) == sorted(zeros)  # ties: lower index first
    assert A.top_k_activating(model, X, -1, 0, 0).shape == (0,)
    with pytest.raises(ValueError, match="top_k_activating"):
        A.top_k_activating(model, X, 1, 0, 21)


def test_saliency_of_a_linear_model_is_the_weight_row(rng):
    W, b = rng.normal(size=(3, 7)), rng.normal(size=3)
    model, x = linear_model(W, b), rng.normal(size=7)
    np.testing.assert_allclose(A.saliency(model, x, 2), W[2], rtol=1e-12)
    np.testing.assert_allclose(A.saliency(model, x, 1, "grad_x_input"), W[1] * x, rtol=1e-12)
    X, t = rng.normal(size=(4, 7)), np.array([0, 2, 2, 1])
    np.testing.assert_allclose(A.saliency(model, X, t), W[t], rtol=1e-12)
    with pytest.raises(ValueError, match="saliency"):
        A.saliency(model, x, 0, method="smoothgrad")


def test_grad_x_input_sums_to_the_logit_of_a_bias_free_relu_net(rng):
    model = nn.MLP([6, 8, 5, 3], seed=2, bias=False)
    X = rng.normal(size=(5, 6))
    logits = X
    for i in range(len(model)):
        logits = np.asarray(model[i](logits).data)
    t = np.array([0, 1, 2, 0, 1])
    gxi = A.saliency(model, X, t, "grad_x_input")
    np.testing.assert_allclose(gxi.sum(axis=1), logits[np.arange(5), t], rtol=1e-10, atol=1e-12)


def test_occlusion_map_matches_brute_force_and_full_cover(rng):
    H, W = 6, 9
    Wt, b = rng.normal(size=(4, H * W)), rng.normal(size=4)
    model, x = linear_model(Wt, b), rng.random((H, W))
    got = A.occlusion_map(model, x, 1, patch=3, stride=2, fill=0.5)
    assert got.shape == ((H - 3) // 2 + 1, (W - 3) // 2 + 1)
    p0 = softmax(x.ravel() @ Wt.T + b)[1]
    for i in range(got.shape[0]):
        for j in range(got.shape[1]):
            xo = x.copy()
            xo[2 * i : 2 * i + 3, 2 * j : 2 * j + 3] = 0.5
            assert got[i, j] == pytest.approx(p0 - softmax(xo.ravel() @ Wt.T + b)[1], abs=1e-12)
    square = rng.random((5, 5))
    full = A.occlusion_map(linear_model(Wt[:, :25], b), square, 3, patch=5, stride=1, fill=0.2)
    pf = softmax(np.full(25, 0.2) @ Wt[:, :25].T + b)[3]
    p = softmax(square.ravel() @ Wt[:, :25].T + b)[3]
    np.testing.assert_allclose(full, [[p - pf]], rtol=1e-10)
    with pytest.raises(ValueError, match="occlusion_map"):
        A.occlusion_map(model, x.ravel(), 0)


def test_deletion_drop_edge_cases_and_stroke_pixels_only(rng):
    model = nn.MLP([16, 6, 3], seed=0)
    X = rng.random((8, 16)) * (rng.random((8, 16)) > 0.5)
    y, s = rng.integers(0, 3, size=8), rng.normal(size=(8, 16))
    X0, s0 = X.copy(), s.copy()
    assert A.deletion_drop(model, X, y, s, 0.0) == 0.0
    p = A.probabilities(model, X)[np.arange(8), y]
    pz = A.probabilities(model, np.zeros_like(X))[np.arange(8), y]
    assert A.deletion_drop(model, X, y, s, 1.0) == pytest.approx(np.mean(p - pz), abs=1e-12)
    # Scores on background pixels are ignored: only stroke pixels can be deleted.
    s_bg = s.copy()
    s_bg[X == 0] = 1e9
    assert A.deletion_drop(model, X, y, s_bg, 0.5) == pytest.approx(
        A.deletion_drop(model, X, y, s, 0.5), abs=1e-12
    )
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(s, s0)
    with pytest.raises(ValueError, match=r"deletion_drop.*\(8, 16\).*\(8, 15\)"):
        A.deletion_drop(model, X, y, s[:, :15], 0.1)


def test_activation_maximization_of_a_linear_unit_converges_to_w_over_l2(rng):
    w = rng.normal(size=12)
    model = linear_model(w[None], np.zeros(1))
    x0 = np.zeros(12)
    x = A.activation_maximization(model, lambda m, t: m(t)[0], x0, 400, 0.1, l2=0.5, clip=None)
    np.testing.assert_allclose(x, w / 0.5, rtol=1e-8)
    assert np.all(x0 == 0)
    boxed = A.activation_maximization(model, lambda m, t: m(t)[0], x0, 50, 2.0)
    assert boxed.min() >= 0 and boxed.max() <= 1
    np.testing.assert_array_equal(boxed, (w > 0).astype(float))


def test_blur_keeps_constants_inside_and_mass_of_an_interior_impulse():
    img = np.zeros((6, 6))
    img[2, 3] = 1.0
    out = A.blur(img.ravel())
    assert out.shape == (36,) and out.sum() == pytest.approx(1.0)
    assert out.reshape(6, 6)[2, 3] == pytest.approx(4 / 16)
    const = A.blur(np.ones((2, 25)))
    np.testing.assert_allclose(const.reshape(2, 5, 5)[:, 1:-1, 1:-1], 1.0)
    assert const.reshape(2, 5, 5)[0, 0, 0] == pytest.approx(9 / 16)  # zero padding at a corner


def test_purity_of_units_and_random_directions():
    acts = np.array([[3.0, 0.0], [2.0, 1.0], [1.0, 2.0], [0.0, 3.0]])
    y = np.array([0, 0, 1, 1])
    np.testing.assert_allclose(A.top_k_purity(acts, y, 2), [1.0, 1.0])
    np.testing.assert_allclose(A.top_k_purity(acts, y, 3), [2 / 3, 2 / 3])
    a = A.random_direction_purity(acts, y, 2, 50, seed=3)
    np.testing.assert_array_equal(a, A.random_direction_purity(acts, y, 2, 50, seed=3))
    assert a.shape == (50,) and set(np.unique(a)) <= {0.5, 1.0}
