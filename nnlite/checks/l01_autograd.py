"""Visible checks of lesson 01, "Autograd from scratch".

Each check is a quick smoke test of one exercise's contract (shape, dtype, an easy value, an
edge case). Expected values come from mathematics (finite differences, known derivatives) or
from nnlite itself, never from a copy of the solution. The hidden graders test far more.

In the notebook: ``check("numerical_grad", numerical_grad)``, ``check("rel_error", rel_error)``,
``check("unbroadcast", unbroadcast)``, ``check("rules_elementwise", globals())`` and
``check("rules_shape", globals())`` (the rules are looked up by name) and
``check("backward", backward)`` (attached to a subclass of :class:`nnlite.minitensor.Tensor`).
"""

from __future__ import annotations

import numpy as np

from nnlite.backprop import unbroadcast as _unbroadcast
from nnlite.checks import visible
from nnlite.gradcheck import numerical_grad as _fd
from nnlite.minitensor import Tensor as _Tensor

# ------------------------------------------------------------------------- helpers


def _close(got, want, what, rtol=1e-6, atol=1e-9, source="the finite-difference estimate"):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    with np.errstate(all="ignore"):
        ok = np.abs(got.astype(np.float64) - want) <= atol + rtol * np.abs(want)
    assert ok.all(), f"{what}: values differ from {source}"


def _rule(ns, name):
    if not isinstance(ns, dict):
        raise TypeError("pass the notebook's namespace: check(grade_id, globals())")
    fn = ns.get(name)
    assert callable(fn), f"`{name}` is not defined; run its cell first"
    return fn


def _to_shape(grad, shape, what):
    grad = np.asarray(grad)
    try:
        return _unbroadcast(grad, tuple(shape))
    except ValueError:
        raise AssertionError(
            f"{what}: gradient of shape {grad.shape} for an input of shape {shape}"
        ) from None


def _fd_unary(f, x, g):
    return _fd(lambda v: float(np.sum(f(v) * g)), x.copy())


def _fd_binary(f, a, b, g):
    ga = _fd(lambda v: float(np.sum(f(v, b) * g)), a.copy())
    gb = _fd(lambda v: float(np.sum(f(a, v) * g)), b.copy())
    return ga, gb


_RNG_SEED = 20240101


# ------------------------------------------------------------------------- 1. numerical_grad


@visible("numerical_grad", hint="Perturb one entry at a time, up and down by h, and divide by 2h.")
def numerical_grad_of_square(numerical_grad):
    """gradient of sum(x**2) at a (2, 3) point is 2x, with x's shape"""
    x = np.arange(6.0).reshape(2, 3) - 2.5
    _close(numerical_grad(lambda v: float(np.sum(v**2)), x), 2 * x, "numerical_grad")


@visible(
    "numerical_grad", hint="The central difference is accurate to O(h**2); the forward one to O(h)."
)
def numerical_grad_is_central(numerical_grad):
    """d/dx sin(x) at x = 1 is cos(1) to 1e-9 (central differences)"""
    got = numerical_grad(lambda v: float(np.sin(v).sum()), np.array([1.0]))
    assert np.shape(got) == (1,), f"result has shape {np.shape(got)}, expected (1,)"
    err = abs(float(np.asarray(got)[0]) - np.cos(1.0))
    assert err < 1e-9, f"error {err:.1e}: is this a central difference?"


@visible("numerical_grad", hint="Work on a copy of x, or restore the entry in a `finally:` block.")
def numerical_grad_leaves_x_alone(numerical_grad):
    """x is unchanged afterwards, also when f raises"""
    x = np.array([1.0, 2.0, 3.0])
    numerical_grad(lambda v: float(np.sum(v * v)), x)
    assert np.array_equal(x, [1.0, 2.0, 3.0]), "x was modified"
    calls = []

    def f(v):
        calls.append(1)
        if len(calls) == 2:
            raise ArithmeticError("raised on purpose by the check")
        return float(np.sum(v))

    try:
        numerical_grad(f, x)
    except ArithmeticError:
        pass
    assert np.array_equal(x, [1.0, 2.0, 3.0]), "x was left modified after f raised"


@visible("numerical_grad", hint="Integers become float64; float32 stays float32.")
def numerical_grad_dtypes(numerical_grad):
    """integer input works; float32 in gives float32 out"""
    got = numerical_grad(lambda v: float(np.sum(v * v)), np.array([1, 2]))
    _close(got, [2.0, 4.0], "integer input", rtol=1e-5)
    got32 = numerical_grad(lambda v: float(np.sum(v)), np.ones(2, dtype=np.float32), 1e-2)
    assert np.asarray(got32).dtype == np.float32, (
        f"dtype {np.asarray(got32).dtype}, expected float32"
    )


