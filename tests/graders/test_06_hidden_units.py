"""Hidden grader of lesson 06, "Hidden units as images, and what a hidden layer computes".

Every test scores one exercise (``@pytest.mark.exercise``) and compares the student's answer,
computed in the sandbox, with the solution notebook's answer (``reference``) or with an exact,
public value (the roughness of a ±1 checkerboard, 8·26/28), in this trusted process. Inputs are
small and synthetic; ``unit_images`` is also called with real nnlite Parameters of a trained-
then-compared ``nnlite.nn.Linear``. The edge-case families of the course (size-0 and size-1 axes,
non-square shapes, float32 and integer input, NaN, 1e±200, unchanged inputs, labels that are not
0..C-1) are covered where they apply. Mutating an input is detected by the ``student`` fixture.

Points per exercise add up to the points of the exercise cell in the notebook (1, 3, 2, 3, 3).
"""

from __future__ import annotations

import numpy as np
import pytest

from nnlite.grading import assert_close, assert_equal, assert_shape, assert_true

LESSON = "06_hidden_units"
EXERCISES = {
    "unit_images": ["unit_images"],
    "roughness": ["roughness"],
    "top_k_examples": ["top_k_examples"],
    "nearest_class_mean": ["nearest_class_mean_accuracy"],
    "scatter_ratio": ["scatter_ratio"],
}
# R13: nnlite's own versions (the lesson's fallbacks), out of reach while the exercise is graded.
OWN_WORK = {
    "unit_images": ["nnlite.hidden:unit_images"],
    "roughness": ["nnlite.hidden:roughness"],
    # Lesson 04's top_k and lesson 08's ranking of one unit's examples do the same job.
    "top_k_examples": [
        "nnlite.hidden:top_k_examples",
        "nnlite.similarity:top_k",
        "nnlite.attribution:_ranking",
        "nnlite.attribution:top_k_activating",
    ],
    "nearest_class_mean": ["nnlite.hidden:nearest_class_mean_accuracy"],
    "scatter_ratio": ["nnlite.hidden:scatter_ratio"],
}

HINT_RESHAPE = (
    "Row j of W1 becomes image j: W.reshape(H, h, w) in numpy's default (row-major) order, so "
    "pixel i goes to (i // w, i % w)."
)
HINT_DELTA = "With W1_init, the images are W1 - W1_init (what training added), in that order."
HINT_COPY = (
    "Return a new array: a reshape of W1 is a view that shares W1's memory (add .copy()), and "
    "never subtract in place (W1 -= ...)."
)
HINT_LAPLACE = (
    "Evaluate the 5-point stencil at the interior pixels only, T[:, 1:-1, 1:-1] and its four "
    "shifted neighbours: np.roll wraps the border around and padding invents zeros, both add "
    "roughness that is not in the image."
)
HINT_NORMS = (
    "Roughness = sqrt(sum of squared Laplacian values) / sqrt(sum of squared pixels) of the "
    "whole image (Frobenius norms; no mean, no square missing)."
)
HINT_SCALE = (
    "Divide each image by its largest |value| first: the ratio does not change, and the squares "
    "of 1e200 (or 1e-200) no longer overflow (underflow)."
)
HINT_TOPK = (
    "Sort each column by DEcreasing activation and keep the first k rows: np.argsort(-acts, "
    "axis=0, kind='stable')[:k] gives shape (k, H), ties in index order."
)
HINT_TIES = (
    "Equal activations keep the lower example index first: a stable sort of -acts does that; "
    "reversing an ascending sort ([::-1]) puts the higher index first."
)
HINT_NCM = (
    "Euclidean distance to each class mean (not the dot product or the cosine, which favour "
    "means of large norm); the class means come from the training features only."
)
HINT_LABELS = (
    "The classes are np.unique(y_train): map the index of the nearest mean back to its label "
    "before comparing with y_test (labels need not be 0..C-1)."
)
HINT_WEIGHTS = (
    "between = sum over classes of n_c * ||mu_c - mu||^2, with n_c the class size and mu the "
    "mean of ALL rows (not the mean of the class means); within = sum over rows of "
    "||F_i - mu_(y_i)||^2 (a sum, not a mean)."
)


# ============================================================================== drivers (sandbox)


