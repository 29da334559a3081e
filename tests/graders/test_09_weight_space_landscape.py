"""Hidden grader of lesson 09, "The loss surface over weight space".

Every test scores one exercise (``@pytest.mark.exercise``) and compares the student's answer,
computed in the sandbox, with the solution notebook's answer (``reference``) or with an exact
value, in this trusted process. Exercises are graded independently: ``loss_on_line`` runs with
nnlite's ``flatten_params`` and ``load_flat_params`` in place of the student's. Networks are
real ``nnlite.nn.MLP`` objects built in the sandbox from plain-data parameters (small, non-square
layers, so a transposition or an order mistake shows); nothing is trained, and the file grades a
notebook in well under two seconds.

Points per exercise add up to the points of the exercise cell in the notebook.
"""

from __future__ import annotations

import numpy as np
import pytest

from nnlite.grading import assert_close, assert_equal, assert_true, fail

LESSON = "09_weight_space_landscape"
EXERCISES = {
    "flat_params": ["flatten_params", "load_flat_params"],
    "line": ["interpolate", "loss_on_line"],
    "loss_barrier": ["loss_barrier"],
    "random_direction": ["random_direction"],
    "rescale_hidden": ["rescale_hidden"],
}
# R13: nnlite's own versions, out of reach while the exercise is graded. loss_plane evaluates
# the loss at loaded points, as loss_on_line does, so it is out of reach for that exercise too.
OWN_WORK = {
    "flat_params": ["nnlite.landscape:flatten_params", "nnlite.landscape:load_flat_params"],
    "line": [
        "nnlite.landscape:interpolate",
        "nnlite.landscape:loss_on_line",
        "nnlite.landscape:loss_plane",
    ],
    "loss_barrier": ["nnlite.landscape:loss_barrier"],
    "random_direction": ["nnlite.landscape:random_direction"],
    "rescale_hidden": ["nnlite.landscape:rescale_hidden"],
}

HINT_ORDER = (
    "Concatenate p.data.ravel() (C order, row by row) over model.parameters(), in that order: "
    "W_0, b_0, W_1, b_1, ..."
)
HINT_COPY = "np.concatenate returns a new array; for a model without parameters return np.zeros(0)."
HINT_LOAD = (
    "Copy into the existing parameters with p.data[...] = piece.reshape(p.data.shape): "
    "assigning p.data = piece makes the model share memory with vec, and a new Parameter is "
    "invisible to an optimizer holding the old one."
)
HINT_LOAD_CHECK = "Check vec.shape == (P,) first and raise ValueError naming both shapes."
HINT_INTERP = (
    "Compute (1 - t) * theta_a + t * theta_b: it gives the ends exactly, keeps float32, and "
    "b - a never overflows."
)
HINT_LINE = (
    "For each t: load interpolate(theta_a, theta_b, t) into the model, then the MEAN "
    "cross_entropy(model(Tensor(X)), y) (a Python float per t), inside `with no_grad():`."
)
HINT_RESTORE = (
    "Save flatten_params(model) before the loop and load it back afterwards (try/finally), so "
    "the model ends where it started."
)
HINT_CHORD = (
    "Measure against the chord (1 - t) L(0) + t L(1), the straight line through BOTH ends, not "
    "against min(L(0), L(1)) or their mean; and include the ends (where the gap is 0)."
)
HINT_CHORD_T = (
    "The chord joins the first and the last sample: use s = (t - ts[0]) / (ts[-1] - ts[0]) in "
    "place of t when ts does not run from 0 to 1."
)
HINT_BARRIER_ERRORS = (
    "Raise ValueError for ts and losses of different shapes, fewer than 2 points, or ts that is "
    "not strictly increasing."
)
HINT_FILTER = (
    "Normalise each ROW i of each weight matrix on its own: d_i * ||theta_i|| / ||d_i|| (norms "
    "along axis 1), not the whole matrix or the whole vector, and not the columns."
)
HINT_BIAS = "Filter normalisation sets the direction's biases (every 1-D parameter) to 0."
HINT_DRAW = (
    "One draw: g = np.random.default_rng(rng).standard_normal(P), split in parameters() order "
    "(not one draw per parameter with other sizes, not rng.normal with another scale)."
)
HINT_RAW = (
    "filter_normalize=False: the same draw g times ||filter-normalised direction|| / ||g||, one "
    "factor for the whole vector."
)
HINT_RESCALE = (
    "W_layer and b_layer times alpha, W_{layer+1} divided by alpha (its columns, for one factor "
    "per unit); the next bias is unchanged."
)
HINT_RESCALE_RAISE = (
    "relu(alpha z) = alpha relu(z) holds only for alpha > 0: raise ValueError for alpha <= 0, "
    "NaN or inf (any entry), and for a layer that is not hidden."
)


