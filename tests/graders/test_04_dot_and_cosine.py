"""Hidden grader of lesson 04, "Dot product, angle and cosine similarity".

Every test scores one exercise (``@pytest.mark.exercise``) and compares the student's answer,
computed in the sandbox, with the solution notebook's answer (``reference``) or with an exact
value, in this trusted process. Exercises are graded independently: ``angle``,
``cosine_distance`` and ``pairwise_cosine`` are called through a driver that puts nnlite's
``cosine_similarity`` and ``normalize`` in place of the student's (the exercises they may build
on), so a broken ``cosine_similarity`` costs points in its own exercise only.

Edge-case families (CURRICULUM §1.4): zero vectors, size-0 axes, broadcasting, non-square
shapes, negative axes, float32 vs float64, integer input, NaN, magnitudes from 1e-300 to 1e300,
ties, inputs left unmodified (checked by the framework in every test). The plain tests at the end
(no exercise marker) are ignored by the grader; in CI they check the reference against PyTorch,
which is what makes "equal to the reference" mean "PyTorch's semantics".

Points per exercise add up to the points of the exercise cell in the notebook.
"""

from __future__ import annotations

import numpy as np
import pytest

from nnlite.grading import assert_close, assert_equal, assert_shape, assert_true

LESSON = "04_dot_and_cosine"
EXERCISES = {
    "cosine_similarity": ["cosine_similarity"],
    "normalize": ["normalize"],
    "angle": ["angle", "cosine_distance"],
    "pairwise_cosine": ["pairwise_cosine"],
    "top_k": ["top_k"],
}
# R13: nnlite's own versions, out of reach while the exercise is graded (nnlite.grading.ownwork).
# nnlite's angle, cosine_distance and pairwise_cosine contain a cosine similarity; its private
# helpers do the scaling that is the heart of the first two exercises.
OWN_WORK = {
    "cosine_similarity": [
        "nnlite.similarity:cosine_similarity",
        "nnlite.similarity:angle",
        "nnlite.similarity:cosine_distance",
        "nnlite.similarity:pairwise_cosine",
        "nnlite.similarity:_scaled",
        "nnlite.similarity:_inverse_clamped_norm",
    ],
    "normalize": [
        "nnlite.similarity:normalize",
        "nnlite.similarity:pairwise_cosine",
        "nnlite.similarity:_scaled",
    ],
    "angle": ["nnlite.similarity:angle", "nnlite.similarity:cosine_distance"],
    "pairwise_cosine": ["nnlite.similarity:pairwise_cosine"],
    "top_k": ["nnlite.similarity:top_k"],
}

HINT_FORMULA = "cos = a·b / (max(‖a‖, eps) * max(‖b‖, eps)): divide the dot product by both norms."
HINT_AXIS = (
    "Broadcast a against b first, then reduce along `axis` only (sum, max and norm with "
    "axis=axis, keepdims=True for the per-vector numbers); the result drops that axis."
)
HINT_EPS = (
    "Clamp each norm on its own, max(‖a‖, eps) * max(‖b‖, eps), as PyTorch does; eps added to "
    "the norms, or a clamp of their product, gives other values for tiny vectors."
)
HINT_ZERO = (
    "A zero vector has largest entry s = 0: divide it by 1 instead of 0, and its factor "
    "s / max(‖a‖, eps) is 0. np.max(..., initial=0.0) also handles a size-0 axis."
)
HINT_SCALE = (
    "Squares of 1e200 overflow: divide each vector by its largest absolute entry s first, then "
    "‖a‖ = s * ‖a / s‖."
)
HINT_CLIP = "Clip the cosine to [-1, 1]: round-off can give 1.0000000000000002."
HINT_DTYPE = "float32 in, float32 out (when both inputs are float32); integers give float64."
HINT_SHAPES = (
    "Raise ValueError with a message naming the function and both shapes, e.g. "
    "'cosine_similarity: shapes (3, 5) and (4, 5) are not broadcastable'."
)
HINT_NAN = "NaN must spread: do not replace or skip it (np.nanmax, np.nan_to_num hide it)."
HINT_NORMALIZE = "normalize(x) = x / max(‖x‖, eps) along `axis` (keepdims=True)."
HINT_NORMALIZE_EPS = (
    "Divide by max(‖x‖, eps), as torch.nn.functional.normalize: not by ‖x‖ + eps, and a zero "
    "vector must stay zero (no NaN)."
)
HINT_ANGLE = "angle = arccos(cosine_similarity(a, b, axis=axis)); np.degrees converts to degrees."
HINT_ANGLE_CLIP = (
    "arccos of a cosine slightly above 1 is NaN: use the clipped cosine_similarity (a vector's "
    "angle with itself is 0)."
)
HINT_DISTANCE = "cosine_distance = 1 - cosine_similarity(a, b, axis=axis)."
HINT_PAIRWISE = (
    "Normalise the rows of A and of B (eps = 1e-8, the eps of cosine_similarity), then one "
    "matrix product A_unit @ B_unit.T gives the (n, m) cosines."
)
HINT_TOPK_ORDER = "Return the indices of the k largest scores, the largest first."
HINT_TOPK_TIES = (
    "Equal scores go in index order (lower index first): a stable sort of the negated scores "
    "keeps it; reversing an ascending argsort puts ties in the wrong order."
)
HINT_TOPK_AXIS = "Rank along `axis` and keep the other axes: the result has length k along axis."
HINT_TOPK_ERRORS = "Raise ValueError yourself for k outside 0..n and for NaN scores."


