"""Hidden grader of lesson 08, "Preferred inputs".

Every test scores one exercise (``@pytest.mark.exercise``) and compares the student's answer,
computed in the sandbox, with the solution notebook's answer (``reference``) or with an exact
identity, in this trusted process. The networks are real nnlite MLPs built inside the sandbox
from parameters drawn here (small, of other sizes than the lesson's, non-square images), so no
test trains anything and the file grades a notebook in well under two seconds.

Exact identities used: for a linear model the gradient of logit t is W[t]; for a bias-free ReLU
network gradient × input sums to the logit (Euler's theorem); an occluder covering the whole
image gives p(target | x) - p(target | fill); the deletion test with frac = 0 gives 0 and with
frac = 1 gives p(x) - p(0); activation maximisation of a linear unit with an L2 penalty and no
box converges to w / l2.

Points per exercise add up to the points of the exercise cell in the notebook.
"""

from __future__ import annotations

import numpy as np
import pytest

from nnlite.grading import assert_close, assert_equal, assert_true, fail
from nnlite.grading.compare import as_array

LESSON = "08_preferred_inputs"
EXERCISES = {
    "top_k_activating": ["top_k_activating"],
    "occlusion_map": ["occlusion_map"],
    "saliency": ["saliency"],
    "deletion_drop": ["deletion_drop"],
    "activation_maximization": ["activation_maximization"],
}
# R13: nnlite's own versions (the lesson's fallbacks), out of reach while the exercise is graded.
OWN_WORK = {
    "top_k_activating": ["nnlite.attribution:top_k_activating"],
    "occlusion_map": ["nnlite.attribution:occlusion_map"],
    "saliency": ["nnlite.attribution:saliency"],
    "deletion_drop": ["nnlite.attribution:deletion_drop"],
    "activation_maximization": ["nnlite.attribution:activation_maximization"],
}

HINT_TOPK_ORDER = (
    "Rank from the largest activation down; equal values keep the lower index first "
    "(np.argsort(-values, kind='stable')), and a ReLU unit is exactly 0 on many rows."
)
HINT_TOPK_LAYER = (
    "Run X through model[0], ..., model[layer] and read that module's output; a negative layer "
    "counts from the end (layer % len(model))."
)
HINT_TOPK_K = (
    "Return an int array of shape (k,); k = 0 gives an empty array, k > N raises ValueError."
)
HINT_OCC = (
    "Entry (i, j) covers rows i*stride ... i*stride+patch-1 and columns j*stride ... "
    "j*stride+patch-1; there are (H - patch) // stride + 1 positions down and "
    "(W - patch) // stride + 1 across."
)
HINT_OCC_PROB = (
    "Report p(target | x) - p(target | covered x) with softmax probabilities "
    "(probabilities(model, X)), not logits and not the covered probability alone."
)
HINT_SAL_LOGIT = (
    "Differentiate the target's logit, not its softmax probability and not the sum of all "
    "logits: make x a Tensor with requires_grad=True and call backward() on logits[target]."
)
HINT_SAL_GXI = (
    "grad_x_input is the gradient of the target's logit (not of its probability) multiplied by x "
    "element by element."
)
HINT_SAL_BATCH = (
    "For a batch (N, D), pick logit target[n] of row n (an int target means the same class for "
    "every row), sum them and backpropagate once: rows do not interact."
)
HINT_DEL = (
    "Per image, choose among its nonzero pixels only the int(frac * m) with the highest scores "
    "(ties: lower index first), set them to 0, and average p(true) before minus after."
)
HINT_DEL_STROKE = "Pixels that are already 0 are never chosen, whatever their scores."
HINT_AM = (
    "Each step: x = x + lr * (gradient - l2 * x) (ascent: plus), then blur on steps blur_every, "
    "2*blur_every, ..., then clip into the box, inside the loop."
)
HINT_AM_L2 = "The penalty -(l2/2)||x||^2 has gradient -l2 * x: subtract l2 * x from the gradient."
HINT_AM_CLIP = "Clip after every step (not only at the end); clip=None means no box at all."
HINT_UNTOUCHED = "Work on a copy (np.array(x, dtype=float)) and leave the caller's array alone."