# ============================================================================== helpers (parent)


def mlp_params(sizes, rng, scale=0.6):
    """Random parameters (W0, b0, W1, b1, ...) for an MLP of these sizes."""
    out = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        out.append(rng.normal(0, scale, size=(n_out, n_in)))
        out.append(rng.normal(0, scale, size=n_out))
    return out


def flat(params):
    return np.concatenate([np.ravel(p) for p in params])


def raised(got, what):
    status, names = got
    if status != "raised":
        fail(f"{what} did not raise")
    assert_true("ValueError" in names, f"{what}: expected ValueError")


# ============================================================================== drivers (sandbox)
# Drivers run in the sandbox with the student's namespace `ns` (and in this process with the
# reference's). They compute; they never judge. Each is self-contained.


def drive_flatten(ns, sizes, params, dtype="float64"):
    """flatten_params of an nnlite MLP holding `params`; then whether changing the answer
    changed the model."""
    from nnlite import nn

    model = nn.MLP(list(sizes), rng=0, dtype=np.dtype(dtype))
    for p, v in zip(model.parameters(), params, strict=True):
        p.data[...] = v
    got = ns["flatten_params"](model)
    arr = np.array(got, copy=True)
    try:
        got[...] = 12345.0
    except Exception:  # noqa: BLE001 - a list or a read-only array cannot alias the model
        pass
    aliased = any(np.any(p.data == 12345.0) for p in model.parameters())
    return arr.astype(np.float64), str(arr.dtype), aliased


def drive_flatten_empty(ns):
    from nnlite import nn

    return np.asarray(ns["flatten_params"](nn.ReLU()), dtype=np.float64)


def drive_load(ns, sizes, vec, dtype="float64"):
    """load_flat_params into an nnlite MLP; returns (parameters after, same objects?, dtypes,
    aliased with vec?)."""
    from nnlite import nn

    model = nn.MLP(list(sizes), rng=1, dtype=np.dtype(dtype))
    before = list(model.parameters())
    v = np.array(vec, copy=True)
    ns["load_flat_params"](model, v)
    after = list(model.parameters())
    same = len(after) == len(before) and all(p is q for p, q in zip(after, before, strict=True))
    values = [np.array(p.data, dtype=np.float64) for p in after]
    dtypes = [str(p.data.dtype) for p in after]
    v[...] = 777.0
    aliased = any(np.any(p.data == 777.0) for p in after)
    return values, same, dtypes, aliased


def drive_load_raises(ns, sizes, vec):
    from nnlite import nn

    model = nn.MLP(list(sizes), rng=1)
    try:
        ns["load_flat_params"](model, vec)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        return "raised", [c.__name__ for c in type(exc).__mro__]
    return "returned", []


def drive_interpolate(ns, a, b, t):
    out = ns["interpolate"](a, b, t)
    arr = np.asarray(out)
    return arr.astype(np.float64), str(arr.dtype)


def drive_interpolate_raises(ns, a, b, t):
    try:
        ns["interpolate"](a, b, t)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        return "raised", [c.__name__ for c in type(exc).__mro__]
    return "returned", []


