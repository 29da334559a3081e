"""A training loop with a progress bar: :func:`fit`, :func:`evaluate`, :func:`accuracy`.

``fit`` is the loop the lessons would otherwise write again and again::

    for epoch in range(epochs):
        model.train()
        for Xb, yb in minibatches(X, y, batch_size, rng=rng):
            optimizer.zero_grad()
            loss = loss_fn(model(Tensor(Xb)), yb)
            loss.backward()
            optimizer.step()
        evaluate(model, X_val, y_val)       # eval mode, no graph

plus bookkeeping: a :class:`History` of per-epoch metrics, a progress bar (tqdm where it is
installed, one printed line per epoch otherwise) and readable errors. Lesson 02 asks students to
write ``train_epoch`` and ``evaluate`` themselves; this module is what later lessons use.
"""

from __future__ import annotations

import importlib.util
import math
import numbers
import sys
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any, Literal

import numpy as np

from nnlite.data import minibatches
from nnlite.functional import cross_entropy
from nnlite.tensor import Tensor, no_grad

__all__ = ["History", "NonFiniteLossError", "fit", "evaluate", "accuracy"]

METRICS = ("loss", "accuracy")


class NonFiniteLossError(FloatingPointError):
    """The training loss became nan or inf; the message names the epoch and the batch."""


class History(dict):
    """Per-epoch training record: a dict of lists, one value per epoch.

    Keys: ``loss`` and ``accuracy`` (training, averaged over the epoch's batches while the
    weights changed), ``val_loss`` and ``val_accuracy`` (on the validation data, measured at the
    end of the epoch in eval mode; present only when validation data is given), and ``time``
    (seconds per epoch, validation included). Accuracies are fractions in [0, 1].

    It is a plain ``dict`` otherwise: ``history["val_accuracy"][-1]``, ``dict(history)``, and
    :func:`nnlite.viz.plot_curves` draws it.
    """

    @property
    def epochs(self) -> int:
        """Number of epochs recorded."""
        return len(self.get("time", []))

    def last(self) -> dict[str, float]:
        """The values of the last epoch, {key: value}."""
        return {k: v[-1] for k, v in self.items() if len(v) > 0}

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.last().items())
        return f"History(epochs={self.epochs}{', ' if last else ''}{last})"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _array(x: Any) -> np.ndarray:
    """numpy array of an array, an nnlite Tensor or a list (no copy where possible)."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, Tensor):
        return np.asarray(x.data)
    return np.asarray(x)


def _scalar(loss: Any, who: str) -> float:
    a = _array(loss)
    if a.size != 1:
        raise ValueError(
            f"{who}: loss_fn must return a scalar (the mean loss of the batch), got shape {a.shape}"
        )
    return float(a.reshape(-1)[0])


def _check_int(value: Any, name: str, minimum: int, who: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{who}: {name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{who}: {name} must be >= {minimum}, got {value}")
    return int(value)


def _check_pair(X: Any, y: Any, xname: str, yname: str, who: str) -> tuple[np.ndarray, Any]:
    X = _array(X)
    if X.ndim == 0:
        raise ValueError(f"{who}: {xname} must have a samples axis, got a 0-d array")
    y = _array(y)
    if y.ndim == 0 or len(y) != len(X):
        ny = "a 0-d array" if y.ndim == 0 else f"{len(y)}"
        raise ValueError(
            f"{who}: {xname} has {len(X)} samples but {yname} has {ny}; they must match"
        )
    return X, y


def _set_mode(model: Any, training: bool) -> None:
    method = getattr(model, "train" if training else "eval", None)
    if callable(method):
        method()


def _n_correct(logits: np.ndarray, y: np.ndarray) -> int:
    return int(np.count_nonzero(np.argmax(logits, axis=-1) == y))


def accuracy(logits: Any, y: Any) -> float:
    """Fraction of rows whose largest logit is at the true class.

    Args:
        logits: (N, C) scores (Tensor or array); ties go to the lower class index.
        y: (N,) integer class labels.

    Returns:
        A float in [0, 1] (nan for N = 0).
    """
    who = "accuracy"
    L, t = _array(logits), _array(y)
    if L.ndim != 2:
        raise ValueError(f"{who}: logits must be (N, C), got shape {L.shape}")
    if t.shape != (L.shape[0],):
        raise ValueError(
            f"{who}: logits of shape {L.shape} need labels of shape ({L.shape[0]},), got {t.shape}"
        )
    if len(t) == 0:
        return math.nan
    return _n_correct(L, t) / len(t)


def evaluate(
    model: Callable[[Tensor], Tensor],
    X: Any,
    y: Any,
    loss_fn: Callable[[Tensor, Any], Tensor] | None = None,
    batch_size: int = 1024,
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on (X, y), in eval mode and without building a graph.

    Args:
        model: maps a (B, ...) input Tensor to (B, C) logits.
        X: (N, ...) inputs; y: (N,) integer labels.
        loss_fn: ``loss_fn(logits, y_batch)`` -> scalar mean loss; default cross-entropy.
        batch_size: samples per forward pass (memory only; the result does not depend on it
            beyond round-off).

    Returns:
        ``(loss, accuracy)`` as floats; the loss is averaged over samples. The model's
        train/eval mode is restored afterwards.
    """
    who = "evaluate"
    X, y = _check_pair(X, y, "X", "y", who)
    if len(X) == 0:
        raise ValueError(f"{who}: X is empty")
    batch_size = _check_int(batch_size, "batch_size", 1, who)
    loss_fn = cross_entropy if loss_fn is None else loss_fn
    was_training = getattr(model, "training", None)
    _set_mode(model, False)
    total_loss, correct = 0.0, 0
    try:
        with no_grad():
            for Xb, yb in minibatches(X, y, batch_size, shuffle=False):
                logits = model(Tensor(Xb))
                total_loss += _scalar(loss_fn(logits, yb), who) * len(Xb)
                correct += _n_correct(_array(logits), yb)
    finally:
        if was_training is not None:
            _set_mode(model, bool(was_training))
    return total_loss / len(X), correct / len(X)


