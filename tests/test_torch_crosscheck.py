"""nnlite against PyTorch: forward values, dtypes and gradients of every op (the table in
``tests/strategies.py``, plus fixed cases), conv2d, pooling, losses, and SGD/Adam trajectories,
all in float64 to 1e-10. ``tests/test_torch_fuzz.py`` composes the same ops at random."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import (
    NN,
    OPS,
    OPS_BY_NAME,
    SHAPES,
    broadcast_partner,
    op_inputs,
    sample,
    torch_namespace,
)

import nnlite
from nnlite import Tensor, nn, optim
from nnlite import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
TT = torch_namespace()

pytestmark = pytest.mark.torch
TOL = 1e-10


def _inputs(shapes, seed, low=None, away_from=None):
    """Random float64 arrays; ``low`` keeps them positive, ``away_from`` keeps |x - v| > 0.1."""
    rng = np.random.default_rng(seed)
    out = []
    for shape in shapes:
        a = rng.uniform(0.2, 2.0, size=shape) if low == "positive" else rng.normal(size=shape)
        if away_from is not None:
            a = np.where(np.abs(a - away_from) < 0.1, away_from + 0.5, a)
        out.append(a)
    return out


def compare(nn_fn, torch_fn, arrays, seed=0, tol=TOL):
    """Same function in both libraries: outputs equal, gradients (for a random upstream
    gradient) equal and of each input's shape."""
    xs = [Tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = nn_fn(*xs)
    tout = torch_fn(*ts)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=tol, atol=tol)
    assert out.data.shape == tuple(tout.shape)
    assert out.dtype == tout.detach().numpy().dtype
    G = np.random.default_rng(seed + 1000).normal(size=out.data.shape).astype(out.dtype)
    out.backward(G)
    tout.backward(torch.tensor(G))
    for i, (x, t) in enumerate(zip(xs, ts, strict=True)):
        expected = np.zeros(x.shape) if t.grad is None else t.grad.numpy()
        got = np.zeros(x.shape) if x.grad is None else x.grad
        assert got.shape == x.shape, f"input {i}: grad shape {got.shape} != {x.shape}"
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol, err_msg=f"input {i}")


PAIRS = [
    ((3, 1), (1, 4)),
    ((2, 3), (3,)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((4, 1, 3), (2, 1)),
    ((5,), (5,)),
    ((0, 3), (3,)),
]
BROADCASTING = sorted(op.name for op in OPS if op.more is broadcast_partner)


def _table_inputs(op, shapes, seed):
    rng = np.random.default_rng(seed)
    domains = (op.domains + ("any",) * len(shapes))[: len(shapes)]
    return [sample(d, shape, rng) for shape, d in zip(shapes, domains, strict=True)]


def _compare_op(op, arrays, params, tol=TOL):
    compare(
        lambda *xs: op.fn(NN, *xs, **params), lambda *ts: op.fn(TT, *ts, **params), arrays, tol=tol
    )


@pytest.mark.parametrize("name", BROADCASTING)
@pytest.mark.parametrize("shapes", PAIRS, ids=str)
def test_binary_broadcasting(name, shapes):
    op = OPS_BY_NAME[name]
    _compare_op(op, _table_inputs(op, shapes, 1), {})


@pytest.mark.parametrize("name", sorted(OPS_BY_NAME))
@settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.large_base_example],
)
@given(data=st.data(), seed=st.integers(0, 2**31 - 1))
def test_every_op_in_the_table(name, data, seed):
    """Each op of tests/strategies.py alone, float64, shapes with 0-d and empty axes."""
    op = OPS_BY_NAME[name]
    shapes, params = data.draw(op_inputs(op, SHAPES), label="shapes, params")
    loose = params.get("dtype") is np.float32  # astype to float32
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about var with no degrees of freedom
        _compare_op(op, _table_inputs(op, shapes, seed), params, tol=1e-6 if loose else TOL)


def test_pow_tensor_exponent_and_reflected_constants():
    a, b = _inputs([(3, 4), (4,)], 2, low="positive")
    compare(lambda x, y: x**y, lambda x, y: x**y, [a, b])
    (a,) = _inputs([(3, 4)], 3, low="positive")
    compare(lambda x: 2.0 - x, lambda x: 2.0 - x, [a])
    compare(lambda x: 2.0 / x, lambda x: 2.0 / x, [a])
    compare(lambda x: 2.0**x, lambda x: 2.0**x, [a])
    compare(lambda x: x**3, lambda x: x**3, [a])
    compare(lambda x: x**0.5, lambda x: x**0.5, [a])
    compare(lambda x: x**-2, lambda x: x**-2, [a])
    compare(lambda x: -x, lambda x: -x, [a])


