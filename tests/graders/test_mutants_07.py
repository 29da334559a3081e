"""Mutation tests of lesson 07's grader: known-wrong implementations must lose points.

Each mutant is the solution notebook's exercise cell with one plausible mistake written in
(derived from the cell's own source by a textual replacement, so the mutant stays in step with
the solution), appended as a last cell; the last definition wins. The notebook is graded through
the real grader (:func:`nnlite.grading.testing.grade_with`, the same path as
``python -m nnlite grade``).

For every mutant: its exercise loses points, the other exercises keep full marks (checked on the
first mutant of each exercise), and a failing test carries the hint that names the mistake.
Trivial answers (zeros, the input returned, random arrays of the right shape) earn at most 20 %
of an exercise's points, and the generated lesson scores 0 with every exercise "missing".

The grading cases are marked slow. The visible checks of ``nnlite.checks.l07_convolution_filters``
are tested here too (fast): the solution and the fallbacks pass them, most mutants fail them, and
``check.use`` falls back to nnlite while an exercise is a stub.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from nnlite.grading import testing

LESSON = "07_convolution_filters"
REPO = Path(__file__).resolve().parents[2]
SOLUTION = REPO / "solutions" / f"{LESSON}.ipynb"
LESSON_NB = REPO / "lessons" / f"{LESSON}.ipynb"
EXERCISES = ["conv2d", "gabor_kernel", "orientation_tuning", "whiten", "fastica"]
TRIVIAL_MAX_FRACTION = 0.2


exercise_source = functools.partial(testing.exercise_source, LESSON)
mutate = functools.partial(testing.mutate, LESSON)
grade = functools.partial(testing.grade_cells, LESSON)


# ----------------------------------------------------------------------------------- mutants
# (id, exercise, edits, a word of the hint that must accompany a failing test)

MUTANTS = [
    # --- im2col / conv2d
    (
        "conv_true_convolution",
        "conv2d",
        [("(weight.astype(dtype)", "(weight[..., ::-1, ::-1].astype(dtype)")],
        "NOT flipped",
    ),
    (
        "conv_padding_one_side",
        "conv2d",
        [("(0, 0), (0, 0), (ph, ph), (pw, pw)", "(0, 0), (0, 0), (2 * ph, 0), (2 * pw, 0)")],
        "every side",
    ),
    (
        "im2col_channel_last",
        "conv2d",
        [
            (
                "return cols.reshape(N, C * kh * kw, oh * ow)",
                "return cols.transpose(0, 2, 3, 1, 4, 5).reshape(N, C * kh * kw, oh * ow)",
            )
        ],
        "channel slowest",
    ),
    (
        "conv_always_float64",
        "conv2d",
        [("dtype = np.float32 if both32 else np.float64", "dtype = np.float64")],
        "float32",
    ),
    # --- gabor_kernel
    ("gabor_y_down", "gabor_kernel", [("centre - r", "r - centre")], "UP"),
    (
        "gabor_no_zero_mean",
        "gabor_kernel",
        [("return g - g.mean() if zero_mean else g", "return g")],
        "own mean",
    ),
    (
        "gabor_gamma_on_x",
        "gabor_kernel",
        [("(xr**2 + gamma**2 * yr**2)", "(gamma**2 * xr**2 + yr**2)")],
        "gamma**2 * y'**2",
    ),
    ("gabor_sigma_not_squared", "gabor_kernel", [("(2 * sigma**2)", "(2 * sigma)")], "sigma**2"),
    # --- grating / orientation_tuning
    ("grating_y_down", "orientation_tuning", [("centre - r", "r - centre")], "UP"),
    (
        "grating_without_2pi",
        "orientation_tuning",
        [("np.cos(2 * np.pi * freq * (", "np.cos(freq * (")],
        "2*pi*freq",
    ),
    (
        "tuning_phase_zero_only",
        "orientation_tuning",
        [("phases = 2 * np.pi * np.arange(8) / 8", "phases = [0.0]")],
        "8",
    ),
    (
        "tuning_sum_over_phases",
        "orientation_tuning",
        [("curve = [max(", "curve = [sum(")],
        "largest",
    ),
    # --- whiten
    (
        "whiten_no_patch_mean",
        "whiten",
        [("X = X - X.mean(axis=1, keepdims=True)", "X = X")],
        "own mean",
    ),
    (
        "whiten_ascending_order",
        "whiten",
        [("lam[::-1][:k], U[:, ::-1][:, :k]", "lam[:k], U[:, :k]")],
        "descending",
    ),
    ("whiten_no_sqrt", "whiten", [("U / np.sqrt(lam + eps)", "U / (lam + eps)")], "sqrt"),
    ("whiten_n_minus_1", "whiten", [("Xc / len(Xc)", "Xc / (len(Xc) - 1)")], "n - 1"),
    (
        "whiten_no_sign_fix",
        "whiten",
        [("U = U * np.sign(U[largest, np.arange(k)])", "U = U")],
        "sign",
    ),
    # --- fastica
    (
        "fastica_no_decorrelation",
        "fastica",
        [
            (
                "W_new = sym(G.T @ Z / n - (1 - G**2).mean(axis=0)[:, None] * W)",
                "W_new = G.T @ Z / n - (1 - G**2).mean(axis=0)[:, None] * W\n"
                "        W_new = W_new / np.linalg.norm(W_new, axis=1, keepdims=True)",
            )
        ],
        "decorrelat",
    ),
    ("fastica_wrong_derivative", "fastica", [("(1 - G**2)", "(1 - G)")], "1 - G**2"),
    (
        "fastica_plus_sign",
        "fastica",
        [("G.T @ Z / n - (1 - G**2)", "G.T @ Z / n + (1 - G**2)")],
        "mean(1 - G**2",
    ),
    (
        "fastica_returns_the_previous_W",
        "fastica",
        [
            (
                "        W = W_new\n        if converged:\n            break",
                "        if converged:\n            break\n        W = W_new",
            )
        ],
        "W_new",
    ),
]

TRIVIAL = {
    "conv2d": """
