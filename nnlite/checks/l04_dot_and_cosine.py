"""Visible checks of lesson 04, "Dot product, angle and cosine similarity".

In the lesson::

    from nnlite.checks import lesson
    check = lesson("04_dot_and_cosine")
    ...
    check("cosine_similarity", cosine_similarity)
    cosine_similarity = check.use("cosine_similarity", cosine_similarity,
                                  fallback=similarity.cosine_similarity)

Each check is a quick smoke test of one exercise's contract (a shape, a dtype, an easy value, an
edge case the lesson's text states), compared with :mod:`nnlite.similarity` on tiny inputs; they
never show the answer. The hidden graders in ``tests/graders/test_04_dot_and_cosine.py`` test far
more. Every fallback is a function of :mod:`nnlite.similarity`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnlite import similarity as S
from nnlite.checks import visible

LESSON = "04_dot_and_cosine"

# ------------------------------------------------------------------------------------- helpers


def _close(got: Any, want: Any, what: str, rtol: float = 1e-10, atol: float = 0.0) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what} has shape {got.shape}, expected {want.shape}"
    assert got.dtype.kind in "fiu", f"{what} is not numeric (dtype {got.dtype})"
    g = got.astype(np.float64)
    w = want.astype(np.float64)
    assert np.array_equal(np.isnan(g), np.isnan(w)), (
        f"{what}: NaN where none is expected, or none where NaN is"
    )
    ok = np.isnan(w) | (np.abs(g - w) <= atol + rtol * np.abs(w))
    assert np.all(ok), f"{what}: values differ from the expected result"


def _raises_value_error(fn, *args, what: str, must_name: tuple[str, ...] = ()) -> None:
    try:
        fn(*args)
    except NotImplementedError:
        raise
    except ValueError as exc:
        for text in must_name:
            assert text in str(exc), f"{what}: the error message should name {text}"
    else:
        raise AssertionError(f"{what} did not raise ValueError")


_GEN_SEED = 404


def _pair(shape_a, shape_b, seed=_GEN_SEED):
    gen = np.random.default_rng(seed)
    return gen.normal(size=shape_a), gen.normal(size=shape_b)


# ---------------------------------------------------------------------------- cosine_similarity


@visible("cosine_similarity", hint="Divide the dot product by both norms: a·b / (‖a‖ ‖b‖).")
def cos_simple(cosine_similarity):
    """parallel, opposite, perpendicular and 45° vectors give 1, -1, 0 and 0.7071"""
    cases = [([1.0, 2.0], [2.0, 4.0], 1.0), ([1.0, 2.0], [-3.0, -6.0], -1.0),
             ([1.0, 0.0], [0.0, 1.0], 0.0), ([1.0, 1.0], [1.0, 0.0], np.sqrt(0.5))]  # fmt: skip
    for a, b, want in cases:
        _close(cosine_similarity(np.array(a), np.array(b)), want, f"cosine of {a} and {b}",
               atol=1e-12)  # fmt: skip


@visible(
    "cosine_similarity",
    hint="Reduce along `axis` only (axis=axis, keepdims=True for the per-vector numbers), after "
    "broadcasting a against b.",
)
def cos_batches(cosine_similarity):
    """batches: shapes (2, 1, 4) and (3, 4) give (2, 3); axis=0 works too"""
    a, b = _pair((2, 1, 4), (3, 4))
    _close(cosine_similarity(a, b), S.cosine_similarity(a, b), "shapes (2, 1, 4) and (3, 4)")
    a, b = _pair((4, 3), (4, 3), seed=1)
    _close(cosine_similarity(a, b, axis=0), S.cosine_similarity(a, b, axis=0), "axis=0 on (4, 3)")


@visible(
    "cosine_similarity",
    hint="Clamp each norm on its own: max(‖a‖, eps) * max(‖b‖, eps); a zero vector has s = 0, "
    "divide it by 1 instead of 0.",
)
def cos_zero_and_tiny(cosine_similarity):
    """a zero vector gives 0; tiny vectors follow PyTorch's eps rule (1e-10 twice: 1e-4)"""
    _close(cosine_similarity(np.zeros(3), np.ones(3)), 0.0, "cosine with a zero vector")
    tiny = np.array([1e-10])
    _close(cosine_similarity(tiny, tiny), 1e-4, "cosine of [1e-10] with itself", rtol=1e-9)


@visible(
    "cosine_similarity",
    hint="Scale each vector by its largest absolute entry before squaring: a·a overflows at 1e200.",
)
def cos_huge(cosine_similarity):
    """right for huge entries: [1e200, 2e200] and [3e200, 1e200] give 0.7071"""
    with np.errstate(all="ignore"):
        got = cosine_similarity(np.array([1e200, 2e200]), np.array([3e200, 1e200]))
    _close(got, 5 / np.sqrt(50), "cosine of [1e200, 2e200] and [3e200, 1e200]", rtol=1e-12)


