"""Hidden grader of lesson 01, "Autograd from scratch".

Every test scores one exercise (``@pytest.mark.exercise``) and compares the student's answer,
computed in the sandbox, with the solution notebook's answer (``reference``) or with an exact
mathematical value, in this trusted process. Exercises are graded independently: the
``backward`` tests build graphs of the lesson's real Tensor (:mod:`nnlite.minitensor`) from
nodes whose local rules the driver supplies, so a missing rule costs only its own exercise.

Points per exercise add up to the points of the exercise cell in the notebook.
"""

from __future__ import annotations

import numpy as np
import pytest

from nnlite import minitensor
from nnlite.grading import assert_close, assert_equal, assert_true, fail
from nnlite.grading.compare import as_array

LESSON = "01_autograd"
ELEMENTWISE = list(minitensor.ELEMENTWISE_RULES)
SHAPE_RULES = list(minitensor.SHAPE_RULES)
EXERCISES = {
    "numerical_grad": ["numerical_grad"],
    "rel_error": ["rel_error"],
    "unbroadcast": ["unbroadcast"],
    "rules_elementwise": ELEMENTWISE,
    "rules_shape": SHAPE_RULES,
    "backward": ["backward"],
}
# R13: nnlite's own versions, out of reach while the exercise is graded (nnlite.grading.ownwork).
# nnlite.backprop holds the lesson's fallbacks; nnlite.tensor's _make builds every node of
# nnlite's graphs, so without it no nnlite operation (and none of its local rules) runs;
# viz._graph walks a graph in topological order.
OWN_WORK = {
    "numerical_grad": ["nnlite.gradcheck:numerical_grad", "nnlite.gradcheck:gradcheck"],
    "rel_error": ["nnlite.gradcheck:rel_error"],
    "unbroadcast": ["nnlite.tensor:unbroadcast", "nnlite.backprop:unbroadcast"],
    "rules_elementwise": ["nnlite.tensor:_make"] + [f"nnlite.backprop:{n}" for n in ELEMENTWISE],
    "rules_shape": ["nnlite.tensor:_make"] + [f"nnlite.backprop:{n}" for n in SHAPE_RULES],
    "backward": [
        "nnlite.backprop:backward",
        "nnlite.tensor:Tensor.backward",
        "nnlite.tensor:_reverse_topological_order",
        "nnlite.tensor:_accumulate",
        "nnlite.viz:_graph",
    ],
}
HINT_CENTRAL = (
    "Use the central difference (f(x + h e_i) - f(x - h e_i)) / (2h): the forward difference "
    "(f(x + h e_i) - f(x)) / h is only accurate to O(h)."
)
HINT_RESTORE = (
    "Leave x unchanged even when f raises: perturb a private copy of x, or restore the entry in "
    "a `finally:` block."
)
HINT_SIZE1 = (
    "numpy lines shapes up from the right: sum over the leading axes that `shape` lacks, then "
    "over the axes where `shape` has size 1 but the gradient does not, keeping them "
    "(keepdims=True): a (3, 4) gradient goes back to a (3, 1) input as a (3, 1) array."
)
HINT_MATMUL = (
    "The gradient of each operand has that operand's shape: for a (n, k) @ (k, m) product it is "
    "g @ b.T for a and a.T @ g for b. Swapped transposes go unnoticed on square matrices only."
)


# ========================================================================= helpers (parent)


def reduce_to(got, shape, what):
    """The student's gradient summed to ``shape`` when it came back in a broadcast shape."""
    arr = as_array(got, msg=what)
    shape = tuple(shape)
    if arr.shape == shape:
        return arr
    extra = arr.ndim - len(shape)
    tail = arr.shape[max(extra, 0) :]
    if extra < 0 or any(s not in (1, t) for s, t in zip(shape, tail, strict=True)):
        fail(
            f"{what}: wrong shape",
            detail=f"got shape {arr.shape}, expected {shape} (or the broadcast shape)",
            kind="shape",
        )
    out = arr.sum(axis=tuple(range(extra))) if extra else arr
    ones = tuple(i for i, s in enumerate(shape) if s == 1 and out.shape[i] != 1)
    return out.sum(axis=ones, keepdims=True) if ones else out


def as_pair(got, what):
    if not isinstance(got, tuple | list) or len(got) != 2:
        fail(f"{what} must return a pair (grad_a, grad_b)")
    return got


# ========================================================================= drivers (sandbox)
# Drivers run in the sandbox with the student's namespace `ns`. They compute; they never judge.


def f_sum_sin(x):
    return np.sin(x).sum()


def f_poly(x):
    x = np.asarray(x, dtype=np.float64)
    return (x**3).sum() + 0.5 * x.sum() ** 2 - (x * np.arange(x.size).reshape(x.shape)).sum()


def f_sum_squares(x):
    return (np.asarray(x) ** 2).sum()


def drive_numgrad_f_raises(ns, x):
    """numerical_grad with an f that raises on its third call; returns x afterwards."""
    calls = [0]

    def f(v):
        calls[0] += 1
        if calls[0] == 3:
            raise ArithmeticError("boom")
        return float(np.sum(v * v))

    try:
        ns.numerical_grad(f, x)
        raised = False
    except ArithmeticError:
        raised = True
    return raised, x


