"""Hidden grader of lesson 03, "A weight is a connection strength".

Every test scores one exercise (``@pytest.mark.exercise``) and compares the student's answer,
computed in the sandbox on real nnlite networks (``nnlite.nn.MLP`` built from weights chosen
here), with the solution notebook's answer (``reference``) or with an exact value, in this
trusted process. Exercises are graded independently: ``ablation_effect`` runs with nnlite's
``ablate`` in place of the student's (in case it calls it).

No test trains a network: the networks are tiny with random weights, and the file grades a
notebook in well under two seconds. Points per exercise add up to the points of the exercise
cell in the notebook.
"""

from __future__ import annotations

import numpy as np
import pytest

from nnlite.grading import assert_close, assert_equal, assert_shape, assert_true, fail
from nnlite.grading.compare import as_array

LESSON = "03_connection_strength"
EXERCISES = {
    "unit_sensitivity": ["unit_sensitivity"],
    "ablate": ["ablate"],
    "ablation_effect": ["ablation_effect"],
    "spearman": ["spearman"],
    "connection_weight_importance": ["connection_weight_importance"],
}
# R13: nnlite's own versions, out of reach while the exercise is graded (nnlite.grading.ownwork).
OWN_WORK = {
    "unit_sensitivity": ["nnlite.connection:unit_sensitivity"],
    "ablate": ["nnlite.connection:ablate"],
    "ablation_effect": ["nnlite.connection:ablation_effect"],
    "spearman": [
        "nnlite.connection:spearman",
        "nnlite.connection:rankdata",
        "nnlite.connection:permutation_spearman",
    ],
    "connection_weight_importance": ["nnlite.connection:connection_weight_importance"],
}

HINT_PRE = (
    "Differentiate the PRE-activation of layer + 1, model[2 * layer](a)[j_out], with respect to "
    "the activations a of layer `layer` (a leaf Tensor with requires_grad=True), and return "
    "a.grad[i_in]: not the activation after the next ReLU, not the input image, not the weight."
)
HINT_INDEX = (
    "i_in indexes the lower layer (the gradient's entries), j_out the upper one (where backward "
    "starts); on a non-square layer swapping them picks another weight or fails."
)
HINT_CALL = (
    "Call the next layer, model[2 * layer], and let autograd find the derivative; do not read "
    "its .weight (a layer may compute its weight, as weight normalisation does)."
)
HINT_SILENCE = (
    "Silence the unit's ACTIVATION (multiply the output of model[:2 * layer] by a mask), not its "
    "incoming weights: a ReLU unit with zero incoming weights still sends relu(bias)."
)
HINT_AFTER_ACTIVATION = (
    "Set the activation to 0 AFTER the nonlinearity: with a sigmoid, a zero pre-activation still "
    "sends 0.5 to the next layer."
)
HINT_UNTOUCHED = (
    "Never change the model's weights, not even temporarily: build forward(X) that masks the "
    "activations, so that the next experiment finds the model as it was."
)
HINT_LAYER = (
    "Layer l's activations are model[:2 * l](X); the layers above are model[2 * l:]. Silence the "
    "units of `layer` itself, not of the layer below or above."
)
HINT_DAMAGE = (
    "Damage of unit j = loss with unit j silenced minus the intact loss (mean cross-entropy over "
    "the N inputs): one unit at a time, restoring it before the next."
)
HINT_ACCURACY = (
    "'accuracy': accuracy(intact) - accuracy(silenced), a fraction (not a percentage) of the N "
    "inputs whose argmax logit equals the label."
)
HINT_TIES = (
    "Tied values get the average of the ranks they span (5, 10, 10, 20 -> 1, 2.5, 2.5, 4); then "
    "take the Pearson correlation of the ranks. The formula 1 - 6 sum d^2 / (n (n^2 - 1)) is "
    "exact only without ties."
)
HINT_RANKS = (
    "Spearman correlates RANKS, not values: replace each value by its rank (1 = smallest) "
    "before the Pearson correlation."
)
HINT_NAN = (
    "Return float('nan') when a or b is constant (the ranks have no spread: 0 / 0), when n < 2, "
    "and when an input contains NaN."
)
HINT_OLDEN = (
    "Olden's importance is the SIGNED product W_L @ ... @ W_2 @ W_1 (each W of shape (out, in)): "
    "keep the signs, use every matrix, and return shape (n_out, n_in)."
)


