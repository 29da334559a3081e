"""Hidden grader of lesson 10, "Weight space II: retraining, permutation symmetry and matching".

Every test scores one exercise (``@pytest.mark.exercise``) and compares the student's answer,
computed in the sandbox, with the solution notebook's answer (``reference``), with brute force
over all assignments, or with an exact value, in this trusted process. Networks are real nnlite
MLPs built in the sandbox from parameters chosen here; no test trains anything.

Exercises are graded independently: ``match_units`` runs with nnlite's
``linear_sum_assignment`` in place of the student's, so a broken solver costs points once.

Points per exercise add up to the points of the exercise cell in the notebook.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from nnlite.grading import assert_close, assert_equal, assert_true, fail
from nnlite.grading.compare import as_array

LESSON = "10_weight_space_symmetry"
EXERCISES = {
    "prediction_agreement": ["prediction_agreement"],
    "permute_hidden": ["permute_hidden"],
    "num_equivalent_points": ["num_equivalent_points"],
    "linear_sum_assignment": ["linear_sum_assignment"],
    "match_units": ["match_units"],
    "linear_cka": ["linear_cka"],
}
# R13: nnlite's own versions, out of reach while the exercise is graded (nnlite.grading.ownwork).
OWN_WORK = {
    "prediction_agreement": ["nnlite.matching:prediction_agreement"],
    "permute_hidden": ["nnlite.matching:permute_hidden"],
    "num_equivalent_points": ["nnlite.matching:num_equivalent_points"],
    "linear_sum_assignment": [
        "nnlite.matching:linear_sum_assignment",
        "nnlite.matching:_augment",
    ],
    "match_units": [
        "nnlite.matching:match_units",
        "nnlite.matching:unit_similarity",
        "nnlite.matching:_rows_cosine",
        "nnlite.matching:_columns_correlation",
    ],
    "linear_cka": ["nnlite.matching:linear_cka"],
}

HINT_ARGMAX = (
    "The predicted class is the argmax of each row of the logits (axis=1); return the mean of "
    "the matches, a fraction between 0 and 1, as a Python float."
)
HINT_NO_GRAD = "Run both models inside `with no_grad():`: nothing is trained, no graph is needed."
HINT_PERMUTE = (
    "Unit i of the result is unit perm[i]: take this layer's weight rows and bias entries in the "
    "order perm (W[perm], b[perm]) AND the next layer's weight columns (W_next[:, perm]); "
    "without the columns the function changes."
)
HINT_COPY = "Work on copies (np.array(p, dtype=np.float64)): never modify the caller's arrays."
HINT_PERM_CHECK = "Raise ValueError when sorted(perm) is not 0..H-1 or layer is not hidden."
HINT_COUNT = (
    "Multiply (not add) H! over the hidden layers, with math.factorial (exact ints); tanh and "
    "sigmoid also get 2**H sign flips per layer, ReLU does not."
)
HINT_EXACT = (
    "The assignment must be optimal: a greedy pairing (largest entry first) is not, see the "
    "3 × 3 example in the text. Use shortest augmenting paths with potentials."
)
HINT_MAXIMIZE = "maximize=True is the same problem on -cost."
HINT_RECT = (
    "For n > m solve the transpose, then return (row_ind, col_ind) of the ORIGINAL matrix, "
    "sorted by row (swap the two arrays, then sort); min(n, m) pairs in every case."
)
HINT_INVALID = (
    "Check before solving: NaN, or -inf when minimising (+inf when maximising), raises "
    "ValueError('matrix contains invalid numeric entries')."
)
HINT_INFEASIBLE = (
    "When the shortest-path search finds no finite distance to a free column, raise "
    "ValueError('cost matrix is infeasible'); +inf entries that an assignment can avoid are fine."
)
HINT_MATCH = (
    "perm[i] is the unit of model_b paired with unit i of model_a, and the pairing MAXIMISES "
    "the total similarity (linear_sum_assignment(S, maximize=True) with S[i, j] = a's unit i "
    "vs b's unit j)."
)
HINT_COS = (
    "weight_cos divides each [W | b] row by its norm (a cosine, not a dot product); "
    "weight_matching adds the outgoing weights' term <V_a[:, i], V_b[:, j]>."
)
HINT_CORR = (
    "A Pearson correlation centres each unit's activations over the inputs (subtract the "
    "column mean) before the cosine."
)
HINT_CKA_CENTRE = (
    "Centre every column of X and of Y (subtract its mean over the rows) before anything else."
)
HINT_CKA_FORMULA = (
    "CKA = ||Yc.T @ Xc||_F**2 / (||Xc.T @ Xc||_F * ||Yc.T @ Yc||_F): the numerator's norm is "
    "squared; the columns are centred, not standardised."
)


# ============================================================================== drivers (sandbox)
# Drivers run in the sandbox with the student's namespace `ns` (and in this process with the
# reference's). They compute; they never judge. Each is self-contained.


def drive_agreement(ns, sizes, params_a, params_b, X):
    """prediction_agreement of two nnlite MLPs with the given parameters; also reports whether
    any forward pass ran with gradients enabled."""
    from nnlite import is_grad_enabled, nn

    models = []
    for params in (params_a, params_b):
        model = nn.MLP(sizes, rng=0)
        for p, v in zip(model.parameters(), params, strict=True):
            p.data[...] = v
        models.append(model)
    modes = []
    for model in models:
        inner = model.forward
        model.forward = lambda x, inner=inner: (modes.append(is_grad_enabled()), inner(x))[1]
    got = ns["prediction_agreement"](models[0], models[1], X)
    return got, type(got).__qualname__, any(modes)


def drive_agreement_raises(ns, sizes_a, sizes_b, X):
    from nnlite import nn

    try:
        ns["prediction_agreement"](nn.MLP(sizes_a, rng=0), nn.MLP(sizes_b, rng=1), X)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        return "raised", [c.__qualname__ for c in type(exc).__mro__]
    return "returned", []


def drive_permute_tensors(ns, sizes, params, perm, layer):
    """permute_hidden given the Tensors of an nnlite MLP (model.parameters())."""
    from nnlite import nn

    model = nn.MLP(sizes, rng=0)
    for p, v in zip(model.parameters(), params, strict=True):
        p.data[...] = v
    out = ns["permute_hidden"](list(model.parameters()), perm, layer)
    return [np.array(getattr(o, "data", o), dtype=np.float64) for o in out]


def drive_count(ns, sizes, activation):
    got = ns["num_equivalent_points"](sizes, activation)
    # An int may be too large for the data channel: send it as its decimal digits.
    if isinstance(got, int) and not isinstance(got, bool):
        return "int", str(got)
    return type(got).__qualname__, float(got) if isinstance(got, int | float) else None


def drive_match(ns, sizes, params_a, params_b, layer, method, X):
    """match_units on two nnlite MLPs, with nnlite's linear_sum_assignment in place of the
    student's (exercises are graded independently)."""
    from nnlite import matching, nn

    models = []
    for params in (params_a, params_b):
        model = nn.MLP(sizes, rng=0)
        for p, v in zip(model.parameters(), params, strict=True):
            p.data[...] = v
        models.append(model)
    func = ns["match_units"]
    g = getattr(func, "__globals__", {})
    saved = g.get("linear_sum_assignment")
    g["linear_sum_assignment"] = matching.linear_sum_assignment
    try:
        got = func(models[0], models[1], layer, method, X=X)
    finally:
        if saved is None:
            g.pop("linear_sum_assignment", None)
        else:
            g["linear_sum_assignment"] = saved
    return np.asarray(got)


