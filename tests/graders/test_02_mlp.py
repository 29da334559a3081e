"""Hidden grader of lesson 02, "An MLP that learns MNIST".

Every test scores one exercise (``@pytest.mark.exercise``) and compares the student's answer,
computed in the sandbox, with the solution notebook's answer (``reference``) or with an exact
value, in this trusted process. Exercises are graded independently: a driver that exercises
one class or function puts nnlite's own version in place of the earlier exercises it calls
(``Linear`` inside ``MLP``; ``cross_entropy`` inside ``train_epoch`` and ``evaluate``), and the
models and optimizers handed to ``count_parameters``, ``train_epoch`` and ``evaluate`` are
nnlite's. So a broken ``Linear`` costs points in the ``linear`` exercise only.

No test trains on MNIST: inputs are tiny and synthetic, and the whole file grades a notebook in
well under two seconds. The plain tests at the end (no exercise marker) are ignored by the
grader; in CI they check that the reference agrees with PyTorch, which is what makes "equal to
the reference" mean "equal to PyTorch".

Points per exercise add up to the points of the exercise cell in the notebook.
"""

from __future__ import annotations

import numpy as np
import pytest

from nnlite.grading import assert_close, assert_equal, assert_shape, assert_true, fail
from nnlite.grading.compare import as_array

LESSON = "02_mlp"
EXERCISES = {
    "linear": ["Linear"],
    "cross_entropy": ["log_softmax", "cross_entropy"],
    "sgd": ["SGD"],
    "mlp": ["MLP"],
    "count_parameters": ["count_parameters"],
    "training_loop": ["train_epoch", "evaluate"],
}
# R13: nnlite's own versions, out of reach while the exercise is graded (nnlite.grading.ownwork).
# What calls them (nnlite.nn.MLP calls Linear; nnlite.train.fit is a training loop too) fails too.
OWN_WORK = {
    "linear": ["nnlite.nn:Linear", "nnlite.nn:_uniform", "nnlite.functional:linear"],
    "cross_entropy": [
        "nnlite.functional:log_softmax",
        "nnlite.functional:softmax",
        "nnlite.functional:cross_entropy",
        "nnlite.functional:nll_loss",
        "nnlite.functional:_class_targets",
    ],
    "sgd": ["nnlite.optim:SGD", "nnlite.optim:Optimizer"],
    "mlp": ["nnlite.nn:MLP"],
    "count_parameters": ["nnlite.checks.l02_mlp:fallback_count_parameters"],
    "training_loop": [
        "nnlite.train:fit",
        "nnlite.train:evaluate",
        "nnlite.checks.l02_mlp:fallback_train_epoch",
    ],
}

HINT_LAYOUT = (
    "weight has PyTorch's layout (out_features, in_features), so forward is x @ W.T + b; "
    "a (in, out) weight with x @ W cannot be told apart on square layers only."
)
HINT_INIT = (
    "Draw weight and bias uniformly in [-k, k] with k = 1 / sqrt(in_features), the fan-in "
    "(not the fan-out, not a normal distribution)."
)
HINT_DRAWS = (
    "Make one generator with np.random.default_rng(rng), then draw the weight first and the "
    "bias second, each with gen.uniform(-k, k, size=shape)."
)
HINT_GRAPH = (
    "Compute with Tensor operations (@, +, .exp(), .sum(), indexing), not on .data, so that "
    "backward() reaches the inputs and the parameters."
)
HINT_STABLE = (
    "Subtract each row's own maximum (a constant taken from .data, keepdims=True) before exp: "
    "exp(1000) overflows to inf and inf / inf is NaN."
)
HINT_REDUCTION = (
    "'mean' divides the summed loss by N, 'sum' does not, and 'none' returns the N per-example "
    "losses unreduced."
)
HINT_TARGET = (
    "Check 0 <= target < C yourself and raise ValueError naming the value: numpy reads index -1 "
    "as the last class without complaint."
)
HINT_MOMENTUM = (
    "PyTorch's rule: g = grad + weight_decay * p; buf = g on the first step, else "
    "buf = momentum * buf + g; p -= lr * buf. The learning rate multiplies the buffer once, and "
    "each parameter has its own buffer."
)
HINT_DECAY = (
    "Weight decay is added to the gradient (g = grad + weight_decay * p) before the momentum "
    "buffer, not applied to p separately after the step (that is AdamW's decoupled decay). "
    "If the test without weight decay fails too, fix the momentum first."
)
HINT_ZERO_GRAD = "zero_grad sets p.grad = None for every parameter (PyTorch's default since 2.0)."
HINT_GENERATOR = (
    "params may be a generator such as model.parameters(), which can be iterated only once: "
    "keep self.params = list(params)."
)
HINT_SKIP_NONE = "Skip parameters whose .grad is None: no update and no weight decay for them."
HINT_MLP_ORDER = (
    "Register the layers (an nnlite.nn.Sequential, or one attribute per layer; a plain list is "
    "invisible to parameters()) and create them in order from ONE generator."
)
HINT_MLP_ACT = (
    "Put the activation between the Linear layers only: none after the last layer, whose "
    "outputs are the logits."
)
HINT_COUNT = "Add p.size over model.parameters(), weights and biases of every layer alike."
HINT_ORDER = (
    "Draw the order once per epoch as rng.permutation(len(X)) and take consecutive slices of "
    "batch_size indices; for each batch zero the gradients, backpropagate, then step."
)
HINT_EPOCH_MEAN = (
    "Return the mean over all examples: weight each batch's mean loss by its size (the last "
    "batch may be smaller), and return a Python float."
)
HINT_EVALUATE = (
    "Return (mean loss over all N examples, fraction of examples whose argmax logit equals the "
    "label) as Python floats; the accuracy lies between 0 and 1, it is not a percentage."
)
HINT_NO_GRAD = "Run evaluation's forward passes inside `with no_grad():`: nothing is trained."


# ============================================================================== helpers (parent)


def as_list(got, n, what):
    """The student's answer as a list of ``n`` items."""
    if not isinstance(got, list | tuple) or len(got) != n:
        fail(f"{what}: expected {n} values")
    return list(got)


def raised_names(got, what):
    """The exception class names a driver reported, or fail when nothing was raised."""
    status, names, _message = got
    if status != "raised":
        fail(f"{what} did not raise")
    return names


# ============================================================================== drivers (sandbox)
# Drivers run in the sandbox with the student's namespace `ns` (and in this process with the
# reference's). They compute; they never judge. Each is self-contained.