def drive_unit_images_parameters(ns, seed, delta, shape):
    """unit_images on the Parameters of two nnlite Linear layers: one moved by ``delta``."""
    from nnlite import nn

    layer = nn.Linear(delta.shape[1], delta.shape[0], rng=seed)
    init = nn.Linear(delta.shape[1], delta.shape[0], rng=seed)
    layer.weight.data += delta
    out = ns["unit_images"](layer.weight, init.weight, shape)
    return np.asarray(out, dtype=np.float64)


def drive_unit_images_copy(ns, W, shape):
    """Write into the returned images; return W1 afterwards (it must not have changed)."""
    out = ns["unit_images"](W, None, shape)
    out = np.asarray(out)
    out[...] = -1.0
    return W


def drive_dtype(ns, name, arr, *args):
    """Call ns[name](arr, *args); return (value as float64, dtype name)."""
    out = np.asarray(ns[name](arr, *args))
    return out.astype(np.float64), out.dtype.name


# ============================================================================== inputs


def checkerboard(h, w):
    return (-1.0) ** np.add.outer(np.arange(h), np.arange(w))


def clusters(rng, labels, sizes, dim=4, spread=0.5, far=20.0):
    """Gaussian clusters around far-apart centres; one label per cluster, given sizes."""
    centres = far * np.eye(len(labels), dim)
    idx = np.repeat(np.arange(len(labels)), sizes)
    return centres[idx] + rng.normal(0, spread, size=(len(idx), dim)), np.asarray(labels)[idx]


# ============================================================================ 1. unit_images (1)


@pytest.mark.exercise("unit_images")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_RESHAPE)
def test_unit_images_reshape(student, reference, rng):
    """W1 (5, 12) with shape (3, 4): five 3 x 4 images, row-major"""
    W = rng.normal(size=(5, 12))
    got = student.unit_images(W, None, (3, 4))
    assert_close(got, W.reshape(5, 3, 4), rtol=0, msg="unit_images(W1, shape=(3, 4))")
    assert_close(got, reference.unit_images(W, None, (3, 4)), rtol=0)


@pytest.mark.exercise("unit_images")
@pytest.mark.points(0.375)
@pytest.mark.hint(HINT_DELTA)
def test_unit_images_delta_of_real_parameters(student, rng):
    """W1 - W1_init for the Parameters of nnlite Linear layers (and for plain arrays)"""
    delta = rng.normal(size=(3, 20))
    got = student.run(drive_unit_images_parameters, 4, delta, (4, 5))
    assert_close(got, delta.reshape(3, 4, 5), rtol=1e-12, atol=1e-15, msg="W1 - W1_init")
    W, W0 = rng.normal(size=(2, 9)), rng.normal(size=(2, 9))
    got = student.unit_images(W, W0, (3, 3))
    assert_close(got, (W - W0).reshape(2, 3, 3), rtol=1e-12, atol=1e-15, msg="W1 - W1_init")


@pytest.mark.exercise("unit_images")
@pytest.mark.points(0.125)
@pytest.mark.hint("float32 in, float32 out; integer weights become float64.", on="dtype")
def test_unit_images_dtypes(student, rng):
    """float32 stays float32, integers become float64"""
    W = rng.normal(size=(2, 6)).astype(np.float32)
    got = student.run(drive_dtype, "unit_images", W, None, (2, 3))
    assert_close(got[0], W.reshape(2, 2, 3), rtol=1e-6)
    assert_equal(got[1], "float32", msg="dtype for float32 weights", kind="dtype")
    Wi = np.arange(12).reshape(2, 6)
    got = student.run(drive_dtype, "unit_images", Wi, None, (2, 3))
    assert_close(got[0], Wi.reshape(2, 2, 3), rtol=0)
    assert_equal(got[1], "float64", msg="dtype for integer weights", kind="dtype")


@pytest.mark.exercise("unit_images")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_COPY)
def test_unit_images_new_array_and_errors(student, rng):
    """the result is a new array; a W1_init or a shape that does not fit raises ValueError"""
    W = rng.normal(size=(3, 6))
    after = student.run(drive_unit_images_copy, W, (2, 3))
    assert_close(after, W, rtol=0, msg="W1 after writing into the returned images")
    student.raises(ValueError).unit_images(W, np.zeros((6, 3)), (2, 3))
    student.raises(ValueError).unit_images(W, None, (4, 4))


# ============================================================================== 2. roughness (3)