def drive_line(ns, sizes, params, theta_a, theta_b, ts, X, y):
    """The student's loss_on_line on an nnlite MLP holding `params`, with nnlite's
    flatten_params / load_flat_params in place of the student's. Returns the losses, the
    model's parameters afterwards, and whether any forward pass ran with gradients enabled."""
    from nnlite import is_grad_enabled, landscape, nn

    fn = ns["loss_on_line"]
    g = getattr(fn, "__globals__", {})
    names = ("flatten_params", "load_flat_params")
    saved = {k: g.get(k) for k in names}
    g["flatten_params"], g["load_flat_params"] = (
        landscape.flatten_params,
        landscape.load_flat_params,
    )
    try:
        model = nn.MLP(list(sizes), rng=0)
        for p, v in zip(model.parameters(), params, strict=True):
            p.data[...] = v
        modes = []
        inner = model.forward
        model.forward = lambda x: (modes.append(is_grad_enabled()), inner(x))[1]
        losses = fn(model, theta_a, theta_b, ts, X, y)
        after = [np.array(p.data, dtype=np.float64) for p in model.parameters()]
        return np.asarray(losses, dtype=np.float64), after, any(modes)
    finally:
        for k, v in saved.items():
            if v is None:
                g.pop(k, None)
            else:
                g[k] = v


def drive_barrier_raises(ns, ts, losses):
    try:
        ns["loss_barrier"](ts, losses)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        return "raised", [c.__name__ for c in type(exc).__mro__]
    return "returned", []


def drive_direction(ns, sizes, params, seed, filter_normalize=None, as_generator=False):
    """random_direction of an nnlite MLP holding `params`; also whether the parameters
    were left unchanged."""
    from nnlite import nn

    model = nn.MLP(list(sizes), rng=0)
    for p, v in zip(model.parameters(), params, strict=True):
        p.data[...] = v
    rng = np.random.default_rng(seed) if as_generator else seed
    if filter_normalize is None:
        d = ns["random_direction"](model, rng)
    else:
        d = ns["random_direction"](model, rng, filter_normalize=filter_normalize)
    unchanged = all(
        np.array_equal(p.data, v) for p, v in zip(model.parameters(), params, strict=True)
    )
    return np.asarray(d, dtype=np.float64), unchanged


def drive_rescale_logits(ns, sizes, params, layer, alpha, X):
    """Logits of an nnlite MLP with the original and with the rescaled parameters."""
    from nnlite import Tensor, nn, no_grad

    new = ns["rescale_hidden"]([np.array(p) for p in params], layer, alpha)
    changed = not np.allclose(np.asarray(new[2 * layer], dtype=np.float64), params[2 * layer])
    out = []
    for ps in (params, new):
        model = nn.MLP(list(sizes), rng=0)
        for p, v in zip(model.parameters(), ps, strict=True):
            p.data[...] = np.asarray(v)
        with no_grad():
            out.append(model(Tensor(X)).data.copy())
    return out[0], out[1], changed


def drive_rescale(ns, params, layer, alpha):
    new = ns["rescale_hidden"](params, layer, alpha)
    return [np.asarray(p).astype(np.float64) for p in new], [str(np.asarray(p).dtype) for p in new]


def drive_rescale_raises(ns, params, layer, alpha):
    try:
        ns["rescale_hidden"](params, layer, alpha)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        return "raised", [c.__name__ for c in type(exc).__mro__]
    return "returned", []


# ============================================================================== 1. flat_params (3)

SIZES = (5, 4, 3)  # non-square everywhere: W0 (4, 5), W1 (3, 4)
DEEP = (6, 5, 4, 3)


@pytest.mark.exercise("flat_params")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_ORDER)
def test_flatten_order_and_values(student, rng):
    """flatten_params is W0, b0, W1, b1, ... raveled row by row and concatenated"""
    for sizes in (SIZES, DEEP):
        params = mlp_params(sizes, rng)
        got, _dtype, _aliased = student.run(drive_flatten, sizes, params)
        assert_close(got, flat(params), rtol=0, atol=0, msg=f"flatten_params, sizes {sizes}")


@pytest.mark.exercise("flat_params")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_COPY)
def test_flatten_is_a_copy_keeps_dtype_and_handles_no_parameters(student, rng):
    """the vector is a copy; float32 stays float32; no parameters gives shape (0,)"""
    params = mlp_params(SIZES, rng)
    _got, _dtype, aliased = student.run(drive_flatten, SIZES, params)
    assert_true(not aliased, "changing the returned vector changed the model")
    got, dtype, _ = student.run(drive_flatten, SIZES, params, "float32")
    assert_equal(dtype, "float32", msg="flatten_params of a float32 model", kind="dtype")
    assert_close(got, flat(params).astype(np.float32), rtol=0, msg="float32 model")
    assert_close(student.run(drive_flatten_empty), np.zeros(0), msg="a model without parameters")


