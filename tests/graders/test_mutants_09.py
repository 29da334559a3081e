"""Mutation tests of lesson 09's grader: known-wrong implementations must lose points.

Each mutant is the solution notebook's exercise cell with one plausible mistake written in (a
textual replacement of the cell's own source, so the mutant stays in step with the solution),
appended as a last cell; the notebook is graded through the real grader
(:func:`nnlite.grading.testing.grade_with`, the same path as ``python -m nnlite grade``).

For every mutant: its exercise loses points, the other exercises keep full marks (checked in
full for the first mutant of each exercise), and a failing test carries the hint that names the
misconception. Trivial answers (constants, the input returned unchanged, random arrays of the
right shape) earn at most 20 % of an exercise's points, and the generated lesson scores 0 with
every exercise "missing". The visible checks of ``nnlite.checks.l09_weight_space_landscape``
are tested here too (fast): the solution and the fallbacks pass them, the common mutants fail
them, and ``check.use`` falls back to nnlite while an exercise is a stub.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from nnlite.grading import testing

LESSON = "09_weight_space_landscape"
REPO = Path(__file__).resolve().parents[2]
SOLUTION = REPO / "solutions" / f"{LESSON}.ipynb"
LESSON_NB = REPO / "lessons" / f"{LESSON}.ipynb"
EXERCISES = ["flat_params", "line", "loss_barrier", "random_direction", "rescale_hidden"]
TRIVIAL_MAX_FRACTION = 0.2


exercise_source = functools.partial(testing.exercise_source, LESSON)
mutate = functools.partial(testing.mutate, LESSON)
grade = functools.partial(testing.grade_cells, LESSON)


# ----------------------------------------------------------------------------------- mutants
# (id, exercise, edits, a word of the hint that must accompany a failing test)

MUTANTS = [
    # --- flatten_params / load_flat_params
    (
        "flatten_column_major",
        "flat_params",
        [("p.ravel() for p in params", 'p.ravel(order="F") for p in params')],
        "C order",
    ),
    (
        "flatten_reversed_order",
        "flat_params",
        [
            (
                "params = [p.data for p in model.parameters()]",
                "params = [p.data for p in model.parameters()][::-1]",
            )
        ],
        "in that order",
    ),
    (
        "load_shares_memory_with_vec",
        "flat_params",
        [("p.data[...] = vec[offset", "p.data = vec[offset")],
        "share memory",
    ),
    (
        "load_no_length_check",
        "flat_params",
        [("if vec.shape != (total,):", "if vec.size < total:")],
        "ValueError",
    ),
    # --- interpolate / loss_on_line
    (
        "interpolate_a_plus_t_diff",
        "line",
        [("return (1.0 - t) * theta_a + t * theta_b", "return theta_a + t * (theta_b - theta_a)")],
        "ends exactly",
    ),
    (
        "line_does_not_restore",
        "line",
        [("    finally:\n        load_flat_params(model, saved)", "    finally:\n        pass")],
        "load it back",
    ),
    (
        "line_summed_loss",
        "line",
        [
            (
                "cross_entropy(model(Tensor(X)), y).item()",
                'cross_entropy(model(Tensor(X)), y, reduction="sum").item()',
            )
        ],
        "MEAN",
    ),
    (
        "line_forgets_to_load",
        "line",
        [
            (
                "load_flat_params(model, interpolate(theta_a, theta_b, t))",
                "interpolate(theta_a, theta_b, t)",
            )
        ],
        "load interpolate",
    ),
    ("line_builds_graph", "line", [("with no_grad():", "if True:")], "no_grad"),
    # --- loss_barrier
    (
        "barrier_against_min_end",
        "loss_barrier",
        [
            (
                "gap = losses - ((1 - s) * losses[0] + s * losses[-1])",
                "gap = losses - min(losses[0], losses[-1])",
            )
        ],
        "min(L(0), L(1))",
    ),
    (
        "barrier_against_mean_of_ends",
        "loss_barrier",
        [
            (
                "gap = losses - ((1 - s) * losses[0] + s * losses[-1])",
                "gap = losses - (losses[0] + losses[-1]) / 2",
            )
        ],
        "chord",
    ),
    (
        "barrier_interior_only",
        "loss_barrier",
        [("return float(gap.max())", "return float(gap[1:-1].max())")],
        "include the ends",
    ),
    (
        "barrier_assumes_unit_interval",
        "loss_barrier",
        [("s = (ts - ts[0]) / (ts[-1] - ts[0])", "s = ts")],
        "ts[-1] - ts[0]",
    ),
    # --- random_direction
    (
        "direction_whole_vector_normalised",
        "random_direction",
        [
            (
                "if filter_normalize:\n        return normalized",
                "if filter_normalize:\n        theta = np.concatenate([p.ravel() for p in params])"
                "\n        return g * (np.linalg.norm(theta) / np.linalg.norm(g))",
            )
        ],
        "ROW",
    ),
    (
        "direction_per_matrix",
        "random_direction",
        [
            (
                "d = d * scale.reshape((-1,) + (1,) * (p.ndim - 1))",
                "d = d * (np.linalg.norm(p) / np.linalg.norm(d))",
            )
        ],
        "ROW",
    ),
    (
        "direction_normalises_biases",
        "random_direction",
        [("d = np.zeros_like(d)", "d = d * (np.linalg.norm(p) / np.linalg.norm(d))")],
        "biases",
    ),
    (
        "direction_raw_not_rescaled",
        "random_direction",
        [("return g * (np.linalg.norm(normalized) / np.linalg.norm(g))", "return g")],
        "filter_normalize=False",
    ),
    # --- rescale_hidden
    (
        "rescale_bias_with_inverse",
        "rescale_hidden",
        [
            (
                "out[2 * layer + 1] = out[2 * layer + 1] * alpha",
                "out[2 * layer + 1] = out[2 * layer + 1] / alpha",
            )
        ],
        "b_layer times alpha",
    ),
    (
        "rescale_next_layer_times_alpha",
        "rescale_hidden",
        [
            (
                "out[2 * layer + 2] = out[2 * layer + 2] / alpha",
                "out[2 * layer + 2] = out[2 * layer + 2] * alpha",
            )
        ],
        "divided by alpha",
    ),
    (
        "rescale_accepts_any_alpha",
        "rescale_hidden",
        [("if not (np.all(np.isfinite(alpha)) and np.all(alpha > 0)):", "if False:")],
        "alpha > 0",
    ),
    (
        "rescale_per_unit_on_columns",
        "rescale_hidden",
        [("column = alpha[:, None] if alpha.ndim == 1 else alpha", "column = alpha")],
        "per unit",
    ),
]

TRIVIAL = {
    "flat_params": """
