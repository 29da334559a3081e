"""Tests of nnlite.connection: sensitivities, ablation, path products, Garson, Spearman."""

import copy

import numpy as np
import pytest

from nnlite import Tensor, connection, nn, no_grad
from nnlite import functional as F


def net(sizes=(6, 5, 4), activation="relu", seed=0):
    return nn.MLP(list(sizes), activation=activation, rng=seed)


def params(model):
    return [np.array(p.data, copy=True) for p in model.parameters()]


def logits(model, X):
    with no_grad():
        return model(Tensor(X)).data


# ----------------------------------------------------------------------------- activations


def test_activations_of_each_layer():
    model, X = net((6, 5, 4, 3)), np.random.default_rng(0).normal(size=(7, 6))
    np.testing.assert_array_equal(connection.activations(model, X, 0), X)
    h1 = np.maximum(X @ model[0].weight.data.T + model[0].bias.data, 0)
    np.testing.assert_allclose(connection.activations(model, X, 1), h1, rtol=1e-12)
    np.testing.assert_allclose(connection.activations(model, X, 3), logits(model, X), rtol=1e-12)
    with pytest.raises(ValueError, match="layer 4 is out of range"):
        connection.activations(model, X, 4)


def test_functions_reject_a_model_that_is_not_an_mlp():
    with pytest.raises(TypeError, match="ablate: model must"):
        connection.ablate(nn.Linear(3, 2), 1, [0])
    with pytest.raises(TypeError, match="alternate layers"):
        connection.ablate(nn.Sequential(nn.ReLU(), nn.Linear(3, 2)), 1, [0])


# ------------------------------------------------------------------------------ sensitivity


@pytest.mark.parametrize("layer", [0, 1, 2])
def test_sensitivity_is_the_weight_exactly(layer):
    model = net((6, 5, 4, 3), seed=1)
    x = np.random.default_rng(1).normal(size=6)
    W = model[2 * layer].weight.data
    for i, j in [(0, 0), (W.shape[1] - 1, 0), (1, W.shape[0] - 1)]:
        assert connection.unit_sensitivity(model, x, layer, i, j) == W[j, i]


def test_sensitivity_of_a_single_linear_layer_and_a_tanh_net():
    model = net((3, 2))  # a single Linear: d z_j / d x_i = W[j, i] exactly
    assert connection.unit_sensitivity(model, np.zeros(3), 0, 2, 1) == model[0].weight.data[1, 2]
    model = net((4, 3, 2), activation="tanh")
    x = np.arange(4.0)
    assert connection.unit_sensitivity(model, x, 1, 2, 0) == model[2].weight.data[0, 2]


def test_sensitivity_of_a_layer_that_computes_its_weight():
    class Doubled(nn.Module):  # a layer whose effective weight is 2 * W (no .weight attribute)
        def __init__(self, W):
            super().__init__()
            self.half = nn.Parameter(W)

        def forward(self, a):
            return F.linear(a, self.half * 2.0)

    W = np.arange(12.0).reshape(3, 4)
    model = nn.Sequential(nn.Linear(5, 4, rng=0), nn.ReLU(), Doubled(W))
    assert connection.unit_sensitivity(model, np.ones(5), 1, 2, 1) == 2 * W[1, 2]
    np.testing.assert_allclose(
        connection.ablate(model, 1, [0, 1, 2, 3])(np.ones((2, 5))).data, np.zeros((2, 3))
    )


def test_sensitivity_rejects_a_batch_and_a_bad_layer():
    with pytest.raises(ValueError, match=r"\(d,\)"):
        connection.unit_sensitivity(net(), np.zeros((2, 6)), 0, 0, 0)
    with pytest.raises(ValueError, match="out of range"):
        connection.unit_sensitivity(net(), np.zeros(6), 2, 0, 0)


# ------------------------------------------------------------------------------- ablation


def test_ablating_a_unit_removes_its_outgoing_contribution_exactly():
    model, X = net(seed=2), np.random.default_rng(2).normal(size=(9, 6))
    h = connection.activations(model, X, 1)
    W2 = model[2].weight.data
    for j in range(5):
        got = connection.ablate(model, 1, [j])(X).data
        np.testing.assert_allclose(got, logits(model, X) - np.outer(h[:, j], W2[:, j]), atol=1e-12)