# ============================================================================== drivers (sandbox)


def drive_with_nnlite(ns, name, *args, **kwargs):
    """Call the student's ``name`` with nnlite's cosine_similarity and normalize in place of the
    student's own (the earlier exercises it may call). Returns its answer."""
    from nnlite import similarity

    fn = ns[name]
    g = getattr(fn, "__globals__", {})
    keys = ("cosine_similarity", "normalize")
    saved = {k: g[k] for k in keys if k in g}
    g["cosine_similarity"] = similarity.cosine_similarity
    g["normalize"] = similarity.normalize
    try:
        return fn(*args, **kwargs)
    finally:
        for k in keys:
            if k in saved:
                g[k] = saved[k]
            else:
                g.pop(k, None)


def drive_raises(ns, name, *args):
    """Call ``name`` with nnlite's cosine_similarity and normalize (as ``drive_with_nnlite``);
    report what it raised: ("raised", class names along the MRO, message) or ("returned", [], "").
    """
    from nnlite import similarity

    fn = ns[name]
    g = getattr(fn, "__globals__", {})
    keys = ("cosine_similarity", "normalize")
    saved = {k: g[k] for k in keys if k in g}
    g["cosine_similarity"] = similarity.cosine_similarity
    g["normalize"] = similarity.normalize
    try:
        fn(*args)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - the student's code
        return "raised", [c.__name__ for c in type(exc).__mro__], str(exc)[:500]
    finally:
        for k in keys:
            if k in saved:
                g[k] = saved[k]
            else:
                g.pop(k, None)
    return "returned", [], ""


# ============================================================================== helpers (parent)


def raised_names(got, what):
    """The exception class names a driver reported, or fail when nothing was raised."""
    if not isinstance(got, tuple | list) or len(got) != 3 or got[0] != "raised":
        assert_true(False, f"{what} should raise ValueError, but it returned normally")
    return list(got[1])


# ============================================================================== inputs


def scaled_rows(rng, n, d):
    """n random d-vectors with lengths spread over two orders of magnitude (all far above eps:
    the value tests do not depend on how eps is applied; the eps tests do that)."""
    return rng.normal(size=(n, d)) * 10.0 ** rng.uniform(0, 2, size=(n, 1))


# ===================================================================== 1. cosine_similarity (6)


@pytest.mark.exercise("cosine_similarity")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_FORMULA)
def test_cos_random_batches(student, reference, rng):
    """random batches of vectors give the reference cosines (PyTorch's semantics)"""
    a, b = scaled_rows(rng, 6, 5), scaled_rows(rng, 6, 5)
    got = student.cosine_similarity(a, b)
    assert_close(got, reference.cosine_similarity(a, b), rtol=1e-7, atol=1e-15)
    one = student.cosine_similarity(a[0], b[0])  # two vectors: a single number
    assert_close(one, reference.cosine_similarity(a[0], b[0]), rtol=1e-7, atol=1e-15)


@pytest.mark.exercise("cosine_similarity")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_FORMULA)
def test_cos_scale_sign_symmetry(student, rng):
    """cos(a, c·a) is 1 for c > 0 and -1 for c < 0; cos(a, b) = cos(b, a)"""
    a = rng.normal(size=(4, 7))
    for c in (0.5, 3.0, 1e5):
        assert_close(student.cosine_similarity(a, c * a), np.ones(4), rtol=0, atol=1e-12)
        assert_close(student.cosine_similarity(a, -c * a), -np.ones(4), rtol=0, atol=1e-12)
    b = rng.normal(size=(4, 7))
    ab = student.cosine_similarity(a, b)
    assert_close(student.cosine_similarity(b, a), ab, rtol=1e-14, atol=1e-16, msg="cos(b, a)")


