"""functional: losses and their input checks, stability, conv2d/pooling against naive loops,
dropout, linear."""

import numpy as np
import pytest

from nnlite import Tensor
from nnlite import functional as F


def naive_conv2d(x, w, b, stride, padding):
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh = (H + 2 * padding - kh) // stride + 1
    ow = (W + 2 * padding - kw) // stride + 1
    out = np.zeros((N, O, oh, ow))
    for n in range(N):
        for o in range(O):
            for i in range(oh):
                for j in range(ow):
                    patch = xp[n, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
                    out[n, o, i, j] = (patch * w[o]).sum() + (0 if b is None else b[o])
    return out


def naive_pool(x, k, stride, reduce):
    N, C, H, W = x.shape
    oh, ow = (H - k) // stride + 1, (W - k) // stride + 1
    out = np.zeros((N, C, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = reduce(
                x[:, :, i * stride : i * stride + k, j * stride : j * stride + k], axis=(2, 3)
            )
    return out


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), (1, 2), (3, 0)])
def test_conv2d_matches_naive_loops_with_asymmetric_kernel(stride, padding):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 7, 8))
    w = rng.normal(size=(4, 3, 3, 2))  # non-square and asymmetric: catches a flipped kernel
    b = rng.normal(size=4)
    out = F.conv2d(x, w, b, stride=stride, padding=padding)
    np.testing.assert_allclose(out.data, naive_conv2d(x, w, b, stride, padding), atol=1e-12)
    out = F.conv2d(x, w, None, stride=stride, padding=padding)
    np.testing.assert_allclose(out.data, naive_conv2d(x, w, None, stride, padding), atol=1e-12)


def test_conv2d_is_cross_correlation_not_convolution():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0
    w = np.arange(9.0).reshape(1, 1, 3, 3)
    out = F.conv2d(x, w, padding=1).data[0, 0]
    np.testing.assert_array_equal(out, w[0, 0, ::-1, ::-1])  # an impulse gives the kernel flipped


def test_conv2d_shape_errors():
    with pytest.raises(ValueError, match="3 channels but weight of shape"):
        F.conv2d(np.ones((1, 3, 5, 5)), np.ones((2, 1, 3, 3)))
    with pytest.raises(ValueError, match="4-D"):
        F.conv2d(np.ones((3, 5, 5)), np.ones((2, 3, 3, 3)))
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.conv2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)))
    with pytest.raises(ValueError, match="stride"):
        F.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), stride=0)


def test_conv2d_float32_and_no_input_grad():
    x = Tensor(np.ones((2, 1, 6, 6), np.float32))
    w = Tensor(np.ones((3, 1, 3, 3), np.float32), requires_grad=True)
    out = F.conv2d(x, w)
    assert out.dtype == np.float32
    out.sum().backward()
    assert w.grad.dtype == np.float32 and x.grad is None
    np.testing.assert_array_equal(w.grad, np.full((3, 1, 3, 3), 2 * 16.0))


@pytest.mark.parametrize("k,stride", [(2, 2), (3, 1), (3, 2)])
def test_pooling_matches_naive_loops(k, stride):
    x = np.random.default_rng(1).normal(size=(2, 3, 7, 7))
    np.testing.assert_allclose(F.max_pool2d(x, k, stride).data, naive_pool(x, k, stride, np.max))
    np.testing.assert_allclose(
        F.avg_pool2d(x, k, stride).data, naive_pool(x, k, stride, np.mean), atol=1e-15
    )


def test_max_pool_overlapping_windows_accumulate_gradient():
    x = Tensor(
        np.array([[[[0.0, 0.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 0.0]]]]), requires_grad=True
    )
    F.max_pool2d(x, 2, stride=1).sum().backward()  # the centre wins all four windows
    assert x.grad[0, 0, 1, 1] == 4.0 and x.grad.sum() == 4.0


def test_pool_stride_defaults_to_kernel():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    assert F.max_pool2d(x, 2).data[0, 0].tolist() == [[5.0, 7.0], [13.0, 15.0]]
    assert F.avg_pool2d(x, 2).data[0, 0].tolist() == [[2.5, 4.5], [10.5, 12.5]]


def test_log_softmax_and_softmax_stable_at_1000():
    z = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0]])
    ls = F.log_softmax(z).data
    assert np.isfinite(ls).all()
    np.testing.assert_allclose(ls[0], [0.0, -1000.0, -2000.0])
    np.testing.assert_allclose(ls[1], np.log(np.full(3, 1 / 3)))
    p = F.softmax(z).data
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_cross_entropy_values_and_shift_invariance():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(5, 4))
    t = np.array([0, 3, 1, 1, 2])
    expected = -np.log(np.exp(z) / np.exp(z).sum(1, keepdims=True))[np.arange(5), t]
    np.testing.assert_allclose(F.cross_entropy(z, t, "none").data, expected)
    np.testing.assert_allclose(F.cross_entropy(z, t).item(), expected.mean())
    np.testing.assert_allclose(F.cross_entropy(z, t, "sum").item(), expected.sum())
    np.testing.assert_allclose(F.cross_entropy(z + 1000, t).item(), expected.mean())
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(z), t).item(), expected.mean())


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    z = Tensor(np.random.default_rng(3).normal(size=(3, 4)), requires_grad=True)
    t = np.array([1, 0, 3])
    F.cross_entropy(z, t).backward()
    p = np.exp(z.data) / np.exp(z.data).sum(1, keepdims=True)
    p[np.arange(3), t] -= 1
    np.testing.assert_allclose(z.grad, p / 3)