# ------------------------------------------------------------------------- 2. rel_error


@visible("rel_error", hint="max over entries of |a - b| / max(|a|, |b|, eps).")
def rel_error_easy_values(rel_error):
    """identical arrays give 0, two zeros give 0, and 1 vs 3 gives 2/3 both ways"""
    assert rel_error(np.ones(3), np.ones(3)) == 0.0, "identical arrays must give 0"
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0, "two zeros must give 0 (use eps)"
    for a, b in (([1.0], [3.0]), ([3.0], [1.0])):
        got = rel_error(np.array(a), np.array(b))
        assert abs(got - 2 / 3) < 1e-12, f"rel_error({a}, {b}) = {got!r}, expected 2/3"


@visible("rel_error", hint="Compute the ratio entry by entry, then take the maximum.")
def rel_error_is_entrywise(rel_error):
    """a small entry that is 50 % off is not hidden by a large correct one"""
    got = rel_error(np.array([1e-3, 100.0]), np.array([2e-3, 100.0]))
    assert abs(got - 0.5) < 1e-12, f"got {got!r}, expected 0.5"


@visible("rel_error", hint="np.max propagates NaN; a shape mismatch is a ValueError.")
def rel_error_nan_and_shapes(rel_error):
    """NaN gives NaN; different shapes raise ValueError"""
    assert np.isnan(rel_error(np.array([np.nan]), np.array([1.0]))), "NaN must give NaN"
    try:
        rel_error(np.ones(1), np.ones((3, 3)))
    except ValueError:
        return
    raise AssertionError("shapes (1,) and (3, 3) must raise ValueError")


# ------------------------------------------------------------------------- 3. unbroadcast


@visible("unbroadcast", hint="Sum the leading extra axes, then the size-1 axes with keepdims=True.")
def unbroadcast_pairs(unbroadcast):
    """(3, 4) goes back to (3, 1), (1, 4), (4,), (1, 1) and ()"""
    g = np.arange(12.0).reshape(3, 4)
    for shape in ((3, 1), (1, 4), (4,), (1, 1), ()):
        got = np.asarray(unbroadcast(g, shape))
        assert got.shape == shape, f"to {shape}: got shape {got.shape}"
        _close(got, _unbroadcast(g, shape), f"to {shape}", rtol=0, atol=0, source="the sums")


@visible(
    "unbroadcast", hint="Check that shape can broadcast to grad.shape; raise ValueError if not."
)
def unbroadcast_refuses(unbroadcast):
    """(2, 3) cannot go back to (4,): ValueError"""
    try:
        unbroadcast(np.ones((2, 3)), (4,))
    except ValueError:
        return
    raise AssertionError("unbroadcast((2, 3) -> (4,)) must raise ValueError")


# ------------------------------------------------------------------------- 4a. elementwise rules

_UNARY = {
    "neg_backward": (np.negative, "normal"),
    "exp_backward": (np.exp, "normal"),
    "log_backward": (np.log, "positive"),
    "tanh_backward": (np.tanh, "normal"),
    "relu_backward": (lambda v: np.maximum(v, 0), "off_kink"),
}
_BINARY = {
    "add_backward": np.add,
    "sub_backward": np.subtract,
    "mul_backward": np.multiply,
    "truediv_backward": np.divide,
}


def _inputs(kind, shape, rng):
    x = rng.normal(size=shape)
    if kind == "positive":
        return np.abs(x) + 0.5
    if kind == "off_kink":
        return np.sign(x) * (np.abs(x) + 0.1)
    return x