@pytest.mark.exercise("flat_params")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_LOAD)
def test_load_round_trip_in_place(student, rng):
    """load_flat_params writes the pieces in order, into the same Parameters, as a copy"""
    for sizes in (SIZES, DEEP):
        params = mlp_params(sizes, rng)
        values, same, _dtypes, aliased = student.run(drive_load, sizes, flat(params))
        assert_true(len(values) == len(params), "wrong number of parameters after loading")
        for i, (v, p) in enumerate(zip(values, params, strict=True)):
            assert_close(v, p, rtol=0, atol=0, msg=f"parameter {i} after loading")
        assert_true(same, "the model's Parameter objects were replaced")
        assert_true(not aliased, "the model shares memory with vec: copy the values")
    small = flat(mlp_params(SIZES, rng))
    values, _same, dtypes, _ = student.run(drive_load, SIZES, small, "float32")
    assert_true(all(d == "float32" for d in dtypes), "loading changed a float32 parameter's dtype")


@pytest.mark.exercise("flat_params")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_LOAD_CHECK)
def test_load_wrong_shape_raises(student):
    """a vector of the wrong length or shape raises ValueError"""
    P = 4 * 5 + 4 + 3 * 4 + 3
    for bad in (np.zeros(P - 1), np.zeros(P + 1), np.zeros((1, P)), np.zeros(0)):
        raised(student.run(drive_load_raises, SIZES, bad), f"a vector of shape {bad.shape}")


# ============================================================================== 2. line (4)


@pytest.mark.exercise("line")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_INTERP)
def test_interpolate_values(student, rng):
    """(1 - t) a + t b for t inside and outside [0, 1]; the ends exactly"""
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    for t in (0.0, 1.0):
        got, _ = student.run(drive_interpolate, a, b, t)
        assert_close(got, a if t == 0 else b, rtol=0, atol=0, msg=f"t = {t:g} (exactly)")
    for t in (0.3, -0.5, 2.0, 1):
        got, _ = student.run(drive_interpolate, a, b, t)
        assert_close(got, (1 - t) * a + t * b, rtol=1e-12, atol=1e-15, msg=f"t = {t:g}")


@pytest.mark.exercise("line")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_INTERP)
def test_interpolate_dtypes_sizes_and_huge_values(student):
    """float32 stays float32, integers give float64, size 0 works, 1e308 does not overflow"""
    a32, b32 = np.array([1.0, 2.0], np.float32), np.array([3.0, -1.0], np.float32)
    got, dtype = student.run(drive_interpolate, a32, b32, 0.25)
    assert_equal(dtype, "float32", msg="float32 inputs", kind="dtype")
    assert_close(got, [1.5, 1.25], rtol=1e-6, msg="float32 inputs")
    got, dtype = student.run(drive_interpolate, np.array([1, 2]), np.array([3, 6]), 0.5)
    assert_equal(dtype, "float64", msg="integer inputs", kind="dtype")
    assert_close(got, [2.0, 4.0], msg="integer inputs")
    got, _ = student.run(drive_interpolate, np.zeros(0), np.zeros(0), 0.5)
    assert_close(got, np.zeros(0), msg="empty vectors")
    got, _ = student.run(
        drive_interpolate, np.array([1e308, 1e-200]), np.array([-1e308, 3e-200]), 0.5
    )
    assert_close(got, [0.0, 2e-200], rtol=1e-12, msg="entries of 1e308 and 1e-200")


@pytest.mark.exercise("line")
@pytest.mark.points(0.25)
@pytest.mark.hint("Compare the two shapes and raise ValueError naming both.")
def test_interpolate_shape_mismatch_raises(student):
    """theta_a and theta_b of different shapes raise ValueError"""
    raised(
        student.run(drive_interpolate_raises, np.zeros(3), np.zeros(4), 0.5), "shapes (3,), (4,)"
    )
    raised(
        student.run(drive_interpolate_raises, np.zeros((2, 3)), np.zeros((3, 2)), 0.5),
        "shapes (2, 3), (3, 2)",
    )