def drive_match_raises(ns, sizes, method, with_X):
    from nnlite import matching, nn

    func = ns["match_units"]
    g = getattr(func, "__globals__", {})
    saved = g.get("linear_sum_assignment")
    g["linear_sum_assignment"] = matching.linear_sum_assignment
    a, b = nn.MLP(sizes, rng=0), nn.MLP(sizes, rng=1)
    X = np.ones((4, sizes[0])) if with_X else None
    try:
        func(a, b, 0, method, X=X)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        return "raised", [c.__qualname__ for c in type(exc).__mro__]
    finally:
        if saved is None:
            g.pop("linear_sum_assignment", None)
        else:
            g["linear_sum_assignment"] = saved
    return "returned", []


# ============================================================================== helpers (parent)


def mlp_params(rng, sizes, spread=1.0):
    """Random MLP parameters whose rows differ in norm by up to e^(±spread)."""
    out = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        scale = np.exp(rng.uniform(-spread, spread, size=(n_out, 1)))
        out.append(rng.normal(size=(n_out, n_in)) * scale / np.sqrt(n_in))
        out.append(rng.normal(size=n_out) * 0.3)
    return out


def logits(params, X):
    h = X
    for k in range(0, len(params) - 2, 2):
        h = np.maximum(h @ params[k].T + params[k + 1], 0.0)
    return h @ params[-2].T + params[-1]


def as_list(got, n, what):
    if not isinstance(got, list | tuple) or len(got) != n:
        fail(f"{what}: expected a list of {n} arrays")
    return list(got)


def brute_force(C, maximize=False):
    C = np.asarray(C, dtype=np.float64)
    if C.shape[0] > C.shape[1]:
        C = C.T
    n, m = C.shape
    totals = [C[np.arange(n), list(p)].sum() for p in itertools.permutations(range(m), n)]
    return max(totals) if maximize else min(totals)