@visible("rules_elementwise", hint="Local derivative times grad_out, entry by entry.")
def elementwise_rules_match_finite_differences(ns):
    """every elementwise rule matches central differences on (3,1) and (1,4) inputs"""
    rng = np.random.default_rng(_RNG_SEED)
    for name, fn in _BINARY.items():
        a = rng.normal(size=(3, 1))
        b = rng.normal(size=(1, 4)) + (3.0 if name == "truediv_backward" else 0.0)
        g = rng.normal(size=(3, 4))
        got = _rule(ns, name)(a, b, g)
        assert isinstance(got, tuple | list) and len(got) == 2, f"{name} must return a pair"
        want = _fd_binary(fn, a, b, g)
        for i, (x, w) in enumerate(zip((a, b), want, strict=True)):
            _close(_to_shape(got[i], x.shape, name), w, f"{name}, gradient {'ab'[i]}")
    for name, (fn, kind) in _UNARY.items():
        x = _inputs(kind, (2, 3), rng)
        g = rng.normal(size=(2, 3))
        _close(_rule(ns, name)(x, g), _fd_unary(fn, x, g), name)
    x = _inputs("positive", (2, 3), rng)
    g = rng.normal(size=(2, 3))
    _close(_rule(ns, "pow_backward")(x, g, 2.5), _fd_unary(lambda v: v**2.5, x, g), "pow_backward")


@visible("rules_elementwise", hint="relu'(0) = 0 as in PyTorch: use x > 0.")
def relu_at_zero(ns):
    """relu's gradient at exactly 0 is 0"""
    got = _rule(ns, "relu_backward")(np.array([-1.0, 0.0, 2.0]), np.ones(3))
    assert np.array_equal(np.asarray(got), [0.0, 0.0, 1.0]), f"got {np.asarray(got)}"


@visible("rules_elementwise", hint="Multiply by Python numbers, not float64 arrays.")
def elementwise_rules_keep_float32(ns):
    """float32 in, float32 out (tanh, mul, pow)"""
    x = np.full((2, 2), 0.5, dtype=np.float32)
    for name, args in (
        ("tanh_backward", (x, x)),
        ("pow_backward", (x, x, 3)),
        ("mul_backward", (x, x, x)),
    ):
        got = _rule(ns, name)(*args)
        for part in got if isinstance(got, tuple | list) else (got,):
            assert np.asarray(part).dtype == np.float32, f"{name} returned {np.asarray(part).dtype}"


# ------------------------------------------------------------------------- 4b. shape rules


@visible("rules_shape", hint="The gradient of each operand has that operand's shape.")
def matmul_rule(ns):
    """matmul on (2,3)@(3,4) and (4,2)@(2,1) matches central differences"""
    rng = np.random.default_rng(_RNG_SEED + 1)
    rule = _rule(ns, "matmul_backward")
    for ashape, bshape in (((2, 3), (3, 4)), ((4, 2), (2, 1))):
        a, b = rng.normal(size=ashape), rng.normal(size=bshape)
        g = rng.normal(size=np.shape(a @ b))
        got = rule(a, b, g)
        assert isinstance(got, tuple | list) and len(got) == 2, "matmul_backward must return a pair"
        want = _fd_binary(np.matmul, a, b, g)
        _close(got[0], want[0], f"{ashape} @ {bshape}, gradient of a")
        _close(got[1], want[1], f"{ashape} @ {bshape}, gradient of b")


@visible(
    "rules_shape", hint="Put the summed axes back (size 1) before broadcasting; mean divides by n."
)
def reduction_rules(ns):
    """sum and mean over axes (1,), (0, 2) and all, with and without keepdims"""
    rng = np.random.default_rng(_RNG_SEED + 2)
    x = rng.normal(size=(2, 3, 4))
    for name, np_fn in (("sum_backward", np.sum), ("mean_backward", np.mean)):
        for axes, keepdims in (((1,), False), ((0, 2), True), ((0, 1, 2), False)):
            g = np.asarray(rng.normal(size=np_fn(x, axis=axes, keepdims=keepdims).shape))
            want = _fd_unary(lambda v, f=np_fn, a=axes, k=keepdims: f(v, axis=a, keepdims=k), x, g)
            _close(
                _rule(ns, name)(x, g, axes, keepdims),
                want,
                f"{name}(axes={axes}, keepdims={keepdims})",
            )


@visible(
    "rules_shape",
    hint="Move the gradient back: reshape to x's shape; transpose by the inverse permutation "
    "(np.argsort(axes)); np.add.at for indexing.",
)
def moving_rules(ns):
    """reshape, transposes (2, 0, 1) and (1, 2, 0), indexing with a repeated index"""
    rng = np.random.default_rng(_RNG_SEED + 3)
    x = rng.normal(size=(2, 3, 4))
    g = rng.normal(size=(6, 4))
    _close(
        _rule(ns, "reshape_backward")(x, g), g.reshape(2, 3, 4), "reshape_backward", rtol=0,
        source="the exact values",
    )  # fmt: skip
    for axes in ((2, 0, 1), (1, 2, 0)):
        g = rng.normal(size=x.transpose(axes).shape)
        want = _fd_unary(lambda v, a=axes: v.transpose(a), x, g)
        _close(_rule(ns, "transpose_backward")(x, g, axes), want, f"transpose_backward {axes}")
    x2 = rng.normal(size=(3,))
    idx = np.array([0, 0, 2])
    got = _rule(ns, "getitem_backward")(x2, np.array([1.0, 2.0, 4.0]), idx)
    _close(
        got, [3.0, 0.0, 4.0], "getitem_backward with index [0, 0, 2]", rtol=0,
        source="the exact values [3, 0, 4]",
    )  # fmt: skip


