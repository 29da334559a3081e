"""Visible checks of lesson 09, "The loss surface over weight space".

In the lesson::

    from nnlite.checks import lesson
    check = lesson("09_weight_space_landscape")
    ...
    check("line", interpolate, loss_on_line)          # feedback after the exercise
    interpolate, loss_on_line = check.use(             # the rest of the chapter runs
        "line", interpolate, loss_on_line,
        fallback=(landscape.interpolate, landscape.loss_on_line))

The checks are smoke tests of each exercise's contract on tiny networks (shapes, order, an easy
value, an edge case), compared with :mod:`nnlite.landscape`; they never show the answer. The
hidden graders in ``tests/graders/test_09_weight_space_landscape.py`` do the real testing. Every
exercise falls back to its twin in :mod:`nnlite.landscape`.
"""

from __future__ import annotations

import numpy as np

from nnlite import landscape, nn
from nnlite.checks import visible

LESSON = "09_weight_space_landscape"


def _mlp(sizes=(4, 3, 2), seed=0) -> nn.MLP:
    return nn.MLP(list(sizes), rng=seed)


def _data(n=12, d=4, c=2, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, c, size=n)


def _close(got, want, what: str, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what} has shape {got.shape}, expected {want.shape}"
    assert np.all(np.isfinite(got)), f"{what} contains NaN or inf"
    assert np.allclose(got, want, rtol=rtol, atol=atol), f"{what}: values differ from the expected"


# --------------------------------------------------------------------------------- flat_params


@visible("flat_params", hint="Concatenate p.data.ravel() over model.parameters(), in that order.")
def flatten_order(flatten_params, load_flat_params):
    """flatten_params gives a (P,) vector in parameters() order"""
    m = _mlp()
    theta = flatten_params(m)
    _close(theta, landscape.flatten_params(m), "flatten_params(MLP([4, 3, 2]))", rtol=0, atol=0)
    theta[...] = 0.0
    assert np.abs(landscape.flatten_params(m)).sum() > 0, "changing the vector changed the model"


@visible("flat_params", hint="Write with p.data[...] = piece.reshape(p.data.shape), in order.")
def load_round_trip(flatten_params, load_flat_params):
    """load_flat_params writes into the same parameters, and the round trip is exact"""
    a, b = _mlp(seed=0), _mlp(seed=1)
    before = list(a.parameters())
    vec = landscape.flatten_params(b)
    out = load_flat_params(a, vec)
    assert out is None, "load_flat_params should return None"
    assert all(p is q for p, q in zip(a.parameters(), before, strict=True)), (
        "the model's Parameter objects were replaced: write into p.data instead"
    )
    _close(landscape.flatten_params(a), vec, "the parameters after loading", rtol=0, atol=0)
    vec[...] = 7.0
    assert not np.any(landscape.flatten_params(a) == 7.0), "the model shares memory with vec"


@visible("flat_params", hint="Compare vec.shape with (P,) and raise ValueError naming both.")
def load_wrong_length(flatten_params, load_flat_params):
    """a vector of the wrong length raises ValueError"""
    m = _mlp()
    P = landscape.flatten_params(m).size
    for bad in (np.zeros(P - 1), np.zeros(P + 1)):
        try:
            load_flat_params(m, bad)
        except ValueError:
            continue
        raise AssertionError(f"no ValueError for a vector of length {bad.size} (P = {P})")


# ----------------------------------------------------------------------------------------- line


@visible("line", hint="(1 - t) * theta_a + t * theta_b, as a new array.")
def interpolate_values(interpolate, loss_on_line):
    """interpolate gives the ends exactly and the midpoint"""
    a, b = np.array([1.0, -2.0, 0.1]), np.array([3.0, 5.0, 0.7])
    assert np.array_equal(interpolate(a, b, 0.0), a), "t = 0 should give theta_a exactly"
    assert np.array_equal(interpolate(a, b, 1.0), b), "t = 1 should give theta_b exactly"
    _close(interpolate(a, b, 0.5), (a + b) / 2, "interpolate(a, b, 0.5)")
    _close(interpolate(a, b, 2.0), 2 * b - a, "interpolate(a, b, 2.0)")


@visible(
    "line",
    hint="For each t: load_flat_params, then cross_entropy(model(Tensor(X)), y) under no_grad; "
    "put the saved parameters back at the end.",
)
def loss_on_line_values(interpolate, loss_on_line):
    """loss_on_line matches the loss at each point and restores the model"""
    a, b = _mlp(seed=0), _mlp(seed=1)
    X, y = _data()
    ta, tb = landscape.flatten_params(a), landscape.flatten_params(b)
    ts = np.array([0.0, 0.25, 1.0, 1.5])
    got = loss_on_line(a, ta, tb, ts, X, y)
    _close(got, landscape.loss_on_line(a, ta, tb, ts, X, y), "loss_on_line(...)")
    assert np.array_equal(landscape.flatten_params(a), ta), (
        "the model's parameters were not put back after loss_on_line"
    )