def test_pow_edge_cases_at_zero():
    a = np.array([0.0, 1.0, 2.0, 0.0])
    b = np.array([0.0, 1.0, 2.0, 2.0])
    compare(lambda x, y: x**y, lambda x, y: x**y, [a, b])
    compare(lambda x: x**0, lambda x: x**0, [np.array([0.0, -1.0, 2.0])])


@pytest.mark.parametrize(
    "shapes",
    [
        ((2, 3), (3, 4)),
        ((3,), (3, 4)),
        ((2, 3), (3,)),
        ((3,), (3,)),
        ((5, 2, 3), (3, 4)),
        ((2, 3), (5, 3, 4)),
        ((5, 2, 3), (5, 3, 4)),
        ((1, 2, 3), (5, 3, 4)),
        ((3,), (5, 3, 4)),
        ((5, 2, 3), (3,)),
    ],
    ids=str,
)
def test_matmul(shapes):
    compare(lambda a, b: a @ b, lambda a, b: a @ b, _inputs(shapes, 4))


def test_relu_abs_at_zero_and_clip_at_bounds():
    x = np.array([-1.0, 0.0, 0.0, 2.0, -0.5, 0.7])
    compare(lambda t: t.relu(), torch.relu, [x])
    compare(lambda t: t.abs(), torch.abs, [x])
    compare(lambda t: t.clip(-0.5, 0.7), lambda t: t.clamp(-0.5, 0.7), [x])
    compare(lambda t: nnlite.maximum(t, 0.0), lambda t: torch.maximum(t, torch.zeros(())), [x])


def test_sigmoid_extreme_values():
    x = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    compare(lambda t: t.sigmoid(), torch.sigmoid, [x])


@pytest.mark.parametrize("axis", [0, 1, -1, (0, 2), None])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_with_axis(axis, keepdims):
    (a,) = _inputs([(3, 4, 2)], 6)
    dim = tuple(range(3)) if axis is None else axis
    compare(lambda x: x.sum(axis, keepdims), lambda x: x.sum(dim=dim, keepdim=keepdims), [a])
    compare(lambda x: x.mean(axis, keepdims), lambda x: x.mean(dim=dim, keepdim=keepdims), [a])
    n = a.size // np.sum(a, axis=axis, keepdims=True).size
    for c in (0, 1, 2):
        if c >= n:  # no degrees of freedom left: torch warns, both give inf/nan
            continue
        compare(
            lambda x, c=c: x.var(axis, correction=c, keepdims=keepdims),
            lambda x, c=c: torch.var(x, dim=dim, correction=c, keepdim=keepdims),
            [a],
        )
    compare(
        lambda x: x.std(axis, keepdims=keepdims, unbiased=False),
        lambda x: torch.std(x, dim=dim, unbiased=False, keepdim=keepdims),
        [a],
    )


def test_max_min_full_reduction_splits_ties_like_torch():
    a = np.array([[1.0, 3.0, 3.0], [2.0, 3.0, 0.0]])
    compare(lambda x: x.max(), lambda x: x.max(), [a])
    compare(lambda x: x.min(), lambda x: x.min(), [-a])
    (r,) = _inputs([(4, 5)], 7)
    compare(lambda x: x.max(), lambda x: x.max(), [r])


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_max_min_along_axis_send_tie_gradient_to_first_index_like_torch(axis, keepdims):
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0], [2.0, 3.0, 3.0]])
    compare(lambda x: x.max(axis, keepdims), lambda x: x.max(dim=axis, keepdim=keepdims)[0], [a])
    compare(lambda x: x.min(axis, keepdims), lambda x: x.min(dim=axis, keepdim=keepdims)[0], [-a])


