"""Visible checks of lesson 06, "Hidden units as images, and what a hidden layer computes".

In the lesson::

    from nnlite.checks import lesson
    check = lesson("06_hidden_units")
    ...
    check("roughness", roughness)                                        # feedback
    roughness = check.use("roughness", roughness, fallback=hidden.roughness)

The checks are smoke tests of each exercise's contract (shape, dtype, an easy value, one edge
case) on tiny inputs, compared with :mod:`nnlite.hidden`; they do not show the answer. The hidden
graders in ``tests/graders/test_06_hidden_units.py`` do the real testing. Every exercise falls
back to its twin in :mod:`nnlite.hidden`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnlite import hidden
from nnlite.checks import visible
from nnlite.nn import Parameter

LESSON = "06_hidden_units"


def _close(got: Any, want: Any, what: str, rtol: float = 1e-9, atol: float = 1e-12) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what} has shape {got.shape}, expected {want.shape}"
    assert np.array_equal(np.isnan(got), np.isnan(want)), f"{what}: NaN in the wrong places"
    ok = np.abs(got - want) <= atol + rtol * np.abs(want)
    assert np.all(ok | np.isnan(want)), f"{what}: values differ from the expected result"


def _raises(func: Any, *args: Any) -> None:
    try:
        func(*args)
    except NotImplementedError:
        raise
    except ValueError:
        return
    raise AssertionError("no ValueError for a bad input")


# --------------------------------------------------------------------------- 1. unit_images


@visible("unit_images", hint="Row j becomes image j: reshape to (H, h, w), row-major.")
def unit_images_reshape(unit_images):
    """W1 (H, h*w) becomes H images (H, h, w), row by row"""
    W = np.arange(24.0).reshape(2, 12)
    got = unit_images(W, shape=(3, 4))
    _close(got, W.reshape(2, 3, 4), "unit_images(W, shape=(3, 4))")


@visible(
    "unit_images",
    hint="With W1_init, return W1 - W1_init (what training added) in a new array; use .data "
    "of a Parameter.",
)
def unit_images_delta(unit_images):
    """with W1_init: W1 - W1_init, from Parameters too, inputs unchanged"""
    gen = np.random.default_rng(0)
    W, W0 = gen.normal(size=(3, 6)), gen.normal(size=(3, 6))
    keep = W.copy()
    got = unit_images(Parameter(W), Parameter(W0), shape=(2, 3))
    _close(got, hidden.unit_images(W, W0, shape=(2, 3)), "unit_images(W1, W1_init)")
    assert np.array_equal(W, keep), "unit_images changed W1 in place"


@visible("unit_images", hint="Check that h * w equals the number of columns of W1.")
def unit_images_bad_shape(unit_images):
    """a shape that does not fit raises ValueError"""
    _raises(unit_images, np.zeros((2, 12)), None, (5, 5))


# ----------------------------------------------------------------------------- 2. roughness


def _checkerboard(h: int, w: int) -> np.ndarray:
    return (-1.0) ** np.add.outer(np.arange(h), np.arange(w))


@visible("roughness", hint="A constant image has a zero Laplacian in its interior.")
def roughness_constant(roughness):
    """a constant image has roughness 0; the result has one value per image"""
    got = roughness(np.full((2, 6, 7), 3.0))
    _close(got, np.zeros(2), "roughness of two constant images")


@visible(
    "roughness",
    hint="Interior pixels only (no padding, no np.roll wrap-around); divide the Frobenius norm "
    "of the Laplacian by that of the whole image.",
)
def roughness_checkerboard(roughness):
    """a ±1 checkerboard and a random image give the expected roughness"""
    images = np.stack([_checkerboard(6, 5), np.random.default_rng(1).normal(size=(6, 5))])
    _close(roughness(images), hidden.roughness(images), "roughness", rtol=1e-7)


@visible("roughness", hint="Divide each image by its largest |value| before squaring.")
def roughness_huge(roughness):
    """images of size 1e200 give the same (finite) roughness as of size 1"""
    image = np.random.default_rng(2).normal(size=(1, 5, 5))
    with np.errstate(all="ignore"):
        got = roughness(1e200 * image)
    _close(got, hidden.roughness(image), "roughness(1e200 * image)", rtol=1e-7)


# ------------------------------------------------------------------------ 3. top_k_examples


@visible(
    "top_k_examples",
    hint="Sort each column by decreasing activation; ties keep the lower index first "
    "(a stable sort of -acts).",
)
def top_k_order(top_k_examples):
    """indices (k, H), largest activation first, ties to the lower index"""
    acts = np.array([[1.0, 0.0], [3.0, 2.0], [3.0, 5.0], [0.5, 2.0]])
    got = np.asarray(top_k_examples(acts, 3))
    want = np.array([[1, 2], [2, 1], [0, 3]])
    assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}"
    assert np.array_equal(got, want), "wrong indices (or order) for a small example with ties"


@visible("top_k_examples", hint="k larger than the number of examples N raises ValueError.")
def top_k_too_many(top_k_examples):
    """k > N raises ValueError"""
    _raises(top_k_examples, np.zeros((3, 2)), 4)


# -------------------------------------------------------------------- 4. nearest class mean


def _clusters(seed: int = 0, labels=(0, 1, 2)) -> tuple[np.ndarray, ...]:
    gen = np.random.default_rng(seed)
    centres = 10.0 * np.eye(3, 4)
    y = np.repeat(np.array(labels), 5)
    y_test = np.repeat(np.array(labels), 3)
    idx_tr, idx_te = np.repeat(np.arange(3), 5), np.repeat(np.arange(3), 3)
    X = centres[idx_tr] + gen.normal(size=(15, 4))
    X_test = centres[idx_te] + gen.normal(size=(9, 4))
    return X, y, X_test, y_test


@visible("nearest_class_mean", hint="Return the fraction of test rows classified correctly.")
def ncm_separated(nearest_class_mean_accuracy):
    """well-separated clusters are classified perfectly (a float, 1.0)"""
    got = nearest_class_mean_accuracy(*_clusters())
    assert isinstance(got, float), f"returned {type(got).__name__}, expected a Python float"
    _close(got, 1.0, "accuracy on well-separated clusters")


@visible(
    "nearest_class_mean",
    hint="Use Euclidean distance to each class mean (not the dot product), and map the index of "
    "the nearest mean back to its label.",
)
def ncm_values(nearest_class_mean_accuracy):
    """overlapping clusters and labels other than 0..C-1 give the expected accuracy"""
    gen = np.random.default_rng(3)
    X, X_test = gen.normal(size=(30, 5)), gen.normal(size=(20, 5))
    X[:, 0] *= 6.0  # means of very different norms: the dot product would favour one class
    y, y_test = gen.choice([2, 5, 7], size=30), gen.choice([2, 5, 7], size=20)
    got = nearest_class_mean_accuracy(X, y, X_test, y_test)
    _close(got, hidden.nearest_class_mean_accuracy(X, y, X_test, y_test), "accuracy")
    got = nearest_class_mean_accuracy(*_clusters(labels=(4, 8, 9)))
    _close(got, 1.0, "accuracy on separated clusters labelled 4, 8 and 9")


# ------------------------------------------------------------------------- 5. scatter ratio


@visible("scatter_ratio", hint="between / within, as Python float.")
def scatter_separated(scatter_ratio):
    """far-apart clusters have a large ratio (a Python float)"""
    X, y, _, _ = _clusters()
    got = scatter_ratio(X, y)
    assert isinstance(got, float), f"returned {type(got).__name__}, expected a Python float"
    _close(got, hidden.scatter_ratio(X, y), "scatter ratio of separated clusters")


@visible(
    "scatter_ratio",
    hint="Weight each class's squared distance ||mu_c - mu||^2 by its size n_c, with mu the "
    "mean of ALL rows.",
)
def scatter_unequal_classes(scatter_ratio):
    """classes of unequal sizes give the expected ratio"""
    gen = np.random.default_rng(4)
    y = np.array([0] * 3 + [1] * 9 + [4] * 5)
    X = gen.normal(size=(17, 3)) + 2.0 * y[:, None]
    _close(scatter_ratio(X, y), hidden.scatter_ratio(X, y), "scatter ratio", rtol=1e-9)