def checked_assignment(got, shape, what):
    """The student's (row_ind, col_ind) as int arrays, checked to be a valid assignment."""
    if not isinstance(got, list | tuple) or len(got) != 2:
        fail(f"{what}: expected a pair (row_ind, col_ind)")
    rows, cols = as_array(got[0], msg=what), as_array(got[1], msg=what)
    k = min(shape)
    if rows.shape != (k,) or cols.shape != (k,):
        fail(f"{what}: expected {k} pairs (min(n, m)) of row and column indices")
    if k and (not np.all(np.isfinite(rows)) or not np.all(np.isfinite(cols))):
        fail(f"{what}: the indices are not finite")
    if not (np.array_equal(rows, np.round(rows)) and np.array_equal(cols, np.round(cols))):
        fail(f"{what}: the indices are not integers")
    rows, cols = rows.astype(int), cols.astype(int)
    if k and (rows.min() < 0 or rows.max() >= shape[0] or cols.min() < 0 or cols.max() >= shape[1]):
        fail(f"{what}: an index is out of range")
    if len(set(rows.tolist())) != k or len(set(cols.tolist())) != k:
        fail(f"{what}: a row or a column is used twice")
    return rows, cols


def assert_optimal(C, got, maximize, what):
    C = np.asarray(C, dtype=np.float64)
    rows, cols = checked_assignment(got, C.shape, what)
    assert_close(C[rows, cols].sum(), brute_force(C, maximize), rtol=1e-9, atol=1e-9, msg=what)
    return rows, cols


# ============================================================================== 1. agreement (2)


@pytest.mark.exercise("prediction_agreement")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_ARGMAX)
def test_agreement_value(student, rng):
    """two different networks, 5 classes: the fraction of equal argmax predictions"""
    sizes = [6, 8, 5]
    pa, pb = mlp_params(rng, sizes), mlp_params(rng, sizes)
    X = rng.normal(size=(80, 6))
    want = float(np.mean(logits(pa, X).argmax(1) == logits(pb, X).argmax(1)))
    got, _, _ = student.run(drive_agreement, sizes, pa, pb, X)
    assert_close(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.exercise("prediction_agreement")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_ARGMAX)
def test_agreement_self_and_type(student, rng):
    """a network with itself agrees on everything: 1.0, as a Python float"""
    sizes = [4, 5, 3]
    pa = mlp_params(rng, sizes)
    got, kind, _ = student.run(drive_agreement, sizes, pa, pa, rng.normal(size=(30, 4)))
    assert_close(got, 1.0, rtol=0, atol=0)
    assert_equal(kind, "float", msg="type of the result")


@pytest.mark.exercise("prediction_agreement")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_ARGMAX)
def test_agreement_ties_and_integers(student, rng):
    """all-equal logits predict class 0 (np.argmax); integer inputs work"""
    sizes = [3, 4, 3]
    flat = [p * 0 for p in mlp_params(rng, sizes)]
    other = mlp_params(rng, sizes)
    X = rng.integers(-3, 4, size=(40, 3))
    want = float(np.mean(logits(other, X.astype(float)).argmax(1) == 0))
    got, _, _ = student.run(drive_agreement, sizes, flat, other, X)
    assert_close(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.exercise("prediction_agreement")
@pytest.mark.points(0.25)
@pytest.mark.hint("With no inputs there is nothing to agree on: return float('nan').")
def test_agreement_empty(student, rng):
    """no inputs: NaN"""
    sizes = [3, 4, 2]
    got, _, _ = student.run(
        drive_agreement, sizes, mlp_params(rng, sizes), mlp_params(rng, sizes), np.zeros((0, 3))
    )
    assert_close(got, float("nan"), equal_nan=True)


@pytest.mark.exercise("prediction_agreement")
@pytest.mark.points(0.25)
@pytest.mark.hint("Compare the two logit shapes and raise ValueError naming both.")
def test_agreement_shape_mismatch(student, rng):
    """models with different numbers of classes raise ValueError"""
    status, names = student.run(drive_agreement_raises, [3, 4, 2], [3, 4, 5], np.ones((6, 3)))
    assert_true(status == "raised" and "ValueError" in names, "no ValueError for 2 vs 5 classes")


@pytest.mark.exercise("prediction_agreement")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_NO_GRAD)
def test_agreement_builds_no_graph(student, rng):
    """the forward passes run without gradient tracking (and the value is right)"""
    sizes = [3, 4, 2]
    pa, pb = mlp_params(rng, sizes), mlp_params(rng, sizes)
    X = rng.normal(size=(25, 3))
    got, _, graph = student.run(drive_agreement, sizes, pa, pb, X)
    want = float(np.mean(logits(pa, X).argmax(1) == logits(pb, X).argmax(1)))
    assert_close(got, want, rtol=1e-12, atol=1e-12)
    assert_true(graph is False, "a forward pass ran with gradients enabled")


