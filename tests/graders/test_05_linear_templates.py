"""Hidden grader of lesson 05, "Linear-classifier weights are class templates".

Every test scores one exercise (``@pytest.mark.exercise``) and compares the student's answer,
computed in the sandbox, with the solution notebook's answer (``reference``) or with an exact
value, in this trusted process. The exercises do not call each other, so each is graded on its
own. No test trains on MNIST: inputs are tiny and synthetic, chosen non-square (C != D,
C != K, N != D) so that a swapped axis or a transposed result cannot pass.

Points per exercise add up to the points of the exercise cell in the notebook. The plain tests
at the end (no exercise marker) are ignored by the grader; in CI they check the reference against
nnlite's own implementations and numpy's covariance.
"""

from __future__ import annotations

import numpy as np
import pytest

from nnlite.grading import assert_close, assert_equal, assert_shape, assert_true, fail
from nnlite.grading.compare import as_array

LESSON = "05_linear_templates"
EXERCISES = {
    "train_softmax_regression": ["train_softmax_regression"],
    "weights_to_image_grid": ["weights_to_image_grid"],
    "class_means": ["class_means"],
    "template_similarity": ["template_similarity"],
    "haufe_patterns": ["haufe_patterns"],
}
# R13: nnlite's own versions, out of reach while the exercise is graded (nnlite.grading.ownwork).
# viz's tile scaling and layout would make the grid exercise an import; lesson 04's cosines
# (nnlite.similarity, through its norm helpers) would make template_similarity one.
OWN_WORK = {
    "train_softmax_regression": [
        "nnlite.templates:train_softmax_regression",
        "nnlite.train:fit",
    ],
    "weights_to_image_grid": [
        "nnlite.templates:weights_to_image_grid",
        "nnlite.viz:_scale_tiles",
        "nnlite.viz:_layout",
    ],
    "class_means": ["nnlite.templates:class_means"],
    "template_similarity": [
        "nnlite.templates:template_similarity",
        "nnlite.templates:_unit_rows",
        "nnlite.similarity:_scaled",
        "nnlite.similarity:_inverse_clamped_norm",
    ],
    "haufe_patterns": ["nnlite.templates:haufe_patterns"],
}

HINT_ORDER = (
    "Make ONE generator rng = np.random.default_rng(seed) before the first epoch; every epoch "
    "draws order = rng.permutation(N) and takes consecutive slices of batch_size indices."
)
HINT_ZERO = "W and b start at exactly 0 (np.zeros), not at random values."
HINT_L2 = (
    "The penalty is (l2 / 2) * sum(W ** 2), on W only: its gradient is l2 * W, and the bias is "
    "not penalised."
)
HINT_MEAN_LOSS = "Use the MEAN cross-entropy over the batch (reduction 'mean'), not the sum."
HINT_RETURN = "Return (W.data.copy(), b.data.copy()): numpy float64 arrays (C, D) and (C,)."
HINT_GRID_SYM = (
    "symmetric=True: each tile by its OWN largest |w|, 0.5 + 0.5 * w / max|w|, so that weight 0 "
    "is mid-grey 0.5; not min-max scaling, not one scale for all tiles."
)
HINT_GRID_LAYOUT = (
    "Tile i goes to grid row i // ncols, column i % ncols, at rows r*(h+1) .. r*(h+1)+h-1 and "
    "columns c*(w+1) .. c*(w+1)+w-1; separators and unused cells stay NaN."
)
HINT_GRID_MINMAX = "symmetric=False: (w - min) / (max - min) of each tile; a constant tile is 0.5."
HINT_MEANS = "Row k is X[y == k].mean(axis=0): divide by the number of examples of class k."
HINT_EMPTY = "Raise ValueError naming the class (e.g. 'class 3 has no examples') yourself."
HINT_CENTRE_W = (
    "Subtract the mean weight row, W.mean(axis=0), from every row of W before the cosine: "
    "softmax ignores a vector added to every row."
)
HINT_CENTRE_M = "Subtract X_mean (default M.mean(axis=0)) from every row of M before the cosine."
HINT_COSINE = "Divide each dot product by both norms, each clamped: max(norm, 1e-8)."
HINT_OVERFLOW = (
    "Compute the norms without overflow or underflow: divide each row by its largest |entry| "
    "first, then multiply the norm back."
)
HINT_HAUFE = (
    "A = (Cov(X) @ W.T).T with X centred by its column means: (Xc @ W.T).T @ Xc / (N - 1). "
    "The covariance, not its inverse."
)
HINT_CENTRE_X = "Centre X by its column means (X - X.mean(axis=0)) before the products."
HINT_UNBIASED = "The unbiased covariance divides by N - 1, like np.cov."


