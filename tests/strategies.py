"""One table of nnlite's differentiable ops, and the hypothesis strategies that feed it.

Every entry of ``OPS`` names an op, the nnlite call, its PyTorch twin, the input domain of each
tensor input, and how to draw the rest of its inputs (other tensor shapes, axes, indices) given
the shape of its first input. ``tests/test_ops_gradcheck.py`` gradchecks every entry and
``tests/test_torch_fuzz.py`` composes them at random and compares with PyTorch, so a new op is
added here once and is then checked both ways.

Input domains (one per tensor input):

* ``any``: any finite value.
* ``positive``: > 0 (log, sqrt, a fractional power, a divisor).
* ``bounded``: |x| < 3, so that exp and powers stay far from overflow.
* ``away0``: finite differences need distance from a kink (0 for relu/abs, the clip bounds).
* ``distinct``: no ties (max/min along axes, where PyTorch and nnlite may pick different
  elements of a tie; see the differences listed in ``nnlite/tensor.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, broadcastable_shapes

import nnlite
from nnlite import Tensor
from nnlite import functional as F

SEEDS = st.integers(0, 2**31 - 1)
# Shapes for one input: 0-d, size-1 and empty axes included.
SHAPES = array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
# Small enough for a full finite-difference Jacobian.
SMALL_SHAPES = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)

CLIP = (-0.5, 0.5)


def sample(domain: str, shape, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    """Random data of ``shape`` inside ``domain``."""
    if domain == "positive":
        a = rng.uniform(0.3, 2.0, size=shape)
    elif domain == "bounded":
        a = rng.uniform(-2.0, 2.0, size=shape)
    else:
        a = rng.normal(size=shape)
    if domain == "away0":  # clear of 0 and of the clip bounds by 0.05
        a = np.where(np.abs(a) < 0.05, 0.3, a)
        a = np.where(np.abs(np.abs(a) - 0.5) < 0.05, 0.8, a)
    return np.asarray(a, dtype=dtype)


def rand(shape, seed: int, domain: str = "any") -> Tensor:
    """A float64 leaf tensor that requires grad, with random data in ``domain``."""
    return Tensor(sample(domain, shape, np.random.default_rng(seed)), requires_grad=True)


def restrict(domain: str, x, const):
    """Map a computed value ``x`` (nnlite or torch tensor) into ``domain`` with ops of the
    table itself, the same way in both libraries. ``const(array)`` makes a constant tensor of
    x's library and dtype."""
    if domain == "positive":
        return x.abs() + 0.5
    if domain == "bounded":
        return x.tanh() * 2.5
    if domain == "distinct":  # a ramp breaks ties (relu's zeros, for one)
        n = int(np.prod(x.shape))
        return x + const(np.arange(n).reshape(tuple(x.shape)) * 1e-2)
    return x


# ---------------------------------------------------------------------------------------------
# What differs between the two libraries' spellings
# ---------------------------------------------------------------------------------------------

NN = SimpleNamespace(
    name="nnlite",
    maximum=nnlite.maximum,
    minimum=nnlite.minimum,
    where=nnlite.where,
    cat=lambda ts, axis: nnlite.concatenate(ts, axis),
    stack=lambda ts, axis: nnlite.stack(ts, axis),
    softmax=F.softmax,
    log_softmax=F.log_softmax,
    linear=F.linear,
    conv2d=F.conv2d,
    max_pool2d=F.max_pool2d,
    avg_pool2d=F.avg_pool2d,
    mse_loss=F.mse_loss,
    cross_entropy=F.cross_entropy,
    nll_loss=F.nll_loss,
    index=lambda idx: idx,
    target=lambda t: t,
    pad=lambda x, pw, value: nnlite.pad(x, pw, value=value),
    astype=lambda x, dtype: x.astype(dtype),
    sum=lambda x, axis, keep: x.sum(axis, keep),
    mean=lambda x, axis, keep: x.mean(axis, keep),
    var=lambda x, axis, c, keep: x.var(axis, correction=c, keepdims=keep),
    std=lambda x, axis, c, keep: x.std(axis, correction=c, keepdims=keep),
    max=lambda x, axis, keep: x.max(axis, keep),
    min=lambda x, axis, keep: x.min(axis, keep),
    T=lambda x: x.T,
)