# ============================================================================= 2. permute (3)


@pytest.mark.exercise("permute_hidden")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_PERMUTE)
def test_permute_one_hidden_layer(student, reference, rng):
    """7-5-3 network: the relabelled parameters, and the same logits"""
    sizes = [7, 5, 3]
    params = mlp_params(rng, sizes)
    perm = np.array([3, 0, 4, 1, 2])
    got = as_list(student.permute_hidden(params, perm, 0), 4, "permute_hidden")
    want = reference.permute_hidden(params, perm, 0)
    for name, g, w in zip(["W1", "b1", "W2", "b2"], got, want, strict=True):
        assert_close(g, w, rtol=0, atol=0, msg=name)
    X = rng.normal(size=(9, 7))
    assert_close(
        logits([as_array(g) for g in got], X),
        logits(params, X),
        rtol=1e-12,
        atol=1e-12,
        msg="logits of the permuted network",
    )


@pytest.mark.exercise("permute_hidden")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_PERMUTE)
def test_permute_deeper_network(student, reference, rng):
    """6-5-4-3 network: layer 0 and layer 1, everything else untouched"""
    sizes = [6, 5, 4, 3]
    params = mlp_params(rng, sizes)
    for layer, perm in ((0, rng.permutation(5)), (1, np.array([2, 3, 1, 0]))):
        got = as_list(student.permute_hidden(params, perm, layer), 6, "permute_hidden")
        want = reference.permute_hidden(params, perm, layer)
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_close(g, w, rtol=0, atol=0, msg=f"layer {layer}: parameter {k}")


@pytest.mark.exercise("permute_hidden")
@pytest.mark.points(0.25)
@pytest.mark.hint("Accept Tensors: take p.data (getattr(p, 'data', p)) before indexing.")
def test_permute_accepts_tensors(student, reference, rng):
    """the Tensors of model.parameters() work as params"""
    sizes = [4, 6, 2]
    params = mlp_params(rng, sizes)
    perm = rng.permutation(6)
    got = as_list(student.run(drive_permute_tensors, sizes, params, perm, 0), 4, "permute_hidden")
    for k, (g, w) in enumerate(zip(got, reference.permute_hidden(params, perm, 0), strict=True)):
        assert_close(g, w, rtol=0, atol=0, msg=f"parameter {k}")


@pytest.mark.exercise("permute_hidden")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_COPY)
def test_permute_leaves_its_input(student, reference, rng):
    """the input arrays are left unchanged; the result is the relabelled copy"""
    params = mlp_params(rng, [3, 4, 2])
    perm = np.array([2, 0, 3, 1])
    got = as_list(student.permute_hidden(params, perm, 0), 4, "permute_hidden")
    call = student.call("permute_hidden", params, perm, 0)
    assert_true(not call.mutated, "permute_hidden modified its input arrays", hint=HINT_COPY)
    want = reference.permute_hidden(params, perm, 0)
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        assert_close(g, w, rtol=0, atol=0, msg=f"parameter {k}")


@pytest.mark.exercise("permute_hidden")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_COPY)
def test_permute_float32_and_identity_copies(student, rng):
    """float32 parameters: the values are permuted exactly"""
    params = [p.astype(np.float32) for p in mlp_params(rng, [5, 3, 2])]
    perm = np.array([1, 2, 0])
    got = as_list(student.permute_hidden(params, perm, 0), 4, "permute_hidden")
    assert_close(got[0], params[0][perm].astype(np.float64), rtol=0, atol=0, msg="W1")
    assert_close(got[2], params[2][:, perm].astype(np.float64), rtol=0, atol=0, msg="W2")


@pytest.mark.exercise("permute_hidden")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_PERM_CHECK)
def test_permute_rejects_bad_input(student, rng):
    """a repeated index, a wrong length or a non-hidden layer raise ValueError"""
    params = mlp_params(rng, [3, 4, 2])
    student.raises(ValueError).permute_hidden(params, [0, 1, 1, 2], 0)
    student.raises(ValueError).permute_hidden(params, [0, 1, 2], 0)
    student.raises(ValueError).permute_hidden(params, [0, 1], 1)


@pytest.mark.exercise("permute_hidden")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_PERMUTE)
def test_permute_size_one_layer(student):
    """a hidden layer of one unit: the only permutation is [0]"""
    params = [np.ones((1, 3)), np.ones(1), np.full((2, 1), 2.0), np.zeros(2)]
    got = as_list(student.permute_hidden(params, [0], 0), 4, "permute_hidden")
    for k, (g, w) in enumerate(zip(got, params, strict=True)):
        assert_close(g, w, rtol=0, atol=0, msg=f"parameter {k}")