# ============================================================================== drivers (sandbox)
# Drivers run in the sandbox with the student's namespace `ns` (and in this process with the
# reference's). They compute; they never judge. Each is self-contained.


def drive_top_k(ns, sizes, params, X, layer, unit, k):
    from nnlite import nn

    model = nn.MLP(sizes, seed=0)
    for p, v in zip(model.parameters(), params, strict=True):
        p.data[...] = v
    got = ns["top_k_activating"](model.eval(), X, layer, unit, k)
    return np.asarray(got)


def drive_top_k_raises(ns, sizes, params, X, k):
    from nnlite import nn

    model = nn.MLP(sizes, seed=0)
    for p, v in zip(model.parameters(), params, strict=True):
        p.data[...] = v
    try:
        ns["top_k_activating"](model.eval(), X, 1, 0, k)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        return [c.__name__ for c in type(exc).__mro__]
    return []


def drive_occlusion(ns, sizes, params, bias, x, target, patch, stride, fill):
    from nnlite import nn

    model = nn.MLP(sizes, seed=0, bias=bias)
    for p, v in zip(model.parameters(), params, strict=True):
        p.data[...] = v
    before = x.copy()
    got = ns["occlusion_map"](model.eval(), x, target, patch=patch, stride=stride, fill=fill)
    return np.asarray(got, dtype=np.float64), bool(np.array_equal(x, before))


def drive_saliency(ns, sizes, params, bias, x, target, method):
    from nnlite import nn

    model = nn.MLP(sizes, seed=0, bias=bias)
    for p, v in zip(model.parameters(), params, strict=True):
        p.data[...] = v
    before = np.array(x, copy=True)
    got = np.asarray(ns["saliency"](model.eval(), x, target, method=method))
    return got.astype(np.float64), got.dtype.name, bool(np.array_equal(x, before))


def drive_saliency_raises(ns, sizes, params, x):
    from nnlite import nn

    model = nn.MLP(sizes, seed=0)
    for p, v in zip(model.parameters(), params, strict=True):
        p.data[...] = v
    try:
        ns["saliency"](model.eval(), x, 0, method="smoothgrad")
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        return [c.__name__ for c in type(exc).__mro__]
    return []


def drive_deletion(ns, sizes, params, X, y, scores, frac):
    from nnlite import nn

    model = nn.MLP(sizes, seed=0)
    for p, v in zip(model.parameters(), params, strict=True):
        p.data[...] = v
    X0, s0 = X.copy(), scores.copy()
    got = ns["deletion_drop"](model.eval(), X, y, scores, frac)
    untouched = bool(np.array_equal(X, X0) and np.array_equal(scores, s0))
    return got, type(got).__qualname__, untouched


def drive_am(ns, sizes, params, bias, x0, picks, steps, lr, l2, blur_every, clip):
    """Maximise the sum of the logits picks[r] of rows r (a single row when x0 is 1-D)."""
    from nnlite import nn

    model = nn.MLP(sizes, seed=0, bias=bias)
    for p, v in zip(model.parameters(), params, strict=True):
        p.data[...] = v
    picks = np.asarray(picks)

    def objective(m, x):
        out = m(x)
        if out.ndim == 1:
            return out[int(picks)]
        return out[np.arange(len(picks)), picks].sum()

    before = np.array(x0, copy=True)
    clip = None if clip is None else tuple(clip)
    got = ns["activation_maximization"](
        model.eval(), objective, x0, steps, lr, l2=l2, blur_every=blur_every, clip=clip
    )
    return np.asarray(got, dtype=np.float64), bool(np.array_equal(x0, before))


# ============================================================================== inputs (parent)