@pytest.mark.exercise("cosine_similarity")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_AXIS)
def test_cos_broadcasting(student, reference, rng):
    """shapes (2, 1, 4) and (3, 4) give (2, 3); (4, 1, 6) and (1, 3, 6) give (4, 3)"""
    for sa, sb in [((2, 1, 4), (3, 4)), ((4, 1, 6), (1, 3, 6)), ((5, 3), (3,))]:
        a, b = rng.normal(size=sa), rng.normal(size=sb)
        want = reference.cosine_similarity(a, b)
        assert_close(student.cosine_similarity(a, b), want, rtol=1e-7, atol=1e-15, public=True)


@pytest.mark.exercise("cosine_similarity")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_AXIS)
def test_cos_axis(student, reference, rng):
    """axis=0, axis=1 and axis=-2 pick the axis that holds the vectors"""
    cases = [((4, 3), 0), ((3, 4, 5), 1), ((3, 4, 5), -2), ((2, 6), -1)]
    for shape, axis in cases:
        a, b = rng.normal(size=shape), rng.normal(size=shape)
        want = reference.cosine_similarity(a, b, axis=axis)
        assert_close(student.cosine_similarity(a, b, axis=axis), want, rtol=1e-7, atol=1e-15)


@pytest.mark.exercise("cosine_similarity")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_ZERO)
def test_cos_zero_vector_and_empty_axis(student, reference, rng):
    """a zero vector gives exactly 0 (also two zero vectors); a size-0 axis gives 0"""
    a = rng.normal(size=(3, 4))
    a[1] = 0.0
    b = rng.normal(size=(3, 4))
    b[2] = 0.0
    got = student.cosine_similarity(a, b)
    want = np.array([reference.cosine_similarity(a[0], b[0]), 0.0, 0.0])
    assert_close(got, want, rtol=1e-7, atol=0, public=True)
    assert_close(student.cosine_similarity(np.zeros(5), np.zeros(5)), 0.0, rtol=0, atol=0)
    got = student.cosine_similarity(np.ones((3, 0)), np.ones((3, 0)))
    assert_close(got, np.zeros(3), rtol=0, atol=0, msg="a size-0 axis", public=True)


@pytest.mark.exercise("cosine_similarity")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_EPS)
def test_cos_eps_clamps_each_norm(student, reference, rng):
    """vectors with norms below eps follow PyTorch's rule (each norm clamped on its own)"""
    cases = [
        (np.array([1e-10, 1e-10]), np.array([1e-10, 1e-10]), 1e-8),  # both clamped: 2e-4
        (np.array([1e-10]), np.array([1e-10]), 1e-8),  # 1e-4
        (np.array([1e-10, 0.0]), np.array([1.0, 0.0]), 1e-8),  # one clamped: 1e-2
        (rng.normal(size=3) * 1e-4, rng.normal(size=3) * 1e-4, 1e-3),  # the eps argument
        (rng.normal(size=(2, 3)) * 1e-9, rng.normal(size=(2, 3)), 1e-8),
    ]
    for a, b, eps in cases:
        want = reference.cosine_similarity(a, b, eps=eps)
        got = student.cosine_similarity(a, b, eps=eps)
        assert_close(got, want, rtol=1e-9, atol=0)


@pytest.mark.exercise("cosine_similarity")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_SCALE)
def test_cos_huge_and_tiny_magnitudes(student, reference, rng):
    """right for entries from 1e-300 to 1e300 ([1e200, 2e200] and [3e200, 1e200]: 0.7071)"""
    got = student.cosine_similarity(np.array([1e200, 2e200]), np.array([3e200, 1e200]))
    assert_close(got, 5 / np.sqrt(50), rtol=1e-12)
    a, b = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    want = reference.cosine_similarity(a, b)
    for sa, sb in [(1e300, 1e300), (1e250, 1.0), (1e-150, 1e-150), (1e-300, 1e300)]:
        ref = reference.cosine_similarity(a * sa, b * sb)
        assert_close(student.cosine_similarity(a * sa, b * sb), ref, rtol=1e-9, atol=0)
    assert_close(student.cosine_similarity(a * 1e300, b * 1e300), want, rtol=1e-9)


