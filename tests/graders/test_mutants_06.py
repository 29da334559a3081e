"""Mutation tests of lesson 06's grader: known-wrong implementations must lose points.

Each mutant is the solution notebook's exercise cell with one plausible mistake written in
(derived from the cell's own source by a textual replacement, so the mutant stays in step with
the solution), appended as a last cell that replaces the solution's definition, and graded
through the real grader (:func:`nnlite.grading.testing.grade_with`).

For every mutant: its exercise loses points, the other exercises keep full marks (checked for the
first mutant of each exercise; the others are graded in their own exercise only, which keeps the
suite lean), and a failing test carries the hint that names the misconception. Equivalent
rewrites keep full marks. Trivial answers (zeros, constants, random arrays of the right shape)
earn at most 20 % of an exercise's points, and the generated lesson scores 0 with every exercise
"missing". The visible checks of ``nnlite.checks.l06_hidden_units`` are tested here too (fast).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from nnlite.grading import testing

LESSON = "06_hidden_units"
REPO = Path(__file__).resolve().parents[2]
SOLUTION = REPO / "solutions" / f"{LESSON}.ipynb"
LESSON_NB = REPO / "lessons" / f"{LESSON}.ipynb"
EXERCISES = ["unit_images", "roughness", "top_k_examples", "nearest_class_mean", "scatter_ratio"]
TRIVIAL_MAX_FRACTION = 0.2


exercise_source = functools.partial(testing.exercise_source, LESSON)
mutate = functools.partial(testing.mutate, LESSON)
grade = functools.partial(testing.grade_cells, LESSON)


LAPLACIAN = (
    "    centre = T[:, 1:-1, 1:-1]\n"
    "    lap = T[:, :-2, 1:-1] + T[:, 2:, 1:-1] + T[:, 1:-1, :-2] + T[:, 1:-1, 2:] - 4 * centre\n"
)

# (id, exercise, edits, a word of the hint that must accompany a failing test)
MUTANTS = [
    # --- unit_images
    ("unit_images_sign_flipped", "unit_images", [("W = W - W0", "W = W0 - W")], "W1 - W1_init"),
    (
        "unit_images_column_major",
        "unit_images",
        [("W.reshape(W.shape[0], h, w)", 'W.reshape(W.shape[0], h, w, order="F")')],
        "row-major",
    ),
    ("unit_images_ignores_init", "unit_images", [("        W = W - W0\n", "")], "W1 - W1_init"),
    (
        "unit_images_returns_a_view",
        "unit_images",
        [("return W.reshape(W.shape[0], h, w).copy()", "return W.reshape(W.shape[0], h, w)")],
        "new array",
    ),
    # --- roughness
    (
        "roughness_np_roll",
        "roughness",
        [
            (
                LAPLACIAN,
                "    lap = (np.roll(T, 1, 1) + np.roll(T, -1, 1) + np.roll(T, 1, 2)"
                " + np.roll(T, -1, 2) - 4 * T)\n",
            )
        ],
        "np.roll",
    ),
    (
        "roughness_zero_padding",
        "roughness",
        [
            (
                LAPLACIAN,
                "    P = np.pad(T, ((0, 0), (1, 1), (1, 1)))\n"
                "    lap = P[:, :-2, 1:-1] + P[:, 2:, 1:-1] + P[:, 1:-1, :-2] + P[:, 1:-1, 2:]"
                " - 4 * T\n",
            )
        ],
        "padding",
    ),
    (
        "roughness_interior_norm",
        "roughness",
        [("np.sqrt(np.sum(T**2, axis=(1, 2)))", "np.sqrt(np.sum(centre**2, axis=(1, 2)))")],
        "whole image",
    ),
    (
        "roughness_no_rescaling",
        "roughness",
        [("    T = T / np.where(peak > 0, peak, 1.0)", "    pass")],
        "largest |value|",
    ),
    # --- top_k_examples
    (
        "top_k_ascending",
        "top_k_examples",
        [('np.argsort(-A, axis=0, kind="stable")[:k]', 'np.argsort(A, axis=0, kind="stable")[:k]')],
        "DEcreasing",
    ),
    (
        "top_k_reversed_ascending_sort",
        "top_k_examples",
        [
            (
                'np.argsort(-A, axis=0, kind="stable")[:k]',
                'np.argsort(A, axis=0, kind="stable")[::-1][:k]',
            )
        ],
        "lower example index",
    ),
    (
        "top_k_transposed",
        "top_k_examples",
        [
            (
                'np.argsort(-A, axis=0, kind="stable")[:k]',
                'np.argsort(-A, axis=0, kind="stable")[:k].T',
            )
        ],
        "(k, H)",
    ),
    (
        "top_k_no_range_check",
        "top_k_examples",
        [("if not 0 <= k <= A.shape[0]:", "if k < 0:")],
        "k > N",
    ),
    # --- nearest class mean
    (
        "ncm_dot_product",
        "nearest_class_mean",
        [
            (
                "dist = np.stack([np.sum((B - m) ** 2, axis=1) for m in centres], axis=1)",
                "dist = -np.stack([B @ m for m in centres], axis=1)",
            )
        ],
        "dot product",
    ),
    (
        "ncm_index_as_label",
        "nearest_class_mean",
        [("classes[np.argmin(dist, axis=1)] == yb", "np.argmin(dist, axis=1) == yb")],
        "np.unique",
    ),
    (
        "ncm_means_of_test_rows",
        "nearest_class_mean",
        [("A[ya == c].mean(axis=0)", "B[yb == c].mean(axis=0)")],
        "training",
    ),
    (
        "ncm_counts_instead_of_fraction",
        "nearest_class_mean",
        [("float(np.mean(classes[", "float(np.sum(classes[")],
        "fraction",
    ),
    # --- scatter ratio
    (
        "scatter_unweighted_between",
        "scatter_ratio",
        [("between += len(members) * np.sum(", "between += np.sum(")],
        "n_c",
    ),
    (
        "scatter_mean_of_class_means",
        "scatter_ratio",
        [
            (
                "grand = F.mean(axis=0)",
                "grand = np.mean([F[y == c].mean(axis=0) for c in np.unique(y)], axis=0)",
            )
        ],
        "mean of ALL rows",
    ),
    (
        "scatter_within_as_mean",
        "scatter_ratio",
        [
            (
                "np.float64(between) / np.float64(within)",
                "np.float64(between) / np.float64(within / len(F))",
            )
        ],
        "not a mean",
    ),
    (
        "scatter_inverted",
        "scatter_ratio",
        [("np.float64(between) / np.float64(within)", "np.float64(within) / np.float64(between)")],
        "between / within",
    ),
]

EQUIVALENT = [
    (
        "ncm_expanded_distance",
        "nearest_class_mean",
        [
            (
                "dist = np.stack([np.sum((B - m) ** 2, axis=1) for m in centres], axis=1)",
                "M = np.stack(centres)\n"
                "    dist = np.sum(B**2, axis=1)[:, None] - 2 * B @ M.T + np.sum(M**2, axis=1)",
            )
        ],
    ),
    (
        "top_k_python_sorted",
        "top_k_examples",
        [
            (
                'return np.argsort(-A, axis=0, kind="stable")[:k]',
                "cols = []\n"
                "    for j in range(A.shape[1]):\n"
                "        a = A[:, j]\n"
                "        key = [(bool(np.isnan(v)), 0.0 if np.isnan(v) else -v, i)"
                " for i, v in enumerate(a)]\n"
                "        cols.append([i for *_, i in sorted(key)])\n"
                "    return np.array(cols, dtype=np.int64).T.reshape(A.shape[0], A.shape[1])[:k]",
            )
        ],
    ),
]

TRIVIAL = {
    "unit_images": """