def mlp_params(sizes, rng, scale=1.0, bias=True):
    out = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        out.append(rng.normal(0, scale, size=(n_out, n_in)))
        if bias:
            out.append(rng.normal(0, scale, size=n_out))
    return out


def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def forward(params, X, bias=True):
    """Logits of a ReLU MLP with these parameters (numpy, in the parent)."""
    h = np.asarray(X, dtype=np.float64)
    step = 2 if bias else 1
    layers = [params[i : i + step] for i in range(0, len(params), step)]
    for i, layer in enumerate(layers):
        h = h @ layer[0].T + (layer[1] if bias else 0.0)
        if i < len(layers) - 1:
            h = np.maximum(h, 0.0)
    return h


def sparse_images(rng, n, d, keep=0.5):
    return rng.random((n, d)) * (rng.random((n, d)) < keep)


def as_indices(got, k, what):
    arr = as_array(got, msg=what)
    if arr.shape != (k,):
        fail(f"{what}: wrong shape, expected ({k},)")
    return arr


# ===================================================================== 1. top_k_activating (2)


@pytest.mark.exercise("top_k_activating")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_TOPK_ORDER)
def test_top_k_hidden_units(student, reference, rng):
    """top-k rows of several hidden units of a 7-5-3 network equal the reference"""
    sizes = [7, 5, 3]
    params, X = mlp_params(sizes, rng), rng.normal(size=(23, 7))
    for unit, k in ((0, 4), (3, 9), (4, 1)):
        got = as_indices(student.run(drive_top_k, sizes, params, X, 1, unit, k), k, "indices")
        want = reference.run(drive_top_k, sizes, params, X, 1, unit, k)
        assert_equal(got, want.astype(np.float64), msg=f"top {k} of unit {unit}")


@pytest.mark.exercise("top_k_activating")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_TOPK_ORDER)
def test_top_k_ties_keep_the_lower_index_first(student, reference, rng):
    """a unit that is 0 on most rows: the tied rows come in index order, also when k cuts them"""
    sizes = [6, 4, 3]
    params = mlp_params(sizes, rng)
    X = rng.normal(size=(20, 6))
    params[1][2] = -np.sort(X @ params[0][2])[-6]  # unit 2 is active on 5 rows, 0 on the rest
    for k in (20, 7):
        got = as_indices(student.run(drive_top_k, sizes, params, X, 1, 2, k), k, "indices")
        want = reference.run(drive_top_k, sizes, params, X, 1, 2, k)
        assert_equal(got, want.astype(np.float64), msg=f"top {k} with ties")


@pytest.mark.exercise("top_k_activating")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_TOPK_LAYER)
def test_top_k_other_layers(student, reference, rng):
    """layer 0 (before the ReLU), layer -1 (the logits) and layer -2 (= layer 1)"""
    sizes = [5, 6, 4]
    params, X = mlp_params(sizes, rng), rng.normal(size=(17, 5))
    for layer, unit in ((0, 1), (-1, 3), (-2, 5), (2, 0)):
        got = as_indices(student.run(drive_top_k, sizes, params, X, layer, unit, 6), 6, "indices")
        want = reference.run(drive_top_k, sizes, params, X, layer, unit, 6)
        assert_equal(got, want.astype(np.float64), msg=f"layer {layer}, unit {unit}")


@pytest.mark.exercise("top_k_activating")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_TOPK_K)
def test_top_k_edge_k(student, rng):
    """k = 0 gives shape (0,); k = N + 1 raises ValueError; integer inputs are accepted"""
    sizes = [4, 3, 2]
    params = mlp_params(sizes, rng)
    X = rng.integers(-3, 4, size=(8, 4))
    got = as_array(student.run(drive_top_k, sizes, params, X, 1, 0, 0), msg="k = 0")
    assert_equal(got.shape, (0,), msg="shape for k = 0", public=True)
    want = np.argsort(-np.maximum(X @ params[0].T + params[1], 0)[:, 1], kind="stable")[:3]
    got = as_indices(student.run(drive_top_k, sizes, params, X, 1, 1, 3), 3, "integer X")
    assert_equal(got, want.astype(np.float64), msg="top 3 for integer X")
    names = student.run(drive_top_k_raises, sizes, params, X.astype(float), 9)
    assert_true("ValueError" in names, "k larger than the number of rows should raise ValueError")


