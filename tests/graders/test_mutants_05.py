"""Mutation tests of lesson 05's grader: known-wrong implementations must lose points.

Each mutant is the solution notebook's exercise cell with one plausible mistake written in
(derived from the cell's own source by a textual replacement, so the mutant stays in step with
the solution), appended as a last cell; the last definition wins, so it replaces the solution's
definition, and the notebook is graded through the real grader
(:func:`nnlite.grading.testing.grade_with`, the same path as ``python -m nnlite grade``).

For every mutant: its exercise loses points, the other exercises keep full marks, and a failing
test of that exercise carries the hint that names the misconception. Equivalent rewrites (the
textbook momentum form ``v = mu v - lr g; p += v``, a zero-initialised buffer) keep full marks.
Trivial answers (constants, the input returned, doing nothing, random arrays of the right
shape) earn at most 20 % of an exercise's points, and the generated lesson scores 0 with status
"missing" everywhere.

Each grading case grades a whole notebook (about 1-3 s) and is marked slow. The visible checks
of ``nnlite.checks.l05_linear_templates`` are tested here too (fast): the solution passes them,
the common mutants fail them, and ``check.use`` falls back to nnlite while an exercise is a stub.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from nnlite.grading import testing

LESSON = "05_linear_templates"
REPO = Path(__file__).resolve().parents[2]
SOLUTION = REPO / "solutions" / f"{LESSON}.ipynb"
LESSON_NB = REPO / "lessons" / f"{LESSON}.ipynb"
EXERCISES = [
    "train_softmax_regression",
    "weights_to_image_grid",
    "class_means",
    "template_similarity",
    "haufe_patterns",
]
TRIVIAL_MAX_FRACTION = 0.2


exercise_source = functools.partial(testing.exercise_source, LESSON)
mutate = functools.partial(testing.mutate, LESSON)
grade = functools.partial(testing.grade_cells, LESSON)


# ----------------------------------------------------------------------------------- mutants
# (id, exercise, edits, a word of the hint that must accompany a failing test)

MUTANTS = [
    # --- train_softmax_regression
    (
        "train_random_init",
        "train_softmax_regression",
        [
            (
                "Parameter(np.zeros((n_classes, X.shape[1])))",
                "Parameter(np.random.default_rng(seed).normal(0.0, 0.01, (n_classes, X.shape[1])))",
            )
        ],
        "exactly 0",
    ),
    (
        "train_l2_without_half",
        "train_softmax_regression",
        [("0.5 * l2 * (W * W).sum()", "l2 * (W * W).sum()")],
        "(l2 / 2)",
    ),
    (
        "train_generator_per_epoch",
        "train_softmax_regression",
        [("batch_rng.permutation(len(X))", "np.random.default_rng(seed).permutation(len(X))")],
        "ONE generator",
    ),
    (
        "train_summed_loss",
        "train_softmax_regression",
        [("W.T + b, y[idx])", 'W.T + b, y[idx], reduction="sum")')],
        "MEAN",
    ),
    # --- weights_to_image_grid
    (
        "grid_min_max_when_symmetric",
        "weights_to_image_grid",
        [
            (
                "m = np.abs(row).max()\n            tile = 0.5 + 0.5 * row / m if m > 0",
                "m = row.max() - row.min()\n            tile = (row - row.min()) / m if m > 0",
            )
        ],
        "mid-grey",
    ),
    (
        "grid_one_scale_for_all_tiles",
        "weights_to_image_grid",
        [("m = np.abs(row).max()", "m = np.abs(W).max()")],
        "OWN",
    ),
    (
        "grid_minus_one_to_one",
        "weights_to_image_grid",
        [("tile = 0.5 + 0.5 * row / m", "tile = row / m")],
        "0.5 + 0.5",
    ),
    (
        "grid_column_major",
        "weights_to_image_grid",
        [("r, c = divmod(i, ncols)", "c, r = divmod(i, nrows)")],
        "i // ncols",
    ),
    # --- class_means
    (
        "means_divide_by_n",
        "class_means",
        [("members.mean(axis=0, dtype=np.float64)", "members.sum(axis=0) / len(X)")],
        "class k",
    ),
    (
        "means_no_empty_check",
        "class_means",
        [("if len(members) == 0:", "if False:")],
        "naming the class",
    ),
    ("means_no_range_check", "class_means", [("if outside.any():", "if False:")], "0 <= y"),
    (
        "means_always_float64",
        "class_means",
        [("np.float32 if X.dtype == np.float32 else np.float64", "np.float64")],
        "float32",
    ),
    # --- template_similarity
    (
        "similarity_w_not_centred",
        "template_similarity",
        [("A = unit_rows(W - W.mean(axis=0))", "A = unit_rows(W)")],
        "mean weight row",
    ),
    (
        "similarity_m_not_centred",
        "template_similarity",
        [("B = unit_rows(M - np.asarray(X_mean, dtype=np.float64))", "B = unit_rows(M)")],
        "X_mean",
    ),
    (
        "similarity_dot_product",
        "template_similarity",
        [("return A / np.maximum(norm, 1e-8)", "return A")],
        "both norms",
    ),
    (
        "similarity_naive_norm",
        "template_similarity",
        [
            (
                "norm = np.linalg.norm(A / scale, axis=1, keepdims=True) * scale",
                "norm = np.linalg.norm(A, axis=1, keepdims=True)",
            )
        ],
        "overflow",
    ),
    # --- haufe_patterns
    (
        "haufe_inverse_covariance",
        "haufe_patterns",
        [
            (
                "return scores.T @ Xc / (len(X) - 1)",
                "return (np.linalg.pinv(Xc.T @ Xc / (len(X) - 1)) @ W.T).T",
            )
        ],
        "not its inverse",
    ),
    (
        "haufe_not_centred",
        "haufe_patterns",
        [("Xc = X - X.mean(axis=0)", "Xc = X")],
        "column means",
    ),
    (
        "haufe_cov_rows_and_columns_swapped",
        "haufe_patterns",
        [("return scores.T @ Xc / (len(X) - 1)", "return (np.cov(X) @ W.T).T")],
        "Cov(X) @ W.T",
    ),
    ("haufe_biased", "haufe_patterns", [("/ (len(X) - 1)", "/ len(X)")], "N - 1"),
]

EQUIVALENT = [
    (
        "train_explicit_gradient_step",
        "train_softmax_regression",
        [
            (
                "            opt.step()",
                "            W.data -= lr * W.grad\n            b.data -= lr * b.grad",
            )
        ],
    ),
    (
        "haufe_with_np_cov",
        "haufe_patterns",
        [("return scores.T @ Xc / (len(X) - 1)", "return (np.cov(X, rowvar=False) @ W.T).T")],
    ),
]

TRIVIAL = {
    "train_softmax_regression": """