def drive_linear_make(ns, in_features, out_features, rng_arg, bias=True):
    """Build a Linear; report shapes, dtype, parameter order and values."""
    layer = ns["Linear"](in_features, out_features, bias=bias, rng=rng_arg)
    params = list(layer.parameters())
    w = getattr(layer, "weight", None)
    b = getattr(layer, "bias", None)
    order = [
        "weight" if p is w else "bias" if (b is not None and p is b) else "other" for p in params
    ]

    def arr(t):
        return None if t is None else np.array(getattr(t, "data", t), dtype=np.float64)

    return {
        "weight": arr(w),
        "bias": arr(b),
        "order": order,
        "shapes": [tuple(int(s) for s in np.shape(getattr(p, "data", p))) for p in params],
        "dtype": str(np.asarray(getattr(w, "data", w)).dtype),
    }


def drive_linear_generator(ns, seed):
    """Two layers drawn from one Generator, and one from the same int seed."""
    gen = np.random.default_rng(seed)
    a = ns["Linear"](4, 3, rng=gen)
    b = ns["Linear"](4, 3, rng=gen)
    c = ns["Linear"](4, 3, rng=seed)
    return [np.array(x.weight.data, dtype=np.float64) for x in (a, b, c)]


def drive_linear_forward(ns, W, b, x):
    """forward on given weights: returns (output data, dtype name, is it a Tensor)."""
    from nnlite import Tensor

    layer = ns["Linear"](W.shape[1], W.shape[0], bias=b is not None, rng=0)
    layer.weight.data[...] = W
    if b is not None:
        layer.bias.data[...] = b
    out = layer(Tensor(x))
    data = np.asarray(getattr(out, "data", out))
    return data.astype(np.float64), data.dtype.name, isinstance(out, Tensor)


def drive_linear_backward(ns, W, b, x, G):
    """Gradients of sum(G * layer(x)) with respect to weight and bias."""
    from nnlite import Tensor

    layer = ns["Linear"](W.shape[1], W.shape[0], rng=0)
    layer.weight.data[...] = W
    layer.bias.data[...] = b
    out = layer(Tensor(x))
    (out * Tensor(G)).sum().backward()
    return layer.weight.grad, layer.bias.grad


def drive_log_softmax(ns, z, axis):
    from nnlite import Tensor

    out = ns["log_softmax"](Tensor(z), axis=axis)
    data = np.asarray(getattr(out, "data", out))
    return data.astype(np.float64), data.dtype.name


def drive_log_softmax_grad(ns, z, G):
    from nnlite import Tensor

    t = Tensor(z, requires_grad=True)
    (ns["log_softmax"](t, axis=-1) * Tensor(G)).sum().backward()
    return t.grad


def drive_cross_entropy(ns, z, target, reduction):
    from nnlite import Tensor

    out = ns["cross_entropy"](Tensor(z), target, reduction=reduction)
    arr = np.asarray(getattr(out, "data", out), dtype=np.float64)
    return arr[()] if arr.ndim == 0 else arr  # a scalar crosses as a numpy scalar


def drive_cross_entropy_grad(ns, z, target, reduction, G):
    """Gradient of the loss (weighted by G for 'none') with respect to the logits."""
    from nnlite import Tensor

    t = Tensor(z, requires_grad=True)
    loss = ns["cross_entropy"](t, target, reduction=reduction)
    if reduction == "none":
        (loss * Tensor(G)).sum().backward()
    else:
        loss.backward()
    return t.grad


def drive_cross_entropy_raises(ns, z, target):
    from nnlite import Tensor

    try:
        ns["cross_entropy"](Tensor(z), target)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        return "raised", [c.__name__ for c in type(exc).__mro__], str(exc)[:500]
    return "returned", [], ""


def drive_sgd(ns, inits, A, c, steps, lr, momentum, weight_decay, as_generator=False, skip=None):
    """Run the student's SGD with gradients grad_i = A_i @ p_i + c_i set by hand before each
    step (so neither backward() nor zero_grad() is involved). ``skip[k]`` lists the parameters
    that get no gradient (None) at step k. Returns the parameter values after every step."""
    from nnlite.nn import Parameter

    params = [Parameter(np.array(a, dtype=np.float64)) for a in inits]
    opt = ns["SGD"](
        iter(params) if as_generator else params,
        lr=lr,
        momentum=momentum,
        weight_decay=weight_decay,
    )
    trajectory = []
    for k in range(steps):
        for i, p in enumerate(params):
            if skip is not None and i in skip[k]:
                p.grad = None
            else:
                flat = np.asarray(p.data, dtype=np.float64).ravel()
                p.grad = (A[i] @ flat + c[i]).reshape(p.data.shape)
        opt.step()
        trajectory.append([np.array(p.data, dtype=np.float64) for p in params])
    return trajectory


def drive_sgd_zero_grad(ns):
    """After zero_grad: is each .grad None? Then: does backward still work afterwards?"""
    from nnlite.nn import Parameter

    p, q = Parameter(np.ones(3)), Parameter(np.ones((2, 2)))
    p.grad, q.grad = np.ones(3), np.ones((2, 2))
    opt = ns["SGD"]([p, q], lr=0.1)
    opt.zero_grad()
    cleared = [p.grad is None, q.grad is None]
    (p * p).sum().backward()
    return cleared, p.grad


def drive_mlp_params(ns, sizes, rng_arg, activation="relu", as_generator=False):
    """The parameters of MLP(sizes, rng) in parameters() order (nnlite's Linear inside)."""
    import nnlite

    MLP = ns["MLP"]
    g = getattr(getattr(MLP, "__init__", None), "__globals__", {})
    saved = g.get("Linear", None)
    g["Linear"] = nnlite.nn.Linear
    try:
        rng = np.random.default_rng(rng_arg) if as_generator else rng_arg
        model = MLP(sizes, activation=activation, rng=rng)
        return [np.array(p.data, dtype=np.float64) for p in model.parameters()]
    finally:
        if saved is None:
            g.pop("Linear", None)
        else:
            g["Linear"] = saved


