"""Layers: Module, Parameter, Linear, Conv2d, Sequential, MLP, activations, pooling, dropout.

Mirrors ``torch.nn``: a Module registers the Parameters and sub-Modules assigned to its
attributes, so ``parameters()`` finds every weight of a network; ``model(x)`` calls
``forward(x)`` and then any forward hooks (the way later lessons look inside a network).
"""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict, namedtuple
from collections.abc import Iterable, Iterator

import numpy as np

from . import functional as F
from .tensor import Tensor

__all__ = [
    "Parameter",
    "Module",
    "Linear",
    "Conv2d",
    "Sequential",
    "MLP",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "Identity",
    "Flatten",
    "MaxPool2d",
    "AvgPool2d",
    "Dropout",
    "RemovableHandle",
]


class Parameter(Tensor):
    """A Tensor that is a learnable weight of a Module (``requires_grad=True`` by default).

    The data is always copied, so training never changes the array it was made from.
    """

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)
        if not requires_grad:
            self.data = self.data.copy()

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class RemovableHandle:
    """Returned by :meth:`Module.register_forward_hook`; ``remove()`` unregisters the hook.
    Also a context manager that removes the hook on exit."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _generator(rng, seed, who: str) -> np.random.Generator:
    return F._generator(rng, seed, who)


class Module:
    """Base class of every layer and network.

    Subclasses call ``super().__init__()`` first, assign Parameters and sub-Modules as
    attributes, and define ``forward``. Calling the module runs ``forward`` and then the
    forward hooks.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value) -> None:
        params = self.__dict__.get("_parameters")
        if params is None:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() was called; call "
                "super().__init__() first in your __init__"
            )
        modules = self._modules
        if isinstance(value, Parameter):
            modules.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            modules[name] = value
        else:
            params.pop(name, None)
            modules.pop(name, None)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, args, out)
                if result is not None:
                    out = result
        return out

    def register_forward_hook(self, hook) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every forward; ``inputs`` is the tuple
        of positional arguments. A non-None return value replaces the output. Returns a
        handle whose ``remove()`` unregisters the hook."""
        if not callable(hook):
            raise TypeError(f"register_forward_hook: hook must be callable, got {hook!r}")
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # -- traversal ----------------------------------------------------------------------------

    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and all sub-modules, depth first, with dotted names ("" for self)."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            kids = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs, e.g. ``("0.weight", ...)``; each parameter
        once, in registration order (own parameters first, then each child's)."""
        seen: set[int] = set()
        for mname, m in self.named_modules(prefix):
            for pname, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mname}.{pname}" if mname else pname), p

    def parameters(self) -> Iterator[Parameter]:
        for _, p in self.named_parameters():
            yield p

    # -- modes, gradients, state --------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode (affects Dropout) on this module and all sub-modules."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self) -> None:
        """Reset every parameter's ``.grad`` to None."""
        for p in self.parameters():
            p.grad = None

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every sub-module and then on this one."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def to(self, dtype) -> Module:
        """Convert every parameter to a floating ``dtype`` in place; returns self."""
        for p in self.parameters():
            p.data = np.asarray(p.data, dtype=dtype)
            if p.data.dtype.kind != "f":
                raise TypeError(f"to: dtype must be a floating dtype, got {p.data.dtype}")
            p.grad = None
        return self

    def state_dict(self) -> OrderedDict:
        """``{dotted name: numpy copy of the parameter}``."""
        return OrderedDict((k, p.data.copy()) for k, p in self.named_parameters())

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy arrays into the parameters (in place, keeping each parameter's dtype).

        With ``strict`` (the default) the keys must match exactly. Shapes must always match.
        Returns ``(missing_keys, unexpected_keys)``.
        """
        own = OrderedDict(self.named_parameters())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise ValueError(
                f"load_state_dict: the state does not fit {type(self).__name__}: "
                + " and ".join(parts)
            )
        values = {}
        for k, p in own.items():
            if k not in state_dict:
                continue
            v = state_dict[k]
            v = np.asarray(v.data if isinstance(v, Tensor) else v)
            if v.shape != p.data.shape:
                raise ValueError(
                    f"load_state_dict: shape mismatch for {k!r}: the state has shape {v.shape}, "
                    f"the parameter has shape {p.data.shape}"
                )
            values[k] = v
        for k, v in values.items():  # copy only once everything has been checked
            own[k].data[...] = v
        return _IncompatibleKeys(missing, unexpected)

    # -- printing -----------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's one-line repr."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, m in self._modules.items():
            child = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n" + "\n".join(lines) + "\n)"


def _positive_int(v, name: str, who: str) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
        raise ValueError(f"{who}: {name} must be a positive int, got {v!r}")
    return int(v)


def _uniform(gen, bound: float, shape, dtype) -> Parameter:
    data = gen.uniform(-bound, bound, size=shape).astype(dtype, copy=False)
    return Parameter(data)


class Linear(Module):
    """Fully connected layer ``y = x @ weight.T + bias``.

    Args:
        in_features, out_features: sizes of the input and output.
        bias: learn an additive bias.
        rng: ``np.random.Generator`` (or int seed) drawing the initial weights; or ``seed``.
        dtype: float64 (default) or float32.

    Attributes:
        weight: (out_features, in_features); bias: (out_features,). Both start uniform in
        [-1/sqrt(in_features), 1/sqrt(in_features)] (PyTorch's default), weight drawn first.
    """

    def __init__(self, in_features, out_features, bias=True, rng=None, seed=None, dtype=np.float64):
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features", "Linear")
        self.out_features = _positive_int(out_features, "out_features", "Linear")
        gen = _generator(rng, seed, "Linear")
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight = _uniform(gen, bound, (self.out_features, self.in_features), dtype)
        self.bias = _uniform(gen, bound, (self.out_features,), dtype) if bias else None

    def forward(self, x) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Conv2d(Module):
    """2-D convolution layer (cross-correlation, as PyTorch's).

    Args:
        in_channels, out_channels: C and O.
        kernel_size, stride, padding: int or (h, w) pair.
        bias: learn one bias per output channel.
        rng / seed, dtype: as for :class:`Linear`.

    Attributes:
        weight: (O, C, kH, kW); bias: (O,). Uniform in +-1/sqrt(C*kH*kW) (PyTorch's default).
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        bias=True,
        rng=None,
        seed=None,
        dtype=np.float64,
    ):
        super().__init__()
        self.in_channels = _positive_int(in_channels, "in_channels", "Conv2d")
        self.out_channels = _positive_int(out_channels, "out_channels", "Conv2d")
        self.kernel_size = F._pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = F._pair(stride, "stride", "Conv2d", 1)
        self.padding = F._pair(padding, "padding", "Conv2d", 0)
        gen = _generator(rng, seed, "Conv2d")
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in)
        shape = (self.out_channels, self.in_channels) + self.kernel_size
        self.weight = _uniform(gen, bound, shape, dtype)
        self.bias = _uniform(gen, bound, (self.out_channels,), dtype) if bias else None

    def forward(self, x) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Sequential(Module):
    """Modules applied in order; indexable (``model[0]``, slices give a new Sequential),
    iterable, with ``len``. Children are named "0", "1", ..."""

    def __init__(self, *modules: Module):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = tuple(modules[0])
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> Sequential:
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: {module!r} is not a Module")
        setattr(self, str(len(self._modules)), module)
        return self

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, i):
        mods = list(self._modules.values())
        if isinstance(i, slice):
            return Sequential(*mods[i])
        return mods[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))