@pytest.mark.exercise("cosine_similarity")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_DTYPE, on="dtype")
def test_cos_float32(student, reference, rng):
    """float32 in gives float32 out, and a float32 vector's cosine with itself is at most 1"""
    a = rng.normal(size=(6, 5)).astype(np.float32)
    b = rng.normal(size=(6, 5)).astype(np.float32)
    got = student.cosine_similarity(a, b)
    assert_close(got, reference.cosine_similarity(a, b), rtol=1e-5, atol=1e-6, dtype=np.float32)
    x = rng.normal(size=(2000, 40)).astype(np.float32)
    self_cos = np.asarray(student.cosine_similarity(x, x), dtype=np.float64)
    assert_shape(self_cos, (2000,))
    assert_true(
        bool(self_cos.max() <= 1.0),
        "a float32 vector's cosine with itself exceeds 1",
        hint=HINT_CLIP,
    )
    anti = np.asarray(student.cosine_similarity(x, -x), dtype=np.float64)
    assert_shape(anti, (2000,))
    assert_true(bool(anti.min() >= -1.0), "the cosine of x and -x falls below -1", hint=HINT_CLIP)


@pytest.mark.exercise("cosine_similarity")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_CLIP)
def test_cos_clipped_in_float64(student, rng):
    """float64 cosines stay within [-1, 1] (round-off would push some past 1)"""
    x = rng.normal(size=(3000, 33)) * 10.0 ** rng.uniform(-2, 2, size=(3000, 1))
    self_cos = np.asarray(student.cosine_similarity(x, x * 3.0), dtype=np.float64)
    assert_shape(self_cos, (3000,))
    assert_true(bool(self_cos.max() <= 1.0), "a cosine of parallel vectors exceeds 1")
    anti = np.asarray(student.cosine_similarity(x, -x), dtype=np.float64)
    assert_shape(anti, (3000,))
    assert_true(bool(anti.min() >= -1.0), "a cosine of opposite vectors falls below -1")


@pytest.mark.exercise("cosine_similarity")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_NAN)
def test_cos_nan_propagates(student, reference, rng):
    """a vector containing NaN gives NaN; the other vectors of the batch are unaffected"""
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    a[1, 2] = np.nan
    want = reference.cosine_similarity(a, b)
    assert_close(student.cosine_similarity(a, b), want, rtol=1e-7, atol=1e-15, equal_nan=True)


@pytest.mark.exercise("cosine_similarity")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_DTYPE)
def test_cos_integer_input(student, reference, rng):
    """integer arrays (and lists) give float64 cosines"""
    a, b = rng.integers(-5, 6, size=(4, 3)), rng.integers(-5, 6, size=(4, 3))
    a[0] = [1, 2, 3]
    want = reference.cosine_similarity(a, b)
    assert_close(student.cosine_similarity(a, b), want, rtol=1e-7, atol=1e-15, dtype=np.float64)
    got = student.cosine_similarity([1, 1], [1, 0])
    assert_close(got, np.sqrt(0.5), rtol=1e-7, dtype=np.float64)


@pytest.mark.exercise("cosine_similarity")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_SHAPES)
def test_cos_shape_error_names_both_shapes(student):
    """shapes (3, 5) and (4, 5) raise ValueError naming both shapes"""
    r = student.raises(ValueError).cosine_similarity(np.ones((3, 5)), np.ones((4, 5)))
    assert_true("(3, 5)" in r.message and "(4, 5)" in r.message,
                "the error message should name both shapes")  # fmt: skip
    r = student.raises(ValueError).cosine_similarity(np.ones((2, 7)), np.ones(6))
    assert_true("(2, 7)" in r.message and "(6,)" in r.message,
                "the error message should name both shapes")  # fmt: skip


# ============================================================================== 2. normalize (3)


@pytest.mark.exercise("normalize")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_NORMALIZE)
def test_normalize_values(student, reference, rng):
    """rows of random lengths become the reference's unit vectors"""
    x = scaled_rows(rng, 5, 4)
    assert_close(student.normalize(x), reference.normalize(x), rtol=1e-12, atol=1e-300)


@pytest.mark.exercise("normalize")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_NORMALIZE)
def test_normalize_axis(student, reference, rng):
    """axis=0 on (3, 5), axis=1 on (2, 3, 4), and a single 1-D vector"""
    for shape, axis in [((3, 5), 0), ((2, 3, 4), 1), ((6,), -1), ((2, 3, 4), -3)]:
        x = rng.normal(size=shape)
        want = reference.normalize(x, axis=axis)
        assert_close(student.normalize(x, axis=axis), want, rtol=1e-12, atol=1e-300)


@pytest.mark.exercise("normalize")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_NORMALIZE_EPS)
def test_normalize_small_norms(student, reference, rng):
    """a zero vector stays zero; a vector of norm below eps is divided by eps (PyTorch)"""
    x = rng.normal(size=(4, 3))
    x[1] = 0.0
    x[2] *= 1e-14
    assert_close(student.normalize(x), reference.normalize(x), rtol=1e-12, atol=0)
    y = rng.normal(size=(3, 2)) * 1e-4
    want = reference.normalize(y, eps=1e-3)
    assert_close(student.normalize(y, eps=1e-3), want, rtol=1e-12, atol=0, msg="eps=1e-3")