def torch_namespace():
    """The torch spellings (imported lazily: torch is optional)."""
    import torch

    TF = torch.nn.functional

    def every(x, axis):  # torch.sum(x) has no keepdim: name every axis instead
        return tuple(range(x.ndim)) if axis is None else axis

    def extremum(fn, amax):
        def reduce(x, axis, keep):
            if axis is None and not keep:
                return fn(x)
            if axis is None or isinstance(axis, tuple):  # torch.max takes one dim
                return amax(x, dim=every(x, axis), keepdim=keep)
            return fn(x, dim=axis, keepdim=keep)[0]

        return reduce

    def index(idx):
        items = idx if isinstance(idx, tuple) else (idx,)
        out = tuple(torch.as_tensor(i) if isinstance(i, np.ndarray) else i for i in items)
        return out if isinstance(idx, tuple) else out[0]

    def pad(x, pw, value):  # torch lists (before, after) pairs from the last axis backwards
        flat = [int(v) for pair in reversed(pw) for v in pair]
        return TF.pad(x, flat, value=value)

    return SimpleNamespace(
        name="torch",
        maximum=torch.maximum,
        minimum=torch.minimum,
        where=torch.where,
        cat=lambda ts, axis: torch.cat(ts, axis),
        stack=lambda ts, axis: torch.stack(ts, axis),
        softmax=TF.softmax,
        log_softmax=TF.log_softmax,
        linear=TF.linear,
        conv2d=TF.conv2d,
        max_pool2d=TF.max_pool2d,
        avg_pool2d=TF.avg_pool2d,
        mse_loss=TF.mse_loss,
        cross_entropy=TF.cross_entropy,
        nll_loss=TF.nll_loss,
        index=index,
        target=lambda t: torch.as_tensor(t),
        pad=pad,
        astype=lambda x, dtype: x.to(getattr(torch, np.dtype(dtype).name)),
        sum=lambda x, axis, keep: x.sum(every(x, axis), keepdim=keep),
        mean=lambda x, axis, keep: x.mean(every(x, axis), keepdim=keep),
        var=lambda x, axis, c, keep: torch.var(x, dim=axis, correction=c, keepdim=keep),
        std=lambda x, axis, c, keep: torch.std(x, dim=axis, correction=c, keepdim=keep),
        max=extremum(torch.max, torch.amax),
        min=extremum(torch.min, torch.amin),
        T=lambda x: x.permute(tuple(range(x.ndim - 1, -1, -1))),
    )


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One op. ``fn(L, *tensors, **params)`` computes it with library namespace ``L`` (``NN``
    or the torch one), so one function serves nnlite and its PyTorch twin.

    ``more(draw, shape)`` draws, for a first input of ``shape``, the shapes of the other tensor
    inputs and the keyword parameters, or returns None when the op does not apply to ``shape``.
    ``domains`` gives the domain of each tensor input. ``first``, if given, draws the shape of
    the first input for an op that the usual shapes never fit (images for conv2d, pooling).
    """

    name: str
    fn: Callable
    domains: tuple[str, ...] = ("any",)
    more: Callable = field(default=lambda draw, shape: ((), {}))
    first: st.SearchStrategy | None = None


def broadcast_partner(draw, shape):
    return (draw(broadcastable_shapes(shape, min_dims=0, max_dims=3, min_side=0, max_side=3)),), {}


def _axis_param(draw, shape, allow_tuple=True):
    """None, one axis or (when allowed) a tuple of distinct axes, negative ones included."""
    ndim = len(shape)
    choices = [st.none()]
    if ndim:
        choices.append(st.integers(-ndim, ndim - 1))
        if allow_tuple:
            choices.append(
                st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(
                    tuple
                )
            )
    else:
        choices.append(st.sampled_from([0, -1]))  # a 0-d tensor's only axis (PyTorch)
    return draw(st.one_of(*choices))


def _reduction(draw, shape):
    return (), {"axis": _axis_param(draw, shape), "keep": draw(st.booleans())}


def _nonempty_reduction(draw, shape):
    """Like _reduction, but never over an axis of length 0 (max/min have no value there:
    both libraries raise, which the error tests check)."""
    p = _reduction(draw, shape)[1]
    axes = range(len(shape)) if p["axis"] is None else np.atleast_1d(p["axis"])
    if any(shape[a] == 0 for a in axes if shape):
        return None
    return (), p


def _var_params(draw, shape):
    p = _reduction(draw, shape)[1]
    return (), {**p, "c": draw(st.sampled_from([0, 1]))}


def _two_axes(draw, shape):
    n = max(len(shape), 1)
    return (), {"d": (draw(st.integers(-n, n - 1)), draw(st.integers(-n, n - 1)))}


def _perm(draw, shape):
    if not shape:
        return None
    return (), {"perm": tuple(draw(st.permutations(range(len(shape)))))}


def _matmul(draw, shape):
    if not shape:
        return None
    k = shape[-1]
    m = draw(st.integers(0, 3))
    right = draw(st.sampled_from([(k,), (k, m), (2, k, m)]))
    if len(shape) == 3 and len(right) == 3:
        right = (draw(st.sampled_from([1, shape[0]])), k, m)
    return (right,), {}


def _linear(draw, shape):
    if not shape:
        return None
    out = draw(st.integers(0, 3))
    shapes = ((out, shape[-1]),) + (((out,),) if draw(st.booleans()) else ())
    return shapes, {}


def _class_targets(draw, shape):
    """Integer targets for (C,) or (N, C) scores, C >= 1."""
    if len(shape) not in (1, 2) or shape[-1] == 0:
        return None
    C = shape[-1]
    tshape = () if len(shape) == 1 else shape[:1]
    seed = draw(SEEDS)
    target = np.random.default_rng(seed).integers(0, C, size=tshape)
    return (), {"target": target, "reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


def _index(draw, shape):
    if not shape:
        return None
    n = shape[0]
    kind = draw(st.sampled_from(["slice", "int", "ints", "mask", "empty", "last"]))
    if kind == "slice":
        return (), {"idx": slice(draw(st.integers(0, n)), None, draw(st.integers(1, 2)))}
    if kind == "int" and n:
        return (), {"idx": draw(st.integers(-n, n - 1))}
    if kind == "ints" and n:
        rows = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=5))
        return (), {"idx": np.array(rows)}  # repeats allowed: their gradients add
    if kind == "mask":
        bits = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        return (), {"idx": np.array(bits, dtype=bool).reshape(n)}
    if kind == "last":
        return (), {"idx": (Ellipsis, slice(0, 1))}
    return (), {"idx": []}


def _size1_axis(draw, shape):
    ones = [i for i, n in enumerate(shape) if n == 1]
    return (), {"axis": draw(st.sampled_from([None] + ones))}


def _new_axis(draw, shape):
    n = len(shape) + 1
    return (), {"axis": draw(st.integers(-n, n - 1))}


def _join(draw, shape):
    if not shape:
        return None
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    other = list(shape)
    other[axis] = draw(st.integers(0, 3))
    return (tuple(other),), {"axis": axis}


def _stack(draw, shape):
    n = len(shape) + 1
    return (shape,), {"axis": draw(st.integers(-n, n - 1))}


def _pad(draw, shape):
    if not shape:
        return None
    pw = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape)
    return (), {"pw": pw, "value": draw(st.sampled_from([0.0, 1.5]))}


def _softmax_axis(draw, shape):
    n = max(len(shape), 1)
    return (), {"axis": draw(st.integers(-n, n - 1))}


def _same_shape(draw, shape):
    return (shape,), {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


def _other_dtype(draw, shape):
    return (), {"dtype": draw(st.sampled_from([np.float32, np.float64]))}


# (N, C, H, W) images, small enough for a full Jacobian
IMAGES = st.tuples(*(st.integers(1, n) for n in (2, 2, 4, 4)))


def _conv(draw, shape):
    if len(shape) != 4 or 0 in shape:
        return None
    _, C, H, W = shape
    p, s, O = draw(st.integers(0, 1)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    kernel = (O, C, draw(st.integers(1, H + 2 * p)), draw(st.integers(1, W + 2 * p)))
    shapes = (kernel,) + (((O,),) if draw(st.booleans()) else ())
    return shapes, {"stride": s, "padding": p}


def _pool(draw, shape):
    if len(shape) != 4 or 0 in shape:
        return None
    k = draw(st.integers(1, 3))
    p = draw(st.integers(0, k // 2))
    if k > min(shape[2:]) + 2 * p:
        return None
    return (), {"k": k, "stride": draw(st.sampled_from([None, 1, 2])), "padding": p}


def _unary(name, fn, domain="any"):
    return Op(name, fn, (domain,))


def _binary(name, fn, domains=("any", "any")):
    return Op(name, fn, domains, broadcast_partner)


OPS = [
    _unary("neg", lambda L, x: -x),
    _unary("exp", lambda L, x: x.exp(), "bounded"),
    _unary("log", lambda L, x: x.log(), "positive"),
    _unary("sqrt", lambda L, x: x.sqrt(), "positive"),
    _unary("abs", lambda L, x: x.abs(), "away0"),
    _unary("tanh", lambda L, x: x.tanh()),
    _unary("sigmoid", lambda L, x: x.sigmoid()),
    _unary("relu", lambda L, x: x.relu(), "away0"),
    _unary("clip", lambda L, x: x.clamp(*CLIP), "away0"),
    _unary("clip_min", lambda L, x: x.clamp(min=CLIP[0]), "away0"),
    _unary("pow3", lambda L, x: x**3),
    _unary("pow_half", lambda L, x: x**0.5, "positive"),
    _unary("pow_neg2", lambda L, x: x**-2, "positive"),
    _unary("pow0", lambda L, x: x**0),
    _unary("rpow", lambda L, x: 1.7**x, "bounded"),
    _unary("radd", lambda L, x: 2.0 + x),
    _unary("rsub", lambda L, x: 2.0 - x),
    _unary("rmul", lambda L, x: 1.5 * x),
    _unary("rdiv", lambda L, x: 2.0 / x, "positive"),
    _unary("T", lambda L, x: L.T(x)),
    _unary("flatten", lambda L, x: x.flatten()),
    _unary("reshape", lambda L, x: x.reshape(-1)),
    Op("astype", lambda L, x, dtype: L.astype(x, dtype), more=_other_dtype),
    _binary("add", lambda L, a, b: a + b),
    _binary("sub", lambda L, a, b: a - b),
    _binary("mul", lambda L, a, b: a * b),
    _binary("div", lambda L, a, b: a / b, ("any", "positive")),
    _binary("pow", lambda L, a, b: a**b, ("positive", "bounded")),
    _binary("maximum", lambda L, a, b: L.maximum(a, b), ("away0", "away0")),
    _binary("minimum", lambda L, a, b: L.minimum(a, b), ("away0", "away0")),
    _binary("where", lambda L, a, b: L.where(a > 0, a, b), ("away0", "any")),
    Op("matmul", lambda L, a, b: a @ b, ("any", "any"), _matmul),
    Op("sum", lambda L, x, axis, keep: L.sum(x, axis, keep), more=_reduction),
    Op("mean", lambda L, x, axis, keep: L.mean(x, axis, keep), more=_reduction),
    Op("var", lambda L, x, axis, c, keep: L.var(x, axis, c, keep), more=_var_params),
    Op("std", lambda L, x, axis, c, keep: L.std(x, axis, c, keep), more=_var_params),
    Op("max", lambda L, x, axis, keep: L.max(x, axis, keep), ("distinct",), _nonempty_reduction),
    Op("min", lambda L, x, axis, keep: L.min(x, axis, keep), ("distinct",), _nonempty_reduction),
    Op("transpose", lambda L, x, d: x.transpose(*d), more=_two_axes),
    Op("permute", lambda L, x, perm: x.permute(*perm), more=_perm),
    Op(
        "squeeze",
        lambda L, x, axis: x.squeeze() if axis is None else x.squeeze(axis),
        more=_size1_axis,
    ),
    Op("unsqueeze", lambda L, x, axis: x.unsqueeze(axis), more=_new_axis),
    Op("getitem", lambda L, x, idx: x[L.index(idx)], more=_index),
    Op("concatenate", lambda L, a, b, axis: L.cat([a, b, a], axis), ("any", "any"), _join),
    Op("stack", lambda L, a, b, axis: L.stack([a, b], axis), ("any", "any"), _stack),
    Op("pad", lambda L, x, pw, value: L.pad(x, pw, value), more=_pad),
    Op("softmax", lambda L, x, axis: L.softmax(x, axis), more=_softmax_axis),
    Op("log_softmax", lambda L, x, axis: L.log_softmax(x, axis), more=_softmax_axis),
    Op(
        "conv2d",
        lambda L, x, w, *b, stride, padding: L.conv2d(x, w, *b, stride=stride, padding=padding),
        ("any", "any", "any"),
        _conv,
        IMAGES,
    ),
    Op(
        "max_pool2d",
        lambda L, x, k, stride, padding: L.max_pool2d(x, k, stride, padding),
        ("distinct",),
        _pool,
        IMAGES,
    ),
    Op(
        "avg_pool2d",
        lambda L, x, k, stride, padding: L.avg_pool2d(x, k, stride, padding),
        more=_pool,
        first=IMAGES,
    ),
    Op("linear", lambda L, x, *wb: L.linear(x, *wb), ("any", "any", "any"), _linear),
    Op(
        "mse_loss",
        lambda L, a, b, reduction: L.mse_loss(a, b, reduction=reduction),
        ("any", "any"),
        _same_shape,
    ),
    Op(
        "cross_entropy",
        lambda L, x, target, reduction: L.cross_entropy(x, L.target(target), reduction=reduction),
        more=_class_targets,
    ),
    Op(
        "nll_loss",
        lambda L, x, target, reduction: L.nll_loss(x, L.target(target), reduction=reduction),
        more=_class_targets,
    ),
]
OPS_BY_NAME = {op.name: op for op in OPS}


@st.composite
def op_inputs(draw, op: Op, shapes=SMALL_SHAPES):
    """(shapes of all tensor inputs, params) for ``op``, the first shape drawn from
    ``shapes`` until the op applies to it."""
    shapes = shapes if op.first is None else op.first
    first = draw(shapes)
    got = op.more(draw, first)
    while got is None:
        first = draw(shapes)
        got = op.more(draw, first)
    rest, params = got
    return (first, *rest), params
