"""similarity: cosine similarity (PyTorch's eps semantics, right at 1e±300), normalize, angle,
cosine distance, pairwise cosines and top-k; cross-checked against torch where it is installed."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlite import similarity as S


def plain_cos(a, b, eps=1e-8):
    """The textbook formula with PyTorch's clamp, in float64 (right at moderate magnitudes)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    na = max(np.sqrt(a @ a), eps)
    nb = max(np.sqrt(b @ b), eps)
    return a @ b / (na * nb)


def test_cosine_of_simple_pairs():
    assert S.cosine_similarity([1, 0], [0, 1]) == 0.0
    assert S.cosine_similarity([1, 2], [2, 4]) == pytest.approx(1.0, abs=1e-15)
    assert S.cosine_similarity([1, 2], [-3, -6]) == pytest.approx(-1.0, abs=1e-15)
    assert S.cosine_similarity([1, 1], [1, 0]) == pytest.approx(np.sqrt(0.5), rel=1e-15)


def test_cosine_matches_the_formula_on_random_vectors():
    gen = np.random.default_rng(0)
    A, B = gen.normal(size=(20, 7)), gen.normal(size=(20, 7)) * 3
    got = S.cosine_similarity(A, B)
    want = [plain_cos(a, b) for a, b in zip(A, B, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_cosine_scale_invariance_and_symmetry():
    gen = np.random.default_rng(1)
    a, b = gen.normal(size=(5, 6)), gen.normal(size=(5, 6))
    base = S.cosine_similarity(a, b)
    np.testing.assert_allclose(S.cosine_similarity(3.5 * a, b), base, rtol=1e-13)
    np.testing.assert_allclose(S.cosine_similarity(-2 * a, b), -base, rtol=1e-13)
    np.testing.assert_array_equal(S.cosine_similarity(b, a), base)


def test_cosine_is_right_at_huge_and_tiny_magnitudes():
    want = 5 / np.sqrt(50)  # [1, 2] . [3, 1] / (sqrt(5) sqrt(10))
    for scale in (1e200, 1e300, 1e-5):
        got = S.cosine_similarity([1 * scale, 2 * scale], [3 * scale, 1 * scale])
        assert got == pytest.approx(want, rel=1e-14), scale
    # Norms below eps are clamped (PyTorch's semantics): 5e-300 / (1e-8 * 1e-8), not 0.
    got = S.cosine_similarity([1e-150, 2e-150], [3e-150, 1e-150])
    assert got == pytest.approx(5e-300 / 1e-16, rel=1e-14)
    # Mixed: one huge and one moderate vector.
    assert S.cosine_similarity([1e300, 0.0], [1.0, 1.0]) == pytest.approx(np.sqrt(0.5), rel=1e-14)


def test_cosine_eps_clamps_each_norm_separately():
    tiny = np.array([1e-10, 1e-10])  # norm 1.41e-10 < eps = 1e-8 (both clamped)
    assert S.cosine_similarity(tiny, tiny) == pytest.approx(2e-20 / 1e-16, rel=1e-12)
    one = np.array([1e-10])
    assert S.cosine_similarity(one, one) == pytest.approx(1e-4, rel=1e-12)
    # Only one norm clamped: 1e-10 / (1e-8 * 1) = 1e-2.
    assert S.cosine_similarity([1e-10, 0], [1, 0]) == pytest.approx(1e-2, rel=1e-12)
    # eps on the product of the norms would give 1e-20 / max(1e-20, 1e-8) = 1e-12 instead.
    assert S.cosine_similarity(one, one, eps=1e-3) == pytest.approx(1e-20 / 1e-6, rel=1e-12)


def test_cosine_zero_vector_size0_axis_and_nan():
    assert S.cosine_similarity(np.zeros(4), np.ones(4)) == 0.0
    assert S.cosine_similarity(np.zeros(4), np.zeros(4)) == 0.0
    out = S.cosine_similarity(np.ones((3, 0)), np.ones((3, 0)))
    assert out.shape == (3,) and np.all(out == 0)
    out = S.cosine_similarity(np.ones((0, 4)), np.ones((0, 4)))
    assert out.shape == (0,)
    got = S.cosine_similarity([[1.0, np.nan], [1.0, 2.0]], [[1.0, 1.0], [2.0, 4.0]])
    assert np.isnan(got[0]) and got[1] == pytest.approx(1.0)


def test_cosine_broadcasting_and_axis():
    gen = np.random.default_rng(2)
    a, b = gen.normal(size=(2, 1, 4)), gen.normal(size=(3, 4))
    out = S.cosine_similarity(a, b)
    assert out.shape == (2, 3)
    assert out[1, 2] == pytest.approx(plain_cos(a[1, 0], b[2]), rel=1e-13)
    M, N = gen.normal(size=(4, 3)), gen.normal(size=(4, 3))
    np.testing.assert_allclose(S.cosine_similarity(M, N, axis=0), S.cosine_similarity(M.T, N.T))
    np.testing.assert_allclose(S.cosine_similarity(M, N, axis=-2), S.cosine_similarity(M.T, N.T))


def test_cosine_dtypes_and_clipping():
    gen = np.random.default_rng(3)
    x = gen.normal(size=(2000, 50)).astype(np.float32)
    self_cos = S.cosine_similarity(x, x)
    assert self_cos.dtype == np.float32 and self_cos.max() <= 1.0
    assert S.cosine_similarity(x, -x).min() >= -1.0
    assert S.cosine_similarity(np.array([1, 2]), np.array([3, 4])).dtype == np.float64
    assert S.cosine_similarity(x[0], x[1].astype(np.float64)).dtype == np.float64
    assert S.cosine_similarity(x[0].astype(np.float16), x[1].astype(np.float16)).dtype == np.float32


def test_cosine_errors_name_both_shapes_and_inputs_stay_unchanged():
    with pytest.raises(ValueError, match=r"cosine_similarity: shapes \(3, 5\) and \(4, 5\)"):
        S.cosine_similarity(np.ones((3, 5)), np.ones((4, 5)))
    with pytest.raises(ValueError, match="axis 2"):
        S.cosine_similarity(np.ones((3, 5)), np.ones((3, 5)), axis=2)
    with pytest.raises(ValueError, match="0-d"):
        S.cosine_similarity(1.0, 2.0)
    with pytest.raises(TypeError):
        S.cosine_similarity(np.ones(2, complex), np.ones(2))
    a, b = np.array([[1.0, 2.0], [3.0, 0.0]]), np.array([0.0, 5.0])
    a0, b0 = a.copy(), b.copy()
    S.cosine_similarity(a, b)
    S.normalize(a)
    S.pairwise_cosine(a, a)
    S.top_k(b, 1)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=6),
    st.integers(-300, 300),
    st.integers(-300, 300),
)
def test_cosine_is_in_range_and_scale_free(values, ea, eb):
    v = np.array(values)
    w = v[::-1].copy() + 0.5
    base = S.cosine_similarity(v, w)
    assert -1.0 <= base <= 1.0
    big = np.abs(v).max() * 10.0**ea > 1e-6 and np.abs(w).max() * 10.0**eb > 1e-6
    if big and np.abs(v).max() > 1e-6:  # every norm well above eps: cos is scale-free
        got = S.cosine_similarity(v * 10.0**ea, w * 10.0**eb)
        assert got == pytest.approx(base, rel=1e-9, abs=1e-12)