# ====================================================================== 3. num_equivalent (2)


def count(student, sizes, activation="relu", exact=False):
    """The student's count: an int, or (unless ``exact``) a float holding an integer."""
    kind, value = student.run(drive_count, sizes, activation)
    if kind == "int" and isinstance(value, str) and value.isdigit():
        return int(value)
    if not exact and kind == "float" and isinstance(value, float) and value.is_integer():
        return int(value)
    fail("num_equivalent_points did not return a Python int", kind="type")


@pytest.mark.exercise("num_equivalent_points")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_COUNT)
def test_count_small(student):
    """small ReLU networks: the product of the factorials; no hidden layer: 1"""
    assert_true(count(student, [3, 5, 2]) == 6 * 120 * 2, "[3, 5, 2]: wrong count")
    assert_true(count(student, [7]) == 5040, "[7]: wrong count")
    assert_true(count(student, []) == 1, "[] should give 1 (an empty product)")


@pytest.mark.exercise("num_equivalent_points")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_COUNT)
def test_count_128_exact(student):
    """[128] with ReLU: exactly 128!, as a Python int"""
    assert_true(count(student, [128], exact=True) == math.factorial(128), "not exactly 128!")


@pytest.mark.exercise("num_equivalent_points")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_COUNT)
def test_count_large_exact(student):
    """[200, 100]: exact, far beyond what a float holds"""
    want = math.factorial(200) * math.factorial(100)
    assert_true(count(student, [200, 100], exact=True) == want, "[200, 100]: not exact")


@pytest.mark.exercise("num_equivalent_points")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_COUNT)
def test_count_sign_flips(student):
    """tanh and sigmoid: 2**H sign flips per layer as well; a layer of width 0 counts 1"""
    assert_true(count(student, [3, 2], "tanh") == 6 * 8 * 2 * 4, "[3, 2] with tanh")
    assert_true(count(student, [4], "sigmoid") == 24 * 16, "[4] with sigmoid")
    assert_true(count(student, [0], "tanh") == 1, "[0] with tanh should give 1 (0! = 2**0 = 1)")


@pytest.mark.exercise("num_equivalent_points")
@pytest.mark.points(0.25)
@pytest.mark.hint("Raise ValueError for an unknown activation and for a negative width.")
def test_count_errors(student):
    """an unknown activation or a negative width raises ValueError"""
    student.raises(ValueError).num_equivalent_points([3], "gelu")
    student.raises(ValueError).num_equivalent_points([-1])


# ============================================================================ 4. LSA (6)


@pytest.mark.exercise("linear_sum_assignment")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_EXACT)
def test_lsa_brute_force_integers(student, rng):
    """small integer matrices with ties and negatives (n, m <= 6): optimal total"""
    for _ in range(12):
        n, m = rng.integers(1, 7, size=2)
        C = rng.integers(-4, 5, size=(n, m))
        assert_optimal(C, student.linear_sum_assignment(C), False, f"{n}×{m} integers")


@pytest.mark.exercise("linear_sum_assignment")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_MAXIMIZE)
def test_lsa_brute_force_maximize(student, rng):
    """small float matrices, maximize=True (n, m <= 7): optimal total"""
    for n, m in [(7, 7), (3, 3), (2, 5), (5, 2), (6, 6), (1, 1)]:
        C = rng.normal(size=(n, m))
        got = student.linear_sum_assignment(C, maximize=True)
        assert_optimal(C, got, True, f"{n}×{m}, maximize")


@pytest.mark.exercise("linear_sum_assignment")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_EXACT)
def test_lsa_greedy_trap(student):
    """matrices where taking the best pair first is wrong"""
    S = np.array([[9.0, 8.0, 0.0], [8.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert_optimal(S, student.linear_sum_assignment(S, maximize=True), True, "3×3, maximize")
    C = np.array([[1.0, 2.0, 9.0], [2.0, 9.0, 9.0], [9.0, 3.0, 4.0]])
    assert_optimal(C, student.linear_sum_assignment(C), False, "3×3, minimize")


@pytest.mark.exercise("linear_sum_assignment")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_RECT)
def test_lsa_rectangular(student, rng):
    """5×8 and 8×5: five pairs, row_ind sorted, optimal"""
    C = rng.normal(size=(5, 8))
    for M in (C, C.T):
        rows, _ = assert_optimal(M, student.linear_sum_assignment(M), False, f"{M.shape}")
        assert_true(bool(np.all(np.diff(rows) > 0)), f"{M.shape}: row_ind is not sorted")


@pytest.mark.exercise("linear_sum_assignment")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_EXACT)
def test_lsa_larger(student, reference, rng):
    """60×60 and 40×70: the optimal total (as the reference finds it)"""
    for shape in [(60, 60), (40, 70)]:
        C = rng.random(shape)
        rows, cols = checked_assignment(student.linear_sum_assignment(C), shape, f"{shape}")
        r, c = reference.linear_sum_assignment(C)
        assert_close(C[rows, cols].sum(), C[r, c].sum(), rtol=1e-9, msg=f"{shape}: total")


@pytest.mark.exercise("linear_sum_assignment")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_INVALID)
def test_lsa_invalid_entries(student):
    """NaN, -inf when minimising, +inf when maximising: ValueError"""
    inf = np.inf
    for C, maximize in [
        ([[np.nan, 1.0], [1.0, 2.0]], False),
        ([[-inf, 1.0], [1.0, 2.0]], False),
        ([[inf, 1.0], [1.0, 2.0]], True),
    ]:
        raised = student.raises(ValueError).linear_sum_assignment(np.array(C), maximize=maximize)
        assert_true(
            "invalid numeric entries" in raised.message,
            "the ValueError does not say 'matrix contains invalid numeric entries'",
        )