# --------------------------------------------------------------------------------------------
# Progress display
# --------------------------------------------------------------------------------------------


def _in_notebook() -> bool:
    """True inside a running Jupyter kernel (not merely when ipykernel has been imported)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # noqa: BLE001 - a broken IPython must not break training
        return False
    return type(shell).__name__ == "ZMQInteractiveShell"


def _tqdm_class() -> Any | None:
    """tqdm's notebook widget in Jupyter (when ipywidgets is there), its text bar otherwise.

    None when tqdm is not installed.
    """
    try:
        from tqdm.std import tqdm as text_bar
    except ImportError:
        return None
    if _in_notebook() and importlib.util.find_spec("ipywidgets") is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from tqdm.auto import tqdm as auto_bar
            return auto_bar
        except ImportError:  # pragma: no cover - a broken widget install
            pass
    return text_bar


def _format(values: dict[str, float]) -> str:
    parts = []
    for k, v in values.items():
        if k == "time":
            continue
        if k.endswith("accuracy"):
            parts.append(f"{k} {v:.2%}")
        else:
            parts.append(f"{k} {v:.4f}" if abs(v) < 1e4 else f"{k} {v:.4g}")
    return "  ".join(parts)


class _Silent:
    def start_epoch(self, epoch: int) -> None:
        pass

    def batch(self, running: dict[str, float]) -> None:
        pass

    def end_epoch(self, values: dict[str, float]) -> None:
        pass

    def close(self) -> None:
        pass


class _Plain(_Silent):
    """One printed line per epoch."""

    def __init__(self, epochs: int, stream: Any) -> None:
        self.epochs, self.stream, self.epoch = epochs, stream, 0
        self.width = len(str(epochs))

    def start_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def end_epoch(self, values: dict[str, float]) -> None:
        line = (
            f"epoch {self.epoch:>{self.width}}/{self.epochs}  {_format(values)}  "
            f"({values['time']:.1f} s)"
        )
        print(line, file=self.stream, flush=True)


class _Bar(_Silent):
    """One tqdm bar per epoch (batches), kept on screen with the epoch's final metrics."""

    def __init__(self, bar_class: Any, epochs: int, n_batches: int) -> None:
        self.bar_class, self.epochs, self.n_batches = bar_class, epochs, n_batches
        self.bar: Any = None
        self.kwargs: dict[str, Any] = {}
        if _in_notebook():  # text bars in a notebook: stdout, and fewer redraws in the output
            self.kwargs = {"file": sys.stdout, "mininterval": 0.5}

    def start_epoch(self, epoch: int) -> None:
        width = len(str(self.epochs))
        self.bar = self.bar_class(
            total=self.n_batches,
            desc=f"epoch {epoch:>{width}}/{self.epochs}",
            unit="batch",
            leave=True,
            **self.kwargs,
        )

    def batch(self, running: dict[str, float]) -> None:
        self.bar.set_postfix_str(_format(running), refresh=False)
        self.bar.update(1)

    def end_epoch(self, values: dict[str, float]) -> None:
        self.bar.set_postfix_str(_format(values), refresh=False)
        self.bar.close()
        self.bar = None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _progress(progress: Any, epochs: int, n_batches: int, who: str) -> _Silent:
    if progress is False or progress is None:
        return _Silent()
    if progress not in (True, "tqdm", "plain"):
        raise ValueError(
            f"{who}: progress must be True, False, 'tqdm' or 'plain', got {progress!r}"
        )
    if progress in (True, "tqdm"):
        bar_class = _tqdm_class()
        if bar_class is not None:
            return _Bar(bar_class, epochs, n_batches)
        if progress == "tqdm":
            raise ImportError(f"{who}: progress='tqdm' needs tqdm: pip install tqdm")
    return _Plain(epochs, sys.stdout)


