"""Tests of nnlite.templates: softmax regression, class means, template similarity, Haufe
patterns and weight-image grids."""

import numpy as np
import pytest

from nnlite import templates as T


def _toy(n=60, d=12, c=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.arange(n) % c
    X[:, 0] = 0.0  # an input that is 0 in every example
    X[:, 1:4] += 2.0 * np.eye(c)[y]  # class information in three columns
    return X, y


def _numpy_softmax_sgd(X, y, c, lr, epochs, batch_size, l2, seed):
    # An independent numpy implementation with the same batch order (one generator, one
    # permutation per epoch) and hand-derived gradients.
    W, b = np.zeros((c, X.shape[1])), np.zeros(c)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for s in range(0, len(X), batch_size):
            idx = order[s : s + batch_size]
            z = X[idx] @ W.T + b
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(idx)), y[idx]] -= 1
            g = p / len(idx)
            W, b = W - lr * (g.T @ X[idx] + l2 * W), b - lr * g.sum(axis=0)
    return W, b


# ----------------------------------------------------------------- train_softmax_regression


@pytest.mark.parametrize("l2", [0.0, 0.05])
def test_training_matches_a_numpy_implementation(l2):
    X, y = _toy()
    W, b = T.train_softmax_regression(X, y, 3, lr=0.3, epochs=4, batch_size=16, l2=l2, seed=5)
    W_ref, b_ref = _numpy_softmax_sgd(X, y, 3, 0.3, 4, 16, l2, 5)
    assert W.shape == (3, 12) and b.shape == (3,)
    assert W.dtype == np.float64 and b.dtype == np.float64
    assert isinstance(W, np.ndarray) and isinstance(b, np.ndarray)
    np.testing.assert_allclose(W, W_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b, b_ref, rtol=1e-12, atol=1e-14)


def test_zero_epochs_is_the_zero_initialisation():
    X, y = _toy()
    W, b = T.train_softmax_regression(X, y, 3, lr=0.1, epochs=0, batch_size=8)
    assert not W.any() and not b.any() and W.shape == (3, 12)