def unit_images(W1, W1_init=None, shape=(28, 28)):
    W = np.asarray(getattr(W1, "data", W1))
    return np.zeros((W.shape[0],) + tuple(shape))
""",
    "roughness": """
def roughness(images):
    return np.zeros(len(images))
""",
    "top_k_examples": """
def top_k_examples(acts, k):
    return np.zeros((k, np.shape(acts)[1]), dtype=np.int64)
""",
    "nearest_class_mean": """
def nearest_class_mean_accuracy(F_train, y_train, F_test, y_test):
    return 1.0
""",
    "scatter_ratio": """
def scatter_ratio(F, y):
    return 0.0
""",
}

RANDOM_ANSWERS = {
    "unit_images": """
def unit_images(W1, W1_init=None, shape=(28, 28)):
    W = np.asarray(getattr(W1, "data", W1))
    return np.random.default_rng(0).normal(size=(W.shape[0],) + tuple(shape))
""",
    "roughness": """
def roughness(images):
    return np.random.default_rng(0).uniform(0, 8, size=len(images))
""",
    "top_k_examples": """
def top_k_examples(acts, k):
    n, h = np.shape(acts)
    return np.stack([np.random.default_rng(j).permutation(n)[:k] for j in range(h)], axis=1)
""",
    "nearest_class_mean": """
def nearest_class_mean_accuracy(F_train, y_train, F_test, y_test):
    return float(np.random.default_rng(0).random())
""",
    "scatter_ratio": """
def scatter_ratio(F, y):
    return float(np.random.default_rng(0).random())