# ============================================================================== drivers (sandbox)
# Drivers run in the sandbox with the student's namespace `ns` (and in this process with the
# reference's). They compute; they never judge. Each is self-contained.


def drive_sensitivity(ns, sizes, activation, params, x, layer, i_in, j_out):
    """The student's unit_sensitivity on an nnlite MLP with the given parameters."""
    from nnlite import nn

    model = nn.MLP(sizes, activation=activation, rng=0)
    for p, v in zip(model.parameters(), params, strict=True):
        p.data[...] = v
    got = ns["unit_sensitivity"](model, x, layer, i_in, j_out)
    return got, isinstance(got, float)


def drive_sensitivity_weightnorm(ns, W1, b1, V, g, b2, x, i_in, j_out):
    """unit_sensitivity at layer 1 of Linear, ReLU, and a weight-normalised linear layer
    (weight = g * V / ||V|| per row, computed in forward; Salimans & Kingma 2016)."""
    from nnlite import Tensor, nn
    from nnlite import functional as F

    class WeightNormLinear(nn.Module):
        def __init__(self, V, g, b):
            super().__init__()
            self.v = nn.Parameter(V)
            self.g = nn.Parameter(g)
            self.b = nn.Parameter(b)

        def forward(self, a):
            a = a if isinstance(a, Tensor) else Tensor(a)
            norm = (self.v * self.v).sum(axis=1, keepdims=True).sqrt()
            return F.linear(a, self.v * (self.g.reshape(-1, 1) / norm), self.b)

    first = nn.Linear(W1.shape[1], W1.shape[0], rng=0)
    first.weight.data[...] = W1
    first.bias.data[...] = b1
    model = nn.Sequential(first, nn.ReLU(), WeightNormLinear(V, g, b2))
    return ns["unit_sensitivity"](model, x, 1, i_in, j_out)


def drive_ablate(ns, sizes, activation, params, layer, units, X, as_range=False):
    """forward = ablate(model, layer, units); returns forward(X) on an array and on a Tensor,
    whether the outputs are Tensors, the model's parameters after both calls, and model(X).
    as_range: units = range(units[0], units[1])."""
    from nnlite import Tensor, nn, no_grad

    if as_range:
        units = range(units[0], units[1])
    model = nn.MLP(sizes, activation=activation, rng=0)
    for p, v in zip(model.parameters(), params, strict=True):
        p.data[...] = v
    forward = ns["ablate"](model, layer, units)
    out = forward(X)
    again = forward(Tensor(X))
    after = [np.array(p.data, dtype=np.float64) for p in model.parameters()]
    with no_grad():
        plain = np.array(model(Tensor(X)).data, dtype=np.float64)

    def data(t):
        return np.array(getattr(t, "data", t), dtype=np.float64)

    is_tensor = isinstance(out, Tensor) and isinstance(again, Tensor)
    return data(out), data(again), is_tensor, after, plain


def drive_ablate_raises(ns, sizes, layer):
    from nnlite import nn

    model = nn.MLP(sizes, rng=0)
    try:
        ns["ablate"](model, layer, [0])(np.zeros((2, sizes[0])))
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        return "raised", [c.__name__ for c in type(exc).__mro__]
    return "returned", []


def drive_effect(ns, sizes, activation, params, X, y, layer, metric):
    """The student's ablation_effect (nnlite's ablate in its namespace) and the model's
    parameters afterwards."""
    import nnlite.connection
    from nnlite import nn

    effect = ns["ablation_effect"]
    g = getattr(effect, "__globals__", {})
    saved = g.get("ablate", None)
    g["ablate"] = nnlite.connection.ablate
    try:
        model = nn.MLP(sizes, activation=activation, rng=0)
        for p, v in zip(model.parameters(), params, strict=True):
            p.data[...] = v
        got = effect(model, X, y, layer, metric=metric)
        return got, [np.array(p.data, dtype=np.float64) for p in model.parameters()]
    finally:
        if saved is None:
            g.pop("ablate", None)
        else:
            g["ablate"] = saved