class ReLU(Module):
    def forward(self, x) -> Tensor:
        return x.relu() if isinstance(x, Tensor) else F.relu(x)


class Tanh(Module):
    def forward(self, x) -> Tensor:
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x) -> Tensor:
        return F.sigmoid(x)


class Identity(Module):
    def forward(self, x):
        return x


class Flatten(Module):
    """Merge axes ``start_dim..end_dim`` into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x) -> Tensor:
        return F._tensor(x).flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        stride = self.kernel_size if self.stride is None else self.stride
        return f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"


class AvgPool2d(MaxPool2d):
    def forward(self, x) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class Dropout(Module):
    """Inverted dropout with probability ``p`` while training; identity in eval mode.

    The masks come from one generator made from ``rng``/``seed`` at construction, so a seeded
    model drops the same units on every run."""

    def __init__(self, p: float = 0.5, rng=None, seed=None):
        super().__init__()
        if not (isinstance(p, numbers.Real) and 0.0 <= p <= 1.0):
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self.rng = _generator(rng, seed, "Dropout")

    def forward(self, x) -> Tensor:
        return F.dropout(x, self.p, self.training, rng=self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


_ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


class MLP(Sequential):
    """A multilayer perceptron: Linear layers of ``sizes`` with an activation between them
    (none after the last layer).

    Args:
        sizes: layer widths, e.g. ``[784, 128, 10]`` gives Linear(784, 128), ReLU,
            Linear(128, 10).
        activation: 'relu' (default), 'tanh' or 'sigmoid'.
        rng / seed: one generator initialises all layers in order; the same seed gives the
            same weights.
        dtype, bias: passed to every :class:`Linear`.
    """

    def __init__(
        self,
        sizes: Iterable[int],
        activation: str = "relu",
        rng=None,
        seed=None,
        dtype=np.float64,
        bias: bool = True,
    ):
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least 2 entries (input and output), got {sizes}")
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"MLP: activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}"
            )
        gen = _generator(rng, seed, "MLP")
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(Linear(n_in, n_out, bias=bias, rng=gen, dtype=dtype))
            if i < len(sizes) - 2:
                layers.append(_ACTIVATIONS[activation]())
        super().__init__(*layers)
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "activation", activation)
