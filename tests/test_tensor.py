"""Tensor semantics: scalar expressions (micrograd style), graph mechanics, dtypes, errors."""

import math

import numpy as np
import pytest

import nnlite
from nnlite import Tensor, no_grad


def leaf(v):
    return Tensor(v, requires_grad=True)


# -- micrograd-style scalar expressions (hand-derived gradients) --------------------------------


def test_node_reuse():
    x = leaf(3.0)
    y = x * x + x
    y.backward()
    assert y.item() == 12.0
    assert x.grad == 2 * 3.0 + 1


def test_diamond_graph():
    x = leaf(2.0)
    a = x * 3
    b = x.exp()
    y = a * b  # both branches depend on x
    y.backward()
    assert math.isclose(x.grad.item(), 3 * math.exp(2) + 6 * math.exp(2), rel_tol=1e-15)


def test_augmented_assignment_makes_new_nodes():
    a = leaf(-4.0)
    b = leaf(2.0)
    c = a + b
    c0 = c
    c += c + 1  # c = 2c + 1
    assert c is not c0
    c += 1 + c + (-a)  # c = 2c + 1 - a
    c.backward()
    # c = 2(2(a + b) + 1) + 1 - a = 3a + 4b + 3
    assert c.item() == 3 * -4 + 4 * 2 + 3
    assert a.grad == 3.0
    assert b.grad == 4.0


def test_micrograd_sanity_expression():
    # micrograd's test_more_ops expression, gradients derived by hand below
    a = leaf(-4.0)
    b = leaf(2.0)
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    assert math.isclose(g.item(), 24.70408163265306, rel_tol=1e-12)
    assert math.isclose(a.grad.item(), 138.83381924198252, rel_tol=1e-12)
    assert math.isclose(b.grad.item(), 645.5772594752186, rel_tol=1e-12)


def test_relu_pow_division_rules():
    x = leaf([-2.0, 0.0, 3.0])
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])  # relu'(0) = 0
    x = leaf([-2.0, 0.0, 3.0])
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad, [-1.0, 0.0, 1.0])  # abs'(0) = 0
    x = leaf(3.0)
    (x**3).backward()
    assert x.grad == 27.0
    x, y = leaf(3.0), leaf(4.0)
    (x / y).backward()
    assert x.grad == 0.25 and y.grad == -3.0 / 16
    x = leaf(2.0)
    (1 / x).backward()
    assert x.grad == -0.25
    x = leaf(2.0)
    (5 - x).backward()
    assert x.grad == -1.0


def test_tensor_exponent_and_reflected_pow():
    x, p = leaf(2.0), leaf(3.0)
    (x**p).backward()
    assert x.grad == 12.0
    assert math.isclose(p.grad.item(), 8 * math.log(2))
    p = leaf(3.0)
    (2.0**p).backward()
    assert math.isclose(p.grad.item(), 8 * math.log(2))


# -- graph mechanics ----------------------------------------------------------------------------


def test_long_chain_has_no_recursion_error():
    x = leaf(1.0)
    y = x
    for _ in range(10_000):
        y = y + 1.0
    y.backward()
    assert y.item() == 10_001.0
    assert x.grad == 1.0


def test_long_chain_of_multiplications():
    x = leaf(1.0)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert math.isclose(x.grad.item(), 1.0001**10_000, rel_tol=1e-9)