def flatten_params(model):
    return np.zeros(0)


def load_flat_params(model, vec):
    return None
""",
    "line": """
def interpolate(theta_a, theta_b, t):
    return theta_a


def loss_on_line(model, theta_a, theta_b, ts, X, y):
    return np.zeros(len(ts))
""",
    "loss_barrier": """
def loss_barrier(ts, losses):
    return 0.0
""",
    "random_direction": """
def random_direction(model, rng, filter_normalize=True):
    return np.zeros(sum(p.data.size for p in model.parameters()))
""",
    "rescale_hidden": """
def rescale_hidden(params, layer, alpha):
    return params
""",
}

RANDOM_ANSWERS = {
    "line": """
def interpolate(theta_a, theta_b, t):
    return np.random.default_rng(0).normal(size=np.shape(theta_a))


def loss_on_line(model, theta_a, theta_b, ts, X, y):
    return np.random.default_rng(0).random(len(ts))
""",
    "loss_barrier": """
def loss_barrier(ts, losses):
    return float(np.random.default_rng(0).random())
""",
    "random_direction": """
def random_direction(model, rng, filter_normalize=True):
    gen = np.random.default_rng(rng)
    return gen.standard_normal(sum(p.data.size for p in model.parameters()))
""",
}


# ------------------------------------------------------------------------------------- tests


@pytest.mark.slow
def test_solution_scores_full_marks():
    rep = grade({})
    for ex in rep["exercises"]:
        assert ex["status"] == "passed" and ex["score"] == ex["max_score"], ex["name"]
    assert rep["max_score"] == 17
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
    assert ex["score"] >= 0.25 * ex["max_score"], f"{name} lost more than one bug's worth"
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
    cells = {
        "line": """
from nnlite import landscape


def interpolate(theta_a, theta_b, t):
    return landscape.interpolate(theta_a, theta_b, t)


def loss_on_line(model, theta_a, theta_b, ts, X, y):
    return landscape.loss_on_line(model, theta_a, theta_b, ts, X, y)
