"""Mutation tests of lesson 10's grader: known-wrong implementations must lose points.

Each mutant is the solution notebook's exercise cell with one plausible mistake written in
(a textual replacement of the cell's own source, or a whole wrong function where the mistake is
a different algorithm, as for greedy matching), appended as a last cell; the last definition
wins. The notebook is graded through the real grader (:func:`nnlite.grading.testing.grade_with`).

For every mutant: its exercise loses points, and a failing test carries the hint that names the
misconception; the first mutant of each exercise is graded in full to show that the other
exercises keep their marks. Trivial answers (constants, the input echoed, random arrays of the
right shape) earn at most 20 % of an exercise's points, and the generated lesson scores 0 with
every exercise "missing".

Grading cases are marked slow. The visible checks of ``nnlite.checks.l10_weight_space_symmetry``
are tested here too (fast): the solution passes them, the common mutants fail them, and
``check.use`` falls back to nnlite while an exercise is a stub.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from nnlite.grading import testing

LESSON = "10_weight_space_symmetry"
REPO = Path(__file__).resolve().parents[2]
SOLUTION = REPO / "solutions" / f"{LESSON}.ipynb"
LESSON_NB = REPO / "lessons" / f"{LESSON}.ipynb"
EXERCISES = [
    "prediction_agreement",
    "permute_hidden",
    "num_equivalent_points",
    "linear_sum_assignment",
    "match_units",
    "linear_cka",
]
TRIVIAL_MAX_FRACTION = 0.2


exercise_source = functools.partial(testing.exercise_source, LESSON)
mutate = functools.partial(testing.mutate, LESSON)
grade = functools.partial(testing.grade_cells, LESSON)


GREEDY = """
def linear_sum_assignment(cost, maximize=False):
    C = np.array(cost, dtype=np.float64)
    if C.ndim != 2:
        raise ValueError("linear_sum_assignment: expected a matrix (2-D array)")
    if maximize:
        C = -C
    if np.isnan(C).any() or np.isneginf(C).any():
        raise ValueError("linear_sum_assignment: matrix contains invalid numeric entries")
    k = min(C.shape)
    rows, cols = [], []
    work = C.copy()
    for _ in range(k):
        i, j = np.unravel_index(np.argmin(work), work.shape)
        if not np.isfinite(work[i, j]):
            raise ValueError("linear_sum_assignment: cost matrix is infeasible")
        rows.append(i)
        cols.append(j)
        work[i, :] = np.inf
        work[:, j] = np.inf
    order = np.argsort(rows)
    return np.array(rows, dtype=int)[order], np.array(cols, dtype=int)[order]