def test_backward_accumulates_across_calls():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * x).sum().backward()  # a second forward pass: its gradient adds to the first
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [7.0, 11.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_grad_is_none_until_reached_and_nonleaf_grad_not_kept():
    x, unused = leaf(1.0), leaf(2.0)
    h = x * 2
    y = h * 3
    y.backward()
    assert unused.grad is None
    assert h.grad is None
    assert x.grad == 6.0


def test_retain_grad():
    x = leaf(1.0)
    h = x * 2
    h.retain_grad()
    (h * 3).backward()
    assert h.grad == 3.0


def test_backward_on_leaf():
    x = leaf([1.0, 2.0])
    x.backward(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_grad_is_numpy_array_of_own_memory():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()  # add passes one upstream gradient to both parents
    assert type(a.grad) is np.ndarray and type(b.grad) is np.ndarray
    a.grad[0] = 100.0
    assert b.grad[0] == 1.0
    a.grad = b.grad = None
    ((a + b) * 2.0).sum().backward()  # here that gradient is a fresh array, not a view
    a.grad[0] = 100.0
    assert b.grad[0] == 2.0
    assert not np.shares_memory(a.grad, b.grad)


def test_no_grad_builds_no_graph():
    x = leaf([1.0, 2.0])
    with no_grad():
        y = x * 2 + 1
        assert not nnlite.is_grad_enabled()
    assert nnlite.is_grad_enabled()
    assert not y.requires_grad
    assert y._parents == () and y._op == ""
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_as_decorator_and_nested_enable_grad():
    x = leaf(1.0)

    @no_grad()
    def f(t):
        return t * 2

    @no_grad
    def g(t):
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad
    with no_grad():
        with nnlite.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad


def test_no_grad_restored_after_exception():
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            raise ZeroDivisionError
    assert nnlite.is_grad_enabled()


def test_parents_and_op_for_graph_drawing():
    a, b = leaf(1.0), leaf(2.0)
    c = a * b
    d = c + 1.0
    assert a._parents == () and a._op == ""
    assert c._op == "mul" and c._parents[0] is a and c._parents[1] is b
    assert d._op == "add" and d._parents == (c,)  # constants are not parents
    m = nnlite.matmul(Tensor(np.ones((2, 2))), leaf(np.ones((2, 2))))
    assert m._op == "matmul" and len(m._parents) == 2


def test_detach_shares_data_without_graph():
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d._parents == ()
    e = x.detach()
    e.data[0] = 5.0
    assert x.data[0] == 5.0


def test_constant_inputs_get_no_grad():
    x = leaf([1.0, 2.0])
    c = Tensor([3.0, 4.0])
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


# -- broadcasting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sa,sb", [((3, 1), (1, 4)), ((2, 3), (3,)), ((), (2, 3)), ((4, 1, 3), (2, 1))], ids=str
)
def test_broadcast_gradients_have_input_shapes(sa, sb):
    rng = np.random.default_rng(0)
    a, b = leaf(rng.normal(size=sa)), leaf(rng.normal(size=sb))
    out = a * b + a - b
    out.backward(np.ones(out.shape))
    assert a.grad.shape == sa and b.grad.shape == sb
    expected_a = np.broadcast_to(b.data + 1, out.shape)
    np.testing.assert_allclose(a.grad, nnlite.unbroadcast(np.array(expected_a), sa))


def test_unbroadcast():
    g = np.ones((2, 3, 4))
    assert nnlite.unbroadcast(g, (3, 1)).tolist() == [[8.0]] * 3
    assert nnlite.unbroadcast(g, ()).item() == 24.0
    assert nnlite.unbroadcast(g, (2, 3, 4)) is g
    with pytest.raises(ValueError, match="cannot sum"):
        nnlite.unbroadcast(g, (5,))


# -- dtypes -------------------------------------------------------------------------------------


def test_dtype_rules():
    assert Tensor(1).dtype == np.float64
    assert Tensor(True).dtype == np.float64
    assert Tensor([1, 2]).dtype == np.float64
    assert Tensor(np.arange(3, dtype=np.int32)).dtype == np.float64
    assert Tensor(np.uint8([1])).dtype == np.float64
    assert Tensor(np.ones(2, np.float32)).dtype == np.float32
    assert Tensor([1.0], dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match="floating dtype"):
        Tensor([1.0], dtype=np.int64)
    with pytest.raises(TypeError, match="stack"):
        Tensor([Tensor(1.0), Tensor(2.0)])


def test_float32_stays_float32():
    x = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    w = Tensor(np.ones((3, 2), np.float32), requires_grad=True)
    y = ((x * 2.0 + 1) @ w / 3).tanh().sigmoid().exp().log().relu() ** 2
    y = nnlite.sum(y * np.float64(0.5)) + 1
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32
    z = x.mean() + x.var() + x.max() + x[0, 1] + nnlite.stack([x, x]).sum()
    assert z.dtype == np.float32
    assert (x + Tensor(np.ones(3))).dtype == np.float64  # float32 + float64 tensors: float64
    assert (x + np.arange(3)).dtype == np.float64  # integer arrays become float64 first


def test_requires_grad_tensor_copies_its_input():
    a = np.ones(3)
    t = Tensor(a, requires_grad=True)
    t.data -= 1  # what an optimizer step does
    assert a[0] == 1.0
    c = Tensor(a)  # a constant may share memory, like torch.as_tensor
    assert c.data is a


# -- errors a student can read ------------------------------------------------------------------


def test_shape_errors_name_op_and_shapes():
    with pytest.raises(ValueError) as e:
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    assert str(e.value).startswith("matmul: shapes (2, 3) and (4, 5) are not aligned")
    with pytest.raises(ValueError) as e:
        Tensor(np.ones((3, 5))) + Tensor(np.ones((4, 5)))
    assert str(e.value) == "add: shapes (3, 5) and (4, 5) are not broadcastable"
    for op, name in [
        (lambda a, b: a - b, "sub"),
        (lambda a, b: a * b, "mul"),
        (lambda a, b: a / b, "div"),
    ]:
        with pytest.raises(ValueError, match=f"^{name}: shapes \\(2,\\) and \\(3,\\)"):
            op(Tensor(np.ones(2)), np.ones(3))
    with pytest.raises(ValueError, match="reshape: cannot reshape a tensor of shape \\(2, 3\\)"):
        Tensor(np.ones((2, 3))).reshape(4)
    with pytest.raises(ValueError, match="matmul: shapes \\(\\) and \\(3,\\)"):
        nnlite.matmul(Tensor(1.0), Tensor(np.ones(3)))


def test_nonscalar_backward_message():
    x = leaf([1.0, 2.0])
    with pytest.raises(
        RuntimeError, match="^grad can be implicitly created only for scalar outputs$"
    ):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="does not match"):
        (x * 2).backward(np.ones(3))
    (x * 2).reshape(1, 2)[:, :1].backward()  # one element: allowed, like torch
    assert x.grad.tolist() == [2.0, 0.0]