@pytest.mark.exercise("linear_sum_assignment")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_INFEASIBLE)
def test_lsa_infeasible(student):
    """no finite assignment: ValueError('cost matrix is infeasible')"""
    inf = np.inf
    for C in ([[1, inf, inf], [2, inf, inf], [3, 4, 5]], [[inf, inf], [1.0, 2.0]]):
        raised = student.raises(ValueError).linear_sum_assignment(np.array(C, dtype=float))
        assert_true(
            "infeasible" in raised.message,
            "the ValueError does not say 'cost matrix is infeasible'",
        )


@pytest.mark.exercise("linear_sum_assignment")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_INFEASIBLE)
def test_lsa_forbidden_entries(student):
    """+inf entries an assignment can avoid are allowed"""
    inf = np.inf
    C = np.array([[inf, 1.0, 5.0], [2.0, inf, inf], [inf, 3.0, 1.0]])
    rows, cols = checked_assignment(student.linear_sum_assignment(C), C.shape, "with +inf")
    assert_close(C[rows, cols].sum(), 4.0, msg="total with forbidden pairs")


@pytest.mark.exercise("linear_sum_assignment")
@pytest.mark.points(0.25)
@pytest.mark.hint("An empty matrix has no pairs: return two empty int arrays.")
def test_lsa_empty(student):
    """0×0, 0×3 and 3×0: two empty arrays"""
    for shape in [(0, 0), (0, 3), (3, 0)]:
        checked_assignment(student.linear_sum_assignment(np.zeros(shape)), shape, f"{shape}")


@pytest.mark.exercise("linear_sum_assignment")
@pytest.mark.points(0.25)
@pytest.mark.hint("A cost that is not 2-D raises ValueError ('expected a matrix (2-D array)').")
def test_lsa_not_a_matrix(student):
    """a 1-D cost raises ValueError"""
    student.raises(ValueError).linear_sum_assignment(np.array([1.0, 2.0, 3.0]))


@pytest.mark.exercise("linear_sum_assignment")
@pytest.mark.points(0.25)
@pytest.mark.hint("Convert with np.array(cost, dtype=np.float64): a copy, in float64.")
def test_lsa_integer_bool_float32_input(student, rng):
    """int, bool and float32 matrices; the input is not modified"""
    C = rng.integers(0, 9, size=(5, 5))
    assert_optimal(C, student.linear_sum_assignment(C), False, "int matrix")
    B = np.eye(4, dtype=bool)
    assert_optimal(B, student.linear_sum_assignment(B, maximize=True), True, "bool matrix")
    F = rng.normal(size=(4, 6)).astype(np.float32)
    assert_optimal(F.astype(np.float64), student.linear_sum_assignment(F), False, "float32")


@pytest.mark.exercise("linear_sum_assignment")
@pytest.mark.points(0.25)
@pytest.mark.hint("Entries near 1e300 overflow when summed: divide by the largest |entry| first.")
def test_lsa_huge_entries(student, rng):
    """entries of size 1e200 and 1e300"""
    for scale in (1e200, 1e300):
        C = rng.normal(size=(5, 5)) * scale
        assert_optimal(C / scale, student.linear_sum_assignment(C), False, f"entries ~{scale:g}")


# ======================================================================== 5. match_units (4)


def relabelled(rng, sizes, perm):
    """Parameters of a network and of the same network with its hidden units relabelled so
    that matching returns ``perm``."""
    pa = mlp_params(rng, sizes)
    inv = np.argsort(perm)
    pb = [p.copy() for p in pa]
    pb[0], pb[1], pb[2] = pa[0][inv], pa[1][inv], pa[2][:, inv]
    return pa, pb


PERM = np.array([3, 0, 5, 1, 2, 4])  # not its own inverse