@pytest.mark.exercise("roughness")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_LAPLACE)
def test_roughness_checkerboard_and_constant(student):
    """±1 checkerboard 28 x 28: 8·26/28 = 7.428571...; a constant image: 0"""
    images = np.stack([checkerboard(28, 28), np.full((28, 28), -2.5)])
    got = student.roughness(images)
    assert_close(got, np.array([8 * 26 / 28, 0.0]), rtol=1e-9, atol=1e-12, public=True)


@pytest.mark.exercise("roughness")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_NORMS)
def test_roughness_random_non_square(student, reference, rng):
    """random 7 x 9 images (and smooth ones) equal the reference"""
    images = rng.normal(size=(4, 7, 9))
    images[2] = np.cumsum(np.cumsum(images[2], axis=0), axis=1)  # a smoother one
    got = student.roughness(images)
    assert_close(got, reference.roughness(images), rtol=1e-9, atol=1e-12)


@pytest.mark.exercise("roughness")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_LAPLACE)
def test_roughness_interior_only(student, reference, rng):
    """a linear ramp has roughness 0 (no border terms); a framed image equals the reference"""
    ramp = np.add.outer(np.arange(6.0), 3.0 * np.arange(8.0)) + 1.0
    frame = np.zeros((6, 8))
    frame[[0, -1], :] = 1.0
    frame[:, [0, -1]] = 1.0
    frame[2:4, 3:5] = rng.normal(size=(2, 2))
    images = np.stack([ramp, frame, rng.normal(size=(6, 8))])
    got = student.roughness(images)
    want = reference.roughness(images)
    assert_close(got, want, rtol=1e-9, atol=1e-12)
    assert_true(abs(want[0]) < 1e-12, "grader: the ramp's roughness should be 0")


@pytest.mark.exercise("roughness")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_SCALE)
def test_roughness_huge_and_tiny_values(student, reference, rng):
    """images of size 1e200 and 1e-200 give the same finite roughness as of size 1"""
    images = rng.normal(size=(2, 5, 6))
    want = reference.roughness(images)
    for scale in (1e200, 1e-200):
        got = student.roughness(scale * images)
        assert_close(got, want, rtol=1e-9, msg=f"images times {scale:g}")


@pytest.mark.exercise("roughness")
@pytest.mark.points(0.25)
@pytest.mark.hint("float32 in, float32 out; integer images give float64.", on="dtype")
def test_roughness_dtypes(student, reference, rng):
    """float32 images give float32, integer images float64"""
    images = rng.normal(size=(3, 5, 5)).astype(np.float32)
    got = student.run(drive_dtype, "roughness", images)
    assert_close(got[0], reference.roughness(images.astype(np.float64)), rtol=1e-5)
    assert_equal(got[1], "float32", msg="dtype for float32 images", kind="dtype")
    ints = rng.integers(-5, 6, size=(2, 4, 4))
    got = student.run(drive_dtype, "roughness", ints)
    assert_close(got[0], reference.roughness(ints.astype(np.float64)), rtol=1e-9)
    assert_equal(got[1], "float64", msg="dtype for integer images", kind="dtype")


@pytest.mark.exercise("roughness")
@pytest.mark.points(0.25)
@pytest.mark.hint(
    "An all-zero image has roughness 0 (not NaN); a NaN pixel spoils its own image only."
)
def test_roughness_zero_image_and_nan(student, reference, rng):
    """an all-zero image gives 0; a NaN pixel gives NaN for its own image only"""
    images = rng.normal(size=(3, 5, 5))
    images[0] = 0.0
    images[2, 1, 3] = np.nan
    got = student.roughness(images)
    want = reference.roughness(images)
    assert_close(got, want, rtol=1e-9, equal_nan=True)


@pytest.mark.exercise("roughness")
@pytest.mark.points(0.25)
@pytest.mark.hint("No images give an empty (0,) result; a 3 x 3 image has one interior pixel.")
def test_roughness_empty_and_smallest(student, reference, rng):
    """(0, 5, 5) gives shape (0,); 3 x 3 images (one interior pixel) equal the reference"""
    got = student.roughness(np.zeros((0, 5, 5)))
    assert_close(got, np.zeros(0), msg="roughness of no images", public=True)
    small = rng.normal(size=(2, 3, 3))
    assert_close(student.roughness(small), reference.roughness(small), rtol=1e-9)