def test_column_sums_stay_zero_and_a_constant_zero_input_keeps_weight_zero():
    X, y = _toy()
    W, b = T.train_softmax_regression(X, y, 3, lr=0.5, epochs=5, batch_size=7, l2=0.01)
    np.testing.assert_allclose(W.sum(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(b.sum(), 0.0, atol=1e-12)
    assert np.all(W[:, 0] == 0.0)  # exactly: its gradient is 0 * something in every step
    assert np.abs(W).max() > 0.1


def test_deterministic_per_seed_and_the_seed_matters():
    X, y = _toy()
    a = T.train_softmax_regression(X, y, 3, 0.3, 3, 8, seed=1)
    b = T.train_softmax_regression(X, y, 3, 0.3, 3, 8, seed=1)
    c = T.train_softmax_regression(X, y, 3, 0.3, 3, 8, seed=2)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_l2_shrinks_the_weights():
    X, y = _toy()
    norms = [np.linalg.norm(T.train_softmax_regression(X, y, 3, 0.3, 5, 10, l2=l2)[0])
             for l2 in (0.0, 0.1, 1.0)]  # fmt: skip
    assert norms[0] > norms[1] > norms[2] > 0


def test_separable_data_is_fitted_and_inputs_are_not_mutated():
    X, y = _toy(n=90)
    X = 0.1 * X + np.eye(12)[y]  # little noise: the classes are linearly separable
    X_copy, y_copy = X.copy(), y.copy()
    W, b = T.train_softmax_regression(X, y, 3, lr=0.5, epochs=30, batch_size=10)
    assert np.mean((X @ W.T + b).argmax(axis=1) == y) == 1.0
    assert np.array_equal(X, X_copy) and np.array_equal(y, y_copy)


def test_integer_and_float32_inputs_give_float64_weights():
    X, y = _toy()
    W, _ = T.train_softmax_regression(X.astype(np.float32), y, 3, 0.1, 1, 8)
    assert W.dtype == np.float64
    W, _ = T.train_softmax_regression((X > 0).astype(np.int64), y, 3, 0.1, 1, 8)
    assert W.dtype == np.float64


def test_training_rejects_bad_arguments():
    X, y = _toy()
    with pytest.raises(ValueError, match=r"train_softmax_regression.*\(60, 12\).*\(59,\)"):
        T.train_softmax_regression(X, y[:-1], 3, 0.1, 1, 8)
    with pytest.raises(ValueError, match="label 3"):
        T.train_softmax_regression(X, y + 1, 3, 0.1, 1, 8)
    with pytest.raises(ValueError, match="label -1"):
        T.train_softmax_regression(X, y - 1, 3, 0.1, 1, 8)
    with pytest.raises(ValueError, match="lr"):
        T.train_softmax_regression(X, y, 3, 0.0, 1, 8)
    with pytest.raises(ValueError, match="l2"):
        T.train_softmax_regression(X, y, 3, 0.1, 1, 8, l2=-1.0)
    with pytest.raises(ValueError, match="batch_size"):
        T.train_softmax_regression(X, y, 3, 0.1, 1, 0)
    with pytest.raises(TypeError, match="epochs"):
        T.train_softmax_regression(X, y, 3, 0.1, 1.5, 8)
    with pytest.raises(ValueError, match=r"2-D.*\(60,\)"):
        T.train_softmax_regression(X[:, 0], y, 3, 0.1, 1, 8)


# ---------------------------------------------------------------------------- class_means


def test_class_means_match_a_loop_and_keep_float32():
    X, y = _toy(n=31)
    M = T.class_means(X, y, 3)
    np.testing.assert_allclose(M, [X[y == k].mean(axis=0) for k in range(3)], rtol=1e-14)
    assert M.dtype == np.float64
    M32 = T.class_means(X.astype(np.float32), y, 3)
    assert M32.dtype == np.float32 and M32.shape == (3, 12)
    assert T.class_means(np.ones((4, 2), dtype=np.int64), [0, 1, 1, 0], 2).dtype == np.float64


def test_class_means_name_an_empty_class_and_bad_labels():
    X, y = _toy()
    with pytest.raises(ValueError, match="class 3 has no examples"):
        T.class_means(X, y, 4)
    with pytest.raises(ValueError, match="label 3"):
        T.class_means(X, np.where(y == 2, 3, y), 3)
    with pytest.raises(ValueError, match=r"class_means.*\(60, 12\).*\(2,\)"):
        T.class_means(X, [0, 1], 3)


# --------------------------------------------------------------------- template_similarity


def test_template_similarity_of_centred_means_with_the_means_is_one_on_the_diagonal():
    X, y = _toy()
    M = T.class_means(X, y, 3)
    S = T.template_similarity(M - X.mean(axis=0), M)  # default X_mean = M.mean(axis=0)
    np.testing.assert_allclose(np.diag(S), 1.0, rtol=1e-12)
    assert S.shape == (3, 3) and np.all(np.abs(S) <= 1.0)


def test_template_similarity_is_a_centred_cosine():
    rng = np.random.default_rng(3)
    W, M, mu = rng.normal(size=(4, 7)), rng.normal(size=(5, 7)), rng.normal(size=7)
    S = T.template_similarity(W, M, mu)
    Wc, Mc = W - W.mean(axis=0), M - mu
    expected = (Wc @ Mc.T) / np.outer(np.linalg.norm(Wc, axis=1), np.linalg.norm(Mc, axis=1))
    np.testing.assert_allclose(S, expected, rtol=1e-12)
    # Invariant to adding one vector to every weight row, and to positive scalings.
    np.testing.assert_allclose(T.template_similarity(3.0 * W + rng.normal(size=7), M, mu), S,
                               rtol=1e-10)  # fmt: skip


def test_template_similarity_zero_rows_and_extreme_scales():
    M = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    S = T.template_similarity(np.ones((2, 3)), M, np.zeros(3))  # rows equal: centred to 0
    assert np.array_equal(S, np.zeros((2, 2)))
    W = np.array([[1e200, 0.0, 0.0], [-1e200, 0.0, 0.0]])
    np.testing.assert_allclose(T.template_similarity(W, M, np.zeros(3)), [[1, 0], [-1, 0]])
    # Each norm is clamped at 1e-8 (PyTorch's eps convention): tiny rows give tiny cosines.
    small = T.template_similarity(W * 1e-210, M, np.zeros(3))  # rows ±1e-10: 1e-10 / 1e-8
    np.testing.assert_allclose(small, [[0.01, 0], [-0.01, 0]], rtol=1e-12)
    tiny = np.array([[1e-10, 0.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(
        T.template_similarity(tiny, M, np.zeros(3)), [[0.005, 0], [-0.005, 0]]
    )  # centred: ±5e-11


def test_template_similarity_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"template_similarity.*\(2, 3\).*\(2, 4\)"):
        T.template_similarity(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"X_mean.*\(4,\)"):
        T.template_similarity(np.ones((2, 3)), np.ones((2, 3)), np.zeros(4))


@pytest.mark.torch
def test_template_similarity_zero_norm_convention_as_in_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    W, M = rng.normal(size=(3, 6)), rng.normal(size=(4, 6))
    W[1] = W.mean(axis=0)  # becomes the zero vector after centring
    M[2] *= 1e-10  # a norm below eps
    mu = np.zeros(6)
    Wc = torch.tensor(W - W.mean(axis=0))
    expected = torch.nn.functional.cosine_similarity(
        Wc[:, None, :], torch.tensor(M)[None, :, :], dim=-1, eps=1e-8
    ).numpy()
    np.testing.assert_allclose(T.template_similarity(W, M, mu), expected, rtol=1e-10, atol=1e-12)


# -------------------------------------------------------------------------- haufe_patterns


def test_haufe_patterns_equal_the_explicit_covariance_product():
    rng = np.random.default_rng(5)
    X, W = rng.normal(size=(40, 6)) @ rng.normal(size=(6, 6)), rng.normal(size=(3, 6))
    A = T.haufe_patterns(X, W)
    np.testing.assert_allclose(A, (np.cov(X, rowvar=False) @ W.T).T, rtol=1e-10)
    np.testing.assert_allclose(T.haufe_patterns(X, W[0]), A[0], rtol=1e-12)
    assert A.dtype == np.float64


def test_haufe_patterns_of_whitened_data_are_the_weights():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(200, 4)) @ rng.normal(size=(4, 4))
    Xc = X - X.mean(axis=0)
    lam, U = np.linalg.eigh(np.cov(Xc, rowvar=False))
    Z = Xc @ U / np.sqrt(lam)  # covariance exactly I
    W = rng.normal(size=(2, 4))
    np.testing.assert_allclose(T.haufe_patterns(Z, W), W, rtol=1e-9, atol=1e-12)


def test_haufe_patterns_errors_and_no_mutation():
    X, W = np.arange(12.0).reshape(4, 3), np.ones((2, 3))
    X_copy = X.copy()
    T.haufe_patterns(X, W)
    assert np.array_equal(X, X_copy)
    with pytest.raises(ValueError, match=r"haufe_patterns.*\(4, 3\).*\(2, 5\)"):
        T.haufe_patterns(X, np.ones((2, 5)))
    with pytest.raises(ValueError, match="N >= 2"):
        T.haufe_patterns(X[:1], W)


# ------------------------------------------------------------------- weights_to_image_grid


def test_grid_layout_separators_and_mid_grey_zero():
    rng = np.random.default_rng(7)
    W = rng.normal(size=(7, 6))
    W[:, 0] = 0.0
    G = T.weights_to_image_grid(W, shape=(2, 3), ncols=3, symmetric=True)
    assert G.shape == (3 * 2 + 2, 3 * 3 + 2)
    tiles = [G[r * 3 : r * 3 + 2, c * 4 : c * 4 + 3] for r in range(3) for c in range(3)]
    for i in range(7):
        t = tiles[i]
        m = np.abs(W[i]).max()
        np.testing.assert_allclose(t, 0.5 + 0.5 * W[i].reshape(2, 3) / m, rtol=1e-14)
        assert t[0, 0] == 0.5  # weight 0 is mid-grey
    assert np.isnan(tiles[7]).all() and np.isnan(tiles[8]).all()
    assert np.isnan(G[2, :]).all() and np.isnan(G[:, 3]).all()  # separators


def test_grid_min_max_and_constant_tiles():
    W = np.array([[1.0, 2.0, 3.0, 5.0], [2.0, 2.0, 2.0, 2.0], [0.0, 0.0, 0.0, 0.0]])
    G = T.weights_to_image_grid(W, shape=(2, 2), ncols=3, symmetric=False)
    np.testing.assert_allclose(G[:, :2], [[0.0, 0.25], [0.5, 1.0]])
    assert np.all(G[:, 3:5] == 0.5) and np.all(G[:, 6:8] == 0.5)
    G = T.weights_to_image_grid(W, shape=(2, 2), ncols=3, symmetric=True)
    assert np.all(G[:, 3:5] == 1.0) and np.all(G[:, 6:8] == 0.5)


def test_grid_rejects_wrong_tile_size():
    with pytest.raises(ValueError, match=r"weights_to_image_grid.*\(3, 10\)"):
        T.weights_to_image_grid(np.ones((3, 10)), shape=(3, 3))
    with pytest.raises(ValueError, match="ncols"):
        T.weights_to_image_grid(np.ones((3, 9)), shape=(3, 3), ncols=0)