def drive_mlp_forward(ns, sizes, activation, params, x, G=None):
    """Logits of MLP(sizes) with the given parameters on x (nnlite's Linear inside); with G,
    also the gradients of sum(G * logits) with respect to every parameter."""
    import nnlite
    from nnlite import Tensor

    MLP = ns["MLP"]
    g = getattr(getattr(MLP, "__init__", None), "__globals__", {})
    saved = g.get("Linear", None)
    g["Linear"] = nnlite.nn.Linear
    try:
        model = MLP(sizes, activation=activation, rng=0)
        own = list(model.parameters())
        if len(own) != len(params):
            return "parameter count", len(own)
        for p, v in zip(own, params, strict=True):
            p.data[...] = v
        out = model(Tensor(x))
        logits = np.array(getattr(out, "data", out), dtype=np.float64)
        if G is None:
            return "ok", logits
        (out * Tensor(G)).sum().backward()
        return "ok", logits, [p.grad for p in own]
    finally:
        if saved is None:
            g.pop("Linear", None)
        else:
            g["Linear"] = saved


def drive_mlp_raises(ns, sizes, activation):
    import nnlite

    MLP = ns["MLP"]
    g = getattr(getattr(MLP, "__init__", None), "__globals__", {})
    saved = g.get("Linear", None)
    g["Linear"] = nnlite.nn.Linear
    try:
        MLP(sizes, activation=activation, rng=0)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        return "raised", [c.__name__ for c in type(exc).__mro__], str(exc)[:500]
    finally:
        if saved is None:
            g.pop("Linear", None)
        else:
            g["Linear"] = saved
    return "returned", [], ""


def drive_count(ns, spec):
    """count_parameters of an nnlite model described by ``spec`` (data, not a label: R15):
    ["mlp", sizes], ["linear", in, out, bias] or ["conv"]. Returns (value, type name)."""
    from nnlite import nn

    if spec[0] == "mlp":
        model = nn.MLP(spec[1], rng=0)
    elif spec[0] == "linear":
        model = nn.Linear(spec[1], spec[2], bias=spec[3], rng=0)
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 4, 3, rng=0), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 2, rng=0)
        )
    got = ns["count_parameters"](model)
    return got, type(got).__qualname__


def drive_train(ns, sizes, params, X, y, lr, momentum, batch_size, seed, epochs):
    """Run the student's train_epoch for some epochs on an nnlite MLP with nnlite's SGD and
    nnlite's cross_entropy; returns (epoch losses, final parameters)."""
    from nnlite import functional, nn, optim

    train_epoch = ns["train_epoch"]
    g = getattr(train_epoch, "__globals__", {})
    saved = {k: g.get(k) for k in ("cross_entropy", "log_softmax")}
    g["cross_entropy"], g["log_softmax"] = functional.cross_entropy, functional.log_softmax
    try:
        model = nn.MLP(sizes, rng=0)
        for p, v in zip(model.parameters(), params, strict=True):
            p.data[...] = v
        opt = optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        gen = np.random.default_rng(seed)
        losses = [train_epoch(model, X, y, opt, batch_size, gen) for _ in range(epochs)]
        return losses, [np.array(p.data) for p in model.parameters()]
    finally:
        for k, v in saved.items():
            if v is None:
                g.pop(k, None)
            else:
                g[k] = v


def drive_train_toy(ns, X, y, epochs):
    """Train an nnlite MLP on a toy set with the student's train_epoch; return the final
    predictions (argmax of the logits, computed here, not by the student's evaluate)."""
    from nnlite import Tensor, functional, nn, no_grad, optim

    train_epoch = ns["train_epoch"]
    g = getattr(train_epoch, "__globals__", {})
    saved = {k: g.get(k) for k in ("cross_entropy", "log_softmax")}
    g["cross_entropy"], g["log_softmax"] = functional.cross_entropy, functional.log_softmax
    try:
        model = nn.MLP([X.shape[1], 16, int(y.max()) + 1], rng=0)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        gen = np.random.default_rng(0)
        for _ in range(epochs):
            train_epoch(model, X, y, opt, 16, gen)
        with no_grad():
            return model(Tensor(X)).data.argmax(axis=1)
    finally:
        for k, v in saved.items():
            if v is None:
                g.pop(k, None)
            else:
                g[k] = v


def drive_evaluate(ns, sizes, params, X, y, batch_size=None):
    """The student's evaluate on an nnlite MLP (nnlite's cross_entropy inside). Returns its
    answer, whether any forward pass ran with gradients enabled, and whether the parameters'
    gradients were left untouched (None)."""
    from nnlite import functional, is_grad_enabled, nn

    evaluate = ns["evaluate"]
    g = getattr(evaluate, "__globals__", {})
    saved = {k: g.get(k) for k in ("cross_entropy", "log_softmax")}
    g["cross_entropy"], g["log_softmax"] = functional.cross_entropy, functional.log_softmax
    try:
        model = nn.MLP(sizes, rng=0)
        for p, v in zip(model.parameters(), params, strict=True):
            p.data[...] = v
        # Grad mode is recorded inside forward itself (a hook is skipped by model.forward(x)).
        modes = []
        inner = model.forward
        model.forward = lambda x: (modes.append(is_grad_enabled()), inner(x))[1]
        if batch_size is None:
            got = evaluate(model, X, y)
        else:
            got = evaluate(model, X, y, batch_size=batch_size)
        untouched = all(p.grad is None for p in model.parameters())
        return got, any(modes), untouched
    finally:
        for k, v in saved.items():
            if v is None:
                g.pop(k, None)
            else:
                g[k] = v


# ============================================================================== inputs


def mlp_params(sizes, rng, scale=0.5):
    """Random parameters (W1, b1, W2, b2, ...) for an MLP of these sizes."""
    out = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        out.append(rng.normal(0, scale, size=(n_out, n_in)))
        out.append(rng.normal(0, scale, size=n_out))
    return out


def toy_blobs(rng, n_per_class=20, dim=5, classes=3):
    """A linearly separable set: Gaussian blobs around far-apart corners."""
    centres = 4.0 * np.eye(classes, dim)
    y = np.repeat(np.arange(classes), n_per_class)
    X = centres[y] + rng.normal(0, 0.6, size=(len(y), dim))
    return X, y


def sgd_problem(rng):
    """Three parameters of different shapes, and linear gradient maps for them."""
    shapes = [(3, 2), (3,), (2, 2)]
    inits = [rng.normal(size=s) for s in shapes]
    A = []
    for s in shapes:
        n = int(np.prod(s))
        M = rng.normal(size=(n, n))
        A.append(0.5 * (M @ M.T) / n + np.eye(n))
    c = [rng.normal(size=int(np.prod(s))) for s in shapes]
    return inits, A, c