# ============================================================================== drivers (sandbox)


def drive_raises(ns, name, *args):
    """Call ns[name](*args); report whether it raised, the exception's class names and text."""
    try:
        ns[name](*args)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        return "raised", [c.__name__ for c in type(exc).__mro__], str(exc)[:500]
    return "returned", [], ""


# ============================================================================== helpers (parent)


def raised_value_error(got, what, mentions=()):
    """Fail unless the driver reported a ValueError whose text contains every `mentions`."""
    status, names, message = got
    if status != "raised":
        fail(f"{what} did not raise")
    assert_true("ValueError" in names, f"{what} should raise ValueError")
    for text in mentions:
        assert_true(text in message, f"the error for {what} should name {text}")


def pair(got, what):
    """The student's answer as two arrays (W, b)."""
    if not isinstance(got, list | tuple) or len(got) != 2:
        fail(f"{what}: expected a tuple (W, b)")
    return got[0], got[1]


def toy(rng, n=30, d=7, c=3, scale=1.0):
    """A small classification set with an input column that is 0 in every example."""
    y = np.arange(n) % c
    rng.shuffle(y)
    X = scale * rng.normal(size=(n, d)) + 2.0 * np.eye(c, d)[y]
    X[:, 3] = 0.0
    return X, y


# ================================================================ 1. train_softmax_regression (5)


@pytest.mark.exercise("train_softmax_regression")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_RETURN)
def test_train_shapes(student, rng):
    """returns numpy (W, b) of shapes (C, D) and (C,), finite"""
    X, y = toy(rng, n=20, d=6, c=4)
    W, b = pair(student.train_softmax_regression(X, y, 4, 0.1, 2, 8), "the result")
    assert_shape(W, (4, 6), msg="W", public=True)
    assert_shape(b, (4,), msg="b", public=True)
    assert_true(np.all(np.isfinite(as_array(W))), "W contains NaN or inf")


@pytest.mark.exercise("train_softmax_regression")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_ZERO)
def test_train_zero_epochs(student, rng):
    """epochs=0 returns the zero initialisation"""
    X, y = toy(rng)
    got = student.train_softmax_regression(X, y, 3, 0.1, 0, 8)
    assert_close(got, (np.zeros((3, 7)), np.zeros(3)), rtol=0, atol=0, public=True)


@pytest.mark.exercise("train_softmax_regression")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_ORDER)
def test_train_matches_reference(student, reference, rng):
    """three epochs of minibatch SGD (the last batch smaller) give the reference's weights"""
    X, y = toy(rng)
    args = (X, y, 3, 0.3, 3, 7, 0.0, 11)
    got = student.train_softmax_regression(*args)
    assert_close(got, reference.train_softmax_regression(*args), rtol=1e-8, atol=1e-10)


@pytest.mark.exercise("train_softmax_regression")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_L2)
def test_train_with_l2_matches_reference(student, reference, rng):
    """with an L2 penalty the weights equal the reference's"""
    X, y = toy(rng)
    args = (X, y, 3, 0.3, 3, 7, 0.2, 4)
    got = student.train_softmax_regression(*args)
    assert_close(got, reference.train_softmax_regression(*args), rtol=1e-8, atol=1e-10)