def drive_effect_raises(ns, metric):
    from nnlite import nn

    model = nn.MLP([3, 4, 2], rng=0)
    X, y = np.ones((5, 3)), np.zeros(5, dtype=np.int64)
    try:
        ns["ablation_effect"](model, X, y, 1, metric=metric)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        return "raised", [c.__name__ for c in type(exc).__mro__]
    return "returned", []


def drive_olden_copy(ns, W):
    """connection_weight_importance([W]); then write into the result: is W unchanged?"""
    out = ns["connection_weight_importance"]([W])
    arr = np.asarray(out)
    value = np.array(arr, dtype=np.float64)
    if arr.size and arr.flags.writeable:
        arr[...] = 12345.0
    return value, np.array(W, dtype=np.float64)


def drive_olden_dtype(ns, weights):
    out = np.asarray(ns["connection_weight_importance"](weights))
    return np.array(out, dtype=np.float64), out.dtype.name


# ============================================================================== inputs


def mlp_params(sizes, rng, scale=0.7):
    """Random parameters (W1, b1, W2, b2, ...) for an MLP of these sizes."""
    out = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        out.append(rng.normal(0, scale, size=(n_out, n_in)))
        out.append(rng.normal(0, scale, size=n_out))
    return out


def classification(rng, n, d, classes):
    return rng.normal(size=(n, d)), rng.integers(0, classes, size=n)


def raised(got, what):
    status, names = got
    if status != "raised":
        fail(f"{what} did not raise")
    return names


# ============================================================================ 1. sensitivity (3)


@pytest.mark.exercise("unit_sensitivity")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_PRE)
def test_sensitivity_every_layer(student, reference, rng):
    """on a 6-5-4-3 ReLU network, layers 0, 1 and 2, non-square: equals the weight"""
    sizes = [6, 5, 4, 3]
    params = mlp_params(sizes, rng)
    x = rng.normal(size=6)
    for layer, i, j in [(0, 5, 1), (0, 2, 4), (1, 4, 0), (1, 1, 3), (2, 3, 2), (2, 0, 1)]:
        got, _ = student.run(drive_sensitivity, sizes, "relu", params, x, layer, i, j)
        want, _ = reference.run(drive_sensitivity, sizes, "relu", params, x, layer, i, j)
        assert_close(got, want, rtol=1e-12, atol=1e-15, msg=f"layer {layer}")
        assert_close(got, params[2 * layer][j, i], rtol=1e-12, atol=1e-15, msg=f"layer {layer}")


@pytest.mark.exercise("unit_sensitivity")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_INDEX)
def test_sensitivity_of_a_single_linear_layer_is_exactly_the_weight(student, rng):
    """a network that is one Linear layer (7 -> 3): dz_j / dx_i == W[j, i] exactly"""
    sizes = [7, 3]
    params = mlp_params(sizes, rng)
    for i, j in [(6, 0), (0, 2), (3, 1)]:
        got, _ = student.run(drive_sensitivity, sizes, "relu", params, rng.normal(size=7), 0, i, j)
        assert_close(got, params[0][j, i], rtol=0, atol=0, msg="dz_j/dx_i of a Linear layer")


@pytest.mark.exercise("unit_sensitivity")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_PRE)
def test_sensitivity_where_the_upper_unit_is_inactive(student, rng):
    """the upper unit's pre-activation is negative (ReLU off) or saturated (tanh): still W"""
    sizes = [4, 3, 2]
    params = mlp_params(sizes, rng)
    params[1][:] = -50.0  # every hidden unit is off for this input
    x = np.full(4, 0.01)
    for j in range(3):
        got, _ = student.run(drive_sensitivity, sizes, "relu", params, x, 0, 2, j)
        assert_close(got, params[0][j, 2], rtol=1e-12, atol=1e-15, msg="an inactive unit")
    tanh_params = mlp_params([4, 3, 2], rng, scale=3.0)
    got, _ = student.run(drive_sensitivity, sizes, "tanh", tanh_params, 3 * x, 1, 1, 0)
    assert_close(got, tanh_params[2][0, 1], rtol=1e-12, atol=1e-15, msg="a tanh network")