def test_normalize():
    out = S.normalize(np.array([[3.0, 4.0], [0.0, 0.0], [1e-13, 0.0]]))
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0], [0.1, 0.0]], rtol=1e-14)
    np.testing.assert_allclose(S.normalize([1e200, 2e200]), np.array([1, 2]) / np.sqrt(5))
    np.testing.assert_allclose(S.normalize([[3.0, 1.0], [4.0, 1.0]], axis=0)[:, 0], [0.6, 0.8])
    assert S.normalize(np.ones(3, np.float32)).dtype == np.float32
    assert S.normalize(np.arange(3)).dtype == np.float64
    assert np.isnan(S.normalize([1.0, np.nan])).all()
    with pytest.raises(ValueError, match="normalize"):
        S.normalize(np.ones(3), axis=1)


def test_angle_and_cosine_distance():
    assert S.angle([1, 0], [0, 1]) == pytest.approx(np.pi / 2)
    assert S.angle([1, 0], [-1, 0], degrees=True) == pytest.approx(180.0)
    assert S.angle([1, 0], [1, 0]) == 0.0  # clipped cosine: no NaN from arccos(1 + 1e-16)
    x = np.random.default_rng(4).normal(size=(100, 9)).astype(np.float32)
    assert not np.isnan(S.angle(x, x)).any() and S.angle(x, x).dtype == np.float32
    assert S.cosine_distance([1, 0], [0, 1]) == pytest.approx(1.0)
    # The triangle inequality: holds for the angle on random triples, fails for 1 - cos.
    gen = np.random.default_rng(5)
    u, v, w = gen.normal(size=(3, 500, 4))
    assert np.all(S.angle(u, w) <= S.angle(u, v) + S.angle(v, w) + 1e-12)
    deg = np.deg2rad([0.0, 45.0, 90.0])
    p, q, r = np.stack([np.cos(deg), np.sin(deg)], axis=1)
    assert S.cosine_distance(p, r) > S.cosine_distance(p, q) + S.cosine_distance(q, r) + 0.4