# ======================================================================== 2. occlusion_map (3)


@pytest.mark.exercise("occlusion_map")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_OCC)
def test_occlusion_non_square_image(student, reference, rng):
    """a 6 x 9 image, patch 3, stride 2, fill 0.5: a (2, 4) map equal to the reference"""
    sizes = [54, 7, 4]
    params, x = mlp_params(sizes, rng, scale=0.6), rng.random((6, 9))
    args = (sizes, params, True, x, 2, 3, 2, 0.5)
    got, _ = student.run(drive_occlusion, *args)
    want, _ = reference.run(drive_occlusion, *args)
    assert_close(got, want, rtol=1e-9, atol=1e-12, msg="occlusion map")


@pytest.mark.exercise("occlusion_map")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_OCC_PROB)
def test_occlusion_full_cover_is_the_fill_image(student, rng):
    """a 5 x 5 occluder on a 5 x 5 image: p(target | x) - p(target | fill image), shape (1, 1)"""
    sizes = [25, 3]
    params, x = mlp_params(sizes, rng), rng.random((5, 5))
    got, _ = student.run(drive_occlusion, sizes, params, True, x, 1, 5, 1, 0.25)
    p = softmax(forward(params, np.stack([x.ravel(), np.full(25, 0.25)])))[:, 1]
    assert_close(got, [[p[0] - p[1]]], rtol=1e-9, atol=1e-12, msg="full-cover occlusion")


@pytest.mark.exercise("occlusion_map")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_OCC)
def test_occlusion_positions(student, rng):
    """patch 2 / stride 3 on a 7 x 10 image and patch 1 / stride 1: every entry, by brute force"""
    sizes = [70, 5]
    params = mlp_params(sizes, rng, scale=0.5)
    x = rng.random((7, 10))
    p0 = softmax(forward(params, x.reshape(1, -1)))[0, 3]
    for patch, stride in ((2, 3), (1, 1)):
        got, _ = student.run(drive_occlusion, sizes, params, True, x, 3, patch, stride, 0.0)
        rows = range(0, 7 - patch + 1, stride)
        cols = range(0, 10 - patch + 1, stride)
        want = np.zeros((len(rows), len(cols)))
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                xo = x.copy()
                xo[r : r + patch, c : c + patch] = 0.0
                want[i, j] = p0 - softmax(forward(params, xo.reshape(1, -1)))[0, 3]
        assert_close(got, want, rtol=1e-9, atol=1e-12, msg=f"patch {patch}, stride {stride}")


@pytest.mark.exercise("occlusion_map")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_OCC_PROB)
def test_occlusion_saturated_network(student, reference, rng):
    """a confident network (large logits): drops in probability, within [-1, 1]"""
    sizes = [48, 6, 3]
    params, x = mlp_params(sizes, rng, scale=3.0), rng.random((8, 6))
    args = (sizes, params, True, x, 0, 4, 2, 1.0)
    got, untouched = student.run(drive_occlusion, *args)
    want, _ = reference.run(drive_occlusion, *args)
    assert_close(got, want, rtol=1e-8, atol=1e-12, msg="occlusion map")
    assert_true(untouched, "occlusion_map modified the image x", hint=HINT_UNTOUCHED)


# ============================================================================= 3. saliency (3)