@pytest.mark.exercise("normalize")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_SCALE)
def test_normalize_huge_and_tiny(student, reference, rng):
    """right for entries of 1e200 and 1e300, and of 1e-200 (norm below eps)"""
    assert_close(student.normalize(np.array([1e200, 2e200])), np.array([1, 2]) / np.sqrt(5))
    x = rng.normal(size=(3, 5))
    for scale in (1e300, 1e-200):
        want = reference.normalize(x * scale)
        assert_close(student.normalize(x * scale), want, rtol=1e-10, atol=0)


@pytest.mark.exercise("normalize")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_DTYPE, on="dtype")
def test_normalize_dtypes_and_nan(student, reference, rng):
    """float32 stays float32, integers give float64, a NaN makes its whole vector NaN"""
    x = rng.normal(size=(4, 3)).astype(np.float32)
    assert_close(student.normalize(x), reference.normalize(x), rtol=1e-6, dtype=np.float32)
    xi = rng.integers(-4, 5, size=(3, 2))
    xi[0] = [3, 4]
    assert_close(student.normalize(xi), reference.normalize(xi), rtol=1e-12, dtype=np.float64)
    xn = rng.normal(size=(2, 3))
    xn[0, 1] = np.nan
    want = reference.normalize(xn)
    assert_close(student.normalize(xn), want, rtol=1e-12, equal_nan=True, hint=HINT_NAN)


@pytest.mark.exercise("normalize")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_NORMALIZE)
def test_normalize_unit_norm_and_direction(student, rng):
    """results have norm 1 and point the same way as the input"""
    x = scaled_rows(rng, 8, 6)
    u = np.asarray(student.normalize(x), dtype=np.float64)
    assert_shape(u, (8, 6))
    assert_close(np.linalg.norm(u, axis=1), np.ones(8), rtol=1e-12, msg="norms of the rows")
    assert_true(bool(np.all(np.sum(u * x, axis=1) > 0)), "a result points away from its input")


# ============================================================================== 3. angle (3)


@pytest.mark.exercise("angle")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_ANGLE)
def test_angle_values(student, reference, rng):
    """angles in radians equal the reference's"""
    a, b = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    got = student.run(drive_with_nnlite, "angle", a, b)
    assert_close(got, reference.run(drive_with_nnlite, "angle", a, b), rtol=1e-10, atol=1e-14)


@pytest.mark.exercise("angle")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_ANGLE)
def test_angle_degrees(student, reference, rng):
    """degrees=True: 90 for perpendicular, 180 for opposite vectors, the reference otherwise"""
    a = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    b = np.array([[0.0, 3.0], [-2.0, 0.0], [1.0, 0.0]])
    got = student.run(drive_with_nnlite, "angle", a, b, degrees=True)
    assert_close(got, [90.0, 180.0, 45.0], rtol=1e-12)
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    want = reference.run(drive_with_nnlite, "angle", a, b, degrees=True)
    got = student.run(drive_with_nnlite, "angle", a, b, degrees=True)
    assert_close(got, want, rtol=1e-10)


@pytest.mark.exercise("angle")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_ANGLE_CLIP, on=("nan", "value"))
def test_angle_self_is_zero(student, rng):
    """a vector's angle with itself is 0, never NaN, in float64 and float32 (dtype kept)"""
    x = rng.normal(size=(500, 9)) * 10.0 ** rng.uniform(-2, 2, size=(500, 1))
    got = student.run(drive_with_nnlite, "angle", x, x)
    assert_close(got, np.zeros(500), rtol=0, atol=1e-6, dtype=np.float64)
    x32 = x.astype(np.float32)
    got = student.run(drive_with_nnlite, "angle", x32, x32)
    assert_close(got, np.zeros(500), rtol=0, atol=1e-3, dtype=np.float32, hint=HINT_DTYPE)


@pytest.mark.exercise("angle")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_AXIS)
def test_angle_axis_and_broadcasting(student, reference, rng):
    """axis=0 and shapes (2, 1, 3) with (4, 3) work as in cosine_similarity"""
    a, b = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    want = reference.run(drive_with_nnlite, "angle", a, b, axis=0)
    assert_close(student.run(drive_with_nnlite, "angle", a, b, axis=0), want, rtol=1e-10)
    a, b = rng.normal(size=(2, 1, 3)), rng.normal(size=(4, 3))
    want = reference.run(drive_with_nnlite, "angle", a, b)
    assert_close(student.run(drive_with_nnlite, "angle", a, b), want, rtol=1e-10, public=True)