def test_pairwise_cosine():
    gen = np.random.default_rng(6)
    A, B = gen.normal(size=(5, 3)), gen.normal(size=(4, 3))
    A[2] = 0.0
    got = S.pairwise_cosine(A, B)
    assert got.shape == (5, 4)
    want = [[S.cosine_similarity(a, b) for b in B] for a in A]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    self_sim = S.pairwise_cosine(A * 1e250)
    assert self_sim.shape == (5, 5) and np.allclose(np.diag(self_sim), [1, 1, 0, 1, 1])
    assert S.pairwise_cosine(A.astype(np.float32), B.astype(np.float32)).dtype == np.float32
    assert S.pairwise_cosine(np.zeros((0, 3)), B).shape == (0, 4)
    with pytest.raises(ValueError, match=r"pairwise_cosine.*\(5, 3\) and \(4, 2\)"):
        S.pairwise_cosine(A, B[:, :2])


def test_top_k_order_ties_axis_and_errors():
    np.testing.assert_array_equal(S.top_k([1.0, 3.0, 3.0, 2.0, 3.0], 3), [1, 2, 4])
    np.testing.assert_array_equal(S.top_k([5, 4, 9], 0), np.zeros(0, int))
    scores = np.array([[1.0, 5.0], [5.0, 1.0], [5.0, 5.0]])
    np.testing.assert_array_equal(S.top_k(scores, 2, axis=0), [[1, 0], [2, 2]])
    np.testing.assert_array_equal(S.top_k(scores, 1, axis=-1), [[1], [0], [0]])
    assert S.top_k(scores, 2).dtype == np.int64
    ints = np.array([0, np.iinfo(np.int64).min, 7, -1])
    np.testing.assert_array_equal(S.top_k(ints, 4), [2, 0, 3, 1])
    np.testing.assert_array_equal(S.top_k(np.array([3, 255, 0], np.uint8), 3), [1, 0, 2])
    np.testing.assert_array_equal(S.top_k([-0.0, 0.0, -np.inf, np.inf], 4), [3, 0, 1, 2])
    with pytest.raises(ValueError, match="NaN"):
        S.top_k([1.0, np.nan], 1)
    with pytest.raises(ValueError, match="k must be"):
        S.top_k([1.0, 2.0], 3)
    with pytest.raises(ValueError, match="0-d"):
        S.top_k(1.0, 1)


