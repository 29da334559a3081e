"""nnlite: a small numpy autograd library with PyTorch's names, for the course
"neural networks from scratch, and what their weights mean".

    >>> import nnlite
    >>> from nnlite import nn, optim, functional as F
    >>> x = nnlite.Tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    array([2., 4.])

``import nnlite`` needs numpy only; ``nnlite.data``, ``nnlite.viz`` and ``nnlite.train`` are
imported on first use.
"""

import importlib

from . import functional, gradcheck, nn, optim
from .gradcheck import GradcheckError, numerical_grad  # nnlite.gradcheck(...) is callable too
from .tensor import (
    Tensor,
    abs,  # noqa: F401 (not in __all__: would shadow a builtin)
    cat,
    clamp,
    clip,
    concatenate,
    enable_grad,
    exp,
    flatten,
    is_grad_enabled,
    log,
    matmul,
    max,  # noqa: F401 (not in __all__: would shadow a builtin)
    maximum,
    mean,
    min,  # noqa: F401 (not in __all__: would shadow a builtin)
    minimum,
    no_grad,
    ones,
    pad,
    permute,
    relu,
    reshape,
    sigmoid,
    sqrt,
    stack,
    std,
    sum,  # noqa: F401 (not in __all__: would shadow a builtin)
    tanh,
    tensor,
    transpose,
    unbroadcast,
    var,
    where,
    zeros,
)

__version__ = "0.1.0"

# sum/max/min/abs are reachable as nnlite.sum etc. but left out of ``import *`` so that they do
# not shadow Python's builtins.
__all__ = [
    "Tensor",
    "tensor",
    "zeros",
    "ones",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "unbroadcast",
    "exp",
    "log",
    "sqrt",
    "tanh",
    "sigmoid",
    "relu",
    "clip",
    "clamp",
    "mean",
    "var",
    "std",
    "reshape",
    "transpose",
    "permute",
    "flatten",
    "matmul",
    "maximum",
    "minimum",
    "where",
    "concatenate",
    "cat",
    "stack",
    "pad",
    "gradcheck",
    "numerical_grad",
    "GradcheckError",
    "functional",
    "nn",
    "optim",
]

_LAZY = ("data", "viz", "train", "grading", "course", "checks")


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'nnlite' has no attribute {name!r}")
