"""backward frees the graph it went through, as PyTorch does: a second backward through it
raises PyTorch's RuntimeError unless the first was given ``retain_graph=True``; gradients of two
forward passes still add up in a leaf's ``.grad``."""

import weakref

import numpy as np
import pytest

import nnlite
from nnlite import Tensor
from nnlite import functional as F

SECOND_TIME = "Trying to backward through the graph a second time"


def leaf(v):
    return Tensor(np.asarray(v, dtype=np.float64), requires_grad=True)


def test_second_backward_through_the_same_graph_raises_and_leaves_grad_alone():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=SECOND_TIME):
        y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])  # the failed call added nothing


def test_retain_graph_allows_one_more_backward_which_then_frees_it():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_two_forward_passes_accumulate_in_leaf_grad():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [5.0, 7.0])


def test_new_graph_on_a_freed_intermediate_raises():
    x = leaf([1.0, 2.0])
    z = x * x
    z.sum().backward()
    with pytest.raises(RuntimeError, match=SECOND_TIME):
        (z * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_leaves_of_a_freed_graph_start_new_graphs():
    x = leaf([1.0, 2.0])
    z = x * x
    (z * 2).sum().backward()  # frees z's node and those above it, not the leaf x
    (x * 5).sum().backward()
    np.testing.assert_array_equal(x.grad, [4 * 1.0 + 5, 4 * 2.0 + 5])


def test_leaf_backward_has_no_graph_to_free():
    x = leaf([1.0, 2.0])
    x.backward(np.ones(2))
    x.backward(np.ones(2))
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_backward_releases_the_saved_values_but_keeps_the_structure():
    x = leaf(np.ones((3, 4)))
    logits = F.linear(x, leaf(np.ones((2, 4))))
    loss = F.cross_entropy(logits, np.array([0, 1, 1]))
    closure = weakref.ref(loss._backward)  # holds the softmax of the logits
    loss.backward()
    assert closure() is None
    # What a graph picture needs survives: parents, op names, not a leaf.
    assert loss._parents == (logits,) and loss._op == "cross_entropy"
    assert not loss.is_leaf and "grad_fn=<cross_entropy>" in repr(loss)


def test_retained_node_grad_with_retain_graph():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    y = (h * h).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(h.grad, 2 * 2 * np.array([3.0, 6.0]))
    np.testing.assert_array_equal(x.grad, 2 * 18 * np.array([1.0, 2.0]))


def test_retained_backward_of_a_network_repeats_exactly():
    """The fused paths compute in place where they can; a retained graph must give the same
    gradients again (no closure may change what it saved)."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(5, 4)).astype(np.float32))
    w1, w2 = (leaf(rng.normal(size=s)) for s in ((3, 4), (2, 3)))
    loss = F.cross_entropy(F.linear(F.linear(x, w1).relu(), w2), np.array([0, 1, 1, 0, 1]))
    loss.backward(retain_graph=True)
    first = [w1.grad.copy(), w2.grad.copy()]
    w1.grad = w2.grad = None
    loss.backward()
    for g, want in zip((w1.grad, w2.grad), first, strict=True):
        np.testing.assert_array_equal(g, want)


def test_gradient_keyword_and_its_shape_error():
    x = leaf([1.0, 2.0])
    y = x * x
    y.backward(gradient=np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 40.0])
    with pytest.raises(RuntimeError, match=r"gradient of shape \(3,\).*shape \(2,\)"):
        (x * x).backward(np.ones(3))


def test_gradcheck_backs_through_one_graph_per_output_element_and_frees_nothing_outside():
    x = leaf(np.array([0.3, -0.7, 1.1]))
    h = x * x  # a graph built outside gradcheck, used inside fn
    a = leaf(np.array([0.5, 2.0, -1.5]))
    assert nnlite.gradcheck(lambda t: (t * h).tanh(), [a])  # 3 output elements, 3 backwards
    x.grad = None
    h.sum().backward()  # h's graph is still usable afterwards
    np.testing.assert_allclose(x.grad, 2 * x.data)


def test_training_loop_with_fresh_graph_per_step_runs():
    rng = np.random.default_rng(0)
    model = nnlite.nn.MLP([4, 5, 3], seed=0)
    opt = nnlite.optim.SGD(model.parameters(), lr=0.1)
    X, y = rng.normal(size=(8, 4)), rng.integers(0, 3, size=8)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


# -- the same, side by side with PyTorch ---------------------------------------------------------


@pytest.mark.torch
def test_message_is_torchs():
    torch = pytest.importorskip("torch")
    t = torch.ones(2, requires_grad=True)
    ty = (t * t).sum()
    ty.backward()
    with pytest.raises(RuntimeError) as expected:
        ty.backward()
    x = leaf([1.0, 1.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError) as got:
        y.backward()
    assert str(got.value) == str(expected.value)


@pytest.mark.torch
def test_retain_graph_and_accumulation_match_torch():
    torch = pytest.importorskip("torch")
    data = np.array([0.5, -1.0, 2.0])
    x, t = leaf(data), torch.tensor(data, requires_grad=True)
    for v in (x, t):
        z = (v * v).tanh()  # a shared intermediate
        z.sum().backward(retain_graph=True)
        (z * 3).sum().backward()  # through z a second time: allowed, it was retained
        (v.exp() * v).sum().backward()  # a second forward pass
        with pytest.raises(RuntimeError, match=SECOND_TIME):
            (z * 2).sum().backward()  # z was freed by the previous backward through it
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12)


@pytest.mark.torch
def test_two_passes_of_a_network_accumulate_like_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    W, X = rng.normal(size=(3, 4)), rng.normal(size=(5, 4))
    y = np.array([0, 2, 1, 1, 0])
    w, tw = leaf(W), torch.tensor(W, requires_grad=True)
    for _ in range(2):
        F.cross_entropy(F.linear(Tensor(X), w), y).backward()
        torch.nn.functional.cross_entropy(torch.tensor(X) @ tw.T, torch.tensor(y)).backward()
    np.testing.assert_allclose(w.grad, tw.grad.numpy(), rtol=1e-12, atol=1e-14)