# --------------------------------------------------------------------------------- loss_barrier


@visible("loss_barrier", hint="The chord is (1 - t) L(0) + t L(1): the line through both ends.")
def barrier_values(loss_barrier):
    """a bump of height 0.5 above a sloped chord gives 0.5; a straight line gives 0"""
    ts = np.linspace(0, 1, 11)
    assert abs(loss_barrier(ts, 3.0 - 2.0 * ts)) < 1e-12, "a straight line has barrier 0"
    bump = 1.0 + 2.0 * ts + 0.5 * np.sin(np.pi * ts)
    got = loss_barrier(ts, bump)
    assert isinstance(got, float), f"return a Python float, got {type(got).__name__}"
    assert abs(got - 0.5) < 1e-12, (
        f"barrier of 1 + 2t + 0.5 sin(pi t) is {got!r}, expected 0.5 (measured against the chord)"
    )


@visible("loss_barrier", hint="The ends lie on the chord, so the barrier of a convex curve is 0.")
def barrier_convex(loss_barrier):
    """a convex curve has barrier 0"""
    ts = np.linspace(0, 1, 21)
    got = loss_barrier(ts, (ts - 0.8) ** 2)
    assert abs(got) < 1e-12, f"barrier of (t - 0.8)^2 is {got!r}, expected 0"


# ----------------------------------------------------------------------------- random_direction


@visible(
    "random_direction",
    hint="Per row i of each weight matrix: g_i * ||theta_i|| / ||g_i||; biases 0.",
)
def direction_row_norms(random_direction):
    """filter-normalised rows have the weights' row norms, biases are 0"""
    m = _mlp((5, 4, 3))
    d = random_direction(m, 0)
    want = landscape.random_direction(m, 0)
    assert np.shape(d) == want.shape, f"shape {np.shape(d)}, expected {want.shape}"
    W1, b1 = (p.data for p in list(m.parameters())[:2])
    rows = np.asarray(d)[: W1.size].reshape(W1.shape)
    _close(np.linalg.norm(rows, axis=1), np.linalg.norm(W1, axis=1), "row norms of the W1 part")
    assert not np.any(np.asarray(d)[W1.size : W1.size + b1.size]), "the bias part should be 0"
    _close(d, want, "random_direction(model, 0)")


@visible(
    "random_direction",
    hint="filter_normalize=False: the same draw g, times ||filter-normalised d|| / ||g||.",
)
def direction_raw(random_direction):
    """the raw direction is the same draw, as long as the filter-normalised one"""
    m = _mlp((5, 4, 3))
    raw = random_direction(m, 2, filter_normalize=False)
    _close(raw, landscape.random_direction(m, 2, filter_normalize=False), "the raw direction")


# ------------------------------------------------------------------------------- rescale_hidden


@visible("rescale_hidden", hint="W_l and b_l times alpha, W_{l+1} divided by alpha; b_{l+1} kept.")
def rescale_keeps_function(rescale_hidden):
    """rescaling by 3 changes the weights but not the logits"""
    m = _mlp((4, 5, 3))
    X, _ = _data(d=4)
    params = [p.data.copy() for p in m.parameters()]
    new = rescale_hidden(params, 0, 3.0)
    assert len(new) == 4, f"returned {len(new)} arrays, expected 4"
    _close(new[0], 3.0 * params[0], "W_0 after rescaling")
    twin = _mlp((4, 5, 3))
    landscape.load_flat_params(twin, np.concatenate([np.ravel(p) for p in new]))
    from nnlite import Tensor, no_grad

    with no_grad():
        _close(twin(Tensor(X)).data, m(Tensor(X)).data, "logits of the rescaled network")
    for p, q in zip(params, m.parameters(), strict=True):
        assert np.array_equal(p, q.data), "the input arrays were modified"


@visible("rescale_hidden", hint="One factor per unit: rows of W_l, columns of W_{l+1}.")
def rescale_per_unit(rescale_hidden):
    """one factor per unit scales rows of W_0 and columns of W_1"""
    params = [np.ones((2, 3)), np.ones(2), np.ones((4, 2)), np.ones(4)]
    new = rescale_hidden(params, 0, np.array([2.0, 5.0]))
    _close(new[2], np.tile([0.5, 0.2], (4, 1)), "W_1 after per-unit rescaling")


@visible(
    "rescale_hidden", hint="alpha <= 0 breaks relu(alpha z) = alpha relu(z): raise ValueError."
)
def rescale_rejects(rescale_hidden):
    """alpha <= 0 raises ValueError"""
    params = [np.ones((2, 3)), np.ones(2), np.ones((4, 2)), np.ones(4)]
    for bad in (0.0, -1.0):
        try:
            with np.errstate(all="ignore"):
                rescale_hidden(params, 0, bad)
        except ValueError:
            continue
        raise AssertionError(f"no ValueError for alpha = {bad}")