"""

# ----------------------------------------------------------------------------------- mutants
# (id, exercise, edits or a whole source, a word of the hint that must accompany a failure)

MUTANTS = [
    # --- prediction_agreement
    (
        "agreement_count",
        "prediction_agreement",
        [("return float(same.mean())", "return float(same.sum())")],
        "fraction",
    ),
    (
        "agreement_argmax_axis_0",
        "prediction_agreement",
        [
            (
                "logits_a.argmax(axis=1) == logits_b.argmax(axis=1)",
                "logits_a.argmax(axis=0) == logits_b.argmax(axis=0)",
            )
        ],
        "axis=1",
    ),
    (
        "agreement_with_graph",
        "prediction_agreement",
        [("with no_grad():", "if True:")],
        "no_grad",
    ),
    # --- permute_hidden
    (
        "permute_rows_not_next_columns",
        "permute_hidden",
        [("    out[2 * layer + 2] = out[2 * layer + 2][:, perm]\n", "")],
        "columns",
    ),
    (
        "permute_inverse",
        "permute_hidden",
        [
            (
                "    out[2 * layer] = out[2 * layer][perm]\n",
                "    perm = np.argsort(perm)\n    out[2 * layer] = out[2 * layer][perm]\n",
            )
        ],
        "perm[i]",
    ),
    (
        "permute_forgets_bias",
        "permute_hidden",
        [("    out[2 * layer + 1] = out[2 * layer + 1][perm]\n", "")],
        "bias",
    ),
    (
        "permute_in_place",
        "permute_hidden",
        [
            (
                'out = [np.array(getattr(p, "data", p), dtype=np.float64) for p in params]',
                'out = [np.asarray(getattr(p, "data", p)) for p in params]',
            ),
            (
                "    out[2 * layer] = out[2 * layer][perm]\n",
                "    out[2 * layer][...] = out[2 * layer][perm]\n",
            ),
        ],
        "copies",
    ),
    # --- num_equivalent_points
    (
        "count_sum",
        "num_equivalent_points",
        [("count *= math.factorial(width)", "count += math.factorial(width)")],
        "Multiply",
    ),
    (
        "count_flips_for_relu",
        "num_equivalent_points",
        [('if activation != "relu":', "if True:")],
        "ReLU does not",
    ),
    (
        "count_float",
        "num_equivalent_points",
        [("count *= math.factorial(width)", "count *= math.gamma(width + 1.0)")],
        "exact",
    ),
    (
        "count_tanh_only",
        "num_equivalent_points",
        [('if activation != "relu":', 'if activation == "tanh":')],
        "sigmoid",
    ),
    # --- linear_sum_assignment
    ("lsa_greedy", "linear_sum_assignment", GREEDY, "greedy"),
    (
        "lsa_transposed_cost",
        "linear_sum_assignment",
        [
            (
                "    tall = C.shape[0] > C.shape[1]\n    if tall:\n        C = C.T\n",
                "    tall = C.shape[0] < C.shape[1]\n    C = C.T\n",
            )
        ],
        "ORIGINAL",
    ),
    (
        "lsa_ignores_maximize",
        "linear_sum_assignment",
        [("    if maximize:\n        C = -C\n", "")],
        "-cost",
    ),
    (
        "lsa_tall_unsorted",
        "linear_sum_assignment",
        [
            (
                "    order = np.argsort(col_of_row)\n    return col_of_row[order], rows[order]",
                "    return col_of_row, rows",
            )
        ],
        "sorted by row",
    ),
    # --- match_units
    (
        "match_dot_not_cosine",
        "match_units",
        [
            (
                "S = unit_cosines(np.column_stack([Wa, ba]), np.column_stack([Wb, bb]))",
                "S = np.column_stack([Wa, ba]) @ np.column_stack([Wb, bb]).T",
            )
        ],
        "cosine",
    ),
    (
        "match_minimises",
        "match_units",
        [("linear_sum_assignment(S, maximize=True)", "linear_sum_assignment(S)")],
        "MAXIMISES",
    ),
    (
        "match_inverse",
        "match_units",
        [("    return perm", "    return np.argsort(perm)")],
        "perm[i]",
    ),
    (
        "match_uncentred_activations",
        "match_units",
        [
            (
                "S = unit_cosines((Ha - Ha.mean(axis=0)).T, (Hb - Hb.mean(axis=0)).T)",
                "S = unit_cosines(Ha.T, Hb.T)",
            )
        ],
        "centres",
    ),
    (
        "match_forgets_outgoing",
        "match_units",
        [("S = Wa @ Wb.T + np.outer(ba, bb) + Va.T @ Vb", "S = Wa @ Wb.T + np.outer(ba, bb)")],
        "outgoing",
    ),
    # --- linear_cka
    (
        "cka_no_centring",
        "linear_cka",
        [("Xc = X - X.mean(axis=0)", "Xc = X"), ("Yc = Y - Y.mean(axis=0)", "Yc = Y")],
        "Centre",
    ),
    (
        "cka_unsquared",
        "linear_cka",
        [("cross = np.linalg.norm(Yc.T @ Xc) ** 2", "cross = np.linalg.norm(Yc.T @ Xc)")],
        "squared",
    ),
    (
        "cka_centres_rows",
        "linear_cka",
        [
            ("Xc = X - X.mean(axis=0)", "Xc = X - X.mean(axis=1, keepdims=True)"),
            ("Yc = Y - Y.mean(axis=0)", "Yc = Y - Y.mean(axis=1, keepdims=True)"),
        ],
        "Centre",
    ),
    (
        "cka_standardised",
        "linear_cka",
        [
            ("Xc = X - X.mean(axis=0)", "Xc = (X - X.mean(axis=0)) / X.std(axis=0)"),
            ("Yc = Y - Y.mean(axis=0)", "Yc = (Y - Y.mean(axis=0)) / Y.std(axis=0)"),
        ],
        "not standardised",
    ),
]

TRIVIAL = {
    "prediction_agreement": """
def prediction_agreement(model_a, model_b, X):
    return 1.0
""",
    "permute_hidden": """
def permute_hidden(params, perm, layer=0):
    return [np.array(getattr(p, "data", p), dtype=np.float64) for p in params]
""",
    "num_equivalent_points": """
def num_equivalent_points(hidden_sizes, activation="relu"):
    return 1
""",
    "linear_sum_assignment": """
def linear_sum_assignment(cost, maximize=False):
    C = np.asarray(cost)
    k = min(C.shape)
    return np.arange(k), np.arange(k)
""",
    "match_units": """
def match_units(model_a, model_b, layer=0, method="weight_cos", X=None):
    return np.arange(list(model_a.parameters())[2 * layer].shape[0])
""",
    "linear_cka": """
def linear_cka(X, Y):
    return 1.0
""",
}

RANDOM_ANSWERS = {
    "linear_sum_assignment": """