def line_problem(rng, sizes=SIZES, n=30):
    params = mlp_params(sizes, rng)
    theta_a, theta_b = flat(mlp_params(sizes, rng)), flat(mlp_params(sizes, rng))
    X = rng.normal(size=(n, sizes[0]))
    y = rng.integers(0, sizes[-1], size=n)
    return params, theta_a, theta_b, X, y


@pytest.mark.exercise("line")
@pytest.mark.points(1.5)
@pytest.mark.hint(HINT_LINE)
def test_loss_on_line_values(student, reference, rng):
    """the mean cross-entropy at every point of the line, also beyond the ends"""
    for sizes in (SIZES, DEEP):
        params, ta, tb, X, y = line_problem(rng, sizes)
        ts = np.array([-0.5, 0.0, 0.2, 0.5, 1.0, 1.25])
        got, _after, _ = student.run(drive_line, sizes, params, ta, tb, ts, X, y)
        want, _, _ = reference.run(drive_line, sizes, params, ta, tb, ts, X, y)
        assert_close(got, want, rtol=1e-9, atol=1e-12, msg=f"losses on the line, sizes {sizes}")


@pytest.mark.exercise("line")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_RESTORE)
def test_loss_on_line_restores_the_model_and_takes_any_ts(student, reference, rng):
    """the model's parameters are put back; one t, and a list of ts, work too"""
    params, ta, tb, X, y = line_problem(rng)
    got, after, _ = student.run(drive_line, SIZES, params, ta, tb, [0.7], X, y)
    want, _, _ = reference.run(drive_line, SIZES, params, ta, tb, [0.7], X, y)
    assert_close(got, want, rtol=1e-9, atol=1e-12, msg="a single t")
    for i, (v, p) in enumerate(zip(after, params, strict=True)):
        assert_close(v, p, rtol=0, atol=0, msg=f"parameter {i} after loss_on_line")


@pytest.mark.exercise("line")
@pytest.mark.points(0.25)
@pytest.mark.hint("Evaluate inside `with no_grad():`: nothing is trained, no graph is needed.")
def test_loss_on_line_builds_no_graph(student, rng):
    """the forward passes run without building a graph"""
    params, ta, tb, X, y = line_problem(rng)
    _got, _after, graph = student.run(drive_line, SIZES, params, ta, tb, [0.0, 1.0], X, y)
    assert_true(not graph, "a forward pass ran with gradients enabled")


# ============================================================================== 3. loss_barrier (3)


@pytest.mark.exercise("loss_barrier")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_CHORD)
def test_barrier_of_linear_and_convex_curves_is_zero(student):
    """a straight line and convex curves have barrier 0"""
    ts = np.linspace(0, 1, 11)
    for what, losses in (
        ("a straight line", 2.0 - 1.5 * ts),
        ("(t - 0.3)^2", (ts - 0.3) ** 2),
        ("exp(-3t) + 0.1", np.exp(-3 * ts) + 0.1),
    ):
        assert_close(student.loss_barrier(ts, losses), 0.0, atol=1e-12, msg=what)


@pytest.mark.exercise("loss_barrier")
@pytest.mark.points(1.25)
@pytest.mark.hint(HINT_CHORD)
def test_barrier_of_a_bump_on_a_sloped_chord(student, reference, rng):
    """a bump above a chord whose ends differ: the height above the chord"""
    ts = np.linspace(0, 1, 21)
    losses = 0.2 + 1.8 * ts + 0.6 * np.sin(np.pi * ts)  # ends 0.2 and 2.0, bump 0.6 at t = 0.5
    assert_close(student.loss_barrier(ts, losses), 0.6, rtol=1e-12, msg="bump of 0.6")
    losses = 1.0 - 0.9 * ts + 0.3 * np.sin(np.pi * ts) ** 2 + 0.01 * rng.random(21)
    got = student.loss_barrier(ts, losses)
    assert_close(got, reference.loss_barrier(ts, losses), rtol=1e-12, msg="a noisy bump")


