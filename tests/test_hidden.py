"""Unit tests of nnlite.hidden (lesson 06's tools and fallbacks)."""

from __future__ import annotations

import numpy as np
import pytest

from nnlite import hidden
from nnlite.nn import Linear


def checkerboard(h, w):
    return (-1.0) ** np.add.outer(np.arange(h), np.arange(w))


def roughness_by_loops(image):
    """The definition, pixel by pixel."""
    h, w = image.shape
    total = 0.0
    for r in range(1, h - 1):
        for c in range(1, w - 1):
            lap = (
                image[r - 1, c]
                + image[r + 1, c]
                + image[r, c - 1]
                + image[r, c + 1]
                - 4 * image[r, c]
            )
            total += lap**2
    return np.sqrt(total) / np.sqrt(np.sum(image**2))


# ----------------------------------------------------------------------------- unit_images


def test_unit_images_reshapes_rows_row_major():
    W = np.arange(24.0).reshape(2, 12)
    out = hidden.unit_images(W, shape=(3, 4))
    assert out.shape == (2, 3, 4)
    assert out[1, 2, 1] == W[1, 2 * 4 + 1]


def test_unit_images_delta_from_parameters_is_a_new_array():
    layer, init = Linear(20, 3, rng=0), Linear(20, 3, rng=0)
    layer.weight.data += 1.5
    out = hidden.unit_images(layer.weight, init.weight, shape=(4, 5))
    np.testing.assert_allclose(out, np.full((3, 4, 5), 1.5), rtol=1e-12)
    W = np.ones((2, 4))
    hidden.unit_images(W, shape=(2, 2))[...] = 0
    assert np.all(W == 1), "the result must not share memory with W1"


def test_unit_images_dtypes():
    assert hidden.unit_images(np.ones((1, 4), np.float32), shape=(2, 2)).dtype == np.float32
    assert hidden.unit_images(np.ones((1, 4), np.int64), shape=(2, 2)).dtype == np.float64


@pytest.mark.parametrize(
    "W, W0, shape, words",
    [
        (np.zeros((2, 12)), None, (5, 5), ["unit_images", "(5, 5)", "(2, 12)"]),
        (np.zeros((2, 12)), np.zeros((12, 2)), (3, 4), ["unit_images", "(2, 12)", "(12, 2)"]),
        (np.zeros(12), None, (3, 4), ["unit_images", "(12,)"]),
    ],
)
def test_unit_images_errors_name_the_shapes(W, W0, shape, words):
    with pytest.raises(ValueError) as info:
        hidden.unit_images(W, W0, shape)
    assert all(w in str(info.value) for w in words), str(info.value)


# ------------------------------------------------------------------------------- roughness


def test_roughness_of_a_checkerboard_is_the_hand_computed_value():
    # |Laplacian| = 8 at each of the 26 x 26 interior pixels and ||u|| = 28: 8 * 26 / 28.
    got = hidden.roughness(checkerboard(28, 28)[None])
    np.testing.assert_allclose(got, [8 * 26 / 28], rtol=1e-12)
    np.testing.assert_allclose(got, [7.4286], atol=5e-5)
    # general h x w: 8 sqrt((h-2)(w-2) / (h w))
    got = hidden.roughness(checkerboard(5, 9)[None])
    np.testing.assert_allclose(got, [8 * np.sqrt(3 * 7 / 45)], rtol=1e-12)


def test_roughness_matches_the_definition_pixel_by_pixel():
    images = np.random.default_rng(0).normal(size=(3, 6, 7))
    want = [roughness_by_loops(im) for im in images]
    np.testing.assert_allclose(hidden.roughness(images), want, rtol=1e-12)


def test_roughness_zero_for_constant_and_linear_images():
    ramp = np.add.outer(np.arange(6.0), -2 * np.arange(6.0)) + 3
    got = hidden.roughness(np.stack([np.full((6, 6), 4.0), ramp, np.zeros((6, 6))]))
    np.testing.assert_allclose(got, [0.0, 0.0, 0.0], atol=1e-12)


def test_roughness_of_noise_is_about_sqrt_20():
    images = np.random.default_rng(1).normal(size=(400, 28, 28))
    expected = np.sqrt(20 * 26 * 26 / (28 * 28))  # 4.15
    assert abs(hidden.roughness(images).mean() - expected) < 0.02


def test_roughness_is_scale_free_and_finite_at_1e200_and_1e_minus_200():
    images = np.random.default_rng(2).normal(size=(2, 5, 5))
    want = hidden.roughness(images)
    for scale in (1e200, 1e-200, -3.0):
        np.testing.assert_allclose(hidden.roughness(scale * images), want, rtol=1e-12)


def test_roughness_nan_empty_dtype_and_errors():
    images = np.random.default_rng(3).normal(size=(2, 4, 4))
    images[1, 0, 0] = np.nan
    got = hidden.roughness(images)
    assert np.isfinite(got[0]) and np.isnan(got[1])
    assert hidden.roughness(np.zeros((0, 4, 4))).shape == (0,)
    assert hidden.roughness(images.astype(np.float32)).dtype == np.float32
    assert hidden.roughness(np.ones((1, 3, 3), dtype=np.int64)).dtype == np.float64
    for bad in (np.zeros((4, 4)), np.zeros((1, 2, 4))):
        with pytest.raises(ValueError, match=r"roughness: .*\(") as info:
            hidden.roughness(bad)
        assert str(bad.shape) in str(info.value)