@pytest.mark.exercise("train_softmax_regression")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_MEAN_LOSS)
def test_train_batch_edge_cases(student, reference, rng):
    """batch_size 1 and batch_size larger than N give the reference's weights"""
    X, y = toy(rng, n=12, d=5, c=2)
    for batch in (1, 50):
        args = (X, y, 2, 0.2, 2, batch, 0.0, 3)
        got = student.train_softmax_regression(*args)
        want = reference.train_softmax_regression(*args)
        assert_close(got, want, rtol=1e-8, atol=1e-10, msg=f"batch_size={batch}")


@pytest.mark.exercise("train_softmax_regression")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_ZERO)
def test_train_invariants(student, rng):
    """the weights move, their columns sum to 0, and an always-zero input keeps weight 0"""
    X, y = toy(rng, n=40)
    W, b = pair(student.train_softmax_regression(X, y, 3, 0.5, 4, 6, 0.01, 2), "the result")
    W, b = as_array(W, msg="W"), as_array(b, msg="b")
    assert_shape(W, (3, 7), msg="W", public=True)
    assert_true(np.abs(W).max() > 1e-3, "the weights did not move from zero")
    assert_true(np.abs(W.sum(axis=0)).max() < 1e-12, "the columns of W do not sum to 0")
    assert_true(np.all(W[:, 3] == 0.0), "the weights of an input that is always 0 moved")


@pytest.mark.exercise("train_softmax_regression")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_ORDER)
def test_train_seeded(student, rng):
    """the same seed gives the same weights, another seed other weights"""
    X, y = toy(rng)
    a = student.train_softmax_regression(X, y, 3, 0.3, 2, 4, 0.0, 5)
    b = student.train_softmax_regression(X, y, 3, 0.3, 2, 4, 0.0, 5)
    c = student.train_softmax_regression(X, y, 3, 0.3, 2, 4, 0.0, 6)
    Wa, Wb, Wc = (as_array(pair(r, "the result")[0], msg="W") for r in (a, b, c))
    assert_close(Wb, Wa, rtol=0, atol=0, msg="the same seed twice")
    assert_true(Wa.shape != Wc.shape or not np.array_equal(Wa, Wc), "seeds 5 and 6 gave equal W")


@pytest.mark.exercise("train_softmax_regression")
@pytest.mark.points(0.5)
@pytest.mark.hint("Train on the whole data: every epoch visits every example once.")
def test_train_separable(student, rng):
    """a linearly separable set (integer inputs) is fitted perfectly"""
    y = np.repeat(np.arange(3), 10)
    X = (5 * np.eye(3, 4)[y] + rng.integers(0, 2, size=(30, 4))).astype(np.int64)
    W, b = pair(student.train_softmax_regression(X, y, 3, 0.5, 20, 5), "the result")
    W, b = as_array(W, msg="W"), as_array(b, msg="b")
    assert_shape(W, (3, 4), msg="W", public=True)
    assert_shape(b, (3,), msg="b", public=True)
    assert_equal(float(np.mean((X @ W.T + b).argmax(axis=1) == y)), 1.0, msg="training accuracy")


@pytest.mark.exercise("train_softmax_regression")
@pytest.mark.points(0.25)
@pytest.mark.hint("Check y.shape == (len(X),) and raise ValueError naming both shapes.")
def test_train_rejects_mismatched_labels(student, rng):
    """y with fewer labels than X has rows raises ValueError naming both shapes"""
    X, y = toy(rng, n=10)
    got = student.run(drive_raises, "train_softmax_regression", X, y[:-1], 3, 0.1, 1, 4)
    raised_value_error(got, "y of the wrong length", mentions=("(10, 7)", "(9,)"))


# ================================================================== 2. weights_to_image_grid (4)