@pytest.mark.exercise("match_units")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_MATCH)
@pytest.mark.parametrize("method", ["weight_cos", "weight_matching", "activation_corr"])
def test_match_recovers_relabelling(student, rng, method):
    """a network and a relabelled copy of itself: the relabelling"""
    sizes = [8, 6, 3]
    pa, pb = relabelled(rng, sizes, PERM)
    X = rng.normal(size=(40, 8))
    got = student.run(drive_match, sizes, pa, pb, 0, method, X)
    assert_equal(as_array(got), PERM.astype(np.float64), msg=method)


@pytest.mark.exercise("match_units")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_COS)
@pytest.mark.parametrize("method", ["weight_cos", "weight_matching"])
def test_match_independent_networks_weights(student, reference, rng, method):
    """two unrelated networks with rows of different norms: the reference's pairing"""
    sizes = [10, 12, 4]
    for _ in range(3):
        pa, pb = mlp_params(rng, sizes, spread=1.5), mlp_params(rng, sizes, spread=1.5)
        got = student.run(drive_match, sizes, pa, pb, 0, method, None)
        want = reference.run(drive_match, sizes, pa, pb, 0, method, None)
        assert_equal(as_array(got), as_array(want), msg=method)


@pytest.mark.exercise("match_units")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_CORR)
def test_match_independent_networks_activations(student, reference, rng):
    """two unrelated networks, activation correlation: the reference's pairing"""
    sizes = [10, 12, 4]
    for _ in range(3):
        pa, pb = mlp_params(rng, sizes), mlp_params(rng, sizes)
        X = rng.normal(size=(60, 10)) + 1.0
        got = student.run(drive_match, sizes, pa, pb, 0, "activation_corr", X)
        want = reference.run(drive_match, sizes, pa, pb, 0, "activation_corr", X)
        assert_equal(as_array(got), as_array(want), msg="activation_corr")


@pytest.mark.exercise("match_units")
@pytest.mark.points(0.5)
@pytest.mark.hint(
    "layer k: W = params[2k], b = params[2k+1], V = params[2k+2]; activations "
    "pass through the ReLU of every layer up to k."
)
def test_match_second_hidden_layer(student, reference, rng):
    """a 7-6-5-3 network, layer 1, each method: the reference's pairing"""
    sizes = [7, 6, 5, 3]
    pa, pb = mlp_params(rng, sizes, spread=1.5), mlp_params(rng, sizes, spread=1.5)
    X = rng.normal(size=(50, 7)) + 0.5
    for method in ("weight_cos", "weight_matching", "activation_corr"):
        got = student.run(drive_match, sizes, pa, pb, 1, method, X)
        want = reference.run(drive_match, sizes, pa, pb, 1, method, X)
        assert_equal(as_array(got), as_array(want), msg=f"layer 1, {method}")


@pytest.mark.exercise("match_units")
@pytest.mark.points(0.25)
@pytest.mark.hint("Raise ValueError for an unknown method and for 'activation_corr' without X.")
def test_match_errors(student):
    """an unknown method, or activation_corr without X: ValueError"""
    for method, with_X in (("greedy", True), ("activation_corr", False)):
        status, names = student.run(drive_match_raises, [4, 3, 2], method, with_X)
        assert_true(
            status == "raised" and "ValueError" in names,
            f"no ValueError for method {method!r}" + ("" if with_X else " without X"),
        )


@pytest.mark.exercise("match_units")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_CORR)
def test_match_dead_unit(student, reference, rng):
    """a unit that never fires (constant activation) gets correlation 0, not NaN"""
    sizes = [5, 4, 2]
    pa, pb = mlp_params(rng, sizes), mlp_params(rng, sizes)
    pa[0][2], pa[1][2] = 0.0, -1.0  # unit 2 of a is always 0
    X = rng.normal(size=(30, 5))
    got = student.run(drive_match, sizes, pa, pb, 0, "activation_corr", X)
    want = reference.run(drive_match, sizes, pa, pb, 0, "activation_corr", X)
    assert_equal(sorted(as_array(got).tolist()), [0.0, 1.0, 2.0, 3.0], msg="a permutation")
    assert_equal(as_array(got), as_array(want), msg="activation_corr with a dead unit")


# ========================================================================= 6. linear_cka (3)


@pytest.mark.exercise("linear_cka")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_CKA_FORMULA)
def test_cka_value(student, reference, rng):
    """X (50, 4) and Y (50, 7) with offsets: the reference's value"""
    X = rng.normal(size=(50, 4)) @ rng.normal(size=(4, 4)) + 2.0
    Y = np.column_stack([X @ rng.normal(size=(4, 3)), rng.normal(size=(50, 4))]) - 1.0
    assert_close(student.linear_cka(X, Y), reference.linear_cka(X, Y), rtol=1e-9)