@pytest.mark.exercise("unit_sensitivity")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_CALL)
def test_sensitivity_of_a_weight_normalised_layer(student, rng):
    """the next layer computes its weight (weight normalisation): the derivative is that weight"""
    W1, b1 = rng.normal(size=(5, 4)), rng.normal(size=5)
    V, g, b2 = rng.normal(size=(3, 5)), rng.uniform(0.5, 2.0, size=3), rng.normal(size=3)
    effective = g[:, None] * V / np.linalg.norm(V, axis=1, keepdims=True)
    x = rng.normal(size=4)
    for i, j in [(0, 0), (4, 2), (2, 1)]:
        got = student.run(drive_sensitivity_weightnorm, W1, b1, V, g, b2, x, i, j)
        assert_close(got, effective[j, i], rtol=1e-10, atol=1e-14, msg="weight-normalised layer")


@pytest.mark.exercise("unit_sensitivity")
@pytest.mark.points(0.25)
@pytest.mark.hint("The derivative of a pre-activation does not depend on x: any input works.")
def test_sensitivity_for_zero_and_integer_inputs(student, rng):
    """x = 0 and an integer x give the weight"""
    sizes = [5, 4, 3]
    params = mlp_params(sizes, rng)
    for x in (np.zeros(5), np.arange(5) - 2):
        got, _ = student.run(drive_sensitivity, sizes, "relu", params, x, 1, 3, 2)
        assert_close(got, params[2][2, 3], rtol=1e-12, atol=1e-15, msg="x = 0 or integer x")


@pytest.mark.exercise("unit_sensitivity")
@pytest.mark.points(0.25)
@pytest.mark.hint("Return a Python float: float(a.grad[i_in]).", on="type")
def test_sensitivity_returns_a_float(student, rng):
    """the answer is a Python float"""
    sizes = [3, 2]
    _, is_float = student.run(
        drive_sensitivity, sizes, "relu", mlp_params(sizes, rng), np.ones(3), 0, 1, 1
    )
    assert_true(is_float is True, "unit_sensitivity should return a Python float", kind="type")


# ============================================================================== 2. ablate (4)


@pytest.mark.exercise("ablate")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_LAYER)
def test_ablate_values(student, reference, rng):
    """silencing one or several units of layer 1 or 2 of a 6-5-4-3 network"""
    sizes = [6, 5, 4, 3]
    params = mlp_params(sizes, rng)
    X = rng.normal(size=(7, 6))
    for layer, units in [(1, [0]), (1, [1, 4]), (2, [3]), (2, [0, 2])]:
        got = student.run(drive_ablate, sizes, "relu", params, layer, units, X)
        want = reference.run(drive_ablate, sizes, "relu", params, layer, units, X)
        assert_close(got[0], want[0], rtol=1e-10, atol=1e-12, msg=f"layer {layer}, units {units}")


@pytest.mark.exercise("ablate")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_SILENCE)
def test_ablate_removes_exactly_the_outgoing_contribution(student, rng):
    """units with positive biases: the logits change by exactly -h_j W2[:, j]"""
    sizes = [5, 6, 3]
    params = mlp_params(sizes, rng)
    params[1][:] = np.abs(params[1]) + 0.5  # positive biases: relu(bias) > 0
    X = rng.normal(size=(8, 5))
    H = np.maximum(X @ params[0].T + params[1], 0)
    full = H @ params[2].T + params[3]
    for units in ([2], [0, 5]):
        got = student.run(drive_ablate, sizes, "relu", params, 1, units, X)
        want = full - H[:, units] @ params[2][:, units].T
        assert_close(got[0], want, rtol=1e-10, atol=1e-12, msg=f"units {units}")


@pytest.mark.exercise("ablate")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_UNTOUCHED)
def test_ablate_leaves_the_model_unchanged(student, rng):
    """after ablate(...) and two forward calls, every weight is as before and model(X) too"""
    sizes = [4, 5, 3]
    params = mlp_params(sizes, rng)
    X = rng.normal(size=(6, 4))
    got = student.run(drive_ablate, sizes, "relu", params, 1, [1, 3], X)
    after = got[3]
    if not isinstance(after, list) or len(after) != 4:
        fail("could not read the model's parameters back")
    for k, (a, p) in enumerate(zip(after, params, strict=True)):
        assert_close(a, p, rtol=0, atol=0, msg=f"parameter {k} of the model after ablate")
    plain = np.maximum(X @ params[0].T + params[1], 0) @ params[2].T + params[3]
    assert_close(got[4], plain, rtol=1e-10, atol=1e-12, msg="model(X) after ablate")
    out = as_array(got[0], msg="forward(X)")
    assert_shape(out, plain.shape, msg="forward(X)")
    assert_true(not np.allclose(out, plain), "forward(X) silenced nothing (it equals model(X))")