def test_ablation_never_touches_the_model():
    model, X = net(seed=3), np.random.default_rng(3).normal(size=(4, 6))
    before = params(model)
    forward = connection.ablate(model, 1, [0, 2, 4])
    forward(X).sum().backward()  # gradients flow through the ablated forward
    for p, q in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, q)
    connection.ablation_effect(model, X, np.zeros(4, dtype=int), 1)
    for p, q in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, q)


def test_ablating_every_unit_leaves_the_output_bias_and_none_changes_nothing():
    model, X = net(seed=4), np.random.default_rng(4).normal(size=(3, 6))
    out = connection.ablate(model, 1, range(5))(X).data
    np.testing.assert_array_equal(out, np.broadcast_to(model[2].bias.data, (3, 4)))
    np.testing.assert_array_equal(connection.ablate(model, 1, [])(X).data, logits(model, X))


def test_ablation_sets_the_activation_not_the_pre_activation_to_zero():
    # With a sigmoid, a zero pre-activation would still send 0.5 onwards.
    model, X = net(activation="sigmoid", seed=5), np.random.default_rng(5).normal(size=(3, 6))
    h = connection.activations(model, X, 1)
    got = connection.ablate(model, 1, [1])(X).data
    np.testing.assert_allclose(
        got, logits(model, X) - np.outer(h[:, 1], model[2].weight.data[:, 1])
    )


def test_ablate_rejects_bad_units_and_layers():
    with pytest.raises(ValueError, match="unit 5 is not an index of a layer of width 5"):
        connection.ablate(net(), 1, [5])
    with pytest.raises(ValueError, match="out of range"):
        connection.ablate(net(), 0, [0])


def test_ablation_effect_matches_a_loop_over_ablate():
    model = net((6, 8, 3), seed=6)
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(20, 6)), rng.integers(0, 3, size=20)
    base_loss = F.cross_entropy(logits(model, X), y).item()
    base_acc = np.mean(logits(model, X).argmax(1) == y)
    loss = connection.ablation_effect(model, X, y, 1)
    acc = connection.ablation_effect(model, X, y, 1, metric="accuracy")
    for j in range(8):
        z = connection.ablate(model, 1, [j])(X).data
        assert loss[j] == pytest.approx(F.cross_entropy(z, y).item() - base_loss, abs=1e-12)
        assert acc[j] == pytest.approx(base_acc - np.mean(z.argmax(1) == y), abs=1e-12)
    h = connection.activations(model, X, 1)
    dead = np.flatnonzero(h.max(axis=0) == 0)
    assert np.all(loss[dead] == 0)
    with pytest.raises(ValueError, match="metric"):
        connection.ablation_effect(model, X, y, 1, metric="auc")


# -------------------------------------------------------------------- Olden and Garson


def test_olden_is_the_jacobian_of_a_linear_network():
    rng = np.random.default_rng(7)
    Ws = [rng.normal(size=(5, 4)), rng.normal(size=(3, 5)), rng.normal(size=(2, 3))]
    got = connection.connection_weight_importance(Ws)
    np.testing.assert_allclose(got, Ws[2] @ Ws[1] @ Ws[0], rtol=1e-12)
    x = Tensor(rng.normal(size=4), requires_grad=True)
    out = Tensor(Ws[2]) @ (Tensor(Ws[1]) @ (Tensor(Ws[0]) @ x))
    out[1].backward()
    np.testing.assert_allclose(got[1], x.grad, rtol=1e-12)
    W1, W2 = Ws[0], Ws[1]
    manual = np.array(
        [[sum(W2[k, j] * W1[j, i] for j in range(5)) for i in range(4)] for k in range(3)]
    )
    np.testing.assert_allclose(
        connection.connection_weight_importance([W1, W2]), manual, rtol=1e-12
    )