def compare_trajectories(got, expected, rtol, what):
    got = as_list(got, len(expected), what)
    for k, (g_step, e_step) in enumerate(zip(got, expected, strict=True)):
        g_step = as_list(g_step, len(e_step), f"{what}, step {k + 1}")
        for i, (g, e) in enumerate(zip(g_step, e_step, strict=True)):
            assert_close(g, e, rtol=rtol, atol=1e-14, msg=f"parameter {i} after step {k + 1}")


# ============================================================================== 1. Linear (4)


@pytest.mark.exercise("linear")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_LAYOUT)
def test_linear_shapes_and_parameter_order(student):
    """weight (out, in), bias (out,), float64; parameters() yields weight then bias"""
    got = student.run(drive_linear_make, 7, 3, 0)
    assert_equal(tuple(got["order"]), ("weight", "bias"), msg="parameters() order")
    assert_equal(tuple(got["shapes"]), ((3, 7), (3,)), msg="shapes of the parameters")
    assert_equal(got["dtype"], "float64", msg="dtype of the weight")


@pytest.mark.exercise("linear")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_INIT)
def test_linear_init_range(student):
    """weight and bias are uniform in [-1/sqrt(in_features), 1/sqrt(in_features)]"""
    got = student.run(drive_linear_make, 50, 400, 3)
    k = 1 / np.sqrt(50)
    w, b = as_array(got["weight"], msg="weight"), as_array(got["bias"], msg="bias")
    assert_shape(w, (400, 50), msg="weight", public=True)
    assert_shape(b, (400,), msg="bias", public=True)
    assert_true(np.all(np.isfinite(w)) and np.all(np.isfinite(b)), "weights contain NaN or inf")
    assert_true(np.abs(w).max() <= k, "some weights lie outside [-1/sqrt(fan_in), 1/sqrt(fan_in)]")
    assert_true(np.abs(b).max() <= k, "some biases lie outside [-1/sqrt(fan_in), 1/sqrt(fan_in)]")
    assert_true(np.abs(w).max() > 0.97 * k, "the weights do not fill the range ±1/sqrt(fan_in)")
    assert_true(np.abs(b).max() > 0.9 * k, "the biases do not fill the range ±1/sqrt(fan_in)")
    # uniform on [-k, k]: mean 0, sd k / sqrt(3) (20,000 draws: a 5 % band is > 10 sd wide)
    assert_true(abs(w.mean()) < 0.05 * k, "the weights are not centred on 0")
    assert_true(
        abs(w.std() / (k / np.sqrt(3)) - 1) < 0.05, "the weights' spread is not that of U(-k, k)"
    )
    assert_true(abs(b.std() / (k / np.sqrt(3)) - 1) < 0.15, "the biases' spread is not U(-k, k)")


@pytest.mark.exercise("linear")
@pytest.mark.points(0.25)
@pytest.mark.hint("Turn rng into a generator with np.random.default_rng(rng) and draw from it.")
def test_linear_seeded(student):
    """the same seed gives the same weights; a shared Generator gives different layers"""
    first, second, again = student.run(drive_linear_generator, 11)
    third = student.run(drive_linear_generator, 12)[2]
    assert_true(not np.array_equal(first, second), "two layers from one Generator are equal")
    assert_close(again, first, rtol=0, msg="rng=11 (an int) vs a fresh Generator of seed 11")
    assert_true(not np.array_equal(again, third), "seeds 11 and 12 gave the same weights")


@pytest.mark.exercise("linear")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_DRAWS)
def test_linear_init_matches_reference(student, reference):
    """with a seed, the initial values are exactly the specified draws"""
    got = student.run(drive_linear_make, 6, 5, 42)
    want = reference.run(drive_linear_make, 6, 5, 42)
    assert_close(got["weight"], want["weight"], rtol=1e-12, atol=1e-15, msg="weight")
    assert_close(got["bias"], want["bias"], rtol=1e-12, atol=1e-15, msg="bias")


@pytest.mark.exercise("linear")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_LAYOUT)
def test_linear_forward(student, reference, rng):
    """forward(x) = x @ W.T + b on a non-square layer"""
    W, b, x = rng.normal(size=(3, 7)), rng.normal(size=3), rng.normal(size=(4, 7))
    got = student.run(drive_linear_forward, W, b, x)
    want = reference.run(drive_linear_forward, W, b, x)
    assert_close(got[0], want[0], rtol=1e-10, atol=1e-12, msg="layer(x)")
    assert_close(got[0], x @ W.T + b, rtol=1e-10, atol=1e-12, msg="layer(x)")
    assert_true(got[2], "forward should return an nnlite Tensor")


@pytest.mark.exercise("linear")
@pytest.mark.points(0.25)
@pytest.mark.hint("Let numpy broadcasting do the work: x may be 1-D, empty, or integer.")
def test_linear_forward_edge_inputs(student, rng):
    """a single 1-D input, an empty batch and an integer batch"""
    W, b = rng.normal(size=(2, 5)), rng.normal(size=2)
    one = rng.normal(size=5)
    got = student.run(drive_linear_forward, W, b, one)
    assert_close(got[0], W @ one + b, rtol=1e-10, msg="layer(x) for x of shape (5,)")
    got = student.run(drive_linear_forward, W, b, np.zeros((0, 5)))
    assert_close(got[0], np.zeros((0, 2)), msg="layer(x) for an empty batch (0, 5)")
    xi = np.arange(10).reshape(2, 5) - 4
    got = student.run(drive_linear_forward, W, b, xi)
    assert_close(got[0], xi @ W.T + b, rtol=1e-10, msg="layer(x) for integer x")
    assert_equal(got[1], "float64", msg="dtype of layer(x) for integer x")


@pytest.mark.exercise("linear")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_GRAPH)
def test_linear_backward(student, rng):
    """backward reaches weight and bias: dW = G.T @ x, db = G.sum(0)"""
    W, b = rng.normal(size=(3, 7)), rng.normal(size=3)
    x, G = rng.normal(size=(4, 7)), rng.normal(size=(4, 3))
    gw, gb = student.run(drive_linear_backward, W, b, x, G)
    if gw is None or gb is None:
        fail("backward did not reach the weight and the bias (their .grad is None)")
    assert_close(gw, G.T @ x, rtol=1e-10, msg="weight.grad")
    assert_close(gb, G.sum(axis=0), rtol=1e-10, msg="bias.grad")


