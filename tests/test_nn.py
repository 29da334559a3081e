"""nn: Module registration, traversal, state, hooks, repr; layers, init and seeding."""

import numpy as np
import pytest

from nnlite import Tensor, nn
from nnlite import functional as F


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(1))
        self.body = nn.Sequential(nn.Linear(3, 4, seed=0), nn.ReLU(), nn.Linear(4, 2, seed=1))
        self.note = "not a parameter"
        self.plain = Tensor(np.ones(2), requires_grad=True)  # not registered, as in torch

    def forward(self, x):
        return self.body(x) * self.scale


def test_registration_and_dotted_names():
    m = Tiny()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias"]
    assert len(list(m.parameters())) == 5
    assert [type(c).__name__ for c in m.children()] == ["Sequential"]
    assert [n for n, _ in m.named_modules()] == ["", "body", "body.0", "body.1", "body.2"]
    assert len(list(m.modules())) == 5


def test_reassignment_and_deletion_update_registry():
    m = Tiny()
    m.scale = None
    assert "scale" not in dict(m.named_parameters())
    m.body = nn.Linear(3, 2)
    assert [n for n, _ in m.named_parameters()] == ["body.weight", "body.bias"]
    del m.body
    assert list(m.parameters()) == []


def test_shared_module_parameters_listed_once():
    lin = nn.Linear(2, 2, seed=0)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2


def test_setattr_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(1))

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Bad()


def test_train_eval_and_zero_grad():
    m = Tiny()
    assert m.training and m.body[1].training
    assert m.eval() is m and not m.body[0].training
    m.train()
    assert m.body[2].training
    m(np.ones((2, 3))).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_state_dict_round_trip_and_copies():
    a, b = Tiny(), Tiny()
    b.body[0].weight.data += 1.0
    sd = a.state_dict()
    assert list(sd) == [n for n, _ in a.named_parameters()]
    sd["scale"][0] = 123.0  # a copy: editing it leaves the model alone
    assert a.scale.data[0] == 1.0
    w_obj = b.body[0].weight.data
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(b.body[0].weight.data, a.body[0].weight.data)
    assert b.body[0].weight.data is w_obj  # loaded in place: optimizers keep working


def test_load_state_dict_errors_are_readable():
    m = Tiny()
    sd = m.state_dict()
    sd.pop("scale")
    sd["extra"] = np.ones(1)
    with pytest.raises(
        ValueError, match=r"missing keys \['scale'\] and unexpected keys \['extra'\]"
    ):
        m.load_state_dict(sd)
    missing, unexpected = m.load_state_dict(sd, strict=False)
    assert missing == ["scale"] and unexpected == ["extra"]
    sd = m.state_dict()
    sd["body.0.weight"] = np.ones((3, 4))
    before = m.scale.data.copy()
    sd["scale"] = np.full(1, 9.0)
    with pytest.raises(
        ValueError, match=r"shape mismatch for 'body.0.weight': the state has shape \(3, 4\)"
    ):
        m.load_state_dict(sd)
    np.testing.assert_array_equal(m.scale.data, before)  # nothing copied on failure


def test_forward_hooks_record_replace_and_remove():
    m = nn.MLP([3, 5, 2], seed=0)
    seen = []
    h = m[1].register_forward_hook(lambda mod, inp, out: seen.append(out.data.copy()))
    x = np.random.default_rng(0).normal(size=(4, 3))
    m(x)
    assert len(seen) == 1 and seen[0].shape == (4, 5) and (seen[0] >= 0).all()
    h.remove()
    m(x)
    assert len(seen) == 1
    with m[2].register_forward_hook(lambda mod, inp, out: out * 0):
        assert (m(x).data == 0).all()
    assert (m(x).data != 0).any()


def test_hook_sees_inputs_and_gradients_flow_through_hooked_output():
    lin = nn.Linear(2, 2, seed=0)
    got = {}
    lin.register_forward_hook(lambda mod, inp, out: got.update(inp=inp, mod=mod))
    x = Tensor(np.ones((1, 2)), requires_grad=True)
    lin(x).sum().backward()
    assert got["mod"] is lin and got["inp"][0] is x
    assert x.grad is not None


def test_repr_tree():
    m = nn.Sequential(
        nn.Conv2d(1, 8, 5, seed=0),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 12 * 12, 10, seed=0),
    )
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 8, kernel_size=(5, 5), stride=(1, 1))\n"
        "  (1): ReLU()\n"
        "  (2): MaxPool2d(kernel_size=2, stride=2, padding=0)\n"
        "  (3): Flatten(start_dim=1, end_dim=-1)\n"
        "  (4): Linear(in_features=1152, out_features=10, bias=True)\n"
        ")"
    )
    assert repr(Tiny()).startswith("Tiny(\n  (body): Sequential(\n    (0): Linear(")
    assert repr(nn.Parameter([1.0])) == "Parameter containing:\ntensor([1.], requires_grad=True)"
    out = m(np.zeros((2, 1, 28, 28)))
    assert out.shape == (2, 10)