def test_cross_entropy_rejects_bad_targets_with_a_sentence():
    z = np.zeros((3, 10))
    with pytest.raises(ValueError, match="target value 10 is out of range for 10 classes"):
        F.cross_entropy(z, np.array([1, 10, 2]))
    with pytest.raises(ValueError, match="target value -1 is out of range"):
        F.cross_entropy(z, np.array([1, -1, 2]))
    with pytest.raises(TypeError, match="integer class indices, got dtype float64"):
        F.cross_entropy(z, np.array([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match="always holds floats"):
        F.cross_entropy(z, Tensor([1, 2, 3]))
    with pytest.raises(ValueError, match=r"needs a target of shape \(3,\), got shape \(4,\)"):
        F.cross_entropy(z, np.array([1, 2, 3, 4]))
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.cross_entropy(z, np.array([1, 2, 3]), reduction="avg")
    with pytest.raises(ValueError, match="out of range"):
        F.nll_loss(z, np.array([0, 0, 11]))


def test_cross_entropy_float32():
    z = Tensor(np.zeros((2, 3), np.float32), requires_grad=True)
    loss = F.cross_entropy(z, np.array([0, 1]))
    assert loss.dtype == np.float32
    loss.backward()
    assert z.grad.dtype == np.float32


def test_mse_loss_requires_equal_shapes():
    with pytest.raises(ValueError, match=r"mse_loss: shapes \(4, 1\) and \(4,\) differ"):
        F.mse_loss(np.ones((4, 1)), np.ones(4))
    assert F.mse_loss(np.array([1.0, 3.0]), np.array([0.0, 0.0])).item() == 5.0


def test_linear_is_one_node_and_checks_shapes():
    x = Tensor(np.ones((2, 3)))
    w = Tensor(np.ones((4, 3)), requires_grad=True)
    b = Tensor(np.zeros(4), requires_grad=True)
    out = F.linear(x, w, b)
    assert out._op == "linear" and out._parents == (x, w, b)
    with pytest.raises(ValueError, match=r"input of shape \(2, 5\) does not match weight of shape"):
        F.linear(np.ones((2, 5)), w)
    with pytest.raises(ValueError, match="bias of shape"):
        F.linear(x, w, np.zeros(3))


def test_dropout():
    x = Tensor(np.ones((200, 50)), requires_grad=True)
    out = F.dropout(x, 0.3, training=True, seed=0)
    kept = out.data != 0
    assert 0.65 < kept.mean() < 0.75
    np.testing.assert_allclose(out.data[kept], 1 / 0.7)  # inverted scaling
    out.sum().backward()
    np.testing.assert_allclose(x.grad, kept / 0.7)
    assert F.dropout(x, 0.3, training=False) is x
    np.testing.assert_array_equal(
        F.dropout(x, 0.5, seed=1).data, F.dropout(x, 0.5, rng=np.random.default_rng(1)).data
    )
    assert (F.dropout(x, 1.0).data == 0).all()
    with pytest.raises(ValueError, match="probability"):
        F.dropout(x, 1.5)


# -- Regressions from issue 8 (PyTorch 2.13's value beside each) -------------------------------


@pytest.mark.parametrize("x_shape, w_shape", [((2, 5, 0), (4, 0)), ((2, 5, 3), (0, 3))], ids=str)
def test_linear_backward_with_an_empty_feature_axis(x_shape, w_shape):
    """Issue 8 item 6: a >2-D input with in_features or out_features 0 crashed in backward."""
    x = Tensor(np.ones(x_shape), requires_grad=True)
    w = Tensor(np.ones(w_shape), requires_grad=True)
    b = Tensor(np.ones(w_shape[:1]), requires_grad=True)
    out = F.linear(x, w, b)
    assert out.shape == x_shape[:-1] + w_shape[:1]  # torch: the same shape
    out.sum().backward()
    assert x.grad.shape == x_shape and w.grad.shape == w_shape  # torch: zeros of these shapes
    assert not x.grad.any() and not w.grad.any()
    assert b.grad.shape == w_shape[:1]


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
def test_softmax_along_an_empty_axis_and_of_a_0d_tensor(fn):
    """Issue 8 item 7: numpy's "zero-size array to reduction" escaped."""
    x = Tensor(np.zeros((2, 0)), requires_grad=True)
    out = fn(x, 1)
    assert out.shape == (2, 0)  # torch: (2, 0)
    out.sum().backward()
    assert x.grad.shape == (2, 0)
    s = Tensor(2.0, requires_grad=True)
    out = fn(s, 0)
    assert out.item() == (1.0 if fn is F.softmax else 0.0)  # torch: 1.0 / 0.0
    out.backward()
    assert s.grad == 0.0  # torch: 0.0
    with pytest.raises(IndexError, match=r"axis 2 is out of range for a 2-D tensor"):
        fn(Tensor(np.zeros((2, 3))), 2)


@pytest.mark.parametrize("target", [np.eye(3)[[0, 2]], np.eye(3, dtype=int)[[0, 2]]])
def test_cross_entropy_with_one_hot_targets_says_pass_class_indices(target):
    """Issue 8 item 9."""
    with pytest.raises(ValueError, match=r"pass class indices, e\.g\. y\.argmax\(1\)"):
        F.cross_entropy(Tensor(np.zeros((2, 3))), target)
    with pytest.raises(ValueError, match=r"pass class indices"):
        F.nll_loss(Tensor(np.zeros((2, 3))), Tensor(target))