def test_item_and_setitem_errors():
    with pytest.raises(ValueError, match="2 elements"):
        Tensor([1.0, 2.0]).item()
    with pytest.raises(TypeError, match="item assignment"):
        Tensor([1.0, 2.0])[0] = 3.0
    with pytest.raises(TypeError, match="0-d"):
        len(Tensor(1.0))


# -- conveniences -------------------------------------------------------------------------------


def test_attributes_and_repr():
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert t.T.shape == (3, 2)
    assert repr(t) == "tensor([[0., 1., 2.],\n        [3., 4., 5.]], requires_grad=True)"
    assert repr(t * 2).endswith("grad_fn=<mul>)")
    assert repr(Tensor([1.5], dtype=np.float32)) == "tensor([1.5], dtype=float32)"
    assert repr(Tensor(2.0)) == "tensor(2.)"
    assert [r.tolist() for r in t] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_numpy_is_a_snapshot_and_array_protocol():
    t = Tensor([1.0, 2.0], requires_grad=True)
    snap = t.numpy()
    t.data += 1
    assert snap.tolist() == [1.0, 2.0]
    assert np.asarray(t).tolist() == [2.0, 3.0]


def test_comparisons_return_boolean_arrays():
    t = Tensor([1.0, 2.0, 3.0])
    for r in (t < 2, t <= 2, t > 2, t >= 2, t == 2, t != 2, t > Tensor([0.0, 5.0, 1.0])):
        assert type(r) is np.ndarray and r.dtype == bool
    assert (t == 2).tolist() == [False, True, False]
    assert (np.array([2.0, 2.0, 2.0]) < t).tolist() == [False, False, True]


def test_numpy_array_on_the_left_dispatches_to_tensor():
    t = leaf([1.0, 2.0])
    out = np.array([3.0, 4.0]) * t + np.array([1.0, 1.0]) - np.ones(2) @ t.reshape(2, 1)
    assert isinstance(out, Tensor)
    out.sum().backward()
    np.testing.assert_array_equal(t.grad, [1.0, 2.0])


def test_module_level_functions():
    x = np.array([[1.0, -2.0], [3.0, 0.5]])
    assert np.allclose(nnlite.exp(x).data, np.exp(x))
    assert nnlite.sum(x, axis=0).tolist() == [4.0, -1.5]
    assert nnlite.max(x).item() == 3.0
    assert nnlite.abs(x).data.min() == 0.5
    assert nnlite.clip(x, -1, 1).data.tolist() == [[1.0, -1.0], [1.0, 0.5]]
    assert nnlite.transpose(x).shape == (2, 2)
    assert nnlite.zeros(2, 3).shape == (2, 3) and nnlite.ones((2,)).data.tolist() == [1.0, 1.0]
    assert "sum" not in nnlite.__all__ and "max" not in nnlite.__all__