@pytest.mark.exercise("weights_to_image_grid")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_GRID_LAYOUT)
def test_grid_layout(student, reference, rng):
    """grid shape, NaN separators and unused cells, for 7, 6 and 1 tiles"""
    for n in (7, 6, 1):
        W = rng.normal(size=(n, 6))
        got = student.weights_to_image_grid(W, (2, 3), 3, True)
        want = reference.weights_to_image_grid(W, (2, 3), 3, True)
        assert_shape(got, want.shape, msg=f"grid of {n} tiles", public=True)
        assert_true(
            np.array_equal(np.isnan(as_array(got)), np.isnan(want)),
            f"grid of {n} tiles: NaN (separators, unused cells) in the wrong places",
        )


@pytest.mark.exercise("weights_to_image_grid")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_GRID_SYM)
def test_grid_symmetric_values(student, reference, rng):
    """symmetric scaling of tiles with very different sizes equals the reference"""
    W = rng.normal(size=(5, 12)) * np.array([[1e-3], [1.0], [50.0], [1e4], [3.0]])
    got = student.weights_to_image_grid(W, (3, 4), 2, True)
    want = reference.weights_to_image_grid(W, (3, 4), 2, True)
    assert_close(got, want, rtol=1e-12, atol=1e-14, equal_nan=True)


@pytest.mark.exercise("weights_to_image_grid")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_GRID_SYM)
def test_grid_zero_is_mid_grey(student, rng):
    """weight 0 becomes 0.5 and every tile reaches 0 or 1 (symmetric limits)"""
    W = rng.normal(size=(4, 9)) + 0.5  # mostly positive: min-max would move 0 off 0.5
    W[:, 4] = 0.0
    G = as_array(student.weights_to_image_grid(W, (3, 3), 4, True), msg="grid")
    assert_shape(G, (3, 15), msg="grid", public=True)
    tiles = [G[:, 4 * i : 4 * i + 3] for i in range(4)]
    assert_true(all(t[1, 1] == 0.5 for t in tiles), "a weight of 0 is not exactly 0.5")
    assert_true(
        all(np.isclose(np.abs(2 * t - 1).max(), 1.0) for t in tiles),
        "a tile's largest |w| does not reach 0 or 1",
    )


@pytest.mark.exercise("weights_to_image_grid")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_GRID_MINMAX)
def test_grid_min_max(student, reference, rng):
    """symmetric=False min-max scales each tile"""
    W = rng.normal(size=(3, 6)) * np.array([[1.0], [10.0], [0.1]]) + 2.0
    got = student.weights_to_image_grid(W, (2, 3), 2, False)
    want = reference.weights_to_image_grid(W, (2, 3), 2, False)
    assert_close(got, want, rtol=1e-12, atol=1e-14, equal_nan=True)


@pytest.mark.exercise("weights_to_image_grid")
@pytest.mark.points(0.5)
@pytest.mark.hint("A tile whose values are all equal (all 0 included) becomes 0.5, not NaN.")
def test_grid_constant_tiles(student, reference):
    """all-zero and constant tiles, in both modes"""
    W = np.array([[0.0] * 4, [2.0] * 4, [-3.0] * 4, [1.0, 2.0, 3.0, 4.0]])
    for sym in (True, False):
        got = student.weights_to_image_grid(W, (2, 2), 4, sym)
        want = reference.weights_to_image_grid(W, (2, 2), 4, sym)
        assert_close(got, want, rtol=1e-12, equal_nan=True, msg=f"symmetric={sym}")


@pytest.mark.exercise("weights_to_image_grid")
@pytest.mark.points(0.5)
@pytest.mark.hint("Reshape each row to (h, w) in row-major order (np.reshape's default).")
def test_grid_non_square_tiles(student, reference):
    """non-square tiles (3, 4) keep the row-major pixel order"""
    W = np.arange(24.0).reshape(2, 12) - 5.0
    got = student.weights_to_image_grid(W, (3, 4), 1, True)
    want = reference.weights_to_image_grid(W, (3, 4), 1, True)
    assert_close(got, want, rtol=1e-12, equal_nan=True)


# ============================================================================ 3. class_means (3)