def drive_numgrad_float32(ns, x):
    """numerical_grad of a float32 function at a float32 point: (dtype name, values)."""

    def f(v):
        return (np.asarray(v) * np.float32(2.5)).sum(dtype=np.float32)

    g = np.asarray(ns.numerical_grad(f, x, 1e-2))
    return g.dtype.name, g.astype(np.float64)


def drive_rel_error_raises(ns, a, b):
    try:
        ns.rel_error(a, b)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        return type(exc).__qualname__
    return "no exception"


def drive_unbroadcast_raises(ns, grad, shape):
    try:
        ns.unbroadcast(grad, tuple(shape))
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        return type(exc).__qualname__
    return "no exception"


def drive_getitem_slice(ns, x, g):
    return ns.getitem_backward(x, g, (slice(1, None), slice(None, None, 2)))


# The backward drivers carry no scenario label into the sandbox (R15: student code can read
# its caller's frame): each scenario is its own driver; the code they share is shipped to them
# as an argument (graph_kit).


def graph_kit(ns):
    """The lesson's real Tensor (nnlite.minitensor) with the student's backward(), and node
    builders whose local rules the driver supplies, so only backward() is exercised."""
    from nnlite.minitensor import Tensor

    T = type("Tensor", (Tensor,), {"backward": ns["backward"]})

    def node(data, parents, rule):
        out = T(np.asarray(data))
        out.requires_grad = True
        out._parents = tuple(parents)
        out._op = "test"
        out._backward = rule
        return out

    def add(a, b):
        return node(a.data + b.data, (a, b), lambda g: (g, g))

    def mul(a, b):
        return node(a.data * b.data, (a, b), lambda g: (g * b.data, g * a.data))

    def scale(a, c):
        return node(a.data * c, (a,), lambda g: (g * c,))

    def exp(a):
        e = np.exp(a.data)
        return node(e, (a,), lambda g: (g * e,))

    def total(a):
        return node(a.data.sum(), (a,), lambda g: (np.ones_like(a.data) * g,))

    def leaf(x0, dtype=np.float64):
        return T(np.array(x0, dtype=dtype), requires_grad=True)

    return {"T": T, "node": node, "add": add, "mul": mul, "scale": scale, "exp": exp,
            "total": total, "leaf": leaf}  # fmt: skip


def drive_graph_reuse(ns, kit, x0):
    """sum(x*x + x): gradient 2x + 1."""
    k = kit(ns)
    x = k["leaf"](x0)
    k["total"](k["add"](k["mul"](x, x), x)).backward()
    return x.grad


def drive_graph_diamond(ns, kit, x0):
    """u = exp(x); y = sum(2*(3*u) + u) = sum(7 exp(x)): paths of 1 and 3 steps."""
    k = kit(ns)
    x = k["leaf"](x0)
    u = k["exp"](x)
    k["total"](k["add"](k["scale"](k["scale"](u, 3.0), 2.0), u)).backward()
    return x.grad


def drive_graph_accumulate(ns, kit, x0):
    """Two forward passes add up; reset; one pass."""
    k = kit(ns)
    x = k["leaf"](x0)
    inner = []
    for _ in range(2):
        square = k["mul"](x, x)
        inner.append(square)
        k["total"](square).backward()
    twice = np.array(x.grad, dtype=np.float64)
    x.grad = None
    k["total"](k["mul"](x, x)).backward()
    return twice, x.grad, [n.grad is None for n in inner]


def drive_graph_deep(ns, kit, x0):
    """10,000 additions of a constant."""
    k = kit(ns)
    x = k["leaf"](x0)
    one = k["T"](np.ones_like(x.data))
    out = x
    for _ in range(10_000):
        out = k["add"](out, one)
    k["total"](out).backward()
    return x.grad


def drive_graph_nonscalar(ns, kit, x0):
    """backward() on a vector must refuse."""
    k = kit(ns)
    y = k["scale"](k["leaf"](x0), 2.0)
    try:
        y.backward()
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        return "raised", [c.__qualname__ for c in type(exc).__mro__], str(exc)
    return "returned", [], ""


def drive_graph_vector_seed(ns, kit, x0):
    """backward(grad) of y = 3x."""
    k = kit(ns)
    x = k["leaf"](x0)
    y = k["scale"](x, 3.0)
    y.backward(np.arange(x.data.size, dtype=np.float64).reshape(x.data.shape) + 1.0)
    return x.grad


def drive_graph_constant(ns, kit, x0):
    """A leaf without requires_grad gets no gradient."""
    k = kit(ns)
    x = k["leaf"](x0)
    c = k["T"](np.full(x.data.shape, 2.0))
    k["total"](k["mul"](x, c)).backward()
    return x.grad, c.grad is None


def drive_graph_float32(ns, kit, x0):
    """float32 leaves get float32 gradients."""
    k = kit(ns)
    x32 = k["leaf"](x0, np.float32)
    k["total"](k["mul"](x32, x32)).backward()
    return x32.grad.dtype.name, np.asarray(x32.grad, dtype=np.float64)


