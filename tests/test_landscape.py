"""Tests of nnlite.landscape: flat parameters, lines, barriers, random planes, rescaling."""

import numpy as np
import pytest

from nnlite import landscape as L
from nnlite import nn
from nnlite.functional import cross_entropy
from nnlite.tensor import Tensor, no_grad


def mlp(sizes=(5, 4, 3), seed=0, dtype=np.float64):
    return nn.MLP(list(sizes), rng=seed, dtype=dtype)


def data(n=20, d=5, c=3, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, c, size=n)


def loss_at(model, theta, X, y):
    net = mlp(model.sizes)
    L.load_flat_params(net, theta)
    with no_grad():
        return cross_entropy(net(Tensor(X)), y).item()


# ------------------------------------------------------------------- flatten / load


def test_flatten_is_parameters_order_and_a_copy():
    m = mlp()
    ps = [p.data for p in m.parameters()]
    theta = L.flatten_params(m)
    assert theta.shape == (5 * 4 + 4 + 4 * 3 + 3,)
    np.testing.assert_array_equal(theta, np.concatenate([p.ravel() for p in ps]))
    theta[0] = 123.0
    assert ps[0][0, 0] != 123.0


def test_flatten_of_a_model_without_parameters_is_empty():
    assert L.flatten_params(nn.ReLU()).shape == (0,)


def test_round_trip_is_exact_and_in_place():
    a, b = mlp(seed=0), mlp(seed=1)
    params_before = list(a.parameters())
    vec = L.flatten_params(b)
    L.load_flat_params(a, vec)
    assert all(p is q for p, q in zip(a.parameters(), params_before, strict=True))
    np.testing.assert_array_equal(L.flatten_params(a), vec)
    vec[:] = 0.0  # the model holds a copy
    assert np.abs(L.flatten_params(a)).sum() > 0


def test_load_keeps_dtype_and_shape():
    m = mlp(dtype=np.float32)
    L.load_flat_params(m, np.arange(L.flatten_params(m).size, dtype=np.float64))
    assert all(p.data.dtype == np.float32 for p in m.parameters())
    assert m.parameters().__next__().data.shape == (4, 5)
    assert L.flatten_params(m)[7] == 7.0


@pytest.mark.parametrize("bad", [np.zeros(10), np.zeros((1, 39)), np.zeros(40)])
def test_load_wrong_shape_names_both(bad):
    m = mlp()
    with pytest.raises(ValueError, match=r"load_flat_params.*\(39,\)"):
        L.load_flat_params(m, bad)


# ------------------------------------------------------------------------- interpolate


def test_interpolate_endpoints_exact_and_line():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=7), rng.normal(size=7)
    np.testing.assert_array_equal(L.interpolate(a, b, 0), a)
    np.testing.assert_array_equal(L.interpolate(a, b, 1), b)
    np.testing.assert_allclose(L.interpolate(a, b, 0.25), 0.75 * a + 0.25 * b, rtol=1e-15)
    np.testing.assert_allclose(L.interpolate(a, b, -0.5), 1.5 * a - 0.5 * b, rtol=1e-14)
    a0 = a.copy()
    L.interpolate(a, b, 0.3)
    np.testing.assert_array_equal(a, a0)


def test_interpolate_dtypes_and_huge_values():
    f32 = np.ones(3, dtype=np.float32)
    assert L.interpolate(f32, 2 * f32, 0.5).dtype == np.float32
    assert L.interpolate(np.arange(3), np.arange(3) + 2, 0.5).dtype == np.float64
    huge = L.interpolate(np.array([1e308]), np.array([-1e308]), 0.5)
    assert np.isfinite(huge).all() and huge[0] == 0.0


def test_interpolate_errors():
    with pytest.raises(ValueError, match=r"interpolate.*\(3,\).*\(4,\)"):
        L.interpolate(np.zeros(3), np.zeros(4), 0.5)
    with pytest.raises(ValueError, match="real number"):
        L.interpolate(np.zeros(3), np.zeros(3), np.array([0.1, 0.2]))


# ------------------------------------------------------------------------ loss on a line


def test_loss_on_line_matches_pointwise_and_restores_model():
    a, b = mlp(seed=0), mlp(seed=1)
    X, y = data()
    ta, tb = L.flatten_params(a), L.flatten_params(b)
    ts = np.array([-0.5, 0.0, 0.3, 1.0])
    got = L.loss_on_line(a, ta, tb, ts, X, y)
    assert got.shape == (4,) and got.dtype == np.float64
    want = [loss_at(a, (1 - t) * ta + t * tb, X, y) for t in ts]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_array_equal(L.flatten_params(a), ta)
    # a third model whose point is elsewhere: restored too
    c = mlp(seed=2)
    tc = L.flatten_params(c)
    L.loss_on_line(c, ta, tb, ts, X, y)
    np.testing.assert_array_equal(L.flatten_params(c), tc)