@pytest.mark.exercise("roughness")
@pytest.mark.points(0.25)
@pytest.mark.hint("Raise ValueError for input that is not (H, h, w) with h, w >= 3.")
def test_roughness_bad_input_raises(student):
    """a 2-D array and images smaller than 3 x 3 raise ValueError"""
    student.raises(ValueError).roughness(np.zeros((5, 5)))
    student.raises(ValueError).roughness(np.zeros((2, 2, 5)))


# ========================================================================= 3. top_k_examples (2)


@pytest.mark.exercise("top_k_examples")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_TOPK)
def test_top_k_random(student, reference, rng):
    """N = 20 examples, H = 5 units, k = 4: the reference's indices, shape (4, 5)"""
    acts = rng.normal(size=(20, 5))
    got = student.top_k_examples(acts, 4)
    assert_shape(got, (4, 5), msg="top_k_examples(acts (20, 5), 4)", public=True)
    assert_equal(np.asarray(got).astype(np.int64), reference.top_k_examples(acts, 4))


@pytest.mark.exercise("top_k_examples")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_TIES)
def test_top_k_ties(student, reference, rng):
    """integer activations with many ties: lower example index first"""
    acts = rng.integers(0, 3, size=(12, 4))
    got = student.top_k_examples(acts, 6)
    assert_shape(got, (6, 4), public=True)
    assert_equal(np.asarray(got).astype(np.int64), reference.top_k_examples(acts, 6))


@pytest.mark.exercise("top_k_examples")
@pytest.mark.points(0.25)
@pytest.mark.hint("k may be 0 (shape (0, H)) or N (every example, sorted).")
def test_top_k_zero_and_all(student, reference, rng):
    """k = 0 gives shape (0, H); k = N sorts every example"""
    acts = rng.normal(size=(6, 3))
    assert_shape(student.top_k_examples(acts, 0), (0, 3), public=True)
    got = student.top_k_examples(acts, 6)
    assert_equal(np.asarray(got).astype(np.int64), reference.top_k_examples(acts, 6))


@pytest.mark.exercise("top_k_examples")
@pytest.mark.points(0.25)
@pytest.mark.hint("Size-1 axes: one example, or one unit; the result is still (k, H).")
def test_top_k_size_one_axes(student, reference, rng):
    """one unit (H = 1) and one example (N = 1)"""
    acts = rng.normal(size=(7, 1))
    got = student.top_k_examples(acts, 3)
    assert_shape(got, (3, 1), public=True)
    assert_equal(np.asarray(got).astype(np.int64), reference.top_k_examples(acts, 3))
    got = student.top_k_examples(rng.normal(size=(1, 4)), 1)
    assert_equal(np.asarray(got).astype(np.int64), np.zeros((1, 4), dtype=np.int64))


@pytest.mark.exercise("top_k_examples")
@pytest.mark.points(0.25)
@pytest.mark.hint("NaN ranks below every number (a stable argsort of -acts puts it last).")
def test_top_k_nan_last(student, reference, rng):
    """a NaN activation ranks below every number"""
    acts = rng.normal(size=(8, 3))
    acts[2, 0] = np.nan
    acts[5, 2] = np.nan
    got = student.top_k_examples(acts, 8)
    assert_equal(np.asarray(got).astype(np.int64), reference.top_k_examples(acts, 8))


@pytest.mark.exercise("top_k_examples")
@pytest.mark.points(0.25)
@pytest.mark.hint("k > N (or k < 0) raises ValueError naming k and N.")
def test_top_k_too_many_raises(student, rng):
    """k > N and k < 0 raise ValueError"""
    acts = rng.normal(size=(4, 2))
    student.raises(ValueError).top_k_examples(acts, 5)
    student.raises(ValueError).top_k_examples(acts, -1)


# ===================================================================== 4. nearest class mean (3)


@pytest.mark.exercise("nearest_class_mean")
@pytest.mark.points(0.5)
@pytest.mark.hint(
    "The fraction (between 0 and 1) of test rows whose nearest class mean is their own."
)
def test_ncm_separated_clusters(student, rng):
    """well-separated clusters: 100 %; the same test rows with wrong labels: 0 %"""
    X, y = clusters(rng, [0, 1, 2], [6, 4, 5])
    X_te, y_te = clusters(rng, [0, 1, 2], [3, 3, 3])
    got = student.nearest_class_mean_accuracy(X, y, X_te, y_te)
    assert_close(got, 1.0, rtol=0, atol=1e-12, msg="accuracy on separated clusters", public=True)
    got = student.nearest_class_mean_accuracy(X, y, X_te, (y_te + 1) % 3)
    assert_close(got, 0.0, rtol=0, atol=1e-12, msg="accuracy with wrong labels", public=True)


