"""PyTorch facts that lesson 01 states ("as in PyTorch"), checked against torch itself."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def test_second_backward_through_one_graph_raises():
    x = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    y = x * x + x
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    y = x * x + x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 14.0


def test_leaves_accumulate_across_forward_passes_and_intermediates_keep_no_grad():
    x = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    for _ in range(2):
        square = x * x
        (square + x).backward()
    assert x.grad.item() == 14.0
    with pytest.warns(UserWarning, match="is not a leaf Tensor"):
        assert square.grad is None


def test_nonscalar_backward_message():
    x = torch.ones(2, dtype=torch.float64, requires_grad=True)
    with pytest.raises(
        RuntimeError, match="grad can be implicitly created only for scalar outputs"
    ):
        (x * x).backward()


def test_relu_gradient_at_zero_is_zero():
    x = torch.tensor([0.0], dtype=torch.float64, requires_grad=True)
    torch.relu(x).sum().backward()
    assert x.grad.item() == 0.0


def test_linear_default_init_is_uniform_in_one_over_sqrt_fan_in():
    """nnlite.gradient_audit draws the claim network's weights like torch.nn.Linear."""
    torch.manual_seed(0)
    layer = torch.nn.Linear(400, 300)
    bound = 1 / 400**0.5
    for p in (layer.weight, layer.bias):
        values = p.detach().abs()
        assert values.max().item() <= bound
        assert values.max().item() > 0.99 * bound
    assert abs(layer.weight.detach().abs().mean().item() - bound / 2) < 0.01 * bound