@pytest.mark.exercise("angle")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_ANGLE)
def test_angle_triangle_inequality(student, rng):
    """the angle satisfies the triangle inequality on random triples"""
    u, v, w = rng.normal(size=(3, 2000, 4))
    uv = np.asarray(student.run(drive_with_nnlite, "angle", u, v), dtype=np.float64)
    vw = np.asarray(student.run(drive_with_nnlite, "angle", v, w), dtype=np.float64)
    uw = np.asarray(student.run(drive_with_nnlite, "angle", u, w), dtype=np.float64)
    for arr in (uv, vw, uw):
        assert_shape(arr, (2000,))
    assert_true(bool(np.all(uw <= uv + vw + 1e-12)), "the triangle inequality fails")
    assert_true(bool(np.all((uv >= 0) & (uv <= np.pi))), "an angle lies outside [0, pi]")
    assert_true(bool(uv.std() > 0.1), "the angles do not change with the vectors")


@pytest.mark.exercise("angle")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_DISTANCE)
def test_cosine_distance_values(student, reference, rng):
    """cosine_distance is 1 - cos: 0, 1, 2 for same, perpendicular, opposite; random pairs"""
    a = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    b = np.array([[2.0, 2.0], [1.0, -1.0], [-3.0, -3.0], [1.0, 1.0]])
    got = student.run(drive_with_nnlite, "cosine_distance", a, b)
    assert_close(got, [0.0, 1.0, 2.0, 1 - np.sqrt(0.5)], rtol=1e-12, atol=1e-15)
    a, b = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    want = reference.run(drive_with_nnlite, "cosine_distance", a, b)
    got = student.run(drive_with_nnlite, "cosine_distance", a, b)
    assert_close(got, want, rtol=1e-10, atol=1e-15)


@pytest.mark.exercise("angle")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_DISTANCE)
def test_cosine_distance_axis_and_dtype(student, reference, rng):
    """cosine_distance: axis=0 works, float32 stays float32"""
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    want = reference.run(drive_with_nnlite, "cosine_distance", a, b, axis=0)
    got = student.run(drive_with_nnlite, "cosine_distance", a, b, axis=0)
    assert_close(got, want, rtol=1e-10, atol=1e-15)
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    want = reference.run(drive_with_nnlite, "cosine_distance", a32, b32)
    got = student.run(drive_with_nnlite, "cosine_distance", a32, b32)
    assert_close(got, want, rtol=1e-5, atol=1e-6, dtype=np.float32)


# ======================================================================== 4. pairwise_cosine (3)


@pytest.mark.exercise("pairwise_cosine")
@pytest.mark.points(1)
@pytest.mark.hint(HINT_PAIRWISE)
def test_pairwise_values(student, reference, rng):
    """(5, 3) and (4, 3) give the (5, 4) reference cosines; also (1, 6) with (7, 6)"""
    for n, m, d in [(5, 4, 3), (1, 7, 6), (3, 3, 8)]:
        A, B = scaled_rows(rng, n, d), scaled_rows(rng, m, d)
        want = reference.run(drive_with_nnlite, "pairwise_cosine", A, B)
        got = student.run(drive_with_nnlite, "pairwise_cosine", A, B)
        assert_close(got, want, rtol=1e-10, atol=1e-14, public=True)


@pytest.mark.exercise("pairwise_cosine")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_PAIRWISE)
def test_pairwise_zero_row(student, rng):
    """a zero row gives a row (or column) of zeros"""
    A, B = rng.normal(size=(4, 3)), rng.normal(size=(2, 3))
    A[1] = 0.0
    B[0] = 0.0
    got = np.asarray(student.run(drive_with_nnlite, "pairwise_cosine", A, B), dtype=np.float64)
    assert_shape(got, (4, 2), public=True)
    assert_close(got[1], [0.0, 0.0], rtol=0, atol=0, msg="the zero row of A")
    assert_close(got[:, 0], np.zeros(4), rtol=0, atol=0, msg="the zero row of B")


@pytest.mark.exercise("pairwise_cosine")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_SCALE)
def test_pairwise_huge(student, reference, rng):
    """rows with entries of 1e200 (and 1e-200 against ordinary rows) give the reference"""
    A, B = rng.normal(size=(3, 4)), rng.normal(size=(2, 4))
    want = reference.run(drive_with_nnlite, "pairwise_cosine", A, B)
    got = student.run(drive_with_nnlite, "pairwise_cosine", A * 1e200, B * 1e250)
    assert_close(got, want, rtol=1e-9, atol=1e-14)