def test_shape_ops():
    (a,) = _inputs([(2, 3, 4)], 8)
    compare(lambda x: x.reshape(4, 6), lambda x: x.reshape(4, 6), [a])
    compare(lambda x: x.reshape(-1), lambda x: x.reshape(-1), [a])
    compare(lambda x: x.transpose(0, 2), lambda x: x.transpose(0, 2), [a])
    compare(lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1), [a])
    compare(lambda x: x.flatten(1), lambda x: x.flatten(1), [a])
    compare(lambda x: x.unsqueeze(1), lambda x: x.unsqueeze(1), [a])
    (b,) = _inputs([(3, 5)], 9)
    compare(lambda x: x.T, lambda x: x.T, [b])
    compare(lambda x: x.transpose(), lambda x: x.T, [b])


@pytest.mark.parametrize(
    "index",
    [
        (slice(1, 3),),
        (slice(None), 2),
        (Ellipsis, slice(None, None, 2)),
        (np.array([0, 2, 2, 0]),),
        (np.array([0, 1, 1]), np.array([2, 0, 0])),
        (slice(None), np.array([3, 3, 1])),
        (1, -1),
    ],
    ids=str,
)
def test_getitem(index):
    (a,) = _inputs([(3, 4)], 10)
    tindex = tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i for i in index)
    compare(lambda x: x[index], lambda x: x[tindex], [a])


def test_getitem_boolean_mask():
    (a,) = _inputs([(3, 4)], 11)
    mask = a > 0
    compare(lambda x: x[mask], lambda x: x[torch.tensor(mask)], [a])


def test_join_and_pad():
    a, b, c = _inputs([(2, 3), (4, 3), (2, 3)], 12)
    compare(lambda x, y: nnlite.concatenate([x, y]), lambda x, y: torch.cat([x, y]), [a, b])
    (d,) = _inputs([(2, 5)], 13)
    compare(lambda x, y: nnlite.cat([x, y], axis=1), lambda x, y: torch.cat([x, y], 1), [a, d])
    compare(lambda x, y: nnlite.stack([x, y]), lambda x, y: torch.stack([x, y]), [a, c])
    compare(lambda x, y: nnlite.stack([x, y], axis=2), lambda x, y: torch.stack([x, y], 2), [a, c])
    # torch's pad lists (left, right) of the last axis first
    compare(
        lambda x: nnlite.pad(x, ((1, 2), (0, 3)), value=0.5),
        lambda x: TF.pad(x, (0, 3, 1, 2), value=0.5),
        [a],
    )


def test_where():
    a, b = _inputs([(3, 4), (4,)], 13)
    cond = a > 0
    compare(
        lambda x, y: nnlite.where(cond, x, y),
        lambda x, y: torch.where(torch.tensor(cond), x, y),
        [a, b],
    )


# -- functional ---------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_and_nll(reduction):
    (z,) = _inputs([(6, 5)], 14)
    t = np.array([0, 4, 2, 2, 1, 3])
    tt = torch.tensor(t)
    compare(
        lambda x: F.cross_entropy(x, t, reduction),
        lambda x: TF.cross_entropy(x, tt, reduction=reduction),
        [z],
    )
    compare(
        lambda x: F.nll_loss(F.log_softmax(x), t, reduction),
        lambda x: TF.nll_loss(TF.log_softmax(x, -1), tt, reduction=reduction),
        [z],
    )


def test_cross_entropy_other_shapes_and_extreme_logits():
    (z,) = _inputs([(5,)], 15)
    compare(
        lambda x: F.cross_entropy(x, np.array(3)),
        lambda x: TF.cross_entropy(x, torch.tensor(3)),
        [z],
    )
    (z,) = _inputs([(2, 4, 3, 3)], 16)
    t = np.random.default_rng(0).integers(0, 4, size=(2, 3, 3))
    for red in ("mean", "none"):
        compare(
            lambda x, red=red: F.cross_entropy(x, t, red),
            lambda x, red=red: TF.cross_entropy(x, torch.tensor(t), reduction=red),
            [z],
        )
    big = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -999.0, 1000.0]])
    t = np.array([1, 2])
    compare(lambda x: F.cross_entropy(x, t), lambda x: TF.cross_entropy(x, torch.tensor(t)), [big])
    compare(F.log_softmax, lambda x: TF.log_softmax(x, -1), [big])
    compare(F.softmax, lambda x: TF.softmax(x, -1), [big])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss(reduction):
    a, b = _inputs([(4, 3), (4, 3)], 17)
    compare(
        lambda x, y: F.mse_loss(x, y, reduction),
        lambda x, y: TF.mse_loss(x, y, reduction=reduction),
        [a, b],
    )