def test_getitem_repeated_indices_accumulate():
    x = leaf([1.0, 2.0, 3.0])
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])
    x.grad = None
    x[[1, 1]].sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 2.0, 0.0])
    x.grad = None
    x[x.data > 1.5].sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0])


def test_transpose_conventions():
    t = Tensor(np.zeros((2, 3, 4)))
    assert t.transpose().shape == (4, 3, 2)
    assert t.transpose(0, 2).shape == (4, 3, 2)  # torch: swap two axes
    assert t.transpose(1, 2, 0).shape == (3, 4, 2)  # numpy: permutation
    assert t.permute(2, 0, 1).shape == (4, 2, 3)
    with pytest.raises(ValueError, match="permutation"):
        t.permute(0, 0, 1)


def test_max_ties_rules():
    x = leaf([[1.0, 3.0, 3.0], [3.0, 0.0, 3.0]])
    x.max().backward()  # full reduction: split evenly between the 4 maxima
    np.testing.assert_array_equal(x.grad, [[0, 0.25, 0.25], [0.25, 0, 0.25]])
    x.grad = None
    x.max(axis=1).sum().backward()  # along an axis: the first maximum of each row
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [1, 0, 0]])
    x.grad = None
    x.max(axis=(0, 1)).backward()  # an explicit axis tuple: the first in row-major order
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [0, 0, 0]])
    x.grad = None
    nnlite.maximum(x, 3.0).sum().backward()  # elementwise ties: half each
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [0.5, 0, 0.5]])


# -- Regressions from issue 8 (PyTorch 2.13's value beside each) -------------------------------


def test_transpose_of_two_axes_swaps_them_whatever_the_number_of_axes():
    """Issue 8 item 1: transpose(d0, d1) on a 2-D tensor used to do nothing."""
    x = Tensor(np.arange(6.0).reshape(2, 3))
    for dims in [(0, 1), (1, 0), (-2, -1), (0, -1)]:
        assert x.transpose(*dims).shape == (3, 2)  # torch: (3, 2)
        assert nnlite.transpose(x, *dims).data.tolist() == [[0, 3], [1, 4], [2, 5]]
    assert x.transpose(1, 1).shape == (2, 3)  # torch: unchanged, no error
    assert x.transpose(0, 0).data.tolist() == x.data.tolist()
    assert x.transpose((0, 1)).shape == (2, 3)  # a tuple is numpy's permutation
    assert Tensor(np.zeros((2, 3, 4))).transpose(0, 2).shape == (4, 3, 2)
    assert Tensor(3.0).transpose(0, -1).shape == ()  # torch: ()


def test_std_gradient_is_zero_where_the_spread_is_zero():
    """Issue 8 item 2: sqrt's infinite slope times a zero deviation gave NaN."""
    x = leaf([2.0, 2.0, 2.0])
    x.std().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])  # torch: [0, 0, 0]
    y = leaf([[2.0], [3.0]])
    y.std(axis=1, correction=0).sum().backward()
    np.testing.assert_array_equal(y.grad, [[0.0], [0.0]])  # torch: [[0], [0]]
    z = leaf([[1.0, 3.0], [2.0, 2.0]])
    z.std(axis=1).sum().backward()  # one row with spread, one without
    np.testing.assert_allclose(z.grad, [[-(0.5**0.5), 0.5**0.5], [0.0, 0.0]])
    w = leaf([[2.0], [3.0]])
    w.std(axis=1).sum().backward()  # n - correction = 0: undefined, as in torch
    assert np.isnan(w.grad).all()  # torch: [[nan], [nan]]


def test_python_scalars_and_0d_tensors_do_not_promote_float32():
    """Issue 8 item 3: PyTorch's rule, a 0-d operand does not promote a tensor with axes."""
    x32 = Tensor(np.ones(3, dtype=np.float32))
    two64 = Tensor(2.0)
    f32 = np.dtype(np.float32)
    assert nnlite.maximum(x32, 0).dtype == f32  # torch: float32
    assert nnlite.minimum(0.5, x32).dtype == f32  # torch: float32
    assert nnlite.where(x32.data > 0, x32, 0.0).dtype == f32  # torch: float32
    assert (x32 * two64).dtype == f32  # torch: float32
    assert (two64 - x32).dtype == f32  # torch: float32
    assert (x32 / np.array(2.0)).dtype == f32  # a 0-d array is a 0-d tensor: float32
    assert (x32**two64).dtype == f32 and (two64**x32).dtype == f32  # torch: float32
    assert nnlite.maximum(x32, two64).dtype == f32  # torch: float32
    assert x32.clip(min=two64).dtype == f32 and x32.clip(max=np.array(0.5)).dtype == f32
    # Both 0-d, or both with axes: the larger dtype wins, as in torch.
    assert (Tensor(np.float32(1.0)) * two64).dtype == np.float64  # torch: float64
    assert (x32 + Tensor(np.ones(3))).dtype == np.float64  # torch: float64
    # The 0-d float64 operand still gets a float64 gradient.
    a = Tensor(2.0, requires_grad=True)
    (x32 * a).sum().backward()
    assert a.grad.dtype == np.float64 and a.grad == 3.0  # torch: tensor(3., float64)


