"""nnlite.zoo: lesson 02's network, trained on demand, reproducibly, never shared by reference."""

import numpy as np
import pytest

from nnlite import zoo
from nnlite.checks.l02_mlp import fallback_train_epoch
from nnlite.nn import MLP
from nnlite.optim import SGD


def test_split_is_lesson_02s_split():
    X_train, y_train, X_val, y_val = zoo.mnist_split()
    assert X_train.shape == (8000, 784) and X_val.shape == (2000, 784)
    assert X_train.dtype == np.float64 and 0.0 <= X_train.min() and X_train.max() <= 1.0
    assert y_train.dtype == np.int64 and set(np.unique(y_val)) == set(range(10))
    order = np.random.default_rng(2026).permutation(10000)
    from nnlite.data import load_mnist

    X, y = load_mnist("train", flatten=True, normalize=True)
    np.testing.assert_array_equal(X_val, X[order[:2000]])
    np.testing.assert_array_equal(y_train, y[order[2000:]])


def test_split_returns_fresh_copies():
    X_train = zoo.mnist_split()[0]
    X_train[:] = -1.0
    assert zoo.mnist_split()[0].min() == 0.0


def test_training_is_lesson_02s_loop():
    # One epoch of a small network, trained by lesson 02's own epoch function, gives the same
    # weights bit for bit: the zoo's seeds mean what lesson 02's seeds mean.
    run = zoo.mnist_mlp(seed=3, hidden=(16,), epochs=1)
    X, y, _, _ = zoo.mnist_split()
    rng = np.random.default_rng(3)
    net = MLP([784, 16, 10], rng=rng)
    for p, q in zip(net.parameters(), run.init.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    fallback_train_epoch(net, X, y, SGD(net.parameters(), lr=0.2, momentum=0.9), 128, rng)
    for p, q in zip(net.parameters(), run.model.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_shuffled_labels_draw_the_permutation_before_the_weights():
    run = zoo.mnist_mlp(seed=3, hidden=(16,), epochs=0, labels="shuffled")
    rng = np.random.default_rng(3)
    rng.permutation(8000)
    net = MLP([784, 16, 10], rng=rng)
    for p, q in zip(net.parameters(), run.init.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    assert run.config["labels"] == "shuffled" and run.config["sizes"] == (784, 16, 10)


def test_every_call_returns_fresh_networks():
    a = zoo.mnist_mlp(seed=4, hidden=(8,), epochs=1)
    before = [p.data.copy() for p in a.model.parameters()]
    for p in a.model.parameters():
        p.data[...] = 0.0
    for p in a.init.parameters():
        p.data[...] = 0.0
    b = zoo.mnist_mlp(seed=4, hidden=(8,), epochs=1)
    for p, q in zip(b.model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, q)
    assert all(np.abs(p.data).sum() > 0 for p in b.init.parameters())
    assert not b.model.training


def test_seeds_and_labels_give_different_networks():
    w = {
        key: zoo.mnist_mlp(seed=s, hidden=(8,), epochs=1, labels=lab).model[0].weight.data
        for key, (s, lab) in {"a": (5, "true"), "b": (6, "true"), "c": (5, "shuffled")}.items()
    }
    assert not np.allclose(w["a"], w["b"]) and not np.allclose(w["a"], w["c"])


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"hidden": ()}, "hidden"),
        ({"hidden": (0,)}, "hidden"),
        ({"labels": "random"}, "labels"),
        ({"epochs": -1}, "epochs"),
        ({"lr": 0.0}, "lr"),
    ],
)
def test_bad_arguments_are_named(kwargs, words):
    with pytest.raises(ValueError, match=words):
        zoo.mnist_mlp(**kwargs)


@pytest.mark.slow
def test_default_network_learns_and_the_shuffled_control_does_not():
    run, control = zoo.mnist_mlp(seed=0), zoo.mnist_mlp(seed=0, labels="shuffled")
    assert run.val_accuracy >= 0.93, run.val_accuracy
    assert control.val_accuracy <= 0.15, control.val_accuracy
    assert run.config["lr"] == 0.2 and run.config["sizes"] == (784, 128, 10)
