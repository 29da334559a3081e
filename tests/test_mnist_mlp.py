"""End to end: a 784-128-10 MLP trained with nnlite on the shipped MNIST subset."""

from pathlib import Path

import numpy as np
import pytest

import nnlite
from nnlite import functional as F
from nnlite import nn, optim


def load(split):
    try:
        from nnlite.data import load_mnist
    except ImportError:  # fall back to the shipped files
        path = Path(nnlite.__file__).parent / "datafiles" / f"mnist_{split}10k.npz"
        with np.load(path) as f:
            return f["X"].reshape(-1, 784) / 255.0, f["y"].astype(np.int64)
    return load_mnist(split, flatten=True, normalize=True)


@pytest.mark.slow
def test_mlp_reaches_93_percent_on_mnist_test_set():
    X, y = load("train")
    Xt, yt = load("test")
    assert X.shape == (10_000, 784) and Xt.shape == (10_000, 784)
    model = nn.MLP([784, 128, 10], seed=0)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    for _epoch in range(8):
        order = rng.permutation(len(X))
        for i in range(0, len(X), 128):
            idx = order[i : i + 128]
            opt.zero_grad()
            F.cross_entropy(model(X[idx]), y[idx]).backward()
            opt.step()
    with nnlite.no_grad():
        logits = model(Xt)
        test_loss = F.cross_entropy(logits, yt).item()
    accuracy = (logits.argmax(axis=1) == yt).mean()
    assert accuracy >= 0.93, f"test accuracy {accuracy:.4f}, loss {test_loss:.3f}"
    assert test_loss < 0.3
