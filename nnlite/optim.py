"""Optimizers: SGD (momentum, Nesterov, weight decay) and Adam, with PyTorch's exact update rules.

An optimizer holds a list of parameters; ``step()`` updates each parameter's ``.data`` in place
from its ``.grad`` (parameters whose ``.grad`` is None are skipped) and ``zero_grad()`` resets
the gradients to None.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam"]


def _check_real(value, name: str, who: str, lo: float = 0.0, hi: float = math.inf, hi_open=False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and value >= lo and (value < hi if hi_open else value <= hi)
    if not ok:
        upper = "" if hi == math.inf else (f" and < {hi}" if hi_open else f" and <= {hi}")
        raise ValueError(f"{who}: {name} must be a finite number >= {lo}{upper}, got {value!r}")
    return float(value)


class Optimizer:
    """Base class: keeps ``params`` (a list), the learning rate ``lr`` and per-parameter
    ``state``; subclasses implement ``step()``."""

    def __init__(self, params, lr: float):
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of tensors, e.g. "
                "model.parameters(), not a single tensor (wrap it in a list)"
            )
        self.params = list(params)
        who = type(self).__name__
        if not self.params:
            raise ValueError(f"{who}: got an empty parameter list")
        seen: set[int] = set()
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{who}: parameter {i} is a {type(p).__name__}, not a Tensor")
            if not p.is_leaf:
                raise ValueError(
                    f"{who}: parameter {i} is the result of an operation, not a leaf tensor; "
                    "optimize the tensors you created with requires_grad=True"
                )
            if id(p) in seen:
                raise ValueError(f"{who}: parameter {i} appears more than once")
            seen.add(id(p))
        self.lr = lr
        self.state: dict[int, dict] = {}

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = _check_real(value, "lr (the learning rate)", type(self).__name__)

    def zero_grad(self) -> None:
        """Reset the gradient of every parameter to None (PyTorch's ``set_to_none=True``)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """Hyper-parameters and per-parameter state (numpy copies), keyed by parameter index."""
        index = {id(p): i for i, p in enumerate(self.params)}
        state = {
            index[k]: {n: (v.copy() if isinstance(v, np.ndarray) else v) for n, v in s.items()}
            for k, s in self.state.items()
        }
        return {"hyper": self._hyper(), "state": state}

    def load_state_dict(self, state_dict: dict) -> None:
        for name, value in state_dict["hyper"].items():
            setattr(self, name, value)
        self.state = {
            id(self.params[i]): {
                n: (v.copy() if isinstance(v, np.ndarray) else v) for n, v in s.items()
            }
            for i, s in state_dict["state"].items()
        }

    def _hyper(self) -> dict:
        return {"lr": self.lr}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self._hyper().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {args})"


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's rule. For each parameter p with gradient:

    g = grad + weight_decay * p
    buf = g on the first step, then buf = momentum * buf + (1 - dampening) * g
    g = g + momentum * buf if nesterov else buf        (only when momentum > 0)
    p -= lr * g
    """

    def __init__(
        self, params, lr: float, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False
    ):
        super().__init__(params, lr)
        self.momentum = _check_real(momentum, "momentum", "SGD", hi=1.0, hi_open=True)
        self.dampening = _check_real(dampening, "dampening", "SGD", hi=1.0)
        self.weight_decay = _check_real(weight_decay, "weight_decay", "SGD")
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening = 0")

    def _hyper(self) -> dict:
        return {
            "lr": self.lr,
            "momentum": self.momentum,
            "dampening": self.dampening,
            "weight_decay": self.weight_decay,
            "nesterov": self.nesterov,
        }

    def step(self) -> None:
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        for p in self.params:
            g = p.grad
            if g is None:
                continue
            if wd:
                g = g + wd * p.data
            if mu:
                state = self.state.setdefault(id(p), {})
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = np.array(g, dtype=p.data.dtype)
                else:
                    buf *= mu
                    buf += (1 - self.dampening) * g if self.dampening else g
                g = g + mu * buf if self.nesterov else buf
            p.data -= lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba), PyTorch's rule with bias correction. For each parameter p with
    gradient, at its step t = 1, 2, ...:

    g = grad + weight_decay * p              (L2 added to the gradient, not AdamW)
    m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g**2
    p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        if len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = tuple(
            _check_real(b, f"betas[{i}]", "Adam", hi=1.0, hi_open=True) for i, b in enumerate(betas)
        )
        self.eps = _check_real(eps, "eps", "Adam")
        self.weight_decay = _check_real(weight_decay, "weight_decay", "Adam")

    def _hyper(self) -> dict:
        return {
            "lr": self.lr,
            "betas": self.betas,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
        }

    def step(self) -> None:
        b1, b2 = self.betas
        for p in self.params:
            g = p.grad
            if g is None:
                continue
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            state = self.state.get(id(p))
            if state is None:
                zeros = np.zeros_like(p.data)
                state = self.state[id(p)] = {
                    "step": 0,
                    "exp_avg": zeros,
                    "exp_avg_sq": zeros.copy(),
                }
            state["step"] += 1
            t = state["step"]
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            step_size = self.lr / (1 - b1**t)
            denom = np.sqrt(v) / math.sqrt(1 - b2**t) + self.eps
            p.data -= step_size * (m / denom)
