"""numerical_grad and gradcheck themselves: accuracy, robustness, and that they catch errors."""

import numpy as np
import pytest

import nnlite
from nnlite import GradcheckError, Tensor, gradcheck, numerical_grad
from nnlite.tensor import _make


def test_numerical_grad_accuracy_on_sin():
    x = np.linspace(-3, 3, 7).reshape(7, 1)
    g = numerical_grad(lambda v: np.sin(v).sum(), x)
    assert g.shape == x.shape and g.dtype == np.float64
    rel = np.abs(g - np.cos(x)) / np.maximum(np.abs(np.cos(x)), 1e-12)
    assert rel.max() < 1e-8


def test_numerical_grad_is_central_not_forward():
    # f = x**3 at x = 1: central difference error is h**2 = 1e-8; forward would be 3h = 3e-4
    g = numerical_grad(lambda v: (v**3).sum(), np.array([1.0]), h=1e-4)
    assert abs(g[0] - 3.0) < 1e-7


def test_numerical_grad_any_shape_and_closure_style():
    w = np.arange(6.0).reshape(2, 3)
    g = numerical_grad(lambda _: float((w**2).sum()), w)  # f ignores its argument, reads w
    np.testing.assert_allclose(g, 2 * w, atol=1e-6)
    g0 = numerical_grad(lambda v: v * 3.0, np.array(2.0))
    assert g0.shape == () and abs(g0 - 3.0) < 1e-8
    gt = numerical_grad(lambda v: Tensor(v).exp().sum(), np.zeros(2))  # Tensor results accepted
    np.testing.assert_allclose(gt, [1.0, 1.0], atol=1e-8)


def test_numerical_grad_restores_input_even_if_f_raises():
    x = np.array([0.1, 0.2, 0.3])
    before = x.copy()
    calls = []

    def f(v):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("boom")
        return v.sum()

    with pytest.raises(RuntimeError, match="boom"):
        numerical_grad(f, x)
    np.testing.assert_array_equal(x, before)
    numerical_grad(lambda v: (v**2).sum(), x)
    np.testing.assert_array_equal(x, before)  # exactly restored, not x + h - h


def test_numerical_grad_rejects_bad_input():
    with pytest.raises(TypeError, match="float"):
        numerical_grad(lambda v: v.sum(), np.arange(3))
    with pytest.raises(ValueError, match="scalar"):
        numerical_grad(lambda v: v, np.ones(2))


def _wrong_square(x, scale=3.0):
    """x**2 whose backward uses 3x instead of 2x."""
    return _make(x.data**2, (x,), "bad", lambda g: (g * scale * x.data,))


def test_gradcheck_passes_correct_and_fails_wrong_gradient():
    x = Tensor(np.array([[0.5, -1.0], [2.0, 1.5]]), requires_grad=True)
    assert gradcheck(lambda t: t**2, [x])
    with pytest.raises(GradcheckError) as e:
        gradcheck(lambda t: _wrong_square(t).sum(), [x])
    msg = str(e.value)
    assert "input 0" in msg and "element (0, 0)" in msg
    assert "analytic 1.5" in msg and "numeric 1.0" in msg
    assert gradcheck(lambda t: _wrong_square(t), x, raise_exception=False) is False


def test_gradcheck_names_the_failing_input_and_checks_every_output():
    a = Tensor(np.ones(2), requires_grad=True)
    b = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match="input 1 at element \\(0,\\)"):
        gradcheck(lambda s, t: s + _wrong_square(t), [a, b])

    def cross(t):  # output 1 depends on input element 0 through a wrong rule
        out = t * 1.0
        bad = _make(t.data[0] * 2.0, (t,), "bad", lambda g: (np.array([g * 5.0, 0.0]),))
        return nnlite.stack([out[0], bad])

    with pytest.raises(GradcheckError, match="output element \\(1,\\)"):
        gradcheck(cross, [a])


def test_gradcheck_detects_wrong_gradient_shape():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    bad = lambda t: _make(t.data.sum(), (t,), "bad", lambda g: (np.ones(4) * g,))  # noqa: E731
    with pytest.raises((GradcheckError, RuntimeError), match="shape"):
        gradcheck(bad, [x])


def test_gradcheck_tolerance_rule_is_torchs():
    x = Tensor(np.array([1.0]), requires_grad=True)
    # analytic 2 * 1.0004 vs numeric 2: |diff| = 8e-4 <= 1e-5 + 1e-3 * 2 passes
    assert gradcheck(lambda t: _wrong_square(t, 2.0004), [x])
    assert not gradcheck(lambda t: _wrong_square(t, 2.0045), [x], raise_exception=False)
    assert gradcheck(lambda t: _wrong_square(t, 2.0045), [x], rtol=1e-2)


def test_gradcheck_restores_data_and_grads_and_passes_other_args():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x.grad = np.array([7.0, 7.0])
    before = x.data.copy()
    const = Tensor(np.array([3.0, 4.0]))
    assert gradcheck(lambda t, c, k: (t * c * k).sum(), [x, const, 2.0])
    np.testing.assert_array_equal(x.data, before)
    np.testing.assert_array_equal(x.grad, [7.0, 7.0])


def test_gradcheck_input_errors():
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda t: t * 2, [Tensor(np.ones(2))])
    with pytest.raises(TypeError, match="Tensor"):
        gradcheck(lambda t: np.ones(2), [Tensor(np.ones(2), requires_grad=True)])
    with pytest.warns(UserWarning, match="float32"):
        gradcheck(lambda t: t * 2, [Tensor(np.ones(2, np.float32), requires_grad=True)], eps=1e-2)


def test_gradcheck_module_is_callable_and_importable():
    import nnlite.gradcheck as gc_module

    assert gc_module.numerical_grad is numerical_grad
    assert nnlite.gradcheck(lambda t: t * 2, [Tensor(np.ones(2), requires_grad=True)])