# --------------------------------------------------------------------------------------------
# fit
# --------------------------------------------------------------------------------------------


def fit(
    model: Callable[[Tensor], Tensor],
    X: Any,
    y: Any,
    *,
    optimizer: Any,
    epochs: int = 10,
    batch_size: int = 64,
    loss_fn: Callable[[Tensor, Any], Tensor] | None = None,
    X_val: Any = None,
    y_val: Any = None,
    seed: int | None = 0,
    rng: np.random.Generator | None = None,
    shuffle: bool = True,
    progress: bool | Literal["tqdm", "plain"] = True,
    metrics: Iterable[str] = METRICS,
    eval_batch_size: int = 1024,
) -> History:
    """Train ``model`` with minibatch gradient descent and return the per-epoch history.

    Args:
        model: an ``nn.Module`` (or any callable with ``train()``/``eval()``) mapping a (B, ...)
            input Tensor to (B, C) logits.
        X: (N, ...) training inputs (a float array, e.g. ``load_mnist(normalize=True)``).
        y: (N,) integer class labels (or whatever ``loss_fn`` takes as its target).
        optimizer: e.g. ``optim.SGD(model.parameters(), lr=0.1, momentum=0.9)``; its
            ``zero_grad()`` and ``step()`` are called once per batch.
        epochs: passes over the training data.
        batch_size: samples per gradient step; the last batch of an epoch may be smaller.
        loss_fn: ``loss_fn(logits, y_batch)`` -> scalar Tensor (mean over the batch);
            default :func:`nnlite.functional.cross_entropy`.
        X_val, y_val: optional held-out data, evaluated after every epoch.
        seed: seed of the batch order (ignored when ``rng`` is given). The same seed, model
            initialisation and data give the same history and the same weights.
        rng: a numpy Generator to draw the batch orders from instead of ``seed``.
        shuffle: reshuffle the data every epoch; otherwise use the stored order.
        progress: ``True`` shows a tqdm bar per epoch (the notebook widget in Jupyter when
            ipywidgets is installed) or, without tqdm, prints one line per epoch; ``"plain"``
            always prints lines; ``"tqdm"`` insists on tqdm; ``False`` prints nothing.
        metrics: which of ``"loss"`` and ``"accuracy"`` to record (for training and validation).
        eval_batch_size: batch size of the validation passes.

    Returns:
        A :class:`History`: lists with one value per epoch under ``loss``, ``accuracy``,
        ``val_loss``, ``val_accuracy`` (with validation data) and ``time``.

    Raises:
        NonFiniteLossError: the loss became nan or inf; the message names the epoch and the
            batch (counted from 1). The weights are left as they were before that batch.
        ValueError: mismatched lengths (both are named), bad sizes or unknown metrics.

    The model is in train mode while training and in eval mode (under ``no_grad``) while
    validating; on return it is back in the mode it was in before the call.
    """
    who = "fit"
    X, y = _check_pair(X, y, "X", "y", who)
    if len(X) == 0:
        raise ValueError(f"{who}: X is empty")
    if (X_val is None) != (y_val is None):
        raise ValueError(f"{who}: pass both X_val and y_val, or neither")
    has_val = X_val is not None
    if has_val:
        X_val, y_val = _check_pair(X_val, y_val, "X_val", "y_val", who)
        if len(X_val) == 0:
            raise ValueError(f"{who}: X_val is empty")
    epochs = _check_int(epochs, "epochs", 0, who)
    batch_size = _check_int(batch_size, "batch_size", 1, who)
    eval_batch_size = _check_int(eval_batch_size, "eval_batch_size", 1, who)
    if isinstance(metrics, str):
        metrics = (metrics,)
    metrics = tuple(metrics)
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"{who}: unknown metric(s) {unknown}; choose from {list(METRICS)}")
    if not (
        callable(getattr(optimizer, "zero_grad", None))
        and callable(getattr(optimizer, "step", None))
    ):
        raise TypeError(
            f"{who}: optimizer must have zero_grad() and step(), e.g. "
            f"optim.SGD(model.parameters(), lr=0.1); got {type(optimizer).__name__}"
        )
    loss_fn = cross_entropy if loss_fn is None else loss_fn
    want_loss, want_acc = "loss" in metrics, "accuracy" in metrics
    gen = rng if rng is not None else np.random.default_rng(seed)

    keys = [m for m in METRICS if m in metrics]
    if has_val:
        keys += [f"val_{m}" for m in keys]
    history = History({k: [] for k in [*keys, "time"]})
    n_batches = math.ceil(len(X) / batch_size)
    display = _progress(progress, epochs, n_batches, who)
    was_training = getattr(model, "training", None)
    try:
        for epoch in range(1, epochs + 1):
            t0 = time.perf_counter()
            display.start_epoch(epoch)
            _set_mode(model, True)
            total_loss, correct, seen = 0.0, 0, 0
            batches = minibatches(X, y, batch_size, shuffle=shuffle, rng=gen)
            for b, (Xb, yb) in enumerate(batches, start=1):
                optimizer.zero_grad()
                logits = model(Tensor(Xb))
                loss = loss_fn(logits, yb)
                value = _scalar(loss, who)
                if not math.isfinite(value):
                    raise NonFiniteLossError(
                        _nonfinite_message(value, epoch, b, n_batches, Xb, optimizer)
                    )
                loss.backward()
                optimizer.step()
                total_loss += value * len(Xb)
                seen += len(Xb)
                running = {"loss": total_loss / seen}
                if want_acc:
                    correct += _n_correct(_array(logits), yb)
                    running["accuracy"] = correct / seen
                display.batch(running)
            values: dict[str, float] = {}
            if want_loss:
                values["loss"] = total_loss / seen
            if want_acc:
                values["accuracy"] = correct / seen
            if has_val:
                vl, va = evaluate(model, X_val, y_val, loss_fn=loss_fn, batch_size=eval_batch_size)
                if want_loss:
                    values["val_loss"] = vl
                if want_acc:
                    values["val_accuracy"] = va
            values["time"] = time.perf_counter() - t0
            for k, v in values.items():
                history[k].append(v)
            display.end_epoch(values)
    finally:
        display.close()
        if was_training is not None:
            _set_mode(model, bool(was_training))
    return history


def _nonfinite_message(
    value: float, epoch: int, batch: int, n_batches: int, Xb: np.ndarray, opt: Any
) -> str:
    where = f"loss became {value} at epoch {epoch}, batch {batch}"
    stopped = (
        f"Training stopped there ({n_batches} batches per epoch); the weights are those from "
        "before that batch."
    )
    if np.issubdtype(Xb.dtype, np.number) and not np.all(np.isfinite(Xb)):
        return (
            f"{where}: this batch of inputs contains nan or inf values; clean the data. {stopped}"
        )
    lr = getattr(opt, "lr", None)
    lr_text = f" (it is {lr})" if isinstance(lr, numbers.Real) else ""
    return (
        f"{where}: lower the learning rate{lr_text}. Inputs on a large scale (e.g. raw pixels "
        f"0..255 instead of load_mnist(normalize=True)) cause this too. {stopped}"
    )
