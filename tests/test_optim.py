"""optim: update rules written out by hand, argument checks, state."""

import math

import numpy as np
import pytest

from nnlite import Tensor, nn, optim


def param(values):
    return nn.Parameter(np.array(values, dtype=np.float64))


def run(opt, p, grads):
    for g in grads:
        p.grad = np.array(g, dtype=np.float64)
        opt.step()
    return p.data


GRADS = [[1.0, -2.0], [0.5, 0.5], [-1.0, 3.0], [2.0, 0.0]]


def test_plain_sgd():
    p = param([1.0, 2.0])
    out = run(optim.SGD([p], lr=0.1), p, GRADS)
    np.testing.assert_allclose(out, np.array([1.0, 2.0]) - 0.1 * np.sum(GRADS, axis=0))


def sgd_reference(p0, grads, lr, mu=0.0, damp=0.0, wd=0.0, nesterov=False):
    """torch.optim.SGD's documented rule, written out independently."""
    p, buf = np.array(p0), None
    for t, g in enumerate(grads):
        g = np.array(g) + wd * p
        if mu:
            buf = g.copy() if t == 0 else mu * buf + (1 - damp) * g
            g = g + mu * buf if nesterov else buf
        p = p - lr * g
    return p


@pytest.mark.parametrize(
    "kw",
    [
        {"momentum": 0.9},
        {"momentum": 0.9, "weight_decay": 0.1},
        {"momentum": 0.5, "dampening": 0.5},
        {"momentum": 0.9, "nesterov": True},
        {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    ],
    ids=str,
)
def test_sgd_momentum_rules(kw):
    p = param([1.0, 2.0])
    out = run(optim.SGD([p], lr=0.1, **kw), p, GRADS)
    ref = sgd_reference(
        [1.0, 2.0],
        GRADS,
        0.1,
        kw.get("momentum", 0.0),
        kw.get("dampening", 0.0),
        kw.get("weight_decay", 0.0),
        kw.get("nesterov", False),
    )
    np.testing.assert_allclose(out, ref, rtol=1e-14)


def test_sgd_momentum_is_per_parameter_and_first_buffer_is_the_gradient():
    a, b = param([0.0]), param([0.0])
    opt = optim.SGD([a, b], lr=1.0, momentum=0.9)
    a.grad, b.grad = np.array([1.0]), np.array([10.0])
    opt.step()
    assert a.data[0] == -1.0 and b.data[0] == -10.0  # buf = g on the first step
    a.grad, b.grad = np.array([1.0]), np.array([0.0])
    opt.step()
    assert a.data[0] == -1.0 - 1.9 and b.data[0] == -10.0 - 9.0


def adam_reference(p0, grads, lr, b1, b2, eps, wd):
    p = np.array(p0)
    m = v = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        g = np.array(g) + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat, vhat = m / (1 - b1**t), v / (1 - b2**t)
        p = p - lr * mhat / (np.sqrt(vhat) + eps * 1.0)
    return p


@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_adam_rule(wd):
    p = param([1.0, 2.0])
    out = run(optim.Adam([p], lr=0.01, weight_decay=wd), p, GRADS)
    # (sqrt(v)/sqrt(1-b2^t) + eps) equals sqrt(vhat) + eps, so this is the same rule
    np.testing.assert_allclose(
        out, adam_reference([1.0, 2.0], GRADS, 0.01, 0.9, 0.999, 1e-8, wd), rtol=1e-12
    )


def test_adam_first_step_moves_by_lr_in_sign_direction():
    p = param([0.0, 0.0, 0.0])
    opt = optim.Adam([p], lr=0.1)
    p.grad = np.array([3.0, -1e-3, 0.0])
    opt.step()
    np.testing.assert_allclose(p.data, [-0.1, 0.1, 0.0], rtol=1e-4)


def test_none_grads_are_skipped_and_zero_grad_sets_none():
    a, b = param([1.0]), param([1.0])
    for opt in (optim.SGD([a, b], lr=0.1, momentum=0.9), optim.Adam([a, b], lr=0.1)):
        a.grad, b.grad = np.array([1.0]), None
        before = b.data.copy()
        opt.step()
        np.testing.assert_array_equal(b.data, before)
        opt.zero_grad()
        assert a.grad is None and b.grad is None


def test_updates_in_place_and_float32_kept():
    p = nn.Parameter(np.ones(3, np.float32))
    data = p.data
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    p.grad = np.ones(3, np.float32)
    opt.step()
    assert p.data is data and p.data.dtype == np.float32
    opt = optim.Adam([p], lr=0.1)
    opt.step()
    assert p.data is data and p.data.dtype == np.float32


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda ps: optim.SGD(ps, lr=float("nan")), "lr .* finite number >= 0"),
        (lambda ps: optim.SGD(ps, lr=float("inf")), "lr"),
        (lambda ps: optim.SGD(ps, lr=-0.1), "lr"),
        (lambda ps: optim.SGD(ps, lr="0.1"), "lr"),
        (lambda ps: optim.SGD(ps, lr=0.1, momentum=1.0), "momentum .* < 1"),
        (lambda ps: optim.SGD(ps, lr=0.1, momentum=-0.5), "momentum"),
        (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True), "nesterov=True needs momentum > 0"),
        (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, dampening=0.1), "dampening"),
        (lambda ps: optim.SGD(ps, lr=0.1, weight_decay=-1), "weight_decay"),
        (lambda ps: optim.Adam(ps, betas=(0.9, 1.0)), "betas\\[1\\]"),
        (lambda ps: optim.Adam(ps, eps=-1.0), "eps"),
        (lambda ps: optim.Adam(ps, lr=math.nan), "lr"),
    ],
)
def test_bad_hyperparameters_are_rejected_with_a_sentence(make, message):
    with pytest.raises(ValueError, match=message):
        make([param([1.0])])


def test_lr_setter_validates_and_schedules_work():
    p = param([1.0])
    opt = optim.SGD([p], lr=0.1)
    opt.lr = 0.5
    p.grad = np.array([1.0])
    opt.step()
    assert p.data[0] == 0.5
    with pytest.raises(ValueError, match="lr"):
        opt.lr = float("nan")


def test_bad_parameter_lists():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="not a single tensor"):
        optim.SGD(param([1.0]), lr=0.1)
    with pytest.raises(TypeError, match="not a Tensor"):
        optim.SGD([np.ones(2)], lr=0.1)
    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="not a leaf"):
        optim.SGD([x * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([x, x], lr=0.1)


def test_state_dict_round_trip():
    p = param([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    run(opt, p, GRADS[:2])
    sd = opt.state_dict()
    q = param(p.data.copy())
    opt2 = optim.SGD([q], lr=0.3)
    opt2.load_state_dict(sd)
    assert opt2.lr == 0.1 and opt2.momentum == 0.9
    np.testing.assert_array_equal(run(opt, p, GRADS[2:]), run(opt2, q, GRADS[2:]))
    assert "SGD(1 parameters, lr=0.1" in repr(opt)