@pytest.mark.exercise("nearest_class_mean")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_NCM)
def test_ncm_overlapping_classes(student, reference, rng):
    """overlapping classes whose means differ in norm: the reference's accuracy"""
    X, X_te = rng.normal(size=(60, 6)), rng.normal(size=(40, 6))
    y, y_te = rng.integers(0, 4, size=60), rng.integers(0, 4, size=40)
    X[:, 0] += 3.0 * y  # means of different norms: a dot product would favour class 3
    X_te[:, 0] += 3.0 * y_te
    got = student.nearest_class_mean_accuracy(X, y, X_te, y_te)
    assert_close(got, reference.nearest_class_mean_accuracy(X, y, X_te, y_te), rtol=1e-12)


@pytest.mark.exercise("nearest_class_mean")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_LABELS)
def test_ncm_labels_not_zero_to_c(student, reference, rng):
    """labels 3, 7 and 9 (not 0..C-1)"""
    X, y = clusters(rng, [9, 3, 7], [5, 6, 4], spread=3.0, far=4.0)
    X_te, y_te = clusters(rng, [9, 3, 7], [4, 4, 4], spread=3.0, far=4.0)
    got = student.nearest_class_mean_accuracy(X, y, X_te, y_te)
    want = reference.nearest_class_mean_accuracy(X, y, X_te, y_te)
    assert_close(got, want, rtol=1e-12)
    assert_true(want > 0.5, "grader: the labelled clusters should be mostly separable")


@pytest.mark.exercise("nearest_class_mean")
@pytest.mark.points(0.5)
@pytest.mark.hint("Class means come from F_train and y_train only, never from the test rows.")
def test_ncm_means_from_training_rows(student, reference, rng):
    """test rows from shifted, unbalanced classes: the means are the training means"""
    X, y = clusters(rng, [0, 1], [10, 3], spread=1.0, far=3.0)
    X_te, y_te = clusters(rng, [0, 1], [2, 12], spread=1.0, far=3.0)
    X_te = X_te + np.array([1.4, -1.2, 0.0, 0.0])
    got = student.nearest_class_mean_accuracy(X, y, X_te, y_te)
    assert_close(got, reference.nearest_class_mean_accuracy(X, y, X_te, y_te), rtol=1e-12)


@pytest.mark.exercise("nearest_class_mean")
@pytest.mark.points(0.25)
@pytest.mark.hint(
    "A test label absent from y_train is always counted wrong; equal distances: the smaller label."
)
def test_ncm_unseen_label_and_ties(student, reference):
    """a test label never seen in training counts as wrong; a tie goes to the smaller label"""
    # Values exact in binary, so that every way of computing the distances ties exactly.
    X = np.array([[0.0, 0.0], [0.0, 1.0], [4.0, 0.0], [4.0, 1.0]])
    y = np.array([5, 5, 2, 2])
    X_te = np.array([[2.0, 0.5], [2.0, 0.5], [0.25, 0.5], [4.25, 0.5]])  # two exact ties
    y_te = np.array([2, 5, 8, 2])
    got = student.nearest_class_mean_accuracy(X, y, X_te, y_te)
    assert_close(got, reference.nearest_class_mean_accuracy(X, y, X_te, y_te), rtol=0)
    assert_close(got, 0.5, rtol=0, atol=1e-12, public=True)


@pytest.mark.exercise("nearest_class_mean")
@pytest.mark.points(0.25)
@pytest.mark.hint("Features of different widths cannot be compared: raise ValueError.")
def test_ncm_width_mismatch_raises(student, rng):
    """F_train (N, 4) with F_test (M, 3) raises ValueError"""
    student.raises(ValueError).nearest_class_mean_accuracy(
        rng.normal(size=(5, 4)), np.arange(5) % 2, rng.normal(size=(3, 3)), np.arange(3) % 2
    )


# ========================================================================== 5. scatter_ratio (3)