@pytest.mark.exercise("loss_barrier")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_CHORD_T)
def test_barrier_chord_through_the_first_and_last_sample(student, reference):
    """ts not running from 0 to 1: the chord joins the first and the last sample"""
    ts = np.linspace(2.0, 5.0, 7)
    losses = np.array([1.0, 3.0, 4.0, 4.5, 3.0, 2.5, 2.0])  # chord 1 + (t - 2) / 3
    assert_close(student.loss_barrier(ts, losses), 3.0, rtol=1e-12, msg="ts from 2 to 5")
    ts = np.array([0.0, 0.1, 0.5, 0.9, 1.0])  # uneven spacing
    losses = np.array([0.0, 1.0, 1.0, 2.0, 1.0])
    assert_close(student.loss_barrier(ts, losses), reference.loss_barrier(ts, losses), rtol=1e-12,
                 msg="uneven spacing")  # fmt: skip


@pytest.mark.exercise("loss_barrier")
@pytest.mark.points(0.25)
@pytest.mark.hint("A NaN loss makes the barrier NaN: do not skip it (np.max propagates NaN).")
def test_barrier_nan(student):
    """a NaN loss gives a NaN barrier"""
    got = student.loss_barrier(np.linspace(0, 1, 5), np.array([0.0, 1.0, np.nan, 1.0, 0.0]))
    assert_close(got, np.nan, equal_nan=True, msg="a NaN loss")


@pytest.mark.exercise("loss_barrier")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_BARRIER_ERRORS)
def test_barrier_rejects_bad_input(student):
    """different shapes, one point, or unsorted ts raise ValueError"""
    cases = [
        ("shapes (3,) and (4,)", np.linspace(0, 1, 3), np.zeros(4)),
        ("a single point", np.array([0.0]), np.array([1.0])),
        ("decreasing ts", np.array([1.0, 0.5, 0.0]), np.zeros(3)),
        ("a repeated t", np.array([0.0, 0.5, 0.5, 1.0]), np.zeros(4)),
    ]
    for what, ts, losses in cases:
        raised(student.run(drive_barrier_raises, ts, losses), what)


# ========================================================================== 4. random_direction (4)


def split(vec, sizes):
    shapes = [s for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
              for s in ((n_out, n_in), (n_out,))]  # fmt: skip
    out, offset = [], 0
    for s in shapes:
        n = int(np.prod(s))
        out.append(vec[offset : offset + n].reshape(s))
        offset += n
    return out


@pytest.mark.exercise("random_direction")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_FILTER)
def test_direction_rows_have_the_weights_row_norms(student, rng):
    """every row of every weight matrix of the direction has the norm of the weights' row"""
    params = mlp_params(DEEP, rng)
    params[0] *= np.linspace(0.2, 3.0, params[0].shape[0])[:, None]  # rows of different sizes
    got, unchanged = student.run(drive_direction, DEEP, params, 4)
    assert_true(np.shape(got) == (flat(params).size,), "the direction does not have shape (P,)")
    assert_true(unchanged, "random_direction changed the model's parameters")
    for i, (d, p) in enumerate(zip(split(got, DEEP), params, strict=True)):
        if p.ndim == 2:
            assert_close(np.linalg.norm(d, axis=1), np.linalg.norm(p, axis=1), rtol=1e-10,
                         msg=f"row norms of weight matrix {i // 2}")  # fmt: skip


@pytest.mark.exercise("random_direction")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_BIAS)
def test_direction_biases_are_zero(student, rng):
    """the bias parts of a filter-normalised direction are 0"""
    params = mlp_params(DEEP, rng)
    got, _ = student.run(drive_direction, DEEP, params, 5)
    assert_true(np.shape(got) == (flat(params).size,), "the direction does not have shape (P,)")
    for i, d in enumerate(split(got, DEEP)):
        if d.ndim == 1:
            assert_close(d, np.zeros_like(d), atol=0, msg=f"bias part {i // 2}")


@pytest.mark.exercise("random_direction")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_DRAW)
def test_direction_is_the_specified_draw(student, reference, rng):
    """with a seed, the direction is exactly the specified one (int seed or Generator)"""
    params = mlp_params(SIZES, rng)
    want, _ = reference.run(drive_direction, SIZES, params, 11)
    got, _ = student.run(drive_direction, SIZES, params, 11)
    assert_close(got, want, rtol=1e-10, atol=1e-14, msg="seed 11")
    got, _ = student.run(drive_direction, SIZES, params, 11, None, True)
    assert_close(got, want, rtol=1e-10, atol=1e-14, msg="a Generator of seed 11")