@pytest.mark.exercise("ablate")
@pytest.mark.points(0.25)
@pytest.mark.hint("forward(X) must give the silenced logits on every call, not only the first.")
def test_ablate_forward_can_be_called_again(student, rng):
    """a second call of forward gives the same silenced logits"""
    sizes = [4, 5, 3]
    params = mlp_params(sizes, rng)
    X = rng.normal(size=(6, 4))
    got = student.run(drive_ablate, sizes, "relu", params, 1, [0, 2], X)
    H = np.maximum(X @ params[0].T + params[1], 0)
    H[:, [0, 2]] = 0.0
    for k, call in ((0, "first"), (1, "second")):
        assert_close(got[k], H @ params[2].T + params[3], rtol=1e-10, atol=1e-12, msg=call)


@pytest.mark.exercise("ablate")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_AFTER_ACTIVATION)
def test_ablate_a_sigmoid_network(student, rng):
    """with sigmoid activations, a silenced unit sends 0, not sigmoid(0) = 0.5"""
    sizes = [4, 5, 2]
    params = mlp_params(sizes, rng)
    X = rng.normal(size=(6, 4))
    H = 1 / (1 + np.exp(-(X @ params[0].T + params[1])))
    H[:, [1, 2]] = 0.0
    got = student.run(drive_ablate, sizes, "sigmoid", params, 1, [1, 2], X)
    assert_close(got[0], H @ params[2].T + params[3], rtol=1e-10, atol=1e-12, msg="sigmoid")


@pytest.mark.exercise("ablate")
@pytest.mark.points(0.25)
@pytest.mark.hint("Silencing every unit leaves the output bias; silencing none leaves model(X).")
def test_ablate_all_and_none(student, rng):
    """all units silenced: every row is the output bias; none silenced: model(X)"""
    sizes = [3, 4, 2]
    params = mlp_params(sizes, rng)
    X = rng.normal(size=(5, 3))
    got = student.run(drive_ablate, sizes, "relu", params, 1, np.arange(4), X)
    assert_close(got[0], np.tile(params[3], (5, 1)), rtol=1e-12, atol=1e-14, msg="all silenced")
    got = student.run(drive_ablate, sizes, "relu", params, 1, [], X)
    assert_close(got[0], got[4], rtol=1e-12, atol=1e-14, msg="none silenced")


@pytest.mark.exercise("ablate")
@pytest.mark.points(0.25)
@pytest.mark.hint(
    "forward(X) returns a Tensor, for an array X and for a Tensor X; units may be a range."
)
def test_ablate_returns_tensors(student, rng):
    """forward returns a Tensor for array and Tensor inputs; units given as a range"""
    sizes = [3, 4, 2]
    params = mlp_params(sizes, rng)
    X = rng.normal(size=(5, 3))
    got = student.run(drive_ablate, sizes, "relu", params, 1, [1, 3], X, True)
    assert_true(got[2] is True, "forward(X) should return an nnlite Tensor", kind="type")


@pytest.mark.exercise("ablate")
@pytest.mark.points(0.25)
@pytest.mark.hint(
    "Only hidden layers can be silenced: 1 <= layer < number of Linear layers; "
    "raise ValueError otherwise."
)
def test_ablate_rejects_a_layer_that_is_not_hidden(student):
    """layer 0 (the input) and layer 2 of a 3-4-2 network raise ValueError"""
    for layer in (0, 2):
        names = raised(student.run(drive_ablate_raises, [3, 4, 2], layer), f"layer {layer}")
        assert_true("ValueError" in names, f"layer {layer}: expected ValueError")


# ======================================================================== 3. ablation_effect (4)


@pytest.mark.exercise("ablation_effect")
@pytest.mark.points(1.25)
@pytest.mark.hint(HINT_DAMAGE)
def test_effect_loss(student, reference, rng):
    """'loss': the loss increase of each unit on a 5-8-3 network, 30 inputs"""
    sizes = [5, 8, 3]
    params = mlp_params(sizes, rng, scale=1.0)
    X, y = classification(rng, 30, 5, 3)
    got, _ = student.run(drive_effect, sizes, "relu", params, X, y, 1, "loss")
    want, _ = reference.run(drive_effect, sizes, "relu", params, X, y, 1, "loss")
    assert_close(got, want, rtol=1e-9, atol=1e-12, msg="loss increases")