@pytest.mark.exercise("scatter_ratio")
@pytest.mark.points(0.5)
@pytest.mark.hint("Return between / within as a float (not within / between).")
def test_scatter_separated_clusters(student, reference, rng):
    """far-apart clusters of equal size: a large ratio, the reference's"""
    X, y = clusters(rng, [0, 1, 2], [5, 5, 5])
    got = student.scatter_ratio(X, y)
    want = reference.scatter_ratio(X, y)
    assert_close(got, want, rtol=1e-9)
    assert_true(want > 100, "grader: separated clusters should give a large ratio")


@pytest.mark.exercise("scatter_ratio")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_WEIGHTS)
def test_scatter_unequal_classes(student, reference, rng):
    """classes of 2, 9 and 5 rows: the reference's ratio"""
    X, y = clusters(rng, [0, 1, 2], [2, 9, 5], dim=3, spread=1.5, far=2.0)
    got = student.scatter_ratio(X, y)
    assert_close(got, reference.scatter_ratio(X, y), rtol=1e-9)


@pytest.mark.exercise("scatter_ratio")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_WEIGHTS)
def test_scatter_any_labels_and_one_feature(student, reference, rng):
    """labels -1 and 5, unbalanced; and a single feature (D = 1)"""
    X = rng.normal(size=(11, 4))
    y = np.where(np.arange(11) < 3, -1, 5)
    X[y == 5] += 1.0
    assert_close(student.scatter_ratio(X, y), reference.scatter_ratio(X, y), rtol=1e-9)
    X1 = X[:, :1]
    assert_close(student.scatter_ratio(X1, y), reference.scatter_ratio(X1, y), rtol=1e-9)


@pytest.mark.exercise("scatter_ratio")
@pytest.mark.points(0.25)
@pytest.mark.hint("Non-square input: more features than rows (D > N) works the same.")
def test_scatter_more_features_than_rows(student, reference, rng):
    """N = 7 rows, D = 12 features, 3 classes"""
    X, y = rng.normal(size=(7, 12)), np.array([0, 0, 1, 1, 1, 2, 2])
    assert_close(student.scatter_ratio(X, y), reference.scatter_ratio(X, y), rtol=1e-9)


@pytest.mark.exercise("scatter_ratio")
@pytest.mark.points(0.25)
@pytest.mark.hint(
    "The ratio does not change when every row is shifted or scaled by the same amount."
)
def test_scatter_invariances(student, reference, rng):
    """shifted by 100 and scaled by 1e100: the same ratio"""
    X, y = rng.normal(size=(9, 3)), np.array([0, 1, 2] * 3)
    want = reference.scatter_ratio(X, y)
    assert_close(student.scatter_ratio(1e100 * (X + 100.0), y), want, rtol=1e-7)


@pytest.mark.exercise("scatter_ratio")
@pytest.mark.points(0.25)
@pytest.mark.hint(
    "One class only: every row is at its class mean's distance from the grand mean 0."
)
def test_scatter_single_class(student, rng):
    """a single class: between is 0, so the ratio is 0"""
    got = student.scatter_ratio(rng.normal(size=(6, 3)), np.full(6, 4))
    assert_close(got, 0.0, rtol=0, atol=1e-12, public=True)


@pytest.mark.exercise("scatter_ratio")
@pytest.mark.points(0.25)
@pytest.mark.hint("Each class constant but the classes apart: within is 0, the ratio inf.")
def test_scatter_no_within_spread(student):
    """every class constant, classes apart: inf"""
    X = np.array([[1.0, 2.0], [1.0, 2.0], [3.0, -1.0], [3.0, -1.0], [3.0, -1.0]])
    y = np.array([0, 0, 1, 1, 1])
    got = student.scatter_ratio(X, y)
    assert_close(got, np.inf, rtol=0, public=True)


@pytest.mark.exercise("scatter_ratio")
@pytest.mark.points(0.25)
@pytest.mark.hint("Convert integer features to float before computing means.")
def test_scatter_integer_features(student, reference, rng):
    """integer features give the same ratio as their float64 copy"""
    X, y = rng.integers(-4, 5, size=(10, 3)), np.array([0, 1] * 5)
    got = student.scatter_ratio(X, y)
    assert_close(got, reference.scatter_ratio(X.astype(np.float64), y), rtol=1e-9)