@pytest.mark.exercise("saliency")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_SAL_LOGIT)
def test_saliency_of_a_linear_model(student, rng):
    """linear model: the gradient of logit t is W[t], for one input and for a batch"""
    sizes = [9, 4]
    params = mlp_params(sizes, rng)
    W = params[0]
    got, _, _ = student.run(drive_saliency, sizes, params, True, rng.normal(size=9), 3, "grad")
    assert_close(got, W[3], rtol=1e-10, atol=1e-12, msg="gradient, one input")
    t = np.array([0, 3, 1, 1, 2])
    got, _, _ = student.run(drive_saliency, sizes, params, True, rng.normal(size=(5, 9)), t, "grad")
    assert_close(got, W[t], rtol=1e-10, atol=1e-12, msg="gradient, a batch", hint=HINT_SAL_BATCH)


@pytest.mark.exercise("saliency")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_SAL_GXI)
def test_saliency_euler_for_a_bias_free_relu_net(student, rng):
    """bias-free ReLU net: each row of grad × input sums to that row's target logit"""
    sizes = [8, 7, 5, 3]
    params, X = mlp_params(sizes, rng, bias=False), rng.normal(size=(6, 8))
    t = np.array([0, 1, 2, 2, 1, 0])
    got, _, _ = student.run(drive_saliency, sizes, params, False, X, t, "grad_x_input")
    got = as_array(got, msg="grad × input")
    if got.shape != X.shape:
        fail("grad × input: wrong shape, expected the shape of x")
    logits = forward(params, X, bias=False)[np.arange(6), t]
    assert_close(got.sum(axis=1), logits, rtol=1e-9, atol=1e-12, msg="row sums of grad × input")


@pytest.mark.exercise("saliency")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_SAL_LOGIT)
def test_saliency_matches_the_reference(student, reference, rng):
    """a 10-6-4 network with biases, both methods, one input, a batch and an int target"""
    sizes = [10, 6, 4]
    params = mlp_params(sizes, rng)
    cases = [(rng.normal(size=10), 2), (rng.normal(size=(5, 10)), np.array([3, 0, 1, 1, 2])),
             (rng.normal(size=(3, 10)), 1)]  # fmt: skip
    for x, t in cases:
        for method in ("grad", "grad_x_input"):
            got, _, _ = student.run(drive_saliency, sizes, params, True, x, t, method)
            want, _, _ = reference.run(drive_saliency, sizes, params, True, x, t, method)
            assert_close(got, want, rtol=1e-9, atol=1e-12, msg=f"{method}, x of shape {x.shape}")


@pytest.mark.exercise("saliency")
@pytest.mark.points(0.5)
@pytest.mark.hint("Convert x to float64; leave it unchanged; an unknown method raises ValueError.")
def test_saliency_edge_cases(student, rng):
    """integer x gives float64; x is not modified; a zero input has zero grad × input; bad method"""
    sizes = [6, 5, 3]
    params = mlp_params(sizes, rng)
    xi = rng.integers(-2, 3, size=(4, 6))
    got, dtype, untouched = student.run(drive_saliency, sizes, params, True, xi, 1, "grad")
    assert_equal(dtype, "float64", msg="dtype for integer x", kind="dtype")
    assert_true(untouched, "saliency modified x", hint=HINT_UNTOUCHED)
    got, _, _ = student.run(drive_saliency, sizes, params, True, np.zeros(6), 2, "grad_x_input")
    assert_close(got, np.zeros(6), atol=0, msg="grad × input of a zero input")
    names = student.run(drive_saliency_raises, sizes, params, rng.normal(size=6))
    assert_true("ValueError" in names, "an unknown method should raise ValueError")


# ========================================================================= 4. deletion_drop (3)


@pytest.mark.exercise("deletion_drop")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_DEL)
def test_deletion_matches_the_reference(student, reference, rng):
    """12 sparse 5 x 4 images, fractions 0.1, 0.3 and 0.75"""
    sizes = [20, 6, 3]
    params = mlp_params(sizes, rng, scale=1.5)
    X, y = sparse_images(rng, 12, 20), rng.integers(0, 3, size=12)
    scores = rng.normal(size=(12, 20))
    for frac in (0.1, 0.3, 0.75):
        got, _, _ = student.run(drive_deletion, sizes, params, X, y, scores, frac)
        want, _, _ = reference.run(drive_deletion, sizes, params, X, y, scores, frac)
        assert_close(got, want, rtol=1e-9, atol=1e-12, msg=f"frac {frac}")