def test_loss_on_line_shape_errors():
    m = mlp()
    X, y = data()
    t = L.flatten_params(m)
    with pytest.raises(ValueError, match="shapes"):
        L.loss_on_line(m, t, t[:-1], [0.0], X, y)
    with pytest.raises(ValueError, match=r"X of shape \(20, 5\) and y of shape \(19,\)"):
        L.loss_on_line(m, t, t, [0.0], X, y[:-1])
    with pytest.raises(ValueError, match="the model has"):
        L.loss_on_line(m, t[:-1], t[:-1], [0.0], X, y)


# -------------------------------------------------------------------------------- barrier


def test_barrier_of_linear_and_convex_is_zero():
    ts = np.linspace(0, 1, 11)
    assert abs(L.loss_barrier(ts, 2.0 - ts)) < 1e-15
    assert L.loss_barrier(ts, (ts - 0.3) ** 2) < 1e-15
    assert L.loss_barrier(ts, (ts - 0.3) ** 2) >= 0.0


def test_barrier_of_a_known_bump():
    ts = np.linspace(0, 1, 21)
    losses = 1.0 + ts + 0.7 * np.sin(np.pi * ts)  # chord 1 + t, bump height 0.7 at t = 0.5
    assert L.loss_barrier(ts, losses) == pytest.approx(0.7, rel=1e-12)
    # against min(L0, L1) it would be 1.2; against the mean of the ends 0.7 + 0 only by luck
    assert L.loss_barrier(ts, losses + 5 * ts) == pytest.approx(0.7, rel=1e-12)


def test_barrier_chord_joins_first_and_last_sample():
    ts = np.array([-1.0, 0.0, 2.0])
    assert L.loss_barrier(ts, [0.0, 2.0, 3.0]) == pytest.approx(1.0)


def test_barrier_nan_and_errors():
    assert np.isnan(L.loss_barrier([0, 0.5, 1], [0.0, np.nan, 0.0]))
    with pytest.raises(ValueError, match="loss_barrier"):
        L.loss_barrier([0, 1], [0, 1, 2])
    with pytest.raises(ValueError, match="at least 2"):
        L.loss_barrier([0.0], [1.0])
    with pytest.raises(ValueError, match="increasing"):
        L.loss_barrier([0, 1, 0.5], [0, 1, 2])


# -------------------------------------------------------------------- random directions


def test_filter_normalised_rows_have_theta_row_norms_and_zero_biases():
    m = mlp((6, 5, 4))
    d = L.random_direction(m, np.random.default_rng(0))
    parts = np.split(d, np.cumsum([p.data.size for p in m.parameters()])[:-1])
    for p, part in zip(m.parameters(), parts, strict=True):
        part = part.reshape(p.data.shape)
        if p.data.ndim == 2:
            np.testing.assert_allclose(
                np.linalg.norm(part, axis=1), np.linalg.norm(p.data, axis=1), rtol=1e-12
            )
        else:
            assert np.all(part == 0)


def test_direction_is_seeded_and_raw_shares_the_draw():
    m = mlp()
    d1 = L.random_direction(m, 3)
    np.testing.assert_array_equal(d1, L.random_direction(m, np.random.default_rng(3)))
    assert not np.array_equal(d1, L.random_direction(m, 4))
    raw = L.random_direction(m, 3, filter_normalize=False)
    g = np.random.default_rng(3).standard_normal(d1.size)
    np.testing.assert_allclose(raw, g * np.linalg.norm(d1) / np.linalg.norm(g), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(raw), np.linalg.norm(d1), rtol=1e-12)


def test_direction_zero_filter_and_conv_filters():
    m = mlp()
    first = next(iter(m.parameters()))
    first.data[2] = 0.0
    d = L.random_direction(m, 0)
    assert np.all(d[10:15] == 0) and np.isfinite(d).all()
    conv = nn.Conv2d(2, 3, 3, rng=0)
    d = L.random_direction(conv, 1)
    k = d[:54].reshape(3, 2, 3, 3)
    np.testing.assert_allclose(
        np.sqrt((k**2).sum(axis=(1, 2, 3))),
        np.sqrt((conv.weight.data**2).sum(axis=(1, 2, 3))),
        rtol=1e-12,
    )


# ---------------------------------------------------------------------------------- plane


