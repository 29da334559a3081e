"""The small Tensor of lesson 01 (nnlite.minitensor) with nnlite's fallbacks (nnlite.backprop)."""

from __future__ import annotations

import numpy as np
import pytest

import nnlite
from nnlite import backprop
from nnlite.gradient_audit import rule_errors
from nnlite.minitensor import ELEMENTWISE_RULES, SHAPE_RULES, Tensor, engine


@pytest.fixture
def T():
    return engine(vars(backprop), vars(backprop), backprop.unbroadcast, backprop.backward)


def test_every_fallback_rule_matches_central_differences(T):
    errors = rule_errors(T, nnlite.numerical_grad, seed=0)
    assert len(errors) >= 20
    assert max(errors.values()) < 1e-5, errors


def test_matches_nnlite_tensor_on_a_small_network(T):
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    grads = []
    for cls in (T, nnlite.Tensor):
        tw, tb = cls(w, requires_grad=True), cls(b, requires_grad=True)
        out = (cls(x) @ tw.T + tb).tanh()
        ((out * out).mean(axis=0) - out.sum(axis=-1, keepdims=True).relu()[0]).sum().backward()
        grads.append((tw.grad, tb.grad))
    for mine, theirs in zip(*grads, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_accumulation_reuse_and_a_deep_chain(T):
    x = T(3.0, requires_grad=True)
    for _ in range(2):
        square = x * x
        (square + x).backward()
    assert x.grad == 14.0 and square.grad is None
    z = T(0.0, requires_grad=True)
    out = z
    for _ in range(10_000):
        out = out + 1.0
    out.backward()
    assert z.grad == 1.0


def test_seeds_and_errors(T):
    v = T(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        (v * v).backward()
    (v * 3.0).backward(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(v.grad, [3.0, 6.0])
    with pytest.raises(ValueError, match=r"\+: shapes \(2,\) and \(3,\) are not broadcastable"):
        v + T(np.ones(3))
    with pytest.raises(ValueError, match=r"matmul: shapes \(2,\) and \(3, 1\)"):
        v @ T(np.ones((3, 1)))
    with pytest.raises(ValueError, match="sum: axis 2 is out of range"):
        v.sum(axis=2)


def test_float32_stays_float32(T):
    x = T(np.ones((2, 2), dtype=np.float32), requires_grad=True)
    (x.tanh() * 2.0).sum().backward()
    assert x.grad.dtype == np.float32


def test_base_class_records_the_graph_but_has_no_rules_or_sweep():
    w = Tensor(2.0, requires_grad=True, label="w")
    y = (w * 3.0).tanh()
    assert y._op == "tanh" and y._parents[0]._op == "*" and y._parents[0]._parents[0] is w
    with pytest.raises(NotImplementedError, match="backward sweep"):
        y.backward()
    with pytest.raises(NotImplementedError, match="tanh_backward"):
        y._backward(np.ones(()))
    assert set(ELEMENTWISE_RULES + SHAPE_RULES) <= set(vars(backprop))


def test_rel_error_fallback():
    from nnlite.gradcheck import rel_error

    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(np.array([1e-3, 100.0]), np.array([2e-3, 100.0])) == 0.5
    assert np.isnan(rel_error(np.array([np.nan]), np.array([1.0])))
    assert rel_error(np.zeros(0), np.zeros(0)) == 0.0
    with pytest.raises(ValueError, match=r"shapes \(1,\) and \(3, 3\) differ"):
        rel_error(np.ones(1), np.ones((3, 3)))