@pytest.mark.exercise("deletion_drop")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_DEL)
def test_deletion_frac_zero_and_one(student, rng):
    """frac = 0 gives 0.0 (a float); frac = 1 gives the mean of p(x) - p(blank image)"""
    sizes = [12, 5, 4]
    params = mlp_params(sizes, rng, scale=1.5)
    X, y = sparse_images(rng, 7, 12), rng.integers(0, 4, size=7)
    scores = rng.normal(size=(7, 12))
    got, type_name, untouched = student.run(drive_deletion, sizes, params, X, y, scores, 0.0)
    assert_close(got, 0.0, atol=1e-15, msg="frac = 0")
    assert_true(type_name in ("float", "float64"), "deletion_drop should return a float")
    assert_true(untouched, "deletion_drop modified X or scores", hint=HINT_UNTOUCHED)
    got, _, _ = student.run(drive_deletion, sizes, params, X, y, scores, 1.0)
    rows = np.arange(7)
    p = softmax(forward(params, X))[rows, y]
    p0 = softmax(forward(params, np.zeros_like(X)))[rows, y]
    assert_close(got, np.mean(p - p0), rtol=1e-9, atol=1e-12, msg="frac = 1")


@pytest.mark.exercise("deletion_drop")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_DEL_STROKE)
def test_deletion_only_stroke_pixels(student, rng):
    """the top scores sit on background pixels: only nonzero pixels may be deleted"""
    sizes = [16, 6, 3]
    params = mlp_params(sizes, rng, scale=1.5)
    X, y = sparse_images(rng, 9, 16, keep=0.4), rng.integers(0, 3, size=9)
    scores = rng.normal(size=(9, 16))
    scores[X == 0] += 10.0
    frac = 0.5
    got, _, _ = student.run(drive_deletion, sizes, params, X, y, scores, frac)
    deleted = X.copy()
    for n in range(9):
        stroke = np.flatnonzero(X[n])
        top = stroke[np.argsort(-scores[n, stroke], kind="stable")[: int(frac * len(stroke))]]
        deleted[n, top] = 0.0
    rows = np.arange(9)
    want = np.mean(
        softmax(forward(params, X))[rows, y] - softmax(forward(params, deleted))[rows, y]
    )
    assert_close(got, want, rtol=1e-9, atol=1e-12, msg="deletion among stroke pixels")


@pytest.mark.exercise("deletion_drop")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_DEL)
def test_deletion_ties_and_rounding_down(student, reference, rng):
    """equal scores delete the lower-index stroke pixels first; int(frac * m) rounds down"""
    sizes = [15, 5, 3]
    params = mlp_params(sizes, rng, scale=1.5)
    X, y = sparse_images(rng, 8, 15, keep=0.6), rng.integers(0, 3, size=8)
    scores = np.round(rng.normal(size=(8, 15)))  # many ties
    for frac in (0.34, 0.66):
        got, _, _ = student.run(drive_deletion, sizes, params, X, y, scores, frac)
        want, _, _ = reference.run(drive_deletion, sizes, params, X, y, scores, frac)
        assert_close(got, want, rtol=1e-9, atol=1e-12, msg=f"frac {frac} with tied scores")


# ============================================================ 5. activation_maximization (4)