""",
}


# ------------------------------------------------------------------------------------- tests


@pytest.mark.slow
def test_solution_scores_full_marks():
    rep = grade({})
    for ex in rep["exercises"]:
        assert ex["status"] == "passed" and ex["score"] == ex["max_score"], ex["name"]
    assert rep["max_score"] == 12
    assert [ex["name"] for ex in rep["exercises"]] == EXERCISES


@pytest.mark.slow
def test_generated_lesson_scores_zero_with_every_exercise_missing():
    from nnlite.grading import grade_notebook

    if not LESSON_NB.is_file():
        pytest.skip(
            f"lessons/{LESSON}.ipynb has not been generated (python -m nnlite course build)"
        )
    rep = grade_notebook(LESSON_NB)
    assert rep["score"] == 0
    assert {ex["name"]: ex["status"] for ex in rep["exercises"]} == dict.fromkeys(
        EXERCISES, "missing"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name,grade_id,edits,hint_word", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_mutant_loses_points_in_its_exercise_only(name, grade_id, edits, hint_word):
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
@pytest.mark.parametrize("name,grade_id,edits", EQUIVALENT, ids=[m[0] for m in EQUIVALENT])
def test_equivalent_rewrite_keeps_full_marks(name, grade_id, edits):
    rep = grade({grade_id: mutate(grade_id, *edits)}, only=[grade_id])
    ex = rep.exercise(grade_id)
    failing = [t["name"] for t in ex["tests"] if t["status"] != "passed"]
    assert ex["score"] == ex["max_score"], f"{name} lost points in {failing}"


@pytest.mark.slow
@pytest.mark.parametrize("answers", [TRIVIAL, RANDOM_ANSWERS], ids=["trivial", "random"])
def test_trivial_answers_earn_at_most_a_small_fraction(answers):
    # All five exercises at once: each is graded in its own sandbox, so they do not interact.
    rep = grade(answers)
    for grade_id in EXERCISES:
        ex = rep.exercise(grade_id)
        assert ex["score"] <= TRIVIAL_MAX_FRACTION * ex["max_score"], (grade_id, ex["score"])


# ------------------------------------------------------------------------- visible checks (fast)

NOTEBOOK_IMPORTS = "import numpy as np\n"
NAMES = {
    "unit_images": ["unit_images"],
    "roughness": ["roughness"],
    "top_k_examples": ["top_k_examples"],
    "nearest_class_mean": ["nearest_class_mean_accuracy"],
    "scatter_ratio": ["scatter_ratio"],
}
# Mutants that the visible checks must already catch (the subtler ones are left to the grader).
CAUGHT_BY_VISIBLE_CHECKS = [
    "unit_images_sign_flipped",
    "unit_images_column_major",
    "unit_images_ignores_init",
    "roughness_np_roll",
    "roughness_zero_padding",
    "roughness_interior_norm",
    "roughness_no_rescaling",
    "top_k_ascending",
    "top_k_reversed_ascending_sort",
    "top_k_transposed",
    "top_k_no_range_check",
    "ncm_dot_product",
    "ncm_index_as_label",
    "ncm_counts_instead_of_fraction",
    "scatter_unweighted_between",
    "scatter_mean_of_class_means",
    "scatter_inverted",
]


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
    assert visible_failures(grade_id, objects_of(grade_id, exercise_source(grade_id))) == 0


@pytest.mark.parametrize("name", CAUGHT_BY_VISIBLE_CHECKS)
def test_visible_checks_catch_common_mistakes(name):
    _name, grade_id, edits, _hint = next(m for m in MUTANTS if m[0] == name)
    objs = objects_of(grade_id, mutate(grade_id, *edits))
    assert visible_failures(grade_id, objs) == 1, f"the visible checks let {name} pass"


FALLBACKS = {
    "unit_images": "unit_images",
    "roughness": "roughness",
    "top_k_examples": "top_k_examples",
    "nearest_class_mean": "nearest_class_mean_accuracy",
    "scatter_ratio": "scatter_ratio",
}


@pytest.mark.parametrize("grade_id", EXERCISES)
def test_fallbacks_pass_their_own_visible_checks(grade_id):
    from nnlite import hidden

    assert visible_failures(grade_id, (getattr(hidden, FALLBACKS[grade_id]),)) == 0


@pytest.mark.parametrize("grade_id", EXERCISES)
def test_fallback_keeps_a_passing_solution_and_replaces_a_stub(grade_id, capsys):
    from nnlite import hidden
    from nnlite.checks import lesson

    check = lesson(LESSON)
    (obj,) = objects_of(grade_id, exercise_source(grade_id))
    fallback = getattr(hidden, FALLBACKS[grade_id])
    assert check.use(grade_id, obj, fallback=fallback) is obj
    assert "Using nnlite" not in capsys.readouterr().out

    def stub(*args, **kwargs):
        raise NotImplementedError(f"{grade_id}: replace this line with your code")

    assert check.use(grade_id, stub, fallback=fallback) is fallback
    assert f'missing (exercise "{grade_id}")' in capsys.readouterr().out