def im2col(x, kernel_size, stride=1, padding=0):
    return np.zeros((x.shape[0], 1, 1))


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return np.asarray(x, dtype=np.float64)
""",
    "gabor_kernel": """
def gabor_kernel(size, theta, freq, sigma, phase=0.0, gamma=1.0, zero_mean=True):
    return np.zeros((size, size))
""",
    "orientation_tuning": """
def grating(size, theta, freq, phase=0.0):
    return np.ones((size, size))


def orientation_tuning(kernel, thetas, freq):
    return np.zeros(len(thetas))
""",
    "whiten": """
def whiten(P, k=None, method="pca", eps=0.0):
    P = np.asarray(P, dtype=np.float64)
    return P, np.eye(P.shape[1])
""",
    "fastica": """
def fastica(Z, max_iter=300, tol=1e-4, seed=0):
    return np.eye(np.shape(Z)[1])
""",
}

RANDOM_ANSWERS = {
    "conv2d": """
def im2col(x, kernel_size, stride=1, padding=0):
    k = pair(kernel_size)
    N, C, H, W = np.shape(x)
    L = (H - k[0] + 1) * (W - k[1] + 1)
    return np.random.default_rng(0).normal(size=(N, C * k[0] * k[1], L))


def conv2d(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = np.shape(x)
    O, _, kh, kw = np.shape(weight)
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    shape = (N, O, (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1)
    return np.random.default_rng(0).normal(size=shape)
""",
    "whiten": """
def whiten(P, k=None, method="pca", eps=0.0):
    n, d = np.shape(P)
    k = d - 1 if k is None else k
    m = k if method == "pca" else d
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, m)), rng.normal(size=(d, m))
""",
    "fastica": """
def fastica(Z, max_iter=300, tol=1e-4, seed=0):
    k = np.shape(Z)[1]
    return np.linalg.qr(np.random.default_rng(seed).normal(size=(k, k)))[0]
""",
}


# ------------------------------------------------------------------------------------- tests


@pytest.mark.slow
def test_solution_scores_full_marks():
    rep = grade({})
    for ex in rep["exercises"]:
        assert ex["status"] == "passed" and ex["score"] == ex["max_score"], ex["name"]
    assert rep["max_score"] == 19
    assert [ex["name"] for ex in rep["exercises"]] == EXERCISES


@pytest.mark.slow
def test_generated_lesson_scores_zero_with_every_exercise_missing():
    from nnlite.grading import grade_notebook

    if not LESSON_NB.is_file():
        pytest.skip("lessons/07_convolution_filters.ipynb has not been generated")
    rep = grade_notebook(LESSON_NB)
    assert rep["score"] == 0
    assert {ex["name"]: ex["status"] for ex in rep["exercises"]} == dict.fromkeys(
        EXERCISES, "missing"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name,grade_id,edits,hint_word", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_mutant_loses_points_in_its_exercise_only(name, grade_id, edits, hint_word):
    # The first mutant of each exercise is graded in full, to show the other exercises keep
    # their marks; the others only in their own exercise, which keeps the suite lean.
    first = next(m[0] for m in MUTANTS if m[1] == grade_id) == name
    rep = grade({grade_id: mutate(grade_id, *edits)}, only=None if first else [grade_id])
    ex = rep.exercise(grade_id)
    assert ex["score"] < ex["max_score"], f"{name} kept full marks"
    assert [e["name"] for e in rep["exercises"]] == (EXERCISES if first else [grade_id])
    for other in rep["exercises"]:
        if other["name"] != grade_id:
            assert other["score"] == other["max_score"], f"{name} cost points in {other['name']}"
    hints = [t.get("hint") or "" for t in ex["tests"] if t["status"] != "passed"]
    assert any(hint_word in h for h in hints), f"{name}: no failing test hints at {hint_word!r}"


@pytest.mark.slow
@pytest.mark.parametrize("grade_id", list(TRIVIAL))
def test_trivial_answer_earns_at_most_a_small_fraction(grade_id):
    rep = grade({grade_id: TRIVIAL[grade_id]}, only=[grade_id])
    ex = rep.exercise(grade_id)
    assert ex["score"] <= TRIVIAL_MAX_FRACTION * ex["max_score"], (grade_id, ex["score"])


@pytest.mark.slow
@pytest.mark.parametrize("grade_id", list(RANDOM_ANSWERS))
def test_random_answer_of_the_right_shape_earns_at_most_a_small_fraction(grade_id):
    rep = grade({grade_id: RANDOM_ANSWERS[grade_id]}, only=[grade_id])
    ex = rep.exercise(grade_id)
    assert ex["score"] <= TRIVIAL_MAX_FRACTION * ex["max_score"], (grade_id, ex["score"])


@pytest.mark.slow
def test_wrapping_nnlite_earns_nothing():
    # R13: an answer that only calls nnlite's own implementation is graded against a stub.
    rep = grade(
        {
            "conv2d": "from nnlite.filters import conv2d, im2col",
            "whiten": "def whiten(P, k=None, method='pca', eps=0.0):\n"
            "    from nnlite import filters\n"
            "    return filters.whiten(P, k, method, eps)",
        },
        only=["conv2d", "whiten"],
    )
    for grade_id in ("conv2d", "whiten"):
        assert rep.exercise(grade_id)["score"] == 0, grade_id


# ------------------------------------------------------------------------- visible checks (fast)

NOTEBOOK_IMPORTS = """
import numpy as np