def test_olden_edge_cases():
    W = np.arange(6.0).reshape(2, 3)
    one = connection.connection_weight_importance([W])
    np.testing.assert_array_equal(one, W)
    one[0, 0] = 99.0
    assert W[0, 0] == 0.0  # a copy, not the input
    f32 = [np.ones((2, 3), np.float32), np.ones((1, 2), np.float32)]
    assert connection.connection_weight_importance(f32).dtype == np.float32
    empty = connection.connection_weight_importance([np.zeros((0, 3)), np.zeros((2, 0))])
    np.testing.assert_array_equal(empty, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\(4, 5\).*\(2, 3\)"):
        connection.connection_weight_importance([np.ones((2, 3)), np.ones((4, 5))])
    with pytest.raises(ValueError, match="empty"):
        connection.connection_weight_importance([])


def test_garson_by_hand_and_its_properties():
    W1 = np.array([[1.0, -3.0], [2.0, 2.0], [0.0, 0.0]])  # 3 hidden units, 2 inputs
    W2 = np.array([[0.5, -4.0, 7.0]])  # one output
    # unit 0 shares (1/4, 3/4), unit 1 (1/2, 1/2), unit 2 nothing; sums (3/4, 5/4) -> /2
    np.testing.assert_allclose(connection.garson(W1, W2), [[0.375, 0.625]], rtol=1e-12)
    rng = np.random.default_rng(8)
    W1, W2 = rng.normal(size=(6, 5)), rng.normal(size=(3, 6))
    g = connection.garson(W1, W2)
    np.testing.assert_allclose(g.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(g >= 0)
    # the nonzero |output weights| cancel in each unit's share: every output gets the same row
    np.testing.assert_allclose(g, np.broadcast_to(g[0], g.shape), rtol=1e-12)
    np.testing.assert_allclose(
        connection.garson(W1, 5 * rng.normal(size=(1, 6))), g[:1], rtol=1e-12
    )
    W2[1, 2] = 0.0  # a zero output weight removes that unit from that output only
    assert not np.allclose(connection.garson(W1, W2)[1], g[1])


# ------------------------------------------------------------------------------- Spearman


def test_rankdata_averages_ties():
    np.testing.assert_array_equal(connection.rankdata([10, 20, 20, 5]), [2, 3.5, 3.5, 1])
    np.testing.assert_array_equal(connection.rankdata([1, 1, 1]), [2, 2, 2])
    np.testing.assert_array_equal(connection.rankdata(np.zeros(0)), np.zeros(0))


def test_spearman_values():
    assert connection.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
    assert connection.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    # ranks (1, 2.5, 2.5, 4) and (1, 3, 2, 4): 4.5 / sqrt(4.5 * 5)
    assert connection.spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(4.5 / np.sqrt(22.5))
    a = np.random.default_rng(9).normal(size=50)
    b = a + np.random.default_rng(10).normal(size=50)
    rho = connection.spearman(a, b)
    assert connection.spearman(np.exp(a), b**3) == pytest.approx(rho, abs=1e-15)
    assert isinstance(rho, float)


def test_spearman_nan_cases_and_errors():
    assert np.isnan(connection.spearman([3, 3, 3], [1, 2, 3]))
    assert np.isnan(connection.spearman([1.0], [2.0]))
    assert np.isnan(connection.spearman([1.0, np.nan, 2.0], [1, 2, 3]))
    with pytest.raises(ValueError, match=r"\(3,\) and \(4,\)"):
        connection.spearman([1, 2, 3], [1, 2, 3, 4])


def test_spearman_as_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(11)
    a, b = rng.integers(0, 5, size=40), rng.integers(0, 7, size=40)
    assert connection.spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-12)


def test_permutation_spearman_is_the_null_of_spearman():
    rng = np.random.default_rng(12)
    score, damage = rng.normal(size=128), rng.normal(size=128)
    null = connection.permutation_spearman(score, damage, 2000, rng=0)
    assert null.shape == (2000,)
    assert abs(null.mean()) < 0.01 and abs(null.std() * np.sqrt(127) - 1) < 0.1
    again = connection.permutation_spearman(score, damage, 3, rng=5)
    gen = np.random.default_rng(5)
    direct = [connection.spearman(gen.permutation(score), damage) for _ in range(3)]
    np.testing.assert_allclose(again, direct, rtol=1e-12)


def test_rescaling_a_relu_unit_changes_no_output():
    # The symmetry the lesson's control uses: incoming weights and bias x a, outgoing / a.
    model, X = net(seed=13), np.random.default_rng(13).normal(size=(5, 6))
    scaled = copy.deepcopy(model)
    alpha = np.array([0.25, 4.0, 1.0, 2.0, 0.5])
    scaled[0].weight.data *= alpha[:, None]
    scaled[0].bias.data *= alpha
    scaled[2].weight.data /= alpha
    np.testing.assert_allclose(logits(scaled, X), logits(model, X), rtol=1e-12, atol=1e-14)