def test_linear_shapes_init_and_seeding():
    lin = nn.Linear(784, 128, seed=0)
    assert lin.weight.shape == (128, 784) and lin.bias.shape == (128,)
    bound = 1 / np.sqrt(784)
    for p in (lin.weight, lin.bias):
        assert np.abs(p.data).max() <= bound
        assert np.abs(p.data).max() > 0.95 * bound  # uniform over the whole interval
        assert abs(p.data.mean()) < 0.1 * bound
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    same = nn.Linear(784, 128, seed=0)
    np.testing.assert_array_equal(lin.weight.data, same.weight.data)
    g = nn.Linear(784, 128, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(lin.weight.data, g.weight.data)
    assert not np.array_equal(nn.Linear(784, 128, seed=1).weight.data, lin.weight.data)
    assert nn.Linear(3, 2, bias=False).bias is None
    assert nn.Linear(3, 2, dtype=np.float32).weight.dtype == np.float32
    x = np.random.default_rng(0).normal(size=(5, 784))
    np.testing.assert_allclose(lin(x).data, x @ lin.weight.data.T + lin.bias.data)
    with pytest.raises(ValueError, match="in_features must be a positive int"):
        nn.Linear(0, 3)
    with pytest.raises(TypeError, match="Generator"):
        nn.Linear(3, 2, rng="seed")


def test_conv2d_layer():
    conv = nn.Conv2d(3, 6, (3, 5), stride=2, padding=1, seed=0)
    assert conv.weight.shape == (6, 3, 3, 5)
    assert np.abs(conv.weight.data).max() <= 1 / np.sqrt(3 * 3 * 5)
    x = np.random.default_rng(0).normal(size=(2, 3, 9, 9))
    out = conv(x)
    np.testing.assert_allclose(out.data, F.conv2d(x, conv.weight, conv.bias, 2, 1).data)
    assert out.shape == (2, 6, 5, 4)


def test_sequential_container():
    a, b = nn.Linear(2, 3, seed=0), nn.Tanh()
    s = nn.Sequential(a, b)
    assert len(s) == 2 and s[0] is a and s[-1] is b and list(s) == [a, b]
    assert isinstance(s[:1], nn.Sequential) and len(s[:1]) == 1
    s.append(nn.Sigmoid())
    assert len(s) == 3
    y = s(np.ones((1, 2)))
    assert ((y.data > 0) & (y.data < 1)).all()
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(lambda x: x)


def test_mlp_structure_and_parameter_count():
    m = nn.MLP([784, 128, 10], seed=0)
    assert [type(l).__name__ for l in m] == ["Linear", "ReLU", "Linear"]
    assert sum(p.size for p in m.parameters()) == 101_770
    t = nn.MLP([4, 3, 3, 2], activation="tanh", seed=0)
    assert [type(l).__name__ for l in t] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    s = nn.MLP([4, 3, 2], activation="sigmoid", dtype=np.float32, seed=0)
    assert isinstance(s[1], nn.Sigmoid) and s[0].weight.dtype == np.float32
    np.testing.assert_array_equal(
        nn.MLP([4, 3, 2], seed=5)[2].weight.data, nn.MLP([4, 3, 2], seed=5)[2].weight.data
    )
    assert not np.array_equal(
        m[0].weight.data[:3, :3], nn.MLP([784, 128, 10], seed=1)[0].weight.data[:3, :3]
    )
    with pytest.raises(ValueError, match="activation must be one of"):
        nn.MLP([2, 2], activation="gelu")
    with pytest.raises(ValueError, match="at least 2"):
        nn.MLP([5])


def test_activation_flatten_pool_modules():
    x = np.array([[-1.0, 0.0, 2.0]])
    assert nn.ReLU()(x).data.tolist() == [[0.0, 0.0, 2.0]]
    np.testing.assert_allclose(nn.Tanh()(x).data, np.tanh(x))
    np.testing.assert_allclose(nn.Sigmoid()(x).data, 1 / (1 + np.exp(-x)))
    assert nn.Flatten()(np.zeros((2, 3, 4, 5))).shape == (2, 60)
    assert nn.Flatten(0)(np.zeros((2, 3))).shape == (6,)
    assert nn.MaxPool2d(2)(np.zeros((1, 1, 4, 4))).shape == (1, 1, 2, 2)
    assert nn.AvgPool2d(3, stride=1)(np.zeros((1, 1, 4, 4))).shape == (1, 1, 2, 2)
    assert nn.Identity()(x) is x


def test_dropout_module_train_eval_and_seed():
    x = np.ones((50, 40))
    d1, d2 = nn.Dropout(0.5, seed=3), nn.Dropout(0.5, seed=3)
    a, b = d1(x).data, d2(x).data
    np.testing.assert_array_equal(a, b)  # same seed, same masks
    assert not np.array_equal(a, d1(x).data)  # successive calls draw new masks
    d1.eval()
    np.testing.assert_array_equal(d1(x).data, x)
    with pytest.raises(ValueError, match="probability"):
        nn.Dropout(-0.1)


def test_to_dtype_and_parameter_copies():
    a = np.ones(3)
    p = nn.Parameter(a)
    p.data += 1
    assert a[0] == 1.0
    m = nn.MLP([3, 2], seed=0).to(np.float32)
    assert all(p.dtype == np.float32 for p in m.parameters())
    assert m(np.ones((1, 3), np.float32)).dtype == np.float32


def test_deepcopy_and_pickle_give_independent_working_models():
    import copy
    import pickle

    m = nn.MLP([4, 3, 2], seed=0)
    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert [n for n, _ in clone.named_parameters()] == [n for n, _ in m.named_parameters()]
        clone[0].weight.data += 1.0
        assert not np.array_equal(clone[0].weight.data, m[0].weight.data)
        F.cross_entropy(clone(np.ones((2, 4))), np.array([0, 1])).backward()
        assert clone[0].weight.grad.shape == (3, 4) and m[0].weight.grad is None