def linear_sum_assignment(cost, maximize=False):
    C = np.asarray(cost)
    k = min(C.shape)
    rng = np.random.default_rng(0)
    if C.shape[0] <= C.shape[1]:
        return np.arange(k), rng.permutation(C.shape[1])[:k]
    return np.arange(k), rng.permutation(C.shape[0])[:k]
""",
    "match_units": """
def match_units(model_a, model_b, layer=0, method="weight_cos", X=None):
    n = list(model_a.parameters())[2 * layer].shape[0]
    return np.random.default_rng(0).permutation(n)
""",
    "linear_cka": """
def linear_cka(X, Y):
    return float(np.random.default_rng(0).random())
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
        pytest.skip(
            f"lessons/{LESSON}.ipynb has not been generated (python -m nnlite course build)"
        )
    rep = grade_notebook(LESSON_NB)
    assert rep["score"] == 0
    assert {ex["name"]: ex["status"] for ex in rep["exercises"]} == dict.fromkeys(
        EXERCISES, "missing"
    )


def _source(grade_id, edits):
    return edits if isinstance(edits, str) else mutate(grade_id, *edits)


@pytest.mark.slow
@pytest.mark.parametrize("name,grade_id,edits,hint_word", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_mutant_loses_points_in_its_exercise_only(name, grade_id, edits, hint_word):
    first = next(m[0] for m in MUTANTS if m[1] == grade_id) == name
    rep = grade({grade_id: _source(grade_id, edits)}, only=None if first else [grade_id])
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
def test_random_answer_earns_at_most_a_small_fraction(grade_id):
    rep = grade({grade_id: RANDOM_ANSWERS[grade_id]}, only=[grade_id])
    ex = rep.exercise(grade_id)
    assert ex["score"] <= TRIVIAL_MAX_FRACTION * ex["max_score"], (grade_id, ex["score"])


@pytest.mark.slow
def test_wrapping_nnlite_earns_nothing():
    # R13: an answer that only calls nnlite's own implementation gets no points.
    cells = {
        "linear_sum_assignment": """
def linear_sum_assignment(cost, maximize=False):
    from nnlite import matching
    return matching.linear_sum_assignment(cost, maximize=maximize)
""",
        "linear_cka": """
def linear_cka(X, Y):
    from nnlite.matching import linear_cka as theirs
    return theirs(X, Y)
""",
    }
    rep = grade(cells, only=list(cells))
    for grade_id in cells:
        assert rep.exercise(grade_id)["score"] == 0, grade_id


# ------------------------------------------------------------------------- visible checks (fast)

NOTEBOOK_IMPORTS = """
import math
import numpy as np
from nnlite import Tensor, no_grad
"""
NAMES = {grade_id: [grade_id] for grade_id in EXERCISES}
# Mutants that the visible checks must already catch (the subtler ones are left to the grader).
CAUGHT_BY_VISIBLE_CHECKS = [
    "agreement_count",
    "agreement_argmax_axis_0",
    "permute_rows_not_next_columns",
    "permute_inverse",
    "permute_forgets_bias",
    "permute_in_place",
    "count_sum",
    "count_flips_for_relu",
    "count_float",
    "lsa_greedy",
    "lsa_transposed_cost",
    "lsa_ignores_maximize",
    "lsa_tall_unsorted",
    "match_minimises",
    "match_inverse",
    "cka_no_centring",
    "cka_unsquared",
]


def objects_of(grade_id: str, source: str) -> tuple:
    """The exercise's objects, defined by ``source`` on top of the notebook's imports."""
    from nnlite import matching

    ns: dict = {"linear_sum_assignment": matching.linear_sum_assignment}
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
    objs = objects_of(grade_id, _source(grade_id, edits))
    assert visible_failures(grade_id, objs) == 1, f"the visible checks let {name} pass"


@pytest.mark.parametrize("grade_id", EXERCISES)
def test_fallbacks_pass_their_own_visible_checks(grade_id):
    from nnlite import matching

    assert visible_failures(grade_id, (getattr(matching, grade_id),)) == 0


@pytest.mark.parametrize("grade_id", EXERCISES)
def test_fallback_keeps_a_passing_solution_and_replaces_a_stub(grade_id, capsys):
    from nnlite import matching
    from nnlite.checks import lesson

    check = lesson(LESSON)
    (obj,) = objects_of(grade_id, exercise_source(grade_id))
    fallback = getattr(matching, grade_id)
    assert check.use(grade_id, obj, fallback=fallback) is obj
    assert "Using nnlite" not in capsys.readouterr().out

    def stub(*args, **kwargs):
        raise NotImplementedError(f"{grade_id}: replace this line with your code")

    assert check.use(grade_id, stub, fallback=fallback) is fallback
    assert f'missing (exercise "{grade_id}")' in capsys.readouterr().out