def drive_graph_two_leaves(ns, kit, x0):
    """Different shapes: (2, 3) * (3,) -> gradients of each shape."""
    k = kit(ns)
    x = k["leaf"](x0)
    w = k["leaf"]([0.5, -1.0, 2.0])
    wb = k["node"](np.broadcast_to(w.data, x.data.shape), (w,), lambda g: (g.sum(axis=0),))
    k["total"](k["mul"](x, wb)).backward()
    return x.grad, w.grad


# ========================================================================= 1. numerical_grad


@pytest.mark.exercise("numerical_grad")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_CENTRAL)
def test_numerical_grad_sin_is_accurate(student, rng):
    """d/dx sum(sin x) = cos x to a relative error below 1e-8 with h = 1e-6."""
    x = rng.uniform(-3, 3, size=7)
    got = student.numerical_grad(f_sum_sin, x)
    assert_close(got, np.cos(x), rtol=1e-8, atol=1e-9)


@pytest.mark.exercise("numerical_grad")
@pytest.mark.points(0.125)
@pytest.mark.hint(
    "Return an array of x's shape: loop over every index, e.g. with np.ndindex(x.shape)."
)
@pytest.mark.parametrize("shape", [(), (2, 3), (3, 1, 2), (0, 3)])
def test_numerical_grad_any_shape(student, reference, rng, shape):
    """Any shape of x, including () and a 0-length axis, against the reference."""
    x = rng.normal(size=shape)
    expected = reference.numerical_grad(f_poly, x)
    assert_close(student.numerical_grad(f_poly, x), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.exercise("numerical_grad")
@pytest.mark.points(0.25)
@pytest.mark.hint("Pass h on: the result must use the step the caller gives.")
def test_numerical_grad_uses_h(student, reference, rng):
    """With h = 1e-2 the central difference of x**3 is 3x**2 + h**2, exactly as the reference."""
    x = rng.normal(size=5)
    expected = reference.numerical_grad(f_poly, x, 1e-2)
    assert_close(student.numerical_grad(f_poly, x, 1e-2), expected, rtol=1e-9, atol=1e-9)


@pytest.mark.exercise("numerical_grad")
@pytest.mark.points(0.25)
@pytest.mark.hint(
    "Convert integer input to float64 before adding h: in an int array, x + 1e-6 is truncated "
    "back to x."
)
def test_numerical_grad_integer_input(student):
    """Integer x is treated as float64."""
    x = np.array([1, -2, 3])
    got = student.numerical_grad(f_sum_squares, x)
    assert_close(got, 2.0 * x, rtol=1e-6, atol=1e-6, dtype=np.float64)


@pytest.mark.exercise("numerical_grad")
@pytest.mark.points(0.25)
@pytest.mark.hint("float32 in, float32 out: build the result with x's floating dtype.", on="dtype")
def test_numerical_grad_float32(student):
    """float32 x gives a float32 gradient (f evaluated at float32 points)."""
    x = np.array([0.5, -1.5, 2.0], dtype=np.float32)
    dtype, values = student.run(drive_numgrad_float32, x)
    assert_equal(dtype, "float32", msg="dtype of the result", kind="dtype")
    assert_close(values, np.full(3, 2.5), rtol=1e-3)


@pytest.mark.exercise("numerical_grad")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_RESTORE, on=("value", "mutation"))
@pytest.mark.mutation_penalty(1)  # this test is about leaving x unchanged
def test_numerical_grad_leaves_x_unchanged(student, rng):
    """x is unchanged after the call, and also after f raised in the middle of it."""
    x = rng.normal(size=(2, 3))
    got = student.numerical_grad(f_sum_squares, x)  # an in-place change is reported
    assert_close(got, 2 * x, rtol=1e-6, atol=1e-8)
    raised, after = student.run(drive_numgrad_f_raises, x)
    assert_true(raised is True, "numerical_grad swallowed the exception raised by f")
    assert_close(after, x, rtol=0, atol=0, msg="x after f raised", hint=HINT_RESTORE)


@pytest.mark.exercise("numerical_grad")
@pytest.mark.points(0.25)
@pytest.mark.hint("Do not hide NaN: a NaN input makes f, and so the gradient, NaN.")
def test_numerical_grad_nan_and_huge(student, reference):
    """NaN propagates; entries of size 1e200 behave as in the reference."""
    x = np.array([1.0, np.nan, 2.0])
    assert_close(
        student.numerical_grad(f_sum_squares, x),
        reference.numerical_grad(f_sum_squares, x),
        equal_nan=True,
    )
    big = np.array([1e200, -3e200])
    assert_close(student.numerical_grad(f_sum_sin, big), reference.numerical_grad(f_sum_sin, big))


# ========================================================================= 2. rel_error


@pytest.mark.exercise("rel_error")
@pytest.mark.points(0.5)
@pytest.mark.hint("max over entries of |a - b| / max(|a|, |b|, eps).")
def test_rel_error_values(student, reference, rng):
    """Random arrays, huge magnitudes and integer input, against the reference."""
    cases = [
        (rng.normal(size=(3, 4)), rng.normal(size=(3, 4))),
        (np.array([1e200, -2e200]), np.array([1.5e200, -2e200])),
        (np.array([1, 2, 3]), np.array([1, 2, 4])),
    ]
    for a, b in cases:
        assert_close(student.rel_error(a, b), reference.rel_error(a, b), rtol=1e-12)