@pytest.mark.parametrize("xshape", [(5, 4), (4,), (2, 5, 4)], ids=str)
def test_linear(xshape):
    x, w, b = _inputs([xshape, (3, 4), (3,)], 18)
    compare(F.linear, TF.linear, [x, w, b])
    compare(F.linear, TF.linear, [x, w])


@pytest.mark.parametrize(
    "xshape,wshape,stride,padding",
    [
        ((2, 1, 7, 7), (4, 1, 3, 3), 1, 0),
        ((2, 3, 8, 7), (5, 3, 3, 2), 2, 1),
        ((1, 2, 9, 9), (3, 2, 5, 5), 1, 2),
        ((3, 2, 6, 8), (2, 2, 2, 3), (2, 1), (0, 2)),
        ((2, 3, 5, 5), (4, 3, 1, 1), 3, 0),
    ],
    ids=str,
)
def test_conv2d(xshape, wshape, stride, padding):
    x, w, b = _inputs([xshape, wshape, wshape[:1]], 19)
    compare(
        lambda *a: F.conv2d(*a, stride=stride, padding=padding),
        lambda *a: TF.conv2d(*a, stride=stride, padding=padding),
        [x, w, b],
    )
    compare(
        lambda *a: F.conv2d(*a, stride=stride, padding=padding),
        lambda *a: TF.conv2d(*a, stride=stride, padding=padding),
        [x, w],
    )


@pytest.mark.parametrize(
    "shape,kernel,stride,padding",
    [
        ((2, 3, 8, 8), 2, None, 0),
        ((2, 2, 7, 9), 3, 2, 1),
        ((1, 2, 6, 6), (2, 3), (1, 2), 0),
        ((1, 1, 5, 5), 3, 1, 1),
    ],
    ids=str,
)
def test_pooling(shape, kernel, stride, padding):
    (x,) = _inputs([shape], 20)
    compare(
        lambda a: F.max_pool2d(a, kernel, stride, padding),
        lambda a: TF.max_pool2d(a, kernel, stride, padding),
        [x],
    )
    compare(
        lambda a: F.avg_pool2d(a, kernel, stride, padding),
        lambda a: TF.avg_pool2d(a, kernel, stride, padding),
        [x],
    )


def test_max_pool_ties_go_to_the_first_element_like_torch():
    x = np.ones((1, 1, 4, 4))
    x[0, 0, 2:, 2:] = 2.0
    compare(lambda a: F.max_pool2d(a, 2), lambda a: TF.max_pool2d(a, 2), [x])
    compare(lambda a: F.max_pool2d(a, 2, 1), lambda a: TF.max_pool2d(a, 2, 1), [x])


def test_small_cnn_end_to_end():
    x, w1, b1, w2, b2 = _inputs([(2, 1, 10, 10), (3, 1, 3, 3), (3,), (4, 48), (4,)], 21)
    t = np.array([1, 3])

    def nn_net(x, w1, b1, w2, b2):
        h = F.max_pool2d(F.conv2d(x, w1, b1, padding=1).relu(), 2)
        h = F.avg_pool2d(h, 2, 1)
        return F.cross_entropy(F.linear(h.flatten(1), w2, b2), t)

    def torch_net(x, w1, b1, w2, b2):
        h = TF.max_pool2d(TF.conv2d(x, w1, b1, padding=1).relu(), 2)
        h = TF.avg_pool2d(h, 2, 1)
        return TF.cross_entropy(TF.linear(h.flatten(1), w2, b2), torch.tensor(t))

    compare(nn_net, torch_net, [x, w1, b1, w2, b2])


# -- modules and optimizers ---------------------------------------------------------------------


def _torch_mlp_like(model: nn.MLP):
    layers = []
    for m in model:
        if isinstance(m, nn.Linear):
            lin = torch.nn.Linear(m.in_features, m.out_features, dtype=torch.float64)
            with torch.no_grad():
                lin.weight.copy_(torch.tensor(m.weight.data))
                lin.bias.copy_(torch.tensor(m.bias.data))
            layers.append(lin)
        else:
            layers.append({"ReLU": torch.nn.ReLU, "Tanh": torch.nn.Tanh}[type(m).__name__]())
    return torch.nn.Sequential(*layers)