@pytest.mark.exercise("class_means")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_MEANS)
def test_means_values(student, reference, rng):
    """unbalanced, unsorted classes: the means equal the reference"""
    y = rng.permutation(np.array([0] * 2 + [1] * 7 + [2] * 1 + [3] * 5))
    X = rng.normal(size=(15, 6)) + y[:, None]
    got = student.class_means(X, y, 4)
    assert_close(got, reference.class_means(X, y, 4), rtol=1e-12, atol=1e-14)


@pytest.mark.exercise("class_means")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_EMPTY)
def test_means_empty_class(student, rng):
    """a class without examples raises ValueError naming it"""
    y = np.array([0, 1, 3, 3, 0, 1])
    X = rng.normal(size=(6, 3))
    raised_value_error(student.run(drive_raises, "class_means", X, y, 4), "class 2", ("2",))
    raised_value_error(
        student.run(drive_raises, "class_means", X, y, 5), "classes 2 and 4 without examples"
    )


@pytest.mark.exercise("class_means")
@pytest.mark.points(0.25)
@pytest.mark.hint("Check every label: 0 <= y < n_classes, else raise ValueError naming it.")
def test_means_label_out_of_range(student, rng):
    """a label >= n_classes raises ValueError"""
    X, y = rng.normal(size=(5, 2)), np.array([0, 1, 2, 1, 0])
    raised_value_error(student.run(drive_raises, "class_means", X, y, 2), "label 2 of 2 classes")


@pytest.mark.exercise("class_means")
@pytest.mark.points(0.5)
@pytest.mark.hint("float32 X gives float32 means; integer X gives float64 means.")
def test_means_dtypes(student, reference, rng):
    """float32 stays float32; integers give float64"""
    y = np.array([1, 0, 1, 2, 2, 0])
    X32 = rng.normal(size=(6, 3)).astype(np.float32)
    got = student.class_means(X32, y, 3)
    assert_close(got, reference.class_means(X32, y, 3), rtol=1e-5, dtype=np.float32)
    Xi = rng.integers(0, 255, size=(6, 3))
    got = student.class_means(Xi, y, 3)
    assert_close(got, reference.class_means(Xi, y, 3), rtol=1e-12, dtype=np.float64)


@pytest.mark.exercise("class_means")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_MEANS)
def test_means_edge_values(student, reference, rng):
    """one example per class, one feature, and a NaN that spoils only its own class"""
    X, y = np.array([[3.0], [-1.0]]), np.array([1, 0])
    assert_close(student.class_means(X, y, 2), np.array([[-1.0], [3.0]]), rtol=0)
    X = rng.normal(size=(6, 2))
    X[2, 1] = np.nan
    y = np.array([0, 1, 1, 0, 1, 0])
    got = student.class_means(X, y, 2)
    assert_close(got, reference.class_means(X, y, 2), rtol=1e-12, equal_nan=True)


# ==================================================================== 4. template_similarity (4)


@pytest.mark.exercise("template_similarity")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_CENTRE_W)
def test_similarity_values(student, reference, rng):
    """centred cosines of a (3, 8) W with a (5, 8) M and an X_mean"""
    W, M, mu = rng.normal(size=(3, 8)) + 1.0, rng.normal(size=(5, 8)) + 2.0, rng.normal(size=8)
    got = student.template_similarity(W, M, mu)
    assert_close(got, reference.template_similarity(W, M, mu), rtol=1e-9, atol=1e-12)


@pytest.mark.exercise("template_similarity")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_CENTRE_M)
def test_similarity_default_mean(student, reference, rng):
    """without X_mean, M is centred by its own mean; centred means match themselves"""
    M = rng.normal(size=(4, 6)) + 3.0
    got = student.template_similarity(M - M.mean(axis=0) + 5.0, M)
    assert_close(got, reference.template_similarity(M - M.mean(axis=0) + 5.0, M), rtol=1e-9)
    assert_close(np.diag(as_array(got)), np.ones(4), rtol=1e-9, msg="diagonal")