def train_softmax_regression(X, y, n_classes, lr, epochs, batch_size, l2=0.0, seed=0):
    return np.zeros((n_classes, np.shape(X)[1])), np.zeros(n_classes)
""",
    "weights_to_image_grid": """
def weights_to_image_grid(W, shape=(28, 28), ncols=5, symmetric=True):
    n, (h, w) = len(W), shape
    nrows = max(1, -(-n // ncols))
    return np.full((nrows * (h + 1) - 1, ncols * (w + 1) - 1), 0.5)
""",
    "class_means": """
def class_means(X, y, n_classes):
    return np.zeros((n_classes, np.shape(X)[1]))
""",
    "template_similarity": """
def template_similarity(W, M, X_mean=None):
    return np.zeros((len(W), len(M)))
""",
    "haufe_patterns": """
def haufe_patterns(X, W):
    return np.array(W, dtype=float)
""",
}

RANDOM_ANSWERS = {
    "train_softmax_regression": """
def train_softmax_regression(X, y, n_classes, lr, epochs, batch_size, l2=0.0, seed=0):
    gen = np.random.default_rng(seed)
    return gen.normal(size=(n_classes, np.shape(X)[1])), gen.normal(size=n_classes)
""",
    "class_means": """
def class_means(X, y, n_classes):
    return np.random.default_rng(0).normal(size=(n_classes, np.shape(X)[1]))
""",
    "template_similarity": """
def template_similarity(W, M, X_mean=None):
    return np.random.default_rng(0).uniform(-1, 1, size=(len(W), len(M)))
""",
    "haufe_patterns": """
def haufe_patterns(X, W):
    return np.random.default_rng(0).normal(size=np.shape(W))
""",
}


# ------------------------------------------------------------------------------------- tests


@pytest.mark.slow
def test_solution_scores_full_marks():
    rep = grade({})
    for ex in rep["exercises"]:
        assert ex["status"] == "passed" and ex["score"] == ex["max_score"], ex["name"]
    assert rep["max_score"] == 20
    assert [ex["name"] for ex in rep["exercises"]] == EXERCISES


@pytest.mark.slow
def test_generated_lesson_scores_zero_with_every_exercise_missing():
    from nnlite.grading import grade_notebook

    if not LESSON_NB.is_file():
        pytest.skip("lessons/05_linear_templates.ipynb has not been generated (course build)")
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
@pytest.mark.parametrize("name,grade_id,edits", EQUIVALENT, ids=[m[0] for m in EQUIVALENT])
def test_equivalent_rewrite_keeps_full_marks(name, grade_id, edits):
    rep = grade({grade_id: mutate(grade_id, *edits)})
    ex = rep.exercise(grade_id)
    failing = [t["name"] for t in ex["tests"] if t["status"] != "passed"]
    assert ex["score"] == ex["max_score"], f"{name} lost points in {failing}"


@pytest.mark.slow
@pytest.mark.parametrize("grade_id", list(TRIVIAL))
def test_trivial_answer_earns_at_most_a_small_fraction(grade_id):
    rep = grade({grade_id: TRIVIAL[grade_id]})
    ex = rep.exercise(grade_id)
    assert ex["score"] <= TRIVIAL_MAX_FRACTION * ex["max_score"], (grade_id, ex["score"])


@pytest.mark.slow
@pytest.mark.parametrize("grade_id", list(RANDOM_ANSWERS))
def test_random_answer_of_the_right_shape_earns_at_most_a_small_fraction(grade_id):
    rep = grade({grade_id: RANDOM_ANSWERS[grade_id]})
    ex = rep.exercise(grade_id)
    assert ex["score"] <= TRIVIAL_MAX_FRACTION * ex["max_score"], (grade_id, ex["score"])


# ------------------------------------------------------------------------- visible checks (fast)

NOTEBOOK_IMPORTS = """
import numpy as np
from nnlite import Tensor, optim, templates
from nnlite import functional as F
from nnlite.nn import Parameter
"""
NAMES = {grade_id: [grade_id] for grade_id in EXERCISES}
# Mutants that the visible checks must already catch (the subtler ones are left to the grader).
CAUGHT_BY_VISIBLE_CHECKS = [
    "train_random_init",
    "train_l2_without_half",
    "train_generator_per_epoch",
    "train_summed_loss",
    "grid_min_max_when_symmetric",
    "grid_one_scale_for_all_tiles",
    "grid_minus_one_to_one",
    "grid_column_major",
    "means_divide_by_n",
    "means_no_empty_check",
    "means_always_float64",
    "similarity_w_not_centred",
    "similarity_m_not_centred",
    "similarity_dot_product",
    "haufe_inverse_covariance",
    "haufe_not_centred",
    "haufe_cov_rows_and_columns_swapped",
    "haufe_biased",
]


def objects_of(grade_id: str, source: str) -> tuple:
    """The exercise's objects, defined by ``source`` on top of the notebook's imports."""
    ns: dict = {}
    exec(NOTEBOOK_IMPORTS, ns)  # noqa: S102 - the solution notebook's own code, trusted
    exec(source, ns)  # noqa: S102
    return tuple(ns[n] for n in NAMES[grade_id])


def visible_failures(grade_id: str, objs: tuple) -> int:
    import io
    import warnings
    from contextlib import redirect_stdout

    from nnlite.checks import lesson

    check = lesson(LESSON)
    with redirect_stdout(io.StringIO()), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a mutant's mean of an empty slice
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


FALLBACKS = {grade_id: f"nnlite.templates:{grade_id}" for grade_id in EXERCISES}


def _fallback(grade_id: str) -> tuple:
    import importlib

    out = []
    for ref in FALLBACKS[grade_id].split():
        module, name = ref.split(":")
        out.append(getattr(importlib.import_module(module), name))
    return tuple(out)


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