def _trajectories(make_opt, make_torch_opt, steps=10, activation="tanh"):
    rng = np.random.default_rng(22)
    X = rng.normal(size=(16, 5))
    y = rng.integers(0, 3, size=16)
    model = nn.MLP([5, 7, 3], activation=activation, seed=3)
    tmodel = _torch_mlp_like(model)
    opt = make_opt(list(model.parameters()))
    topt = make_torch_opt(tmodel.parameters())
    for step in range(steps):
        xb, yb = X[step % 2 :: 2], y[step % 2 :: 2]  # alternate two batches
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
        topt.zero_grad()
        TF.cross_entropy(tmodel(torch.tensor(xb)), torch.tensor(yb)).backward()
        topt.step()
        for p, tp in zip(model.parameters(), tmodel.parameters(), strict=True):
            np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=TOL, atol=TOL)
    return model


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"momentum": 0.9},
        {"momentum": 0.9, "weight_decay": 0.01},
        {"momentum": 0.8, "nesterov": True},
        {"momentum": 0.9, "nesterov": True, "weight_decay": 0.05},
        {"momentum": 0.5, "dampening": 0.3},
        {"weight_decay": 0.1},
    ],
    ids=str,
)
def test_sgd_trajectory_matches_torch(kwargs):
    _trajectories(
        lambda p: optim.SGD(p, lr=0.1, **kwargs), lambda p: torch.optim.SGD(p, lr=0.1, **kwargs)
    )


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"weight_decay": 0.01}, {"betas": (0.8, 0.99), "eps": 1e-6}, {"lr": 0.05}],
    ids=str,
)
def test_adam_trajectory_matches_torch(kwargs):
    kw = {"lr": 0.01, **kwargs}
    _trajectories(lambda p: optim.Adam(p, **kw), lambda p: torch.optim.Adam(p, **kw))


def test_sgd_skips_parameters_without_grad_like_torch():
    a = nn.Parameter(np.ones(3))
    b = nn.Parameter(np.ones(3))
    ta = torch.ones(3, dtype=torch.float64, requires_grad=True)
    tb = torch.ones(3, dtype=torch.float64, requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    topt = torch.optim.SGD([ta, tb], lr=0.1, momentum=0.9)
    for step in range(4):
        opt.zero_grad()
        topt.zero_grad()
        if step % 2:
            (a * a).sum().backward()
            (ta * ta).sum().backward()
        else:
            (a * b * 3).sum().backward()
            (ta * tb * 3).sum().backward()
        opt.step()
        topt.step()
    np.testing.assert_allclose(a.data, ta.detach().numpy(), rtol=TOL)
    np.testing.assert_allclose(b.data, tb.detach().numpy(), rtol=TOL)


def test_linear_and_conv_init_bounds_match_torch_rule():
    lin = nn.Linear(50, 20, seed=0)
    tl = torch.nn.Linear(50, 20)
    bound = 1 / np.sqrt(50)
    assert np.abs(lin.weight.data).max() <= bound
    assert float(tl.weight.detach().abs().max()) <= bound
    conv = nn.Conv2d(3, 4, 5, seed=0)
    assert conv.weight.shape == tuple(torch.nn.Conv2d(3, 4, 5).weight.shape)
    assert np.abs(conv.weight.data).max() <= 1 / np.sqrt(75)


# -- Issue 8 regressions against live torch ----------------------------------------------------


@pytest.mark.parametrize("dims", [(0, 1), (-2, -1), (0, -1), (1, 1), (0, 0)], ids=str)
def test_transpose_two_axes_on_2d(dims):
    (a,) = _inputs([(2, 3)], 30)
    compare(lambda x: x.transpose(*dims), lambda x: x.transpose(*dims), [a])


def test_std_where_the_spread_is_zero():
    compare(lambda x: x.std(), torch.std, [np.array([2.0, 2.0, 2.0])])
    a = np.array([[2.0], [3.0]])
    compare(lambda x: x.std(1, correction=0), lambda x: x.std(1, correction=0), [a])


@pytest.mark.parametrize(
    "fn",
    [
        # torch.maximum takes no Python scalar: torch gets the scalar as a 0-d float64 tensor
        lambda lib, x, s: lib.maximum(x, s if lib is nnlite else torch.as_tensor(s).double()),
        lambda lib, x, s: lib.minimum(s if lib is nnlite else torch.as_tensor(s).double(), x),
        lambda lib, x, s: lib.where(x > 0, x, s),
        lambda lib, x, s: x * s,
        lambda lib, x, s: s - x,
        lambda lib, x, s: x**s,
    ],
)
def test_result_dtype_of_float32_with_a_0d_float64(fn):
    x32 = np.linspace(0.5, 2, 4, dtype=np.float32)
    for s in (2.0, np.array(2.0)):  # a Python scalar, a 0-d float64 tensor
        ours = fn(nnlite, Tensor(x32), s if isinstance(s, float) else Tensor(s))
        theirs = fn(torch, torch.tensor(x32), s if isinstance(s, float) else torch.tensor(s))
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")


def test_empty_axes():
    z = np.zeros((0, 10))
    compare(lambda x: x.max(axis=1), lambda x: x.max(dim=1)[0], [z])
    compare(lambda x: F.softmax(x, 0), lambda x: TF.softmax(x, 0), [z])
    compare(lambda x: F.log_softmax(x, 0), lambda x: TF.log_softmax(x, 0), [z])
    compare(lambda x: x[[]], lambda x: x[[]], [np.zeros((2, 3))])
    x, w = np.ones((2, 5, 0)), np.ones((4, 0))
    compare(F.linear, TF.linear, [x, w])
    compare(F.linear, TF.linear, [np.ones((2, 5, 3)), np.ones((0, 3))])


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda x: x.permute(5, 0), lambda x: x.permute(5, 0)),
        (lambda x: x.sum(axis=2), lambda x: x.sum(dim=2)),
        (lambda x: x.transpose(0, 2), lambda x: x.transpose(0, 2)),
    ],
)
def test_axis_out_of_range_is_an_index_error_in_both(ours, theirs):
    with pytest.raises(IndexError):
        theirs(torch.zeros(2, 3))
    with pytest.raises(IndexError):
        ours(Tensor(np.zeros((2, 3))))