@pytest.mark.exercise("linear")
@pytest.mark.points(0.25)
@pytest.mark.hint("bias=False: self.bias = None, one parameter, forward is x @ W.T.")
def test_linear_without_bias(student, rng):
    """bias=False: no bias parameter, forward = x @ W.T"""
    got = student.run(drive_linear_make, 4, 6, 0, False)
    assert_true(got["bias"] is None, "with bias=False, self.bias should be None")
    assert_equal(tuple(got["order"]), ("weight",), msg="parameters() with bias=False")
    W, x = rng.normal(size=(6, 4)), rng.normal(size=(3, 4))
    out = student.run(drive_linear_forward, W, None, x)
    assert_close(out[0], x @ W.T, rtol=1e-10, msg="layer(x) without bias")


# ========================================================================= 2. cross-entropy (5)


@pytest.mark.exercise("cross_entropy")
@pytest.mark.points(0.5)
@pytest.mark.hint("log_softmax(z) = z - log(sum(exp(z))) along the given axis (keepdims=True).")
def test_log_softmax_values(student, reference, rng):
    """log_softmax along the last axis, along axis 0, and of a 3-D tensor"""
    for shape, axis in (((6, 5), -1), ((3, 4), 0), ((2, 3, 4), 1), ((5, 1), -1)):
        z = rng.normal(0, 3, size=shape)
        got = student.run(drive_log_softmax, z, axis)
        want = reference.run(drive_log_softmax, z, axis)
        assert_close(got[0], want[0], rtol=1e-9, atol=1e-12, msg=f"log_softmax, axis={axis}")


@pytest.mark.exercise("cross_entropy")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_STABLE)
def test_log_softmax_stable(student, reference, rng):
    """finite and unchanged when the logits of a row are shifted by ±1000; finite at 1e200"""
    z = rng.normal(0, 2, size=(4, 6))
    want = reference.run(drive_log_softmax, z, -1)[0]
    for shift in (1000.0, -1000.0):
        got = student.run(drive_log_softmax, z + shift, -1)
        assert_close(got[0], want, rtol=1e-7, atol=1e-9, msg=f"log_softmax(z {shift:+.0f})")
    rows = np.array([[1000.0], [-1000.0], [0.0], [500.0]])  # a different offset per row
    got = student.run(drive_log_softmax, z + rows, -1)
    assert_close(got[0], want, rtol=1e-7, atol=1e-9, msg="log_softmax with row offsets ±1000")
    big = np.array([[1e200, -1e200, 0.0], [3.0, 1e200, 1e199]])
    got = student.run(drive_log_softmax, big, -1)
    assert_close(got[0], reference.run(drive_log_softmax, big, -1)[0], msg="log_softmax at 1e200")


@pytest.mark.exercise("cross_entropy")
@pytest.mark.points(0.25)
@pytest.mark.hint(
    "Keep the input's dtype (do not convert float32 to float64); NaN stays in its row."
)
def test_log_softmax_float32_and_nan(student, reference, rng):
    """float32 in, float32 out; a NaN spoils its own row only"""
    z = rng.normal(size=(3, 4)).astype(np.float32)
    got = student.run(drive_log_softmax, z, -1)
    assert_equal(got[1], "float32", msg="dtype of log_softmax of float32 logits")
    assert_close(got[0], reference.run(drive_log_softmax, z, -1)[0], rtol=1e-5, atol=1e-6)
    zn = rng.normal(size=(3, 4))
    zn[1, 2] = np.nan
    got = student.run(drive_log_softmax, zn, -1)
    want = reference.run(drive_log_softmax, zn, -1)
    assert_close(got[0], want[0], rtol=1e-9, equal_nan=True, msg="log_softmax with a NaN")


@pytest.mark.exercise("cross_entropy")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_GRAPH)
def test_log_softmax_gradient(student, reference, rng):
    """backward through log_softmax gives the reference gradient"""
    z, G = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    got = student.run(drive_log_softmax_grad, z, G)
    if got is None:
        fail("backward did not reach the logits (their .grad is None)")
    assert_close(got, reference.run(drive_log_softmax_grad, z, G), rtol=1e-9, atol=1e-12)


@pytest.mark.exercise("cross_entropy")
@pytest.mark.points(0.5)
@pytest.mark.hint("loss_i = -log_softmax(logits)[i, target_i]; 'mean' averages over the N rows.")
def test_cross_entropy_mean(student, reference, rng):
    """the mean loss equals the reference (which equals torch.nn.functional.cross_entropy)"""
    z, t = rng.normal(0, 2, size=(7, 4)), rng.integers(0, 4, size=7)
    got = student.run(drive_cross_entropy, z, t, "mean")
    assert_close(got, reference.run(drive_cross_entropy, z, t, "mean"), rtol=1e-10)


@pytest.mark.exercise("cross_entropy")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_STABLE)
def test_cross_entropy_shifted_by_1000(student, reference, rng):
    """cross_entropy(logits + 1000) is finite and equals cross_entropy(logits)"""
    z, t = rng.normal(size=(5, 10)), rng.integers(0, 10, size=5)
    want = reference.run(drive_cross_entropy, z, t, "mean")
    for shift in (1000.0, -1000.0):
        got = student.run(drive_cross_entropy, z + shift, t, "mean")
        assert_close(got, want, rtol=1e-9, msg=f"cross_entropy(logits {shift:+.0f})")


@pytest.mark.exercise("cross_entropy")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_REDUCTION)
def test_cross_entropy_reductions(student, reference, rng):
    """'sum' and 'none' (shape (N,)) equal the reference"""
    z, t = rng.normal(size=(6, 3)), rng.integers(0, 3, size=6)
    for reduction in ("sum", "none"):
        got = student.run(drive_cross_entropy, z, t, reduction)
        want = reference.run(drive_cross_entropy, z, t, reduction)
        assert_close(got, want, rtol=1e-10, msg=f"reduction={reduction!r}")


@pytest.mark.exercise("cross_entropy")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_GRAPH)
def test_cross_entropy_gradient(student, reference, rng):
    """backward gives (softmax - onehot) / N for 'mean', and the weighted rows for 'none'"""
    z, t = rng.normal(size=(5, 4)), rng.integers(0, 4, size=5)
    G = rng.normal(size=5)
    for reduction in ("mean", "none"):
        got = student.run(drive_cross_entropy_grad, z, t, reduction, G)
        if got is None:
            fail("backward did not reach the logits (their .grad is None)")
        want = reference.run(drive_cross_entropy_grad, z, t, reduction, G)
        assert_close(got, want, rtol=1e-9, atol=1e-12, msg=f"logits.grad ({reduction!r})")