@pytest.mark.exercise("rel_error")
@pytest.mark.points(0.25)
@pytest.mark.hint("Two zeros agree: divide by max(|a|, |b|, eps) so that 0 / eps = 0, not 0 / 0.")
def test_rel_error_both_zero(student):
    """Both zero counts as agreement (0); eps bounds the denominator below."""
    assert_close(student.rel_error(np.zeros(3), np.zeros(3)), 0.0, rtol=0, atol=0)
    assert_close(student.rel_error(np.zeros(2), np.array([0.0, 1e-13])), 0.1, rtol=1e-9)


@pytest.mark.exercise("rel_error")
@pytest.mark.points(0.5)
@pytest.mark.hint(
    "Compute the ratio entry by entry and then take the maximum; dividing the largest "
    "difference by the largest magnitude hides a small entry that is 50 % wrong."
)
def test_rel_error_is_entrywise(student):
    """A small entry that is 50 % wrong is not hidden behind a large correct entry."""
    got = student.rel_error(np.array([1e-3, 100.0]), np.array([2e-3, 100.0]))
    assert_close(got, 0.5, rtol=1e-12)


@pytest.mark.exercise("rel_error")
@pytest.mark.points(0.25)
@pytest.mark.hint(
    "Divide by max(|a|, |b|): dividing by |a| alone makes rel_error(a, b) != rel_error(b, a)."
)
def test_rel_error_symmetric(student):
    """Symmetric in a and b."""
    assert_close(student.rel_error(np.array([1.0]), np.array([3.0])), 2 / 3, rtol=1e-12)
    assert_close(student.rel_error(np.array([3.0]), np.array([1.0])), 2 / 3, rtol=1e-12)


