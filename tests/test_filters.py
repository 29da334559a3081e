"""nnlite.filters: im2col/conv2d (against loops, nnlite.functional and PyTorch), Gabor kernels,
gratings and tuning, whitening, FastICA, phase scrambling, OSI, locality and the Gabor fit."""

import numpy as np
import pytest

from nnlite import filters as fl
from nnlite import functional as F


def naive_conv(x, w, b, stride, padding):
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1
    out = np.zeros((N, O, oh, ow))
    for n in range(N):
        for o in range(O):
            for i in range(oh):
                for j in range(ow):
                    win = xp[n, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
                    out[n, o, i, j] = np.sum(win * w[o]) + (0 if b is None else b[o])
    return out


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), (3, 2)])
def test_conv2d_matches_loops_and_nnlite(stride, padding):
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    got = fl.conv2d(x, w, b, stride=stride, padding=padding)
    np.testing.assert_allclose(got, naive_conv(x, w, b, stride, padding), rtol=1e-12, atol=1e-12)
    ref = F.conv2d(x, w, b, stride=stride, padding=padding).data
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_conv2d_is_cross_correlation_not_convolution():
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0  # an impulse: cross-correlation returns the kernel flipped
    w = np.arange(9.0).reshape(1, 1, 3, 3)
    out = fl.conv2d(x, w, padding=1)[0, 0, 1:4, 1:4]
    np.testing.assert_array_equal(out, w[0, 0, ::-1, ::-1])