@pytest.mark.exercise("pairwise_cosine")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_DTYPE, on="dtype")
def test_pairwise_dtypes(student, reference, rng):
    """float32 inputs give float32, integer inputs float64; cosines stay within [-1, 1]"""
    A, B = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)
    want = reference.run(drive_with_nnlite, "pairwise_cosine", A, B)
    got = student.run(drive_with_nnlite, "pairwise_cosine", A, B)
    assert_close(got, want, rtol=1e-5, atol=1e-6, dtype=np.float32)
    Ai = rng.integers(-3, 4, size=(3, 2))
    Ai[0] = [1, 1]
    want = reference.run(drive_with_nnlite, "pairwise_cosine", Ai, Ai)
    got = student.run(drive_with_nnlite, "pairwise_cosine", Ai, Ai)
    assert_close(got, want, rtol=1e-12, atol=1e-15, dtype=np.float64)
    X = rng.normal(size=(300, 20))
    self_cos = np.asarray(student.run(drive_with_nnlite, "pairwise_cosine", X, X), np.float64)
    assert_shape(self_cos, (300, 300))
    assert_true(
        bool(np.abs(self_cos).max() <= 1.0), "a cosine lies outside [-1, 1]", hint=HINT_CLIP
    )


@pytest.mark.exercise("pairwise_cosine")
@pytest.mark.points(0.5)
@pytest.mark.hint(
    "Check that A and B are 2-D with the same d, and raise ValueError naming both shapes."
)
def test_pairwise_shape_errors(student):
    """(5, 3) and (4, 2) raise ValueError naming both shapes; 1-D input raises"""
    got = student.run(drive_raises, "pairwise_cosine", np.ones((5, 3)), np.ones((4, 2)))
    names = raised_names(got, "pairwise_cosine of shapes (5, 3) and (4, 2)")
    assert_true("ValueError" in names, "pairwise_cosine should raise ValueError")
    assert_true("(5, 3)" in got[2] and "(4, 2)" in got[2],
                "the error message should name both shapes")  # fmt: skip
    got = student.run(drive_raises, "pairwise_cosine", np.ones(3), np.ones(3))
    names = raised_names(got, "pairwise_cosine of two 1-D arrays")
    assert_true("ValueError" in names, "pairwise_cosine should raise ValueError for 1-D input")


# ================================================================================== 5. top_k (3)


@pytest.mark.exercise("top_k")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_TOPK_ORDER)
def test_top_k_values(student, reference, rng):
    """the indices of the k largest of distinct scores, largest first"""
    scores = rng.permutation(40).astype(float) + rng.uniform(0, 0.5, 40)
    for k in (1, 5, 40):
        assert_equal(student.top_k(scores, k), reference.top_k(scores, k))


@pytest.mark.exercise("top_k")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_TOPK_TIES)
def test_top_k_ties(student, reference, rng):
    """equal scores go in index order: top 3 of [1, 3, 3, 2, 3] is [1, 2, 4]"""
    assert_equal(student.top_k(np.array([1.0, 3.0, 3.0, 2.0, 3.0]), 3), np.array([1, 2, 4]))
    scores = rng.integers(0, 4, size=25).astype(float)
    assert_equal(student.top_k(scores, 25), reference.top_k(scores, 25))
    scores2 = rng.integers(0, 3, size=(9, 4))
    assert_equal(student.top_k(scores2, 6, axis=0), reference.top_k(scores2, 6, axis=0))


@pytest.mark.exercise("top_k")
@pytest.mark.points(0.75)
@pytest.mark.hint(HINT_TOPK_AXIS)
def test_top_k_axis(student, reference, rng):
    """axis=0 ranks each column, axis=1 and axis=-1 each row; 3-D works too"""
    scores = rng.normal(size=(7, 4))
    for k, axis in [(3, 0), (2, 1), (4, -1)]:
        want = reference.top_k(scores, k, axis=axis)
        assert_equal(student.top_k(scores, k, axis=axis), want, public=True)
    cube = rng.normal(size=(3, 5, 2))
    assert_equal(student.top_k(cube, 2, axis=1), reference.top_k(cube, 2, axis=1), public=True)


@pytest.mark.exercise("top_k")
@pytest.mark.points(0.25)
@pytest.mark.hint(HINT_TOPK_ORDER)
def test_top_k_edge_values_of_k(student, rng):
    """k = 0 gives an empty result of the right shape; k = n the whole ranking"""
    scores = rng.normal(size=(6, 3))
    assert_shape(student.top_k(scores, 0, axis=0), (0, 3), public=True)
    full = student.top_k(scores[:, 0], 6)
    assert_equal(full, np.argsort(-scores[:, 0], kind="stable"))