@pytest.mark.exercise("ablation_effect")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_ACCURACY)
def test_effect_accuracy(student, reference, rng):
    """'accuracy': the accuracy drop of each unit on a 4-6-3 network, 200 inputs"""
    sizes = [4, 6, 3]
    params = mlp_params(sizes, rng, scale=1.5)
    X, y = classification(rng, 200, 4, 3)
    y = np.argmax(X[:, :3] + 0.3 * rng.normal(size=(200, 3)), axis=1)  # learnable labels
    got, _ = student.run(drive_effect, sizes, "relu", params, X, y, 1, "accuracy")
    want, _ = reference.run(drive_effect, sizes, "relu", params, X, y, 1, "accuracy")
    assert_close(got, want, rtol=1e-9, atol=1e-12, msg="accuracy drops")


@pytest.mark.exercise("ablation_effect")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_LAYER)
def test_effect_of_each_hidden_layer_of_a_deeper_network(student, reference, rng):
    """a 4-5-6-3 tanh network: layer 1 (5 units) and layer 2 (6 units)"""
    sizes = [4, 5, 6, 3]
    params = mlp_params(sizes, rng, scale=1.0)
    X, y = classification(rng, 20, 4, 3)
    for layer in (1, 2):
        got, _ = student.run(drive_effect, sizes, "tanh", params, X, y, layer, "loss")
        want, _ = reference.run(drive_effect, sizes, "tanh", params, X, y, layer, "loss")
        assert_close(got, want, rtol=1e-9, atol=1e-12, msg=f"layer {layer}")


@pytest.mark.exercise("ablation_effect")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_UNTOUCHED)
def test_effect_of_a_dead_unit_is_zero_and_the_model_is_kept(student, reference, rng):
    """a never-active unit has damage exactly 0; the model's weights are unchanged"""
    sizes = [3, 4, 2]
    params = mlp_params(sizes, rng)
    params[0][1] = -np.abs(params[0][1])
    params[1][1] = -5.0  # unit 1 is off for every input >= 0
    X, y = np.abs(rng.normal(size=(12, 3))), rng.integers(0, 2, size=12)
    got, after = student.run(drive_effect, sizes, "relu", params, X, y, 1, "loss")
    got = as_array(got, msg="ablation_effect")
    assert_shape(got, (4,), msg="ablation_effect", public=True)
    assert_close(got[1], 0.0, rtol=0, atol=0, msg="damage of a never-active unit")
    want, _ = reference.run(drive_effect, sizes, "relu", params, X, y, 1, "loss")
    assert_close(got, want, rtol=1e-9, atol=1e-12, msg="the damages")
    for k, (a, p) in enumerate(zip(after, params, strict=True)):
        assert_close(a, p, rtol=0, atol=0, msg=f"parameter {k} after ablation_effect")


@pytest.mark.exercise("ablation_effect")
@pytest.mark.points(0.25)
@pytest.mark.hint("N = 1 is a batch of one input: X has shape (1, d).")
def test_effect_of_a_single_input(student, reference, rng):
    """N = 1"""
    sizes = [3, 4, 2]
    params = mlp_params(sizes, rng)
    X, y = rng.normal(size=(1, 3)), np.array([1])
    got, _ = student.run(drive_effect, sizes, "relu", params, X, y, 1, "loss")
    want, _ = reference.run(drive_effect, sizes, "relu", params, X, y, 1, "loss")
    assert_close(got, want, rtol=1e-9, atol=1e-12, msg="one input")


@pytest.mark.exercise("ablation_effect")
@pytest.mark.points(0.5)
@pytest.mark.hint("Return a float64 numpy array with one entry per unit of the layer.")
def test_effect_shape_and_dtype(student, rng):
    """a float64 array of shape (H,)"""
    sizes = [3, 7, 2]
    X, y = classification(rng, 9, 3, 2)
    got, _ = student.run(drive_effect, sizes, "relu", mlp_params(sizes, rng), X, y, 1, "accuracy")
    arr = as_array(got, msg="ablation_effect")
    assert_shape(arr, (7,), msg="ablation_effect", public=True)
    assert_equal(arr.dtype.name, "float64", msg="dtype of the damages", kind="dtype")