@pytest.mark.exercise("rel_error")
@pytest.mark.points(0.25)
@pytest.mark.hint("NaN must never pass: use np.max (which propagates NaN), not np.nanmax.")
def test_rel_error_nan(student):
    """A NaN gives NaN."""
    got = student.rel_error(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    assert_close(got, np.nan, equal_nan=True)


@pytest.mark.exercise("rel_error")
@pytest.mark.points(0.25)
@pytest.mark.hint(
    "Refuse different shapes with a ValueError; do not broadcast (1,) against (3, 3)."
)
def test_rel_error_shape_mismatch(student):
    """Different shapes raise ValueError; an empty pair gives 0."""
    name = student.run(drive_rel_error_raises, np.ones(1), np.ones((3, 3)))
    assert_equal(name, "ValueError", msg="rel_error of shapes (1,) and (3, 3)")
    assert_close(student.rel_error(np.zeros(0), np.zeros(0)), 0.0, rtol=0, atol=0)


# ========================================================================= 3. unbroadcast


@pytest.mark.exercise("unbroadcast")
@pytest.mark.points(0.3)
@pytest.mark.hint(HINT_SIZE1)
@pytest.mark.parametrize(
    "gshape,shape",
    [((3, 4), (3, 1)), ((3, 4), (1, 4)), ((2, 3), (3,)), ((2, 3), ()), ((2, 3, 4), (3, 1))],
)
def test_unbroadcast_pairs(student, reference, rng, gshape, shape):
    """The broadcasting pairs of the lesson: exact shape and sums; () also as (1, 1) and (1,)."""
    g = rng.normal(size=gshape)
    want = reference.unbroadcast(g, shape)  # the lesson's pairs: their shapes are public
    assert_close(student.unbroadcast(g, shape), want, rtol=1e-12, public=True)
    if shape == ():  # targets of only ones keep their shape: (1, 1) is not ()
        for ones in ((1, 1), (1,)):
            got = student.unbroadcast(g, ones)
            want = reference.unbroadcast(g, ones)
            assert_close(got, want, rtol=1e-12, msg=f"{gshape} to {ones}", public=True)


@pytest.mark.exercise("unbroadcast")
@pytest.mark.points(0.25)
@pytest.mark.hint("When nothing was broadcast, the gradient comes back unchanged.")
def test_unbroadcast_same_shape(student, rng):
    """Same shape (given as a tuple or a list): unchanged values; the input is not modified."""
    g = rng.normal(size=(2, 3))
    assert_close(student.unbroadcast(g, (2, 3)), g, rtol=0, atol=0)
    assert_close(student.unbroadcast(g, [2, 3]), g, rtol=0, atol=0, msg="shape given as a list")


@pytest.mark.exercise("unbroadcast")
@pytest.mark.points(0.25)
@pytest.mark.hint("A sum over a 0-length axis is 0; a 0-length axis of the input stays 0-length.")
def test_unbroadcast_size_zero(student, reference):
    """Size-0 axes: (0, 3) -> (1, 3) and (3,), (2, 0) -> (0,)."""
    for gshape, shape in (((0, 3), (1, 3)), ((2, 0), (0,)), ((0, 3), (3,))):
        g = np.ones(gshape)
        expected = reference.unbroadcast(g, shape)
        got = student.unbroadcast(g, shape)
        assert_close(got, expected, rtol=0, msg=f"{gshape} to {shape}", public=True)


@pytest.mark.exercise("unbroadcast")
@pytest.mark.points(0.5)
@pytest.mark.hint("Keep the gradient's dtype: float32 in, float32 out.", on="dtype")
def test_unbroadcast_float32(student, reference, rng):
    """float32 stays float32."""
    g = rng.normal(size=(4, 3)).astype(np.float32)
    expected = reference.unbroadcast(g, (1, 3))
    got = student.unbroadcast(g, (1, 3))
    assert_close(got, expected, rtol=1e-6, dtype=np.float32, public=True)


@pytest.mark.exercise("unbroadcast")
@pytest.mark.points(0.5)
@pytest.mark.hint("Raise ValueError when shape cannot be broadcast to the gradient's shape.")
def test_unbroadcast_impossible(student):
    """Impossible reductions raise ValueError: (2,3) to (4,), (3,) to (2,3), (2,3) to (2,1,3)."""
    for gshape, shape in (((2, 3), (4,)), ((3,), (2, 3)), ((2, 3), (2, 1, 3))):
        name = student.run(drive_unbroadcast_raises, np.ones(gshape), list(shape))
        assert_equal(name, "ValueError", msg=f"unbroadcast from {gshape} to {shape}")


# ========================================================================= 4a. elementwise rules


def _binary_case(rng, op, ashape, bshape):
    a = rng.normal(size=ashape)
    b = rng.normal(size=bshape)
    if op == "truediv_backward":
        b = np.sign(b) * (np.abs(b) + 0.5)
    g = rng.normal(size=np.broadcast_shapes(np.shape(a), np.shape(b)))
    return a, b, g


def _check_rule(student, reference, op, args, rtol=1e-10, dtype=None):
    got = getattr(student, op)(*args)
    expected = getattr(reference, op)(*args)
    if op in ("add_backward", "sub_backward", "mul_backward", "truediv_backward"):
        a, b = args[0], args[1]
        got = as_pair(got, op)
        expected = as_pair(expected, op)
        for i, (x, name) in enumerate(((a, "a"), (b, "b"))):
            want = reduce_to(expected[i], np.shape(x), "reference")
            assert_close(
                reduce_to(got[i], np.shape(x), f"gradient of {name}"), want, rtol=rtol,
                atol=1e-12, dtype=dtype, msg=f"gradient of {name}",
            )  # fmt: skip
    else:
        assert_close(got, expected, rtol=rtol, atol=1e-12, dtype=dtype, msg=op)


@pytest.mark.exercise("rules_elementwise")
@pytest.mark.points(0.3)
@pytest.mark.hint("Local derivative times grad_out, entry by entry (chain rule).")
@pytest.mark.parametrize("op", ELEMENTWISE)
def test_rule_values(student, reference, rng, op):
    """Each rule on random float64 inputs; binary ones on (3,1)+(1,4), (2,3)*(3,), ()*(2,3)."""
    if op in ("add_backward", "sub_backward", "mul_backward", "truediv_backward"):
        for ashape, bshape in (((3, 1), (1, 4)), ((2, 3), (3,)), ((), (2, 3)), ((2, 3), (2, 3))):
            _check_rule(student, reference, op, _binary_case(rng, op, ashape, bshape))
        return
    x = rng.normal(size=(3, 4))
    if op == "log_backward":
        x = np.abs(x) + 0.1
    if op == "relu_backward":
        x = np.sign(x) * (np.abs(x) + 1e-3)
    g = rng.normal(size=(3, 4))
    if op == "pow_backward":
        for p in (3, 2.0, -1.0, 0.5):
            xp = np.abs(x) + 0.1 if p in (-1.0, 0.5) else x
            _check_rule(student, reference, op, (xp, g, p))
        return
    _check_rule(student, reference, op, (x, g))


@pytest.mark.exercise("rules_elementwise")
@pytest.mark.points(0.25)
@pytest.mark.hint("relu'(0) = 0 (PyTorch's convention): use x > 0, not x >= 0.")
def test_relu_grad_at_zero(student):
    """relu's gradient is exactly 0 at exactly 0, 1 for x > 0 and 0 for x < 0."""
    x = np.array([-1.0, 0.0, 0.0, 2.0])
    got = student.relu_backward(x, np.full(4, 3.0))
    assert_close(got, np.array([0.0, 0.0, 0.0, 3.0]), rtol=0, atol=0)


@pytest.mark.exercise("rules_elementwise")
@pytest.mark.points(0.5)
@pytest.mark.hint(
    "float32 in, float32 out: multiply by Python numbers, not float64 arrays or np.float64.",
    on="dtype",
)
def test_rule_float32(student, reference, rng):
    """float32 inputs give float32 gradients."""
    x = (np.abs(rng.normal(size=(2, 3))) + 0.5).astype(np.float32)
    g = rng.normal(size=(2, 3)).astype(np.float32)
    cases = {
        "mul_backward": (x, x[0], g),
        "truediv_backward": (x, x[0], g),
        "pow_backward": (x, g, 3),
        "tanh_backward": (x, g),
        "relu_backward": (x, g),
        "exp_backward": (x, g),
        "log_backward": (x, g),
    }
    for op, args in cases.items():
        _check_rule(student, reference, op, args, rtol=1e-5, dtype=np.float32)


@pytest.mark.exercise("rules_elementwise")
@pytest.mark.points(0.25)
@pytest.mark.hint("Let NaN and large values flow through; do not clip or replace them.")
def test_rule_nan_and_huge(student, reference):
    """NaN propagates through mul's rule; magnitudes of 1e±200 are handled exactly."""
    a = np.array([1.0, np.nan, 1e200])
    b = np.array([2.0, 3.0, 1e-200])
    g = np.ones(3)
    got = as_pair(student.mul_backward(a, b, g), "mul_backward")
    want = reference.mul_backward(a, b, g)
    assert_close(got[0], want[0], equal_nan=True, msg="gradient of a")
    assert_close(got[1], want[1], equal_nan=True, msg="gradient of b")


# ========================================================================= 4b. shape rules


@pytest.mark.exercise("rules_shape")
@pytest.mark.points(0.3125)
@pytest.mark.hint(HINT_MATMUL)
@pytest.mark.parametrize(
    "ashape,bshape", [((2, 3), (3, 4)), ((1, 3), (3, 4)), ((2, 3), (3, 1)), ((4, 1), (1, 5))]
)
def test_matmul_non_square(student, reference, rng, ashape, bshape):
    """Non-square 2-D products, rows and columns: each gradient has its operand's shape."""
    a, b = rng.normal(size=ashape), rng.normal(size=bshape)
    g = rng.normal(size=np.shape(a @ b))
    got = as_pair(student.matmul_backward(a, b, g), "matmul_backward")
    want = reference.matmul_backward(a, b, g)
    assert_close(got[0], want[0], rtol=1e-10, atol=1e-12, msg="gradient of a")
    assert_close(got[1], want[1], rtol=1e-10, atol=1e-12, msg="gradient of b")


@pytest.mark.exercise("rules_shape")
@pytest.mark.points(0.125)
@pytest.mark.hint(HINT_MATMUL)
@pytest.mark.parametrize("ashape,bshape", [((1, 3), (3, 1)), ((3, 3), (3, 3)), ((0, 3), (3, 2))])
def test_matmul_square_dot_and_empty(student, reference, rng, ashape, bshape):
    """A (1,3)@(3,1) dot product, a square product, and a product with a 0-length axis."""
    a, b = rng.normal(size=ashape), rng.normal(size=bshape)
    g = np.asarray(rng.normal(size=np.shape(a @ b)))
    got = as_pair(student.matmul_backward(a, b, g), "matmul_backward")
    want = reference.matmul_backward(a, b, g)
    assert_close(got[0], want[0], rtol=1e-10, atol=1e-12, msg="gradient of a")
    assert_close(got[1], want[1], rtol=1e-10, atol=1e-12, msg="gradient of b")


@pytest.mark.exercise("rules_shape")
@pytest.mark.points(0.125)
@pytest.mark.hint(
    "With keepdims=False the summed axes are missing from grad_out: put them back (size 1, "
    "e.g. np.expand_dims(grad_out, axes)) before broadcasting to x's shape."
)
@pytest.mark.parametrize(
    "shape,axes,keepdims",
    [((2, 3, 4), (0, 1, 2), False), ((2, 3, 4), (1,), False), ((2, 3, 4), (0, 2), True),
     ((2, 3, 4), (0, 1, 2), True), ((2, 3), (0,), False), ((0, 3), (0,), False), ((), (), False)],
)  # fmt: skip
def test_sum_backward(student, reference, rng, shape, axes, keepdims):
    """sum over all axes, one axis, several axes, keepdims, a 0-length axis, a 0-d input."""
    x = np.asarray(rng.normal(size=shape))
    g = np.asarray(rng.normal(size=np.shape(x.sum(axis=axes, keepdims=keepdims))))
    got = student.sum_backward(x, g, axes, keepdims)
    assert_close(got, reference.sum_backward(x, g, axes, keepdims), rtol=1e-12)


@pytest.mark.exercise("rules_shape")
@pytest.mark.points(0.125)
@pytest.mark.hint(
    "mean over n entries is sum / n: divide the gradient by n, the number of entries averaged "
    "(the product of the sizes of the averaged axes)."
)
@pytest.mark.parametrize(
    "shape,axes,keepdims",
    [((2, 3, 4), (0, 1, 2), False), ((2, 3, 4), (0, 2), False), ((2, 3), (0,), True),
     ((3, 0), (0,), False)],
)  # fmt: skip
def test_mean_backward(student, reference, rng, shape, axes, keepdims):
    """mean over all axes, several axes, keepdims, and next to a size-0 axis."""
    x = rng.normal(size=shape)
    out_shape = np.shape(x.sum(axis=axes, keepdims=keepdims))
    g = np.asarray(rng.normal(size=out_shape))
    got = student.mean_backward(x, g, axes, keepdims)
    assert_close(got, reference.mean_backward(x, g, axes, keepdims), rtol=1e-12)


@pytest.mark.exercise("rules_shape")
@pytest.mark.points(0.25)
@pytest.mark.hint("reshape only moves numbers: reshape grad_out back to x's shape.")
def test_reshape_backward(student, reference, rng):
    """(2, 3) reshaped to (3, 2) and to (6,)."""
    x = rng.normal(size=(2, 3))
    for out in ((3, 2), (6,)):
        g = rng.normal(size=out)
        assert_close(student.reshape_backward(x, g), reference.reshape_backward(x, g), rtol=0)


@pytest.mark.exercise("rules_shape")
@pytest.mark.points(0.25)
@pytest.mark.hint(
    "Undo the permutation: the gradient of x.transpose(axes) is "
    "grad_out.transpose(np.argsort(axes)) (axes is a permutation of range(x.ndim)); axes "
    "itself is only right when the permutation is its own inverse."
)
@pytest.mark.parametrize(
    "shape,axes", [((2, 3), (1, 0)), ((2, 3, 4), (2, 0, 1)), ((2, 3, 4), (1, 2, 0))]
)
def test_transpose_backward(student, reference, rng, shape, axes):
    """A 2-D transpose and permutations that are not their own inverse."""
    x = rng.normal(size=shape)
    g = rng.normal(size=x.transpose(axes).shape)
    got = student.transpose_backward(x, g, axes)
    assert_close(got, reference.transpose_backward(x, g, axes), rtol=0)


@pytest.mark.exercise("rules_shape")
@pytest.mark.points(0.5)
@pytest.mark.hint(
    "An entry picked several times (x[[0, 0, 1]]) receives the sum of its gradients: use "
    "np.add.at, not assignment."
)
def test_getitem_repeated_indices(student, reference, rng):
    """Integer-array indexing with repeats, as in cross-entropy's logp[np.arange(N), y]."""
    x = rng.normal(size=(3, 4))
    index = (np.array([0, 2, 0, 0]), np.array([1, 1, 1, 3]))
    g = rng.normal(size=4)
    assert_close(
        student.getitem_backward(x, g, index), reference.getitem_backward(x, g, index), rtol=1e-12
    )
    g1 = rng.normal(size=(4,))
    assert_close(student.getitem_backward(x, g1, 1), reference.getitem_backward(x, g1, 1), rtol=0)


@pytest.mark.exercise("rules_shape")
@pytest.mark.points(0.25)
@pytest.mark.hint("Gradient of a slice: grad_out in the sliced positions, zeros elsewhere.")
def test_getitem_slice(student, reference, rng):
    """Basic slicing x[1:, ::2]."""
    x = rng.normal(size=(3, 4))
    g = rng.normal(size=(2, 2))
    assert_close(
        student.run(drive_getitem_slice, x, g), reference.run(drive_getitem_slice, x, g), rtol=0
    )


@pytest.mark.exercise("rules_shape")
@pytest.mark.points(0.25)
@pytest.mark.hint("float32 in, float32 out.", on="dtype")
def test_shape_rules_float32(student, reference, rng):
    """float32 stays float32 in matmul, sum and mean."""
    a = rng.normal(size=(2, 3)).astype(np.float32)
    b = rng.normal(size=(3, 4)).astype(np.float32)
    g = rng.normal(size=(2, 4)).astype(np.float32)
    got = as_pair(student.matmul_backward(a, b, g), "matmul_backward")
    want = reference.matmul_backward(a, b, g)
    assert_close(
        got[0], want[0], rtol=1e-5, atol=1e-6, dtype=np.float32, msg="matmul, gradient of a"
    )
    g1 = rng.normal(size=(3,)).astype(np.float32)
    for op in ("sum_backward", "mean_backward"):
        got = getattr(student, op)(a, g1, (0,), False)
        want = getattr(reference, op)(a, g1, (0,), False)
        assert_close(got, want, rtol=1e-6, dtype=np.float32, msg=op)


# ========================================================================= 5. backward


@pytest.mark.exercise("backward")
@pytest.mark.points(1)
@pytest.mark.hint(
    "A node used several times gets the SUM of the gradients of its uses: add each parent's "
    "gradient to its running total (+=), do not overwrite it (=)."
)
def test_backward_node_reuse(student, rng):
    """y = sum(x*x + x): x is used three times, dy/dx = 2x + 1."""
    x = rng.normal(size=3)
    assert_close(student.run(drive_graph_reuse, graph_kit, x), 2 * x + 1, rtol=1e-12)


@pytest.mark.exercise("backward")
@pytest.mark.points(1)
@pytest.mark.hint(
    "Process a node only after every node that uses it: walk a topological order in reverse, "
    "not the order in which a search first reaches the nodes."
)
def test_backward_diamond(student, rng):
    """Two paths of different lengths from x to y meet again: dy/dx = 7 exp(x)."""
    x = rng.normal(size=2)
    assert_close(student.run(drive_graph_diamond, graph_kit, x), 7 * np.exp(x), rtol=1e-12)


@pytest.mark.exercise("backward")
@pytest.mark.points(1)
@pytest.mark.hint(
    "Leaves accumulate across forward passes (PyTorch): add to an existing .grad, start from "
    "scratch only when .grad is None, and keep running totals outside the nodes: intermediate "
    "nodes keep .grad = None."
)
def test_backward_accumulates_across_passes(student, rng):
    """Two forward passes add up; after x.grad = None one pass gives the plain gradient."""
    x = rng.normal(size=3)
    twice, once, inner_clean = student.run(drive_graph_accumulate, graph_kit, x)
    assert_close(twice, 4 * x, rtol=1e-12, msg="after two forward passes")
    assert_close(once, 2 * x, rtol=1e-12, msg="after a reset and one pass")
    assert_true(all(inner_clean), "an intermediate node kept a .grad: only leaves get one")


@pytest.mark.exercise("backward")
@pytest.mark.points(1)
@pytest.mark.hint(
    "Build the topological order with an explicit stack, not a recursive function: a chain of "
    "10,000 operations is deeper than Python's recursion limit."
)
def test_backward_deep_chain(student):
    """A chain of 10,000 additions, without RecursionError."""
    got = student.with_timeout(30).run(drive_graph_deep, graph_kit, np.array([0.5, -1.0]))
    assert_close(got, np.ones(2), rtol=0, atol=0)


@pytest.mark.exercise("backward")
@pytest.mark.points(0.5)
@pytest.mark.hint(
    "Without grad, only a one-element output can be seeded with 1; otherwise raise "
    'RuntimeError("grad can be implicitly created only for scalar outputs"). '
    "With grad, start from it."
)
def test_backward_nonscalar(student, rng):
    """backward() of a vector raises PyTorch's RuntimeError; backward(grad) starts from grad."""
    x = rng.normal(size=3)
    status, types, message = student.run(drive_graph_nonscalar, graph_kit, x)
    assert_equal(status, "raised", msg="backward() of a vector output")
    assert_true("RuntimeError" in types, "backward() of a vector output must raise RuntimeError")
    assert_true(
        "grad can be implicitly created only for scalar outputs" in message,
        "the error message must be PyTorch's: "
        "grad can be implicitly created only for scalar outputs",
    )
    assert_close(
        student.run(drive_graph_vector_seed, graph_kit, x), 3 * (np.arange(3) + 1.0), rtol=1e-12
    )


@pytest.mark.exercise("backward")
@pytest.mark.points(0.5)
@pytest.mark.hint(
    "Only leaves with requires_grad=True get .grad; each gradient has its leaf's shape and dtype."
)
def test_backward_leaves_shapes_dtypes(student, rng):
    """Constants get no gradient; leaves of different shapes; float32 leaves get float32."""
    x = rng.normal(size=3)
    grad, const_is_none = student.run(drive_graph_constant, graph_kit, x)
    assert_close(grad, np.full(3, 2.0), rtol=1e-12)
    assert_true(const_is_none is True, "a leaf with requires_grad=False must keep .grad = None")
    x2 = rng.normal(size=(2, 3))
    gx, gw = student.run(drive_graph_two_leaves, graph_kit, x2)
    w = np.array([0.5, -1.0, 2.0])
    assert_close(gx, np.broadcast_to(w, (2, 3)), rtol=1e-12, msg="gradient of the (2, 3) leaf")
    assert_close(gw, x2.sum(axis=0), rtol=1e-12, msg="gradient of the (3,) leaf")
    dtype, values = student.run(drive_graph_float32, graph_kit, np.array([1.5, -2.0]))
    assert_equal(dtype, "float32", msg="dtype of a float32 leaf's gradient")
    assert_close(values, np.array([3.0, -4.0]), rtol=1e-6)


# ========================================================================= the reference vs PyTorch
# Plain tests (no exercise marker): the grader ignores them; CI checks that the reference the
# students are compared with agrees with PyTorch.


@pytest.mark.torch
@pytest.mark.parametrize("op", ["mul", "truediv", "tanh", "relu", "exp", "log", "pow"])
def test_reference_matches_torch_elementwise(reference, op):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = np.abs(rng.normal(size=(3, 1))) + 0.5
    b = np.abs(rng.normal(size=(1, 4))) + 0.5
    g = rng.normal(size=(3, 4))
    ta = torch.tensor(a, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    if op in ("mul", "truediv"):
        out = ta * tb if op == "mul" else ta / tb
        out.backward(torch.tensor(g))
        ga, gb = getattr(reference, f"{op}_backward")(a, b, g)
        np.testing.assert_allclose(reduce_to(ga, a.shape, "a"), ta.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(reduce_to(gb, b.shape, "b"), tb.grad.numpy(), rtol=1e-12)
        return
    x = np.concatenate([a.ravel(), [0.0]]) if op == "relu" else a.ravel()
    tx = torch.tensor(x, requires_grad=True)
    gx = rng.normal(size=x.shape)
    if op == "pow":
        (tx**2.5).backward(torch.tensor(gx))
        got = reference.pow_backward(x, gx, 2.5)
    else:
        getattr(torch, op)(tx).backward(torch.tensor(gx))
        got = getattr(reference, f"{op}_backward")(x, gx)
    np.testing.assert_allclose(got, tx.grad.numpy(), rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("ashape,bshape", [((2, 3), (3, 4)), ((1, 3), (3, 4)), ((2, 3), (3, 1))])
def test_reference_matches_torch_matmul(reference, ashape, bshape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=ashape), rng.normal(size=bshape)
    g = np.asarray(rng.normal(size=np.shape(a @ b)))
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (ta @ tb).backward(torch.tensor(g))
    ga, gb = reference.matmul_backward(a, b, g)
    np.testing.assert_allclose(ga, ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-12)