@pytest.mark.exercise("linear_cka")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_CKA_FORMULA)
def test_cka_self(student, rng):
    """CKA(X, X) = 1"""
    X = rng.normal(size=(20, 3)) + 5.0
    assert_close(student.linear_cka(X, X), 1.0, rtol=1e-12)


@pytest.mark.exercise("linear_cka")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_CKA_FORMULA)
def test_cka_invariances(student, reference, rng):
    """permuting, rotating or scaling Y's columns all alike leaves CKA unchanged"""
    X, Y = rng.normal(size=(40, 5)), rng.normal(size=(40, 5)) + 3.0
    base = reference.linear_cka(X, Y)
    Q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    for what, Z in [("permuted", Y[:, [3, 1, 4, 0, 2]]), ("rotated", Y @ Q), ("scaled", 4.5 * Y)]:
        assert_close(student.linear_cka(X, Z), base, rtol=1e-9, msg=what)


@pytest.mark.exercise("linear_cka")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_CKA_FORMULA)
def test_cka_anisotropic(student, reference, rng):
    """stretching one column changes CKA (as in the reference)"""
    X = rng.normal(size=(40, 5))
    Y = X * np.array([1, 1, 1, 1, 10.0])
    assert_close(student.linear_cka(X, Y), reference.linear_cka(X, Y), rtol=1e-9)


@pytest.mark.exercise("linear_cka")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_CKA_CENTRE)
def test_cka_centres_columns(student, reference, rng):
    """adding a constant to each column changes nothing"""
    X, Y = rng.normal(size=(30, 3)), rng.normal(size=(30, 4))
    want = reference.linear_cka(X, Y)
    got = student.linear_cka(X + np.array([5.0, -2.0, 9.0]), Y + 7.0)
    assert_close(got, want, rtol=1e-9)


@pytest.mark.exercise("linear_cka")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_CKA_FORMULA)
def test_cka_wide(student, reference, rng):
    """fewer examples than features (n = 8, p = 30, q = 20)"""
    X, Y = rng.normal(size=(8, 30)), rng.normal(size=(8, 20))
    assert_close(student.linear_cka(X, Y), reference.linear_cka(X, Y), rtol=1e-9)


@pytest.mark.exercise("linear_cka")
@pytest.mark.points(0.25)
@pytest.mark.hint("Divide each centred matrix by its largest |entry| before squaring.")
def test_cka_huge_and_tiny(student, reference, rng):
    """entries of size 1e200 and 1e-200"""
    X, Y = rng.normal(size=(30, 3)), rng.normal(size=(30, 4))
    want = reference.linear_cka(X, Y)
    assert_close(student.linear_cka(X * 1e200, Y * 1e-200), want, rtol=1e-9)


@pytest.mark.exercise("linear_cka")
@pytest.mark.points(0.25)
@pytest.mark.hint("Convert to float64 first: np.asarray(X, dtype=np.float64).")
def test_cka_integers(student, reference, rng):
    """integer inputs"""
    X, Y = rng.integers(-5, 6, size=(25, 3)), rng.integers(0, 4, size=(25, 2))
    assert_close(student.linear_cka(X, Y), reference.linear_cka(X, Y), rtol=1e-9)


@pytest.mark.exercise("linear_cka")
@pytest.mark.points(0.25)
@pytest.mark.hint("NaN in, NaN out; a constant representation has no variance: NaN.")
def test_cka_nan(student, rng):
    """a NaN entry or a constant representation gives NaN"""
    X, Y = rng.normal(size=(10, 3)), rng.normal(size=(10, 2))
    X[4, 1] = np.nan
    assert_close(student.linear_cka(X, Y), float("nan"), equal_nan=True, msg="NaN input")
    assert_close(
        student.linear_cka(np.ones((10, 3)), Y), float("nan"), equal_nan=True, msg="constant X"
    )


@pytest.mark.exercise("linear_cka")
@pytest.mark.points(0.25)
@pytest.mark.hint("Raise ValueError when X or Y is not 2-D or their numbers of rows differ.")
def test_cka_errors(student):
    """different numbers of rows, or a 1-D input: ValueError"""
    student.raises(ValueError).linear_cka(np.zeros((5, 2)), np.zeros((4, 2)))
    student.raises(ValueError).linear_cka(np.zeros(5), np.zeros((5, 1)))


# ========================================================= reference against scipy (not graded)


def test_reference_lsa_matches_scipy_where_installed(reference):
    scipy_optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(0)
    for shape in [(5, 8), (8, 5), (20, 20)]:
        C = rng.normal(size=shape)
        r, c = reference.linear_sum_assignment(C)
        rs, cs = scipy_optimize.linear_sum_assignment(C)
        assert np.array_equal(r, rs) and np.isclose(C[r, c].sum(), C[rs, cs].sum())