@pytest.mark.exercise("ablation_effect")
@pytest.mark.points(0.25)
@pytest.mark.hint("metric must be 'loss' or 'accuracy'; raise ValueError for anything else.")
def test_effect_rejects_an_unknown_metric(student):
    """metric='auc' raises ValueError"""
    names = raised(student.run(drive_effect_raises, "auc"), "metric='auc'")
    assert_true("ValueError" in names, "an unknown metric: expected ValueError")


# ============================================================================== 4. spearman (4)


@pytest.mark.exercise("spearman")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_RANKS)
def test_spearman_without_ties(student, reference, rng):
    """continuous data (no ties), n = 40 and n = 3"""
    for n in (40, 3):
        a = rng.normal(size=n)
        b = np.exp(a) + rng.normal(size=n)
        assert_close(student.spearman(a, b), reference.spearman(a, b), rtol=1e-10, atol=1e-12)


@pytest.mark.exercise("spearman")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_TIES)
def test_spearman_with_ties(student, reference, rng):
    """ties: a hand-computed case and integers with many ties"""
    got = student.spearman(np.array([1.0, 2.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0, 4.0]))
    assert_close(got, 4.5 / np.sqrt(22.5), rtol=1e-12, msg="ranks (1, 2.5, 2.5, 4), (1, 3, 2, 4)")
    a, b = rng.integers(0, 4, size=30), rng.integers(0, 6, size=30)
    assert_close(student.spearman(a, b), reference.spearman(a, b), rtol=1e-10, atol=1e-12)
    zeros = np.r_[np.zeros(8), rng.normal(size=10)]  # the dead units of the lesson: tied at 0
    other = np.r_[np.zeros(8), rng.normal(size=10)]
    assert_close(student.spearman(zeros, other), reference.spearman(zeros, other), rtol=1e-10)


@pytest.mark.exercise("spearman")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_TIES)
def test_spearman_perfect_orders_with_ties(student):
    """a monotone relation with ties on both sides gives exactly 1 (and -1 reversed)"""
    a = np.array([1.0, 1.0, 2.0, 3.0, 3.0, 3.0, 7.0])
    assert_close(student.spearman(a, 10 * a + 5), 1.0, rtol=1e-12, msg="increasing, with ties")
    assert_close(student.spearman(a, -(a**3)), -1.0, rtol=1e-12, msg="decreasing, with ties")


@pytest.mark.exercise("spearman")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_RANKS)
def test_spearman_is_invariant_to_monotone_maps_and_scale(student, reference, rng):
    """exp, cubes and magnitudes of 1e200 and 1e-200 change nothing"""
    a, b = rng.normal(size=25), rng.normal(size=25)
    want = reference.spearman(a, b)
    assert_close(student.spearman(np.exp(a), b**3), want, rtol=1e-10, msg="monotone maps")
    assert_close(student.spearman(a * 1e200, b * 1e-200), want, rtol=1e-10, msg="1e200, 1e-200")


@pytest.mark.exercise("spearman")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_NAN)
def test_spearman_nan_cases(student):
    """constant input, n < 2 and NaN give nan"""
    for a, b, what in [
        (np.full(5, 3.0), np.arange(5.0), "a constant a"),
        (np.arange(4.0), np.zeros(4), "a constant b"),
        (np.array([1.0]), np.array([2.0]), "n = 1"),
        (np.array([1.0, np.nan, 3.0]), np.array([1.0, 2.0, 3.0]), "a NaN in a"),
    ]:
        assert_close(student.spearman(a, b), np.nan, equal_nan=True, msg=what)


@pytest.mark.exercise("spearman")
@pytest.mark.points(0.25)
@pytest.mark.hint("Raise ValueError (naming both shapes) when the lengths differ.")
def test_spearman_rejects_different_lengths(student):
    """inputs of lengths 3 and 4 raise ValueError"""
    student.raises("ValueError").spearman(np.arange(3.0), np.arange(4.0))


