"""Every differentiable op passes gradcheck (float64, full Jacobian) on random shapes.

The ops, their input domains and their parameters come from the shared table in
``tests/strategies.py``, which also drives the comparison with PyTorch.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import NN, OPS, OPS_BY_NAME, SEEDS, broadcast_partner, op_inputs, rand

import nnlite
from nnlite import Tensor, gradcheck
from nnlite import functional as F

FEW = settings(
    max_examples=6,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.large_base_example, HealthCheck.filter_too_much],
)
BROADCASTING = sorted(op.name for op in OPS if op.more is broadcast_partner)


def _inputs(op, shapes, seed):
    domains = (op.domains + ("any",) * len(shapes))[: len(shapes)]
    return [
        rand(shape, seed + i, d) for i, (shape, d) in enumerate(zip(shapes, domains, strict=True))
    ]


@pytest.mark.parametrize("name", sorted(OPS_BY_NAME))
@FEW
@given(data=st.data(), seed=SEEDS)
def test_every_op_in_the_table(name, data, seed):
    op = OPS_BY_NAME[name]
    shapes, params = data.draw(op_inputs(op), label="shapes, params")
    if params.get("dtype") is np.float32:  # finite differences need float64 throughout
        params["dtype"] = np.float64
    xs = _inputs(op, shapes, seed)

    def f(*ts):
        return op.fn(NN, *ts, **params)

    assume(np.isfinite(f(*xs).data).all())  # e.g. the variance of one element is nan
    assert gradcheck(f, xs)


@pytest.mark.parametrize("name", BROADCASTING)
@pytest.mark.parametrize("sa,sb", [((3, 1), (1, 4)), ((2, 3), (3,)), ((), (2, 3))], ids=str)
def test_binary_ops_required_broadcast_pairs(name, sa, sb):
    op = OPS_BY_NAME[name]

    def f(a, b):
        return op.fn(NN, a, b)

    assert gradcheck(f, _inputs(op, (sa, sb), 1))
    assert gradcheck(f, _inputs(op, (sb, sa), 3))


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


def test_gradcheck_of_an_output_that_is_a_view_of_the_input():
    """Found with the op table: x.reshape(-1) shares x's memory, and gradcheck read its
    perturbed output after restoring x (numeric gradient 0)."""
    assert gradcheck(lambda t: t.reshape(-1), [rand((2, 3), 0)])
    assert gradcheck(lambda t: t.T, [rand((), 1)])