@pytest.mark.exercise("template_similarity")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_CENTRE_W)
def test_similarity_ignores_a_common_row(student, reference, rng):
    """adding one vector to every weight row changes nothing"""
    W, M, mu = rng.normal(size=(4, 5)), rng.normal(size=(3, 5)), np.zeros(5)
    moved = student.template_similarity(W + 10.0 * rng.normal(size=5), M, mu)
    want = reference.template_similarity(W, M, mu)
    assert_close(moved, want, rtol=1e-8, atol=1e-10, msg="S after adding a vector to every row")


@pytest.mark.exercise("template_similarity")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_COSINE)
def test_similarity_scale_invariant(student, reference, rng):
    """scaling W or M leaves the cosines unchanged and in [-1, 1]"""
    W, M, mu = rng.normal(size=(3, 6)), rng.normal(size=(2, 6)), rng.normal(size=6)
    want = reference.template_similarity(W, M, mu)
    got = student.template_similarity(1e3 * W, 0.01 * M, 0.01 * mu)
    assert_close(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.exercise("template_similarity")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_COSINE)
def test_similarity_zero_rows(student, reference, rng):
    """a weight row equal to the mean row and a class mean equal to X_mean give 0, not NaN"""
    W, M = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    W[1] = (W[0] + W[2]) / 2  # zero after centring
    mu = M[2].copy()  # M[2] - mu = 0
    got = student.template_similarity(W, M, mu)
    assert_close(got, reference.template_similarity(W, M, mu), rtol=1e-9, atol=1e-12)


@pytest.mark.exercise("template_similarity")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_OVERFLOW)
def test_similarity_extreme_scales(student, reference, rng):
    """entries of size 1e200 give the same cosines as size 1; size 1e-200 gives about 0"""
    W, M, mu = rng.normal(size=(2, 5)), rng.normal(size=(3, 5)), np.zeros(5)
    want = reference.template_similarity(W, M, mu)
    got = student.template_similarity(W * 1e200, M, mu)
    assert_close(got, want, rtol=1e-9, atol=1e-12, msg="W of size 1e200")
    # Norms below eps = 1e-8 are clamped (PyTorch): tiny class means give cosines near 0.
    got = student.template_similarity(W, M * 1e-200, mu)
    want = reference.template_similarity(W, M * 1e-200, mu)
    assert_close(got, want, rtol=1e-9, atol=1e-12, msg="M of size 1e-200")


@pytest.mark.exercise("template_similarity")
@pytest.mark.points(0.5)
@pytest.mark.hint(
    "Return a (C, K) array, one row per weight row and one column per class mean; a single "
    "weight row is all zero after centring, so its cosines are 0."
)
def test_similarity_shapes(student, rng):
    """non-square (1, 4) and empty (0, 2) results"""
    got = student.template_similarity(rng.normal(size=(1, 3)), rng.normal(size=(4, 3)))
    assert_shape(got, (1, 4), msg="S for one weight row", public=True)
    assert_close(got, np.zeros((1, 4)), rtol=0, atol=0, msg="one weight row is 0 after centring")
    got = student.template_similarity(np.zeros((0, 3)), rng.normal(size=(2, 3)))
    assert_shape(got, (0, 2), msg="S for no weight rows", public=True)


# ========================================================================= 5. haufe_patterns (4)


@pytest.mark.exercise("haufe_patterns")
@pytest.mark.points(1.5)
@pytest.mark.hint(HINT_HAUFE)
def test_haufe_values(student, rng):
    """equal to (np.cov(X, rowvar=False) @ W.T).T on data with an offset"""
    X = rng.normal(size=(13, 5)) @ rng.normal(size=(5, 5)) + 4.0
    W = rng.normal(size=(3, 5))
    got = student.haufe_patterns(X, W)
    assert_close(got, (np.cov(X, rowvar=False) @ W.T).T, rtol=1e-9, atol=1e-12)