@pytest.mark.exercise("cross_entropy")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_TARGET)
def test_cross_entropy_target_out_of_range(student):
    """a target of C or of -1 raises ValueError (or IndexError) naming the bad value"""
    z = np.zeros((3, 7))
    for bad in (7, -1, 13):
        got = student.run(drive_cross_entropy_raises, z, np.array([0, bad, 2]))
        names = raised_names(got, f"cross_entropy with target value {bad} and 7 classes")
        assert_true(
            "ValueError" in names or "IndexError" in names,
            f"target {bad}: expected ValueError (or IndexError)",
        )
        assert_true(str(bad) in got[2], f"the error for target {bad} should name the value {bad}")


@pytest.mark.exercise("cross_entropy")
@pytest.mark.points(0.25)
@pytest.mark.hint("Edge cases: one class (loss 0); an empty batch ('sum' is 0, 'none' is empty).")
def test_cross_entropy_edge_sizes(student):
    """a single class gives loss 0; an empty batch gives 0 ('sum') and shape (0,) ('none')"""
    got = student.run(drive_cross_entropy, np.array([[3.0], [-2.0]]), np.array([0, 0]), "mean")
    assert_close(got, 0.0, atol=1e-15, msg="one class")
    empty_z, empty_t = np.zeros((0, 4)), np.zeros(0, dtype=np.int64)
    got = student.run(drive_cross_entropy, empty_z, empty_t, "sum")
    assert_close(got, 0.0, atol=0, msg="an empty batch, 'sum'")
    got = student.run(drive_cross_entropy, empty_z, empty_t, "none")
    assert_close(got, np.zeros(0), msg="an empty batch, 'none'")


# ============================================================================== 3. SGD (5)


@pytest.mark.exercise("sgd")
@pytest.mark.points(1)
@pytest.mark.hint("Without momentum and weight decay the step is p -= lr * grad.")
def test_sgd_plain(student, reference, rng):
    """three steps without momentum or weight decay"""
    inits, A, c = sgd_problem(rng)
    args = (inits, A, c, 3, 0.1, 0.0, 0.0)
    got = student.run(drive_sgd, *args)
    compare_trajectories(got, reference.run(drive_sgd, *args), 1e-12, "plain SGD")


@pytest.mark.exercise("sgd")
@pytest.mark.points(1.25)
@pytest.mark.hint(HINT_MOMENTUM)
def test_sgd_momentum(student, reference, rng):
    """three steps with momentum 0.9 follow torch.optim.SGD (via the reference) to 1e-12"""
    inits, A, c = sgd_problem(rng)
    args = (inits, A, c, 3, 0.05, 0.9, 0.0)
    got = student.run(drive_sgd, *args)
    compare_trajectories(got, reference.run(drive_sgd, *args), 1e-12, "SGD with momentum")


@pytest.mark.exercise("sgd")
@pytest.mark.points(1.25)
@pytest.mark.hint(HINT_DECAY)
def test_sgd_momentum_and_weight_decay(student, reference, rng):
    """three steps with momentum 0.9 and weight decay 0.1 follow torch.optim.SGD to 1e-12"""
    inits, A, c = sgd_problem(rng)
    args = (inits, A, c, 3, 0.05, 0.9, 0.1)
    got = student.run(drive_sgd, *args)
    compare_trajectories(got, reference.run(drive_sgd, *args), 1e-12, "momentum + decay")
    args = (inits, A, c, 2, 0.05, 0.0, 0.1)
    got = student.run(drive_sgd, *args)
    compare_trajectories(got, reference.run(drive_sgd, *args), 1e-12, "weight decay alone")


@pytest.mark.exercise("sgd")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_ZERO_GRAD)
def test_sgd_zero_grad_sets_none(student):
    """zero_grad() sets every .grad to None, and backward() works after it"""
    cleared, grad = student.run(drive_sgd_zero_grad)
    assert_true(all(cleared), "after zero_grad(), .grad should be None (not zeros)")
    assert_close(grad, np.full(3, 2.0), msg=".grad after zero_grad() and a backward()")


@pytest.mark.exercise("sgd")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_GENERATOR)
def test_sgd_params_from_a_generator(student, reference, rng):
    """params given as a generator (model.parameters()): every step updates them"""
    inits, A, c = sgd_problem(rng)
    args = (inits, A, c, 3, 0.05, 0.0, 0.0, True)
    got = student.run(drive_sgd, *args)
    compare_trajectories(got, reference.run(drive_sgd, *args), 1e-12, "SGD(generator)")


@pytest.mark.exercise("sgd")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_SKIP_NONE)
def test_sgd_skips_parameters_without_gradient(student, reference, rng):
    """a parameter whose .grad is None is left alone (no step, no weight decay)"""
    inits, A, c = sgd_problem(rng)
    skip = [[1], [1, 2], [], []]
    args = (inits, A, c, 4, 0.05, 0.0, 0.01, False, skip)
    got = student.run(drive_sgd, *args)
    compare_trajectories(got, reference.run(drive_sgd, *args), 1e-12, "SGD with a None .grad")


# ============================================================================== 4. MLP (4)


@pytest.mark.exercise("mlp")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_MLP_ORDER)
def test_mlp_parameter_shapes_and_order(student):
    """MLP([784, 128, 10]) and MLP([5, 4, 3, 2]) have W1, b1, W2, b2, ... in order"""
    for sizes in ([784, 128, 10], [5, 4, 3, 2]):
        got = student.run(drive_mlp_params, sizes, 0)
        shapes = tuple(np.shape(p) for p in as_list(got, 2 * (len(sizes) - 1), f"MLP({sizes})"))
        want = ()
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            want += ((n_out, n_in), (n_out,))
        assert_equal(shapes, want, msg=f"parameter shapes of MLP({sizes})")


@pytest.mark.exercise("mlp")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_MLP_ORDER)
def test_mlp_seeded_init(student, reference):
    """a seed (int or Generator) gives exactly the reference's initial parameters"""
    for sizes, as_generator in (([6, 5, 4, 3], False), ([3, 8, 2], True)):
        got = student.run(drive_mlp_params, sizes, 9, "relu", as_generator)
        want = reference.run(drive_mlp_params, sizes, 9, "relu", as_generator)
        got = as_list(got, len(want), f"parameters of MLP({sizes})")
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_close(g, w, rtol=1e-12, msg=f"initial parameter {i} of MLP({sizes})")