@pytest.mark.exercise("activation_maximization")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_AM_L2)
def test_am_linear_unit_converges_to_w_over_l2(student, rng):
    """a linear unit, L2 penalty 0.4, no box: x* = w / 0.4 (cosine with w >= 0.999 and equal)"""
    w = rng.normal(size=(1, 11))
    got, untouched = student.run(
        drive_am, [11, 1], [w, np.zeros(1)], True, np.zeros(11), 0, 400, 0.25, 0.4, 0, None
    )
    got = as_array(got, msg="x")
    if got.shape != (11,):
        fail("x: wrong shape, expected the shape of x0 (11,)")
    cos = float(got @ w[0] / (np.linalg.norm(got) * np.linalg.norm(w) + 1e-300))
    assert_true(cos >= 0.999, "the result does not point along w", hint=HINT_AM)
    assert_close(got, w[0] / 0.4, rtol=1e-6, atol=1e-9, msg="the optimum")
    assert_true(untouched, "activation_maximization modified x0", hint=HINT_UNTOUCHED)


@pytest.mark.exercise("activation_maximization")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_AM)
def test_am_iterates_match_the_reference(student, reference, rng):
    """a 9-6-4 ReLU net, a batch of 3 rows, box [0, 1], 1, 2 and 5 steps"""
    sizes = [9, 6, 4]
    params = mlp_params(sizes, rng)
    x0 = rng.random((3, 9))
    for steps in (1, 2, 5):
        args = (sizes, params, True, x0, [0, 3, 1], steps, 0.05, 0.1, 0, (0.0, 1.0))
        got, _ = student.run(drive_am, *args)
        want, _ = reference.run(drive_am, *args)
        assert_close(got, want, rtol=1e-9, atol=1e-12, msg=f"x after {steps} steps")


@pytest.mark.exercise("activation_maximization")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_AM)
def test_am_blur_schedule(student, reference, rng):
    """blur every 3rd step of 7, on 4 x 4 images; and blur_every = 0 never blurs"""
    sizes = [16, 5, 3]
    params = mlp_params(sizes, rng)
    x0 = rng.random((2, 16))
    for blur_every in (3, 0):
        args = (sizes, params, True, x0, [2, 0], 7, 0.1, 0.05, blur_every, (0.0, 1.0))
        got, _ = student.run(drive_am, *args)
        want, _ = reference.run(drive_am, *args)
        assert_close(got, want, rtol=1e-9, atol=1e-12, msg=f"blur_every={blur_every}")


@pytest.mark.exercise("activation_maximization")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_AM_CLIP)
def test_am_box(student, reference, rng):
    """box (-0.2, 0.3) is kept after every step; clip=None leaves x unbounded"""
    sizes = [8, 5, 3]
    params = mlp_params(sizes, rng, scale=2.0)
    x0 = rng.uniform(-0.2, 0.3, size=8)
    args = (sizes, params, True, x0, 1, 6, 0.2, 0.0, 0, (-0.2, 0.3))
    got, _ = student.run(drive_am, *args)
    got = as_array(got, msg="x")
    assert_true(got.shape == (8,) and got.min() >= -0.2 and got.max() <= 0.3, "x left the box")
    assert_close(got, reference.run(drive_am, *args)[0], rtol=1e-9, atol=1e-12, msg="boxed x")
    args = (sizes, params, True, x0, 1, 6, 0.2, 0.0, 0, None)
    got, _ = student.run(drive_am, *args)
    assert_close(got, reference.run(drive_am, *args)[0], rtol=1e-9, atol=1e-12, msg="no box")


@pytest.mark.exercise("activation_maximization")
@pytest.mark.points(0.5)
@pytest.mark.hint("steps = 0 returns a float64 copy of x0; x0 itself is never modified.")
def test_am_zero_steps_and_integer_start(student):
    """steps = 0 returns x0 as float64 (an integer x0 too), unmodified"""
    sizes = [4, 3, 2]
    params = mlp_params(sizes, np.random.default_rng(5))
    x0 = np.array([[0, 1, 2, 1], [1, 0, 0, 3]])
    got, untouched = student.run(drive_am, sizes, params, True, x0, [0, 1], 0, 0.1, 0.0, 0, None)
    assert_close(got, x0.astype(float), atol=0, msg="x after 0 steps")
    assert_true(untouched, "activation_maximization modified x0", hint=HINT_UNTOUCHED)