# ------------------------------------------------------------------------- 5. backward


def _engine(backward):
    """A real lesson Tensor whose backward() is the student's function."""
    if not callable(backward):
        raise TypeError('pass your function: check("backward", backward)')
    return type("Tensor", (_Tensor,), {"backward": backward})


def _node(T, data, parents, rule):
    """A node of the lesson's Tensor with a rule supplied by the check (tests backward only)."""
    out = T(np.asarray(data))
    out.requires_grad = True
    out._parents = tuple(parents)
    out._op = "check"
    out._backward = rule
    return out


def _add(T, a, b):
    return _node(T, a.data + b.data, (a, b), lambda g: (g, g))


def _mul(T, a, b):
    return _node(T, a.data * b.data, (a, b), lambda g: (g * b.data, g * a.data))


@visible("backward", hint="Add each parent's gradient to its running total; do not overwrite it.")
def backward_node_reuse(backward):
    """y = x*x + x at x = 3 gives dy/dx = 7 (x is used three times)"""
    T = _engine(backward)
    x = T(np.array(3.0), requires_grad=True)
    _add(T, _mul(T, x, x), x).backward()
    assert x.grad is not None, "x.grad is still None after backward()"
    assert float(np.asarray(x.grad)) == 7.0, f"x.grad = {x.grad}, expected 7"


@visible(
    "backward",
    hint="Visit a node only after every node that uses it; keep running totals in a dict, "
    "not in the nodes' .grad.",
)
def backward_accumulates(backward):
    """two forward passes add up (7 + 7); intermediate nodes keep .grad = None"""
    T = _engine(backward)
    x = T(np.array(3.0), requires_grad=True)
    for _ in range(2):
        square = _mul(T, x, x)
        _add(T, square, x).backward()
        assert square.grad is None, (
            f"an intermediate node kept .grad = {square.grad}: only leaves get .grad"
        )
    assert float(np.asarray(x.grad)) == 14.0, f"x.grad = {x.grad} after two passes, expected 14"
    x.grad = None
    _add(T, _mul(T, x, x), x).backward()
    assert float(np.asarray(x.grad)) == 7.0, f"x.grad = {x.grad} after a reset, expected 7"


@visible("backward", hint="Process a node after all its users: a (reversed) topological order.")
def backward_diamond(backward):
    """two paths of different lengths meet again: d/dx of 7x via x -> 3x -> 6x and x"""
    T = _engine(backward)
    x = T(np.array(1.5), requires_grad=True)

    def scale(a, c):
        return _node(T, a.data * c, (a,), lambda g: (g * c,))

    u = scale(x, 1.0)
    _add(T, scale(scale(u, 3.0), 2.0), u).backward()
    assert float(np.asarray(x.grad)) == 7.0, f"x.grad = {x.grad}, expected 7"


@visible("backward", hint="Use explicit lists (a stack, a ready list), not recursion.")
def backward_deep_chain(backward):
    """a chain of 10,000 additions works (no RecursionError)"""
    T = _engine(backward)
    x = T(np.array(0.0), requires_grad=True)
    one = T(np.array(1.0))
    out = x
    for _ in range(10_000):
        out = _add(T, out, one)
    out.backward()
    assert float(np.asarray(x.grad)) == 1.0, f"x.grad = {x.grad}, expected 1"


@visible(
    "backward", hint='Raise RuntimeError("grad can be implicitly created only for scalar outputs").'
)
def backward_nonscalar(backward):
    """backward() of a vector raises PyTorch's RuntimeError"""
    T = _engine(backward)
    x = T(np.ones(2), requires_grad=True)
    y = _mul(T, x, x)
    try:
        y.backward()
    except RuntimeError as exc:
        assert "only for scalar outputs" in str(exc), f"message: {exc}"
        return
    raise AssertionError("backward() of a 2-element output must raise RuntimeError")