@pytest.mark.exercise("mlp")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_MLP_ACT)
def test_mlp_forward_relu(student, reference, rng):
    """logits of a 6-5-4-3 ReLU network with given weights"""
    sizes = [6, 5, 4, 3]
    params, x = mlp_params(sizes, rng), rng.normal(size=(7, 6))
    got = student.run(drive_mlp_forward, sizes, "relu", params, x)
    if got[0] != "ok":
        fail("MLP([6, 5, 4, 3]) does not have 6 parameters")
    want = reference.run(drive_mlp_forward, sizes, "relu", params, x)
    assert_close(got[1], want[1], rtol=1e-10, atol=1e-12, msg="logits")


@pytest.mark.exercise("mlp")
@pytest.mark.points(0.5)
@pytest.mark.hint("activation='tanh' uses tanh between the layers (nnlite.nn.Tanh or .tanh()).")
def test_mlp_forward_tanh(student, reference, rng):
    """logits of a 4-6-2 tanh network with given weights"""
    sizes = [4, 6, 2]
    params, x = mlp_params(sizes, rng), rng.normal(size=(5, 4))
    got = student.run(drive_mlp_forward, sizes, "tanh", params, x)
    if got[0] != "ok":
        fail("MLP([4, 6, 2]) does not have 4 parameters")
    want = reference.run(drive_mlp_forward, sizes, "tanh", params, x)
    assert_close(got[1], want[1], rtol=1e-10, atol=1e-12, msg="logits")


@pytest.mark.exercise("mlp")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_GRAPH)
def test_mlp_backward_reaches_every_parameter(student, reference, rng):
    """backward from the logits gives every parameter its gradient"""
    sizes = [5, 4, 3]
    params, x, G = mlp_params(sizes, rng), rng.normal(size=(6, 5)), rng.normal(size=(6, 3))
    got = student.run(drive_mlp_forward, sizes, "relu", params, x, G)
    if got[0] != "ok":
        fail("MLP([5, 4, 3]) does not have 4 parameters")
    want = reference.run(drive_mlp_forward, sizes, "relu", params, x, G)
    for i, (g, w) in enumerate(zip(got[2], want[2], strict=True)):
        if g is None:
            fail(f"backward did not reach parameter {i}")
        assert_close(g, w, rtol=1e-9, atol=1e-12, msg=f"gradient of parameter {i}")


@pytest.mark.exercise("mlp")
@pytest.mark.points(0.25)
@pytest.mark.hint("sizes=[in, out] is a single Linear layer, with no activation at all.")
def test_mlp_without_hidden_layer(student, reference, rng):
    """MLP([4, 3]) is one linear layer"""
    params, x = mlp_params([4, 3], rng), rng.normal(size=(5, 4))
    got = student.run(drive_mlp_forward, [4, 3], "relu", params, x)
    if got[0] != "ok":
        fail("MLP([4, 3]) does not have 2 parameters")
    assert_close(got[1], x @ params[0].T + params[1], rtol=1e-10, msg="logits of MLP([4, 3])")


# ====================================================================== 5. count_parameters (2)


@pytest.mark.exercise("count_parameters")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_COUNT)
def test_count_parameters_mlp(student):
    """784-128-10 has 101,770 parameters and 784-64-10 has 50,890"""
    for sizes, want in (([784, 128, 10], 101_770), ([784, 64, 10], 50_890)):
        got, _type = student.run(drive_count, ["mlp", sizes])
        assert_equal(got, want, msg=f"count_parameters of MLP({sizes})")


@pytest.mark.exercise("count_parameters")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_COUNT + " Return a Python int.")
def test_count_parameters_other_models(student):
    """a deeper MLP, a layer without bias, a 1x1 layer and a conv net; the result is an int"""
    cases = [
        ("a deeper MLP", ["mlp", [5, 7, 6, 3]], 35 + 7 + 42 + 6 + 18 + 3),
        ("a layer without bias", ["linear", 9, 4, False], 36),
        ("a 1x1 layer", ["linear", 1, 1, True], 2),
        ("a conv net", ["conv"], 4 * 9 + 4 + 64 * 2 + 2),
    ]
    for what, spec, want in cases:
        got, type_name = student.run(drive_count, spec)
        assert_equal(got, want, msg=f"count_parameters of {what}")
        assert_true(type_name in ("int", "int64", "int32"), "count_parameters should return an int")


# ========================================================================= 6. training loop (5)


@pytest.mark.exercise("training_loop")
@pytest.mark.points(1)
@pytest.mark.hint("For each batch: forward, loss, zero the gradients, backward, step.")
def test_train_epoch_full_batch(student, reference, rng):
    """one full-batch epoch: the reported loss and the updated weights equal the reference"""
    sizes = [4, 6, 3]
    params = mlp_params(sizes, rng)
    X, y = rng.normal(size=(12, 4)), rng.integers(0, 3, size=12)
    args = (sizes, params, X, y, 0.1, 0.9, 64, 0, 2)
    got = student.run(drive_train, *args)
    want = reference.run(drive_train, *args)
    losses = as_list(got[0], 2, "epoch losses")
    assert_close(losses, want[0], rtol=1e-9, msg="epoch losses")
    for i, (g, w) in enumerate(
        zip(as_list(got[1], len(want[1]), "parameters"), want[1], strict=True)
    ):
        assert_close(g, w, rtol=1e-9, atol=1e-12, msg=f"parameter {i} after two epochs")


@pytest.mark.exercise("training_loop")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_ORDER)
def test_train_epoch_minibatches(student, reference, rng):
    """two epochs of batches of 8 over 30 examples match the reference exactly"""
    sizes = [4, 6, 3]
    params = mlp_params(sizes, rng)
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 3, size=30)
    args = (sizes, params, X, y, 0.1, 0.9, 8, 5, 2)
    got = student.run(drive_train, *args)
    want = reference.run(drive_train, *args)
    assert_close(as_list(got[0], 2, "epoch losses"), want[0], rtol=1e-9, msg="epoch losses")
    for i, (g, w) in enumerate(
        zip(as_list(got[1], len(want[1]), "parameters"), want[1], strict=True)
    ):
        assert_close(g, w, rtol=1e-9, atol=1e-12, msg=f"parameter {i} after two epochs")