# --------------------------------------------------------------------------- against PyTorch


@pytest.mark.torch
def test_cosine_similarity_matches_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    gen = np.random.default_rng(7)
    a, b = gen.normal(size=(2, 1, 5)), gen.normal(size=(3, 5))
    want = F.cosine_similarity(torch.tensor(a), torch.tensor(b), dim=-1).numpy()
    np.testing.assert_allclose(S.cosine_similarity(a, b), want, rtol=1e-12)
    want0 = F.cosine_similarity(torch.tensor(a[0].T), torch.tensor(b.T[:, :1]), dim=0).numpy()
    np.testing.assert_allclose(S.cosine_similarity(a[0].T, b.T[:, :1], axis=0), want0, rtol=1e-12)
    # eps semantics: each norm clamped separately (tiny vectors, one tiny vector, zero vector).
    cases = [
        ([1e-10, 1e-10], [1e-10, 1e-10]),
        ([1e-10], [1e-10]),
        ([1e-10, 0.0], [1.0, 0.0]),
        ([3e-9, 4e-9], [1e-9, -2e-9]),
        ([0.0, 0.0], [1.0, 2.0]),
    ]
    for x, y in cases:
        for eps in (1e-8, 1e-3):
            tx, ty = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
            t = F.cosine_similarity(tx, ty, dim=0, eps=eps).item()
            assert S.cosine_similarity(x, y, eps=eps) == pytest.approx(t, rel=1e-12, abs=0), (x, y)
    # NaN propagates in both.
    t = F.cosine_similarity(torch.tensor([1.0, np.nan]), torch.tensor([1.0, 1.0]), dim=0)  # float32
    assert np.isnan(t.item()) and np.isnan(S.cosine_similarity([1.0, np.nan], [1.0, 1.0]))


@pytest.mark.torch
def test_where_torch_differs_overflow_and_clipping():
    """The two deliberate differences from PyTorch 2.13, measured."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    a, b = [1e200, 2e200], [3e200, 1e200]
    ta, tb = torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    t = F.cosine_similarity(ta, tb, dim=0).item()
    assert t == 0.0  # torch: the product of the squared norms overflows
    assert S.cosine_similarity(a, b) == pytest.approx(5 / np.sqrt(50), rel=1e-14)
    assert F.normalize(ta, dim=0).abs().max().item() == 0.0
    np.testing.assert_allclose(S.normalize(a), np.array([1, 2]) / np.sqrt(5), rtol=1e-14)
    x = np.random.default_rng(0).normal(size=(2000, 50)).astype(np.float32)
    t32 = F.cosine_similarity(torch.tensor(x), torch.tensor(x), dim=1).numpy()
    assert t32.dtype == np.float32 and t32.max() > 1.0  # torch does not clip
    ours = S.cosine_similarity(x, x)
    assert ours.dtype == np.float32 and ours.max() <= 1.0
    np.testing.assert_allclose(ours, t32, atol=1e-6)


@pytest.mark.torch
def test_normalize_matches_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    gen = np.random.default_rng(8)
    x = gen.normal(size=(4, 6))
    x[1] = 0.0
    x[2] = 1e-14 * gen.normal(size=6)  # norm below eps = 1e-12: divided by eps
    for axis in (-1, 0):
        want = F.normalize(torch.tensor(x), dim=axis).numpy()
        np.testing.assert_allclose(S.normalize(x, axis=axis), want, rtol=1e-12, atol=1e-300)
    want = F.normalize(torch.tensor(x), dim=1, eps=1e-3).numpy()
    np.testing.assert_allclose(S.normalize(x, eps=1e-3), want, rtol=1e-12)
    x32 = x.astype(np.float32)
    want32 = F.normalize(torch.tensor(x32), dim=1).numpy()
    assert S.normalize(x32).dtype == np.float32
    np.testing.assert_allclose(S.normalize(x32), want32, rtol=1e-6, atol=1e-30)