@pytest.mark.exercise("haufe_patterns")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_CENTRE_X)
def test_haufe_centres(student, rng):
    """shifting X by a constant vector does not change the patterns"""
    X, W = rng.normal(size=(9, 4)), rng.normal(size=(2, 4))
    shifted = student.haufe_patterns(X + 100.0, W)
    want = (np.cov(X, rowvar=False) @ W.T).T
    assert_close(shifted, want, rtol=1e-8, atol=1e-10, msg="A of X + 100")


@pytest.mark.exercise("haufe_patterns")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_HAUFE)
def test_haufe_whitened(student, rng):
    """on whitened data (covariance I) the patterns equal the weights"""
    X = rng.normal(size=(40, 3)) @ rng.normal(size=(3, 3))
    Xc = X - X.mean(axis=0)
    lam, U = np.linalg.eigh(np.cov(Xc, rowvar=False))
    Z = Xc @ U / np.sqrt(lam) @ U.T  # ZCA: covariance exactly I
    W = rng.normal(size=(4, 3))
    assert_close(student.haufe_patterns(Z, W), W, rtol=1e-8, atol=1e-10)


@pytest.mark.exercise("haufe_patterns")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_UNBIASED)
def test_haufe_unbiased(student, rng):
    """three examples: the covariance divides by N - 1 = 2"""
    X, W = rng.normal(size=(3, 4)), rng.normal(size=(2, 4))
    assert_close(student.haufe_patterns(X, W), (np.cov(X, rowvar=False) @ W.T).T, rtol=1e-9)


@pytest.mark.exercise("haufe_patterns")
@pytest.mark.points(0.5)
@pytest.mark.hint("A 1-D W of length D is one weight vector: return one pattern of shape (D,).")
def test_haufe_vector_and_integers(student, rng):
    """a single weight vector (D,) and integer data"""
    X = rng.integers(0, 5, size=(7, 3))
    w = rng.normal(size=3)
    want = np.cov(X.astype(float), rowvar=False) @ w
    assert_close(student.haufe_patterns(X, w), want, rtol=1e-9, atol=1e-12)


@pytest.mark.exercise("haufe_patterns")
@pytest.mark.points(0.5)
@pytest.mark.hint("Raise ValueError for N < 2 and for rows of W that do not have D entries.")
def test_haufe_errors(student, rng):
    """one example, or weights of the wrong length, raise ValueError"""
    raised_value_error(
        student.run(drive_raises, "haufe_patterns", rng.normal(size=(1, 3)), np.ones((2, 3))),
        "a single example",
    )
    raised_value_error(
        student.run(drive_raises, "haufe_patterns", rng.normal(size=(5, 3)), np.ones((2, 4))),
        "W with rows of 4 for X with 3 columns",
        mentions=("(5, 3)", "(2, 4)"),
    )


# ============================================================ reference checks (not graded)


def test_reference_matches_nnlite(reference):
    """The solution's exercises agree with nnlite.templates (the lesson's fallbacks)."""
    from nnlite import templates

    rng = np.random.default_rng(0)
    X, y = toy(rng)
    for l2 in (0.0, 0.1):
        got = reference.train_softmax_regression(X, y, 3, 0.3, 3, 7, l2, 2)
        want = templates.train_softmax_regression(X, y, 3, 0.3, 3, 7, l2=l2, seed=2)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-10, atol=1e-12)
    W, M = rng.normal(size=(5, 12)), rng.normal(size=(4, 12))
    np.testing.assert_allclose(reference.class_means(X, y, 3), templates.class_means(X, y, 3))
    np.testing.assert_allclose(
        reference.template_similarity(W * 1e200, M), templates.template_similarity(W * 1e200, M)
    )
    np.testing.assert_allclose(reference.haufe_patterns(X, W[:3, :7]),
                               templates.haufe_patterns(X, W[:3, :7]))  # fmt: skip
    for sym in (True, False):
        np.testing.assert_array_equal(
            reference.weights_to_image_grid(W, (3, 4), 2, sym),
            templates.weights_to_image_grid(W, (3, 4), 2, sym),
        )