def test_plane_centre_axes_and_restore():
    m = mlp()
    X, y = data()
    theta = L.flatten_params(m)
    d1, d2 = L.random_direction(m, 0), L.random_direction(m, 1)
    alphas, betas = np.array([-0.5, 0.0, 0.5]), np.array([-1.0, 0.0, 0.5, 1.0])
    grid = L.loss_plane(m, theta, d1, d2, alphas, betas, X, y)
    assert grid.shape == (3, 4)
    assert grid[1, 1] == pytest.approx(loss_at(m, theta, X, y), rel=1e-13)
    np.testing.assert_allclose(
        grid[:, 1], L.loss_on_line(m, theta, theta + d1, alphas, X, y), rtol=1e-12
    )
    assert grid[0, 3] == pytest.approx(loss_at(m, theta - 0.5 * d1 + d2, X, y), rel=1e-12)
    np.testing.assert_array_equal(L.flatten_params(m), theta)
    with pytest.raises(ValueError, match="loss_plane"):
        L.loss_plane(m, theta, d1, d2[:-1], alphas, betas, X, y)


# ------------------------------------------------------------------------------ rescaling


def logits(sizes, params, X):
    net = nn.MLP(list(sizes), rng=0)
    L.load_flat_params(net, np.concatenate([np.ravel(p) for p in params]))
    with no_grad():
        return net(Tensor(X)).data


@pytest.mark.parametrize("alpha", [4.0, 0.25, "per-unit"])
def test_rescaling_leaves_the_logits_unchanged(alpha):
    sizes = (5, 4, 6, 3)
    m = mlp(sizes)
    X, _ = data()
    params = [p.data.copy() for p in m.parameters()]
    if alpha == "per-unit":
        alpha = np.array([0.5, 2.0, 3.0, 0.1, 7.0, 1.0])
        layer = 1
    else:
        layer = 0
    new = L.rescale_hidden(params, layer, alpha)
    np.testing.assert_allclose(logits(sizes, new, X), logits(sizes, params, X), atol=1e-12)
    assert not np.allclose(new[2 * layer], params[2 * layer])
    np.testing.assert_array_equal(new[2 * layer + 3], params[2 * layer + 3])  # next bias
    for p, q in zip(params, (p.data for p in m.parameters()), strict=True):
        np.testing.assert_array_equal(p, q)  # inputs untouched


def test_rescaling_per_unit_scales_rows_then_columns():
    params = [np.ones((2, 3)), np.ones(2), np.ones((4, 2)), np.ones(4)]
    new = L.rescale_hidden(params, 0, np.array([2.0, 5.0]))
    np.testing.assert_array_equal(new[0], [[2, 2, 2], [5, 5, 5]])
    np.testing.assert_array_equal(new[1], [2, 5])
    np.testing.assert_array_equal(new[2], np.tile([0.5, 0.2], (4, 1)))


@pytest.mark.parametrize("alpha", [0.0, -2.0, np.nan, np.inf, np.array([1.0, -1.0])])
def test_rescaling_rejects_non_positive_alpha(alpha):
    params = [p.data for p in mlp((3, 2, 2)).parameters()]
    with pytest.raises(ValueError, match="rescale_hidden"):
        L.rescale_hidden(params, 0, alpha)


def test_rescaling_rejects_bad_layer_and_params():
    params = [p.data for p in mlp((3, 2, 2)).parameters()]
    with pytest.raises(ValueError, match="not a hidden layer"):
        L.rescale_hidden(params, 1, 2.0)
    with pytest.raises(ValueError, match="W_0, b_0"):
        L.rescale_hidden(params[:3], 0, 2.0)
    with pytest.raises(ValueError, match="one factor per unit"):
        L.rescale_hidden(params, 0, np.ones(3))


def test_filter_normalised_curves_do_not_see_the_rescaling():
    """The rescaled network's filter-normalised line has the very same losses; a raw one not."""
    sizes = (5, 8, 3)
    m = mlp(sizes)
    X, y = data()
    params = [p.data.copy() for p in m.parameters()]
    scaled = nn.MLP(list(sizes), rng=0)
    L.load_flat_params(scaled, np.concatenate([p.ravel() for p in L.rescale_hidden(params, 0, 4)]))
    ts = np.linspace(-1, 1, 5)
    curves = []
    for net in (m, scaled):
        theta = L.flatten_params(net)
        d = L.random_direction(net, 7)
        curves.append(L.loss_on_line(net, theta, theta + d, ts, X, y))
    np.testing.assert_allclose(curves[0], curves[1], rtol=1e-12)
    raw = L.random_direction(m, 7, filter_normalize=False)
    raw_curves = [
        L.loss_on_line(net, L.flatten_params(net), L.flatten_params(net) + raw, ts, X, y)
        for net in (m, scaled)
    ]
    assert np.abs(raw_curves[0] - raw_curves[1]).max() > 1e-3