@pytest.mark.exercise("random_direction")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_RAW)
def test_raw_direction_is_the_same_draw_scaled_as_a_whole(student, reference, rng):
    """filter_normalize=False: the draw, scaled to the filter-normalised direction's norm"""
    params = mlp_params(DEEP, rng)
    want, _ = reference.run(drive_direction, DEEP, params, 3, False)
    got, _ = student.run(drive_direction, DEEP, params, 3, False)
    assert_close(got, want, rtol=1e-10, atol=1e-14, msg="raw direction, seed 3")
    fn, _ = reference.run(drive_direction, DEEP, params, 3, True)
    assert_close(np.linalg.norm(got), np.linalg.norm(fn), rtol=1e-10, msg="its norm")


@pytest.mark.exercise("random_direction")
@pytest.mark.points(0.5)
@pytest.mark.hint("A row of theta that is all zero gives a zero row (0 / ||g_i||, no NaN).")
def test_direction_zero_row(student, reference, rng):
    """a zero row of the weights gives a zero row, and nothing else changes"""
    params = mlp_params(SIZES, rng)
    params[0][1] = 0.0
    got, _ = student.run(drive_direction, SIZES, params, 8)
    want, _ = reference.run(drive_direction, SIZES, params, 8)
    assert_close(got, want, rtol=1e-10, atol=1e-14, msg="weights with a zero row")


# ============================================================================ 5. rescale_hidden (3)


@pytest.mark.exercise("rescale_hidden")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_RESCALE)
def test_rescaling_keeps_the_logits(student, rng):
    """the rescaled network computes the same logits (to 1e-12)"""
    X = rng.normal(size=(15, DEEP[0]))
    params = mlp_params(DEEP, rng)
    for layer, alpha in ((0, 4.0), (1, 0.3), (1, rng.uniform(0.25, 4.0, size=DEEP[2]))):
        before, after, changed = student.run(drive_rescale_logits, DEEP, params, layer, alpha, X)
        assert_true(changed, f"the weights of layer {layer} did not change")
        assert_close(after, before, rtol=1e-12, atol=1e-12, msg=f"logits, layer {layer}")


@pytest.mark.exercise("rescale_hidden")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_RESCALE)
def test_rescaled_arrays(student, reference, rng):
    """every array equals the specified one: scalar and per-unit alpha, the next bias unchanged"""
    params = mlp_params(DEEP, rng)
    for layer, alpha in ((0, 2.5), (1, rng.uniform(0.25, 4.0, size=DEEP[2]))):
        got, _ = student.run(drive_rescale, params, layer, alpha)
        want, _ = reference.run(drive_rescale, params, layer, alpha)
        assert_true(
            isinstance(got, list | tuple) and len(got) == len(want), "wrong number of arrays"
        )
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_close(g, w, rtol=1e-13, atol=0, msg=f"array {i} (layer {layer})")


@pytest.mark.exercise("rescale_hidden")
@pytest.mark.points(0.25)
@pytest.mark.hint("Return float64 arrays, also for integer input.")
def test_rescaling_integer_input_gives_float64(student):
    """integer arrays in, float64 arrays out"""
    params = [np.ones((2, 3), int), np.ones(2, int), np.ones((1, 2), int), np.ones(1, int)]
    got, dtypes = student.run(drive_rescale, params, 0, 3)
    assert_true(all(d == "float64" for d in dtypes), "the arrays are not float64")
    assert_close(got[2], [[1 / 3, 1 / 3]], rtol=1e-15, msg="W_1 / 3")


@pytest.mark.exercise("rescale_hidden")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_RESCALE_RAISE)
def test_rescaling_rejects_bad_alpha_and_layer(student, rng):
    """alpha <= 0, NaN or inf, and a layer that is not hidden, raise ValueError"""
    params = mlp_params(SIZES, rng)
    for alpha in (0.0, -2.0, np.nan, np.inf, np.array([1.0, 2.0, -1.0, 1.0])):
        raised(student.run(drive_rescale_raises, params, 0, alpha), f"alpha = {alpha}")
    raised(student.run(drive_rescale_raises, params, 1, 2.0), "the output layer (layer 1 of 2)")
