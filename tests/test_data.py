"""Tests of nnlite.data: the shipped MNIST subset, the natural photo, whitening, minibatches."""

import subprocess
import sys

import numpy as np
import pytest

from nnlite import data

# Copied from the course's data provenance record (shared/data/PROVENANCE.md), not from
# nnlite.data, so a changed constant in the library cannot hide a changed file.
PROVENANCE_SHA256 = {
    ("train", "X"): "2f7182bf021ffc5c1f62db987487f14d899b5c639f421a80f3095affc09a7db2",
    ("train", "y"): "2f345bad07338ec537641465e169cc4b7288a44244f251211c7f842641e7d927",
    ("test", "X"): "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    ("test", "y"): "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}


# ------------------------------------------------------------------------------------ MNIST


@pytest.mark.parametrize(("split", "name"), sorted(PROVENANCE_SHA256))
def test_mnist_sha256_matches_provenance(split, name):
    X, y = data.load_mnist(split)
    arr = {"X": X, "y": y.astype(np.uint8)}[name]  # the file stores uint8 labels
    assert data.array_sha256(arr) == PROVENANCE_SHA256[(split, name)]
    assert data.MNIST_SHA256[split][name] == PROVENANCE_SHA256[(split, name)]


def test_verify_mnist_passes_and_rejects_unknown_split():
    data.verify_mnist()
    data.verify_mnist("test")
    with pytest.raises(ValueError, match="'val'"):
        data.verify_mnist("val")


def test_train_labels_as_in_provenance():
    _, y = data.load_mnist("train")
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    counts = np.bincount(y, minlength=10).tolist()
    assert counts == [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]


def test_test_labels_as_in_provenance():
    _, y = data.load_mnist("test")
    assert y[:5].tolist() == [7, 2, 1, 0, 4]
    assert len(y) == 10_000
    assert set(np.unique(y).tolist()) == set(range(10))


