"""Tests of nnlite.train: fit, evaluate, accuracy, History, progress display, errors."""

import sys

import numpy as np
import pytest

from nnlite import functional as F
from nnlite import nn, optim, train
from nnlite.tensor import Tensor


def separable(n=64, seed=0):
    """Two well-separated 2-D Gaussian blobs, classes 0 and 1, float64."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(scale=0.5, size=(n, 2)) + np.where(y[:, None] == 1, 2.5, -2.5)
    return X, y.astype(np.int64)


def linear(seed=0):
    return nn.Linear(2, 2, rng=np.random.default_rng(seed))


def weights(model):
    return [np.array(p.data, copy=True) for p in model.parameters()]


# ----------------------------------------------------------------------------------- fit


def test_fit_reaches_full_training_accuracy_on_separable_data():
    X, y = separable()
    model = linear()
    opt = optim.SGD(model.parameters(), lr=0.1)
    hist = train.fit(model, X, y, optimizer=opt, epochs=15, batch_size=8, progress=False)
    assert hist["accuracy"][-1] == 1.0
    loss, acc = train.evaluate(model, X, y)
    assert acc == 1.0 and loss < hist["loss"][0]


def test_history_keys_and_lengths():
    X, y = separable(40)
    model = linear()
    opt = optim.SGD(model.parameters(), lr=0.1)
    hist = train.fit(
        model,
        X,
        y,
        optimizer=opt,
        epochs=3,
        batch_size=16,
        X_val=X[:10],
        y_val=y[:10],
        progress=False,
    )
    assert isinstance(hist, dict) and isinstance(hist, train.History)
    assert list(hist) == ["loss", "accuracy", "val_loss", "val_accuracy", "time"]
    assert all(len(v) == 3 for v in hist.values()) and hist.epochs == 3
    assert all(t >= 0 for t in hist["time"])
    assert set(hist.last()) == set(hist) and "epochs=3" in repr(hist)
    only = train.fit(
        model, X, y, optimizer=opt, epochs=2, batch_size=16, progress=False, metrics=["loss"]
    )
    assert list(only) == ["loss", "time"] and len(only["loss"]) == 2
    none = train.fit(model, X, y, optimizer=opt, epochs=0, progress=False)
    assert none.epochs == 0 and none["loss"] == []


def test_validation_metrics_are_measured_at_epoch_end():
    X, y = separable(40)
    model = linear()
    opt = optim.SGD(model.parameters(), lr=0.1)
    hist = train.fit(model, X, y, optimizer=opt, epochs=2, X_val=X, y_val=y, progress=False)
    loss, acc = train.evaluate(model, X, y)
    assert hist["val_loss"][-1] == pytest.approx(loss, rel=1e-12)
    assert hist["val_accuracy"][-1] == acc


def test_fit_is_deterministic_under_a_seed():
    X, y = separable(50)

    def run(seed):
        model = linear(seed=3)
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        h = train.fit(model, X, y, optimizer=opt, epochs=3, batch_size=7, seed=seed, progress=False)
        return h, weights(model)

    (h1, w1), (h2, w2), (h3, w3) = run(1), run(1), run(2)
    assert h1["loss"] == h2["loss"] and h1["accuracy"] == h2["accuracy"]
    for a, b in zip(w1, w2, strict=True):
        np.testing.assert_array_equal(a, b)
    assert h1["loss"] != h3["loss"]
    assert any(not np.array_equal(a, b) for a, b in zip(w1, w3, strict=True))


def test_rng_argument_and_no_shuffle():
    X, y = separable(30)
    m1, m2 = linear(), linear()
    o1, o2 = optim.SGD(m1.parameters(), lr=0.1), optim.SGD(m2.parameters(), lr=0.1)
    h1 = train.fit(m1, X, y, optimizer=o1, epochs=2, batch_size=4, seed=5, progress=False)
    h2 = train.fit(
        m2,
        X,
        y,
        optimizer=o2,
        epochs=2,
        batch_size=4,
        rng=np.random.default_rng(5),
        progress=False,
    )
    assert h1["loss"] == h2["loss"]
    m3, m4 = linear(), linear()
    for m, s in ((m3, 0), (m4, 1)):
        train.fit(
            m,
            X,
            y,
            optimizer=optim.SGD(m.parameters(), lr=0.1),
            epochs=1,
            batch_size=4,
            shuffle=False,
            seed=s,
            progress=False,
        )
    for a, b in zip(weights(m3), weights(m4), strict=True):
        np.testing.assert_array_equal(a, b)  # without shuffling the seed does not matter


class Spy(nn.Module):
    """Records the mode and whether a graph is being built at every forward."""

    def __init__(self):
        super().__init__()
        self.inner = linear()
        self.calls = []

    def forward(self, x):
        out = self.inner(x)
        self.calls.append((self.training, out.requires_grad, len(x.data)))
        return out


def test_train_mode_for_training_eval_mode_and_no_grad_for_validation():
    X, y = separable(20)
    model = Spy()
    model.eval()
    opt = optim.SGD(model.parameters(), lr=0.1)
    train.fit(
        model,
        X,
        y,
        optimizer=opt,
        epochs=1,
        batch_size=10,
        X_val=X[:6],
        y_val=y[:6],
        progress=False,
    )
    assert model.calls == [(True, True, 10), (True, True, 10), (False, False, 6)]
    assert model.training is False  # restored to the mode it had before fit
    model.train()
    model.calls.clear()
    train.evaluate(model, X, y, batch_size=8)
    assert model.calls == [(False, False, 8), (False, False, 8), (False, False, 4)]
    assert model.training is True


# ------------------------------------------------------------------------------ progress


def test_progress_false_is_silent(capsys):
    X, y = separable(20)
    model = linear()
    train.fit(
        model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=2, progress=False
    )
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_plain_fallback_when_tqdm_is_missing(monkeypatch, capsys):
    for name in ("tqdm", "tqdm.std", "tqdm.auto", "tqdm.autonotebook"):
        monkeypatch.setitem(sys.modules, name, None)  # makes `import tqdm...` fail
    assert train._tqdm_class() is None
    X, y = separable(20)
    model = linear()
    opt = optim.SGD(model.parameters(), lr=0.1)
    train.fit(model, X, y, optimizer=opt, epochs=3, X_val=X, y_val=y, progress=True)
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert len(lines) == 3 and err == ""
    assert lines[0].startswith("epoch 1/3") and lines[2].startswith("epoch 3/3")
    assert "loss" in lines[0] and "val_accuracy" in lines[0] and "%" in lines[0]
    with pytest.raises(ImportError, match="needs tqdm"):
        train.fit(model, X, y, optimizer=opt, epochs=1, progress="tqdm")


def test_plain_progress_on_request(capsys):
    X, y = separable(20)
    model = linear()
    train.fit(
        model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=2, progress="plain"
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert [ln.split("  ")[0] for ln in lines] == ["epoch 1/2", "epoch 2/2"]


def test_tqdm_bar_when_installed(capsys):
    pytest.importorskip("tqdm")
    X, y = separable(20)
    model = linear()
    train.fit(
        model,
        X,
        y,
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=2,
        batch_size=5,
        progress=True,
    )
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and "epoch 2/2" in err and "4/4" in err
    with pytest.raises(ValueError, match="progress must be"):
        train.fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.1), progress="bar")


def test_notebook_without_ipywidgets_uses_the_text_bar_on_stdout(monkeypatch, recwarn):
    tqdm_std = pytest.importorskip("tqdm.std")
    import importlib.util

    monkeypatch.setattr(train, "_in_notebook", lambda: True)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "ipywidgets" else real_find_spec(name, *a),
    )
    assert train._tqdm_class() is tqdm_std.tqdm
    assert len(recwarn) == 0  # no "IProgress not found" warning
    bar = train._progress(True, 2, 5, "fit")
    assert isinstance(bar, train._Bar) and bar.kwargs["file"] is sys.stdout


# -------------------------------------------------------------------------------- errors


def test_nonfinite_loss_names_epoch_and_batch_and_keeps_weights():
    X, y = separable(32)
    model = linear()
    opt = optim.SGD(model.parameters(), lr=0.1)
    calls = {"n": 0}

    def flaky_loss(logits, target):
        calls["n"] += 1
        loss = F.cross_entropy(logits, target)
        return loss * float("nan") if calls["n"] == 7 else loss

    with pytest.raises(train.NonFiniteLossError) as info:
        train.fit(
            model, X, y, optimizer=opt, epochs=3, batch_size=8, loss_fn=flaky_loss, progress=False
        )
    msg = str(info.value)
    assert msg.startswith("loss became nan at epoch 2, batch 3")  # 4 batches per epoch
    assert "lower the learning rate (it is 0.1)" in msg
    assert isinstance(info.value, FloatingPointError)

    fresh = linear()
    before = weights(fresh)
    with pytest.raises(train.NonFiniteLossError, match="epoch 1, batch 1"):
        train.fit(
            fresh,
            X,
            y,
            optimizer=optim.SGD(fresh.parameters(), lr=0.1),
            epochs=1,
            loss_fn=lambda lg, t: F.cross_entropy(lg, t) * float("inf"),
            progress=False,
        )
    for a, b in zip(before, weights(fresh), strict=True):
        np.testing.assert_array_equal(a, b)


def test_nonfinite_inputs_are_blamed():
    X, y = separable(16)
    X[3, 0] = np.nan
    model = linear()
    with pytest.raises(train.NonFiniteLossError, match="inputs contains nan or inf"):
        train.fit(
            model,
            X,
            y,
            optimizer=optim.SGD(model.parameters(), lr=0.1),
            epochs=1,
            batch_size=16,
            progress=False,
        )


def test_argument_errors_are_readable():
    X, y = separable(10)
    model = linear()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="X has 10 samples but y has 9"):
        train.fit(model, X, y[:9], optimizer=opt, progress=False)
    with pytest.raises(ValueError, match="X_val has 10 samples but y_val has 3"):
        train.fit(model, X, y, optimizer=opt, X_val=X, y_val=y[:3], progress=False)
    with pytest.raises(ValueError, match="both X_val and y_val"):
        train.fit(model, X, y, optimizer=opt, X_val=X, progress=False)
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        train.fit(model, X, y, optimizer=opt, batch_size=0, progress=False)
    with pytest.raises(ValueError, match="unknown metric"):
        train.fit(model, X, y, optimizer=opt, metrics=("f1",), progress=False)
    with pytest.raises(TypeError, match="zero_grad"):
        train.fit(model, X, y, optimizer=0.1, progress=False)
    with pytest.raises(ValueError, match="X has 10 samples but y has 4"):
        train.evaluate(model, X, y[:4])


# --------------------------------------------------------------------- evaluate, accuracy


def test_accuracy_ties_and_shapes():
    logits = np.array([[1.0, 1.0, 0.0], [0.0, 2.0, 2.0], [3.0, 0.0, 0.0]])
    assert train.accuracy(logits, np.array([0, 1, 0])) == 1.0  # ties go to the lower index
    assert train.accuracy(Tensor(logits), [1, 2, 0]) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match=r"\(3, 3\) need labels of shape \(3,\)"):
        train.accuracy(logits, np.array([0, 1]))


def test_evaluate_matches_a_direct_computation_for_any_batch_size():
    X, y = separable(37)
    model = linear(seed=1)
    logits = model(Tensor(X))
    want_loss = float(F.cross_entropy(logits, y).data)
    want_acc = train.accuracy(logits, y)
    for bs in (1, 5, 37, 100):
        loss, acc = train.evaluate(model, X, y, batch_size=bs)
        assert loss == pytest.approx(want_loss, rel=1e-12) and acc == want_acc


@pytest.mark.slow
def test_fit_mlp_on_shipped_mnist():
    from nnlite.data import load_mnist

    X, y = load_mnist("train", flatten=True, normalize=True)
    Xt, yt = load_mnist("test", flatten=True, normalize=True)
    model = nn.MLP([784, 64, 10], activation="relu", rng=np.random.default_rng(0))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    hist = train.fit(
        model, X, y, optimizer=opt, epochs=3, batch_size=128, X_val=Xt, y_val=yt, progress=False
    )
    assert hist["val_accuracy"][-1] >= 0.90
    assert hist["loss"][-1] < hist["loss"][0]


def test_importing_ipykernel_is_not_being_in_a_notebook():
    pytest.importorskip("ipykernel")
    import ipykernel  # noqa: F401  (imported by other tests in the same process, too)

    assert not train._in_notebook()