def test_conv2d_dtypes_and_errors():
    x32 = np.ones((1, 1, 4, 4), np.float32)
    assert fl.conv2d(x32, np.ones((1, 1, 2, 2), np.float32)).dtype == np.float32
    assert fl.conv2d(np.ones((1, 1, 4, 4), int), np.ones((1, 1, 2, 2), int)).dtype == np.float64
    assert fl.conv2d(np.ones((0, 1, 4, 4)), np.ones((2, 1, 2, 2))).shape == (0, 2, 3, 3)
    with pytest.raises(ValueError, match=r"conv2d.*\(1, 2, 4, 4\).*\(1, 1, 2, 2\)"):
        fl.conv2d(np.ones((1, 2, 4, 4)), np.ones((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="im2col"):
        fl.im2col(np.ones((1, 1, 2, 2)), 3)


def test_sobel_responds_at_a_vertical_edge_only():
    img = np.zeros((1, 1, 6, 8))
    img[..., 4:] = 1.0  # dark left, bright right
    out = fl.conv2d(img, fl.SOBEL_X[None, None])[0, 0]
    assert np.all(out[:, 2:4] == 4.0) and np.all(out[:, [0, 1, 4, 5]] == 0.0)


def test_gabor_kernel_convention():
    g = fl.gabor_kernel(9, 0.0, 0.25, 2.0, zero_mean=False)
    assert g[4, 4] == 1.0 and g.shape == (9, 9)
    np.testing.assert_allclose(g, g[::-1], atol=1e-15)  # theta = 0: varies along x only...
    # theta = pi/2 varies along y (up): odd phase is positive one pixel *above* the centre.
    odd = fl.gabor_kernel(9, np.pi / 2, 0.25, 2.0, phase=-np.pi / 2, zero_mean=False)
    assert odd[3, 4] > 0.5 and odd[5, 4] < -0.5
    assert abs(fl.gabor_kernel(8, 0.3, 0.2, 2.0).mean()) < 1e-15


def test_tuning_peaks_at_the_kernel_orientation_and_is_pi_periodic():
    thetas = np.linspace(0, np.pi, 16, endpoint=False)
    for i in (0, 3, 5, 12):
        curve = fl.orientation_tuning(fl.gabor_kernel(15, thetas[i], 0.2, 3.0), thetas, 0.2)
        assert int(np.argmax(curve)) == i
    k = fl.gabor_kernel(15, 0.7, 0.2, 3.0)
    a = fl.orientation_tuning(k, thetas, 0.2)
    np.testing.assert_allclose(a, fl.orientation_tuning(k, thetas + np.pi, 0.2), atol=1e-9)


def test_whiten_identity_covariance_and_zca_symmetric():
    rng = np.random.default_rng(1)
    P = rng.normal(size=(500, 16)) @ rng.normal(size=(16, 16))
    Z, V = fl.whiten(P, k=10)
    assert Z.shape == (500, 10) and V.shape == (16, 10)
    np.testing.assert_allclose(Z.T @ Z / 500, np.eye(10), atol=1e-8)
    Zz, Vz = fl.whiten(P, method="zca")
    np.testing.assert_allclose(Vz, Vz.T, atol=1e-12)
    assert Zz.shape == (500, 16)
    # each patch's mean is removed first: adding a constant to a patch changes nothing
    Z2, _ = fl.whiten(P + rng.normal(size=(500, 1)), k=10)
    np.testing.assert_allclose(Z2, Z, atol=1e-8)
    # the data module's PCA whitening agrees on patches whose means are already removed
    from nnlite.data import pca_whiten

    Pc = P - P.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(pca_whiten(Pc, k=10, eps=0.0)[0], Z, atol=1e-8)


def test_fastica_recovers_a_laplacian_mixture():
    rng = np.random.default_rng(0)
    S = rng.laplace(size=(5000, 4))
    A = rng.normal(size=(4, 4))
    X = S @ A.T
    Xc = X - X.mean(axis=0)
    lam, U = np.linalg.eigh(Xc.T @ Xc / len(X))
    Wh = U / np.sqrt(lam)
    W = fl.fastica(Xc @ Wh, seed=0)
    np.testing.assert_allclose(W @ W.T, np.eye(4), atol=1e-10)
    assert fl.amari_index(W @ Wh.T, A) < 0.05
    assert fl.amari_index(np.eye(4), A) > 0.1


def test_phase_scramble_keeps_the_power_spectrum():
    img = np.random.default_rng(0).random((20, 24))
    out = fl.phase_scramble(img, seed=1)
    np.testing.assert_allclose(np.abs(np.fft.fft2(out)), np.abs(np.fft.fft2(img)), rtol=1e-9)
    assert np.abs(out - img).max() > 0.1


def test_osi_and_locality_extremes():
    p = 8
    gr = fl.grating(p, 0.0, 0.25)  # on the FFT grid: a single orientation
    assert fl.orientation_selectivity(gr.ravel(), p)[0] >= 0.85
    x, y = fl.coordinates(p)
    r2 = x**2 + y**2
    dog = np.exp(-r2 / 2) - 0.5 * np.exp(-r2 / 8)
    assert fl.orientation_selectivity(dog.ravel(), p)[0] < 0.05
    delta = np.zeros(p * p)
    delta[27] = 1.0
    assert fl.locality(delta, p)[0] == 0.0
    noise = np.random.default_rng(0).normal(size=(200, p * p))
    assert 0.85 < np.median(fl.locality(noise, p)) < 1.1
    with pytest.raises(ValueError, match="locality"):
        fl.locality(np.ones((2, 10)), p)


def test_fit_gabor_recovers_a_gabor_and_not_noise():
    p = 8
    rng = np.random.default_rng(0)
    true = np.array(
        [[0.5, -0.3, 0.6, 0.2, 1.5, 2.0, 1.0, 0.4], [-1.0, 1.0, 2.0, 0.3, 1.2, 1.0, 2.0, -1.0]]
    )
    G = fl.gabor_model(true, p)
    params, r2 = fl.fit_gabor(G, p)
    assert np.all(r2 > 0.999)
    np.testing.assert_allclose(fl.gabor_model(params, p), G, atol=1e-3)
    np.testing.assert_allclose(params[:, 3], true[:, 3], atol=1e-3)
    _, r2n = fl.fit_gabor(rng.normal(size=(20, p * p)), p)
    assert np.median(r2n) < 0.5
    mask = fl.gabor_like([0.9, 0.9, 0.6], [0.5, 0.2, 0.5], [0.5, 0.5, 0.5])
    assert mask.tolist() == [True, False, False]


@pytest.mark.torch
def test_im2col_and_conv2d_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    for stride, padding in [(1, 0), (2, 1), ((2, 1), (0, 1))]:
        cols = torch.nn.functional.unfold(
            torch.tensor(x), (3, 2), padding=padding, stride=stride
        ).numpy()
        np.testing.assert_allclose(fl.im2col(x, (3, 2), stride, padding), cols, atol=1e-12)
        want = torch.nn.functional.conv2d(
            torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=stride, padding=padding
        ).numpy()
        np.testing.assert_allclose(fl.conv2d(x, w, b, stride, padding), want, atol=1e-12)