def test_default_is_raw_uint8_images_and_int64_labels():
    X, y = data.load_mnist()
    assert X.shape == (10_000, 28, 28) and X.dtype == np.uint8
    assert y.shape == (10_000,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 255


def test_normalize_flatten_dtype_and_n():
    Xr, _ = data.load_mnist("test", n=3)
    X, y = data.load_mnist("test", flatten=True, normalize=True, n=3)
    assert X.shape == (3, 784) and X.dtype == np.float64 and y.shape == (3,)
    np.testing.assert_array_equal(X, Xr.reshape(3, 784) / 255.0)
    assert 0.0 <= X.min() and X.max() <= 1.0
    X32, _ = data.load_mnist("test", normalize=True, dtype=np.float32, n=2)
    assert X32.dtype == np.float32 and X32.shape == (2, 28, 28)
    X0, y0 = data.load_mnist("train", n=0)
    assert X0.shape == (0, 28, 28) and y0.shape == (0,)


def test_mnist_mean_std_constants_are_close_to_the_subset():
    assert (data.MNIST_MEAN, data.MNIST_STD) == (0.1307, 0.3081)
    X, _ = data.load_mnist("train", normalize=True)
    # The constants are over the full 60k training set; the 10k subset is close to them.
    assert abs(X.mean() - data.MNIST_MEAN) < 0.005
    assert abs(X.std() - data.MNIST_STD) < 0.005


def test_cache_cannot_be_corrupted_by_callers():
    X, y = data.load_mnist("test", n=5)
    X[:] = 0
    y[:] = 9
    X2, y2 = data.load_mnist("test", n=5)
    assert X2.max() > 0 and y2[:5].tolist() == [7, 2, 1, 0, 4]
    Xf, _ = data.load_mnist("test", flatten=True, n=5)
    assert Xf.flags.writeable and not np.shares_memory(Xf, X2)


def test_unknown_split_lists_valid_ones():
    with pytest.raises(ValueError, match=r"unknown split 'validation'.*'train', 'test'"):
        data.load_mnist("validation")


def test_bad_n_and_dtype_are_explained():
    with pytest.raises(ValueError, match="between 0 and 10000"):
        data.load_mnist("train", n=10_001)
    with pytest.raises(ValueError, match="between 0 and 10000"):
        data.load_mnist("train", n=-1)
    with pytest.raises(TypeError, match="n must be an int"):
        data.load_mnist("train", n=2.5)
    with pytest.raises(TypeError, match="floating dtype"):
        data.load_mnist("train", normalize=True, dtype=np.int32)


def test_import_needs_numpy_only():
    code = (
        "import sys; import nnlite.data as d; d.load_mnist(n=1); "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------- natural image


def test_grace_hopper_gray_and_colour():
    g = data.grace_hopper()
    assert g.shape == (600, 512) and g.dtype == np.float64
    assert 0.0 <= g.min() and g.max() <= 1.0 and g.std() > 0.1
    rgb = data.grace_hopper(gray=False)
    assert rgb.shape == (600, 512, 3)
    np.testing.assert_allclose(g, rgb @ np.array([0.299, 0.587, 0.114]), atol=1e-12)


def test_grace_hopper_downsample_is_block_average():
    g = data.grace_hopper()
    g2 = data.grace_hopper(downsample=2)
    assert g2.shape == (300, 256)
    np.testing.assert_allclose(g2[3, 5], g[6:8, 10:12].mean(), atol=1e-12)
    g7 = data.grace_hopper(downsample=7)  # 600 // 7 = 85, 512 // 7 = 73: remainders dropped
    assert g7.shape == (85, 73)
    np.testing.assert_allclose(g7[-1, -1], g[588:595, 504:511].mean(), atol=1e-12)
    with pytest.raises(ValueError, match="downsample"):
        data.grace_hopper(downsample=0)


def test_grace_hopper_returns_copies():
    g = data.grace_hopper()
    g[:] = 0
    assert data.grace_hopper().max() > 0.5


def test_image_patches_shape_dc_and_seed():
    P = data.image_patches(500, size=8, seed=3)
    assert P.shape == (500, 64) and P.dtype == np.float64
    np.testing.assert_allclose(P.sum(axis=1), 0.0, atol=1e-12)
    np.testing.assert_array_equal(P, data.image_patches(500, size=8, seed=3))
    assert not np.array_equal(P, data.image_patches(500, size=8, seed=4))
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(P, data.image_patches(500, size=8, rng=rng))


def test_image_patches_are_crops_of_the_image():
    img = np.arange(10 * 12, dtype=np.float64).reshape(10, 12)
    P = data.image_patches(50, size=3, seed=0, downsample=1, remove_dc=False, image=img)
    assert P.shape == (50, 9)
    for p in P.reshape(50, 3, 3):
        r, c = divmod(int(p[0, 0]), 12)
        assert r <= 7 and c <= 9
        np.testing.assert_array_equal(p, img[r : r + 3, c : c + 3])
    # downsample applies to a given image too
    P2 = data.image_patches(5, size=2, seed=0, downsample=2, image=np.ones((8, 8)))
    assert P2.shape == (5, 4)
    np.testing.assert_array_equal(P2, 0.0)


def test_image_patches_errors():
    with pytest.raises(ValueError, match="does not fit"):
        data.image_patches(3, size=9, downsample=1, image=np.zeros((8, 20)))
    with pytest.raises(ValueError, match="2-D grayscale"):
        data.image_patches(3, image=np.zeros((8, 8, 3)))


# ----------------------------------------------------------------------------- whitening


def _cov(Z):
    Zc = Z - Z.mean(0)
    return Zc.T @ Zc / len(Z)


def test_pca_whiten_gives_identity_covariance_without_eps():
    P = data.image_patches(4000, size=6, seed=0)
    Z, V = data.pca_whiten(P, eps=0.0)
    # removing each patch's mean loses one dimension: 35 directions are left
    assert Z.shape == (4000, 35) and V.shape == (36, 35)
    np.testing.assert_allclose(_cov(Z), np.eye(35), atol=1e-8)
    np.testing.assert_allclose(Z, (P - P.mean(0)) @ V)
    Zk, Vk = data.pca_whiten(P, k=10, eps=0.0)
    np.testing.assert_allclose(Zk, Z[:, :10])
    with pytest.raises(ValueError, match="k must be"):
        data.pca_whiten(P, k=37)


def test_pca_whiten_is_deterministic_and_ordered():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 4)) * np.array([3.0, 1.0, 0.5, 2.0])
    _, V = data.pca_whiten(X, eps=0.0)
    _, V2 = data.pca_whiten(X[::-1].copy(), eps=0.0)
    np.testing.assert_allclose(V, V2, atol=1e-10)
    # component 0 follows the largest-variance pixel (column 0), with a positive sign
    assert np.argmax(np.abs(V[:, 0])) == 0 and V[0, 0] > 0