""",
        "random_direction": """
from nnlite.landscape import random_direction
""",
    }
    rep = grade(cells, only=list(cells))
    for grade_id in cells:
        assert rep.exercise(grade_id)["score"] == 0, grade_id


# ------------------------------------------------------------------------- visible checks (fast)

NOTEBOOK_IMPORTS = """
import numpy as np
from nnlite import Tensor, landscape, nn, no_grad
from nnlite.functional import cross_entropy
"""
NAMES = {
    "flat_params": ["flatten_params", "load_flat_params"],
    "line": ["interpolate", "loss_on_line"],
    "loss_barrier": ["loss_barrier"],
    "random_direction": ["random_direction"],
    "rescale_hidden": ["rescale_hidden"],
}
# Mutants that the visible checks must already catch (the subtler ones are left to the grader).
CAUGHT_BY_VISIBLE_CHECKS = [
    "flatten_column_major",
    "flatten_reversed_order",
    "load_shares_memory_with_vec",
    "load_no_length_check",
    "line_does_not_restore",
    "line_summed_loss",
    "line_forgets_to_load",
    "barrier_against_min_end",
    "barrier_against_mean_of_ends",
    "barrier_interior_only",
    "direction_whole_vector_normalised",
    "direction_per_matrix",
    "direction_normalises_biases",
    "direction_raw_not_rescaled",
    "rescale_bias_with_inverse",
    "rescale_next_layer_times_alpha",
    "rescale_accepts_any_alpha",
    "rescale_per_unit_on_columns",
]


def objects_of(grade_id: str, source: str, ns: dict | None = None) -> tuple:
    """The exercise's objects, defined by ``source`` on top of the notebook's imports."""
    ns = {} if ns is None else ns
    exec(NOTEBOOK_IMPORTS, ns)  # noqa: S102 - the solution notebook's own code, trusted
    exec(source, ns)  # noqa: S102
    return tuple(ns[n] for n in NAMES[grade_id])


def line_objects(source: str) -> tuple:
    # loss_on_line calls flatten_params / load_flat_params: nnlite's, as in the lesson's
    # fallback chain.
    from nnlite import landscape

    ns = {
        "flatten_params": landscape.flatten_params,
        "load_flat_params": landscape.load_flat_params,
    }
    return objects_of("line", source, ns)


def objects_for(grade_id: str, source: str) -> tuple:
    return line_objects(source) if grade_id == "line" else objects_of(grade_id, source)


def visible_failures(grade_id: str, objs: tuple) -> int:
    import io
    from contextlib import redirect_stdout

    from nnlite.checks import lesson

    check = lesson(LESSON)
    with redirect_stdout(io.StringIO()):
        return 0 if check(grade_id, *objs) else 1


@pytest.mark.parametrize("grade_id", EXERCISES)
def test_visible_checks_pass_on_the_solution(grade_id):
    assert visible_failures(grade_id, objects_for(grade_id, exercise_source(grade_id))) == 0


@pytest.mark.parametrize("name", CAUGHT_BY_VISIBLE_CHECKS)
def test_visible_checks_catch_common_mistakes(name):
    _name, grade_id, edits, _hint = next(m for m in MUTANTS if m[0] == name)
    objs = objects_for(grade_id, mutate(grade_id, *edits))
    assert visible_failures(grade_id, objs) == 1, f"the visible checks let {name} pass"


FALLBACKS = {
    "flat_params": ("flatten_params", "load_flat_params"),
    "line": ("interpolate", "loss_on_line"),
    "loss_barrier": ("loss_barrier",),
    "random_direction": ("random_direction",),
    "rescale_hidden": ("rescale_hidden",),
}


def _fallback(grade_id: str) -> tuple:
    from nnlite import landscape

    return tuple(getattr(landscape, n) for n in FALLBACKS[grade_id])


@pytest.mark.parametrize("grade_id", EXERCISES)
def test_fallbacks_pass_their_own_visible_checks(grade_id):
    assert visible_failures(grade_id, _fallback(grade_id)) == 0


@pytest.mark.parametrize("grade_id", EXERCISES)
def test_fallback_keeps_a_passing_solution_and_replaces_a_stub(grade_id, capsys):
    from nnlite.checks import lesson

    check = lesson(LESSON)
    objs = objects_for(grade_id, exercise_source(grade_id))
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
