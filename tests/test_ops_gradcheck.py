"""Every differentiable op passes gradcheck (float64, full Jacobian) on random shapes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import nnlite
from nnlite import Tensor, gradcheck
from nnlite import functional as F

FEW = settings(max_examples=12, deadline=None)
SEEDS = st.integers(0, 2**31 - 1)
SHAPES = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def rand(shape, seed, kind="normal"):
    rng = np.random.default_rng(seed)
    if kind == "positive":
        return Tensor(rng.uniform(0.3, 2.0, size=shape), requires_grad=True)
    a = rng.normal(size=shape)
    if kind == "away0":  # keep clear of kinks at 0 (relu, abs) and of the clip bounds
        a = np.where(np.abs(a) < 0.05, 0.3, a)
        a = np.where(np.abs(np.abs(a) - 0.5) < 0.05, 0.8, a)
    return Tensor(a, requires_grad=True)


UNARY = {
    "neg": (lambda x: -x, "normal"),
    "exp": (lambda x: x.exp(), "normal"),
    "log": (lambda x: x.log(), "positive"),
    "sqrt": (lambda x: x.sqrt(), "positive"),
    "abs": (lambda x: x.abs(), "away0"),
    "tanh": (lambda x: x.tanh(), "normal"),
    "sigmoid": (lambda x: x.sigmoid(), "normal"),
    "relu": (lambda x: x.relu(), "away0"),
    "clip": (lambda x: x.clip(-0.5, 0.5), "away0"),
    "pow3": (lambda x: x**3, "normal"),
    "pow_half": (lambda x: x**0.5, "positive"),
    "rpow": (lambda x: 1.7**x, "normal"),
    "rsub": (lambda x: 2.0 - x, "normal"),
    "rdiv": (lambda x: 2.0 / x, "positive"),
    "astype": (lambda x: x.astype(np.float64) * 2, "normal"),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@FEW
@given(shape=SHAPES, seed=SEEDS)
def test_unary_ops(name, shape, seed):
    f, kind = UNARY[name]
    assert gradcheck(f, [rand(shape, seed, kind)])


BINARY = {
    "add": (lambda a, b: a + b, "normal"),
    "sub": (lambda a, b: a - b, "normal"),
    "mul": (lambda a, b: a * b, "normal"),
    "div": (lambda a, b: a / b, "positive"),
    "pow": (lambda a, b: a**b, "positive"),
    "maximum": (nnlite.maximum, "normal"),
    "minimum": (nnlite.minimum, "normal"),
    "where": (lambda a, b: nnlite.where(a.data > 0, a, b), "normal"),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@FEW
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), seed=SEEDS)
def test_binary_ops_broadcast(name, shapes, seed):
    f, kind = BINARY[name]
    sa, sb = shapes.input_shapes
    a, b = rand(sa, seed, kind), rand(sb, seed + 1, kind)
    assert gradcheck(f, [a, b])


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("sa,sb", [((3, 1), (1, 4)), ((2, 3), (3,)), ((), (2, 3))], ids=str)
def test_binary_ops_required_broadcast_pairs(name, sa, sb):
    f, kind = BINARY[name]
    assert gradcheck(f, [rand(sa, 1, kind), rand(sb, 2, kind)])
    assert gradcheck(f, [rand(sb, 3, kind), rand(sa, 4, kind)])


@pytest.mark.parametrize(
    "sa,sb",
    [
        ((2, 3), (3, 4)),
        ((3,), (3, 4)),
        ((2, 3), (3,)),
        ((3,), (3,)),
        ((2, 2, 3), (3, 2)),
        ((1, 2, 3), (2, 3, 2)),
        ((3,), (2, 3, 2)),
    ],
    ids=str,
)
def test_matmul(sa, sb):
    assert gradcheck(lambda a, b: a @ b, [rand(sa, 5), rand(sb, 6)])


@st.composite
def shape_and_axis(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axes = draw(st.lists(st.integers(-len(shape), len(shape) - 1), max_size=2, unique=True))
    axes = {a % len(shape) for a in axes}
    axis = draw(st.sampled_from([None, tuple(sorted(axes)) if axes else None] + sorted(axes)))
    return shape, axis, draw(st.booleans())


@FEW
@given(sak=shape_and_axis(), seed=SEEDS)
def test_reductions(sak, seed):
    shape, axis, keepdims = sak
    x = rand(shape, seed)
    assert gradcheck(lambda t: t.sum(axis, keepdims), [x])
    assert gradcheck(lambda t: t.mean(axis, keepdims), [x])
    assert gradcheck(lambda t: t.max(axis, keepdims), [x])  # random values: no ties
    assert gradcheck(lambda t: t.min(axis, keepdims), [x])
    n = x.size // np.sum(x.data, axis=axis, keepdims=True).size
    if n > 1:
        assert gradcheck(lambda t: t.var(axis, keepdims=keepdims), [x])
        assert gradcheck(lambda t: t.std(axis, correction=0, keepdims=keepdims), [x])


@FEW
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=SEEDS)
def test_shape_ops(shape, seed):
    x = rand(shape, seed)
    perm = tuple(np.random.default_rng(seed).permutation(len(shape)))
    assert gradcheck(lambda t: t.reshape(-1) * np.arange(x.size), [x])
    assert gradcheck(
        lambda t: t.permute(perm) * np.arange(x.size).reshape(x.data.transpose(perm).shape), [x]
    )
    assert gradcheck(lambda t: t.T.exp(), [x])
    assert gradcheck(lambda t: nnlite.pad(t, 1, value=2.0).tanh(), [x])


def test_getitem_variants():
    x = rand((4, 3), 7)
    for index in [
        (slice(1, 3),),
        (slice(None), 1),
        (np.array([0, 0, 3, 1]),),
        (np.array([0, 1, 1]), np.array([2, 2, 0])),
        (x.data > 0,),
        (Ellipsis, slice(None, None, -1)),
        (2, 2),
    ]:
        assert gradcheck(lambda t, index=index: t[index] * 1.5, [x])


def test_concatenate_and_stack():
    a, b, c = rand((2, 3), 8), rand((1, 3), 9), rand((2, 3), 10)
    assert gradcheck(lambda x, y: nnlite.concatenate([x, y, x]), [a, b])
    assert gradcheck(lambda x, y: nnlite.stack([x, y, x], axis=1), [a, c])


def test_functional_ops():
    z = rand((4, 5), 11)
    t = np.array([0, 4, 1, 1])
    assert gradcheck(lambda x: F.softmax(x), [z])
    assert gradcheck(lambda x: F.log_softmax(x, axis=0), [z])
    for red in ("mean", "sum", "none"):
        assert gradcheck(lambda x, red=red: F.cross_entropy(x, t, red), [z])
        assert gradcheck(lambda x, red=red: F.nll_loss(x, t, red), [z])
        assert gradcheck(lambda x, y, red=red: F.mse_loss(x, y, red), [z, rand((4, 5), 12)])
    x, w, b = rand((3, 4), 13), rand((2, 4), 14), rand((2,), 15)
    assert gradcheck(F.linear, [x, w, b])
    assert gradcheck(F.linear, [rand((2, 3, 4), 16), w])
    assert gradcheck(lambda v: F.dropout(v, 0.4, seed=0), [x])


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), ((1, 2), (2, 0))])
def test_conv_and_pooling(stride, padding):
    x, w, b = rand((2, 2, 5, 6), 17), rand((3, 2, 3, 2), 18), rand((3,), 19)
    assert gradcheck(lambda *a: F.conv2d(*a, stride=stride, padding=padding), [x, w, b])
    assert gradcheck(lambda v: F.max_pool2d(v, 2, stride, 1 if padding else 0), [x])
    assert gradcheck(lambda v: F.avg_pool2d(v, (2, 3), stride, 1 if padding else 0), [x])


def test_a_composite_network():
    x = Tensor(np.random.default_rng(20).normal(size=(3, 4)))
    w1, b1, w2 = rand((5, 4), 21), rand((5,), 22), rand((3, 5), 23)
    y = np.array([2, 0, 1])

    def loss(w1, b1, w2):
        return F.cross_entropy(F.linear(x, w1, b1).tanh() @ w2.T, y)

    assert gradcheck(loss, [w1, b1, w2])