@pytest.mark.exercise("spearman")
@pytest.mark.points(0.25)
@pytest.mark.hint("Return a Python float; accept lists and integer arrays.", on="type")
def test_spearman_float_symmetric_lists(student, rng):
    """a Python float, the same for (a, b) and (b, a), from lists of ints"""
    a, b = rng.integers(0, 9, size=12).tolist(), rng.integers(0, 9, size=12).tolist()
    ab, ba = student.spearman(a, b), student.spearman(b, a)
    assert_true(isinstance(ab, float), "spearman should return a Python float", kind="type")
    assert_close(ab, ba, rtol=1e-12, msg="spearman(a, b) vs spearman(b, a)")


# ================================================================ 5. Olden's importance (3)


@pytest.mark.exercise("connection_weight_importance")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_OLDEN)
def test_olden_two_layers(student, rng):
    """[W1 (5, 7), W2 (3, 5)] gives W2 @ W1, shape (3, 7), signs kept"""
    W1, W2 = rng.normal(size=(5, 7)), rng.normal(size=(3, 5))
    got = student.connection_weight_importance([W1, W2])
    assert_close(got, W2 @ W1, rtol=1e-10, atol=1e-12, msg="W2 @ W1")


@pytest.mark.exercise("connection_weight_importance")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_OLDEN)
def test_olden_deeper_chains_are_the_linear_jacobian(student, rng):
    """three and four matrices: the Jacobian of the linear network they form"""
    for shapes in ([(4, 6), (5, 4), (2, 5)], [(3, 2), (4, 3), (4, 4), (1, 4)]):
        Ws = [rng.normal(size=s) for s in shapes]
        want = Ws[0]
        for W in Ws[1:]:
            want = W @ want
        got = student.connection_weight_importance(Ws)
        assert_close(got, want, rtol=1e-10, atol=1e-12, msg=f"{len(Ws)} matrices")


@pytest.mark.exercise("connection_weight_importance")
@pytest.mark.points(0.25)
@pytest.mark.hint("One matrix: return a copy of it (a new array), not the input itself.")
def test_olden_single_matrix_is_a_copy(student, rng):
    """one matrix: its own values, in a new array"""
    W = rng.normal(size=(3, 4))
    value, W_after = student.run(drive_olden_copy, W)
    assert_close(value, W, rtol=0, atol=0, msg="a single matrix")
    assert_close(W_after, W, rtol=0, atol=0, msg="the input after writing into the result")


@pytest.mark.exercise("connection_weight_importance")
@pytest.mark.points(0.25)
@pytest.mark.hint("float32 matrices give float32; integer matrices give float64.", on="dtype")
def test_olden_dtypes(student, rng):
    """float32 in, float32 out; integers give float64"""
    Ws = [rng.normal(size=(3, 2)).astype(np.float32), rng.normal(size=(2, 3)).astype(np.float32)]
    value, dtype = student.run(drive_olden_dtype, Ws)
    assert_equal(dtype, "float32", msg="dtype for float32 weights", kind="dtype")
    assert_close(value, (Ws[1] @ Ws[0]).astype(np.float64), rtol=1e-5, msg="float32 values")
    ints = [np.arange(6).reshape(3, 2) - 2, np.arange(6).reshape(2, 3) - 3]
    value, dtype = student.run(drive_olden_dtype, ints)
    assert_equal(dtype, "float64", msg="dtype for integer weights", kind="dtype")
    assert_close(value, (ints[1] @ ints[0]).astype(np.float64), rtol=0, msg="integer values")


@pytest.mark.exercise("connection_weight_importance")
@pytest.mark.points(0.25)
@pytest.mark.hint("A hidden layer of width 0 has no paths: the importance is all zeros.")
def test_olden_empty_hidden_layer(student):
    """a hidden layer of width 0 gives zeros of shape (n_out, n_in)"""
    got = student.connection_weight_importance([np.zeros((0, 3)), np.zeros((2, 0))])
    assert_close(got, np.zeros((2, 3)), rtol=0, atol=0, msg="hidden width 0")


@pytest.mark.exercise("connection_weight_importance")
@pytest.mark.points(0.25)
@pytest.mark.hint("Raise ValueError for an empty list and for matrices whose shapes do not chain.")
def test_olden_rejects_bad_input(student):
    """shapes that do not chain, and an empty list, raise ValueError"""
    student.raises("ValueError").connection_weight_importance([np.ones((2, 3)), np.ones((4, 5))])
    student.raises("ValueError").connection_weight_importance([])