@pytest.mark.exercise("training_loop")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_EPOCH_MEAN)
def test_train_epoch_returns_the_mean_over_examples(student, rng):
    """with lr = 0, the epoch loss is the mean loss over all 30 examples (batches 8, 8, 8, 6)"""
    import nnlite

    sizes = [4, 6, 3]
    params = mlp_params(sizes, rng)
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 3, size=30)
    got = student.run(drive_train, sizes, params, X, y, 0.0, 0.0, 8, 1, 1)
    model = nnlite.nn.MLP(sizes, rng=0)
    for p, v in zip(model.parameters(), params, strict=True):
        p.data[...] = v
    want = nnlite.functional.cross_entropy(model(nnlite.Tensor(X)), y).item()
    loss = as_list(got[0], 1, "epoch losses")[0]
    assert_true(isinstance(loss, float | np.floating), "train_epoch should return a float")
    assert_close(loss, want, rtol=1e-9, msg="the epoch loss")


@pytest.mark.exercise("training_loop")
@pytest.mark.points(0.75)
@pytest.mark.hint("Shuffle every epoch and step after every batch; use the labels you were given.")
def test_train_epoch_separable_toy_set(student):
    """a linearly separable toy set reaches 100 % training accuracy"""
    X, y = toy_blobs(np.random.default_rng(2))
    pred = as_array(student.run(drive_train_toy, X, y, 15), msg="predictions")
    assert_shape(pred, y.shape, msg="predictions", public=True)  # before comparing with y
    acc = float(np.mean(pred == y))
    assert_true(acc == 1.0, "the network did not reach 100 % training accuracy on a separable set")


@pytest.mark.exercise("training_loop")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_EVALUATE)
def test_evaluate(student, reference, rng):
    """evaluate returns (mean loss, accuracy) equal to the reference, also with odd batch sizes"""
    sizes = [5, 7, 4]
    params = mlp_params(sizes, rng, scale=1.0)
    X, y = rng.normal(size=(37, 5)), rng.integers(0, 4, size=37)
    for batch_size in (None, 10, 1):
        got = student.run(drive_evaluate, sizes, params, X, y, batch_size)
        want = reference.run(drive_evaluate, sizes, params, X, y, batch_size)
        pair = as_list(got[0], 2, "evaluate(...)")
        assert_true(
            all(isinstance(v, float | np.floating) for v in pair), "evaluate should return floats"
        )
        assert_close(pair[0], want[0][0], rtol=1e-9, msg="the loss")
        assert_close(pair[1], want[0][1], rtol=1e-12, msg="the accuracy")


@pytest.mark.exercise("training_loop")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_NO_GRAD)
def test_evaluate_builds_no_graph(student, rng):
    """evaluate runs its forward passes with gradients disabled and leaves .grad alone"""
    sizes = [3, 4, 2]
    params = mlp_params(sizes, rng)
    X, y = rng.normal(size=(9, 3)), rng.integers(0, 2, size=9)
    _got, grad_mode, untouched = student.run(drive_evaluate, sizes, params, X, y)
    assert_true(not grad_mode, "evaluate ran a forward pass with gradients enabled")
    assert_true(untouched, "evaluate changed the parameters' .grad")


# ===================================================================== the reference vs PyTorch
# Plain tests (no exercise marker): the grader ignores them; CI checks that the reference the
# students are compared with agrees with PyTorch.


@pytest.mark.torch
def test_reference_linear_matches_torch(reference):
    torch = pytest.importorskip("torch")
    gen = np.random.default_rng(0)
    W, b, x, G = gen.normal(size=(3, 7)), gen.normal(size=3), gen.normal(size=(4, 7)), None
    G = gen.normal(size=(4, 3))
    out, _dtype, _is_tensor = reference.run(drive_linear_forward, W, b, x)
    tW, tb = torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)
    tout = torch.nn.functional.linear(torch.tensor(x), tW, tb)
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-12)
    (tout * torch.tensor(G)).sum().backward()
    gw, gb = reference.run(drive_linear_backward, W, b, x, G)
    np.testing.assert_allclose(gw, tW.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-12)
    # Same init bound as torch.nn.Linear: weight and bias within 1/sqrt(fan_in).
    layer = torch.nn.Linear(50, 400)
    bound = 1 / np.sqrt(50)
    assert layer.weight.abs().max().item() <= bound and layer.bias.abs().max().item() <= bound
    assert layer.weight.abs().max().item() > 0.97 * bound


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_reference_cross_entropy_matches_torch(reference, reduction):
    torch = pytest.importorskip("torch")
    gen = np.random.default_rng(1)
    z, t, G = gen.normal(0, 3, size=(6, 5)), gen.integers(0, 5, size=6), gen.normal(size=6)
    for shift in (0.0, 1000.0):
        got = reference.run(drive_cross_entropy, z + shift, t, reduction)
        want = torch.nn.functional.cross_entropy(
            torch.tensor(z + shift), torch.tensor(t), reduction=reduction
        )
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-12, atol=1e-14)
    tz = torch.tensor(z, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(tz, torch.tensor(t), reduction=reduction)
    (loss * torch.tensor(G)).sum().backward() if reduction == "none" else loss.backward()
    got = reference.run(drive_cross_entropy_grad, z, t, reduction, G)
    np.testing.assert_allclose(got, tz.grad.numpy(), rtol=1e-12, atol=1e-15)
    ls = reference.run(drive_log_softmax, z, 0)[0]
    np.testing.assert_allclose(ls, torch.log_softmax(torch.tensor(z), dim=0).numpy(), rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("momentum,weight_decay", [(0.0, 0.0), (0.9, 0.0), (0.9, 0.1)])
def test_reference_sgd_matches_torch(reference, momentum, weight_decay):
    torch = pytest.importorskip("torch")
    inits, A, c = sgd_problem(np.random.default_rng(2))
    steps, lr = 3, 0.05
    got = reference.run(drive_sgd, inits, A, c, steps, lr, momentum, weight_decay)
    params = [torch.tensor(a, requires_grad=True) for a in inits]
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    for k in range(steps):
        for p, Ai, ci in zip(params, A, c, strict=True):
            flat = p.detach().numpy().ravel()
            p.grad = torch.tensor((Ai @ flat + ci).reshape(p.shape))
        opt.step()
        for i, p in enumerate(params):
            np.testing.assert_allclose(got[k][i], p.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_reference_count_parameters_is_101770(reference):
    got = reference.run(drive_count, ["mlp", [784, 128, 10]])
    assert got == (101_770, "int")