def test_zca_whiten_is_symmetric_and_whitens():
    P = data.image_patches(4000, size=6, seed=1)
    Xw, W = data.zca_whiten(P, eps=0.0)
    assert Xw.shape == (4000, 36) and W.shape == (36, 36)
    np.testing.assert_array_equal(W, W.T)
    lam = np.linalg.eigvalsh(_cov(Xw))
    # one zero direction (the DC removed from every patch), all others exactly whitened
    np.testing.assert_allclose(lam[0], 0.0, atol=1e-8)
    np.testing.assert_allclose(lam[1:], 1.0, atol=1e-8)
    Xr, _ = data.zca_whiten(P)  # default eps damps low-variance directions: variances < 1
    assert np.linalg.eigvalsh(_cov(Xr)).max() < 1.0


def test_whiten_errors():
    with pytest.raises(ValueError, match="2-D"):
        data.zca_whiten(np.zeros(5))
    with pytest.raises(ValueError, match="eps"):
        data.zca_whiten(np.eye(3), eps=-1.0)


# --------------------------------------------------------------------------- minibatches


def test_minibatches_cover_every_sample_once():
    X = np.arange(10)[:, None] * np.ones((1, 3))
    y = np.arange(10)
    batches = list(data.minibatches(X, y, batch_size=4, seed=0))
    assert [len(xb) for xb, _ in batches] == [4, 4, 2]
    seen = np.concatenate([yb for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(10))
    for xb, yb in batches:
        np.testing.assert_array_equal(xb[:, 0], yb)


def test_minibatches_seeded_and_deterministic():
    X, y = np.arange(100), np.arange(100)
    a = [yb.tolist() for _, yb in data.minibatches(X, y, 16, seed=7)]
    b = [yb.tolist() for _, yb in data.minibatches(X, y, 16, seed=7)]
    c = [yb.tolist() for _, yb in data.minibatches(X, y, 16, seed=8)]
    assert a == b and a != c
    d = [yb.tolist() for _, yb in data.minibatches(X, y, 16, rng=np.random.default_rng(7))]
    assert a == d


def test_minibatches_no_shuffle_drop_last_and_no_y():
    X, y = np.arange(10), np.arange(10) * 10
    got = [(xb.tolist(), yb.tolist()) for xb, yb in data.minibatches(X, y, 3, shuffle=False)]
    assert got[0] == ([0, 1, 2], [0, 10, 20]) and got[-1] == ([9], [90])
    kept = list(data.minibatches(X, y, 3, shuffle=False, drop_last=True))
    assert [len(xb) for xb, _ in kept] == [3, 3, 3]
    only_x = list(data.minibatches(X, None, 4, seed=0))
    assert all(yb is None for _, yb in only_x) and sum(len(xb) for xb, _ in only_x) == 10
    assert list(data.minibatches(X[:0], y[:0], 4)) == []


def test_minibatches_errors_are_readable_and_eager():
    X = np.zeros((10, 2))
    with pytest.raises(ValueError, match="X has 10 samples but y has 9 samples"):
        data.minibatches(X, np.zeros(9), 4)  # raised at the call, before iterating
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        data.minibatches(X, np.zeros(10), 0)
    with pytest.raises(TypeError, match="batch_size must be an int"):
        data.minibatches(X, np.zeros(10), 2.0)