@pytest.mark.exercise("top_k")
@pytest.mark.points(0.5)
@pytest.mark.hint(HINT_TOPK_ERRORS)
def test_top_k_errors(student):
    """k above n, negative k and NaN scores raise ValueError"""
    student.raises(ValueError).top_k(np.array([1.0, 2.0, 3.0]), 4)
    student.raises(ValueError).top_k(np.array([1.0, 2.0, 3.0]), -1)
    student.raises(ValueError).top_k(np.array([1.0, np.nan, 3.0]), 1)


# ===================================================================== the reference vs PyTorch
# Plain tests (no exercise marker): the grader ignores them; CI checks that the reference the
# students are compared with has PyTorch's semantics where the lesson says so, and differs from
# it exactly where the lesson says it does.


@pytest.mark.torch
def test_reference_cosine_similarity_matches_torch(reference):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    gen = np.random.default_rng(0)
    a, b = gen.normal(size=(2, 1, 5)), gen.normal(size=(3, 5))
    want = F.cosine_similarity(torch.tensor(a), torch.tensor(b), dim=-1).numpy()
    np.testing.assert_allclose(reference.cosine_similarity(a, b), want, rtol=1e-12)
    m, n = gen.normal(size=(4, 3)), gen.normal(size=(4, 3))
    want = F.cosine_similarity(torch.tensor(m), torch.tensor(n), dim=0).numpy()
    np.testing.assert_allclose(reference.cosine_similarity(m, n, axis=0), want, rtol=1e-12)
    for x, y, eps in [
        ([1e-10, 1e-10], [1e-10, 1e-10], 1e-8),
        ([1e-10], [1e-10], 1e-8),
        ([1e-10, 0.0], [1.0, 0.0], 1e-8),
        ([3e-4, 4e-4], [1e-4, -2e-4], 1e-3),
        ([0.0, 0.0], [1.0, 2.0], 1e-8),
    ]:
        tx, ty = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
        t = F.cosine_similarity(tx, ty, dim=0, eps=eps).item()
        got = float(reference.cosine_similarity(np.array(x), np.array(y), eps=eps))
        assert got == pytest.approx(t, rel=1e-12, abs=0), (x, y, eps)
    # Where the lesson says PyTorch differs: overflow at 1e200, and no clipping in float32.
    ta = torch.tensor([1e200, 2e200], dtype=torch.float64)
    tb = torch.tensor([3e200, 1e200], dtype=torch.float64)
    assert F.cosine_similarity(ta, tb, dim=0).item() == 0.0
    ours = reference.cosine_similarity(np.array([1e200, 2e200]), np.array([3e200, 1e200]))
    assert float(ours) == pytest.approx(5 / np.sqrt(50), rel=1e-14)
    x = gen.normal(size=(2000, 50)).astype(np.float32)
    t32 = F.cosine_similarity(torch.tensor(x), torch.tensor(x), dim=1).numpy()
    assert t32.max() > 1.0
    assert reference.cosine_similarity(x, x).max() <= 1.0


@pytest.mark.torch
def test_reference_normalize_matches_torch(reference):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    gen = np.random.default_rng(1)
    x = gen.normal(size=(4, 6))
    x[1] = 0.0
    x[2] *= 1e-14
    for axis in (-1, 0):
        want = F.normalize(torch.tensor(x), dim=axis).numpy()
        np.testing.assert_allclose(reference.normalize(x, axis=axis), want, rtol=1e-12)
    want = F.normalize(torch.tensor(x), dim=1, eps=1e-3).numpy()
    np.testing.assert_allclose(reference.normalize(x, eps=1e-3), want, rtol=1e-12)


def test_reference_agrees_with_nnlite(reference):
    """The solution notebook and nnlite.similarity (the lesson's fallbacks) agree."""
    from nnlite import similarity as S

    gen = np.random.default_rng(2)
    a, b = gen.normal(size=(3, 1, 4)) * 1e150, gen.normal(size=(2, 4))
    np.testing.assert_allclose(reference.cosine_similarity(a, b), S.cosine_similarity(a, b))
    np.testing.assert_allclose(reference.normalize(a), S.normalize(a), rtol=1e-14)
    A, B = gen.normal(size=(5, 4)), gen.normal(size=(3, 4))
    np.testing.assert_allclose(reference.pairwise_cosine(A, B), S.pairwise_cosine(A, B))
    np.testing.assert_allclose(reference.angle(A[:3], B), S.angle(A[:3], B))
    np.testing.assert_allclose(reference.cosine_distance(A[:3], B), S.cosine_distance(A[:3], B))
    scores = gen.integers(0, 3, size=(8, 3))
    np.testing.assert_array_equal(reference.top_k(scores, 5), S.top_k(scores, 5))