# -- The deliberate differences listed in docs/differences_from_pytorch.md ----------------------


def test_documented_differences_still_hold():
    """If torch changes one of these, the document (and maybe nnlite) must change."""
    a = [[1.0, 3.0], [3.0, 0.0]]
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    x.max(axis=(0, 1)).backward()
    t.amax(dim=(0, 1)).backward()
    assert x.grad.tolist() == [[0, 1], [0, 0]] and t.grad.tolist() == [[0, 0.5], [0.5, 0]]

    x, t = Tensor([-1.0, np.nan], requires_grad=True), torch.tensor([-1.0, np.nan])
    t.requires_grad_()
    x.relu().backward(np.array([np.nan, 1.0]))
    t.relu().backward(torch.tensor([np.nan, 1.0]))
    assert np.isnan(x.grad[0]) and x.grad[1] == 0  # mask product; 0 at a NaN input
    assert t.grad[0] == 0 and t.grad[1] == 1  # where-selection

    assert torch.ones(2, 3).squeeze(0).shape == (2, 3)
    with pytest.raises(ValueError, match="squeeze"):
        Tensor(np.ones((2, 3))).squeeze(0)

    with pytest.raises(RuntimeError, match="same dtype"):
        torch.ones(2, 2) @ torch.ones(2, 2, dtype=torch.float64)
    assert (Tensor(np.ones((2, 2), np.float32)) @ Tensor(np.ones((2, 2)))).dtype == np.float64

    with pytest.raises(ValueError, match="step"):
        torch.ones(3)[::-1]
    assert Tensor([1.0, 2.0, 3.0])[::-1].tolist() == [3.0, 2.0, 1.0]

    m, b = torch.tensor(2.0, requires_grad=True), Tensor(2.0, requires_grad=True)
    torch.clamp(torch.ones(3), min=m).sum().backward()
    Tensor(np.ones(3), requires_grad=True).clip(min=b).sum().backward()
    assert m.grad == 3 and b.grad is None  # nnlite's clip bounds are constants

    probs = torch.tensor([[0.0, 1.0, 0.0]])
    assert TF.cross_entropy(torch.zeros(1, 3), probs).item() > 0  # torch takes probabilities
    with pytest.raises(ValueError, match="pass class indices"):
        F.cross_entropy(Tensor(np.zeros((1, 3))), probs.numpy())