def test_max_min_along_an_axis_when_another_axis_is_empty():
    """Issue 8 item 5: backward crashed reshaping an empty array with -1."""
    x = leaf(np.zeros((0, 10)))
    x.max(axis=1).sum().backward()
    assert x.grad.shape == (0, 10)  # torch: grad of shape (0, 10)
    y = leaf(np.zeros((3, 0, 2)))
    y.min(axis=(0, 2), keepdims=True).sum().backward()
    assert y.grad.shape == (3, 0, 2)


def test_empty_list_index_selects_nothing():
    """Issue 8 item 8: x[[]] became a float index and raised."""
    x = leaf(np.arange(6.0).reshape(2, 3))
    assert x[[]].shape == (0, 3)  # torch: (0, 3)
    assert x[:, []].shape == (2, 0)  # torch: (2, 0)
    x[[]].sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((2, 3)))


@pytest.mark.parametrize(
    "make, error, message",
    [
        (
            lambda x: x.sum(axis=2),
            IndexError,
            r"sum: axis 2 is out of range for a 2-D tensor of "
            r"shape \(2, 3\)",
        ),
        (lambda x: x.mean(axis=(0, 0)), ValueError, r"mean: axis \(0, 0\) names the same axis"),
        (
            lambda x: x[:0].max(),
            ValueError,
            r"max: an empty tensor of shape \(0, 3\) has no maximum",
        ),
        (lambda x: x[:, :0].min(axis=1), ValueError, r"min: axis 1 of a tensor of shape \(2, 0\)"),
        (lambda x: bool(x), ValueError, r"bool\(\): .* shape \(2, 3\) .*\(t > 0\)\.any\(\)"),
        (lambda x: x.permute(5, 0), IndexError, r"permute: axis 5 is out of range .* \(2, 3\)"),
        (lambda x: x.permute(0, 0), ValueError, r"permute: axes \(0, 0\) are not a permutation"),
        (lambda x: x.transpose(0, 2), IndexError, r"transpose: axis 2 is out of range"),
        (lambda x: x.squeeze(1), ValueError, r"squeeze: axis 1 .* has length 3"),
        (lambda x: x.unsqueeze(3), IndexError, r"unsqueeze: axis 3 is out of range"),
        (lambda x: x.flatten(4), IndexError, r"flatten: axis 4 is out of range"),
        (lambda x: x[2], IndexError, r"getitem: index 2 is out of bounds .* shape \(2, 3\)"),
    ],
)
def test_errors_are_one_sentence_naming_the_op_and_the_shape(make, error, message):
    """Issue 8 item 9 (torch raises IndexError for an axis out of range too)."""
    with pytest.raises(error, match=message):
        make(Tensor(np.zeros((2, 3))))


def test_bool_of_one_element_and_0d_axes():
    assert bool(Tensor([1.0])) and not bool(Tensor(0.0))
    s = Tensor(3.0)
    assert s.sum(axis=0).item() == 3.0 and s.max(axis=-1).item() == 3.0  # torch: 3.0
    with pytest.raises(IndexError, match="axis 1 is out of range for a 0-D tensor"):
        s.sum(axis=1)  # torch: IndexError


def test_accumulated_gradient_keeps_the_leaf_dtype():
    """Found by the torch fuzz: a float32 leaf reached twice by float64 gradients (through a
    0-d float64 operand) got a float64 .grad."""
    x = Tensor(np.float32(1.5), requires_grad=True)
    ((x * x) * Tensor(2.0)).backward()
    assert x.grad.dtype == np.float32 and x.grad == 6.0  # torch: tensor(6., float32)