@visible(
    "cosine_similarity",
    hint="Clip the result to [-1, 1]; return float32 only when both inputs are float32.",
)
def cos_dtypes(cosine_similarity):
    """float32 in gives float32 out, never above 1; integers give float64; inputs unchanged"""
    x = np.random.default_rng(_GEN_SEED).normal(size=(500, 30)).astype(np.float32)
    x_before = x.copy()
    got = np.asarray(cosine_similarity(x, x))
    assert got.dtype == np.float32, f"float32 inputs gave {got.dtype}, expected float32"
    assert got.max() <= 1.0, "a float32 vector's cosine with itself came out above 1"
    assert np.array_equal(x, x_before), "cosine_similarity modified its input"
    ints = np.asarray(cosine_similarity(np.array([1, 2]), np.array([3, 4])))
    assert ints.dtype == np.float64, f"integer inputs gave {ints.dtype}, expected float64"


@visible("cosine_similarity", hint="Catch numpy's error and raise your own ValueError.")
def cos_shape_error(cosine_similarity):
    """mismatched shapes raise ValueError naming both shapes"""
    a, b = np.ones((3, 5)), np.ones((4, 5))
    what, shapes = "shapes (3, 5) and (4, 5)", ("(3, 5)", "(4, 5)")
    _raises_value_error(cosine_similarity, a, b, what=what, must_name=shapes)


# ------------------------------------------------------------------------------------ normalize


@visible("normalize", hint="Divide by the norm along `axis` only (keepdims=True).")
def normalize_rows(normalize):
    """vectors become unit vectors, along the last axis and along axis=0"""
    x, _ = _pair((4, 3), (1,))
    _close(normalize(x), S.normalize(x), "normalize(x) of shape (4, 3)")
    _close(normalize(x, axis=0), S.normalize(x, axis=0), "normalize(x, axis=0)")


@visible("normalize", hint="Divide by max(‖x‖, eps), not by ‖x‖ + eps.")
def normalize_small(normalize):
    """a zero vector stays zero; a vector of norm below eps is divided by eps"""
    x = np.array([[0.0, 0.0], [1e-13, 0.0], [3.0, 4.0]])
    _close(normalize(x), S.normalize(x), "normalize of a zero, a tiny and a (3, 4) row")


@visible("normalize", hint="Scale by the largest absolute entry before squaring.")
def normalize_huge(normalize):
    """right for huge entries: [1e200, 2e200] becomes [0.4472, 0.8944]"""
    with np.errstate(all="ignore"):
        got = normalize(np.array([1e200, 2e200]))
    _close(got, np.array([1.0, 2.0]) / np.sqrt(5), "normalize([1e200, 2e200])", rtol=1e-12)


@visible("normalize", hint="float32 in, float32 out; let NaN spread through the whole vector.")
def normalize_dtypes(normalize):
    """float32 stays float32, integers give float64, NaN makes its vector NaN, input unchanged"""
    x = np.array([[3.0, 4.0]], dtype=np.float32)
    got = np.asarray(normalize(x))
    assert got.dtype == np.float32, f"float32 input gave {got.dtype}"
    assert np.asarray(normalize(np.array([3, 4]))).dtype == np.float64, (
        "integers should give float64"
    )
    nan = np.array([1.0, np.nan])
    with np.errstate(all="ignore"):
        out = np.asarray(normalize(nan))
    assert np.isnan(out).all(), "a vector containing NaN should become all NaN"
    assert np.array_equal(x, [[3.0, 4.0]]), "normalize modified its input"


# ---------------------------------------------------------------------------------------- angle


@visible("angle", hint="arccos of the cosine similarity; np.degrees converts radians.")
def angle_values(angle, cosine_distance):
    """right angle is pi/2 (90 degrees), opposite is pi (180); batches broadcast"""
    _close(angle(np.array([1.0, 0.0]), np.array([0.0, 2.0])), np.pi / 2, "angle at 90°", rtol=1e-12)
    got = angle(np.array([1.0, 0.0]), np.array([-1.0, 0.0]), degrees=True)
    _close(got, 180.0, "angle in degrees for opposite vectors", rtol=1e-12)
    a, b = _pair((2, 1, 3), (4, 3))
    _close(angle(a, b), S.angle(a, b), "angle of shapes (2, 1, 3) and (4, 3)")
    a, b = _pair((3, 5), (3, 5), seed=2)
    _close(angle(a, b, axis=0), S.angle(a, b, axis=0), "angle with axis=0")


@visible("angle", hint="Use the clipped cosine: arccos(1.0000000000000002) is NaN.")
def angle_self(angle, cosine_distance):
    """a vector's angle with itself is 0, not NaN (float64 and float32)"""
    x = np.random.default_rng(_GEN_SEED).normal(size=(300, 7))
    for dtype in (np.float64, np.float32):
        with np.errstate(all="ignore"):
            got = np.asarray(angle(x.astype(dtype), x.astype(dtype)))
        assert not np.isnan(got).any(), f"{np.dtype(dtype).name}: the angle came out NaN"
        assert got.dtype == dtype, f"{np.dtype(dtype).name} input gave {got.dtype}"
        assert np.abs(got).max() < 1e-3, f"{np.dtype(dtype).name}: the angle is not 0"