# --------------------------------------------------------------------------- top_k_examples


def test_top_k_descending_with_ties_to_the_lower_index():
    acts = np.array([[1.0, 0.0], [3.0, 2.0], [3.0, 5.0], [0.5, 2.0]])
    np.testing.assert_array_equal(hidden.top_k_examples(acts, 3), [[1, 2], [2, 1], [0, 3]])


def test_top_k_nan_last_integers_and_bounds():
    acts = np.array([[np.nan], [1.0], [2.0]])
    np.testing.assert_array_equal(hidden.top_k_examples(acts, 3)[:, 0], [2, 1, 0])
    ints = np.array([[2, 1], [2, 3], [5, 3]])
    np.testing.assert_array_equal(hidden.top_k_examples(ints, 2), [[2, 1], [0, 2]])
    assert hidden.top_k_examples(ints, 0).shape == (0, 2)
    for k in (4, -1, 1.5):
        with pytest.raises(ValueError, match="top_k_examples"):
            hidden.top_k_examples(ints, k)


# ---------------------------------------------------------------------- nearest class mean


def test_ncm_agrees_with_brute_force_and_maps_labels():
    gen = np.random.default_rng(4)
    X, X_te = gen.normal(size=(40, 5)), gen.normal(size=(25, 5))
    labels = np.array([3, 7, 11])
    y, y_te = gen.choice(labels, 40), gen.choice(labels, 25)
    X[:, 0] += y
    X_te[:, 0] += y_te
    means = np.stack([X[y == c].mean(axis=0) for c in labels])
    dist = ((X_te[:, None, :] - means[None]) ** 2).sum(axis=2)
    want = np.mean(labels[dist.argmin(axis=1)] == y_te)
    got = hidden.nearest_class_mean_accuracy(X, y, X_te, y_te)
    assert isinstance(got, float) and got == pytest.approx(want, abs=1e-15)


def test_ncm_ties_unseen_labels_and_errors():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [4.0, 0.0], [4.0, 1.0]])
    y = np.array([5, 5, 2, 2])
    X_te = np.array([[2.0, 0.5], [2.0, 0.5], [0.25, 0.5], [4.25, 0.5]])
    assert hidden.nearest_class_mean_accuracy(X, y, X_te, np.array([2, 5, 8, 2])) == 0.5
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(3, 3\)"):
        hidden.nearest_class_mean_accuracy(X, y, np.zeros((3, 3)), np.zeros(3))


# ---------------------------------------------------------------------------- scatter ratio


def test_scatter_ratio_decomposes_the_total_sum_of_squares():
    gen = np.random.default_rng(5)
    y = np.array([0] * 2 + [1] * 9 + [4] * 5)
    X = gen.normal(size=(16, 3)) + y[:, None]
    mu = X.mean(axis=0)
    total = ((X - mu) ** 2).sum()
    within = sum(((X[y == c] - X[y == c].mean(axis=0)) ** 2).sum() for c in (0, 1, 4))
    between = total - within
    assert hidden.scatter_ratio(X, y) == pytest.approx(between / within, rel=1e-12)
    unweighted = sum(((X[y == c].mean(axis=0) - mu) ** 2).sum() for c in (0, 1, 4))
    assert hidden.scatter_ratio(X, y) != pytest.approx(unweighted / within, rel=1e-3)


def test_scatter_ratio_edge_cases():
    X = np.array([[1.0, 2.0], [1.0, 2.0], [3.0, -1.0]])
    assert hidden.scatter_ratio(X, np.array([0, 0, 1])) == np.inf
    assert np.isnan(hidden.scatter_ratio(np.ones((3, 2)), np.array([0, 1, 1])))
    assert hidden.scatter_ratio(X, np.zeros(3, dtype=int)) == 0.0
    with pytest.raises(ValueError, match="scatter_ratio"):
        hidden.scatter_ratio(np.zeros((0, 2)), np.zeros(0))


# ----------------------------------------------------------------------------- linear_probe


def test_linear_probe_separates_a_toy_set_and_uses_training_statistics():
    pytest.importorskip("nnlite.templates")
    gen = np.random.default_rng(6)
    centres = np.array([[4.0, 0, 0], [0, 4.0, 0], [0, 0, 4.0]])
    y, y_te = np.repeat(np.arange(3), 30), np.repeat(np.arange(3), 10)
    X = centres[y] + gen.normal(0, 0.5, size=(90, 3))
    X_te = centres[y_te] + gen.normal(0, 0.5, size=(30, 3))
    X = np.hstack([X, np.ones((90, 1))])  # a constant feature: only centred, no division by 0
    X_te = np.hstack([X_te, np.ones((30, 1))])
    assert hidden.linear_probe(X, y, X_te, y_te, epochs=20, lr=0.1) == 1.0
    # Standardised with the training rows' statistics: the same test rows shifted by their own
    # mean would be misclassified, so a probe fitted on test statistics would not score 1.0.
    acc = hidden.linear_probe(X, y, X_te + 100.0, y_te, epochs=20, lr=0.1)
    assert acc < 1.0