def pair(v):
    return (int(v), int(v)) if np.ndim(v) == 0 else (int(v[0]), int(v[1]))
"""
NAMES = {
    "conv2d": ["im2col", "conv2d"],
    "gabor_kernel": ["gabor_kernel"],
    "orientation_tuning": ["grating", "orientation_tuning"],
    "whiten": ["whiten"],
    "fastica": ["fastica"],
}
# Mutants that the visible checks must already catch (the subtler ones are left to the grader).
CAUGHT_BY_VISIBLE_CHECKS = [m[0] for m in MUTANTS if m[0] != "fastica_returns_the_previous_W"]


def objects_of(grade_id: str, source: str) -> tuple:
    """The exercise's objects, defined by ``source`` on top of the notebook's imports."""
    ns: dict = {}
    exec(NOTEBOOK_IMPORTS, ns)  # noqa: S102 - the solution notebook's own code, trusted
    exec(source, ns)  # noqa: S102
    return tuple(ns[n] for n in NAMES[grade_id])


def visible_failures(grade_id: str, objs: tuple) -> int:
    import io
    from contextlib import redirect_stdout

    from nnlite.checks import lesson

    check = lesson(LESSON)
    with redirect_stdout(io.StringIO()):
        return 0 if check(grade_id, *objs) else 1


@pytest.mark.parametrize("grade_id", EXERCISES)
def test_visible_checks_pass_on_the_solution(grade_id):
    objs = objects_of(grade_id, exercise_source(grade_id))
    assert visible_failures(grade_id, objs) == 0


@pytest.mark.parametrize("name", CAUGHT_BY_VISIBLE_CHECKS)
def test_visible_checks_catch_common_mistakes(name):
    _name, grade_id, edits, _hint = next(m for m in MUTANTS if m[0] == name)
    objs = objects_of(grade_id, mutate(grade_id, *edits))
    assert visible_failures(grade_id, objs) == 1, f"the visible checks let {name} pass"


FALLBACKS = {
    "conv2d": ("im2col", "conv2d"),
    "gabor_kernel": ("gabor_kernel",),
    "orientation_tuning": ("grating", "orientation_tuning"),
    "whiten": ("whiten",),
    "fastica": ("fastica",),
}


def _fallback(grade_id: str) -> tuple:
    from nnlite import filters

    return tuple(getattr(filters, name) for name in FALLBACKS[grade_id])


@pytest.mark.parametrize("grade_id", EXERCISES)
def test_fallbacks_pass_their_own_visible_checks(grade_id):
    assert visible_failures(grade_id, _fallback(grade_id)) == 0


@pytest.mark.parametrize("grade_id", EXERCISES)
def test_fallback_keeps_a_passing_solution_and_replaces_a_stub(grade_id, capsys):
    from nnlite.checks import lesson

    check = lesson(LESSON)
    objs = objects_of(grade_id, exercise_source(grade_id))
    fallback = _fallback(grade_id)
    fb = fallback if len(fallback) > 1 else fallback[0]
    kept = check.use(grade_id, *objs, fallback=fb)
    assert (kept if isinstance(kept, tuple) else (kept,)) == objs
    assert "Using nnlite" not in capsys.readouterr().out

    def stub(*args, **kwargs):
        raise NotImplementedError(f"{grade_id}: replace this line with your code")

    replaced = check.use(grade_id, *([stub] * len(objs)), fallback=fb)
    assert (replaced if isinstance(replaced, tuple) else (replaced,)) == fallback
    assert f'missing (exercise "{grade_id}")' in capsys.readouterr().out