@visible("angle", hint="cosine_distance is 1 - cos.")
def cosine_distance_values(angle, cosine_distance):
    """cosine_distance is 0, 1 and 2 for the same, perpendicular and opposite directions"""
    a = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
    b = np.array([[2.0, 2.0], [1.0, -1.0], [-3.0, -3.0]])
    _close(cosine_distance(a, b), [0.0, 1.0, 2.0], "cosine_distance", atol=1e-12)
    a, b = _pair((5, 4), (5, 4), seed=3)
    _close(cosine_distance(a, b), S.cosine_distance(a, b), "cosine_distance of random vectors")


# ------------------------------------------------------------------------------ pairwise_cosine


@visible(
    "pairwise_cosine",
    hint="Normalise the rows of A and of B (with eps = 1e-8), then one product A_unit @ B_unit.T.",
)
def pairwise_values(pairwise_cosine):
    """an (n, d) and an (m, d) array give (n, m) cosines; a zero row gives zeros"""
    A, B = _pair((5, 3), (4, 3))
    A[1] = 0.0
    _close(pairwise_cosine(A, B), S.pairwise_cosine(A, B), "pairwise_cosine((5, 3), (4, 3))")


@visible("pairwise_cosine", hint="Normalise with the scaled norm, so 1e200 rows do not overflow.")
def pairwise_huge(pairwise_cosine):
    """right for rows with entries of 1e200"""
    A, B = _pair((3, 4), (2, 4), seed=5)
    with np.errstate(all="ignore"):
        got = pairwise_cosine(A * 1e200, B * 1e200)
    _close(got, S.pairwise_cosine(A, B), "pairwise_cosine of rows scaled by 1e200", rtol=1e-9)


@visible("pairwise_cosine", hint="Check the shapes first and raise ValueError naming both.")
def pairwise_dtype_and_errors(pairwise_cosine):
    """float32 inputs give float32; (5, 3) and (4, 2) raise ValueError naming both shapes"""
    A, B = _pair((5, 3), (4, 3), seed=6)
    got = np.asarray(pairwise_cosine(A.astype(np.float32), B.astype(np.float32)))
    assert got.dtype == np.float32, f"float32 inputs gave {got.dtype}"
    _raises_value_error(pairwise_cosine, A, B[:, :2], what="shapes (5, 3) and (4, 2)",
                        must_name=("(5, 3)", "(4, 2)"))  # fmt: skip


# ---------------------------------------------------------------------------------------- top_k


@visible(
    "top_k",
    hint="A stable sort of the negated scores keeps equal scores in index order.",
)
def top_k_order_and_ties(top_k):
    """the largest first; equal scores in index order: top 3 of [1, 3, 3, 2, 3] is [1, 2, 4]"""
    got = np.asarray(top_k(np.array([1.0, 3.0, 3.0, 2.0, 3.0]), 3))
    assert got.dtype.kind in "iu", f"top_k returned {got.dtype}, expected integer indices"
    assert got.tolist() == [1, 2, 4], f"top 3 of [1, 3, 3, 2, 3] gave {got.tolist()}"
    got = np.asarray(top_k(np.array([0.5, 2.0, -1.0, 7.0]), 4))
    assert got.tolist() == [3, 1, 0, 2], f"the full ranking of [0.5, 2, -1, 7] gave {got.tolist()}"


@visible("top_k", hint="Sort along `axis` and take the first k positions along that axis.")
def top_k_axis(top_k):
    """2-D scores: along axis 0 (per column) and axis=1 (per row)"""
    scores = np.random.default_rng(_GEN_SEED).integers(0, 4, size=(6, 3)).astype(float)
    _close(top_k(scores, 2, axis=0), S.top_k(scores, 2, axis=0), "top_k(scores (6, 3), 2, axis=0)")
    _close(top_k(scores, 3, axis=1), S.top_k(scores, 3, axis=1), "top_k(scores (6, 3), 3, axis=1)")


@visible("top_k", hint="Check 0 <= k <= n and NaN yourself, and raise ValueError.")
def top_k_edges(top_k):
    """k = 0 gives no indices; k too large and NaN scores raise ValueError"""
    got = np.asarray(top_k(np.array([1.0, 2.0]), 0))
    assert got.shape == (0,), f"k = 0 gave shape {got.shape}, expected (0,)"
    _raises_value_error(top_k, np.array([1.0, 2.0]), 3, what="k = 3 for 2 scores")
    _raises_value_error(top_k, np.array([1.0, np.nan]), 1, what="scores containing NaN")
